"""Sessions: create, read, list, update, and the lifecycle scheduled -> live -> ended."""

import enum
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import Select, SelectOfScalar

from app.auth import SCOPE_SESSIONS_WRITE, Caller
from app.db import Database
from app.errors import BadUserInput, InvalidTransition, NotFound
from app.events import Action, PlaceChange, created, touch
from app.models import Session, SessionKind, SessionStatus
from app.naming import api_name
from app.outbox import with_events
from app.resolvers import clock, cursors, idempotency
from app.resolvers.binds import Binds
from app.resolvers.registrations import promote
from app.resolvers.validation import (
    require_capacity,
    require_object,
    require_optional_text,
    require_storable,
    require_text,
)
from app.resolvers.views import (
    SELECT_VIEWS,
    SESSIONS,
    SessionRecord,
    SessionView,
    held_by_viewer,
    load_view,
    parse_session_id,
    require_session_id,
    require_view,
    view_of,
    viewer_is,
)
from app.snapshots import ATTRIBUTES, columns_of, new_session_values, snapshot

MAX_PAGE_SIZE = 100


class Missing(enum.Enum):
    """An update field the caller did not send (unlike an explicit null)."""

    MISSING = enum.auto()


MISSING = Missing.MISSING


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
    waitlist_enabled: bool = False


@dataclass(frozen=True)
class SessionChanges:
    """Fields to change; MISSING leaves a field as it is, None clears `category`."""

    title: str | Missing | None = MISSING
    scheduled_at: datetime | Missing | None = MISSING
    max_participants: int | Missing | None = MISSING
    kind: SessionKind | Missing | None = MISSING
    category: str | Missing | None = MISSING
    metadata: Any = MISSING
    waitlist_enabled: bool | Missing | None = MISSING


@dataclass(frozen=True)
class SessionFilter:
    brand_id: str | None = None
    host_id: str | None = None
    statuses: Sequence[SessionStatus] | None = None
    kind: SessionKind | None = None
    scheduled_from: datetime | None = None
    scheduled_to: datetime | None = None
    registered_only: bool = False


@dataclass(frozen=True)
class SessionPage:
    views: list[SessionView]
    has_next_page: bool
    filter: SessionFilter = field(default_factory=SessionFilter)
    user_id: str = ""

    @property
    def end_cursor(self) -> str | None:
        if not self.views:
            return None
        return cursor_of(self.views[-1].session)


def cursor_of(session: SessionRecord) -> str:
    return cursors.encode((session.scheduled_at, session.id))


# -- create and read --------------------------------------------------------------


# The rule each field a caller sets must pass (on create and on update), by field name;
# fields without one (an enum, a date-time, a flag) were settled by their GraphQL type.
_FIELD_RULES: dict[str, Callable[[Any, str], Any]] = {
    "host_id": require_text,
    "brand_id": require_text,
    "title": require_text,
    "category": require_optional_text,
    "max_participants": require_capacity,
    "metadata": require_object,
}


def _checked(name: str, value: Any) -> Any:
    rule = _FIELD_RULES.get(name)
    return value if rule is None else rule(value, api_name(name))


def _new_values(data: NewSession) -> dict[str, Any]:
    """Every field of `data`, checked, under the model's attribute names."""
    return {
        ATTRIBUTES[spec.name]: _checked(spec.name, getattr(data, spec.name))
        for spec in fields(data)
    }


def _request_of(session: SessionRecord) -> dict[str, Any]:
    """What makes two creates "the same request" for an Idempotency-Key: every field
    the caller sent (all of NewSession), as stored."""
    as_sent = snapshot(session)
    return {name: as_sent[ATTRIBUTES[name]] for name in _NEW_SESSION_FIELDS}


_NEW_SESSION_FIELDS = tuple(spec.name for spec in fields(NewSession))


INSERT_SESSION = sa.insert(Session.__table__)  # type: ignore[attr-defined]


async def create_session(
    db: Database, caller: Caller, data: NewSession, idempotency_key: str | None = None
) -> SessionView:
    """Schedule a session; with an idempotency key, at most once per key and caller."""
    caller.require_scope(SCOPE_SESSIONS_WRITE)
    created_at = clock.now()
    session: SessionRecord = new_session_values(
        **_new_values(data),
        id=str(uuid.uuid4()),
        status=SessionStatus.SCHEDULED,
        registered_count=0,
        created_at=created_at,
        updated_at=created_at,
    )
    caller.require_owner(session.host_id)

    async def insert(s: AsyncSession) -> SessionRecord:
        # One Core INSERT: the ORM's unit of work cost more than the rest of the request
        # for a row that is written once and not changed in this transaction.
        created(s, session)
        await with_events(s, INSERT_SESSION, columns_of(session))
        return session

    if idempotency_key is None:
        async with db.transaction() as s:
            await insert(s)
        return SessionView(session)

    stored = await idempotency.run_once(
        db,
        caller.sub,
        idempotency_key,
        request=_request_of(session),
        now=created_at,
        create=insert,
    )
    return SessionView(stored)


