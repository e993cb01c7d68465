"""Settings: the only place the environment is read, and how its mistakes are told."""

from pathlib import Path
from typing import Annotated, Literal, Self

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from app import database_url, origins

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
LogFormat = Literal["json", "text"]


class ConfigError(Exception):
    """A setting the service cannot start with; the message says what to write instead."""


class Settings(BaseSettings):
    """Configuration, read from environment variables of the same name (upper case)."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore", frozen=True)

    database_url: str = Field(
        default="sqlite+aiosqlite:///live-sessions.db",
        description="sqlite:///FILE or postgresql://USER:PASSWORD@HOST:PORT/DB; stored as "
        "the SQLAlchemy URL of the driver used (sqlite+aiosqlite, postgresql+asyncpg).",
    )
    database_schema: str | None = Field(
        default=None,
        description="PostgreSQL only: the schema (search_path) the service works in.",
    )
    auth_jwt_secret: str | None = Field(
        default=None,
        description="HS256 secret for bearer tokens, at least 32 bytes. Unset on SQLite: a "
        "development secret is generated beside the database file.",
    )
    auth_jwt_secret_file: Path | None = Field(
        default=None,
        description="A file holding the secret instead (created on SQLite if missing).",
    )
    auth_jwt_audience: str | None = Field(default=None, description="Required `aud` when set.")
    auth_jwt_issuer: str | None = Field(default=None, description="Required `iss` when set.")
    log_level: LogLevel = "INFO"
    log_format: LogFormat = Field(
        default="json", description="json: one JSON object per line; text: for people."
    )
    db_pool_size: int = Field(default=5, ge=1, description="Connections kept open per process.")
    db_max_overflow: int = Field(
        default=10, ge=0, description="Extra connections per process under load."
    )
    db_pool_timeout_s: float = Field(
        default=10.0, gt=0, description="Longest wait for a free connection."
    )
    db_connect_timeout_s: float = Field(
        default=5.0, gt=0, description="Longest wait to open a connection."
    )
    db_ping_after_idle_s: float = Field(
        default=2.0,
        ge=0,
        description="PostgreSQL: a pooled connection idle for longer is pinged before use "
        "(0: always). A busy pool skips the round trip.",
    )
    db_statement_timeout_ms: int = Field(
        default=10_000, ge=0, description="PostgreSQL statement_timeout (0: none)."
    )
    sqlite_busy_timeout_ms: int = Field(default=5000, ge=0)
    max_body_bytes: int = Field(default=1024 * 1024, ge=1)
    request_body_timeout_s: float = Field(
        default=10.0, gt=0, description="Longest time a client may take to send a body."
    )
    max_header_bytes: int = Field(
        default=16 * 1024,
        ge=1024,
        description="Largest request line and headers, together; larger ones get 431.",
    )
    request_header_timeout_s: float = Field(
        default=10.0,
        gt=0,
        description="Longest time a client may take to send a request's line and headers, "
        "from connecting (or from the first byte of a later request); then it is disconnected.",
    )
    max_connections: int = Field(
        default=1000,
        ge=1,
        description="Connections per process. One more closes the longest-waiting connection "
        "that has no request in progress; when none is idle, requests get 503 (not /healthz).",
    )
    graphql_max_depth: int = Field(default=10, ge=1)
    graphql_max_introspection_depth: int = Field(
        default=15, ge=1, description="GraphiQL's standard introspection query needs 15."
    )
    graphql_max_aliases: int = Field(default=30, ge=0)
    graphql_max_tokens: int = Field(default=2000, ge=1)
    graphql_max_cost: int = Field(
        default=10_000,
        ge=1,
        description="Fields per operation after fragment expansion, each list weighted by "
        "its `first` (100 when a variable).",
    )
    graphql_timeout_s: float = Field(
        default=10.0, gt=0, description="Longest execution of one GraphQL operation."
    )
    subscription_queue_size: int = Field(
        default=100, ge=1, description="Events a subscriber may fall behind before it is dropped."
    )
    events_poll_interval_s: float = Field(
        default=0.5,
        gt=0,
        description="PostgreSQL: longest time between two reads of the event outbox by each "
        "process's relay; wake-ups after commits usually make it much shorter.",
    )
    events_wakeups: bool = Field(
        default=True,
        description="PostgreSQL: after a commit, wake the relays of every process (one "
        "NOTIFY per process every few milliseconds at most). false: relays only poll, so "
        "live updates take up to EVENTS_POLL_INTERVAL_S.",
    )
    graphql_metrics_operation_names: int = Field(
        default=20,
        ge=0,
        description="Operation names /metrics gives their own label, first come first served "
        "(per process); the rest are `other`, and callers without a token `unauthenticated`.",
    )
    webhooks_dispatcher: bool = Field(
        default=True,
        description="Run the webhook dispatcher in this process (on SQLite one process at a "
        "time dispatches, whichever holds the lease). false: this process only records.",
    )
    webhooks_allow_insecure: bool = Field(
        default=False,
        description="Development and tests: allow plain http, and targets on loopback "
        "(127.0.0.0/8, ::1). Private, link-local and metadata addresses stay refused.",
    )
    webhooks_retry_schedule_s: tuple[float, ...] = Field(
        default=(5, 300, 1800, 7200, 18000, 36000),
        min_length=1,
        description="Seconds before each retry of a failed delivery (each with ±10% "
        "jitter); after the last, the delivery is given up. JSON list in the environment.",
    )
    webhooks_timeout_s: float = Field(
        default=15.0, gt=0, description="A delivery succeeds on a 2xx within this long."
    )
    webhooks_lease_s: float = Field(
        default=60.0,
        gt=0,
        description="How long a claimed delivery is reserved for its process; a process "
        "killed mid-delivery delays it by up to this long. Must exceed WEBHOOKS_TIMEOUT_S.",
    )
    webhooks_poll_interval_s: float = Field(
        default=1.0,
        gt=0,
        description="Longest time between two looks for new events and due retries; "
        "commits in this process (and on PostgreSQL, wake-ups from others) come sooner.",
    )
    webhooks_max_in_flight: int = Field(
        default=32, ge=1, description="Deliveries under way at once, per process."
    )
    webhooks_max_in_flight_per_endpoint: int = Field(
        default=4, ge=1, description="Deliveries under way at once to one endpoint, per process."
    )
    webhooks_disable_after_s: float = Field(
        default=5 * 24 * 3600.0,
        gt=0,
        description="An endpoint whose deliveries have failed for this long without a "
        "success in between is disabled, with the reason shown to its brand's admins.",
    )
    public_base_url: str | None = Field(
        default=None,
        pattern=r"^https?://[^/?#]+(/[^?#]*)?$",
        description="The service's address as members reach it (`https://live.example.com`), "
        "for the absolute URLs of calendar files and feeds. Unset: the address each request "
        "came to (scheme and Host as the server saw them).",
    )
    calendar_join_url: str = Field(
        default="/demo?session={session_id}",
        description="Where a live session's calendar event sends members to join: "
        "`{session_id}` and `{stream_call_id}` are filled in; a path is taken from "
        "PUBLIC_BASE_URL (or the request's address).",
    )
    calendar_feed_secret: str | None = Field(
        default=None,
        description="Derives members' calendar feed URLs. Unset: AUTH_JWT_SECRET (changing "
        "it then changes every feed URL).",
    )
    graphql_compiled_reads: bool = Field(
        default=True,
        description="Answer queries within the compiled subset (see docs/api.md) with one SQL "
        "statement that builds the JSON in the database; false: every query is resolved "
        "field by field.",
    )
    graphql_introspection: bool = True
    graphiql: bool = True
    cors_allow_origins: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(),
        description="Comma-separated origins (https://app.example.com) whose pages may call "
        "the API and open its WebSocket; `*`: every origin. Credentials (cookies) are never "
        "allowed: tokens travel in the Authorization header.",
    )

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        return database_url.normalise(value)

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_case(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("log_format", mode="before")
    @classmethod
    def _lower_case(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value

    @field_validator("cors_allow_origins", mode="before")
    @classmethod
    def _origin_list(cls, value: object) -> object:
        # The environment gives one string; code may give a sequence: one rule for both.
        if isinstance(value, list | tuple) and all(isinstance(item, str) for item in value):
            value = ",".join(value)
        return origins.parse(value) if isinstance(value, str) else value

    @model_validator(mode="after")
    def _one_secret(self) -> Self:
        if self.auth_jwt_secret and self.auth_jwt_secret_file:
            raise ValueError(
                "AUTH_JWT_SECRET and AUTH_JWT_SECRET_FILE are both set: keep only one of them"
            )
        return self

    @model_validator(mode="after")
    def _lease_outlasts_a_delivery(self) -> Self:
        if self.webhooks_lease_s <= self.webhooks_timeout_s:
            raise ValueError("WEBHOOKS_LEASE_S must exceed WEBHOOKS_TIMEOUT_S")
        return self

    @property
    def pool_capacity(self) -> int:
        return self.db_pool_size + self.db_max_overflow

    @property
    def is_sqlite(self) -> bool:
        return database_url.is_sqlite(self.database_url)

    @property
    def sqlite_path(self) -> Path | None:
        """The database file (absolute) for a file-backed SQLite URL, else None."""
        return database_url.sqlite_file(self.database_url)

    @property
    def secret_file(self) -> Path | None:
        """Where the signing secret is kept when AUTH_JWT_SECRET is unset: the file named
        by AUTH_JWT_SECRET_FILE, else beside a SQLite database file, else nowhere."""
        if self.auth_jwt_secret:
            return None
        if self.auth_jwt_secret_file is not None:
            return self.auth_jwt_secret_file.resolve()
        db_path = self.sqlite_path
        return None if db_path is None else db_path.with_name(db_path.name + ".secret")


def load_settings() -> Settings:
    """Settings from the environment, or `ConfigError` naming every mistake in one line."""
    try:
        return Settings()
    except ValidationError as error:
        raise ConfigError(describe(error)) from None


# Settings whose values are never repeated back: they may be credentials.
_UNQUOTED = ("database_url", "auth_jwt_secret")


def describe(error: ValidationError) -> str:
    """Every problem of a ValidationError, in one line, under the variables' names."""
    problems = []
    for item in error.errors():
        name = str(item["loc"][0]).upper() if item["loc"] else ""
        if item["type"] == "value_error":
            problem = str(item["ctx"]["error"])
        else:
            wanted = item["msg"].removeprefix("Input ")
            quoted = name.lower() not in _UNQUOTED and isinstance(item["input"], str)
            problem = f"it is {item['input']!r}, but it {wanted}" if quoted else f"it {wanted}"
        problems.append(f"{name}: {problem}" if name else problem)
    return "; ".join(problems)
