"""The POST /v1/sessions contract: the reference page's schemas, as data, and the
validators of its request body."""

import contextlib
import functools
import json
from importlib.resources import files
from typing import TYPE_CHECKING, Any

import jsonschema_rs

from app import rfc3339

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator, ValidationError

_DOCUMENT: dict[str, Any] = json.loads(
    files(__package__).joinpath("post_v1_sessions.json").read_text(encoding="utf-8")
)

REQUEST_SCHEMA: dict[str, Any] = _DOCUMENT["request"]
RESPONSE_SCHEMA: dict[str, Any] = _DOCUMENT["response"]
ERROR_SCHEMA: dict[str, Any] = _DOCUMENT["error"]
# Published as #/components/schemas/MetadataValue, where the request schema refers to it.
METADATA_VALUE_SCHEMA: dict[str, Any] = _DOCUMENT["metadata_value"]
COMPONENTS = {"schemas": {"MetadataValue": METADATA_VALUE_SCHEMA}}

# Text may hold anything but NUL and unpaired surrogates. The pattern says so in
# ECMA-262 terms (UTF-16 code units, where a surrogate pair is two); jsonschema-rs
# cannot compile surrogates, and sees only UTF-8 strings, where NUL is all that is left.
_TEXT_PATTERN = REQUEST_SCHEMA["properties"]["title"]["pattern"]
_UTF8_TEXT_PATTERN = "^[^\\u0000]*$"


def _standalone(schema: dict[str, Any]) -> dict[str, Any]:
    """The request schema with the components its references point into."""
    return {**schema, "components": COMPONENTS}


def _utf8_only(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _utf8_only(item) for key, item in value.items()}
    return _UTF8_TEXT_PATTERN if value == _TEXT_PATTERN else value


@functools.cache
def request_validator() -> "Draft202012Validator":
    """jsonschema's validator of request bodies, the one that explains a refusal.

    Built on first use: importing jsonschema imports every optional format package it
    finds (rfc3987-syntax alone builds a grammar for a second), which each worker would
    otherwise pay before serving, for a refusal it may never send.
    """
    from jsonschema import Draft202012Validator, FormatChecker

    # Only `date-time` is asserted, with the same strict parser the GraphQL scalar uses.
    formats = FormatChecker(formats=())
    formats.checks("date-time")(rfc3339.is_valid)
    return Draft202012Validator(_standalone(REQUEST_SCHEMA), format_checker=formats)


# The same schema and format check compiled by jsonschema-rs, which answers "valid?" in
# a tenth of the time; jsonschema's errors still explain a refusal. They agree on every
# body (tests/unit/test_contract.py).
request_gate = jsonschema_rs.Draft202012Validator(
    _utf8_only(_standalone(REQUEST_SCHEMA)),
    validate_formats=True,
    formats={"date-time": rfc3339.is_valid},
)


def request_errors(body: object) -> list["ValidationError"]:
    """Why `body` breaks the request schema; empty when it does not."""
    # jsonschema-rs reads strings as UTF-8: a lone surrogate is jsonschema's to judge.
    with contextlib.suppress(UnicodeEncodeError):
        if request_gate.is_valid(body):
            return []
    return list(request_validator().iter_errors(body))
