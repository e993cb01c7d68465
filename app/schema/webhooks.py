"""Webhook endpoints and deliveries in the schema: types, inputs and root fields, over
the rules in app.resolvers.webhooks."""

from datetime import datetime
from typing import Self

import strawberry

from app.config import Settings
from app.models import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from app.resolvers import webhooks as rules
from app.resolvers.sessions import MISSING
from app.schema.types import PageInfo
from app.webhooks.messages import EventType

WebhookEventType = strawberry.enum(
    EventType,
    name="WebhookEventType",
    description="What happened; the payload's `type` is the value in dotted lower case "
    "(SESSION_CREATED is session.created).",
)
strawberry.enum(DeliveryStatus, name="WebhookDeliveryStatus")


@strawberry.type(name="WebhookEndpoint", description="Where a brand's events are sent.")
class WebhookEndpointType:
    id: strawberry.ID
    brand_id: str
    url: str
    description: str | None
    event_types: list[EventType]
    enabled: bool
    disabled_at: datetime | None
    disabled_reason: str | None = strawberry.field(
        description="Why deliveries stopped: 410 Gone, days of failures, or an admin."
    )
    failing_since: datetime | None = strawberry.field(
        description="Every attempt since then failed; disabled after 5 days."
    )
    previous_secret_expires_at: datetime | None = strawberry.field(
        description="Until then the secret before the last rotation signs alongside."
    )
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_model(cls, row: WebhookEndpoint) -> Self:
        return cls(
            id=strawberry.ID(row.id),
            brand_id=row.brand_id,
            url=row.url,
            description=row.description,
            event_types=[EventType(kind) for kind in row.event_types],
            enabled=row.disabled_at is None,
            disabled_at=row.disabled_at,
            disabled_reason=row.disabled_reason,
            failing_since=row.failing_since,
            previous_secret_expires_at=row.previous_secret_expires_at,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )


@strawberry.type(description="An endpoint and its signing secret, shown this once.")
class WebhookEndpointWithSecret:
    endpoint: WebhookEndpointType
    secret: str = strawberry.field(description="whsec_…: verify `webhook-signature` with it.")

    @classmethod
    def from_result(cls, result: rules.WithSecret) -> Self:
        return cls(endpoint=WebhookEndpointType.from_model(result.endpoint), secret=result.secret)


@strawberry.type(name="WebhookAttempt", description="One HTTP request of a delivery.")
class WebhookAttemptType:
    attempted_at: datetime
    succeeded: bool
    latency_ms: int
    response_status: int | None = strawberry.field(description="null when no answer came.")
    error: str | None

    @classmethod
    def from_model(cls, row: WebhookAttempt) -> Self:
        return cls(
            attempted_at=row.attempted_at,
            succeeded=row.succeeded,
            latency_ms=row.latency_ms,
            response_status=row.response_status,
            error=row.error,
        )


@strawberry.type(
    name="WebhookDelivery", description="One event for one endpoint, and its attempts."
)
class WebhookDeliveryType:
    id: strawberry.ID
    endpoint_id: strawberry.ID
    message_id: str = strawberry.field(description="The webhook-id header, on every attempt.")
    event_type: EventType
    session_id: strawberry.ID
    status: DeliveryStatus
    payload: str = strawberry.field(description="The body sent, exactly.")
    attempt_count: int
    next_attempt_at: datetime | None = strawberry.field(description="null unless PENDING.")
    created_at: datetime
    delivered_at: datetime | None
    attempts: list[WebhookAttemptType]

    @classmethod
    def from_model(cls, row: WebhookDelivery, attempts: list[WebhookAttempt]) -> Self:
        return cls(
            id=strawberry.ID(str(row.id)),
            endpoint_id=strawberry.ID(row.endpoint_id),
            message_id=row.message_id,
            event_type=EventType(row.event_type),
            session_id=strawberry.ID(row.session_id),
            status=row.status,
            payload=row.body,
            attempt_count=row.attempt_count,
            next_attempt_at=row.next_attempt_at if row.status == DeliveryStatus.PENDING else None,
            created_at=row.created_at,
            delivered_at=row.delivered_at,
            attempts=[WebhookAttemptType.from_model(attempt) for attempt in attempts],
        )


@strawberry.type(description="One page of an endpoint's deliveries, newest first.")
class WebhookDeliveryConnection:
    nodes: list[WebhookDeliveryType]
    page_info: PageInfo

    @classmethod
    def from_page(cls, page: rules.DeliveryPage) -> Self:
        return cls(
            nodes=[
                WebhookDeliveryType.from_model(row, page.attempts[row.id or 0])
                for row in page.deliveries
            ],
            page_info=PageInfo(has_next_page=page.has_next_page, end_cursor=page.end_cursor),
        )


