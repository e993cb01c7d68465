"""Reading sessions as one caller sees them, in a single statement."""

import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import Select

from app.errors import NotFound
from app.models import Registration, Session

SESSIONS_TABLE: sa.Table = Session.__table__  # type: ignore[attr-defined]
REGISTRATIONS_TABLE: sa.Table = Registration.__table__  # type: ignore[attr-defined]
SESSIONS = SESSIONS_TABLE.c
REGISTRATIONS = REGISTRATIONS_TABLE.c


@dataclass(frozen=True)
class SessionView:
    """A session as one caller sees it."""

    session: Session
    is_registered: bool


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


def registered(user_id: str) -> sa.Exists:
    """Whether `user_id` holds a seat in the session of the enclosing query's row."""
    return sa.exists().where(
        REGISTRATIONS.session_id == SESSIONS.id, REGISTRATIONS.user_id == user_id
    )


def select_views(user_id: str) -> Select[Session, bool]:
    """Sessions with the caller's `is_registered`, computed by the same statement.

    The correlated EXISTS runs only for the rows that survive WHERE and LIMIT, so a
    page costs one statement whatever its size.
    """
    query: Any = select(Session, registered(user_id).label("is_registered"))
    return query  # type: ignore[no-any-return]


async def load_view(s: AsyncSession, session_id: str, user_id: str) -> SessionView | None:
    # populate_existing: inside a write transaction the row may have changed since
    # the session first loaded it.
    query = (
        select_views(user_id)
        .where(SESSIONS.id == session_id)
        .execution_options(populate_existing=True)
    )
    row = (await s.exec(query)).first()
    return None if row is None else SessionView(row[0], bool(row[1]))


async def require_view(s: AsyncSession, session_id: str, user_id: str) -> SessionView:
    view = await load_view(s, session_id, user_id)
    if view is None:
        raise NotFound(f"no session has the id '{session_id}'")
    return view
