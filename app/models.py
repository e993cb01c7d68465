"""Database tables (SQLModel) and the column types they need."""

import enum
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlmodel import Field, SQLModel


class SessionKind(enum.StrEnum):
    LIVE = "live"
    OFFICE_HOURS = "office_hours"


class SessionStatus(enum.StrEnum):
    SCHEDULED = "scheduled"
    LIVE = "live"
    ENDED = "ended"
    CANCELLED = "cancelled"


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """An aware UTC datetime on every engine.

    SQLite's DateTime would drop the offset and keep the local clock time of a
    `+02:00` value; converting to UTC on the way in and re-attaching UTC on the
    way out keeps instants exact and text ordering correct.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored: attach a UTC offset")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _enum_column(enum_type: type[enum.StrEnum], **kwargs: Any) -> sa.Column[Any]:
    # Stored as plain text (no native PostgreSQL enum) so adding a value is not a migration.
    return sa.Column(
        sa.Enum(
            enum_type,
            native_enum=False,
            length=20,
            values_callable=lambda members: [member.value for member in members],
        ),
        nullable=False,
        **kwargs,
    )


JSONDocument = sa.JSON().with_variant(JSONB(), "postgresql")


class Session(SQLModel, table=True):
    """A scheduled live class or office hour."""

    __tablename__ = "sessions"
    __table_args__ = (
        sa.Index("ix_sessions_scheduled", "scheduled_at", "id"),
        sa.Index("ix_sessions_brand_scheduled", "brand_id", "scheduled_at", "id"),
        sa.Index("ix_sessions_host_scheduled", "host_id", "scheduled_at", "id"),
        sa.CheckConstraint("max_participants > 0", name="ck_sessions_max_participants"),
        sa.CheckConstraint(
            "registered_count >= 0 AND registered_count <= max_participants",
            name="ck_sessions_registered_count",
        ),
        sa.CheckConstraint("waitlist_count >= 0", name="ck_sessions_waitlist_count"),
    )

    id: str = Field(primary_key=True, max_length=36)
    host_id: str
    brand_id: str
    title: str
    kind: SessionKind = Field(sa_column=_enum_column(SessionKind))
    category: str | None = None
    scheduled_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    status: SessionStatus = Field(sa_column=_enum_column(SessionStatus))
    stream_call_id: str | None = None
    max_participants: int
    duration_minutes: int | None = None
    recording_url: str | None = None
    # `metadata` is taken by SQLAlchemy's declarative base, hence the attribute name.
    meta: dict[str, Any] = Field(
        default_factory=dict, sa_column=sa.Column("metadata", JSONDocument, nullable=False)
    )
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    registered_count: int = Field(default=0, nullable=False)
    waitlist_enabled: bool = Field(
        default=False, sa_column_kwargs={"server_default": sa.false()}, nullable=False
    )
    waitlist_count: int = Field(default=0, sa_column_kwargs={"server_default": "0"}, nullable=False)
    # Tickets handed out to the waitlist so far: a waitlisted member's ticket orders the
    # queue in the order the database accepted them (issued under the session's lock).
    waitlist_tickets: int = Field(
        default=0, sa_column_kwargs={"server_default": "0"}, nullable=False
    )
    # Increases with every change, so subscribers can drop stale or reordered events.
    version: int = Field(default=1, sa_column_kwargs={"server_default": "1"}, nullable=False)


class RegistrationStatus(enum.StrEnum):
    REGISTERED = "registered"
    WAITLISTED = "waitlisted"


class Registration(SQLModel, table=True):
    """A member holding a seat in a session, or waiting for one."""

    __tablename__ = "registrations"
    __table_args__ = (
        sa.Index("ix_registrations_user", "user_id", "session_id"),
        sa.Index("ix_registrations_queue", "session_id", "status", "ticket"),
    )

    session_id: str = Field(
        sa_column=sa.Column(
            sa.String(36),
            sa.ForeignKey("sessions.id", ondelete="CASCADE"),
            primary_key=True,
        )
    )
    user_id: str = Field(primary_key=True)
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    status: RegistrationStatus = Field(
        sa_column=_enum_column(RegistrationStatus, server_default="registered")
    )
    ticket: int | None = Field(default=None, description="Waitlist order; null once seated.")


class IdempotencyState(enum.StrEnum):
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"


class IdempotencyKey(SQLModel, table=True):
    """A caller's Idempotency-Key for a create, and the outcome it stands for."""

    __tablename__ = "idempotency_keys"

    caller: str = Field(primary_key=True)
    key: str = Field(primary_key=True, max_length=255)
    fingerprint: str = Field(max_length=64)
    state: IdempotencyState = Field(sa_column=_enum_column(IdempotencyState))
    # Which attempt holds the key while in progress; a lapsed lease may be taken over.
    attempt: str = Field(max_length=32)
    locked_until: datetime = Field(sa_type=UTCDateTime, nullable=False)
    session_id: str | None = Field(default=None, max_length=36)
    # The session exactly as the first request created it, for replays.
    response: dict[str, Any] | None = Field(default=None, sa_type=JSONDocument)
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class SessionEventRecord(SQLModel, table=True):
    """An outbox row: a committed change of a session, for other processes (PostgreSQL)."""

    __tablename__ = "session_events"
    # Relays read by position: (xid, id) of rows whose transaction has finished.
    __table_args__ = (sa.Index("ix_session_events_xid_id", "xid", "id"),)

    # INTEGER on SQLite, so the key is the auto-incrementing rowid.
    id: int | None = Field(
        default=None, sa_type=sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True
    )
    session_id: str = Field(max_length=36, index=True)
    version: int
    payload: dict[str, Any] = Field(sa_type=JSONDocument)
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False, index=True)
    # The inserting transaction's id (pg_current_xact_id()), set by every insert: a row
    # is only final for a reader once every transaction below its snapshot's xmin ended.
    xid: int = Field(sa_type=sa.BigInteger, nullable=False)


