"""Following one session: its current state first, then each committed change.

Every event carries the session as that change committed it; what is the
subscriber's own (`isRegistered`, `registrationStatus`, `waitlistPosition`) is
carried forward from the events' place changes, so no event costs a query. A gap in
versions (a lost or reordered event) re-reads the subscriber's own place once.
"""

from collections.abc import AsyncIterator

from app.auth import Caller
from app.db import Database
from app.live.broker import Broker, Overflow
from app.resolvers.views import Place, SessionView, load_view_and_place, require_session_id
from app.snapshots import restore


class SubscriberTooSlow(Exception):
    """The subscriber fell further behind than its queue allows."""


async def _current(db: Database, session_id: str, user_id: str) -> tuple[SessionView, Place]:
    async with db.read() as s:
        return await load_view_and_place(s, session_id, user_id)


async def follow(
    db: Database, broker: Broker, caller: Caller, session_id: str
) -> AsyncIterator[SessionView]:
    canonical = require_session_id(session_id)
    # Subscribe before reading, so no change slips between the read and the first event.
    subscription = broker.subscribe(canonical)
    try:
        view, place = await _current(db, canonical, caller.sub)
        version = view.session.version
        yield view
        while True:
            event = await subscription.queue.get()
            if isinstance(event, Overflow):
                raise SubscriberTooSlow(
                    f"fell more than {broker.max_queued} events behind; subscribe again"
                )
            if event.version <= version:
                continue  # already reflected in what this subscriber was sent
            if event.version == version + 1:
                place = place.after(event, caller.sub)
            else:
                _, place = await _current(db, canonical, caller.sub)
            version = event.version
            yield SessionView(restore(event.session), place.status, place.position)
    finally:
        broker.unsubscribe(subscription)
