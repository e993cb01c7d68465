"""What many test modules share: tokens, requests, the session documents, database peeks.

Fixtures live in conftest.py; everything a test imports lives here, so no test module
imports another.
"""

import os
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import httpx
import sqlalchemy as sa
from asgi_lifespan import LifespanManager
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import SQLModel

import app.models  # noqa: F401 - registers the tables
from app.auth import mint_token
from app.config import Settings
from app.db import create_engine
from app.main import create_app
from tests.contract.reference import RESPONSE_FIELDS

SECRET = "test-secret-that-is-long-enough-for-hs256"
POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL")
HOST = "host-1"
WRITER_SCOPES = ("sessions:write", "registrations:write")


# -- callers --------------------------------------------------------------------------


def token(
    sub: str = HOST,
    scopes: Iterable[str] = WRITER_SCOPES,
    *,
    secret: str = SECRET,
    ttl: timedelta = timedelta(minutes=5),
    **claims: Any,
) -> str:
    return mint_token(secret, sub=sub, scopes=scopes, ttl=ttl, **claims)


def auth(sub: str = HOST, scopes: Iterable[str] = WRITER_SCOPES) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(sub, scopes)}"}


# -- the app over HTTP ----------------------------------------------------------------


@asynccontextmanager
async def app_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client for `create_app(settings)`, in process, lifespan running."""
    async with LifespanManager(create_app(settings)) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


async def graphql(
    client: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    response = await client.post(
        "/graphql",
        json={"query": query, "variables": variables or {}},
        headers=auth() if headers is None else headers,
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def error_of(body: dict[str, Any]) -> dict[str, Any]:
    """The first error of a GraphQL body, which must have one."""
    assert body.get("errors"), body
    error: dict[str, Any] = body["errors"][0]
    return error


def valid_body(**overrides: Any) -> dict[str, Any]:
    """A REST request body exactly as the reference page describes it."""
    body: dict[str, Any] = {
        "host_id": HOST,
        "brand_id": "brand-1",
        "title": "Morning mobility",
        "scheduled_at": "2030-06-01T10:00:00Z",
        "max_participants": 50,
    }
    body.update(overrides)
    return body


async def post_session(
    client: httpx.AsyncClient, body: Any, headers: dict[str, str] | None = None
) -> httpx.Response:
    """POST /v1/sessions, by the default host unless `headers` say otherwise."""
    return await client.post(
        "/v1/sessions", json=body, headers=auth() if headers is None else headers
    )


# -- sessions over GraphQL ------------------------------------------------------------

SESSION_FIELDS = " ".join(RESPONSE_FIELDS.values())
CREATE = f"""
mutation Create($input: CreateSessionInput!) {{ createSession(input: $input) {{ {SESSION_FIELDS} }} }}
"""
GET = f"query Get($id: ID!) {{ session(id: $id) {{ {SESSION_FIELDS} }} }}"


def session_input(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "hostId": HOST,
        "brandId": "brand-1",
        "title": "Evening yoga",
        "scheduledAt": "2030-06-01T18:00:00Z",
        "maxParticipants": 20,
    }
    data.update(overrides)
    return data


async def create(client: httpx.AsyncClient, **overrides: Any) -> dict[str, Any]:
    body = await graphql(client, CREATE, {"input": session_input(**overrides)})
    assert "errors" not in body, body
    session: dict[str, Any] = body["data"]["createSession"]
    return session


# -- registrations --------------------------------------------------------------------

REGISTRATION_FIELDS = "id registeredCount isRegistered maxParticipants updatedAt status"
REGISTER = (
    f"mutation($id: ID!) {{ registerForSession(sessionId: $id) {{ {REGISTRATION_FIELDS} }} }}"
)
UNREGISTER = (
    f"mutation($id: ID!) {{ unregisterFromSession(sessionId: $id) {{ {REGISTRATION_FIELDS} }} }}"
)


async def register(
    client: httpx.AsyncClient, session_id: str, user: str = "member-1"
) -> dict[str, Any]:
    return await graphql(client, REGISTER, {"id": session_id}, headers=auth(user))


PLACE = (
    "mutation($id: ID!) { registerForSession(sessionId: $id)"
    " { registeredCount registrationStatus waitlistPosition } }"
)


async def place(client: httpx.AsyncClient, session_id: str, member: str) -> str:
    """Register `member`: the place they were given, or the error code."""
    body = await graphql(client, PLACE, {"id": session_id}, headers=auth(member))
    if body.get("errors"):
        return str(body["errors"][0]["extensions"]["code"])
    return str(body["data"]["registerForSession"]["registrationStatus"])


async def unregister(
    client: httpx.AsyncClient, session_id: str, user: str = "member-1"
) -> dict[str, Any]:
    return await graphql(client, UNREGISTER, {"id": session_id}, headers=auth(user))


async def seen_by(
    client: httpx.AsyncClient, session_id: str, user: str, fields: str = REGISTRATION_FIELDS
) -> dict[str, Any]:
    """The session as `user` reads it: `isRegistered` and the like are the caller's."""
    query = f"query($id: ID!) {{ session(id: $id) {{ {fields} }} }}"
    body = await graphql(client, query, {"id": session_id}, headers=auth(user))
    assert "errors" not in body, body
    session: dict[str, Any] = body["data"]["session"]
    return session


# -- the database, bypassing the app --------------------------------------------------


@asynccontextmanager
async def throwaway_engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    """An engine of the test's own, disposed on the way out."""
    engine = create_engine(settings)
    try:
        yield engine
    finally:
        await engine.dispose()


async def create_tables(settings: Settings) -> None:
    """The tables, created directly for speed (test_migrations covers Alembic)."""
    async with throwaway_engine(settings) as engine, engine.begin() as connection:
        await connection.run_sync(SQLModel.metadata.create_all)


async def sql(settings: Settings, statement: str, **params: Any) -> list[Any]:
    """Run one statement in its own transaction; the rows, if it returns any."""
    async with throwaway_engine(settings) as engine, engine.begin() as connection:
        result = await connection.execute(sa.text(statement), params)
        return list(result) if result.returns_rows else []


class StatementLog:
    """Every SQL statement the process sends while the fixture is active.

    Statements on the event outbox and of the webhook dispatcher are left out: each
    write transaction adds its outbox insert, and the dispatcher reads in the background.
    """

    def __init__(self) -> None:
        self.statements: list[tuple[str, Any]] = []

    def __call__(self, _conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if "session_events" not in statement and "webhook_" not in statement:
            self.statements.append((statement, parameters))

    def clear(self) -> None:
        self.statements.clear()

    @property
    def count(self) -> int:
        return len(self.statements)


# -- metrics --------------------------------------------------------------------------


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """A /metrics page as (sample name, labels) -> value."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }
