"""CORS_ALLOW_ORIGINS: preflights answered, answers readable by listed origins only, and
WebSocket handshakes refused from a page of an unlisted origin (Strawberry's check, fed
the same list)."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from websockets.exceptions import InvalidStatus

from app.config import Settings
from tests.helpers import SECRET, app_client, auth, create_tables, token, valid_body
from tests.server import running_server, server_env
from tests.ws_client import GraphQLSocket

APP = "https://app.example.com"
EVIL = "https://evil.example.net"
PREFLIGHT = {
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "authorization, content-type, x-request-id",
}
TYPENAME = {"query": "{ __typename }"}


@asynccontextmanager
async def client_allowing(
    database_settings: dict[str, Any], *origins: str
) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(auth_jwt_secret=SECRET, cors_allow_origins=origins, **database_settings)
    await create_tables(settings)
    async with app_client(settings) as client:
        yield client


async def test_a_listed_origin_has_its_preflight_answered_and_may_read_the_answers(
    database_settings: dict[str, Any],
) -> None:
    async with client_allowing(database_settings, APP, "http://localhost:5173") as client:
        preflight = await client.options("/graphql", headers={"Origin": APP, **PREFLIGHT})
        graphql = await client.post("/graphql", json=TYPENAME, headers={"Origin": APP, **auth()})
        rest = await client.post(
            "/v1/sessions", json=valid_body(), headers={"Origin": APP, **auth()}
        )

    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == APP
    assert preflight.headers["Access-Control-Allow-Methods"] == "GET, POST"
    assert (
        preflight.headers["Access-Control-Allow-Headers"]
        == PREFLIGHT["Access-Control-Request-Headers"]
    )
    assert preflight.headers["Access-Control-Max-Age"] == "600"
    assert "Access-Control-Allow-Credentials" not in preflight.headers
    for answer in (graphql, rest):
        assert answer.headers["Access-Control-Allow-Origin"] == APP
        assert answer.headers["Access-Control-Expose-Headers"] == "X-Request-ID, Retry-After"
        assert "Origin" in answer.headers["Vary"]
        assert "Access-Control-Allow-Credentials" not in answer.headers
    assert graphql.json() == {"data": {"__typename": "Query"}}
    assert rest.status_code == 201


async def test_an_unlisted_origin_is_refused_its_preflight_and_cannot_read_answers(
    database_settings: dict[str, Any],
) -> None:
    async with client_allowing(database_settings, APP) as client:
        preflight = await client.options("/graphql", headers={"Origin": EVIL, **PREFLIGHT})
        answer = await client.post("/graphql", json=TYPENAME, headers={"Origin": EVIL})
        same_site = await client.post("/graphql", json=TYPENAME)

    assert preflight.status_code == 403
    assert preflight.json() == {
        "error": "forbidden",
        "message": f"the origin {EVIL} is not in the server's CORS_ALLOW_ORIGINS",
    }
    assert "Access-Control-Allow-Origin" not in preflight.headers
    # Served (a simple request reaches the server anyway), but the browser hides it.
    assert answer.status_code == 200
    assert "Access-Control-Allow-Origin" not in answer.headers
    assert answer.headers["Vary"] == "Origin"
    assert "Access-Control-Allow-Origin" not in same_site.headers


async def test_without_cors_allow_origins_a_preflight_says_how_to_allow_one(
    database_settings: dict[str, Any],
) -> None:
    async with client_allowing(database_settings) as client:
        preflight = await client.options("/v1/sessions", headers={"Origin": APP, **PREFLIGHT})

    assert preflight.status_code == 403
    assert preflight.json()["message"] == (
        "cross-origin requests are not enabled: CORS_ALLOW_ORIGINS is empty"
    )


async def test_star_allows_every_origin_and_never_credentials(
    database_settings: dict[str, Any],
) -> None:
    async with client_allowing(database_settings, "*") as client:
        preflight = await client.options("/graphql", headers={"Origin": EVIL, **PREFLIGHT})
        answer = await client.post("/graphql", json=TYPENAME, headers={"Origin": EVIL})

    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    assert "Vary" not in answer.headers
    for response in (preflight, answer):
        assert "Access-Control-Allow-Credentials" not in response.headers


async def test_only_get_and_post_are_offered_cross_origin(
    database_settings: dict[str, Any],
) -> None:
    async with client_allowing(database_settings, APP) as client:
        preflight = await client.options(
            "/v1/sessions", headers={"Origin": APP, "Access-Control-Request-Method": "DELETE"}
        )

    assert preflight.status_code == 403
    assert preflight.json()["message"] == "only GET and POST are served cross-origin"


async def handshake(url: str, origin: str | None) -> str:
    """`ok` when the socket opened and the server acknowledged the token, else the status."""
    headers = {} if origin is None else {"Origin": origin}
    try:
        socket = await GraphQLSocket.open(url, token=token(), additional_headers=headers)
    except InvalidStatus as refused:
        return str(refused.response.status_code)
    try:
        await socket.acknowledged()
    finally:
        await socket.connection.close()
    return "ok"


async def test_a_websocket_from_a_page_of_an_unlisted_origin_is_refused_at_handshake(
    database_settings: dict[str, Any], tmp_path: Path
) -> None:
    env = server_env(database_settings, CORS_ALLOW_ORIGINS=APP)
    with running_server(tmp_path, env) as server:
        own_page = server.url  # http://127.0.0.1:PORT, the origin of /demo and GraphiQL
        answers = {
            origin: await handshake(server.url, origin)
            for origin in (APP, EVIL, None, own_page, "null")
        }
        refusal = server.wait_for_log(lambda record: "refused a WebSocket" in record["message"])

    assert answers == {APP: "ok", EVIL: "403", None: "ok", own_page: "ok", "null": "403"}
    assert refusal["message"] == (
        f"refused a WebSocket from the origin {EVIL}: not in CORS_ALLOW_ORIGINS"
    )
