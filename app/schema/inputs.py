"""Input types, converted to the resolvers' plain data by `to_data`."""

from dataclasses import fields
from datetime import datetime
from typing import Any

import strawberry
from strawberry.scalars import JSON

from app.resolvers import sessions as rules
from app.schema.enums import SessionKind, SessionStatus
from app.schema.input_plans import plan_inputs

_NEW_SESSION_FIELDS = tuple(spec.name for spec in fields(rules.NewSession))
_SESSION_CHANGES_FIELDS = tuple(spec.name for spec in fields(rules.SessionChanges))


@strawberry.input(description="A new session. The caller must be the host or an admin.")
class CreateSessionInput:
    host_id: str
    brand_id: str
    title: str = strawberry.field(description="Not empty.")
    scheduled_at: datetime
    max_participants: int = strawberry.field(description="At least 1.")
    kind: SessionKind = SessionKind.LIVE
    metadata: JSON | None = strawberry.field(
        default=None, description="A JSON object; {} when omitted."
    )
    category: str | None = None
    waitlist_enabled: bool = strawberry.field(
        default=False, description="Queue newcomers once full, promoting them as seats free up."
    )

    def to_data(self) -> rules.NewSession:
        # Field for field: the input's fields are NewSession's (tests/unit/test_session_shape).
        return rules.NewSession(**{name: getattr(self, name) for name in _NEW_SESSION_FIELDS})


@strawberry.input(description="Every given condition must hold.")
class SessionFilter:
    brand_id: str | None = None
    host_id: str | None = None
    status: list[SessionStatus] | None = strawberry.field(
        default=None, description="Any of these statuses."
    )
    kind: SessionKind | None = None
    scheduled_from: datetime | None = strawberry.field(
        default=None, description="scheduledAt at or after this instant."
    )
    scheduled_to: datetime | None = strawberry.field(
        default=None, description="scheduledAt strictly before this instant."
    )
    registered_only: bool | None = strawberry.field(
        default=None, description="Only sessions the caller is registered for."
    )

    def to_data(self) -> rules.SessionFilter:
        return rules.SessionFilter(
            brand_id=self.brand_id,
            host_id=self.host_id,
            # Repeats change nothing but the statement's size.
            statuses=None if self.status is None else tuple(dict.fromkeys(self.status)),
            kind=self.kind,
            scheduled_from=self.scheduled_from,
            scheduled_to=self.scheduled_to,
            registered_only=bool(self.registered_only),
        )


def _given(value: Any) -> Any:
    return rules.MISSING if value is strawberry.UNSET else value


@strawberry.input(description="Fields to change on a SCHEDULED session; omitted ones stay.")
class UpdateSessionInput:
    title: str | None = strawberry.UNSET
    scheduled_at: datetime | None = strawberry.UNSET
    max_participants: int | None = strawberry.field(
        default=strawberry.UNSET, description="Not below the seats already taken."
    )
    kind: SessionKind | None = strawberry.UNSET
    category: str | None = strawberry.field(default=strawberry.UNSET, description="null clears it.")
    metadata: JSON | None = strawberry.UNSET
    waitlist_enabled: bool | None = strawberry.field(
        default=strawberry.UNSET,
        description="Turning it off keeps those already waiting but takes no one new.",
    )

    def to_data(self) -> rules.SessionChanges:
        return rules.SessionChanges(
            **{name: _given(getattr(self, name)) for name in _SESSION_CHANGES_FIELDS}
        )


plan_inputs(CreateSessionInput, SessionFilter, UpdateSessionInput)
