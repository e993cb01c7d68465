"""Hostile input end to end: tokens, injection-shaped strings, huge and slow bodies."""

import base64
import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from app.config import Settings
from tests.contract.reference import assert_error_body
from tests.helpers import (
    CREATE,
    GET,
    HOST,
    SECRET,
    WRITER_SCOPES,
    app_client,
    auth,
    graphql,
    session_input,
    token,
    valid_body,
)
from tests.server import running_server, server_env


def b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def claims(**extra: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "sub": HOST,
        "scope": " ".join(WRITER_SCOPES),
        "exp": now + timedelta(minutes=5),
        **extra,
    }


def hostile_tokens() -> dict[str, str]:
    good = token()
    header, payload, signature = good.split(".")
    elevated = b64({"sub": HOST, "scope": "sessions:write sessions:admin", "exp": 4102444800})
    return {
        "wrong secret": jwt.encode(claims(), "another-secret-that-is-long-enough-xx", "HS256"),
        "payload swapped under a real signature": f"{header}.{elevated}.{signature}",
        "signature stripped": f"{header}.{payload}.",
        "alg none": f"{b64({'alg': 'none', 'typ': 'JWT'})}.{payload}.",
        "alg RS256 claimed": f"{b64({'alg': 'RS256', 'typ': 'JWT'})}.{payload}.{signature}",
        "HS512 with our secret": jwt.encode(claims(), SECRET * 2, "HS512"),
        "expired": token(ttl=timedelta(seconds=-1)),
        "not yet valid": jwt.encode(claims(nbf=datetime.now(UTC) + timedelta(hours=1)), SECRET),
        "no exp": jwt.encode({"sub": HOST, "scope": "sessions:write"}, SECRET, "HS256"),
        "garbage": "a.b.c",
    }


HOSTILE = hostile_tokens()


@pytest.mark.parametrize("bad", HOSTILE.values(), ids=HOSTILE.keys())
async def test_hostile_tokens_are_refused_by_both_transports(
    client: httpx.AsyncClient, bad: str
) -> None:
    headers = {"Authorization": f"Bearer {bad}"}

    rest = await client.post("/v1/sessions", json=valid_body(), headers=headers)
    gql = await graphql(client, CREATE, {"input": session_input()}, headers=headers)

    assert rest.status_code == 401
    assert_error_body(rest.json(), "unauthorized")
    assert gql["data"] is None
    assert gql["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


@pytest.fixture
def audience_settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={"auth_jwt_audience": "live-sessions", "auth_jwt_issuer": "https://id.example"}
    )


@pytest.mark.parametrize(
    ("extra", "accepted"),
    [
        ({"audience": "live-sessions", "issuer": "https://id.example"}, True),
        ({"audience": "billing", "issuer": "https://id.example"}, False),
        ({"audience": "live-sessions", "issuer": "https://evil.example"}, False),
        ({}, False),
    ],
    ids=["ours", "other audience", "other issuer", "neither"],
)
async def test_audience_and_issuer_are_checked_when_configured(
    audience_settings: Settings, schema_ready: Settings, extra: dict[str, str], accepted: bool
) -> None:
    headers = {"Authorization": f"Bearer {token(**extra)}"}

    async with app_client(audience_settings) as client:
        response = await client.post("/v1/sessions", json=valid_body(), headers=headers)

    assert response.status_code == (201 if accepted else 401)


INJECTIONS = [
    "'; DROP TABLE sessions; --",
    '" OR "1"="1',
    "1); DELETE FROM registrations WHERE (1=1",
    "$1 $2 %s %(x)s ?",
    "Robert'); --",
    "\\x00\\'\\\"\\\\",
]


