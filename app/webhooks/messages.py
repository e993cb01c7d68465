"""What a change of the outbox means to a receiver: webhook event types and bodies.

One outbox event (a committed change of one session) becomes one message per thing
that happened: a `session.*` message when the session itself changed (its `action`),
and a `registration.*` message per member whose place changed.
"""

import enum
import json
import uuid
from dataclasses import dataclass
from typing import Any

from app.contract import RESPONSE_SCHEMA
from app.events import Action, PlaceChange, SessionEvent
from app.models import RegistrationStatus


class EventType(enum.StrEnum):
    SESSION_CREATED = "session.created"
    SESSION_UPDATED = "session.updated"
    SESSION_STARTED = "session.started"
    SESSION_ENDED = "session.ended"
    SESSION_CANCELLED = "session.cancelled"
    REGISTRATION_CREATED = "registration.created"
    REGISTRATION_CANCELLED = "registration.cancelled"
    REGISTRATION_PROMOTED = "registration.promoted"


_SESSION_TYPES = {
    Action.CREATED: EventType.SESSION_CREATED,
    Action.UPDATED: EventType.SESSION_UPDATED,
    Action.STARTED: EventType.SESSION_STARTED,
    Action.ENDED: EventType.SESSION_ENDED,
    Action.CANCELLED: EventType.SESSION_CANCELLED,
}
# The REST body's keys (snake_case), in its order; `metadata` is the snapshot's `meta`.
_REST_KEYS = tuple(RESPONSE_SCHEMA["properties"])
_SNAPSHOT_NAMES = {"metadata": "meta"}


@dataclass(frozen=True)
class Message:
    id: str  # the `webhook-id`: one per message, the same for every endpoint and attempt
    type: EventType
    session_id: str
    brand_id: str
    body: str  # the exact JSON every attempt sends and signs


def messages_of(event: SessionEvent) -> list[Message]:
    """The messages one outbox event stands for, session first, then members in order."""
    timestamp = event.session["updated_at"]
    found: list[tuple[EventType, dict[str, Any]]] = []
    if event.action is not None:
        found.append((_SESSION_TYPES[event.action], {"session": rest_body(event.session)}))
    for change in event.changes:
        kind = _registration_type(change)
        if kind is not None:
            found.append((kind, _registration_data(event.session, change)))
    return [
        Message(
            f"msg_{uuid.uuid4().hex}",
            kind,
            event.session_id,
            event.session["brand_id"],
            json.dumps(
                {"type": kind.value, "timestamp": timestamp, "data": data},
                separators=(",", ":"),
                ensure_ascii=False,
            ),
        )
        for kind, data in found
    ]


def rest_body(session: dict[str, Any], *, is_registered: bool = False) -> dict[str, Any]:
    """The session as POST /v1/sessions answers it; nobody is the viewer here."""
    values = {key: session.get(_SNAPSHOT_NAMES.get(key, key)) for key in _REST_KEYS}
    values["is_registered"] = is_registered
    return values


def _registration_type(change: PlaceChange) -> EventType | None:
    if change.before is None and change.after is not None:
        return EventType.REGISTRATION_CREATED
    if change.after is None and change.before is not None:
        return EventType.REGISTRATION_CANCELLED
    if (
        change.before == RegistrationStatus.WAITLISTED
        and change.after == RegistrationStatus.REGISTERED
    ):
        return EventType.REGISTRATION_PROMOTED
    return None


def _registration_data(session: dict[str, Any], change: PlaceChange) -> dict[str, Any]:
    status = "cancelled" if change.after is None else str(change.after)
    return {
        "member_id": change.user,
        "status": status,
        "previous_status": None if change.before is None else str(change.before),
        "session": rest_body(session, is_registered=change.after == RegistrationStatus.REGISTERED),
    }
