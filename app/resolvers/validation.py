"""Value rules shared by create and update."""

from typing import Any

from app.errors import BadUserInput

MAX_INT32 = 2**31 - 1


def require_text(value: str, field: str) -> str:
    if not value:
        raise BadUserInput("must not be empty", field=field)
    return value


def require_optional_text(value: str | None, field: str) -> str | None:
    return None if value is None else require_text(value, field)


def require_capacity(value: int, field: str = "maxParticipants") -> int:
    if not 1 <= value <= MAX_INT32:
        raise BadUserInput(f"must be between 1 and {MAX_INT32}", field=field)
    return value


def require_object(value: Any, field: str = "metadata") -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise BadUserInput("must be a JSON object", field=field)
    return value
