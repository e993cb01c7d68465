"""Seats and the waitlist: never overbooked, never double-counted, promoted in order.

Every change takes the session's row lock first (`SELECT ... FOR UPDATE` on
PostgreSQL; SQLite's `BEGIN IMMEDIATE` already makes the writer exclusive), so the
counters, the registration rows and the waitlist order change together, in one
transaction, whichever server process runs it. The registration primary key
`(session_id, user_id)` means nobody holds two places.

Invariants, for every session:
    registered_count = registered rows <= max_participants
    waitlist_count   = waitlisted rows; positions (by ticket) are 1..waitlist_count
    while SCHEDULED or LIVE: a free seat and a non-empty waitlist never coexist
"""

import asyncio
import contextlib
import contextvars
import copy
import weakref
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import Select

from app import deadline
from app.auth import SCOPE_REGISTRATIONS_WRITE, Caller
from app.db import Database
from app.errors import DomainError, NotFound, RegistrationClosed, SessionFull
from app.events import PlaceChange, touch
from app.json_rows import json_rows
from app.models import Registration, RegistrationStatus, Session, SessionStatus
from app.outbox import with_events
from app.resolvers import clock
from app.resolvers.views import (
    REGISTRATIONS,
    REGISTRATIONS_TABLE,
    SESSIONS,
    SESSIONS_TABLE,
    SessionView,
    require_session_id,
    require_view,
)
from app.snapshots import SessionState, state_of, values_of

OPEN_STATUSES = (SessionStatus.SCHEDULED, SessionStatus.LIVE)


async def lock_session(s: AsyncSession, session_id: str) -> Session:
    """The session row, locked until the transaction ends."""
    session = await s.get(Session, session_id, with_for_update=True, populate_existing=True)
    if session is None:
        raise NotFound(f"no session has the id '{session_id}'")
    return session


async def register_for_session(db: Database, caller: Caller, session_id: str) -> SessionView:
    caller.require_scope(SCOPE_REGISTRATIONS_WRITE)
    canonical = require_session_id(session_id)
    return await _batches_of(db).register(canonical, caller.sub)


# -- registrations for one session, combined ------------------------------------------
#
# When many members register for one session at once, each in a transaction of its own
# would queue on the session's row lock and pay a commit each. Instead, in each process,
# registrations for one session wait in a queue while a batch is being written; the
# next batch takes them all (up to MAX_BATCH): one lock, one commit, and each member
# seated or waitlisted in arrival order, with an event of their own. Across processes
# the row lock still orders the batches, so the invariants stay the database's.

MAX_BATCH = 200


@dataclass(eq=False)
class _Pending:
    user: str
    answer: asyncio.Future[SessionView]
    # The caller's time limit: lifted when its registration is taken into a batch, so a
    # TIMEOUT answer still means nothing was written for it.
    limit: asyncio.Timeout | None = field(default_factory=deadline.current)


