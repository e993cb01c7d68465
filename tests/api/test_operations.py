"""The operational surface: readiness, metrics, request ids, logs, graceful shutdown."""

import asyncio
import gc
import json
import re
import signal
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from alembic import command
from asgi_lifespan import LifespanManager
from sqlalchemy.engine import make_url

from app.config import Settings
from app.main import create_app
from app.migrations import alembic_config
from tests.helpers import POSTGRES_URL, SECRET, app_client, auth, graphql, samples, valid_body
from tests.server import running_server, server_env
from tests.tcp_proxy import TcpProxy

Action = Callable[[], Awaitable[None]]
COUNT = "{ sessions(first: 1) { totalCount } }"


async def migrate(settings: Settings, revision: str = "head") -> None:
    await asyncio.to_thread(command.upgrade, alembic_config(settings), revision)


@asynccontextmanager
async def outage_for(
    engine_name: str, database_settings: dict[str, Any]
) -> AsyncIterator[tuple[Settings, Action, Action]]:
    """Settings for a database this test can take away (cut) and give back (restore)."""
    if engine_name == "postgresql":
        assert POSTGRES_URL is not None
        target = make_url(POSTGRES_URL)
        proxy = TcpProxy(target.host or "127.0.0.1", target.port or 5432)
        await proxy.start()
        url = target.set(port=proxy.port).render_as_string(hide_password=False)
        settings = Settings(
            auth_jwt_secret=SECRET,
            database_url=url,
            database_schema=database_settings["database_schema"],
        )
        try:
            yield settings, proxy.cut, proxy.start
        finally:
            await proxy.close()
        return
    settings = Settings(auth_jwt_secret=SECRET, **database_settings)
    path = settings.sqlite_path
    assert path is not None
    away = path.with_name("moved-away.db")

    async def cut() -> None:  # the file vanishes, as with an unmounted volume
        path.rename(away)

    async def restore() -> None:
        away.rename(path)

    yield settings, cut, restore


async def test_readyz_follows_the_database_down_and_back_without_a_restart(
    engine_name: str, database_settings: dict[str, Any]
) -> None:
    async with outage_for(engine_name, database_settings) as (settings, cut, restore):
        await migrate(settings)
        async with app_client(settings) as client:
            healthy = await client.get("/readyz")
            await cut()
            down = await client.get("/readyz")
            alive = await client.get("/healthz")
            await restore()
            back = await client.get("/readyz")

    assert healthy.status_code == 200
    assert down.status_code == 503
    assert down.json()["reason"].startswith("database unreachable")
    assert alive.status_code == 200
    assert back.status_code == 200, back.text


async def test_readyz_is_503_until_migrations_reach_head(
    database_settings: dict[str, Any],
) -> None:
    settings = Settings(auth_jwt_secret=SECRET, **database_settings)
    if settings.sqlite_path is not None:
        sqlite3.connect(settings.sqlite_path).close()  # exists, but holds no schema

    async with app_client(settings) as client:
        empty = await client.get("/readyz")
        await migrate(settings, "0001")
        behind = await client.get("/readyz")
        await migrate(settings, "head")
        current = await client.get("/readyz")

    assert empty.status_code == 503
    assert "revision None" in empty.json()["reason"]
    assert behind.status_code == 503
    assert "revision 0001" in behind.json()["reason"]
    assert current.status_code == 200


async def test_metrics_count_routes_operations_and_pool(client: httpx.AsyncClient) -> None:
    def value(snapshot: dict[Any, float], name: str, **labels: str) -> float:
        return snapshot.get((name, frozenset(labels.items())), 0.0)

    before = samples((await client.get("/metrics")).text)
    await client.post("/v1/sessions", json=valid_body(), headers=auth())
    await graphql(client, "query Mine { sessions(first: 1) { totalCount } }")
    response = await client.get("/metrics")
    after = samples(response.text)

    assert response.headers["content-type"].startswith("text/plain")
    created = {"method": "POST", "route": "/v1/sessions", "status": "201"}
    assert (
        value(after, "http_requests_total", **created)
        == value(before, "http_requests_total", **created) + 1
    )
    mine = {"operation": "Mine", "type": "query", "outcome": "ok"}
    assert (
        value(after, "graphql_operations_total", **mine)
        == value(before, "graphql_operations_total", **mine) + 1
    )
    rest = {"operation": "CreateSession", "type": "mutation", "outcome": "ok"}
    assert value(after, "graphql_operations_total", **rest) >= 1
    assert (
        value(after, "graphql_operation_duration_seconds_count", operation="Mine", type="query")
        >= 1
    )
    assert value(after, "http_request_duration_seconds_count", method="POST", route="/graphql") >= 1
    assert value(after, "db_pool_capacity") == 15
    assert ("db_pool_connections_in_use", frozenset()) in after


