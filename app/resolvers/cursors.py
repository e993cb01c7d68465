"""Opaque keyset cursors on (scheduled_at, id), the order of every session list."""

import base64
import binascii
import json
from datetime import datetime

from app import rfc3339
from app.errors import BadUserInput

Key = tuple[datetime, str]


def encode(key: Key) -> str:
    scheduled_at, session_id = key
    raw = json.dumps([rfc3339.format(scheduled_at), session_id], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode(cursor: str, field: str = "after") -> Key:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        scheduled_at, session_id = json.loads(raw)
        if not isinstance(scheduled_at, str) or not isinstance(session_id, str):
            raise TypeError
        return rfc3339.parse(scheduled_at), session_id
    except (binascii.Error, UnicodeDecodeError, ValueError, TypeError, RecursionError):
        raise BadUserInput("is not a cursor this API issued", field=field) from None
