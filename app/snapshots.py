"""A session as plain JSON, and back: for idempotent replays and change events."""

from typing import Any

from app import rfc3339
from app.models import Session, SessionKind, SessionStatus

_DATETIMES = ("scheduled_at", "started_at", "ended_at", "created_at", "updated_at")


def snapshot(session: Session) -> dict[str, Any]:
    data = session.model_dump()
    for name in _DATETIMES:
        if data[name] is not None:
            data[name] = rfc3339.format(data[name])
    data["kind"], data["status"] = str(data["kind"]), str(data["status"])
    return data


def restore(data: dict[str, Any]) -> Session:
    values = dict(data)
    for name in _DATETIMES:
        if values.get(name) is not None:
            values[name] = rfc3339.parse(values[name])
    values["kind"] = SessionKind(values["kind"])
    values["status"] = SessionStatus(values["status"])
    return Session(**values)
