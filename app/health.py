"""Liveness and readiness."""

import asyncio
import sqlite3
from contextlib import closing
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy.exc import DBAPIError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from app.config import Settings
from app.db import Database
from app.metrics import exposition, observe_pool
from app.migrations import alembic_config

READY_TIMEOUT_S = 3.0


def migration_head(settings: Settings) -> str | None:
    return ScriptDirectory.from_config(alembic_config(settings)).get_current_head()


async def readiness_problem(db: Database, settings: Settings, head: str | None) -> str | None:
    """Why this process cannot serve traffic now, or None when it can."""
    try:
        async with asyncio.timeout(READY_TIMEOUT_S):
            if settings.sqlite_path is not None:
                version = await asyncio.to_thread(_sqlite_revision, settings.sqlite_path)
            else:
                version = await _pooled_revision(db)
    except (DBAPIError, sqlite3.Error, OSError, TimeoutError) as error:
        return f"database unreachable: {type(error).__name__}: {error}".strip()
    if version != head:
        return f"database schema is at revision {version}, this code needs {head}"
    return None


async def _pooled_revision(db: Database) -> str | None:
    async with db.engine.connect() as connection:
        await connection.exec_driver_sql("SELECT 1")
        try:
            result = await connection.exec_driver_sql("SELECT version_num FROM alembic_version")
        except DBAPIError:
            return None
        return result.scalar_one_or_none()


def _sqlite_revision(path: Path) -> str | None:
    # A fresh read-write connection that may not create the file: pooled connections
    # keep a vanished or replaced database file open and would answer regardless.
    with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=rw", uri=True)) as connection:
        try:
            row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
        except sqlite3.OperationalError as error:
            if "no such table" in str(error):
                return None
            raise
        return None if row is None else str(row[0])


async def healthz(_: Request) -> JSONResponse:
    """The process is alive; says nothing about the database."""
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> JSONResponse:
    state = request.state
    problem = await readiness_problem(state.db, state.settings, state.migration_head)
    if problem is not None:
        return JSONResponse({"status": "unavailable", "reason": problem}, status_code=503)
    return JSONResponse({"status": "ready"})


async def metrics(request: Request) -> Response:
    settings: Settings = request.state.settings
    observe_pool(request.state.db.engine.sync_engine.pool, settings.pool_capacity)
    body, content_type = exposition()
    return Response(body, media_type=content_type)