@pytest.mark.parametrize("value", INJECTIONS)
async def test_injection_shaped_strings_are_stored_and_returned_verbatim(
    client: httpx.AsyncClient, value: str
) -> None:
    admin = auth("admin", ["sessions:write", "sessions:admin"])
    body = valid_body(host_id=value, brand_id=value, title=value, metadata={value: value})

    created = await client.post("/v1/sessions", json=body, headers=admin)
    by_brand = await graphql(
        client,
        "query($f: SessionFilter) { sessions(filter: $f) { edges { node { id title } } } }",
        {"f": {"brandId": value, "hostId": value}},
    )
    with_category = await graphql(
        client,
        CREATE + "",
        {"input": session_input(hostId=value, brandId=value, title=value, category=value)},
        headers=admin,
    )

    assert created.status_code == 201, created.text
    session = created.json()
    assert (session["host_id"], session["brand_id"], session["title"]) == (value, value, value)
    assert session["metadata"] == {value: value}
    assert [edge["node"]["id"] for edge in by_brand["data"]["sessions"]["edges"]] == [session["id"]]
    assert with_category["data"]["createSession"]["category"] == value
    read = await graphql(client, GET, {"id": session["id"]})
    assert read["data"]["session"]["title"] == value


async def test_ten_megabyte_bodies_are_refused_on_every_route(client: httpx.AsyncClient) -> None:
    huge = b'{"title": "' + b"x" * (10 * 1024 * 1024) + b'"}'
    headers = {**auth(), "Content-Type": "application/json"}

    rest = await client.post("/v1/sessions", content=huge, headers=headers)
    gql = await client.post("/graphql", content=huge, headers=headers)

    for response in (rest, gql):
        assert response.status_code == 413
        assert_error_body(response.json(), "payload_too_large")


@pytest.mark.parametrize("depth", [11, 50])
async def test_metadata_deeper_than_ten_levels_is_refused(
    client: httpx.AsyncClient, depth: int
) -> None:
    nested: dict[str, Any] = {"leaf": True}
    for _ in range(depth - 1):
        nested = {"n": nested}

    rest = await client.post("/v1/sessions", json=valid_body(metadata=nested), headers=auth())
    gql = await graphql(client, CREATE, {"input": session_input(metadata=nested)})

    assert rest.status_code == 400
    assert rest.json()["message"].startswith("metadata: must not nest deeper than 10")
    assert gql["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "metadata"}


async def test_metadata_at_ten_levels_is_accepted(client: httpx.AsyncClient) -> None:
    nested: dict[str, Any] = {"leaf": True}
    for _ in range(9):
        nested = {"n": nested}

    response = await client.post("/v1/sessions", json=valid_body(metadata=nested), headers=auth())

    assert response.status_code == 201
    assert response.json()["metadata"] == nested


async def test_metadata_larger_than_64_kib_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/sessions", json=valid_body(metadata={"blob": "x" * 70_000}), headers=auth()
    )

    assert response.status_code == 400
    assert response.json()["message"].startswith("metadata: must not be larger than")


async def test_absurdly_nested_graphql_variables_are_a_client_error(
    client: httpx.AsyncClient,
) -> None:
    depth = 100_000
    variables = '{"input": {"metadata": ' + "[" * depth + "]" * depth + "}}"
    raw = (
        '{"query": "mutation($input: CreateSessionInput!) { createSession(input: $input) { id } }", "variables": '
        + variables
        + "}"
    )

    response = await client.post(
        "/graphql", content=raw, headers={**auth(), "Content-Type": "application/json"}
    )

    assert response.status_code < 500


def test_a_client_that_never_finishes_its_body_gets_408(
    database_settings: dict[str, Any], tmp_path: Path
) -> None:
    env = server_env(database_settings, REQUEST_BODY_TIMEOUT_S="1")

    def trickle():
        yield b'{"title": '
        time.sleep(3)  # the rest never comes in time
        yield b'"late"}'

    with running_server(tmp_path, env) as server:
        started = time.monotonic()
        try:
            response = httpx.post(
                f"{server.url}/v1/sessions",
                content=trickle(),
                headers={**auth(), "Content-Type": "application/json"},
                timeout=10,
            )
            status, payload = response.status_code, response.json()
        except httpx.RemoteProtocolError:
            status, payload = 408, None  # answered 408 and closed before our last chunk
        elapsed = time.monotonic() - started
        healthy = httpx.get(f"{server.url}/healthz")

    assert status == 408
    if payload is not None:
        assert_error_body(payload, "request_timeout")
    assert elapsed < 5
    assert healthy.status_code == 200
