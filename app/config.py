"""Settings: the only place the environment is read."""

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
LogFormat = Literal["json", "text"]


class Settings(BaseSettings):
    """Configuration, read from environment variables of the same name (upper case)."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore", frozen=True)

    database_url: str = Field(
        default="sqlite+aiosqlite:///live-sessions.db",
        description="SQLAlchemy async URL: sqlite+aiosqlite:///FILE or postgresql+asyncpg://...",
    )
    database_schema: str | None = Field(
        default=None,
        description="PostgreSQL only: the schema (search_path) the service works in.",
    )
    auth_jwt_secret: str | None = Field(
        default=None,
        description="HS256 secret for bearer tokens. Unset on SQLite: a development secret "
        "is generated beside the database file.",
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
    graphql_compiled_reads: bool = Field(
        default=True,
        description="Answer queries within the compiled subset (see docs/api.md) with one SQL "
        "statement that builds the JSON in the database; false: every query is resolved "
        "field by field.",
    )
    graphql_introspection: bool = True
    graphiql: bool = True

    @property
    def pool_capacity(self) -> int:
        return self.db_pool_size + self.db_max_overflow

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def sqlite_path(self) -> Path | None:
        """The database file for a file-backed SQLite URL, else None."""
        if not self.is_sqlite:
            return None
        _, _, rest = self.database_url.partition(":///")
        path = rest.split("?", 1)[0]
        if not path or path == ":memory:":
            return None
        return Path(path)
