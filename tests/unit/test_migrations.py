"""The Alembic revisions build exactly the models' schema, and undo it, on each engine."""

import asyncio
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

from app.config import Settings
from app.migrations import alembic_config
from tests.helpers import throwaway_engine


async def _inspect(settings: Settings, look: Any) -> Any:
    async with throwaway_engine(settings) as engine, engine.connect() as connection:
        return await connection.run_sync(look)


def _tables(connection: sa.Connection) -> set[str]:
    return set(sa.inspect(connection).get_table_names()) - {"alembic_version"}


def _differences(connection: sa.Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, SQLModel.metadata))


async def _alembic(settings: Settings, action: str, revision: str) -> None:
    # Alembic's env.py runs its own event loop, so it gets a thread of its own.
    await asyncio.to_thread(getattr(command, action), alembic_config(settings), revision)


async def test_upgrade_from_empty_builds_the_models_schema(settings: Settings) -> None:
    await _alembic(settings, "upgrade", "head")

    assert await _inspect(settings, _differences) == []


async def test_downgrade_to_base_then_upgrade_again(settings: Settings) -> None:
    await _alembic(settings, "upgrade", "head")

    await _alembic(settings, "downgrade", "base")
    assert await _inspect(settings, _tables) == set()

    await _alembic(settings, "upgrade", "head")
    assert await _inspect(settings, _differences) == []
