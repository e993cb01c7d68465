"""A fresh, throwaway database for one bench run: a SQLite file, or a PostgreSQL schema
dropped afterwards. Yields the settings `tests.server.server_env` takes."""

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg


@asynccontextmanager
async def fresh_database(
    directory: Path, postgres_url: str | None
) -> AsyncIterator[dict[str, str]]:
    """SQLite in `directory` when `postgres_url` is None."""
    if postgres_url is None:
        yield {"database_url": f"sqlite+aiosqlite:///{directory / 'bench.db'}"}
        return
    schema = f"bench_{uuid.uuid4().hex}"
    connection = await asyncpg.connect(postgres_url.replace("+asyncpg", ""))
    await connection.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield {"database_url": postgres_url, "database_schema": schema}
    finally:
        await connection.execute(f'DROP SCHEMA "{schema}" CASCADE')
        await connection.close()