class _Batches:
    """The registrations of one Database's callers that wait for their session's batch."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._waiting: dict[str, list[_Pending]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    async def register(self, session_id: str, user: str) -> SessionView:
        pending = _Pending(user, asyncio.get_running_loop().create_future())
        queue = self._waiting.get(session_id)
        if queue is None:
            queue = self._waiting[session_id] = [pending]
            # Batches run in a task of their own, outside every caller's limit and
            # cancellation: a caller that gives up must not take its neighbours with it.
            task = asyncio.create_task(self._drain(session_id), context=contextvars.Context())
            self._tasks.add(task)  # the loop keeps only a weak reference
            task.add_done_callback(self._tasks.discard)
        else:
            queue.append(pending)
        try:
            return await pending.answer
        except asyncio.CancelledError:
            # Still waiting (not taken into a batch): nothing will be written for it.
            with contextlib.suppress(ValueError):
                queue.remove(pending)
            raise

    async def _drain(self, session_id: str) -> None:
        queue = self._waiting[session_id]
        try:
            while queue:
                batch = queue[:MAX_BATCH]
                del queue[:MAX_BATCH]
                taken = [p for p in batch if not p.answer.done() and deadline.lift(p.limit)]
                if taken:
                    await self._write(session_id, taken)
        finally:
            del self._waiting[session_id]
            for pending in queue:  # only when this task itself was cancelled (shutdown)
                pending.answer.cancel()

    async def _write(self, session_id: str, taken: list["_Pending"]) -> None:
        try:
            async with self._db.transaction() as s:
                outcomes = await _seat(s, session_id, taken)
        except Exception as error:
            # The batch failed as a whole (the session is gone, the database is down).
            for pending in taken:
                if not pending.answer.done():
                    # One instance each: a shared one would gather every traceback.
                    pending.answer.set_exception(copy.copy(error))
            return
        except BaseException:
            for pending in taken:
                pending.answer.cancel()
            raise
        for pending, outcome in outcomes:
            if pending.answer.done():
                continue
            if isinstance(outcome, DomainError):
                pending.answer.set_exception(outcome)
            else:
                pending.answer.set_result(outcome)


async def _seat(
    s: AsyncSession, session_id: str, taken: list[_Pending]
) -> list[tuple[_Pending, SessionView | DomainError]]:
    """Seat or waitlist each member in order, in one transaction holding the lock.

    Core statements, no ORM: the lock, who is already in, the new places, the counters;
    the answers are built from what was written, not read back.
    """
    users = list(dict.fromkeys(pending.user for pending in taken))
    session, placed = await _lock_with_places(s, session_id, users)
    at = clock.now()
    places: list[dict[str, Any]] = []
    outcomes: list[tuple[_Pending, SessionView | DomainError | None]] = []
    for pending in taken:
        if pending.user in placed:
            outcomes.append((pending, None))  # already in: no change, read below
            continue
        if session.status not in OPEN_STATUSES:
            closed = session.status.name
            outcomes.append(
                (pending, RegistrationClosed(f"the session is {closed}: registration is closed"))
            )
            continue
        ticket = None
        if session.registered_count < session.max_participants:
            status = RegistrationStatus.REGISTERED
            session.registered_count += 1
        elif session.waitlist_enabled:
            status = RegistrationStatus.WAITLISTED
            session.waitlist_tickets += 1
            ticket = session.waitlist_tickets
            session.waitlist_count += 1
        else:
            outcomes.append(
                (pending, SessionFull(f"all {session.max_participants} seats are taken"))
            )
            continue
        placed.add(pending.user)
        places.append({"user_id": pending.user, "status": status, "ticket": ticket})
        touch(s, session, at, (PlaceChange(pending.user, None, status, ticket),))
        # The answer is what was written: the newest ticket is the last place in line.
        position = session.waitlist_count if ticket is not None else None
        outcomes.append((pending, SessionView(values_of(session), status, position)))
    if places:
        await _write_places(s, session, at, places)
    return [
        (
            pending,
            outcome if outcome is not None else await require_view(s, session_id, pending.user),
        )
        for pending, outcome in outcomes
    ]


# What seating a member changes on the session row (column name = attribute name).
_PLACE_COUNTERS = (
    "registered_count",
    "waitlist_count",
    "waitlist_tickets",
    "version",
    "updated_at",
)
# The statements below are built once, their values bound by name: SQLAlchemy then
# compiles each once per process (and asyncpg prepares it once per connection).
_SEEN = SESSIONS_TABLE.alias("seen")
_USERS: sa.BindParameter[str] = sa.bindparam("users", expanding=True)
_SEEN_VERSION = (
    sa.select(_SEEN.c.version).where(_SEEN.c.id == sa.bindparam("session_id")).scalar_subquery()
)
# The session row, locked; beside it the version this statement's snapshot saw, and one
# row per member of `users` already placed (or one row of NULL).
_LOCK_WITH_PLACES: Select[*tuple[Any, ...]] = (
    Select(SESSIONS_TABLE, _SEEN_VERSION.label("seen_version"), REGISTRATIONS.user_id)
    .select_from(
        SESSIONS_TABLE.outerjoin(
            REGISTRATIONS_TABLE,
            sa.and_(REGISTRATIONS.session_id == SESSIONS.id, REGISTRATIONS.user_id.in_(_USERS)),
        )
    )
    .where(SESSIONS.id == sa.bindparam("session_id"))
    .with_for_update(of=SESSIONS_TABLE)
)
_PLACED = select(REGISTRATIONS.user_id).where(
    REGISTRATIONS.session_id == sa.bindparam("session_id"), REGISTRATIONS.user_id.in_(_USERS)
)
# Bind names differ from column names: an UPDATE reserves those for its SET values.
_COUNTERS = (
    sa.update(SESSIONS_TABLE)
    .where(SESSIONS.id == sa.bindparam("session_id"))
    .values({name: sa.bindparam(f"new_{name}") for name in _PLACE_COUNTERS})
)
_INSERT_PLACES = sa.insert(REGISTRATIONS_TABLE)
# PostgreSQL: the new places as one JSON parameter, inserted by a CTE of the counters'
# UPDATE, so the whole write is one round trip while the lock is held.
_NEW_PLACES = json_rows(
    "places",
    "place",
    sa.column("user_id", sa.String),
    sa.column("status", sa.String),
    sa.column("ticket", sa.BigInteger),
)
_COUNTERS_WITH_PLACES = _COUNTERS.add_cte(
    sa.insert(REGISTRATIONS_TABLE)
    .from_select(
        ["session_id", "user_id", "created_at", "status", "ticket"],
        sa.select(
            sa.bindparam("session_id", type_=REGISTRATIONS.session_id.type),
            _NEW_PLACES.c.user_id,
            sa.bindparam("placed_at", type_=REGISTRATIONS.created_at.type),
            _NEW_PLACES.c.status,
            _NEW_PLACES.c.ticket,
        ),
    )
    .cte("places")
)


async def _lock_with_places(
    s: AsyncSession, session_id: str, users: list[str]
) -> tuple[SessionState, set[str]]:
    """Lock the session and learn which of `users` are already placed: one statement
    when nobody changed the session while it waited for the lock.

    On PostgreSQL (READ COMMITTED) a statement that waited for the row lock returns the
    newest version of the locked row but reads every other table as of its start. Every
    change of a session's places also changes its version, under this same lock; so
    when the locked version is the one the statement's snapshot saw, the places read
    beside it are current, and otherwise they are read again (the lock is held now).
    SQLite's writer holds the database from BEGIN IMMEDIATE: its places are current.
    """
    params: dict[str, Any] = {"session_id": session_id, "users": users}
    # Core statements on the transaction's connection, past the ORM session's execute.
    connection = await s.connection()
    rows = (await connection.execute(_LOCK_WITH_PLACES, params)).all()
    if not rows:
        raise NotFound(f"no session has the id '{session_id}'")
    session = state_of(rows[0])
    # The query's last two columns: the version seen, and a member already placed.
    if rows[0][-2] == session.version:
        return session, {row[-1] for row in rows if row[-1] is not None}
    return session, set((await connection.execute(_PLACED, params)).scalars().all())


async def _write_places(
    s: AsyncSession, session: SessionState, at: datetime, places: list[dict[str, Any]]
) -> None:
    """Insert the new places (user_id, status, ticket) and write the session's counters
    back, with the events recorded for them."""
    counters = {f"new_{name}": getattr(session, name) for name in _PLACE_COUNTERS}
    counters["session_id"] = session.id
    if s.get_bind().dialect.name == "postgresql":
        statuses = [{**place, "status": place["status"].value} for place in places]
        params = {**counters, "places": statuses, "placed_at": at}
        await with_events(s, _COUNTERS_WITH_PLACES, params)
        return
    rows = [{**place, "session_id": session.id, "created_at": at} for place in places]
    connection = await s.connection()
    await connection.execute(_INSERT_PLACES, rows)
    await connection.execute(_COUNTERS, counters)


_BATCHES: "weakref.WeakKeyDictionary[Database, _Batches]" = weakref.WeakKeyDictionary()


def _batches_of(db: Database) -> _Batches:
    batches = _BATCHES.get(db)
    if batches is None:
        batches = _BATCHES[db] = _Batches(db)
    return batches


async def unregister_from_session(db: Database, caller: Caller, session_id: str) -> SessionView:
    caller.require_scope(SCOPE_REGISTRATIONS_WRITE)
    canonical = require_session_id(session_id)
    async with db.transaction() as s:
        session = await lock_session(s, canonical)
        place = await s.get(Registration, (canonical, caller.sub))
        if place is None:
            return await require_view(s, canonical, caller.sub)  # not in: no change
        if session.status not in OPEN_STATUSES:
            raise RegistrationClosed(
                f"the session is {session.status.name}: its registrations are kept"
            )
        await s.delete(place)
        if place.status == RegistrationStatus.REGISTERED:
            session.registered_count -= 1
        else:
            session.waitlist_count -= 1  # everyone behind moves up: places are ranks
        left = PlaceChange(caller.sub, place.status, None, place.ticket)
        promoted = await promote(s, session)
        touch(s, session, clock.now(), (left, *promoted))
        await s.flush()
        return await require_view(s, canonical, caller.sub)


async def promote(s: AsyncSession, session: Session) -> list[PlaceChange]:
    """Seat the head of the waitlist while seats are free; the caller holds the lock.

    Closed sessions (ENDED, CANCELLED) keep their waitlist for the record and promote
    nobody. Returns who was seated, for the change event.
    """
    free = session.max_participants - session.registered_count
    if session.status not in OPEN_STATUSES or free <= 0 or session.waitlist_count == 0:
        return []
    await s.flush()  # the queue below must see this transaction's own changes
    head = await s.exec(
        select(Registration)
        .where(
            REGISTRATIONS.session_id == session.id,
            REGISTRATIONS.status == RegistrationStatus.WAITLISTED,
        )
        .order_by(REGISTRATIONS.ticket)
        .limit(free)
    )
    seated = RegistrationStatus.REGISTERED
    changes = []
    for place in head.all():
        changes.append(PlaceChange(place.user_id, place.status, seated, place.ticket))
        place.status = seated
        place.ticket = None
    session.registered_count += len(changes)
    session.waitlist_count -= len(changes)
    return changes
