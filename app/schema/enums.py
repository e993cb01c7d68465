"""The GraphQL enums, registered once over the models' enums."""

import enum

import strawberry

from app.models import RegistrationStatus, SessionKind, SessionStatus

strawberry.enum(SessionKind, description="What kind of session this is.")
strawberry.enum(SessionStatus, description="Where a session is in its life.")


@strawberry.enum(name="RegistrationStatus", description="Where the caller stands.")
class CallerRegistration(enum.Enum):
    REGISTERED = "registered"
    WAITLISTED = "waitlisted"
    NONE = "none"

    @classmethod
    def of(cls, status: RegistrationStatus | None) -> "CallerRegistration":
        return cls.NONE if status is None else cls(status.value)


__all__ = ["CallerRegistration", "SessionKind", "SessionStatus"]
