"""The dispatcher's work in the database: each step one short transaction, shared by
every process through the database alone.

- `fan_out`: read the outbox from the dispatcher's position, write a delivery row per
  message and subscribed endpoint, and move the position, in one transaction. The
  position row is locked (`FOR UPDATE SKIP LOCKED` on PostgreSQL: a process that finds
  it taken skips the step; SQLite's single writer does the same), so each event fans
  out once, and a crash before commit leaves the position where it was.
- `claim`: take due deliveries for one attempt each: pending, due, no earlier pending
  delivery for the same endpoint and session (order), not leased to another process,
  locked with `SKIP LOCKED` so processes never wait on each other, and leased before
  commit. A process killed mid-delivery loses only its lease: the delivery is due again
  when the lease runs out.
- `record`: the attempt, and what it means for the delivery and its endpoint.
- `lead`: SQLite only, which process dispatches (a lease on the position row).
"""

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.config import Settings
from app.db import Database
from app.events import SessionEvent
from app.models import (
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookDispatch,
    WebhookEndpoint,
)
from app.outbox import EVENTS, advance, as_dict
from app.webhooks.delivery import Outcome
from app.webhooks.messages import Message, messages_of
from app.webhooks.schedule import gives_up_on_endpoint, next_attempt

DISPATCH = "main"  # the one position row
KEEP_EVENTS = timedelta(minutes=10)  # SQLite: read events kept this long, as on PostgreSQL
SQLITE_BATCH = 1000

DELIVERIES: Any = WebhookDelivery.__table__  # type: ignore[attr-defined]
ENDPOINTS: Any = WebhookEndpoint.__table__  # type: ignore[attr-defined]

# One snapshot: its xmin, and the visible rows at or above the frontier not read yet.
_READ_POSTGRES = sa.text("""
SELECT now.xmin, e.id, e.xid, e.payload
FROM (SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS xmin) AS now
LEFT JOIN session_events AS e ON e.xid >= :frontier AND e.id <> ALL(CAST(:seen AS BIGINT[]))
ORDER BY e.id
""")


@dataclass(frozen=True)
class Claimed:
    """A delivery leased to this process for one attempt, with what sending needs."""

    id: int
    endpoint_id: str
    message_id: str
    body: str
    url: str
    secrets: tuple[str, ...]  # the current secret, then one still signing alongside


async def ensure_position(db: Database) -> None:
    """Create the position row if missing: at the start of the outbox, whose rows are
    minutes old at most (and fan out to no endpoint that did not exist then)."""
    async with db.read() as s:
        if await s.get(WebhookDispatch, DISPATCH) is not None:
            return
    try:
        async with db.transaction() as s:
            s.add(WebhookDispatch(name=DISPATCH, position=0, seen={}))
    except IntegrityError:
        pass  # another process created it first


async def lead(db: Database, me: str, now: datetime, lease_s: float) -> bool:
    """SQLite: take or renew the dispatcher's lease; whether this process holds it."""
    table: Any = WebhookDispatch.__table__  # type: ignore[attr-defined]
    async with db.transaction() as s:
        result = await s.exec(
            sa.update(table)
            .where(
                table.c.name == DISPATCH,
                sa.or_(
                    table.c.leader == me,
                    table.c.leader.is_(None),
                    table.c.leader_until < now,
                ),
            )
            .values(leader=me, leader_until=now + timedelta(seconds=lease_s))
        )
        return bool(result.rowcount == 1)


async def fan_out(db: Database, now: datetime) -> int:
    """Turn new outbox events into deliveries; how many deliveries were written."""
    sqlite = db.engine.dialect.name == "sqlite"
    if sqlite and not await _sqlite_has_news(db):
        return 0
    async with db.transaction() as s:
        position = (
            await s.exec(
                select(WebhookDispatch)
                .where(WebhookDispatch.name == DISPATCH)
                .with_for_update(skip_locked=True)
            )
        ).first()
        if position is None:
            return 0  # another process is at it
        events = await (_read_sqlite(s, position, now) if sqlite else _read_postgres(s, position))
        return await _write_deliveries(s, events, now)


