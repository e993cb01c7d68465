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

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.auth import SCOPE_REGISTRATIONS_WRITE, Caller
from app.db import Database
from app.errors import NotFound, RegistrationClosed, SessionFull
from app.events import PlaceChange, touch
from app.models import Registration, RegistrationStatus, Session, SessionStatus
from app.resolvers import clock
from app.resolvers.views import REGISTRATIONS, SessionView, require_session_id, require_view

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
    async with db.transaction() as s:
        session = await lock_session(s, canonical)
        if await s.get(Registration, (canonical, caller.sub)) is not None:
            return await require_view(s, canonical, caller.sub)  # already in: no change
        if session.status not in OPEN_STATUSES:
            closed = session.status.name
            raise RegistrationClosed(f"the session is {closed}: registration is closed")
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
            raise SessionFull(f"all {session.max_participants} seats are taken")
        at = clock.now()
        s.add(
            Registration(
                session_id=canonical,
                user_id=caller.sub,
                created_at=at,
                status=status,
                ticket=ticket,
            )
        )
        touch(s, session, at, (PlaceChange(caller.sub, None, status, ticket),))
        await s.flush()
        return await require_view(s, canonical, caller.sub)


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
