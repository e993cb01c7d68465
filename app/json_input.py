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
