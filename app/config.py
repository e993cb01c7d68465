"""Settings: the only place the environment is read."""

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]


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
    sqlite_busy_timeout_ms: int = Field(default=5000, ge=0)
    max_body_bytes: int = Field(default=1024 * 1024, ge=1)

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
