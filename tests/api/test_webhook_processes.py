"""Webhooks across real server processes: several workers share the work without
sending anything twice, and kill -9 mid-delivery loses nothing."""

import asyncio
import os
import signal
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.helpers import auth, graphql, session_input
from tests.server import running_server, server_env
from tests.webhook_receiver import HANG, Receiver, receiver

pytestmark = pytest.mark.slow


def admin() -> dict[str, str]:
    return auth("brand-admin", ["webhooks:admin"])


BRAND = "brand-1"
WEBHOOKS_ENV = {
    "WEBHOOKS_ALLOW_INSECURE": "true",
    "WEBHOOKS_RETRY_SCHEDULE_S": "[0.2, 0.2, 0.2]",
    "WEBHOOKS_POLL_INTERVAL_S": "0.1",
    "WEBHOOKS_TIMEOUT_S": "2",
    "WEBHOOKS_LEASE_S": "3",
}
CREATE_ENDPOINT = """
mutation($input: CreateWebhookEndpointInput!) {
  createWebhookEndpoint(input: $input) { endpoint { id } }
}"""
CREATE_SESSION = "mutation($input: CreateSessionInput!) { createSession(input: $input) { id } }"
REGISTER = "mutation($id: ID!) { registerForSession(sessionId: $id) { id } }"
TYPES = ["SESSION_CREATED", "REGISTRATION_CREATED"]


async def add_endpoint(client: httpx.AsyncClient, target: Receiver) -> None:
    variables = {"input": {"brandId": BRAND, "url": target.url, "eventTypes": TYPES}}
    body = await graphql(client, CREATE_ENDPOINT, variables, headers=admin())
    assert "errors" not in body, body


async def new_session(client: httpx.AsyncClient) -> str:
    body = await graphql(client, CREATE_SESSION, {"input": session_input(brandId=BRAND)})
    assert "errors" not in body, body
    session_id: str = body["data"]["createSession"]["id"]
    return session_id


async def register(client: httpx.AsyncClient, session_id: str, member: str) -> None:
    body = await graphql(client, REGISTER, {"id": session_id}, headers=auth(member))
    assert "errors" not in body, body


def messages(target: Receiver) -> Counter[str]:
    return Counter(item.headers["webhook-id"] for item in target.received)


async def test_four_workers_deliver_each_event_to_each_endpoint_exactly_once(
    database_settings: dict[str, Any], tmp_path: Path
) -> None:
    sessions, members = 6, 5
    expected = sessions * (1 + members)
    env = server_env(database_settings, **WEBHOOKS_ENV)
    async with receiver() as first, receiver() as second:
        with running_server(tmp_path, env, workers=4) as server:
            async with httpx.AsyncClient(base_url=server.url, timeout=60) as client:
                await add_endpoint(client, first)
                await add_endpoint(client, second)
                created = await asyncio.gather(*(new_session(client) for _ in range(sessions)))
                await asyncio.gather(
                    *(
                        register(client, session_id, f"member-{n}")
                        for session_id in created
                        for n in range(members)
                    )
                )
                await first.wait_for(expected, timeout=60)
                await second.wait_for(expected, timeout=60)
                await asyncio.sleep(1)  # time for a duplicate to show, were there one

    for target in (first, second):
        assert len(target.received) == expected
        assert set(messages(target).values()) == {1}
    assert messages(first) == messages(second)  # one webhook-id per message


async def test_kill_9_mid_delivery_loses_nothing(
    database_settings: dict[str, Any], tmp_path: Path
) -> None:
    env = server_env(database_settings, **WEBHOOKS_ENV)
    async with receiver(script=[HANG]) as target:
        with running_server(tmp_path, env) as server:
            async with httpx.AsyncClient(base_url=server.url, timeout=60) as client:
                await add_endpoint(client, target)
                session_id = await new_session(client)
                await target.wait_for(1)  # under way, and the receiver is not answering
                for n in range(5):
                    await register(client, session_id, f"member-{n}")
            os.kill(server.process.pid, signal.SIGKILL)
            server.process.wait()
        assert len(target.received) == 1

        with running_server(tmp_path, env) as server:
            await target.wait_for(7, timeout=30)
            await asyncio.sleep(1)

    seen = messages(target)
    first_id = target.received[0].headers["webhook-id"]
    assert seen[first_id] == 2  # sent again after the restart, with the same id
    assert len(seen) == 6
    assert sum(seen.values()) == 7
    kinds = [item.payload["type"] for item in target.received[1:]]
    assert kinds == ["session.created"] + ["registration.created"] * 5
