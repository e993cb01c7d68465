"""Reading sessions as one caller sees them, in a single statement."""

import uuid
from dataclasses import dataclass, replace
from typing import Any, TypeAlias, cast

import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import Select

from app.errors import NotFound
from app.events import SessionEvent
from app.models import Registration, RegistrationStatus, Session
from app.resolvers.binds import Binds
from app.snapshots import COLUMNS

SESSIONS_TABLE: sa.Table = Session.__table__  # type: ignore[attr-defined]
REGISTRATIONS_TABLE: sa.Table = Registration.__table__  # type: ignore[attr-defined]
SESSIONS = SESSIONS_TABLE.c
REGISTRATIONS = REGISTRATIONS_TABLE.c


# What a view reads of a session: the ORM row being changed, the values of one being
# created (`app.snapshots.SessionValues`), or a Core row read back. All three carry the
# model's attribute names, so the model is their type and the one list of its fields.
# Reads select plain rows (labelled like the model's attributes) rather than ORM
# instances: hydrating and tracking a model per row cost more than the whole query.
SessionRecord: TypeAlias = Session


@dataclass(frozen=True, slots=True)
class SessionView:
    """A session as one caller sees it."""

    session: SessionRecord
    registration: RegistrationStatus | None = None
    waitlist_position: int | None = None

    @property
    def is_registered(self) -> bool:
        return self.registration == RegistrationStatus.REGISTERED


def parse_session_id(value: str) -> str | None:
    """The canonical form of a session id, or None when it cannot be one."""
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None


def require_session_id(value: str) -> str:
    canonical = parse_session_id(value)
    if canonical is None:
        raise NotFound(f"no session has the id '{value}'")
    return canonical


# The caller, bound at execution (`viewer_is(user_id)`): the statements below are built once
# per process instead of once per request, which cost more than running them.
VIEWER = sa.bindparam("viewer", type_=sa.String)


def viewer_is(user_id: str) -> dict[str, str]:
    """The parameters that bind VIEWER in `SELECT_VIEWS` and in filters that use it."""
    return {VIEWER.key: user_id}


def held_by_viewer() -> sa.ColumnElement[bool]:
    """Sessions the VIEWER holds a place in: a seat or a waitlist place."""
    mine = sa.select(REGISTRATIONS.session_id).where(REGISTRATIONS.user_id == VIEWER)
    return SESSIONS.id.in_(mine)


def _status_of() -> sa.ScalarSelect[Any]:
    """The caller's registration status in the enclosing row's session (or NULL)."""
    return (
        sa.select(REGISTRATIONS.status)
        .where(REGISTRATIONS.session_id == SESSIONS.id, REGISTRATIONS.user_id == VIEWER)
        .correlate(SESSIONS_TABLE)
        .scalar_subquery()
    )


def _position_of() -> sa.ColumnElement[Any]:
    """1-based place in the waitlist: waitlisted tickets up to and including the caller's;
    NULL unless the caller is waitlisted."""
    ahead = REGISTRATIONS_TABLE.alias("ahead")
    # Correlated to the session row, not to `ahead`: the caller's ticket is looked up once
    # per session, not once per waitlisted row (which made a long waitlist quadratic).
    my_ticket = (
        sa.select(REGISTRATIONS.ticket)
        .where(
            REGISTRATIONS.session_id == SESSIONS.id,
            REGISTRATIONS.user_id == VIEWER,
            REGISTRATIONS.status == RegistrationStatus.WAITLISTED,
        )
        .correlate(SESSIONS_TABLE)
        .scalar_subquery()
    )
    # No ticket counts no one, and the caller's own ticket counts: 0 means not waitlisted.
    return sa.func.nullif(
        sa.select(sa.func.count())
        .select_from(ahead)
        .where(
            ahead.c.session_id == SESSIONS.id,
            ahead.c.status == RegistrationStatus.WAITLISTED,
            ahead.c.ticket <= my_ticket,
        )
        .correlate(SESSIONS_TABLE)
        .scalar_subquery(),
        0,
    )


# The table's columns under the model's attribute names (`metadata` is `meta` there).
_RECORD_COLUMNS = [
    SESSIONS[column] if column == attribute else SESSIONS[column].label(attribute)
    for column, attribute in COLUMNS
]


# Sessions as nobody in particular sees them (public calendar files).
SELECT_RECORDS: Select[*tuple[Any, ...]] = Select(*_RECORD_COLUMNS)

# Sessions with the caller's registration status and waitlist place, in one statement
# (execute with `viewer_is(user_id)`). The correlated subqueries run only for the rows
# that survive WHERE and LIMIT, so a page costs one statement whatever its size.
SELECT_VIEWS: Select[*tuple[Any, ...]] = Select(
    *_RECORD_COLUMNS,
    _status_of().label("registration"),
    _position_of().label("waitlist_position"),
)


def view_of(row: tuple[Any, ...]) -> SessionView:
    """A row of `select_views`: the session's columns, then the caller's status and place."""
    status, position = row[-2], row[-1]
    registration = None if status is None else RegistrationStatus(status)
    record = cast(SessionRecord, row)
    return SessionView(record, registration, None if position is None else int(position))


def view_query(session_id: str, bind: Binds | None = None) -> Select[*tuple[Any, ...]]:
    """One session as a caller sees it (execute with `viewer_is(user_id)`)."""
    return SELECT_VIEWS.where(SESSIONS.id == (bind or Binds())("id", SESSIONS.id.type, session_id))


async def load_view(s: AsyncSession, session_id: str, user_id: str) -> SessionView | None:
    # A Core statement: the session flushes pending changes first, and a row is never
    # served from its identity map, so a write sees what it just changed.
    row = (await s.exec(view_query(session_id), params=viewer_is(user_id))).first()
    return None if row is None else view_of(row)


async def require_view(s: AsyncSession, session_id: str, user_id: str) -> SessionView:
    view = await load_view(s, session_id, user_id)
    if view is None:
        raise NotFound(f"no session has the id '{session_id}'")
    return view


@dataclass(frozen=True)
class Place:
    """Where one caller stands in a session, kept current from change events without a
    query: the same answer `SELECT_VIEWS` computes, carried forward event by event."""

    status: RegistrationStatus | None = None
    ticket: int | None = None
    position: int | None = None

    def after(self, event: SessionEvent, me: str) -> "Place":
        place = self
        for change in event.changes:
            if change.user == me:
                waiting = change.after == RegistrationStatus.WAITLISTED
                place = Place(
                    change.after,
                    change.ticket if waiting else None,
                    event.session["waitlist_count"] if waiting else None,
                )
            elif (
                change.before == RegistrationStatus.WAITLISTED
                and place.status == RegistrationStatus.WAITLISTED
                and place.ticket is not None
                and place.position is not None
                and change.ticket is not None
                and change.ticket < place.ticket
            ):
                place = replace(place, position=place.position - 1)  # someone ahead left
        return place


async def load_view_and_place(
    s: AsyncSession, session_id: str, user_id: str
) -> tuple[SessionView, Place]:
    view = await require_view(s, session_id, user_id)
    mine = await s.get(Registration, (session_id, user_id))
    ticket = mine.ticket if mine is not None else None
    return view, Place(view.registration, ticket, view.waitlist_position)