@strawberry.input(description="A new endpoint for a brand's events.")
class CreateWebhookEndpointInput:
    brand_id: str
    url: str = strawberry.field(description="https (refused: private and loopback targets).")
    event_types: list[EventType] = strawberry.field(description="At least one.")
    description: str | None = None

    def to_data(self) -> rules.NewEndpoint:
        return rules.NewEndpoint(self.brand_id, self.url, self.event_types, self.description)


@strawberry.input(description="Fields to change; omitted ones stay.")
class UpdateWebhookEndpointInput:
    url: str | None = strawberry.UNSET
    event_types: list[EventType] | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    enabled: bool | None = strawberry.field(
        default=strawberry.UNSET,
        description="true resumes deliveries (pending ones included); false stops them.",
    )

    def to_data(self) -> rules.EndpointChanges:
        given = {
            name: getattr(self, name)
            for name in ("url", "event_types", "description", "enabled")
            if getattr(self, name) is not strawberry.UNSET
        }
        for name in ("url", "event_types", "enabled"):
            if given.get(name, MISSING) is None:
                given[name] = MISSING
        return rules.EndpointChanges(**given)


def allow_insecure(info: strawberry.Info) -> bool:
    settings: Settings = info.context.request.state.settings
    return settings.webhooks_allow_insecure


@strawberry.type
class WebhookQuery:
    @strawberry.field(description="A brand's endpoints, oldest first (scope webhooks:admin).")
    async def webhook_endpoints(
        self, info: strawberry.Info, brand_id: str
    ) -> list[WebhookEndpointType]:
        rows = await rules.list_endpoints(info.context.db, info.context.caller, brand_id)
        return [WebhookEndpointType.from_model(row) for row in rows]

    @strawberry.field(description="An endpoint's deliveries, newest first, `first` (1..100).")
    async def webhook_deliveries(
        self,
        info: strawberry.Info,
        endpoint_id: strawberry.ID,
        first: int = 20,
        after: str | None = None,
    ) -> WebhookDeliveryConnection:
        page = await rules.list_deliveries(
            info.context.db, info.context.caller, str(endpoint_id), first=first, after=after
        )
        return WebhookDeliveryConnection.from_page(page)


@strawberry.type
class WebhookMutation:
    @strawberry.mutation(
        description="Register an endpoint (scope webhooks:admin); its secret is shown once."
    )
    async def create_webhook_endpoint(
        self, info: strawberry.Info, input: CreateWebhookEndpointInput
    ) -> WebhookEndpointWithSecret:
        result = await rules.create_endpoint(
            info.context.db,
            info.context.caller,
            input.to_data(),
            allow_insecure=allow_insecure(info),
        )
        return WebhookEndpointWithSecret.from_result(result)

    @strawberry.mutation(description="Change an endpoint (scope webhooks:admin).")
    async def update_webhook_endpoint(
        self, info: strawberry.Info, id: strawberry.ID, input: UpdateWebhookEndpointInput
    ) -> WebhookEndpointType:
        row = await rules.update_endpoint(
            info.context.db,
            info.context.caller,
            str(id),
            input.to_data(),
            allow_insecure=allow_insecure(info),
        )
        return WebhookEndpointType.from_model(row)

    @strawberry.mutation(description="Stop deliveries to an endpoint (scope webhooks:admin).")
    async def disable_webhook_endpoint(
        self, info: strawberry.Info, id: strawberry.ID
    ) -> WebhookEndpointType:
        row = await rules.disable_endpoint(info.context.db, info.context.caller, str(id))
        return WebhookEndpointType.from_model(row)

    @strawberry.mutation(
        description="A new secret, shown once; the old one signs alongside it for 24 hours."
    )
    async def rotate_webhook_secret(
        self, info: strawberry.Info, id: strawberry.ID
    ) -> WebhookEndpointWithSecret:
        result = await rules.rotate_secret(info.context.db, info.context.caller, str(id))
        return WebhookEndpointWithSecret.from_result(result)

    @strawberry.mutation(
        description="Send a delivery again now, with the same webhook-id (scope webhooks:admin)."
    )
    async def redeliver_webhook(
        self, info: strawberry.Info, delivery_id: strawberry.ID
    ) -> WebhookDeliveryType:
        row, attempts = await rules.redeliver(
            info.context.db, info.context.caller, str(delivery_id)
        )
        return WebhookDeliveryType.from_model(row, attempts)
