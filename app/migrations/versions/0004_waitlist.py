"""waitlist

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sessions") as batch:
        batch.add_column(
            sa.Column("waitlist_enabled", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch.add_column(
            sa.Column("waitlist_count", sa.Integer(), server_default="0", nullable=False)
        )
        batch.add_column(
            sa.Column("waitlist_tickets", sa.Integer(), server_default="0", nullable=False)
        )
        batch.create_check_constraint("ck_sessions_waitlist_count", "waitlist_count >= 0")
    with op.batch_alter_table("registrations") as batch:
        batch.add_column(
            sa.Column(
                "status",
                sa.Enum(
                    "registered",
                    "waitlisted",
                    name="registrationstatus",
                    native_enum=False,
                    length=20,
                ),
                server_default="registered",
                nullable=False,
            )
        )
        batch.add_column(sa.Column("ticket", sa.Integer(), nullable=True))
    op.create_index("ix_registrations_queue", "registrations", ["session_id", "status", "ticket"])


def downgrade() -> None:
    op.drop_index("ix_registrations_queue", table_name="registrations")
    with op.batch_alter_table("registrations") as batch:
        batch.drop_column("ticket")
        batch.drop_column("status")
    with op.batch_alter_table("sessions") as batch:
        batch.drop_constraint("ck_sessions_waitlist_count", type_="check")
        batch.drop_column("waitlist_tickets")
        batch.drop_column("waitlist_count")
        batch.drop_column("waitlist_enabled")
