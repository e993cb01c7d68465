"""Shared fixtures: a fresh database per test on each engine, the app over real ASGI HTTP."""

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from app.config import Settings
from tests.helpers import POSTGRES_URL, SECRET, StatementLog, app_client, create_tables
from tests.server import Server, running_server, server_env

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
    # No webhook dispatcher in the in-process apps unless a test asks for one
    # (webhook_settings): its background reads would land in the statement counts.
    # Real servers (tests.server) run it, as deployments do.
    return Settings(auth_jwt_secret=SECRET, webhooks_dispatcher=False, **database_settings)


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


@pytest.fixture
def server(database_settings: dict[str, Any], tmp_path: Path) -> Iterator[Server]:
    """A real `live-sessions serve` process on the test's database."""
    with running_server(tmp_path, server_env(database_settings)) as running:
        yield running


@pytest.fixture
def statements() -> Iterator[StatementLog]:
    log = StatementLog()
    event.listen(Engine, "before_cursor_execute", log)
    try:
        yield log
    finally:
        event.remove(Engine, "before_cursor_execute", log)
