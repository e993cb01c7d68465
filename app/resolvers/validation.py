"""Value rules shared by create and update."""

import json
from typing import Any

from app.errors import BadUserInput

MAX_INT32 = 2**31 - 1
# metadata is the host's free-form JSON: bounded so one session cannot be a payload.
METADATA_MAX_DEPTH = 10
METADATA_MAX_BYTES = 64 * 1024


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
    if _depth(value) > METADATA_MAX_DEPTH:
        raise BadUserInput(f"must not nest deeper than {METADATA_MAX_DEPTH} levels", field=field)
    if len(json.dumps(value, separators=(",", ":")).encode()) > METADATA_MAX_BYTES:
        raise BadUserInput(f"must not be larger than {METADATA_MAX_BYTES} bytes", field=field)
    return value


def _depth(value: Any) -> int:
    """Nesting depth of a JSON value, without recursion (the value may be hostile)."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = list(item.values())
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, depth)
        if deepest > METADATA_MAX_DEPTH:
            break
        stack.extend((child, depth + 1) for child in children)
    return deepest
