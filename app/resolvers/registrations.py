"""Registering for sessions: never overbooked, never double-counted.

The database enforces both, so the rule holds across server processes: the
registration row's primary key makes a second registration a no-op, and the seat
is taken by one conditional UPDATE (`registered_count < max_participants`) in the
same transaction. On PostgreSQL concurrent UPDATEs of the row queue on its lock and
re-check the condition; on SQLite `BEGIN IMMEDIATE` serializes writers.
"""

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel.ext.asyncio.session import AsyncSession

from app.auth import SCOPE_REGISTRATIONS_WRITE, Caller
from app.db import Database
from app.errors import RegistrationClosed, SessionFull
from app.models import Registration, SessionStatus, UTCDateTime
from app.resolvers.sessions import now
from app.resolvers.views import (
    REGISTRATIONS,
    REGISTRATIONS_TABLE,
    SESSIONS,
    SESSIONS_TABLE,
    SessionView,
    require_session_id,
    require_view,
)

OPEN_STATUSES = (SessionStatus.SCHEDULED, SessionStatus.LIVE)


def _insert_if_absent(s: AsyncSession) -> postgresql.Insert | sqlite.Insert:
    dialect = s.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(Registration)


async def register_for_session(db: Database, caller: Caller, session_id: str) -> SessionView:
    caller.require_scope(SCOPE_REGISTRATIONS_WRITE)
    canonical = require_session_id(session_id)
    async with db.transaction() as s:
        at = now()
        inserted = await s.exec(
            _insert_if_absent(s)
            .from_select(
                ["session_id", "user_id", "created_at"],
                sa.select(
                    sa.literal(canonical), sa.literal(caller.sub), sa.literal(at, UTCDateTime())
                ).where(sa.exists().where(SESSIONS.id == canonical)),
            )
            .on_conflict_do_nothing()
        )
        if inserted.rowcount == 1:
            taken = await s.exec(
                sa.update(SESSIONS_TABLE)
                .where(
                    SESSIONS.id == canonical,
                    SESSIONS.status.in_(OPEN_STATUSES),
                    SESSIONS.registered_count < SESSIONS.max_participants,
                )
                .values(registered_count=SESSIONS.registered_count + 1, updated_at=at)
            )
            if taken.rowcount != 1:
                # Raising rolls the registration row back with the transaction.
                await _explain_refusal(s, canonical, caller)
        return await require_view(s, canonical, caller.sub)


async def _explain_refusal(s: AsyncSession, session_id: str, caller: Caller) -> None:
    view = await require_view(s, session_id, caller.sub)
    session = view.session
    if session.status not in OPEN_STATUSES:
        raise RegistrationClosed(f"the session is {session.status.name}: registration is closed")
    raise SessionFull(f"all {session.max_participants} seats are taken")


async def unregister_from_session(db: Database, caller: Caller, session_id: str) -> SessionView:
    caller.require_scope(SCOPE_REGISTRATIONS_WRITE)
    canonical = require_session_id(session_id)
    async with db.transaction() as s:
        view = await require_view(s, canonical, caller.sub)
        if not view.is_registered:
            return view
        if view.session.status not in OPEN_STATUSES:
            raise RegistrationClosed(
                f"the session is {view.session.status.name}: its registrations are kept"
            )
        deleted = await s.exec(
            sa.delete(REGISTRATIONS_TABLE).where(
                REGISTRATIONS.session_id == canonical, REGISTRATIONS.user_id == caller.sub
            )
        )
        if deleted.rowcount == 1:
            await s.exec(
                sa.update(SESSIONS_TABLE)
                .where(SESSIONS.id == canonical)
                .values(registered_count=SESSIONS.registered_count - 1, updated_at=now())
            )
        return await require_view(s, canonical, caller.sub)
