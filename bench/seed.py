"""Seeds a fresh database with sessions and registrations, through the real migrations."""

import asyncio
import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from alembic import command

from app.config import Settings
from app.db import create_engine
from app.migrations import alembic_config
from app.models import Registration, Session

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
    per_session = registrations // max(sessions, 1)
    counts: dict[str, int] = {}
    engine = create_engine(settings)
    try:
        async with engine.begin() as connection:
            for start in range(0, len(rows), CHUNK):
                await connection.execute(sa.insert(SESSIONS), rows[start : start + CHUNK])
            await connection.execute(sa.insert(SESSIONS), roomy)
            batch: list[dict[str, Any]] = []
            for row in rows:
                taken = min(per_session, row["max_participants"])
                counts[row["id"]] = taken
                for member in range(taken):
                    batch.append(
                        {
                            "session_id": row["id"],
                            "user_id": f"member-{member}",
                            "created_at": now,
                            "status": "registered",
                            "ticket": None,
                        }
                    )
                if len(batch) >= CHUNK:
                    await connection.execute(sa.insert(REGISTRATIONS), batch)
                    batch = []
            if batch:
                await connection.execute(sa.insert(REGISTRATIONS), batch)
            await connection.execute(
                sa.update(SESSIONS)
                .values(registered_count=min(per_session, 100))
                .where(SESSIONS.c.max_participants == 100)
            )
    finally:
        await engine.dispose()
    sample = [row["id"] for row in rng.sample(rows, min(1000, len(rows)))]
    return Dataset(sample, [row["id"] for row in roomy], [f"brand-{i}" for i in range(BRANDS)])