@pytest.mark.parametrize(
    ("sent", "echoed"),
    [("req-42", "req-42"), ("x" * 129, None), ("has spaces", None), (None, None)],
)
async def test_request_id_is_echoed_or_generated(
    client: httpx.AsyncClient, sent: str | None, echoed: str | None
) -> None:
    headers = {} if sent is None else {"X-Request-ID": sent}

    response = await client.get("/healthz", headers=headers)

    request_id = response.headers["X-Request-ID"]
    if echoed is not None:
        assert request_id == echoed
    else:
        assert re.fullmatch(r"[0-9a-f]{32}", request_id)


def test_logs_are_json_lines_with_request_id_and_operation(
    database_settings: dict[str, Any], tmp_path: Path
) -> None:
    with running_server(tmp_path, server_env(database_settings)) as server:
        httpx.post(
            f"{server.url}/graphql",
            json={"query": "query ListForLogs { sessions(first: 1) { totalCount } }"},
            headers={**auth(), "X-Request-ID": "trace-me-1"},
        )
        line = server.wait_for_log(lambda record: record.get("request_id") == "trace-me-1")

    assert line["logger"] == "app.access"
    assert line["graphql_operation"] == "ListForLogs"
    assert line["status"] == 200
    assert {"time", "level", "message", "process", "duration_ms"} <= set(line)
    raw_lines = server.log.read_text().splitlines()
    assert all(json.loads(raw) for raw in raw_lines if raw.strip())


async def test_shutdown_lets_the_request_in_flight_finish(
    database_settings: dict[str, Any], tmp_path: Path
) -> None:
    body = json.dumps(valid_body()).encode()
    head = "".join(
        f"{name}: {value}\r\n"
        for name, value in {
            **auth(),
            "Host": "127.0.0.1",
            "Content-Type": "application/json",
            "Content-Length": str(len(body)),
            # The server answers 100 Continue when the app starts reading the body: from
            # then on the request is in flight, with no guess at how long that takes.
            "Expect": "100-continue",
        }.items()
    )

    with running_server(tmp_path, server_env(database_settings)) as server:
        port = int(server.url.rsplit(":", 1)[1])
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(f"POST /v1/sessions HTTP/1.1\r\n{head}\r\n".encode())
        await writer.drain()
        interim = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        server.process.send_signal(signal.SIGTERM)
        # uvicorn says this once it has begun shutting down with a request still open.
        await asyncio.to_thread(
            server.wait_for_log,
            lambda record: str(record.get("message")).startswith(
                "Waiting for connections to close"
            ),
            10,
        )
        writer.write(body)
        await writer.drain()
        response = await asyncio.wait_for(reader.read(), 10)
        writer.close()
        exit_code = await asyncio.to_thread(server.process.wait, 20)

    assert interim.startswith(b"HTTP/1.1 100 "), interim
    status_line = response.split(b"\r\n", 1)[0]
    assert status_line == b"HTTP/1.1 201 Created", response
    # uvicorn re-raises the signal once it has shut down cleanly.
    assert exit_code in (0, -signal.SIGTERM)
    messages = [record["message"] for record in server.log_records()]
    assert "Application shutdown complete." in messages


async def test_a_serving_app_exempts_what_startup_built_from_garbage_collection(
    schema_ready: Settings,
) -> None:
    gc.unfreeze()
    async with LifespanManager(create_app(schema_ready)):
        assert gc.get_freeze_count() == 0  # test apps come and go: nothing is pinned
    try:
        async with LifespanManager(create_app(schema_ready, serving=True)):
            assert gc.get_freeze_count() > 10_000
    finally:
        gc.unfreeze()


async def test_a_pooled_connection_dropped_while_idle_is_replaced_before_use(
    engine_name: str, database_settings: dict[str, Any]
) -> None:
    # On PostgreSQL, without the ping the first request after the outage would get the
    # dead connection; a busy pool does not ping (app.db).
    async with outage_for(engine_name, database_settings) as (outage, cut, restore):
        settings = outage.model_copy(update={"db_ping_after_idle_s": 0.2})
        await migrate(settings)
        async with app_client(settings) as client:
            before = await graphql(client, COUNT, headers=auth())
            await cut()
            await restore()
            await asyncio.sleep(0.3)
            after = await graphql(client, COUNT, headers=auth())

    assert "errors" not in before, before
    assert after == before
