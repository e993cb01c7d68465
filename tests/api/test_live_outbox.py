"""Events travel through the outbox without any write transaction issuing NOTIFY.

On PostgreSQL each process's relay reads the outbox by position; wake-ups only shorten
its wait. On SQLite (one process) events go from the commit to the broker directly; the
same scenarios check that there.
"""

import asyncio
import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, nullcontext
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlmodel.ext.asyncio.session import AsyncSession

from app.config import Settings
from app.db import Database, create_engine, record_change
from app.events import SessionEvent
from app.live.broker import Broker, Overflow, Subscription
from app.live.postgres import PostgresRelay, channel_for
from app.outbox import write_outbox
from tests.helpers import POSTGRES_URL, app_client, auth, graphql, post_session, token, valid_body
from tests.server import running_server, server_env
from tests.tcp_proxy import TcpProxy
from tests.ws_client import GraphQLSocket

REGISTER = "mutation($id: ID!) { registerForSession(sessionId: $id) { id } }"
FOLLOW = "subscription($id: ID!) { sessionUpdated(id: $id) { registeredCount version } }"
NOTIFY = re.compile(r"\b(pg_)?notify\b", re.IGNORECASE)


async def next_event(subscription: Subscription, timeout: float = 5) -> SessionEvent:
    event = await asyncio.wait_for(subscription.queue.get(), timeout)
    assert not isinstance(event, Overflow)
    return event


@asynccontextmanager
async def listening(settings: Settings) -> AsyncIterator[tuple[Any, list[int]]]:
    """A connection of the test's own, LISTENing on the service's channel: it and the
    backend pid of every notification's sender."""
    assert POSTGRES_URL is not None
    connection = await asyncpg.connect(POSTGRES_URL.replace("postgresql+asyncpg", "postgresql"))
    senders: list[int] = []
    await connection.add_listener(
        channel_for(settings), lambda _c, pid, _ch, _payload: senders.append(pid)
    )
    try:
        yield connection, senders
    finally:
        await connection.close()


async def test_no_write_transaction_issues_notify(engine_name: str, schema_ready: Settings) -> None:
    executed: list[str] = []
    rows: list[Any] = []

    def log(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        executed.append(statement)

    async with listening_if(engine_name, schema_ready) as (listener, senders):
        event.listen(Engine, "before_cursor_execute", log)
        try:
            async with app_client(schema_ready) as client:
                session_id = (await post_session(client, valid_body())).json()["id"]
                for member in range(5):
                    body = await graphql(
                        client, REGISTER, {"id": session_id}, headers=auth(f"m{member}")
                    )
                    assert "errors" not in body, body
                if listener is not None:
                    await wait_until(lambda: len(senders) > 0)
                    # Who sent them, and in what state that connection is now.
                    rows = await listener.fetch(
                        "SELECT pid, application_name, state, backend_xid"
                        " FROM pg_stat_activity WHERE pid = ANY($1::int[])",
                        sorted(set(senders)),
                    )
        finally:
            event.remove(Engine, "before_cursor_execute", log)

    # On PostgreSQL the writes carry their events (and places) in a WITH.
    writes = [s for s in executed if s.lstrip().upper().startswith(("INSERT", "UPDATE", "WITH"))]
    assert len(writes) >= 6  # the statements were seen: the create, the registrations
    assert [s for s in executed if NOTIFY.search(s)] == []
    if listener is not None:
        # Every notification came from the wake-up connection, which sits idle, outside
        # any transaction, between them; never from a connection of the service's pool.
        assert [(r["application_name"], r["state"], r["backend_xid"]) for r in rows] == [
            ("live-sessions-wakeups", "idle", None)
        ]


@asynccontextmanager
async def listening_if(
    engine_name: str, settings: Settings
) -> AsyncIterator[tuple[Any, list[int]]]:
    if engine_name != "postgresql":
        yield None, []
        return
    async with listening(settings) as listened:
        yield listened


async def wait_until(condition: Any, timeout: float = 5) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.01)


