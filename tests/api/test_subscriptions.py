"""sessionUpdated over WebSocket, against real servers."""

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from tests.helpers import auth, graphql, post_session, token, valid_body
from tests.server import Server, running_server, server_env
from tests.ws_client import LEGACY_WS, TRANSPORT_WS, GraphQLSocket, StalledSubscriber

pytestmark = pytest.mark.slow

FIELDS = "id registeredCount isRegistered registrationStatus waitlistCount version title"
FOLLOW = f"subscription($id: ID!) {{ sessionUpdated(id: $id) {{ {FIELDS} }} }}"
# How long an expected event may take to arrive before the test fails: generous, since
# how fast events arrive is for the benchmark to measure, not for these tests.
EVENT_TIMEOUT = 10


async def create_session(client: httpx.AsyncClient, **overrides: Any) -> str:
    response = await post_session(client, valid_body(**overrides))
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def gql(client: httpx.AsyncClient, query: str, user: str, **variables: Any) -> dict[str, Any]:
    body = await graphql(client, query, variables, headers=auth(user))
    assert "errors" not in body, body
    return body


REGISTER = "mutation($id: ID!) { registerForSession(sessionId: $id) { id } }"


async def test_subscriber_gets_the_current_state_then_each_change(server: Server) -> None:
    async with httpx.AsyncClient(base_url=server.url) as client:
        session_id = await create_session(client, max_participants=5)
        socket = await GraphQLSocket.open(server.url, token=token("watcher"))
        await socket.acknowledged()
        await socket.subscribe(FOLLOW, {"id": session_id})
        first = (await socket.next_data())["sessionUpdated"]

        await gql(client, REGISTER, "member-1", id=session_id)
        event = (await socket.next_data(timeout=EVENT_TIMEOUT))["sessionUpdated"]

        await gql(client, REGISTER, "watcher", id=session_id)
        own = (await socket.next_data(timeout=EVENT_TIMEOUT))["sessionUpdated"]
        await socket.close()

    assert (first["registeredCount"], first["version"]) == (0, 1)
    assert event["registeredCount"] == 1
    # Evaluated for the subscriber, not for whoever registered.
    assert (event["isRegistered"], event["registrationStatus"]) == (False, "NONE")
    assert event["version"] == 2
    assert (own["registeredCount"], own["isRegistered"], own["version"]) == (2, True, 3)


async def test_every_kind_of_change_is_an_event(server: Server) -> None:
    async with httpx.AsyncClient(base_url=server.url) as client:
        session_id = await create_session(client)
        socket = await GraphQLSocket.open(server.url, token=token("watcher"))
        await socket.acknowledged()
        await socket.subscribe(FOLLOW, {"id": session_id})
        await socket.next_data()
        host = "host-1"
        await gql(client, REGISTER, "m1", id=session_id)
        await gql(
            client,
            "mutation($id: ID!) { unregisterFromSession(sessionId: $id) { id } }",
            "m1",
            id=session_id,
        )
        await gql(
            client,
            'mutation($id: ID!) { updateSession(id: $id, input: {title: "new"}) { id } }',
            host,
            id=session_id,
        )
        await gql(
            client, "mutation($id: ID!) { startSession(id: $id) { id } }", host, id=session_id
        )
        await gql(client, "mutation($id: ID!) { endSession(id: $id) { id } }", host, id=session_id)
        events = [
            (await socket.next_data(timeout=EVENT_TIMEOUT))["sessionUpdated"] for _ in range(5)
        ]
        await socket.close()

    assert [event["version"] for event in events] == [2, 3, 4, 5, 6]
    assert [event["registeredCount"] for event in events] == [1, 0, 0, 0, 0]
    assert events[2]["title"] == "new"


async def test_the_legacy_graphql_ws_protocol_works_too(server: Server) -> None:
    async with httpx.AsyncClient(base_url=server.url) as client:
        session_id = await create_session(client)
        socket = await GraphQLSocket.open(server.url, token=token("old-apollo"), protocol=LEGACY_WS)
        await socket.acknowledged()
        await socket.subscribe(FOLLOW, {"id": session_id})
        first = (await socket.next_data())["sessionUpdated"]
        await gql(client, REGISTER, "m1", id=session_id)
        event = (await socket.next_data(timeout=EVENT_TIMEOUT))["sessionUpdated"]
        await socket.close()

    assert (first["registeredCount"], event["registeredCount"]) == (0, 1)


@pytest.mark.parametrize(
    "bad_token",
    [None, "not-a-jwt", token(secret="another-secret-that-is-long-enough-xx")],
    ids=["no token", "garbage", "wrong secret"],
)
async def test_connection_init_without_a_valid_token_closes_with_4403(
    server: Server, bad_token: str | None
) -> None:
    socket = await GraphQLSocket.open(server.url, token=bad_token)

    with pytest.raises(ConnectionClosed) as closed:
        await socket.receive()

    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4403


