"""Fan-out across processes on PostgreSQL: an outbox read by position, and wake-ups.

```
write transaction ── INSERT session_events (…, xid = pg_current_xact_id())   no NOTIFY
        │ commit
        ▼
WakeUps (after commit) ── nudges this process's relay at once
        └── flags its sender task ── NOTIFY <channel>: own connection, outside any write
                                     transaction, at most one per WAKE_INTERVAL_S per process
PostgresRelay (every process) ── LISTEN <channel>; reads the outbox on each wake-up and
        at least every EVENTS_POLL_INTERVAL_S ── Broker (in-process fan-out)
```

Why no write transaction notifies: PostgreSQL takes a database-wide lock at the commit
of every transaction that issued NOTIFY (to queue notifications in commit order), so
every write of every session on every process would serialize on it. The wake-ups
carry nothing: a lost, late or coalesced one only delays events until the next poll.

Reading by position. Ids come from a sequence at insert, but transactions commit in
any order, so "id > last seen" would skip a smaller id that commits after a larger one
was read. Each row therefore records its transaction's id, and a read works within one
snapshot: every transaction below the snapshot's xmin has ended, so every row with
`xid < xmin` that will ever exist is already visible. The relay keeps a frontier (the
last xmin: everything below it has been read) and the ids it has already delivered at
or above it. Each read returns the visible rows at or above the frontier that it has
not delivered, delivers them in id order, then moves the frontier up to the snapshot's
xmin and forgets the ids below it. So a committed event is delivered by the first read
that sees it, without waiting for older, unrelated transactions, and none is skipped.
Rows above the frontier are read again each time only as ids, and only while some
transaction that was running when they committed is still running.

Events of one session are ordered by the session's row lock (the next change cannot
start before the previous one committed), so they are delivered in version order;
subscribers drop versions they have and re-read on a gap (app.live.follow).

Each process starts from the outbox as it is (subscribers read the current state when
they subscribe), resumes from its position after a lost connection, and deletes events
older than KEEP_EVENTS.
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

from app.config import Settings
from app.events import SessionEvent
from app.live.broker import Broker
from app.outbox import advance, as_dict

logger = logging.getLogger(__name__)

KEEP_EVENTS = timedelta(minutes=10)
CLEAN_EVERY_S = 5.0
WAKE_INTERVAL_S = 0.005  # at most one NOTIFY per process per this long
QUERY_TIMEOUT_S = 10.0

_XMIN = "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS xmin"
# One snapshot: its xmin, and the visible rows at or above the frontier not delivered yet.
_READ = """
SELECT now.xmin, e.id, e.xid, e.payload
FROM (SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS xmin) AS now
LEFT JOIN session_events AS e ON e.xid >= $1 AND e.id <> ALL($2::bigint[])
ORDER BY e.id
"""
# Rows the webhook dispatcher has not read yet stay (below its frontier it has read all).
_CLEAN = """
DELETE FROM session_events
WHERE created_at < now() - $1::interval
  AND xid < coalesce((SELECT min(position) FROM webhook_dispatch), 9223372036854775807)
"""


def channel_for(settings: Settings) -> str:
    # Deployments sharing a database in different schemas must not hear each other.
    return f"session_events_{settings.database_schema or 'public'}"[:63]


async def connect(settings: Settings, application_name: str) -> Any:
    """A connection of its own, outside the service's pool (asyncpg, autocommit)."""
    url = make_url(settings.database_url)
    server_settings = {"application_name": application_name}
    if settings.database_schema:
        server_settings["search_path"] = settings.database_schema
    return await asyncpg.connect(
        host=url.host,
        port=url.port,
        user=url.username,
        password=url.password,
        database=url.database,
        server_settings=server_settings,
        timeout=settings.db_connect_timeout_s,
    )