async def test_an_event_committed_before_an_earlier_one_loses_neither(
    engine_name: str, schema_ready: Settings
) -> None:
    # A writes its outbox row first (the smaller id) but commits last; a reader that
    # only asked for ids above the last one it read would skip A.
    broker = Broker()
    held, release = asyncio.Event(), asyncio.Event()

    async def hold_a(_s: AsyncSession, changes: list[Any]) -> None:
        if any(change.session_id == "a" for change in changes):
            held.set()
            await release.wait()

    relay: PostgresRelay | None = None
    if engine_name == "postgresql":
        relay = PostgresRelay(schema_ready, broker)
        db = Database(
            create_engine(schema_ready),
            before_commit=[write_outbox, hold_a],
            after_commit=[lambda _changes: relay.wake() if relay else None],
        )
        await relay.start()
    else:
        db = Database(
            create_engine(schema_ready), before_commit=[hold_a], after_commit=[broker.publish]
        )
    a, b = broker.subscribe("a"), broker.subscribe("b")

    async def write(session_id: str) -> None:
        async with db.transaction() as s:
            record_change(s, SessionEvent(session_id, 2, {"id": session_id}))

    try:
        writing_a = asyncio.create_task(write("a"))
        await asyncio.wait_for(held.wait(), 5)
        if relay is not None:
            await write("b")
            # B is delivered while A, which began first, is still open.
            assert (await next_event(b, timeout=2)).session_id == "b"
            release.set()
        else:
            # SQLite has one writer at a time: B waits for A, and commits after it.
            writing_b = asyncio.create_task(write("b"))
            await asyncio.sleep(0.1)
            assert not writing_b.done()
            release.set()
            await writing_b
            assert (await next_event(b)).session_id == "b"
        await writing_a
        assert (await next_event(a)).session_id == "a"
    finally:
        release.set()
        if relay is not None:
            await relay.stop()
        await db.dispose()


@pytest.mark.slow
async def test_events_reach_another_process_with_every_wake_up_dropped(
    engine_name: str, database_settings: dict[str, Any], tmp_path: Path
) -> None:
    # No wake-up is sent, so only the relays' poll moves events between processes: each
    # arrives within the poll interval (plus a margin for a busy machine). On PostgreSQL
    # the writes go through one server and the subscriber listens on another; SQLite is
    # one process by design, so there both are the same server.
    poll = 0.3
    env = server_env(database_settings, EVENTS_WAKEUPS="false", EVENTS_POLL_INTERVAL_S=str(poll))
    servers = 2 if engine_name == "postgresql" else 1
    with (
        running_server(tmp_path, env) as writer_server,
        (
            running_server(tmp_path, env) if servers == 2 else nullcontext(writer_server)
        ) as subscriber_server,
    ):
        async with httpx.AsyncClient(base_url=writer_server.url) as client:
            created = await post_session(client, valid_body(max_participants=10))
            session_id = created.json()["id"]
            socket = await GraphQLSocket.open(subscriber_server.url, token=token("watcher"))
            await socket.acknowledged()
            await socket.subscribe(FOLLOW, {"id": session_id})
            await socket.next_data()
            delays, counts = [], []
            for member in range(5):
                body = await graphql(
                    client, REGISTER, {"id": session_id}, headers=auth(f"m{member}")
                )
                committed = time.monotonic()
                assert "errors" not in body, body
                data = (await socket.next_data(timeout=10))["sessionUpdated"]
                delays.append(time.monotonic() - committed)
                counts.append(data["registeredCount"])
            await socket.close()

    assert counts == [1, 2, 3, 4, 5]
    assert max(delays) < poll + 1.0, delays


async def test_events_committed_while_the_relay_was_disconnected_are_delivered(
    engine_name: str, schema_ready: Settings
) -> None:
    broker = Broker()
    subscription = broker.subscribe("s")
    writer = Database(
        create_engine(schema_ready),
        before_commit=[write_outbox] if engine_name == "postgresql" else [],
        after_commit=[] if engine_name == "postgresql" else [broker.publish],
    )

    async def write(version: int) -> None:
        async with writer.transaction() as s:
            record_change(s, SessionEvent("s", version, {"id": "s"}))

    if engine_name != "postgresql":  # no relay: the commit publishes
        await write(2)
        assert (await next_event(subscription)).version == 2
        await writer.dispose()
        return
    assert POSTGRES_URL is not None
    target = make_url(POSTGRES_URL)
    proxy = TcpProxy(target.host or "127.0.0.1", target.port or 5432)
    await proxy.start()
    through_proxy = schema_ready.model_copy(
        update={"database_url": target.set(port=proxy.port).render_as_string(False)}
    )
    relay = PostgresRelay(through_proxy, broker)
    await relay.start()
    try:
        await write(2)
        relay.wake()
        assert (await next_event(subscription)).version == 2
        await proxy.cut()
        await write(3)
        await write(4)
        await proxy.start()
        versions = [(await next_event(subscription, timeout=10)).version for _ in range(2)]
    finally:
        await relay.stop()
        await proxy.close()
        await writer.dispose()

    assert versions == [3, 4]
