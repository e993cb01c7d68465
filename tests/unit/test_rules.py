"""The rules in app/resolvers, called directly: a database, a caller and plain data.

No HTTP, no Strawberry: what the transports add is tested in tests/api; here each rule
answers for itself, on a fresh database per engine.
"""

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from app.auth import Caller
from app.config import Settings
from app.db import Database, create_engine
from app.errors import Forbidden, RegistrationClosed, SessionFull
from app.models import RegistrationStatus
from app.resolvers.registrations import register_for_session, unregister_from_session
from app.resolvers.sessions import NewSession, cancel_session, create_session, get_session

HOST = Caller("host-1", frozenset({"sessions:write"}))


def member(n: int) -> Caller:
    return Caller(f"member-{n}", frozenset({"registrations:write"}))


def new_session(max_participants: int = 2, *, waitlist: bool = False) -> NewSession:
    return NewSession(
        host_id=HOST.sub,
        brand_id="brand-1",
        title="Morning mobility",
        scheduled_at=datetime(2030, 6, 1, 10, tzinfo=UTC),
        max_participants=max_participants,
        waitlist_enabled=waitlist,
    )


@pytest.fixture
async def db(schema_ready: Settings) -> AsyncIterator[Database]:
    database = Database(create_engine(schema_ready))
    try:
        yield database
    finally:
        await database.dispose()


async def test_a_created_session_reads_back_as_created(db: Database) -> None:
    created = await create_session(db, HOST, new_session(), idempotency_key=None)

    read = await get_session(db, member(1), created.session.id)

    assert read is not None
    assert (read.session.title, read.session.max_participants) == ("Morning mobility", 2)
    assert (read.session.registered_count, read.is_registered) == (0, False)


async def test_only_the_host_or_an_admin_creates_for_a_host(db: Database) -> None:
    other_host = Caller("host-2", frozenset({"sessions:write"}))

    with pytest.raises(Forbidden):
        await create_session(db, other_host, new_session())


async def test_the_seat_after_the_last_is_refused_and_nothing_changes(db: Database) -> None:
    session_id = (await create_session(db, HOST, new_session(max_participants=2))).session.id
    await register_for_session(db, member(1), session_id)
    second = await register_for_session(db, member(2), session_id)

    with pytest.raises(SessionFull):
        await register_for_session(db, member(3), session_id)

    assert (second.session.registered_count, second.is_registered) == (2, True)
    after = await get_session(db, member(3), session_id)
    assert after is not None
    assert (after.session.registered_count, after.registration) == (2, None)


async def test_registering_again_keeps_one_seat(db: Database) -> None:
    session_id = (await create_session(db, HOST, new_session(max_participants=2))).session.id
    await register_for_session(db, member(1), session_id)

    again = await register_for_session(db, member(1), session_id)

    assert (again.session.registered_count, again.is_registered) == (1, True)


async def test_a_full_session_with_a_waitlist_queues_and_seats_in_order(db: Database) -> None:
    session_id = (await create_session(db, HOST, new_session(1, waitlist=True))).session.id
    await register_for_session(db, member(1), session_id)
    second = await register_for_session(db, member(2), session_id)
    third = await register_for_session(db, member(3), session_id)

    assert (second.registration, second.waitlist_position) == (RegistrationStatus.WAITLISTED, 1)
    assert third.waitlist_position == 2
    await unregister_from_session(db, member(1), session_id)
    seated = await get_session(db, member(2), session_id)
    assert seated is not None
    assert (seated.is_registered, seated.session.waitlist_count) == (True, 1)


async def test_a_cancelled_session_takes_no_registrations(db: Database) -> None:
    session_id = (await create_session(db, HOST, new_session())).session.id
    await cancel_session(db, HOST, session_id)

    with pytest.raises(RegistrationClosed):
        await register_for_session(db, member(1), session_id)