class PostgresRelay:
    """Reads the outbox by position and publishes new events to this process's broker."""

    def __init__(
        self, settings: Settings, broker: Broker, also_wake: Sequence[Callable[[], None]] = ()
    ) -> None:
        """`also_wake`: other consumers of the outbox, told when a wake-up is heard."""
        self._settings = settings
        self._broker = broker
        self._also_wake = tuple(also_wake)
        self._channel = channel_for(settings)
        self._woken = asyncio.Event()
        self._frontier: int | None = None  # every row with a smaller xid has been read
        self._delivered: dict[int, int] = {}  # id -> xid of rows read at or above it
        self._task: asyncio.Task[None] | None = None
        self.connected = asyncio.Event()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="events-relay")
        # Subscribers that connect right after start-up must not miss events.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.connected.wait(), timeout=10)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def wake(self) -> None:
        """Read the outbox now rather than at the next poll."""
        self._woken.set()

    async def _run(self) -> None:
        poll = self._settings.events_poll_interval_s
        while True:
            connection = None
            try:
                connection = await connect(self._settings, "live-sessions-events")
                await connection.add_listener(self._channel, self._on_notify)
                if self._frontier is None:
                    await self._start_position(connection)
                else:  # catch up on what committed while we were away
                    await self._read(connection)
                self.connected.set()
                cleaned = time.monotonic()
                while True:
                    # Not asyncio.wait_for: on 3.11 it loses a cancellation that arrives
                    # as the wait ends (a wake-up right before shutdown), and stop() hangs.
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(poll):
                            await self._woken.wait()
                    self._woken.clear()  # before reading: a later wake-up reads again
                    await self._read(connection)
                    if time.monotonic() - cleaned > CLEAN_EVERY_S:
                        await connection.execute(_CLEAN, KEEP_EVENTS, timeout=QUERY_TIMEOUT_S)
                        cleaned = time.monotonic()
            except asyncio.CancelledError:
                _drop(connection)
                raise
            except Exception:
                self.connected.clear()
                logger.warning("event relay lost its connection; reconnecting", exc_info=True)
                _drop(connection)
                await asyncio.sleep(1)

    def _on_notify(self, _connection: Any, _pid: int, _channel: str, _payload: str) -> None:
        self._woken.set()
        for wake in self._also_wake:
            wake()

    async def _start_position(self, connection: Any) -> None:
        """Now: events committed before this process started are not delivered."""
        self._frontier = await connection.fetchval(_XMIN, timeout=QUERY_TIMEOUT_S)
        await self._read(connection, publish=False)

    async def _read(self, connection: Any, *, publish: bool = True) -> None:
        assert self._frontier is not None
        try:
            rows = await connection.fetch(
                _READ, self._frontier, list(self._delivered), timeout=QUERY_TIMEOUT_S
            )
        except (asyncpg.UndefinedTableError, asyncpg.UndefinedColumnError):
            return  # not migrated yet: this process writes no event either
        read = {row["id"]: row["xid"] for row in rows if row["id"] is not None}
        events = [
            SessionEvent.from_payload(as_dict(row["payload"]))
            for row in rows
            if row["id"] is not None
        ]
        self._frontier = advance(self._frontier, self._delivered, read, rows[0]["xmin"])
        if publish and events:
            self._broker.publish(events)


class WakeUps:
    """After each commit (a `Database` after-commit consumer): wake this process's relay
    at once, and every process's with a NOTIFY, coalesced to one per WAKE_INTERVAL_S.

    The NOTIFY goes on a connection of its own, outside any write transaction; a request
    never waits for it. Sending fails quietly: the relays' poll covers a lost wake-up.
    """

    def __init__(self, settings: Settings, relay: PostgresRelay) -> None:
        self._settings = settings
        self._relay = relay
        self._notify = f'NOTIFY "{channel_for(settings).replace(chr(34), chr(34) * 2)}"'
        self._pending = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.sent = 0  # NOTIFYs sent by this process, for tests and curiosity

    def __call__(self, _changes: list[Any]) -> None:
        self._relay.wake()
        self._pending.set()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._send(), name="events-wakeups")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _send(self) -> None:
        connection = None
        try:
            while True:
                await self._pending.wait()
                self._pending.clear()  # commits from now on ask for the next one
                try:
                    if connection is None or connection.is_closed():
                        connection = await connect(self._settings, "live-sessions-wakeups")
                    await connection.execute(self._notify, timeout=QUERY_TIMEOUT_S)
                    self.sent += 1
                except asyncio.CancelledError:
                    raise
                except Exception:
                    logger.warning("could not send a wake-up; relays will poll", exc_info=True)
                    _drop(connection)
                    connection = None
                    await asyncio.sleep(1)
                await asyncio.sleep(WAKE_INTERVAL_S)
        finally:
            _drop(connection)


def _drop(connection: Any) -> None:
    """Close without waiting: neither connection has anything to finish, and stopping
    must not wait for the server to acknowledge a cancelled query."""
    if connection is not None:
        with contextlib.suppress(Exception):
            connection.terminate()
