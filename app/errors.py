"""The service's error vocabulary, shared by every transport.

Each class carries a stable `code`; GraphQL puts it in `extensions.code`, the REST
route maps it to an HTTP status. Anything outside this tree is unexpected: it is
logged with its traceback and masked as INTERNAL_SERVER_ERROR.

    DomainError
    ├── BadUserInput          BAD_USER_INPUT      (field: the input field at fault)
    ├── Unauthenticated       UNAUTHENTICATED
    ├── Forbidden             FORBIDDEN
    ├── NotFound              NOT_FOUND
    └── Conflict                                  (the request clashes with current state)
        ├── InvalidTransition INVALID_TRANSITION  (status: the session's current status)
        ├── SessionFull       SESSION_FULL
        ├── RegistrationClosed REGISTRATION_CLOSED
        ├── IdempotencyKeyReused  IDEMPOTENCY_KEY_REUSED  (same key, different request)
        └── IdempotencyInProgress IDEMPOTENCY_IN_PROGRESS (same key, first still running)
"""

from typing import ClassVar


class DomainError(Exception):
    code: ClassVar[str] = "INTERNAL_SERVER_ERROR"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    @property
    def extensions(self) -> dict[str, object]:
        return {"code": self.code}


class BadUserInput(DomainError):
    code = "BAD_USER_INPUT"

    def __init__(self, reason: str, *, field: str | None = None) -> None:
        super().__init__(reason if field is None else f"{field}: {reason}")
        self.reason = reason
        self.field = field

    @property
    def extensions(self) -> dict[str, object]:
        if self.field is None:
            return {"code": self.code}
        return {"code": self.code, "field": self.field}


class Unauthenticated(DomainError):
    code = "UNAUTHENTICATED"


class Forbidden(DomainError):
    code = "FORBIDDEN"


class NotFound(DomainError):
    code = "NOT_FOUND"


class Conflict(DomainError):
    code = "CONFLICT"


class InvalidTransition(Conflict):
    code = "INVALID_TRANSITION"

    def __init__(self, message: str, *, current: str) -> None:
        super().__init__(message)
        self.current = current

    @property
    def extensions(self) -> dict[str, object]:
        return {"code": self.code, "status": self.current}


class SessionFull(Conflict):
    code = "SESSION_FULL"


class RegistrationClosed(Conflict):
    code = "REGISTRATION_CLOSED"


class IdempotencyKeyReused(Conflict):
    code = "IDEMPOTENCY_KEY_REUSED"


class IdempotencyInProgress(Conflict):
    code = "IDEMPOTENCY_IN_PROGRESS"
