"""sessions

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Revisions spell out their column types rather than import the models: a revision
# must describe the schema as it was, whatever the models become later.
INSTANT = sa.DateTime(timezone=True)
DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "sessions",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("host_id", sa.String(), nullable=False),
        sa.Column("brand_id", sa.String(), nullable=False),
        sa.Column("title", sa.String(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("live", "office_hours", name="sessionkind", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("category", sa.String(), nullable=True),
        sa.Column("scheduled_at", INSTANT, nullable=False),
        sa.Column("started_at", INSTANT, nullable=True),
        sa.Column("ended_at", INSTANT, nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "scheduled",
                "live",
                "ended",
                "cancelled",
                name="sessionstatus",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("stream_call_id", sa.String(), nullable=True),
        sa.Column("max_participants", sa.Integer(), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=True),
        sa.Column("recording_url", sa.String(), nullable=True),
        sa.Column("metadata", DOCUMENT, nullable=False),
        sa.Column("created_at", INSTANT, nullable=False),
        sa.Column("updated_at", INSTANT, nullable=False),
        sa.Column("registered_count", sa.Integer(), nullable=False),
        sa.CheckConstraint("max_participants > 0", name="ck_sessions_max_participants"),
        sa.CheckConstraint(
            "registered_count >= 0 AND registered_count <= max_participants",
            name="ck_sessions_registered_count",
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_sessions_scheduled", "sessions", ["scheduled_at", "id"])
    op.create_index("ix_sessions_brand_scheduled", "sessions", ["brand_id", "scheduled_at", "id"])
    op.create_index("ix_sessions_host_scheduled", "sessions", ["host_id", "scheduled_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_sessions_host_scheduled", table_name="sessions")
    op.drop_index("ix_sessions_brand_scheduled", table_name="sessions")
    op.drop_index("ix_sessions_scheduled", table_name="sessions")
    op.drop_table("sessions")