class WebhookEndpoint(SQLModel, table=True):
    """Where a brand wants its events delivered, and the secrets that sign them."""

    __tablename__ = "webhook_endpoints"
    __table_args__ = (sa.Index("ix_webhook_endpoints_brand", "brand_id", "created_at"),)

    id: str = Field(primary_key=True, max_length=36)
    brand_id: str
    url: str
    description: str | None = None
    event_types: list[str] = Field(sa_type=JSONDocument)
    secret: str
    # The secret before the last rotation, signing alongside until it expires.
    previous_secret: str | None = None
    previous_secret_expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_by: str
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    disabled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    disabled_reason: str | None = None
    # Since when every attempt has failed; cleared by a success.
    failing_since: datetime | None = Field(default=None, sa_type=UTCDateTime)


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


class WebhookDelivery(SQLModel, table=True):
    """One event for one endpoint: sent until a 2xx answers it or its retries run out."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        sa.Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        # Per endpoint and session, in order: the dispatcher sends the first pending one.
        sa.Index("ix_webhook_deliveries_order", "endpoint_id", "session_id", "status", "id"),
        sa.Index("ix_webhook_deliveries_endpoint", "endpoint_id", "id"),
    )

    id: int | None = Field(
        default=None, sa_type=sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True
    )
    endpoint_id: str = Field(
        sa_column=sa.Column(
            sa.String(36),
            sa.ForeignKey("webhook_endpoints.id", ondelete="CASCADE"),
            nullable=False,
        )
    )
    # The `webhook-id` header: the same on every attempt, so receivers can deduplicate.
    message_id: str = Field(max_length=64)
    event_type: str = Field(max_length=40)
    session_id: str = Field(max_length=36)
    # The exact body every attempt sends (and signs).
    body: str
    status: DeliveryStatus = Field(sa_column=_enum_column(DeliveryStatus))
    attempt_count: int = 0
    next_attempt_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    # A claim by one process, for one attempt: nobody else sends it before this passes.
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    lease_holder: str | None = Field(default=None, max_length=32)
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    delivered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class WebhookAttempt(SQLModel, table=True):
    """One HTTP request of a delivery, and how the endpoint answered."""

    __tablename__ = "webhook_attempts"

    id: int | None = Field(
        default=None, sa_type=sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True
    )
    delivery_id: int = Field(
        sa_column=sa.Column(
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.ForeignKey("webhook_deliveries.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        )
    )
    attempted_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    latency_ms: int
    response_status: int | None = None
    succeeded: bool
    error: str | None = None


class WebhookDispatch(SQLModel, table=True):
    """The dispatcher's place in the outbox (one row), and on SQLite which process
    dispatches.

    `position`: on PostgreSQL the frontier xid (every outbox row of a smaller xid has
    been read) with `seen`, the ids read at or above it; on SQLite, where one writer at
    a time makes ids follow commit order, the last id read.
    """

    __tablename__ = "webhook_dispatch"

    name: str = Field(primary_key=True, max_length=20)
    position: int = Field(sa_type=sa.BigInteger, nullable=False)
    seen: dict[str, int] = Field(default_factory=dict, sa_type=JSONDocument)
    leader: str | None = Field(default=None, max_length=32)
    leader_until: datetime | None = Field(default=None, sa_type=UTCDateTime)


class CalendarFeed(SQLModel, table=True):
    """A member's personal calendar feed. Its URL's token is derived from `nonce` with the
    server's key (app.resolvers.calendar), so it is never stored; its hash finds the member."""

    __tablename__ = "calendar_feeds"
    __table_args__ = (sa.Index("ix_calendar_feeds_token_hash", "token_hash", unique=True),)

    user_id: str = Field(primary_key=True)
    # Replaced by a reset, which makes a new token and revokes the old one.
    nonce: str = Field(max_length=32)
    token_hash: str = Field(max_length=64)
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
