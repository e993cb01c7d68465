"""The async engine, its per-engine connection settings, and transaction scopes.

A write transaction also carries the changes its code records (`record_change`) to
whatever consumers the app wired at start: some run inside the transaction, just before
it commits (the PostgreSQL outbox), others after it committed (this process's live
updates). This module knows nothing of what a change is or who consumes it.
"""

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event, exc
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection
from sqlmodel.ext.asyncio.session import AsyncSession

from app.config import Settings
from app.deadline import committing
from app.metrics import DB_STATEMENTS

_BEGIN_MODE = "sqlite_begin"
_CHANGES = "live_sessions_changes"  # key in AsyncSession.info

# Consumers of a transaction's recorded changes, in the order they were recorded.
BeforeCommit = Callable[[AsyncSession, list[Any]], Awaitable[None]]
AfterCommit = Callable[[list[Any]], None]


def record_change(s: AsyncSession, change: object) -> None:
    """Hand `change` to the transaction's consumers (see the module docstring)."""
    s.info.setdefault(_CHANGES, []).append(change)


def recorded_changes(s: AsyncSession) -> list[Any]:
    """The changes recorded so far in this transaction, in order (not consumed)."""
    changes: list[Any] = s.info.get(_CHANGES, [])
    return changes


def _recorded(s: AsyncSession) -> list[Any]:
    changes: list[Any] = s.info.pop(_CHANGES, [])
    return changes


def create_engine(settings: Settings) -> AsyncEngine:
    """Build the engine for `settings.database_url` with the engine's durability settings."""
    engine = _sqlite_engine(settings) if settings.is_sqlite else _postgresql_engine(settings)

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _count(*_: Any) -> None:
        DB_STATEMENTS.inc()

    return engine


def _pool_options(settings: Settings) -> dict[str, Any]:
    return {
        "pool_size": settings.db_pool_size,
        "max_overflow": settings.db_max_overflow,
        "pool_timeout": settings.db_pool_timeout_s,
    }


def _sqlite_engine(settings: Settings) -> AsyncEngine:
    engine = create_async_engine(settings.database_url, **_pool_options(settings))
    busy_timeout = settings.sqlite_busy_timeout_ms

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from the driver so BEGIN is ours to issue (below).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # FULL: a 201 must survive a power cut, as it does on PostgreSQL.
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # A deferred transaction that later writes fails with "database is locked"
        # without waiting; writers take the lock up front with BEGIN IMMEDIATE.
        mode = connection.get_execution_options().get(_BEGIN_MODE, "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")

    return engine


def _postgresql_engine(settings: Settings) -> AsyncEngine:
    server_settings: dict[str, str] = {
        "timezone": "UTC",
        "statement_timeout": str(settings.db_statement_timeout_ms),
        "application_name": "live-sessions",
    }
    if settings.database_schema:
        server_settings["search_path"] = settings.database_schema
    engine = create_async_engine(
        settings.database_url,
        connect_args={
            "server_settings": server_settings,
            "timeout": settings.db_connect_timeout_s,
        },
        **_pool_options(settings),
    )
    _ping_after_idle(engine, settings.db_ping_after_idle_s)
    return engine


def _ping_after_idle(engine: AsyncEngine, idle_s: float) -> None:
    """Ping a pooled connection before use only when it has been idle for `idle_s`.

    A server can drop a pooled connection (restart, failover, a proxy's idle timeout);
    `pool_pre_ping` finds out with a round trip on every checkout, a fifth of a create's
    round trips. A connection that answered less than `idle_s` ago is used without one.
    One dropped while in use fails its request, and SQLAlchemy then invalidates the
    pool's older connections, so the next checkouts reconnect. (A file cannot drop:
    SQLite never pings.)
    """
    dialect = engine.dialect
    sync_pool = engine.sync_engine.pool

    @event.listens_for(sync_pool, "checkin")
    def _on_checkin(_dbapi: Any, record: ConnectionPoolEntry) -> None:
        record.info["last_used"] = time.monotonic()

    @event.listens_for(sync_pool, "checkout")
    def _on_checkout(
        dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: PoolProxiedConnection
    ) -> None:
        last_used = record.info.get("last_used")
        if last_used is None or time.monotonic() - last_used <= idle_s:
            return  # new (it just connected) or recently used
        try:
            dialect.do_ping(dbapi_connection)
        except Exception as error:
            # The pool discards it and checks out another (or a new) connection.
            raise exc.DisconnectionError("the pooled connection is gone") from error


def for_writers(engine: AsyncEngine) -> AsyncEngine:
    """`engine` for write transactions: on SQLite they BEGIN IMMEDIATE (see above)."""
    return engine.execution_options(**{_BEGIN_MODE: "IMMEDIATE"})


class Database:
    """Session factories over one engine: short read scopes and write transactions.

    The request context carries this object, never a live session: Strawberry resolves
    sibling fields concurrently, and one AsyncSession cannot serve two of them at once.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        before_commit: Sequence[BeforeCommit] = (),
        after_commit: Sequence[AfterCommit] = (),
    ) -> None:
        """Each transaction's recorded changes go to `before_commit` consumers inside it,
        and to `after_commit` consumers once it has committed."""
        self.engine = engine
        self._before_commit = tuple(before_commit)
        self._after_commit = tuple(after_commit)
        # SQLite has one writer at a time; writers of this process queue here instead of
        # polling the file lock (busy_timeout sleeps, which make the latency tail). Only a
        # courtesy: BEGIN IMMEDIATE still serializes writers across processes.
        self._writers_queue = asyncio.Lock() if engine.dialect.name == "sqlite" else None
        self._reader = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
        self._single_statement = (
            engine.execution_options(isolation_level="AUTOCOMMIT")
            if engine.dialect.name == "postgresql"
            else engine
        )
        self._writer = async_sessionmaker(
            for_writers(engine),
            class_=AsyncSession,
            expire_on_commit=False,
        )

    @asynccontextmanager
    async def transaction(self, *, final: bool = True) -> AsyncIterator[AsyncSession]:
        """One write transaction: committed when the block exits, rolled back on error.

        `final`: its commit is the operation's outcome, so the operation's time limit
        stops applying once it starts (see app.deadline); False for preliminary writes
        that a failure undoes.
        """
        async with self._writers_queue or contextlib.nullcontext(), self._writer() as session:
            transaction = await session.begin()
            try:
                yield session
                changes = _recorded(session)
                if changes:
                    for consume in self._before_commit:
                        await consume(session, changes)
            except BaseException:
                await transaction.rollback()
                raise
            async with committing(final=final):
                await transaction.commit()
        if changes:
            for publish in self._after_commit:
                publish(changes)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A read-only scope; whatever it leaves open is rolled back."""
        async with self._reader() as session:
            yield session

    @asynccontextmanager
    async def single_statement(self) -> AsyncIterator[AsyncConnection]:
        """A connection for one read-only statement. On PostgreSQL it runs outside any
        transaction block (a statement reads one snapshot either way), which spares the
        BEGIN and ROLLBACK round trips a transaction would add; SQLite's are in-process."""
        async with self._single_statement.connect() as connection:
            yield connection

    async def dispose(self) -> None:
        await self.engine.dispose()
