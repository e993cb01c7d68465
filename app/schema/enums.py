"""The GraphQL enums, registered once over the models' enums."""

import strawberry

from app.models import SessionKind, SessionStatus

strawberry.enum(SessionKind, description="What kind of session this is.")
strawberry.enum(SessionStatus, description="Where a session is in its life.")

__all__ = ["SessionKind", "SessionStatus"]
