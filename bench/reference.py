"""The floor of the stack: Starlette + SQLAlchemy Core doing W1's insert and W3's query.

No GraphQL, no ORM, no auth, no validation: the same statements against the same
database with the same engine settings (SQLite `synchronous=FULL` included).
Run as `uvicorn bench.reference:app`; configured by the same environment variables.
"""

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app.config import Settings
from app.db import create_engine
from app.heap import freeze_startup_heap
from app.models import Registration, Session
from bench.seed import session_row

SESSIONS: sa.Table = Session.__table__  # type: ignore[attr-defined]
REGISTRATIONS: sa.Table = Registration.__table__  # type: ignore[attr-defined]
# The REST response's columns (app.rest_compat.KEYS but is_registered), written out: taking
# them from the app's contract would load jsonschema's format machinery (+22 MiB) into
# the floor.
FIELDS = [
    "id",
    "host_id",
    "brand_id",
    "title",
    "kind",
    "category",
    "scheduled_at",
    "started_at",
    "ended_at",
    "status",
    "stream_call_id",
    "max_participants",
    "duration_minutes",
    "recording_url",
    "metadata",
    "created_at",
    "updated_at",
    "registered_count",
]
state: dict[str, Any] = {}


def _json(row: dict[str, Any]) -> dict[str, Any]:
    return {
        key: value.isoformat() if isinstance(value, datetime) else value
        for key, value in row.items()
    }


async def create(request: Request) -> Response:
    body = json.loads(await request.body())
    now = datetime.now(UTC)
    row = session_row(
        now,
        host_id=body["host_id"],
        brand_id=body["brand_id"],
        title=body["title"],
        kind=body.get("kind", "live"),
        scheduled_at=datetime.fromisoformat(body["scheduled_at"]),
        max_participants=body["max_participants"],
        metadata=body.get("metadata", {}),
    )
    async with state["engine"].begin() as connection:
        await connection.execute(sa.insert(SESSIONS).values(row))
    state["requests"] += 1
    return JSONResponse({**_json({k: row[k] for k in FIELDS}), "is_registered": False}, 201)


async def listing(request: Request) -> Response:
    brand, user = request.query_params["brand"], request.query_params.get("user", "member-x")
    registered = (
        sa.exists()
        .where(REGISTRATIONS.c.session_id == SESSIONS.c.id, REGISTRATIONS.c.user_id == user)
        .label("is_registered")
    )
    query = (
        sa.select(*[SESSIONS.c[name] for name in FIELDS], registered)
        .where(SESSIONS.c.brand_id == brand)
        .order_by(SESSIONS.c.scheduled_at, SESSIONS.c.id)
        .limit(50)
    )
    async with state["engine"].connect() as connection:
        rows = (await connection.execute(query)).mappings().all()
    state["requests"] += 1
    return JSONResponse([_json(dict(row)) for row in rows])


async def stats(_: Request) -> Response:
    return JSONResponse({"requests": state["requests"], "statements": state["statements"]})


@asynccontextmanager
async def lifespan(_: Starlette) -> AsyncIterator[None]:
    engine = create_engine(Settings())
    state.update(engine=engine, requests=0, statements=0)
    freeze_startup_heap()  # as the service does, so GC pauses weigh the same on both

    @sa.event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _count(*_: Any) -> None:
        state["statements"] += 1

    yield
    await engine.dispose()


app = Starlette(
    routes=[
        Route("/v1/sessions", create, methods=["POST"]),
        Route("/sessions", listing, methods=["GET"]),
        Route("/stats", stats, methods=["GET"]),
    ],
    lifespan=lifespan,
)
