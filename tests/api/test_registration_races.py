"""Concurrent registrations over HTTP: never overbooked, never double-counted.

Each race runs twice: through the in-process ASGI app, and against a real
`live-sessions serve --workers 4` subprocess on a free 127.0.0.1 port, where the
requests land on different processes. The guarantee comes from the database (the
session's row lock, `SELECT ... FOR UPDATE` on PostgreSQL and `BEGIN IMMEDIATE` on
SQLite, and the registration primary key), so both must hold exactly.
"""

import asyncio
import json
import random
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from app.config import Settings
from tests.helpers import create, register, seen_by, sql, throwaway_engine, unregister


def processes_that_served(log_dir: Path) -> set[int]:
    pids = set()
    for log in log_dir.glob("server-*.log"):
        for line in log.read_text().splitlines():
            record = json.loads(line) if line.startswith("{") else {}
            if record.get("logger") == "app.access" and record.get("route") == "/graphql":
                pids.add(record["process"])
    return pids


async def registered_rows(settings: Settings, session_id: str) -> set[str]:
    rows = await sql(
        settings, "SELECT user_id FROM registrations WHERE session_id = :id", id=session_id
    )
    return {row[0] for row in rows}


async def registered_count(client: httpx.AsyncClient, session_id: str) -> int:
    return int((await seen_by(client, session_id, "observer"))["registeredCount"])


def outcome(body: dict[str, Any]) -> str:
    if body.get("errors"):
        return str(body["errors"][0]["extensions"]["code"])
    return "OK"


async def test_200_members_race_for_50_seats(
    racer: httpx.AsyncClient, settings: Settings, tmp_path: Path
) -> None:
    client = racer
    session = await create(client, maxParticipants=50)
    members = [f"member-{index}" for index in range(200)]

    results = await asyncio.gather(*(register(client, session["id"], m) for m in members))

    outcomes = [outcome(body) for body in results]
    assert outcomes.count("OK") == 50
    assert outcomes.count("SESSION_FULL") == 150
    winners = {m for m, result in zip(members, outcomes, strict=True) if result == "OK"}
    assert await registered_rows(settings, session["id"]) == winners
    assert await registered_count(client, session["id"]) == 50
    if str(client.base_url).startswith("http://127.0.0.1"):
        assert len(processes_that_served(tmp_path)) >= 2, "one worker served everything"


async def test_repeated_calls_from_the_same_members_count_once(
    racer: httpx.AsyncClient, settings: Settings
) -> None:
    client = racer
    session = await create(client, maxParticipants=50)
    calls = [f"member-{index % 20}" for index in range(200)]
    random.Random(7).shuffle(calls)

    results = await asyncio.gather(*(register(client, session["id"], m) for m in calls))

    assert {outcome(body) for body in results} == {"OK"}
    assert await registered_rows(settings, session["id"]) == {f"member-{i}" for i in range(20)}
    assert await registered_count(client, session["id"]) == 20


async def test_registrations_racing_unregistrations_keep_count_and_rows_equal(
    racer: httpx.AsyncClient, settings: Settings
) -> None:
    client = racer
    session = await create(client, maxParticipants=50)
    leavers = [f"leaver-{index}" for index in range(50)]
    for member in leavers:
        await register(client, session["id"], member)
    joiners = [f"joiner-{index}" for index in range(150)]
    calls = [unregister(client, session["id"], m) for m in leavers] + [
        register(client, session["id"], m) for m in joiners
    ]
    random.Random(11).shuffle(calls)

    results = await asyncio.gather(*calls)

    assert {outcome(body) for body in results} <= {"OK", "SESSION_FULL"}
    rows = await registered_rows(settings, session["id"])
    assert rows <= set(joiners)  # every leaver left
    count = await registered_count(client, session["id"])
    assert count == len(rows) <= 50
    joined = sum(outcome(body) == "OK" for body in results) - len(leavers)
    assert joined == len(rows)


async def test_a_member_who_left_while_the_registration_waited_for_the_lock_is_placed_again(
    client: httpx.AsyncClient, schema_ready: Settings
) -> None:
    # On PostgreSQL the waiting statement's snapshot predates the leave: the places it
    # read beside the lock are stale, and the version it saw tells it so.
    session = await create(client, maxParticipants=5)
    assert "errors" not in await register(client, session["id"], "member-1")
    async with throwaway_engine(schema_ready) as engine, engine.begin() as leaving:
        if engine.dialect.name == "postgresql":
            # SQLite: the DELETE below takes the write lock (a read first could not).
            await leaving.execute(
                sa.text("SELECT id FROM sessions WHERE id = :id FOR UPDATE"), {"id": session["id"]}
            )
        await leaving.execute(
            sa.text("DELETE FROM registrations WHERE session_id = :id AND user_id = 'member-1'"),
            {"id": session["id"]},
        )
        await leaving.execute(
            sa.text(
                "UPDATE sessions SET registered_count = registered_count - 1,"
                " version = version + 1 WHERE id = :id"
            ),
            {"id": session["id"]},
        )
        again = asyncio.create_task(register(client, session["id"], "member-1"))
        await asyncio.sleep(0.5)  # the registration now waits for the lock
        assert not again.done()
    body = await again

    assert body["data"]["registerForSession"]["isRegistered"] is True, body
    assert body["data"]["registerForSession"]["registeredCount"] == 1
    assert await registered_rows(schema_ready, session["id"]) == {"member-1"}
