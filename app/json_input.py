"""Parsing JSON from clients: strict where Python's json module is lenient."""

import json
import math
from typing import Any


def _finite(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):  # 1e400 would silently become Infinity
        raise ValueError(f"{text} is out of range for a JSON number")
    return number


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def loads(data: str | bytes) -> Any:
    """json.loads refusing NaN, Infinity and numbers too large to be finite."""
    return json.loads(data, parse_constant=_no_constant, parse_float=_finite)


class InvalidBody(ValueError):
    """A request body that is not one JSON object in UTF-8; the message says why."""


def object_body(raw: bytes) -> dict[str, Any]:
    """A request body as a JSON object, refusing what `loads` refuses and non-UTF-8 bytes."""
    # json.loads would also accept UTF-16 and UTF-32 bytes, and RFC 8259 requires UTF-8
    # for JSON exchanged between systems: whatever it would read as such is refused (some
    # of it, UTF-16-LE without a byte order mark, is valid UTF-8 full of NULs).
    if json.detect_encoding(raw) not in ("utf-8", "utf-8-sig"):
        raise InvalidBody("the body is not UTF-8")
    try:
        text = raw.decode("utf-8")
        body = loads(text)
    except UnicodeDecodeError:
        raise InvalidBody("the body is not UTF-8") from None
    except ValueError as error:
        raise InvalidBody(f"the body is not valid JSON: {error}") from None
    except RecursionError:
        raise InvalidBody("the body is nested too deeply") from None
    if not isinstance(body, dict):
        raise InvalidBody("the body must be a JSON object")
    return body