async def get_session(db: Database, caller: Caller, session_id: str) -> SessionView | None:
    canonical = parse_session_id(session_id)
    if canonical is None:
        return None
    async with db.read() as s:
        return await load_view(s, canonical, caller.sub)


def _conditions(flt: SessionFilter, bind: Binds) -> list[ColumnElement[bool]]:
    """The filter as WHERE terms, its values bound by name; `registeredOnly` reads the
    VIEWER parameter."""
    conditions: list[ColumnElement[bool]] = []
    if flt.brand_id is not None:
        brand_id = require_storable(flt.brand_id, "filter.brandId")
        conditions.append(SESSIONS.brand_id == bind("brand_id", SESSIONS.brand_id.type, brand_id))
    if flt.host_id is not None:
        host_id = require_storable(flt.host_id, "filter.hostId")
        conditions.append(SESSIONS.host_id == bind("host_id", SESSIONS.host_id.type, host_id))
    if flt.statuses is not None:
        statuses = [
            bind(f"status{index}", SESSIONS.status.type, status)
            for index, status in enumerate(flt.statuses)
        ]
        if statuses:
            conditions.append(SESSIONS.status.in_(statuses))
        else:
            bind.term("no_status")
            conditions.append(sa.false())  # as `IN ()`, which SQL cannot write
    if flt.kind is not None:
        conditions.append(SESSIONS.kind == bind("kind", SESSIONS.kind.type, flt.kind))
    if flt.scheduled_from is not None:
        scheduled_from = bind("scheduled_from", SESSIONS.scheduled_at.type, flt.scheduled_from)
        conditions.append(SESSIONS.scheduled_at >= scheduled_from)
    if flt.scheduled_to is not None:
        scheduled_to = bind("scheduled_to", SESSIONS.scheduled_at.type, flt.scheduled_to)
        conditions.append(SESSIONS.scheduled_at < scheduled_to)
    if flt.registered_only:
        bind.term("registered_only")
        conditions.append(held_by_viewer())
    return conditions


PAGE_LIMIT = "limit"  # the page's LIMIT parameter, `first` + 1, by this name in its Binds


def page_query(
    flt: SessionFilter, *, first: int, after: str | None, bind: Binds | None = None
) -> Select[*tuple[Any, ...]]:
    """The statement for one page (execute it with `viewer_is(user_id)`): `first` + 1 rows
    in (scheduled_at, id) order after the keyset cursor `after`, the extra one telling
    whether another page follows."""
    if not 1 <= first <= MAX_PAGE_SIZE:
        raise BadUserInput(f"must be between 1 and {MAX_PAGE_SIZE}", field="first")
    bind = bind or Binds()
    conditions = _conditions(flt, bind)
    if after is not None:
        scheduled_at, session_id = cursors.decode(after)
        key = (
            bind("after_scheduled_at", SESSIONS.scheduled_at.type, scheduled_at),
            bind("after_id", SESSIONS.id.type, session_id),
        )
        conditions.append(sa.tuple_(SESSIONS.scheduled_at, SESSIONS.id) > sa.tuple_(*key))
    return (
        SELECT_VIEWS.where(*conditions)
        .order_by(SESSIONS.scheduled_at, SESSIONS.id)
        .limit(bind(PAGE_LIMIT, sa.Integer(), first + 1))
    )


async def list_sessions(
    db: Database,
    caller: Caller,
    flt: SessionFilter,
    *,
    first: int,
    after: str | None,
) -> SessionPage:
    """One page of sessions as the caller sees them: one statement, whatever `first`."""
    query = page_query(flt, first=first, after=after)
    async with db.read() as s:
        rows = (await s.exec(query, params=viewer_is(caller.sub))).all()
    views = [view_of(row) for row in rows[:first]]
    return SessionPage(views, len(rows) > first, flt, caller.sub)


def count_query(flt: SessionFilter, bind: Binds | None = None) -> SelectOfScalar[int]:
    """How many sessions match (execute it with `viewer_is(user_id)`)."""
    conditions = _conditions(flt, bind or Binds())
    return select(sa.func.count()).select_from(Session).where(*conditions)


async def count_sessions(db: Database, page: SessionPage) -> int:
    query = count_query(page.filter)
    async with db.read() as s:
        return (await s.exec(query, params=viewer_is(page.user_id))).one()


# -- change -------------------------------------------------------------------------


