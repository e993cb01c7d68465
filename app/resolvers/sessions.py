"""Creating, reading and listing sessions."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import select

from app.auth import SCOPE_SESSIONS_WRITE, Caller
from app.db import Database
from app.errors import BadUserInput
from app.models import Session, SessionKind, SessionStatus
from app.resolvers import cursors
from app.resolvers.validation import (
    require_capacity,
    require_object,
    require_optional_text,
    require_text,
)

MAX_PAGE_SIZE = 100


@dataclass(frozen=True)
class SessionView:
    """A session as one caller sees it."""

    session: Session
    is_registered: bool


@dataclass(frozen=True)
class NewSession:
    host_id: str
    brand_id: str
    title: str
    scheduled_at: datetime
    max_participants: int
    kind: SessionKind = SessionKind.LIVE
    metadata: Any = None
    category: str | None = None


@dataclass(frozen=True)
class SessionFilter:
    brand_id: str | None = None
    host_id: str | None = None
    statuses: Sequence[SessionStatus] | None = None
    kind: SessionKind | None = None
    scheduled_from: datetime | None = None
    scheduled_to: datetime | None = None


@dataclass(frozen=True)
class SessionPage:
    views: list[SessionView]
    has_next_page: bool
    filter: SessionFilter = field(default_factory=SessionFilter)

    @property
    def end_cursor(self) -> str | None:
        if not self.views:
            return None
        return cursor_of(self.views[-1].session)


def now() -> datetime:
    return datetime.now(UTC)


def cursor_of(session: Session) -> str:
    return cursors.encode((session.scheduled_at, session.id))


async def create_session(db: Database, caller: Caller, data: NewSession) -> SessionView:
    caller.require_scope(SCOPE_SESSIONS_WRITE)
    created_at = now()
    session = Session(
        id=str(uuid.uuid4()),
        host_id=require_text(data.host_id, "hostId"),
        brand_id=require_text(data.brand_id, "brandId"),
        title=require_text(data.title, "title"),
        kind=data.kind,
        category=require_optional_text(data.category, "category"),
        scheduled_at=data.scheduled_at,
        status=SessionStatus.SCHEDULED,
        max_participants=require_capacity(data.max_participants),
        meta=require_object(data.metadata),
        registered_count=0,
        created_at=created_at,
        updated_at=created_at,
    )
    caller.require_owner(session.host_id)
    async with db.transaction() as s:
        s.add(session)
    return SessionView(session, is_registered=False)


def parse_session_id(value: str) -> str | None:
    """The canonical form of a session id, or None when it cannot be one."""
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None


async def get_session(db: Database, caller: Caller, session_id: str) -> SessionView | None:
    canonical = parse_session_id(session_id)
    if canonical is None:
        return None
    async with db.read() as s:
        session = await s.get(Session, canonical)
    if session is None:
        return None
    return SessionView(session, is_registered=False)


def _conditions(flt: SessionFilter) -> list[ColumnElement[bool]]:
    column = Session.__table__.c  # type: ignore[attr-defined]
    conditions: list[ColumnElement[bool]] = []
    if flt.brand_id is not None:
        conditions.append(column.brand_id == flt.brand_id)
    if flt.host_id is not None:
        conditions.append(column.host_id == flt.host_id)
    if flt.statuses is not None:
        conditions.append(column.status.in_(list(flt.statuses)))
    if flt.kind is not None:
        conditions.append(column.kind == flt.kind)
    if flt.scheduled_from is not None:
        conditions.append(column.scheduled_at >= flt.scheduled_from)
    if flt.scheduled_to is not None:
        conditions.append(column.scheduled_at < flt.scheduled_to)
    return conditions


async def list_sessions(
    db: Database,
    caller: Caller,
    flt: SessionFilter,
    *,
    first: int,
    after: str | None,
) -> SessionPage:
    """One page in (scheduledAt, id) order, after the keyset cursor `after`."""
    if not 1 <= first <= MAX_PAGE_SIZE:
        raise BadUserInput(f"must be between 1 and {MAX_PAGE_SIZE}", field="first")
    column = Session.__table__.c  # type: ignore[attr-defined]
    conditions = _conditions(flt)
    if after is not None:
        scheduled_at, session_id = cursors.decode(after)
        conditions.append(
            sa.tuple_(column.scheduled_at, column.id) > sa.tuple_(scheduled_at, session_id)
        )
    query = (
        select(Session).where(*conditions).order_by(column.scheduled_at, column.id).limit(first + 1)
    )
    async with db.read() as s:
        rows = list((await s.exec(query)).all())
    views = [SessionView(row, is_registered=False) for row in rows[:first]]
    return SessionPage(views=views, has_next_page=len(rows) > first, filter=flt)


async def count_sessions(db: Database, flt: SessionFilter) -> int:
    query = select(sa.func.count()).select_from(Session).where(*_conditions(flt))
    async with db.read() as s:
        return (await s.exec(query)).one()
