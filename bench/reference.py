"""The floor: the bench's requests answered by hand, with Starlette and SQLAlchemy Core.

What a competent engineer would write for exactly these requests without a framework:
the same HTTP requests as the service (`POST /v1/sessions`, and `POST /graphql` bodies
told apart by their `operationName`, as a persisted-query table would), the same
answers (keys, order, date-time format), the same token checks and the same engine
settings, and nothing the requests do not need. See bench/README.md, "The floor".
Run as `uvicorn bench.reference:app`; configured by the same environment variables.
"""

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app import rfc3339
from app.auth import (
    SCOPE_SESSIONS_WRITE,
    Caller,
    credentials_from_header,
    resolve_secret,
    verifier_for,
)
from app.config import Settings
from app.db import create_engine, for_writers
from app.heap import freeze_startup_heap
from app.models import Registration, RegistrationStatus, Session
from bench.seed import session_row

SESSIONS: sa.Table = Session.__table__  # type: ignore[attr-defined]
REGISTRATIONS: sa.Table = Registration.__table__  # type: ignore[attr-defined]
# The REST response's fields are the table's columns in the table's order, but these,
# and then `is_registered`, computed for the caller. Taken from the table rather than
# the app's contract, which would load jsonschema's format machinery (+22 MiB) into
# the floor, as the schema's name converter would load Strawberry.
NOT_SHOWN = {"waitlist_enabled", "waitlist_count", "waitlist_tickets", "version"}
LISTED = [*(c.name for c in SESSIONS.columns if c.name not in NOT_SHOWN), "is_registered"]


def _camel(name: str) -> str:
    """The GraphQL name of a snake_case field, as the schema converts it."""
    first, *rest = name.split("_")
    return first + "".join(part.capitalize() for part in rest)


NAMES = {name: _camel(name) for name in LISTED}
INPUT = ["host_id", "brand_id", "title", "scheduled_at", "max_participants", "metadata"]
# Each GraphQL operation's selection, in bench/workloads.py's order.
CREATED = ["id", "title", "status", "registered_count", "is_registered", "created_at"]
ONE = [
    "id",
    "title",
    "scheduled_at",
    "status",
    "registered_count",
    "is_registered",
    "max_participants",
]
ENUMS = {"kind", "status"}  # GraphQL prints an enum's name, REST its value
state: dict[str, Any] = {}


def _value(column: str, value: Any, graphql: bool) -> Any:
    if isinstance(value, datetime):
        return rfc3339.format(value)
    if graphql and column in ENUMS:
        return value.upper()
    return value


def _graphql_object(row: dict[str, Any], selection: list[str]) -> dict[str, Any]:
    return {NAMES[column]: _value(column, row[column], graphql=True) for column in selection}


class Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _caller(request: Request) -> Caller:
    """The verified caller, with the service's own verifier (and its cache of tokens)."""
    user = credentials_from_header(request.headers.get("authorization"), state["verifier"])
    if not isinstance(user, Caller):
        raise Refused(401, getattr(user, "reason", "a bearer token is required"))
    return user


async def _insert(caller: Caller, fields: dict[str, Any]) -> dict[str, Any]:
    """A new session from the request's six fields, once the caller may create it."""
    if SCOPE_SESSIONS_WRITE not in caller.scopes or caller.sub != fields["host_id"]:
        raise Refused(403, "only the host may create its sessions")
    scheduled_at = rfc3339.parse(fields["scheduled_at"])
    row = session_row(datetime.now(UTC), **{**fields, "scheduled_at": scheduled_at})
    async with state["writers"], state["writer"].begin() as connection:
        await connection.execute(sa.insert(SESSIONS).values(row))
    return {**row, "is_registered": False}


async def create(request: Request) -> Response:
    """W1: REST `POST /v1/sessions`."""
    body = json.loads(await request.body())
    row = await _insert(_caller(request), {column: body[column] for column in INPUT})
    state["requests"] += 1
    return JSONResponse({column: _value(column, row[column], False) for column in LISTED}, 201)


