"""Reading sessions as one caller sees them, in a single statement."""

import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import Select

from app.errors import NotFound
from app.models import Registration, RegistrationStatus, Session

SESSIONS_TABLE: sa.Table = Session.__table__  # type: ignore[attr-defined]
REGISTRATIONS_TABLE: sa.Table = Registration.__table__  # type: ignore[attr-defined]
SESSIONS = SESSIONS_TABLE.c
REGISTRATIONS = REGISTRATIONS_TABLE.c


@dataclass(frozen=True)
class SessionView:
    """A session as one caller sees it."""

    session: Session
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


def _status_of(user_id: str) -> sa.ScalarSelect[Any]:
    """The caller's registration status in the enclosing row's session (or NULL)."""
    return (
        sa.select(REGISTRATIONS.status)
        .where(REGISTRATIONS.session_id == SESSIONS.id, REGISTRATIONS.user_id == user_id)
        .correlate(SESSIONS_TABLE)
        .scalar_subquery()
    )


def _position_of(user_id: str) -> sa.ScalarSelect[Any]:
    """1-based place in the waitlist: waitlisted tickets up to and including the caller's."""
    ahead = REGISTRATIONS_TABLE.alias("ahead")
    # Correlated to `ahead`, the next query out (which is correlated to the session row).
    my_ticket = (
        sa.select(REGISTRATIONS.ticket)
        .where(
            REGISTRATIONS.session_id == ahead.c.session_id,
            REGISTRATIONS.user_id == user_id,
            REGISTRATIONS.status == RegistrationStatus.WAITLISTED,
        )
        .scalar_subquery()
    )
    return (
        sa.select(sa.func.count())
        .select_from(ahead)
        .where(
            ahead.c.session_id == SESSIONS.id,
            ahead.c.status == RegistrationStatus.WAITLISTED,
            ahead.c.ticket <= my_ticket,
        )
        .correlate(SESSIONS_TABLE)
        .scalar_subquery()
    )


def select_views(user_id: str) -> Select[Session, Any, Any]:
    """Sessions with the caller's registration status and waitlist place, in one statement.

    The correlated subqueries run only for the rows that survive WHERE and LIMIT, so a
    page costs one statement whatever its size.
    """
    query: Any = select(
        Session,
        _status_of(user_id).label("registration"),
        _position_of(user_id).label("waitlist_position"),
    )
    return query  # type: ignore[no-any-return]


def view_of(row: Any) -> SessionView:
    session, status, position = row
    registration = None if status is None else RegistrationStatus(status)
    waitlisted = registration == RegistrationStatus.WAITLISTED
    return SessionView(session, registration, int(position) if waitlisted else None)


async def load_view(s: AsyncSession, session_id: str, user_id: str) -> SessionView | None:
    # populate_existing: inside a write transaction the row may have changed since
    # the session first loaded it.
    query = (
        select_views(user_id)
        .where(SESSIONS.id == session_id)
        .execution_options(populate_existing=True)
    )
    row = (await s.exec(query)).first()
    return None if row is None else view_of(row)


async def require_view(s: AsyncSession, session_id: str, user_id: str) -> SessionView:
    view = await load_view(s, session_id, user_id)
    if view is None:
        raise NotFound(f"no session has the id '{session_id}'")
    return view
