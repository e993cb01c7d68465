"""Wake-ups after commit: coalesced, sent off the request's path, never raised."""

import asyncio
from typing import Any

import pytest

from app.config import Settings
from app.live import postgres
from app.live.postgres import WakeUps

SETTINGS = Settings(database_url="postgresql+asyncpg://u@db/x", database_schema="tenant")


class FakeConnection:
    def __init__(self, fail: bool = False) -> None:
        self.sent: list[str] = []
        self.fail = fail

    def is_closed(self) -> bool:
        return False

    async def execute(self, statement: str, **_: Any) -> None:
        if self.fail:
            raise ConnectionResetError("gone")
        self.sent.append(statement)

    async def close(self, **_: Any) -> None:
        pass


class FakeRelay:
    def __init__(self) -> None:
        self.woken = 0

    def wake(self) -> None:
        self.woken += 1


async def run_wakeups(monkeypatch: pytest.MonkeyPatch, connection: FakeConnection) -> Any:
    async def connect(_settings: Settings, _name: str) -> FakeConnection:
        return connection

    monkeypatch.setattr(postgres, "connect", connect)
    relay = FakeRelay()
    wakeups = WakeUps(SETTINGS, relay)  # type: ignore[arg-type]
    await wakeups.start()
    return wakeups, relay


async def test_a_burst_of_commits_sends_one_notify_and_wakes_the_local_relay_each_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    connection = FakeConnection()
    wakeups, relay = await run_wakeups(monkeypatch, connection)
    try:
        for _ in range(100):
            wakeups([object()])  # returns at once: nothing is sent on the caller's path
        assert connection.sent == []
        await asyncio.sleep(0.05)
        assert connection.sent == ['NOTIFY "session_events_tenant"']
        wakeups([object()])
        await asyncio.sleep(0.05)
    finally:
        await wakeups.stop()

    assert len(connection.sent) == 2
    assert relay.woken == 101


async def test_a_wake_up_that_cannot_be_sent_is_dropped_quietly(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    wakeups, relay = await run_wakeups(monkeypatch, FakeConnection(fail=True))
    try:
        wakeups([object()])
        await asyncio.sleep(0.05)
    finally:
        await wakeups.stop()

    assert relay.woken == 1
    assert wakeups.sent == 0
    assert "relays will poll" in caplog.text