def _registered() -> sa.Label[bool]:
    """Whether the viewer (bound as `viewer`) is seated in the row's session."""
    return (
        sa.exists()
        .where(
            REGISTRATIONS.c.session_id == SESSIONS.c.id,
            REGISTRATIONS.c.user_id == sa.bindparam("viewer"),
            REGISTRATIONS.c.status == RegistrationStatus.REGISTERED.value,
        )
        .label("is_registered")
    )


def _select(selection: list[str]) -> sa.Select[Any]:
    """The selection's columns, `is_registered` computed."""
    return sa.select(
        *[SESSIONS.c[name] if name in SESSIONS.c else _registered() for name in selection]
    )


LIST = (
    _select(LISTED)
    .where(SESSIONS.c.brand_id == sa.bindparam("brand"))
    .order_by(SESSIONS.c.scheduled_at, SESSIONS.c.id)
    .limit(sa.bindparam("first"))
)
BY_ID = _select(ONE).where(SESSIONS.c.id == sa.bindparam("id"))


async def _rows(query: sa.Select[Any], **values: Any) -> list[dict[str, Any]]:
    async with state["engine"].connect() as connection:
        return [dict(row) for row in (await connection.execute(query, values)).mappings()]


async def create_session(caller: Caller, variables: dict[str, Any]) -> dict[str, Any]:
    """W2: `createSession(input)`."""
    given = variables["input"]
    row = await _insert(caller, {column: given[NAMES[column]] for column in INPUT})
    return {"createSession": _graphql_object(row, CREATED)}


async def list_sessions(caller: Caller, variables: dict[str, Any]) -> dict[str, Any]:
    """W3: `sessions(filter: {brandId}, first)`, every field, as the caller sees them."""
    rows = await _rows(LIST, brand=variables["brand"], first=variables["first"], viewer=caller.sub)
    edges = [{"node": _graphql_object(row, LISTED)} for row in rows]
    return {"sessions": {"edges": edges}}


async def session_by_id(caller: Caller, variables: dict[str, Any]) -> dict[str, Any]:
    """W4: `session(id)`."""
    rows = await _rows(BY_ID, id=variables["id"], viewer=caller.sub)
    return {"session": _graphql_object(rows[0], ONE) if rows else None}


Operation = Callable[[Caller, dict[str, Any]], Awaitable[dict[str, Any]]]
OPERATIONS: dict[str, Operation] = {
    "Create": create_session,
    "List": list_sessions,
    "Get": session_by_id,
}


async def graphql(request: Request) -> Response:
    body = json.loads(await request.body())
    data = await OPERATIONS[body["operationName"]](_caller(request), body["variables"])
    state["requests"] += 1
    return JSONResponse({"data": data})


async def refused(_: Request, error: Exception) -> Response:
    assert isinstance(error, Refused)
    return JSONResponse({"error": str(error)}, error.status)


async def stats(_: Request) -> Response:
    return JSONResponse({"requests": state["requests"], "statements": state["statements"]})


@asynccontextmanager
async def lifespan(_: Starlette) -> AsyncIterator[None]:
    settings = Settings()
    engine = create_engine(settings)  # the service's, pings included (see the README)
    verifier = verifier_for(settings, resolve_secret(settings))
    state.update(engine=engine, verifier=verifier, requests=0, statements=0)
    # Writers as the service's (app.db.Database): on SQLite, one at a time per process and
    # BEGIN IMMEDIATE, rather than many polling the file lock through busy_timeout, which
    # made the floor's p99 seconds long; on PostgreSQL, no queue.
    sqlite = settings.is_sqlite
    state["writer"] = for_writers(engine) if sqlite else engine
    state["writers"] = asyncio.Lock() if sqlite else contextlib.nullcontext()
    freeze_startup_heap()  # as the service does, so GC pauses weigh the same on both

    @sa.event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _count(*_: Any) -> None:
        state["statements"] += 1

    yield
    await engine.dispose()


app = Starlette(
    routes=[
        Route("/v1/sessions", create, methods=["POST"]),
        Route("/graphql", graphql, methods=["POST"]),
        Route("/stats", stats, methods=["GET"]),
    ],
    exception_handlers={Refused: refused},
    lifespan=lifespan,
)