async def _sqlite_has_news(db: Database) -> bool:
    async with db.read() as s:
        position = await s.get(WebhookDispatch, DISPATCH)
        if position is None:
            return False
        newer = select(EVENTS.c.id).where(EVENTS.c.id > position.position).limit(1)
        return (await s.exec(newer)).first() is not None


async def _read_sqlite(s: AsyncSession, position: WebhookDispatch, now: datetime) -> list[Any]:
    rows = (
        await s.exec(
            select(EVENTS.c.id, EVENTS.c.payload)
            .where(EVENTS.c.id > position.position)
            .order_by(EVENTS.c.id)
            .limit(SQLITE_BATCH)
        )
    ).all()
    if rows:
        position.position = rows[-1][0]
        # Below the position only: the row at it keeps the largest id in use, so SQLite
        # (which reuses the largest rowid once deleted) never hands out an id we passed.
        await s.exec(
            sa.delete(EVENTS).where(
                EVENTS.c.id < position.position, EVENTS.c.created_at < now - KEEP_EVENTS
            )
        )
    return [payload for _, payload in rows]


async def _read_postgres(s: AsyncSession, position: WebhookDispatch) -> list[Any]:
    seen = {int(id_): xid for id_, xid in position.seen.items()}
    connection = await s.connection()
    params = {"frontier": position.position, "seen": list(seen)}
    rows = (await connection.execute(_READ_POSTGRES, params)).all()
    read = {row.id: row.xid for row in rows if row.id is not None}
    position.position = advance(position.position, seen, read, rows[0].xmin)
    position.seen = {str(id_): xid for id_, xid in seen.items()}
    return [row.payload for row in rows if row.id is not None]


async def _write_deliveries(s: AsyncSession, payloads: list[Any], now: datetime) -> int:
    messages = [
        message
        for payload in payloads
        for message in messages_of(SessionEvent.from_payload(as_dict(payload)))
    ]
    if not messages:
        return 0
    brands = {message.brand_id for message in messages}
    endpoints = (
        await s.exec(
            select(WebhookEndpoint.id, WebhookEndpoint.brand_id, WebhookEndpoint.event_types)
            .where(col(WebhookEndpoint.brand_id).in_(brands))
            .where(col(WebhookEndpoint.disabled_at).is_(None))
            .order_by(col(WebhookEndpoint.created_at), col(WebhookEndpoint.id))
        )
    ).all()
    rows = [
        _delivery_row(message, endpoint_id, now)
        for message in messages
        for endpoint_id, brand_id, event_types in endpoints
        if brand_id == message.brand_id and message.type in event_types
    ]
    if rows:
        await s.exec(sa.insert(DELIVERIES), params=rows)
    return len(rows)


def _delivery_row(message: Message, endpoint_id: str, now: datetime) -> dict[str, Any]:
    return {
        "endpoint_id": endpoint_id,
        "message_id": message.id,
        "event_type": message.type.value,
        "session_id": message.session_id,
        "body": message.body,
        "status": DeliveryStatus.PENDING,
        "attempt_count": 0,
        "next_attempt_at": now,
        "created_at": now,
    }


