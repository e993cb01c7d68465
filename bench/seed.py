"""Seeds a fresh database with sessions and registrations, through the real migrations."""

import asyncio
import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import sqlalchemy as sa
from alembic import command

from app.config import Settings
from app.db import create_engine
from app.migrations import alembic_config
from app.models import Registration, RegistrationStatus, Session

SESSIONS: sa.Table = Session.__table__  # type: ignore[attr-defined]
REGISTRATIONS: sa.Table = Registration.__table__  # type: ignore[attr-defined]
BRANDS = 20
CHUNK = 5_000


@dataclass(frozen=True)
class Dataset:
    session_ids: list[str]  # a sample, for by-id lookups
    roomy_ids: list[str]  # sessions with room for every W5 registration
    brands: list[str]


def session_row(now: datetime, **fields: Any) -> dict[str, Any]:
    """A complete `sessions` row as a fresh SCHEDULED session, with `fields` set."""
    return {
        "id": str(uuid.uuid4()),
        "kind": "live",
        "category": None,
        "started_at": None,
        "ended_at": None,
        "status": "scheduled",
        "stream_call_id": None,
        "duration_minutes": None,
        "recording_url": None,
        "metadata": {},
        "created_at": now,
        "updated_at": now,
        "registered_count": 0,
        "waitlist_enabled": False,
        "waitlist_count": 0,
        "waitlist_tickets": 0,
        "version": 1,
        **fields,
    }


def _session_row(index: int, now: datetime, rng: random.Random, capacity: int) -> dict[str, Any]:
    return session_row(
        now,
        id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        host_id=f"host-{index % 500}",
        brand_id=f"brand-{index % BRANDS}",
        title=f"Session {index}",
        kind="live" if index % 3 else "office_hours",
        scheduled_at=now + timedelta(minutes=rng.randrange(0, 60 * 24 * 365)),
        max_participants=capacity,
        metadata={"level": "all"},
    )


async def seed(
    settings: Settings, sessions: int, registrations: int, seed_value: int = 7
) -> Dataset:
    await asyncio.to_thread(command.upgrade, alembic_config(settings), "head")
    rng = random.Random(seed_value)
    now = datetime.now(UTC)
    rows = [_session_row(index, now, rng, 100) for index in range(sessions)]
    roomy = [_session_row(sessions + index, now, rng, 1_000_000) for index in range(20)]
    # Every regular session seats members member-0 .. member-(k-1); the roomy ones stay
    # empty for W5. One INSERT ... SELECT: built row by row in Python, 20 million
    # registrations took minutes.
    per_session = min(registrations // max(sessions, 1), 100)
    members = sa.union_all(
        *(sa.select(sa.literal(f"member-{index}").label("user_id")) for index in range(per_session))
    ).subquery("members")
    regular = SESSIONS.c.max_participants == 100
    engine = create_engine(settings)
    if settings.is_sqlite:

        @sa.event.listens_for(engine.sync_engine, "connect")
        def _big_cache(dbapi_connection: Any, _record: Any) -> None:
            # Random-order index inserts thrash SQLite's default 2 MB page cache: 1 GB
            # makes 20 million registrations take minutes instead of most of an hour.
            dbapi_connection.execute("PRAGMA cache_size=-1000000")

    try:
        async with engine.begin() as connection:
            for start in range(0, len(rows), CHUNK):
                await connection.execute(sa.insert(SESSIONS), rows[start : start + CHUNK])
            await connection.execute(sa.insert(SESSIONS), roomy)
            if per_session:
                seated = (
                    sa.select(
                        SESSIONS.c.id,
                        members.c.user_id,
                        sa.literal(now, REGISTRATIONS.c.created_at.type),
                        sa.literal(RegistrationStatus.REGISTERED.value),
                        sa.null(),
                    )
                    .select_from(SESSIONS.join(members, sa.true()))
                    .where(regular)
                    # In key order, every index grows at its end instead of at random.
                    .order_by(SESSIONS.c.id, members.c.user_id)
                )
                columns = ["session_id", "user_id", "created_at", "status", "ticket"]
                await connection.execute(sa.insert(REGISTRATIONS).from_select(columns, seated))
                await connection.execute(
                    sa.update(SESSIONS).values(registered_count=per_session).where(regular)
                )
        async with engine.begin() as connection:
            # Planner statistics, as a deployment that has run a while would have them.
            await connection.exec_driver_sql("ANALYZE")
    finally:
        await engine.dispose()
    sample = [row["id"] for row in rng.sample(rows, min(1000, len(rows)))]
    return Dataset(sample, [row["id"] for row in roomy], [f"brand-{i}" for i in range(BRANDS)])


async def fresh_database(engine: str, postgres_url: str, directory: Path) -> dict[str, str]:
    """Environment for the servers: a new SQLite file, or a new schema in PostgreSQL."""
    if engine == "sqlite":
        return {"DATABASE_URL": f"sqlite+aiosqlite:///{directory / 'bench.db'}"}
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    connection = await asyncpg.connect(postgres_url.replace("+asyncpg", ""))
    await connection.execute(f'CREATE SCHEMA "{schema}"')
    await connection.close()
    return {"DATABASE_URL": postgres_url, "DATABASE_SCHEMA": schema}


async def drop_database(postgres_url: str, env: dict[str, str]) -> None:
    """Drop what `fresh_database` made in PostgreSQL (a SQLite file goes with its folder)."""
    if "DATABASE_SCHEMA" in env:
        connection = await asyncpg.connect(postgres_url.replace("+asyncpg", ""))
        await connection.execute(f'DROP SCHEMA "{env["DATABASE_SCHEMA"]}" CASCADE')
        await connection.close()


def seeding_settings(env: dict[str, str]) -> Settings:
    """Settings for seeding the database `fresh_database` made (no statement timeout:
    a million rows take a while)."""
    return Settings(
        database_url=env["DATABASE_URL"],
        database_schema=env.get("DATABASE_SCHEMA"),
        db_statement_timeout_ms=0,
        auth_jwt_secret=env["AUTH_JWT_SECRET"],
    )
