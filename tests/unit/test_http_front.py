"""app.http_front: the one layer before the router sets what the routes read, as the
middlewares it replaced did."""

from typing import Any

from starlette.authentication import UnauthenticatedUser
from starlette.types import Message

from app.auth import Caller, RefusedCredentials, TokenVerifier, mint_token
from app.cors import CorsPolicy
from app.http_front import HttpFront, read_head
from app.middleware import BodyLimits

SECRET = "unit-test-secret-0123456789abcdef-0123456789abcdef"


def test_each_header_is_read_at_its_first_occurrence_as_headers_get_reads_it() -> None:
    scope = {
        "headers": [
            (b"x-request-id", b"first"),
            (b"cookie", b"not-read"),
            (b"x-request-id", b"second"),
            (b"authorization", b"Bearer \xe9"),
        ]
    }

    assert read_head(scope) == {b"x-request-id": "first", b"authorization": "Bearer é"}


async def _serve(headers: list[tuple[bytes, bytes]], state: dict[str, Any] | None) -> Any:
    seen: dict[str, Any] = {}

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen["scope"] = scope
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    scope: dict[str, Any] = {"type": "http", "method": "GET", "path": "/", "headers": headers}
    if state is not None:
        scope["state"] = state
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    front = HttpFront(app, CorsPolicy(()), BodyLimits(1024, 5.0))
    await front(scope, receive, send)
    return seen["scope"], sent[0]


async def test_without_a_token_the_user_is_unauthenticated_even_without_lifespan_state() -> None:
    scope, start = await _serve([(b"x-request-id", b"abc")], state=None)

    assert isinstance(scope["user"], UnauthenticatedUser)
    assert list(scope["auth"].scopes) == []
    assert scope["state"] == {}
    assert start["headers"] == [(b"x-request-id", b"abc")]


async def test_a_valid_token_sets_the_caller_and_its_sorted_scopes() -> None:
    token = mint_token(SECRET, sub="host-1", scopes=["b:write", "a:read"])
    state = {"verifier": TokenVerifier(SECRET, audience=None, issuer=None)}
    headers = [(b"authorization", f"Bearer {token}".encode())]

    scope, _ = await _serve(headers, state)

    assert scope["user"] == Caller("host-1", frozenset({"a:read", "b:write"}))
    assert scope["auth"].scopes == ["a:read", "b:write"]


async def test_a_refused_token_is_recorded_with_its_reason_and_no_scopes() -> None:
    state = {"verifier": TokenVerifier(SECRET, audience=None, issuer=None)}

    scope, _ = await _serve([(b"authorization", b"Basic abc")], state)

    assert isinstance(scope["user"], RefusedCredentials)
    assert scope["user"].reason == "the Authorization header must be 'Bearer <token>'"
    assert scope["auth"].scopes == []
