"""Shared fixtures: a fresh database per test on each engine, the app over real ASGI HTTP."""

import os
import uuid
from collections.abc import AsyncIterator, Iterable, Iterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from asgi_lifespan import LifespanManager
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

import app.models  # noqa: F401 - registers the tables
from app.auth import mint_token
from app.config import Settings
from app.db import create_engine
from app.main import create_app
from tests.server import running_server, server_env

SECRET = "test-secret-that-is-long-enough-for-hs256"
POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL")
HOST = "host-1"
WRITER_SCOPES = ("sessions:write", "registrations:write")

ENGINES = ("sqlite", "postgresql")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--engine",
        choices=("all", *ENGINES),
        default="all",
        help="run database tests on this engine only (postgresql needs TEST_POSTGRES_URL)",
    )


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("engine") == "postgresql" and POSTGRES_URL is None:
        raise pytest.UsageError("--engine postgresql needs TEST_POSTGRES_URL")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Every test that touches the database runs once per engine."""
    if "engine_name" not in metafunc.fixturenames:
        return
    chosen = metafunc.config.getoption("engine")
    skip_postgres = pytest.mark.skipif(
        POSTGRES_URL is None, reason="TEST_POSTGRES_URL is not set; .ci/run sets it"
    )
    params = [
        pytest.param(engine, marks=[skip_postgres] if engine == "postgresql" else [])
        for engine in ENGINES
        if chosen in ("all", engine)
    ]
    metafunc.parametrize("engine_name", params)


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


@pytest.fixture
async def database_settings(engine_name: str, tmp_path: Any) -> AsyncIterator[dict[str, Any]]:
    """Connection settings for an empty database that only this test sees."""
    if engine_name == "sqlite":
        yield {"database_url": f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"}
        return
    assert POSTGRES_URL is not None
    schema = f"t_{uuid.uuid4().hex}"
    dsn = POSTGRES_URL.replace("postgresql+asyncpg://", "postgresql://")
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(f'CREATE SCHEMA "{schema}"')
        yield {"database_url": POSTGRES_URL, "database_schema": schema}
    finally:
        await connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        await connection.close()


@pytest.fixture
def settings(database_settings: dict[str, Any]) -> Settings:
    return Settings(auth_jwt_secret=SECRET, **database_settings)


async def create_tables(settings: Settings) -> None:
    """The tables, created directly for speed (test_migrations covers Alembic)."""
    engine = create_engine(settings)
    async with engine.begin() as connection:
        await connection.run_sync(SQLModel.metadata.create_all)
    await engine.dispose()


@asynccontextmanager
async def app_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client for `create_app(settings)`, in process, lifespan running."""
    async with LifespanManager(create_app(settings)) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


@pytest.fixture(params=["app", "4 workers"])
async def racer(
    request: pytest.FixtureRequest,
    settings: Settings,
    database_settings: dict[str, Any],
    tmp_path: Any,
) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client for the in-process app, or for a real four-worker server."""
    if request.param == "app":
        await create_tables(settings)
        async with app_client(settings) as client:
            yield client
        return
    limits = httpx.Limits(max_connections=250, max_keepalive_connections=0)
    with running_server(tmp_path, server_env(database_settings), workers=4) as server:
        async with httpx.AsyncClient(base_url=server.url, limits=limits, timeout=60) as client:
            yield client


@pytest.fixture
async def schema_ready(settings: Settings) -> Settings:
    await create_tables(settings)
    return settings


@pytest.fixture
async def client(schema_ready: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(schema_ready) as client:
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


class StatementLog:
    """Every SQL statement the process sends while the fixture is active.

    Reads of the event outbox are left out: on PostgreSQL the event relay makes them in
    the background, whenever earlier writes' notifications arrive.
    """

    def __init__(self) -> None:
        self.statements: list[tuple[str, Any]] = []

    def __call__(self, _conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if "session_events" not in statement:
            self.statements.append((statement, parameters))

    def clear(self) -> None:
        self.statements.clear()

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def statements() -> Iterator[StatementLog]:
    log = StatementLog()
    event.listen(Engine, "before_cursor_execute", log)
    try:
        yield log
    finally:
        event.remove(Engine, "before_cursor_execute", log)
