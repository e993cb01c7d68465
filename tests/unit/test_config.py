"""app.config: the URL spellings it accepts, CORS origins, and how mistakes are told."""

from pathlib import Path

import pytest
from pydantic import ValidationError

from app.config import Settings, describe


@pytest.mark.parametrize(
    ("written", "meant"),
    [
        ("postgresql://u:p@db:5432/live", "postgresql+asyncpg://u:p@db:5432/live"),
        ("postgres://u:p@db/live", "postgresql+asyncpg://u:p@db/live"),
        ("PostgreSQL://u@db/live", "postgresql+asyncpg://u@db/live"),
        ("postgresql+asyncpg://u@db/live", "postgresql+asyncpg://u@db/live"),
        ("sqlite:///x.db", "sqlite+aiosqlite:///x.db"),
        ("sqlite+aiosqlite:////abs/x.db", "sqlite+aiosqlite:////abs/x.db"),
        ("sqlite://", "sqlite+aiosqlite://"),
    ],
)
def test_database_urls_without_a_driver_mean_ours(written: str, meant: str) -> None:
    assert Settings(database_url=written).database_url == meant


@pytest.mark.parametrize(
    ("written", "told"),
    [
        ("postgresql+psycopg://u@db/live", "'postgresql+psycopg://' names a driver"),
        ("postgresql+psycopg2://u@db/live", "write postgresql://... or postgresql+asyncpg://"),
        ("sqlite+pysqlite:///x.db", "write sqlite://... or sqlite+aiosqlite://"),
        (
            "mysql://u@db/live",
            "'mysql://' is not a database live-sessions serves: write sqlite:///",
        ),
        ("live.db", "'live.db' is not a URL: write sqlite:///live-sessions.db (a file) or"),
    ],
)
def test_other_database_urls_are_refused_saying_what_to_write(written: str, told: str) -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(database_url=written)

    assert describe(refused.value).startswith("DATABASE_URL: ")
    assert told in describe(refused.value)


def test_a_refused_database_url_never_repeats_its_password() -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(database_url="postgresql+psycopg://u:hunter2-password@db/live")

    assert "hunter2" not in describe(refused.value)


def test_sqlite_path_is_absolute_and_memory_has_none(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)

    assert Settings(database_url="sqlite:///x.db").sqlite_path == tmp_path / "x.db"
    assert Settings(database_url="sqlite:///:memory:").sqlite_path is None
    assert Settings(database_url="sqlite://").sqlite_path is None


def test_cors_origins_are_a_comma_separated_list_as_browsers_write_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(
        "CORS_ALLOW_ORIGINS", " https://App.Example.com , http://localhost:5173,https://x.io:443"
    )

    assert Settings().cors_allow_origins == (
        "https://app.example.com",
        "http://localhost:5173",
        "https://x.io",
    )


def test_cors_origins_default_to_none_and_star_stands_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("CORS_ALLOW_ORIGINS", raising=False)
    assert Settings().cors_allow_origins == ()
    monkeypatch.setenv("CORS_ALLOW_ORIGINS", "*")
    assert Settings().cors_allow_origins == ("*",)


@pytest.mark.parametrize(
    ("written", "told"),
    [
        (
            "https://app.example.com/",
            "'https://app.example.com/' is not an origin (it has a "
            "path): write https://app.example.com",
        ),
        ("app.example.com", "'app.example.com' is not an origin: write scheme://host[:port]"),
        ("ftp://app.example.com", "is not an origin"),
        ("https://app.example.com:99999", "is not an origin"),
        ("*, https://app.example.com", "'*' already allows every origin"),
    ],
)
def test_malformed_cors_origins_are_refused_saying_what_to_write(
    monkeypatch: pytest.MonkeyPatch, written: str, told: str
) -> None:
    monkeypatch.setenv("CORS_ALLOW_ORIGINS", written)

    with pytest.raises(ValidationError) as refused:
        Settings()

    told_line = describe(refused.value)
    assert told_line.startswith("CORS_ALLOW_ORIGINS: ")
    assert told in told_line


def test_every_bad_value_is_told_in_one_line_under_its_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LOG_LEVEL", "verbose")
    monkeypatch.setenv("DB_POOL_SIZE", "0")
    monkeypatch.setenv("EVENTS_WAKEUPS", "maybe")

    with pytest.raises(ValidationError) as refused:
        Settings()

    assert describe(refused.value) == (
        "LOG_LEVEL: it is 'VERBOSE', but it should be 'DEBUG', 'INFO', 'WARNING', 'ERROR' or "
        "'CRITICAL'; DB_POOL_SIZE: it is '0', but it should be greater than or equal to 1; "
        "EVENTS_WAKEUPS: it is 'maybe', but it should be a valid boolean, unable to interpret "
        "input"
    )


def test_log_level_and_format_may_be_written_in_any_case(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOG_LEVEL", "debug")
    monkeypatch.setenv("LOG_FORMAT", "TEXT")

    settings = Settings()

    assert (settings.log_level, settings.log_format) == ("DEBUG", "text")


def test_a_secret_and_a_secret_file_together_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(auth_jwt_secret="x" * 40, auth_jwt_secret_file=tmp_path / "s")

    assert describe(refused.value) == (
        "AUTH_JWT_SECRET and AUTH_JWT_SECRET_FILE are both set: keep only one of them"
    )
