"""A TIMEOUT answer means nothing was written: the time limit never cuts a commit short.

Real servers (one and four workers) with a GRAPHQL_TIMEOUT_S as long as a typical create
under load take a few hundred concurrent creates through both transports; afterwards the
database holds exactly the sessions whose callers were told they exist.
"""

import asyncio
import statistics
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.config import Settings
from tests.helpers import auth, post_session, sql, valid_body
from tests.server import running_server, server_env

CREATES = 300
IN_FLIGHT = 100
ROUNDS = 4
CREATE = "mutation($input: CreateSessionInput!) { createSession(input: $input) { id title } }"


async def stored_titles(settings: Settings) -> set[str]:
    return {row[0] for row in await sql(settings, "SELECT title FROM sessions")}


async def create_over_rest(client: httpx.AsyncClient, title: str) -> str:
    response = await post_session(client, valid_body(title=title))
    if response.status_code == 201:
        return "created"
    body = response.json()
    if response.status_code == 503:
        assert body["error"] == "timeout", body
        assert response.headers["Retry-After"] == "1"
    return f"{response.status_code} {body['error']}"


async def create_over_graphql(client: httpx.AsyncClient, title: str) -> str:
    variables: dict[str, Any] = {
        "input": {
            "hostId": "host-1",
            "brandId": "brand-1",
            "title": title,
            "scheduledAt": "2030-06-01T10:00:00Z",
            "maxParticipants": 10,
        }
    }
    response = await client.post(
        "/graphql", json={"query": CREATE, "variables": variables}, headers=auth()
    )
    body = response.json()
    if body.get("data") and body["data"]["createSession"]:
        assert body["data"]["createSession"]["title"] == title
        return "created"
    return str(body["errors"][0]["extensions"]["code"])


async def burst(client: httpx.AsyncClient, label: str) -> dict[str, str]:
    """CREATES creates at once, alternating transports: each title's answer."""
    titles = [f"{label} {n}" for n in range(CREATES)]
    senders = [create_over_rest, create_over_graphql]
    answers = await asyncio.gather(
        *(senders[n % 2](client, title) for n, title in enumerate(titles))
    )
    return dict(zip(titles, answers, strict=True))


@pytest.mark.parametrize("workers", [1, 4])
async def test_a_timeout_answer_means_the_session_was_not_created(
    workers: int, settings: Settings, database_settings: dict[str, Any], tmp_path: Path
) -> None:
    limits = httpx.Limits(max_connections=IN_FLIGHT, max_keepalive_connections=IN_FLIGHT)
    answers: dict[str, str] = {}
    # How long a create takes depends on the machine: a first server, with the default
    # limit, measures it; the second gets a limit that strikes in the middle of that.
    with running_server(tmp_path, server_env(database_settings), workers=workers) as server:
        async with httpx.AsyncClient(base_url=server.url, limits=limits, timeout=60) as client:
            probe = await burst(client, "probe")
            answers.update(probe)
        # As the server measured them: the client's own queueing is not the server's time.
        took = [
            record["duration_ms"] / 1000
            for record in server.log_records()
            if record.get("logger") == "app.access" and record.get("route") != "/healthz"
        ]
    limit = statistics.median(took)
    env = server_env(database_settings, GRAPHQL_TIMEOUT_S=f"{limit:.4f}")
    with running_server(tmp_path, env, workers=workers) as server:
        async with httpx.AsyncClient(base_url=server.url, limits=limits, timeout=60) as client:
            for round_ in range(ROUNDS):
                struck = await burst(client, f"round {round_}")
                answers.update(struck)
                if set(struck.values()) - {"created"}:
                    break

    refused = {answer for answer in answers.values() if answer != "created"}
    assert refused, f"a limit of {limit:.3f} s never struck: nothing was tested"
    assert refused <= {"TIMEOUT", "503 timeout"}, refused
    told_created = {title for title, answer in answers.items() if answer == "created"}
    assert await stored_titles(settings) == told_created
