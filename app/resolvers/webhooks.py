"""Webhook endpoints and their deliveries: the rules, for a brand's admins.

Every operation needs the scope `webhooks:admin`. An endpoint belongs to a brand and
receives the events of that brand's sessions whose types it subscribes to. Its secret
is returned once, by `create_endpoint` and `rotate_secret`; after a rotation the old
secret keeps signing alongside the new one for ROTATION_OVERLAP.
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlmodel import col, select

from app.auth import SCOPE_WEBHOOKS_ADMIN, Caller
from app.db import Database
from app.errors import BadUserInput, NotFound
from app.models import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from app.resolvers import clock
from app.resolvers.sessions import MISSING
from app.resolvers.validation import require_storable
from app.webhooks.messages import EventType
from app.webhooks.signing import new_secret
from app.webhooks.store import disable
from app.webhooks.targets import RefusedTarget, resolve

ROTATION_OVERLAP = timedelta(hours=24)
MAX_PAGE_SIZE = 100
MAX_DESCRIPTION = 500


@dataclass(frozen=True)
class NewEndpoint:
    brand_id: str
    url: str
    event_types: Sequence[EventType]
    description: str | None = None


@dataclass(frozen=True)
class EndpointChanges:
    """MISSING: leave as it is."""

    url: Any = MISSING
    event_types: Any = MISSING
    description: Any = MISSING
    enabled: Any = MISSING


@dataclass(frozen=True)
class WithSecret:
    endpoint: WebhookEndpoint
    secret: str


@dataclass(frozen=True)
class DeliveryPage:
    deliveries: list[WebhookDelivery]
    attempts: dict[int, list[WebhookAttempt]]  # delivery id -> attempts, oldest first
    has_next_page: bool

    @property
    def end_cursor(self) -> str | None:
        return str(self.deliveries[-1].id) if self.deliveries else None


async def create_endpoint(
    db: Database, caller: Caller, data: NewEndpoint, *, allow_insecure: bool
) -> WithSecret:
    caller.require_scope(SCOPE_WEBHOOKS_ADMIN)
    now = clock.now()
    secret = new_secret()
    endpoint = WebhookEndpoint(
        id=str(uuid.uuid4()),
        brand_id=require_storable(data.brand_id, "brandId"),
        url=await _checked_url(data.url, allow_insecure),
        description=_checked_description(data.description),
        event_types=_checked_types(data.event_types),
        secret=secret,
        created_by=caller.sub,
        created_at=now,
        updated_at=now,
    )
    async with db.transaction() as s:
        s.add(endpoint)
    return WithSecret(endpoint, secret)


async def update_endpoint(
    db: Database,
    caller: Caller,
    endpoint_id: str,
    changes: EndpointChanges,
    *,
    allow_insecure: bool,
) -> WebhookEndpoint:
    caller.require_scope(SCOPE_WEBHOOKS_ADMIN)
    values: dict[str, Any] = {}
    if changes.url is not MISSING:
        values["url"] = await _checked_url(changes.url, allow_insecure)
    if changes.event_types is not MISSING:
        values["event_types"] = _checked_types(changes.event_types)
    if changes.description is not MISSING:
        values["description"] = _checked_description(changes.description)
    async with db.transaction() as s:
        endpoint = await _locked(s, endpoint_id)
        for name, value in values.items():
            setattr(endpoint, name, value)
        if changes.enabled is True:
            endpoint.disabled_at = endpoint.disabled_reason = endpoint.failing_since = None
        elif changes.enabled is False:
            disable(endpoint, clock.now(), f"disabled by {caller.sub}")
        endpoint.updated_at = clock.now()
    return endpoint


async def disable_endpoint(db: Database, caller: Caller, endpoint_id: str) -> WebhookEndpoint:
    return await update_endpoint(
        db, caller, endpoint_id, EndpointChanges(enabled=False), allow_insecure=False
    )


async def rotate_secret(db: Database, caller: Caller, endpoint_id: str) -> WithSecret:
    caller.require_scope(SCOPE_WEBHOOKS_ADMIN)
    secret = new_secret()
    async with db.transaction() as s:
        endpoint = await _locked(s, endpoint_id)
        now = clock.now()
        endpoint.previous_secret = endpoint.secret
        endpoint.previous_secret_expires_at = now + ROTATION_OVERLAP
        endpoint.secret = secret
        endpoint.updated_at = now
    return WithSecret(endpoint, secret)


async def list_endpoints(db: Database, caller: Caller, brand_id: str) -> list[WebhookEndpoint]:
    caller.require_scope(SCOPE_WEBHOOKS_ADMIN)
    async with db.read() as s:
        found = await s.exec(
            select(WebhookEndpoint)
            .where(WebhookEndpoint.brand_id == require_storable(brand_id, "brandId"))
            .order_by(col(WebhookEndpoint.created_at), col(WebhookEndpoint.id))
        )
        return list(found.all())


async def list_deliveries(
    db: Database, caller: Caller, endpoint_id: str, *, first: int, after: str | None
) -> DeliveryPage:
    """Newest first, `first` (1..100) at a time, each with its attempts."""
    caller.require_scope(SCOPE_WEBHOOKS_ADMIN)
    if not 1 <= first <= MAX_PAGE_SIZE:
        raise BadUserInput(f"must be between 1 and {MAX_PAGE_SIZE}", field="first")
    query = (
        select(WebhookDelivery)
        .where(WebhookDelivery.endpoint_id == endpoint_id)
        .order_by(col(WebhookDelivery.id).desc())
        .limit(first + 1)
    )
    if after is not None:
        query = query.where(col(WebhookDelivery.id) < _cursor(after))
    async with db.read() as s:
        if await s.get(WebhookEndpoint, endpoint_id) is None:
            raise NotFound(f"no webhook endpoint has the id '{endpoint_id}'")
        rows = list((await s.exec(query)).all())
        page = rows[:first]
        attempts: dict[int, list[WebhookAttempt]] = {row.id or 0: [] for row in page}
        found = await s.exec(
            select(WebhookAttempt)
            .where(col(WebhookAttempt.delivery_id).in_(list(attempts)))
            .order_by(col(WebhookAttempt.id))
        )
        for attempt in found.all():
            attempts[attempt.delivery_id].append(attempt)
    return DeliveryPage(page, attempts, len(rows) > first)


async def redeliver(
    db: Database, caller: Caller, delivery_id: str
) -> tuple[WebhookDelivery, list[WebhookAttempt]]:
    """Send a delivery again, now, with the same `webhook-id`, through the whole retry
    schedule; after the deliveries of its session that are still pending before it."""
    caller.require_scope(SCOPE_WEBHOOKS_ADMIN)
    key = _cursor(delivery_id, field="deliveryId")
    async with db.transaction() as s:
        delivery = await s.get(WebhookDelivery, key, with_for_update=True)
        if delivery is None:
            raise NotFound(f"no webhook delivery has the id '{delivery_id}'")
        delivery.status = DeliveryStatus.PENDING
        delivery.attempt_count = 0
        delivery.next_attempt_at = clock.now()
        delivery.delivered_at = None
        attempts = await s.exec(
            select(WebhookAttempt)
            .where(WebhookAttempt.delivery_id == key)
            .order_by(col(WebhookAttempt.id))
        )
        return delivery, list(attempts.all())


async def _checked_url(url: str, allow_insecure: bool) -> str:
    try:
        await resolve(require_storable(url, "url"), allow_insecure=allow_insecure)
    except RefusedTarget as error:
        raise BadUserInput(str(error), field="url") from None
    return url


def _checked_types(event_types: Sequence[EventType]) -> list[str]:
    if not event_types:
        raise BadUserInput("must name at least one event type", field="eventTypes")
    return [EventType(kind).value for kind in dict.fromkeys(event_types)]


def _checked_description(description: str | None) -> str | None:
    if description is None:
        return None
    if len(description) > MAX_DESCRIPTION:
        raise BadUserInput(f"must be at most {MAX_DESCRIPTION} characters", field="description")
    return require_storable(description, "description")


def _cursor(value: str, field: str = "after") -> int:
    if not value.isascii() or not value.isdigit() or len(value) > 18:
        raise BadUserInput("is not an id this API issued", field=field)
    return int(value)


async def _locked(s: Any, endpoint_id: str) -> WebhookEndpoint:
    endpoint: WebhookEndpoint | None = await s.get(
        WebhookEndpoint, endpoint_id, with_for_update=True, populate_existing=True
    )
    if endpoint is None:
        raise NotFound(f"no webhook endpoint has the id '{endpoint_id}'")
    return endpoint
