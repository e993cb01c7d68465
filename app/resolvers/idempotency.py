"""Idempotency keys for creates, per the IETF Idempotency-Key draft.

A key is claimed in a short transaction of its own (state `in_progress`, with a
lease), then completed in the same transaction that writes the session: a crash
leaves a session with its completed key, or neither (a lapsed lease, which the
client's retry takes over). The database holds the keys, so the guarantee holds
across workers and restarts.

    same key, same request, completed   -> the original result again
    same key, different request         -> IdempotencyKeyReused
    same key, first attempt still going -> IdempotencyInProgress
"""

import contextlib
import hashlib
import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db import Database
from app.errors import BadUserInput, IdempotencyInProgress, IdempotencyKeyReused
from app.models import IdempotencyKey, IdempotencyState, Session
from app.resolvers.views import SessionRecord
from app.snapshots import restore, snapshot

KEY_LIFETIME = timedelta(hours=24)
LEASE = timedelta(seconds=60)
MAX_KEY_LENGTH = 255
KEYS_TABLE: sa.Table = IdempotencyKey.__table__  # type: ignore[attr-defined]
KEYS = KEYS_TABLE.c


@dataclass(frozen=True)
class Claim:
    caller: str
    key: str
    attempt: str


def require_key(key: str, field: str = "idempotencyKey") -> str:
    if not 1 <= len(key) <= MAX_KEY_LENGTH or not key.isprintable() or not key.isascii():
        raise BadUserInput(f"must be 1 to {MAX_KEY_LENGTH} printable ASCII characters", field=field)
    return key


def fingerprint(request: dict[str, Any]) -> str:
    canonical = json.dumps(request, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


async def run_once(
    db: Database,
    caller: str,
    key: str,
    *,
    request: dict[str, Any],
    now: datetime,
    create: Callable[[AsyncSession], Awaitable[SessionRecord]],
) -> SessionRecord:
    """`create` the session once per (caller, key); later calls get the same session."""
    claim_or_replay = await _claim(db, caller, require_key(key), fingerprint(request), now)
    if not isinstance(claim_or_replay, Claim):
        return claim_or_replay
    claim = claim_or_replay
    try:
        async with db.transaction() as s:
            session = await create(s)
            await s.flush()
            completed = await s.exec(
                sa.update(KEYS_TABLE)
                .where(
                    KEYS.caller == claim.caller,
                    KEYS.key == claim.key,
                    KEYS.attempt == claim.attempt,
                    KEYS.state == IdempotencyState.IN_PROGRESS,
                )
                .values(
                    state=IdempotencyState.COMPLETED,
                    session_id=session.id,
                    response=snapshot(session),
                )
            )
            if completed.rowcount != 1:
                # Our lease lapsed and another attempt took the key over.
                raise IdempotencyInProgress("another request with this Idempotency-Key took over")
            return session
    except BaseException:
        # Best effort: if the database is gone too, the lease lapses by itself.
        with contextlib.suppress(Exception):
            await _release(db, claim)
        raise


async def _claim(
    db: Database, caller: str, key: str, print_: str, now: datetime
) -> Claim | Session:
    attempt = uuid.uuid4().hex
    async with db.transaction(final=False) as s:
        # Lapsed keys of this caller go first, so reuse after 24 hours starts afresh.
        await s.exec(sa.delete(KEYS_TABLE).where(KEYS.caller == caller, KEYS.expires_at <= now))
        row = await s.get(IdempotencyKey, (caller, key), with_for_update=True)
        if row is None:
            s.add(
                IdempotencyKey(
                    caller=caller,
                    key=key,
                    fingerprint=print_,
                    state=IdempotencyState.IN_PROGRESS,
                    attempt=attempt,
                    locked_until=now + LEASE,
                    created_at=now,
                    expires_at=now + KEY_LIFETIME,
                )
            )
            try:
                await s.flush()
            except sa.exc.IntegrityError:
                # A concurrent first request claimed it between our read and insert.
                raise IdempotencyInProgress(
                    "a request with this Idempotency-Key is still in progress"
                ) from None
            return Claim(caller, key, attempt)
        if row.fingerprint != print_:
            raise IdempotencyKeyReused(
                "this Idempotency-Key was used for a different request in the last 24 hours"
            )
        if row.state == IdempotencyState.COMPLETED:
            assert row.response is not None
            return restore(row.response)
        if row.locked_until > now:
            raise IdempotencyInProgress("a request with this Idempotency-Key is still in progress")
        row.attempt = attempt
        row.locked_until = now + LEASE
        return Claim(caller, key, attempt)


async def _release(db: Database, claim: Claim) -> None:
    """Give the key back after a failed attempt, so the client may retry at once."""
    async with db.transaction(final=False) as s:
        await s.exec(
            sa.delete(KEYS_TABLE).where(
                KEYS.caller == claim.caller,
                KEYS.key == claim.key,
                KEYS.attempt == claim.attempt,
                KEYS.state == IdempotencyState.IN_PROGRESS,
            )
        )
