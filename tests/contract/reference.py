"""The reference page's schemas, read from the page itself (not from the app's copy)."""

import json
import re
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

PAGE = Path(__file__).with_name("post-v1-sessions.txt")

# The 201 body's fields as the page names them, in its order, each with the GraphQL field
# that carries it. Spelled out rather than taken from the app, so a wrong mapping in the
# app fails the contract tests instead of being repeated by them.
RESPONSE_FIELDS = {
    "id": "id",
    "host_id": "hostId",
    "brand_id": "brandId",
    "title": "title",
    "kind": "kind",
    "category": "category",
    "scheduled_at": "scheduledAt",
    "started_at": "startedAt",
    "ended_at": "endedAt",
    "status": "status",
    "stream_call_id": "streamCallId",
    "max_participants": "maxParticipants",
    "duration_minutes": "durationMinutes",
    "recording_url": "recordingUrl",
    "metadata": "metadata",
    "created_at": "createdAt",
    "updated_at": "updatedAt",
    "registered_count": "registeredCount",
    "is_registered": "isRegistered",
}


def _schemas() -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    blocks = re.findall(r"^\{\n.*?^\}$", PAGE.read_text(), re.S | re.M)
    request, response, error = (json.loads(block) for block in blocks)
    return request, response, error


REQUEST_SCHEMA, RESPONSE_SCHEMA, ERROR_SCHEMA = _schemas()


def assert_session_body(body: Any) -> None:
    """The 201 body matches the page's response schema, formats included."""
    Draft202012Validator(
        RESPONSE_SCHEMA, format_checker=Draft202012Validator.FORMAT_CHECKER
    ).validate(body)
    assert set(body) == set(RESPONSE_SCHEMA["properties"])


def assert_error_body(body: Any, code: str) -> None:
    Draft202012Validator(ERROR_SCHEMA).validate(body)
    assert set(body) == {"error", "message"}
    assert body["error"] == code
    assert body["message"]