async def _owned_for_update(s: AsyncSession, caller: Caller, session_id: str) -> Session:
    """The session row, locked until commit, once the caller is shown to own it."""
    caller.require_scope(SCOPE_SESSIONS_WRITE)
    canonical = require_session_id(session_id)
    session = await s.get(Session, canonical, with_for_update=True, populate_existing=True)
    if session is None:
        raise NotFound(f"no session has the id '{session_id}'")
    caller.require_owner(session.host_id)
    return session


def _require_status(session: Session, wanted: SessionStatus, action: str) -> None:
    if session.status != wanted:
        current = session.status.name
        raise InvalidTransition(
            f"cannot {action} a session that is {current}; it must be {wanted.name}",
            current=current,
        )


Moves = tuple[PlaceChange, ...]
# How an error names each change: "cannot start a session that is ENDED".
_VERBS = {
    Action.STARTED: "start",
    Action.ENDED: "end",
    Action.CANCELLED: "cancel",
    Action.UPDATED: "update",
}
# Changes the locked session; returns whose places moved (promotions), or None when
# nothing changed at all.
Apply = Callable[[AsyncSession, Session, datetime], Awaitable[Moves | None]]


async def _change(
    db: Database,
    caller: Caller,
    session_id: str,
    *,
    wanted: SessionStatus,
    action: Action,
    apply: Apply,
) -> SessionView:
    """Lock the session, check owner and status, apply, and record the change."""
    async with db.transaction() as s:
        session = await _owned_for_update(s, caller, session_id)
        _require_status(session, wanted, _VERBS[action])
        at = clock.now()
        changes = await apply(s, session, at)
        if changes is not None:
            touch(s, session, at, changes, action)
        await s.flush()
        return await require_view(s, session.id, caller.sub)


async def start_session(
    db: Database, caller: Caller, session_id: str, stream_call_id: str | None = None
) -> SessionView:
    call_id = require_optional_text(stream_call_id, "streamCallId") or f"call_{uuid.uuid4().hex}"

    async def start(_: AsyncSession, session: Session, at: datetime) -> Moves:
        session.status = SessionStatus.LIVE
        session.started_at = at
        session.stream_call_id = call_id
        return ()

    return await _change(
        db,
        caller,
        session_id,
        wanted=SessionStatus.SCHEDULED,
        action=Action.STARTED,
        apply=start,
    )


async def end_session(
    db: Database, caller: Caller, session_id: str, recording_url: str | None = None
) -> SessionView:
    if recording_url is not None:
        _require_http_url(recording_url, "recordingUrl")

    async def end(_: AsyncSession, session: Session, at: datetime) -> Moves:
        assert session.started_at is not None
        session.status = SessionStatus.ENDED
        session.ended_at = at
        session.duration_minutes = int((at - session.started_at).total_seconds() // 60)
        session.recording_url = recording_url
        return ()

    return await _change(
        db,
        caller,
        session_id,
        wanted=SessionStatus.LIVE,
        action=Action.ENDED,
        apply=end,
    )


async def cancel_session(db: Database, caller: Caller, session_id: str) -> SessionView:
    async def cancel(_: AsyncSession, session: Session, __: datetime) -> Moves:
        session.status = SessionStatus.CANCELLED
        return ()

    return await _change(
        db,
        caller,
        session_id,
        wanted=SessionStatus.SCHEDULED,
        action=Action.CANCELLED,
        apply=cancel,
    )


async def update_session(
    db: Database, caller: Caller, session_id: str, changes: SessionChanges
) -> SessionView:
    values = _validated_changes(changes)

    async def update(s: AsyncSession, session: Session, _: datetime) -> Moves | None:
        capacity = values.get("max_participants")
        if capacity is not None and capacity < session.registered_count:
            raise BadUserInput(
                f"cannot be below the {session.registered_count} seats already taken",
                field="maxParticipants",
            )
        changed = False
        for name, value in values.items():
            if getattr(session, name) != value:
                setattr(session, name, value)
                changed = True
        # New seats go to the head of the waitlist, in the same transaction.
        promoted = await promote(s, session)
        return tuple(promoted) if changed or promoted else None

    return await _change(
        db,
        caller,
        session_id,
        wanted=SessionStatus.SCHEDULED,
        action=Action.UPDATED,
        apply=update,
    )


def _validated_changes(changes: SessionChanges) -> dict[str, Any]:
    """The given fields as model attributes, validated like create; a column that cannot
    be NULL cannot be cleared."""
    values: dict[str, Any] = {}
    for spec in fields(changes):
        value = getattr(changes, spec.name)
        if value is MISSING:
            continue
        if value is None and not SESSIONS[spec.name].nullable:
            raise BadUserInput("cannot be null", field=api_name(spec.name))
        values[ATTRIBUTES[spec.name]] = _checked(spec.name, value)
    return values


def _require_http_url(value: str, field_name: str) -> None:
    parts = urlsplit(require_storable(value, field_name))
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise BadUserInput("must be an absolute http(s) URL", field=field_name)
