"""The reference page's schemas, read from the page itself (not from the app's copy)."""

import json
import re
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

PAGE = Path(__file__).with_name("post-v1-sessions.txt")


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
