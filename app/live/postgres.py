"""Fan-out across processes on PostgreSQL: an outbox table and LISTEN/NOTIFY.

Inside the transaction that changes a session, the event row is inserted and its id
NOTIFYed; PostgreSQL delivers notifications only after commit, in commit order, to
every listening connection, in every process and on every machine. Each process
keeps one listening connection, reads each notified event by id and hands it to its
in-process broker. After a lost connection it replays what it missed from the table.
"""

import asyncio
import contextlib
import json
import logging
from datetime import timedelta
from typing import Any

import asyncpg
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.config import Settings
from app.events import SessionEvent
from app.live.broker import Broker
from app.models import SessionEventRecord

logger = logging.getLogger(__name__)

EVENTS: sa.Table = SessionEventRecord.__table__  # type: ignore[attr-defined]
KEEP_EVENTS = timedelta(minutes=10)


def channel_for(settings: Settings) -> str:
    # Deployments sharing a database in different schemas must not hear each other.
    return f"session_events_{settings.database_schema or 'public'}"[:63]


async def write_outbox(s: AsyncSession, events: list[SessionEvent], channel: str) -> None:
    """Within the committing transaction: persist each event and notify its id."""
    for event in events:
        inserted = await s.exec(
            sa.insert(EVENTS)
            .values(
                session_id=event.session_id,
                version=event.version,
                payload=event.to_payload(),
                created_at=sa.func.now(),
            )
            .returning(EVENTS.c.id)
        )
        event_id = inserted.scalar_one()
        await s.exec(select(sa.func.pg_notify(channel, str(event_id))))


class PostgresRelay:
    """Listens for notified events and publishes them to this process's broker."""

    def __init__(self, settings: Settings, broker: Broker, engine: AsyncEngine) -> None:
        self._settings = settings
        self._broker = broker
        self._engine = engine  # the service's pool, for reading notified events
        self._channel = channel_for(settings)
        self._ids: asyncio.Queue[int] = asyncio.Queue()
        self._last_id: int | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self.connected = asyncio.Event()

    async def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._listen(), name="events-listen"),
            asyncio.create_task(self._deliver(), name="events-deliver"),
        ]
        # Subscribers that connect right after start-up must not miss events.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.connected.wait(), timeout=10)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _connect(self) -> Any:
        url = make_url(self._settings.database_url)
        server_settings = {"application_name": "live-sessions-events"}
        if self._settings.database_schema:
            server_settings["search_path"] = self._settings.database_schema
        return await asyncpg.connect(
            host=url.host,
            port=url.port,
            user=url.username,
            password=url.password,
            database=url.database,
            server_settings=server_settings,
            timeout=self._settings.db_connect_timeout_s,
        )

    async def _listen(self) -> None:
        while True:
            connection = None
            try:
                connection = await self._connect()
                await connection.add_listener(self._channel, self._on_notify)
                await self._replay(connection)
                self.connected.set()
                while True:  # notifications arrive on their own; this notices a dead link
                    await asyncio.sleep(5)
                    await connection.execute("SELECT 1")
                    await connection.execute(
                        "DELETE FROM session_events WHERE created_at < now() - $1::interval",
                        KEEP_EVENTS,
                    )
            except asyncio.CancelledError:
                raise
            except Exception:
                self.connected.clear()
                logger.warning("event listener lost its connection; reconnecting", exc_info=True)
                await asyncio.sleep(1)
            finally:
                if connection is not None:
                    with contextlib.suppress(Exception):
                        await connection.close(timeout=2)

    def _on_notify(self, _connection: Any, _pid: int, _channel: str, payload: str) -> None:
        self._ids.put_nowait(int(payload))

    async def _replay(self, connection: Any) -> None:
        """Events committed while we were not listening (none on the first connect)."""
        if self._last_id is None:
            try:
                row = await connection.fetchrow("SELECT max(id) AS id FROM session_events")
            except asyncpg.UndefinedTableError:  # not migrated yet: no event can exist
                self._last_id = 0
                return
            self._last_id = row["id"] or 0
            return
        rows = await connection.fetch(
            "SELECT id FROM session_events WHERE id > $1 ORDER BY id", self._last_id
        )
        for row in rows:
            self._ids.put_nowait(row["id"])

    async def _deliver(self) -> None:
        """One at a time, in notification order, so subscribers see commit order."""
        while True:
            event_id = await self._ids.get()
            try:
                async with self._engine.connect() as connection:
                    result = await connection.execute(
                        sa.select(EVENTS.c.payload).where(EVENTS.c.id == event_id)
                    )
                    payload = result.scalar_one_or_none()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.warning("could not read event %s", event_id, exc_info=True)
                continue
            self._last_id = max(self._last_id or 0, event_id)
            if payload is not None:
                self._broker.publish([SessionEvent.from_payload(_as_dict(payload))])


def _as_dict(payload: Any) -> dict[str, Any]:
    # asyncpg hands JSONB over as text unless a codec is registered.
    loaded: dict[str, Any] = json.loads(payload) if isinstance(payload, str) else dict(payload)
    return loaded
