"""the outbox records each event's transaction id, for reading by position

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Rows already there were committed long ago: 0 puts them behind every reader's
    # position. New rows must say which transaction wrote them, so no default stays.
    with op.batch_alter_table("session_events") as batch:
        batch.add_column(sa.Column("xid", sa.BigInteger(), server_default="0", nullable=False))
    with op.batch_alter_table("session_events") as batch:
        batch.alter_column("xid", server_default=None)
    op.create_index("ix_session_events_xid_id", "session_events", ["xid", "id"])


def downgrade() -> None:
    op.drop_index("ix_session_events_xid_id", table_name="session_events")
    with op.batch_alter_table("session_events") as batch:
        batch.drop_column("xid")
