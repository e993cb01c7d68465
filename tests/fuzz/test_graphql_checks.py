"""The GraphQL fuzzing checks pass the documented client errors and fail the server's own."""

from datetime import timedelta
from typing import Any

import httpx
import pytest
import schemathesis

from tests.fuzz.graphql_checks import (
    ERROR_CODES,
    graphql_error_codes_documented,
    graphql_strict_json,
    no_graphql_server_error,
)

CLIENT_CODES = [
    "BAD_USER_INPUT",
    "UNAUTHENTICATED",
    "FORBIDDEN",
    "NOT_FOUND",
    "SESSION_FULL",
    "INVALID_TRANSITION",
    "REGISTRATION_CLOSED",
    "IDEMPOTENCY_KEY_REUSED",
    "IDEMPOTENCY_IN_PROGRESS",
    "GRAPHQL_PARSE_FAILED",
    "GRAPHQL_VALIDATION_FAILED",
    "TIMEOUT",
    "BAD_REQUEST",
]


def response(status: int = 200, *, body: Any = None, content: bytes | None = None) -> Any:
    request = httpx.Request("POST", "http://testserver/graphql", json={"query": "{ x }"})
    if content is None:
        raw = httpx.Response(status, json=body, request=request)
    else:
        raw = httpx.Response(status, content=content, request=request)
    raw.elapsed = timedelta(0)
    return schemathesis.Response.from_any(raw)


def failed(body: Any) -> dict[str, Any]:
    """A resolver error on createSession, as the app writes them (with a `path`)."""
    return {
        "data": None,
        "errors": [
            {
                "message": "no",
                "locations": [{"line": 1, "column": 12}],
                "path": ["createSession"],
                "extensions": body,
            }
        ],
    }


def check(func: Any, answer: Any) -> None:
    func(None, answer, None)


@pytest.mark.parametrize("code", CLIENT_CODES)
def test_documented_client_errors_pass(code: str) -> None:
    answer = response(body=failed({"code": code}))

    check(no_graphql_server_error, answer)
    check(graphql_error_codes_documented, answer)
    check(graphql_strict_json, answer)


def test_internal_server_error_fails() -> None:
    answer = response(body=failed({"code": "INTERNAL_SERVER_ERROR"}))

    with pytest.raises(AssertionError, match="INTERNAL_SERVER_ERROR"):
        check(no_graphql_server_error, answer)


@pytest.mark.parametrize("status", [500, 502, 503])
def test_http_5xx_fails(status: int) -> None:
    with pytest.raises(AssertionError, match=f"HTTP {status}"):
        check(no_graphql_server_error, response(status, body={"errors": [{"message": "x"}]}))


def test_data_passes() -> None:
    answer = response(body={"data": {"session": None}})

    check(no_graphql_server_error, answer)
    check(graphql_error_codes_documented, answer)
    check(graphql_strict_json, answer)


# LIVE is a session status and DATABASE_URL a setting: words, not error codes.
@pytest.mark.parametrize(
    "extensions", [{"code": "SOMETHING_ELSE"}, {"code": "LIVE"}, {"code": "DATABASE_URL"}, {}, None]
)
def test_an_undocumented_or_missing_code_fails(extensions: Any) -> None:
    with pytest.raises(AssertionError, match="documented code"):
        check(graphql_error_codes_documented, response(body=failed(extensions)))


def test_the_vocabulary_is_read_from_the_apps_error_classes() -> None:
    assert set(CLIENT_CODES) <= ERROR_CODES
    assert "INTERNAL_SERVER_ERROR" in ERROR_CODES


@pytest.mark.parametrize("constant", [b"NaN", b"Infinity", b"-Infinity"])
def test_nan_and_infinity_are_not_json(constant: bytes) -> None:
    body = b'{"data": {"createSession": {"metadata": {"a": ' + constant + b"}}}}"

    with pytest.raises(AssertionError, match="not JSON"):
        check(graphql_strict_json, response(content=body))
