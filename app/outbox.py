"""The event outbox: every committed change of a session, written by the transaction
that makes it, and read by position by each consumer (the live-update relay on
PostgreSQL, the webhook dispatcher on both engines).

Positions differ by engine. SQLite has one writer at a time, so ids are handed out in
commit order and "the last id read" is a position. PostgreSQL commits transactions in
any order, so a row also records its transaction's id and readers keep a frontier xid
with the ids they have read at or above it (`advance`; app.live.postgres explains why).
"""

import json
from typing import Any

import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession

from app.events import SessionEvent
from app.models import SessionEventRecord

EVENTS: sa.Table = SessionEventRecord.__table__  # type: ignore[attr-defined]

# Transaction ids as bigint (xid8 is 64-bit and epoch-extended: it never wraps around).
CURRENT_XID = sa.text("pg_current_xact_id()::text::bigint")
# SQLite reads by id alone; the column only has to hold something.
NO_XID = sa.literal(0)


async def write_outbox(s: AsyncSession, events: list[SessionEvent]) -> None:
    """Within the committing transaction: persist the events (a `Database` before-commit
    consumer), with its transaction id on PostgreSQL."""
    xid = NO_XID if s.get_bind().dialect.name == "sqlite" else CURRENT_XID
    await s.exec(
        sa.insert(EVENTS).values(
            [
                {
                    "session_id": event.session_id,
                    "version": event.version,
                    "payload": event.to_payload(),
                    "created_at": sa.func.now(),
                    "xid": xid,
                }
                for event in events
            ]
        )
    )


def advance(frontier: int, seen: dict[int, int], read: dict[int, int], xmin: int) -> int:
    """PostgreSQL: after a read at a snapshot with `xmin` that returned `read` (id -> xid,
    the rows at or above `frontier` not in `seen`), add them to `seen`, move the frontier
    up to `xmin` and forget the ids below it. Returns the new frontier; `seen` changes."""
    seen.update(read)
    frontier = max(frontier, xmin)
    for id_ in [id_ for id_, xid in seen.items() if xid < frontier]:
        del seen[id_]
    return frontier


def as_dict(payload: Any) -> dict[str, Any]:
    # asyncpg hands JSONB over as text unless a codec is registered.
    loaded: dict[str, Any] = json.loads(payload) if isinstance(payload, str) else dict(payload)
    return loaded
