"""Following one session: its current state first, then each committed change.

Every event carries the session as that change committed it; what is the
subscriber's own (`isRegistered`, `registrationStatus`, `waitlistPosition`) is
carried forward from the events' place changes, so no event costs a query. A gap in
versions (a lost or reordered event) re-reads the subscriber's own place once.
"""

from collections.abc import AsyncIterator
from dataclasses import dataclass, replace

from app.auth import Caller
from app.db import Database
from app.errors import NotFound
from app.live.broker import Broker, Overflow
from app.live.events import SessionEvent
from app.models import Registration, RegistrationStatus
from app.resolvers.views import SessionView, load_view, require_session_id
from app.snapshots import restore

WAITLISTED = RegistrationStatus.WAITLISTED


class SubscriberTooSlow(Exception):
    """The subscriber fell further behind than its queue allows."""


@dataclass(frozen=True)
class Place:
    """Where the subscriber stands in the session."""

    status: RegistrationStatus | None = None
    ticket: int | None = None
    position: int | None = None

    def after(self, event: SessionEvent, me: str) -> "Place":
        place = self
        for change in event.changes:
            if change.user == me:
                waiting = change.after == WAITLISTED
                place = Place(
                    change.after,
                    change.ticket if waiting else None,
                    event.session["waitlist_count"] if waiting else None,
                )
            elif (
                change.before == WAITLISTED
                and place.status == WAITLISTED
                and place.ticket is not None
                and place.position is not None
                and change.ticket is not None
                and change.ticket < place.ticket
            ):
                place = replace(place, position=place.position - 1)  # someone ahead left
        return place


async def _current(db: Database, session_id: str, user_id: str) -> tuple[SessionView, Place]:
    async with db.read() as s:
        view = await load_view(s, session_id, user_id)
        if view is None:
            raise NotFound(f"no session has the id '{session_id}'")
        mine = await s.get(Registration, (session_id, user_id))
    ticket = mine.ticket if mine is not None else None
    return view, Place(view.registration, ticket, view.waitlist_position)


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
