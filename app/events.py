"""Session change events: recorded inside the transaction that makes the change, and
handed by it to the consumers the app wired (app.db): live updates, the outbox (which
the webhook dispatcher reads)."""

import enum
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from app.db import record_change
from app.models import RegistrationStatus, Session
from app.snapshots import SessionState, snapshot


@dataclass(frozen=True)
class PlaceChange:
    """One member's place changed: joined, left, or moved from waitlist to seat."""

    user: str
    before: RegistrationStatus | None
    after: RegistrationStatus | None
    ticket: int | None  # the waitlist ticket involved, before or after


class Action(enum.StrEnum):
    """What happened to the session itself; place changes say what happened to members."""

    CREATED = "created"
    UPDATED = "updated"
    STARTED = "started"
    ENDED = "ended"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class SessionEvent:
    """The state one committed change left a session in, and whose places it changed."""

    session_id: str
    version: int
    session: dict[str, Any]
    changes: tuple[PlaceChange, ...] = field(default=())
    action: Action | None = None  # None: only members' places changed

    def to_payload(self) -> dict[str, Any]:
        return {
            "session_id": self.session_id,
            "version": self.version,
            "session": self.session,
            "changes": [asdict(change) for change in self.changes],
            "action": self.action,
        }

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> "SessionEvent":
        changes = tuple(
            PlaceChange(
                user=change["user"],
                before=_status(change["before"]),
                after=_status(change["after"]),
                ticket=change["ticket"],
            )
            for change in payload["changes"]
        )
        action = payload.get("action")  # absent from events written before webhooks
        return cls(
            payload["session_id"],
            payload["version"],
            payload["session"],
            changes,
            None if action is None else Action(action),
        )


def _status(value: str | None) -> RegistrationStatus | None:
    return None if value is None else RegistrationStatus(value)


def created(s: AsyncSession, session: Any) -> None:
    """Record the creation of `session` (model instance or SessionValues), version 1."""
    record_change(
        s, SessionEvent(session.id, session.version, snapshot(session), (), Action.CREATED)
    )


def touch(
    s: AsyncSession,
    session: Session | SessionState,
    at: datetime,
    changes: tuple[PlaceChange, ...] = (),
    action: Action | None = None,
) -> None:
    """Mark a change of `session`: a new version, updatedAt, and an event for after commit.

    Call it after each change a caller should see as one step (a batch of
    registrations calls it once per member), after the session's values are set.
    """
    session.version += 1
    session.updated_at = at
    record_change(s, SessionEvent(session.id, session.version, snapshot(session), changes, action))
