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
    return encode_text(rfc3339.format(scheduled_at), session_id)


def encode_text(scheduled_at: str, session_id: str) -> str:
    """The cursor of a key whose instant is already formatted (RFC 3339, as the API prints
    it); compiled reads build cursors in SQL from that text (app.compiler.dialects)."""
    raw = json.dumps([scheduled_at, session_id], separators=(",", ":"))
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
