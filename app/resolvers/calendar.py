"""Calendars: which sessions a calendar file shows, and members' personal feed tokens.

A feed's URL carries a token, because calendar apps cannot send a bearer header. The
token is derived, never stored: HMAC(key, nonce + member) with the server's key and the
feed row's random nonce, so `calendarFeedUrl` gives the same URL every time, the table
alone (a leaked backup) yields no URL, and a reset (a new nonce) revokes the old one. The
row keeps the token's SHA-256 to find whose feed a request is for.
"""

import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Sequence
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import Select

from app.auth import Caller
from app.db import Database
from app.models import CalendarFeed, SessionStatus
from app.resolvers import clock
from app.resolvers.views import (
    SELECT_RECORDS,
    SELECT_VIEWS,
    SESSIONS,
    SessionRecord,
    SessionView,
    held_by_viewer,
    parse_session_id,
    view_of,
    viewer_is,
)

# Every status a session can have is published: a cancelled session stays in calendars
# as STATUS:CANCELLED, which is how a subscribed calendar learns of the cancellation, and
# an ended one as the record of what happened. Unknown ids are not found.
PUBLISHED = frozenset(SessionStatus)

# A member's feed holds their most recently scheduled sessions, up to this many.
FEED_LIMIT = 500

FEEDS_TABLE: sa.Table = CalendarFeed.__table__  # type: ignore[attr-defined]
FEEDS = FEEDS_TABLE.c

# 32 bytes of HMAC-SHA256 in unpadded base64url.
_TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")
_KEY_LABEL = b"live-sessions calendar feed key"


def feed_key(secret: str) -> bytes:
    """The key feed tokens are derived with, kept apart from what `secret` signs else."""
    return hmac.new(secret.encode(), _KEY_LABEL, hashlib.sha256).digest()


def _token(key: bytes, nonce: str, user_id: str) -> str:
    # The nonce has a fixed length, so nonce + member reads back one way only.
    digest = hmac.new(key, (nonce + user_id).encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_feed(key: bytes, user_id: str) -> tuple[dict[str, Any], str]:
    """A feed row's values with a fresh nonce, and the token they stand for."""
    nonce = secrets.token_hex(16)
    token = _token(key, nonce, user_id)
    values = {
        "user_id": user_id,
        "nonce": nonce,
        "token_hash": _hash(token),
        "created_at": clock.now(),
    }
    return values, token


def _insert(s: AsyncSession) -> Any:
    """INSERT for this engine, with its ON CONFLICT clause (both dialects spell it alike)."""
    dialect = s.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(FEEDS_TABLE)


async def feed_token(db: Database, caller: Caller, key: bytes) -> str:
    """The caller's feed token: made on first use, the same one until a reset."""
    user_id = caller.sub
    async with db.read() as s:
        feed = await s.get(CalendarFeed, user_id)
    if feed is None:
        values, _ = _new_feed(key, user_id)
        async with db.transaction() as s:
            # Two first calls at once: one row wins, and both answer with it.
            await s.exec(_insert(s).values(values).on_conflict_do_nothing())
            feed = await s.get(CalendarFeed, user_id, populate_existing=True)
    assert feed is not None
    return _token(key, feed.nonce, user_id)


async def reset_feed_token(db: Database, caller: Caller, key: bytes) -> str:
    """A new feed token for the caller; the old one stops working at once."""
    values, token = _new_feed(key, caller.sub)
    async with db.transaction() as s:
        insert = _insert(s).values(values)
        changed = {name: insert.excluded[name] for name in ("nonce", "token_hash", "created_at")}
        await s.exec(insert.on_conflict_do_update(index_elements=[FEEDS.user_id], set_=changed))
    return token


async def feed_owner(db: Database, token: str) -> str | None:
    """The member whose feed `token` opens, or None for a malformed, unknown or revoked one."""
    if _TOKEN.fullmatch(token) is None:
        return None
    async with db.read() as s:
        owner = await s.exec(
            select(CalendarFeed.user_id).where(CalendarFeed.token_hash == _hash(token))
        )
        return owner.first()


async def published_session(db: Database, session_id: str) -> SessionView | None:
    """A session's calendar file contents, as nobody in particular sees it."""
    canonical = parse_session_id(session_id)
    if canonical is None:
        return None
    async with db.read() as s:
        row = (await s.exec(SELECT_RECORDS.where(SESSIONS.id == canonical))).first()
    if row is None:
        return None
    record = cast(SessionRecord, row)
    return SessionView(record) if record.status in PUBLISHED else None


def _in_feed(query: Select[*tuple[Any, ...]]) -> Select[*tuple[Any, ...]]:
    """`query` narrowed to a member's feed (execute with `viewer_is(member)`)."""
    return (
        query.where(held_by_viewer())
        .order_by(SESSIONS.scheduled_at.desc(), SESSIONS.id.desc())
        .limit(FEED_LIMIT)
    )


FEED_VERSIONS = _in_feed(Select(SESSIONS.id, SESSIONS.version))
FEED_VIEWS = _in_feed(SELECT_VIEWS)


async def feed_versions(db: Database, user_id: str) -> Sequence[tuple[str, int]]:
    """(id, version) of each session in the member's feed: what its contents depend on.

    Every change to a session or to anyone's place in it moves its version (app.events),
    and joining or leaving one changes the list, so this names the feed's contents
    without reading them.
    """
    async with db.read() as s:
        rows = (await s.exec(FEED_VERSIONS, params=viewer_is(user_id))).all()
    return [(row[0], row[1]) for row in rows]


async def feed_sessions(db: Database, user_id: str) -> list[SessionView]:
    """The member's feed, as they see each session, earliest first."""
    async with db.read() as s:
        rows = (await s.exec(FEED_VIEWS, params=viewer_is(user_id))).all()
    return [view_of(row) for row in reversed(rows)]