async def claim(
    db: Database,
    me: str,
    now: datetime,
    *,
    limit: int,
    busy: dict[str, int],
    per_endpoint: int,
    lease_s: float,
) -> list[Claimed]:
    """Lease up to `limit` due deliveries, keeping each endpoint's deliveries under way
    (`busy`, in this process) to `per_endpoint`: a slow endpoint never holds them all."""
    full = [endpoint for endpoint, count in busy.items() if count >= per_endpoint]
    earlier = sa.alias(DELIVERIES, "earlier")
    query = (
        select(DELIVERIES.c.id, DELIVERIES.c.endpoint_id)
        .join(ENDPOINTS, ENDPOINTS.c.id == DELIVERIES.c.endpoint_id)
        .where(
            DELIVERIES.c.status == DeliveryStatus.PENDING,
            DELIVERIES.c.next_attempt_at <= now,
            sa.or_(DELIVERIES.c.lease_until.is_(None), DELIVERIES.c.lease_until <= now),
            ENDPOINTS.c.disabled_at.is_(None),
            ~DELIVERIES.c.endpoint_id.in_(full),
            ~sa.exists().where(
                earlier.c.endpoint_id == DELIVERIES.c.endpoint_id,
                earlier.c.session_id == DELIVERIES.c.session_id,
                earlier.c.status == DeliveryStatus.PENDING,
                earlier.c.id < DELIVERIES.c.id,
            ),
        )
        .order_by(DELIVERIES.c.next_attempt_at, DELIVERIES.c.id)
        .limit(limit)
        .with_for_update(of=DELIVERIES, skip_locked=True)
    )
    async with db.transaction() as s:
        taken: list[int] = []
        room = {endpoint: per_endpoint - count for endpoint, count in busy.items()}
        for delivery_id, endpoint_id in (await s.exec(query)).all():
            if room.setdefault(endpoint_id, per_endpoint) > 0:
                room[endpoint_id] -= 1
                taken.append(delivery_id)
        if not taken:
            return []
        await s.exec(
            sa.update(DELIVERIES)
            .where(DELIVERIES.c.id.in_(taken))
            .values(lease_holder=me, lease_until=now + timedelta(seconds=lease_s))
        )
        rows = (
            await s.exec(
                select(WebhookDelivery, WebhookEndpoint)
                .join(WebhookEndpoint, col(WebhookEndpoint.id) == WebhookDelivery.endpoint_id)
                .where(col(WebhookDelivery.id).in_(taken))
                .order_by(col(WebhookDelivery.next_attempt_at), col(WebhookDelivery.id))
            )
        ).all()
    return [
        Claimed(
            delivery.id or 0,
            endpoint.id,
            delivery.message_id,
            delivery.body,
            endpoint.url,
            signing_secrets(
                endpoint.secret,
                endpoint.previous_secret,
                endpoint.previous_secret_expires_at,
                now,
            ),
        )
        for delivery, endpoint in rows
    ]


def signing_secrets(
    secret: str, previous: str | None, previous_expires_at: datetime | None, now: datetime
) -> tuple[str, ...]:
    if previous is not None and previous_expires_at is not None and now < previous_expires_at:
        return (secret, previous)
    return (secret,)


async def record(
    db: Database,
    me: str,
    claimed: Claimed,
    outcome: Outcome,
    *,
    attempted_at: datetime,
    now: datetime,
    settings: Settings,
    rng: random.Random,
) -> None:
    """Keep the attempt; settle the delivery (if still ours) and the endpoint's health."""
    async with db.transaction() as s:
        s.add(
            WebhookAttempt(
                delivery_id=claimed.id,
                attempted_at=attempted_at,
                latency_ms=outcome.latency_ms,
                response_status=outcome.status,
                succeeded=outcome.succeeded,
                error=outcome.error,
            )
        )
        delivery = await s.get(
            WebhookDelivery, claimed.id, with_for_update=True, populate_existing=True
        )
        if delivery is None or delivery.lease_holder != me:
            return  # our lease ran out and another process took it over
        endpoint = await s.get(
            WebhookEndpoint, claimed.endpoint_id, with_for_update=True, populate_existing=True
        )
        assert endpoint is not None  # deleting an endpoint deletes its deliveries
        delivery.lease_holder = None
        delivery.lease_until = None
        delivery.attempt_count += 1
        if outcome.succeeded:
            delivery.status = DeliveryStatus.DELIVERED
            delivery.delivered_at = now
            endpoint.failing_since = None
            return
        if outcome.status == 410:
            delivery.status = DeliveryStatus.FAILED
            disable(endpoint, now, "the endpoint answered 410 Gone")
            return
        retry_at = next_attempt(
            settings.webhooks_retry_schedule_s, delivery.attempt_count, now, rng
        )
        if retry_at is None:
            delivery.status = DeliveryStatus.FAILED
        else:
            delivery.next_attempt_at = retry_at
        endpoint.failing_since = endpoint.failing_since or now
        if gives_up_on_endpoint(endpoint.failing_since, now, settings.webhooks_disable_after_s):
            disable(
                endpoint,
                now,
                f"every delivery failed since {endpoint.failing_since.isoformat()}; "
                f"the last: {outcome.error}",
            )


def disable(endpoint: WebhookEndpoint, now: datetime, reason: str) -> None:
    """No delivery to it until re-enabled; its brand's admins see `reason`."""
    endpoint.disabled_at = now
    endpoint.disabled_reason = reason
    endpoint.updated_at = now