async def test_subscribing_before_connection_init_closes_with_4401(server: Server) -> None:
    import websockets

    connection = await websockets.connect(
        server.url.replace("http://", "ws://") + "/graphql", subprotocols=[TRANSPORT_WS]
    )
    await connection.send(
        '{"id": "1", "type": "subscribe", "payload": {"query": "subscription { __typename }"}}'
    )

    with pytest.raises(ConnectionClosed) as closed:
        await asyncio.wait_for(connection.recv(), 5)

    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4401


async def test_every_worker_delivers_every_event(
    database_settings: dict[str, Any], engine_name: str, tmp_path: Path
) -> None:
    # Two processes on PostgreSQL (LISTEN/NOTIFY carries events between them); SQLite is
    # one process by design (see docs/api.md), so its run checks the in-process broker.
    workers = 2 if engine_name == "postgresql" else 1
    with running_server(tmp_path, server_env(database_settings), workers=workers) as running:
        async with httpx.AsyncClient(
            base_url=running.url, limits=httpx.Limits(max_keepalive_connections=0)
        ) as client:
            session_id = await create_session(client, max_participants=50)
            sockets = [
                await GraphQLSocket.open(running.url, token=token(f"w{i}")) for i in range(8)
            ]
            for socket in sockets:
                await socket.acknowledged()
                await socket.subscribe(FOLLOW, {"id": session_id})
                await socket.next_data()
            for member in range(4):
                await gql(client, REGISTER, f"m{member}", id=session_id)
            received = [
                [
                    (await socket.next_data(timeout=EVENT_TIMEOUT))["sessionUpdated"][
                        "registeredCount"
                    ]
                    for _ in range(4)
                ]
                for socket in sockets
            ]
            for socket in sockets:
                await socket.close()

    assert received == [[1, 2, 3, 4]] * 8


async def test_a_slow_subscriber_is_dropped_without_slowing_the_others(
    database_settings: dict[str, Any], tmp_path: Path
) -> None:
    env = server_env(database_settings, SUBSCRIPTION_QUEUE_SIZE="5")
    big = {"notes": "x" * 60_000}  # every event carries it: buffers fill fast
    updates = 150  # 9 MB: more than the kernel buffers between the two ends
    query = FOLLOW.replace("title", "title metadata")
    with running_server(tmp_path, env) as running:
        async with httpx.AsyncClient(base_url=running.url) as client:
            session_id = await create_session(client, metadata=big)
            fast = await GraphQLSocket.open(running.url, token=token("fast"), max_size=None)
            await fast.acknowledged()
            await fast.subscribe(query, {"id": session_id})
            await fast.next_data()
            slow = await asyncio.to_thread(
                StalledSubscriber.connect,
                running.url,
                token("slow"),
                query,
                {"id": session_id},
                16_384,
            )

            async def follow_fast() -> list[int]:
                return [
                    (await fast.next_data(timeout=EVENT_TIMEOUT))["sessionUpdated"]["version"]
                    for _ in range(updates)
                ]

            reader = asyncio.create_task(follow_fast())
            for number in range(updates):
                await gql(
                    client,
                    "mutation($id: ID!, $t: String) { updateSession(id: $id, input: {title: $t}) { id } }",
                    "host-1",
                    id=session_id,
                    t=f"title {number}",
                )
            versions = await reader
            # The stalled one now reads what was buffered, then finds itself dropped.
            frames, code, reason = await asyncio.to_thread(slow.drain, 10)
            slow.close()
            healthy = await client.get("/healthz")
            await fast.close()

    assert versions == list(range(2, 2 + updates))
    assert code == 1013
    assert "behind" in reason
    assert frames < updates  # it was cut off, not served everything
    assert healthy.status_code == 200


async def test_a_burst_of_registrations_reaches_a_subscriber_step_by_step(server: Server) -> None:
    """Registrations combined into batches still reach subscribers one member at a
    time: every count from 1 to the last, each once, never going back."""
    members = [f"burst-{n}" for n in range(40)]
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        session_id = await create_session(client, max_participants=30)
        socket = await GraphQLSocket.open(server.url, token=token("watcher"))
        await socket.acknowledged()
        await socket.subscribe(FOLLOW, {"id": session_id})
        await socket.next_data()
        update = (
            "mutation($id: ID!) { updateSession(id: $id, input: {waitlistEnabled: true}) { id } }"
        )
        await gql(client, update, "host-1", id=session_id)
        await socket.next_data(timeout=EVENT_TIMEOUT)

        await asyncio.gather(*(gql(client, REGISTER, m, id=session_id) for m in members))
        seen = [(await socket.next_data(timeout=EVENT_TIMEOUT))["sessionUpdated"] for _ in members]
        await socket.close()

    versions = [event["version"] for event in seen]
    assert versions == sorted(versions) == list(range(versions[0], versions[0] + len(members)))
    steps = [(event["registeredCount"], event["waitlistCount"]) for event in seen]
    assert steps == [(n, 0) for n in range(1, 31)] + [(30, n) for n in range(1, 11)]
