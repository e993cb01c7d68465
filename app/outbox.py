"""The event outbox: every committed change of a session, written by the transaction
that makes it, and read by position by each consumer (the live-update relay on
PostgreSQL, the webhook dispatcher on both engines).

Positions differ by engine. SQLite has one writer at a time, so ids are handed out in
commit order and "the last id read" is a position. PostgreSQL commits transactions in
any order, so a row also records its transaction's id and readers keep a frontier xid
with the ids they have read at or above it (`advance`; app.live.postgres explains why).
"""

import functools
import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db import recorded_changes
from app.events import SessionEvent
from app.json_rows import json_rows
from app.models import SessionEventRecord

EVENTS: sa.Table = SessionEventRecord.__table__  # type: ignore[attr-defined]

# Transaction ids as bigint (xid8 is 64-bit and epoch-extended: it never wraps around).
CURRENT_XID = sa.text("pg_current_xact_id()::text::bigint")
# SQLite reads by id alone; the column only has to hold something.
NO_XID = sa.literal(0)


# SQLAlchemy compiles a multi-row VALUES anew for every execution (it cannot cache one);
# these are compiled once and take any number of events as executemany parameters.
_INSERT = {
    "sqlite": sa.insert(EVENTS).values(created_at=sa.func.now(), xid=NO_XID),
    "postgresql": sa.insert(EVENTS).values(created_at=sa.func.now(), xid=CURRENT_XID),
}
_WRITTEN = "live_sessions_outbox_written"  # key in AsyncSession.info: events already in


async def write_outbox(s: AsyncSession, events: list[SessionEvent]) -> None:
    """Within the committing transaction: persist the events (a `Database` before-commit
    consumer), with its transaction id on PostgreSQL; those a statement already carried
    (`with_events`) are skipped."""
    unwritten = events[s.info.pop(_WRITTEN, 0) :]
    if unwritten:
        connection = await s.connection()
        await connection.execute(_INSERT[connection.dialect.name], _rows(unwritten))


def _rows(events: list[SessionEvent]) -> list[dict[str, Any]]:
    return [
        {"session_id": event.session_id, "version": event.version, "payload": event.to_payload()}
        for event in events
    ]


# PostgreSQL: the events as one JSON parameter, inserted by a CTE riding in the statement
# that makes the change, so the outbox costs no round trip of its own.
EVENTS_PARAM = "outbox_events"
_EVENT_ROWS = json_rows(
    EVENTS_PARAM,
    "event",
    sa.column("session_id", sa.String),
    sa.column("version", sa.BigInteger),
    sa.column("payload", JSONB),
)
_EVENTS_CTE = (
    sa.insert(EVENTS)
    .from_select(
        ["session_id", "version", "payload", "created_at", "xid"],
        sa.select(
            _EVENT_ROWS.c.session_id,
            _EVENT_ROWS.c.version,
            _EVENT_ROWS.c.payload,
            sa.func.now(),
            CURRENT_XID,
        ),
    )
    .cte("outbox")
)


@functools.cache
def _carrying_events(statement: Any) -> Any:
    return statement.add_cte(_EVENTS_CTE)


async def with_events(s: AsyncSession, statement: Any, params: dict[str, Any]) -> None:
    """Execute `statement` (a module-level INSERT or UPDATE) with `params`; on PostgreSQL
    the events recorded so far ride in its WITH and `write_outbox` skips them. SQLite
    writes locally, so there the outbox INSERT stays a statement of its own."""
    # Core statements go to the transaction's connection: the ORM session's execute
    # (compile state, autoflush, events) served nothing here.
    connection = await s.connection()
    recorded = recorded_changes(s)
    unwritten = recorded[s.info.get(_WRITTEN, 0) :]
    if connection.dialect.name != "postgresql" or not unwritten:
        await connection.execute(statement, params)
        return
    carried = {**params, EVENTS_PARAM: _rows(unwritten)}
    await connection.execute(_carrying_events(statement), carried)
    s.info[_WRITTEN] = len(recorded)


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
