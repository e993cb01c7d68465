"""Sessions as iCalendar (RFC 5545) bytes, with the `icalendar` package.

Rendering is a pure function of the sessions and the `Links`: every time in it comes
from the rows (DTSTAMP is `updatedAt`, not the clock), so the same versions render the
same bytes and an ETag named after the versions (app.ics.routes) is a strong one.
"""

import uuid
from collections.abc import Iterable
from datetime import timedelta

from icalendar import Calendar, Event
from icalendar.enums import STATUS

from app.ics import links
from app.ics.links import Links
from app.models import RegistrationStatus, SessionKind, SessionStatus
from app.resolvers.views import SessionView

PRODID = "-//live-sessions//calendar//EN"
DEFAULT_DURATION = timedelta(minutes=60)
# What a subscribed calendar is asked to wait between two polls (RFC 7986, and Outlook's).
FEED_REFRESH = timedelta(minutes=15)
FEED_NAME = "Live sessions"

_KINDS = {SessionKind.LIVE: "Live class", SessionKind.OFFICE_HOURS: "Office hours"}


def session_file(view: SessionView, to: Links) -> bytes:
    """A session's own file, to import ("Add to calendar")."""
    url = links.session_file_url(to.base, view.session.id)
    calendar = Calendar.new(
        prodid=PRODID,
        method="PUBLISH",
        name=view.session.title,
        uid=uuid.uuid5(uuid.NAMESPACE_URL, url),
        source=url,
        subcomponents=[_event(view, to)],
    )
    return _bytes_of(calendar)


def feed(views: Iterable[SessionView], to: Links, *, feed_id: str) -> bytes:
    """A member's feed; `feed_id` names the calendar (its UID), stably and not secretly."""
    calendar = Calendar.new(
        prodid=PRODID,
        name=FEED_NAME,
        uid=uuid.uuid5(uuid.NAMESPACE_URL, f"{to.base}{links.FEED_PREFIX}{feed_id}"),
        refresh_interval=FEED_REFRESH,
        subcomponents=[_event(view, to) for view in views],
    )
    calendar.add("X-PUBLISHED-TTL", FEED_REFRESH)
    return _bytes_of(calendar)


def _bytes_of(calendar: Calendar) -> bytes:
    data: bytes = calendar.to_ical()  # typed Any by icalendar
    return data


def _event(view: SessionView, to: Links) -> Event:
    session = view.session
    start = session.scheduled_at
    join = None
    if session.status == SessionStatus.LIVE:
        join = links.join_url(to.join_template, to.base, session.id, session.stream_call_id)
    return Event.new(
        uid=session.id,
        # Every change moves the version, and with it SEQUENCE: a move or a cancellation
        # is always a higher SEQUENCE than what a calendar holds.
        sequence=session.version - 1,
        stamp=session.updated_at,
        created=session.created_at,
        last_modified=session.updated_at,
        start=start,
        end=start + _duration(session.duration_minutes),
        summary=session.title,
        description=_description(view, join),
        categories=[session.category] if session.category else (),
        status=_status(view),
        url=join,
    )


def _duration(minutes: int | None) -> timedelta:
    # An ended session has its real length; one ended within a minute still lasts a
    # minute, since DTEND must come after DTSTART.
    return DEFAULT_DURATION if minutes is None else timedelta(minutes=max(minutes, 1))


def _status(view: SessionView) -> STATUS:
    if view.session.status == SessionStatus.CANCELLED:
        return STATUS.CANCELLED
    if view.registration == RegistrationStatus.WAITLISTED:
        return STATUS.TENTATIVE
    return STATUS.CONFIRMED


def _description(view: SessionView, join: str | None) -> str:
    session = view.session
    lines = [" · ".join(filter(None, (_KINDS[session.kind], session.category)))]
    if join is not None:
        lines.append(f"Live now. Join: {join}")
    elif session.status == SessionStatus.CANCELLED:
        lines.append("This session was cancelled.")
    elif session.status == SessionStatus.ENDED:
        lines.append("This session has ended.")
        if session.recording_url:
            lines.append(f"Recording: {session.recording_url}")
    if view.registration == RegistrationStatus.WAITLISTED:
        lines.append(f"You are on the waitlist (place {view.waitlist_position}).")
    elif view.registration == RegistrationStatus.REGISTERED:
        lines.append("You have a seat.")
    return "\n".join(lines)
