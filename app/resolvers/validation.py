"""Value rules shared by every write (create, update, lifecycle) and by filters."""

import json
from typing import Any

from app.errors import BadUserInput

MAX_INT32 = 2**31 - 1
# metadata is the host's free-form JSON: bounded so one session cannot be a payload.
METADATA_MAX_DEPTH = 10
METADATA_MAX_BYTES = 64 * 1024
NUL = "\x00"


def storable(value: str) -> bool:
    """PostgreSQL text and JSON cannot hold NUL, and no UTF-8 holds a lone surrogate."""
    if NUL in value:
        return False
    if value.isascii():
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


STORABLE = "must be valid Unicode text without NUL (U+0000) or unpaired surrogates"


def require_storable(value: str, field: str) -> str:
    if not storable(value):
        raise BadUserInput(STORABLE, field=field)
    return value


def require_text(value: str, field: str) -> str:
    if not value:
        raise BadUserInput("must not be empty", field=field)
    return require_storable(value, field)


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
    depth, has_nul = _inspect(value)
    if depth > METADATA_MAX_DEPTH:
        raise BadUserInput(f"must not nest deeper than {METADATA_MAX_DEPTH} levels", field=field)
    if has_nul:
        raise BadUserInput(STORABLE, field=field)
    try:
        # allow_nan=False: 1e400 parses as Infinity, which is not JSON; nor is a
        # number past Python's 4,300-digit conversion limit.
        encoded = json.dumps(value, separators=(",", ":"), allow_nan=False)
    except ValueError:
        raise BadUserInput(
            "must be plain JSON: numbers must be finite and of reasonable size", field=field
        ) from None
    if len(encoded.encode()) > METADATA_MAX_BYTES:
        raise BadUserInput(f"must not be larger than {METADATA_MAX_BYTES} bytes", field=field)
    return value


def _inspect(value: Any) -> tuple[int, bool]:
    """Nesting depth of a JSON value, and whether any key or string is not storable.

    Iterative, and it stops past the depth limit: the value may be hostile.
    """
    deepest = 0
    has_nul = False  # or an unpaired surrogate
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            has_nul = has_nul or not storable(item)
            continue
        if isinstance(item, dict):
            has_nul = has_nul or not all(storable(key) for key in item)
            children = list(item.values())
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, depth)
        if deepest > METADATA_MAX_DEPTH:
            break
        stack.extend((child, depth + 1) for child in children)
    return deepest, has_nul
