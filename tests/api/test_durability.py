"""A crash mid-stream loses no acknowledged create and leaves nothing half-written.

A real server takes creates from several concurrent clients and is killed with
SIGKILL while they are still sending; a new server on the same database must then
return every session that had been answered with 201, exactly as answered.
"""

import asyncio
import itertools
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlmodel import select

from app.config import Settings
from app.db import Database
from app.models import Session
from app.snapshots import snapshot
from tests.contract.reference import RESPONSE_FIELDS, assert_session_body
from tests.helpers import GET, SECRET, auth, throwaway_engine, valid_body
from tests.server import running_server, server_env

pytestmark = pytest.mark.slow

CLIENTS = 8
KILL_AFTER = 120  # acknowledged creates


async def create_until_killed(base_url: str, kill: Any) -> dict[str, dict[str, Any]]:
    """Creates from CLIENTS concurrent clients; the acknowledged ones, by idempotency key."""
    acknowledged: dict[str, dict[str, Any]] = {}
    killed = asyncio.Event()

    async def client_loop(client_number: int) -> None:
        async with httpx.AsyncClient(base_url=base_url, timeout=10) as client:
            for n in itertools.count():
                key = f"c{client_number}-{n}"
                try:
                    response = await client.post(
                        "/v1/sessions",
                        json=valid_body(title=f"durable {key}", metadata={"key": key}),
                        headers={**auth(), "Idempotency-Key": key},
                    )
                except httpx.TransportError:
                    return  # the server is gone; this create's fate is unknown
                assert response.status_code == 201, response.text
                acknowledged[key] = response.json()
                if len(acknowledged) >= KILL_AFTER and not killed.is_set():
                    killed.set()
                    kill()

    await asyncio.wait_for(
        asyncio.gather(*(client_loop(number) for number in range(CLIENTS))), timeout=60
    )
    return acknowledged


async def test_sigkill_loses_no_acknowledged_create(
    database_settings: dict[str, Any], tmp_path: Path
) -> None:
    env = server_env(database_settings)
    with running_server(tmp_path, env) as server:
        acknowledged = await create_until_killed(server.url, server.process.kill)
        assert await asyncio.to_thread(server.process.wait, 10) == -9

    with running_server(tmp_path, env) as restarted:
        async with httpx.AsyncClient(base_url=restarted.url, timeout=10) as client:
            for key, body in acknowledged.items():
                response = await client.post(
                    "/graphql",
                    json={"query": GET, "variables": {"id": body["id"]}},
                    headers=auth(),
                )
                stored = response.json()["data"]["session"]
                assert stored is not None, f"acknowledged create {key} was lost"
                as_rest = {rest: stored[name] for rest, name in RESPONSE_FIELDS.items()}
                as_rest["kind"], as_rest["status"] = as_rest["kind"].lower(), "scheduled"
                assert as_rest == body

    settings = Settings(auth_jwt_secret=SECRET, **database_settings)
    rows, keys = await stored_rows(settings)
    assert len(acknowledged) >= KILL_AFTER
    # Nothing half-written: every session is complete and has its completed key,
    # and no completed key points at a missing session.
    for row in rows:
        body = {**row, "registered_count": 0, "is_registered": False}
        assert_session_body(body)
        assert keys.get(row["metadata"]["key"]) == ("completed", row["id"])
    completed = {key: session for key, (state, session) in keys.items() if state == "completed"}
    assert set(completed.values()) == {row["id"] for row in rows}
    assert set(acknowledged) <= set(completed)


async def stored_rows(
    settings: Settings,
) -> tuple[list[dict[str, Any]], dict[str, tuple[str, str | None]]]:
    async with throwaway_engine(settings) as engine, Database(engine).read() as s:
        sessions = list((await s.exec(select(Session))).all())
        key_rows = await s.exec(sa.text("SELECT key, state, session_id FROM idempotency_keys"))  # type: ignore[call-overload]
        keys = {row[0]: (row[1], row[2]) for row in key_rows}
    rows = []
    for session in sessions:
        data = snapshot(session)
        data["metadata"] = data.pop("meta")
        rows.append({rest: data[rest] for rest in RESPONSE_FIELDS if rest in data})
    return rows, keys
