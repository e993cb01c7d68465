"""Every configuration mistake ends the command with one line saying what to write
instead, and exit status 2; a database that cannot be reached, with one line and 1."""

import subprocess
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from tests.helpers import SECRET
from tests.server import cli, free_port, server_env

POSTGRES = "postgresql://live@127.0.0.1:1/live"  # never connected to: refused before


def one_line(done: subprocess.CompletedProcess[str], status: int) -> str:
    """The single stderr line of a command that ended with `status` and printed nothing."""
    assert (done.returncode, done.stdout) == (status, ""), done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("live-sessions: ")
    return lines[0].removeprefix("live-sessions: ")


@pytest.mark.parametrize(
    ("env", "told"),
    [
        pytest.param(
            {"DATABASE_URL": "mysql://u@db/live"},
            "DATABASE_URL: 'mysql://' is not a database live-sessions serves: write "
            "sqlite:///live-sessions.db (a file) or postgresql://USER:PASSWORD@HOST:5432/DATABASE",
            id="unknown-scheme",
        ),
        pytest.param(
            {"DATABASE_URL": "postgresql+psycopg://u@db/live"},
            "DATABASE_URL: 'postgresql+psycopg://' names a driver live-sessions does not use: "
            "write postgresql://... or postgresql+asyncpg://... (it uses asyncpg)",
            id="other-driver",
        ),
        pytest.param(
            {"DATABASE_URL": "live.db"},
            "DATABASE_URL: 'live.db' is not a URL: write sqlite:///live-sessions.db (a file) "
            "or postgresql://USER:PASSWORD@HOST:5432/DATABASE",
            id="a-path",
        ),
        pytest.param(
            {"DATABASE_URL": POSTGRES},
            "AUTH_JWT_SECRET is not set, and it is required unless DATABASE_URL is a SQLite "
            "file: set AUTH_JWT_SECRET (for example from `python3 -c 'import secrets; "
            "print(secrets.token_urlsafe(48))'`) or AUTH_JWT_SECRET_FILE",
            id="postgresql-without-secret",
        ),
        pytest.param(
            {"DATABASE_URL": POSTGRES, "AUTH_JWT_SECRET": "abc"},
            "AUTH_JWT_SECRET is 3 bytes long, and HS256 needs at least 32: write a longer "
            "one, for example from `python3 -c 'import secrets; "
            "print(secrets.token_urlsafe(48))'`",
            id="postgresql-short-secret",
        ),
        pytest.param(
            {"DATABASE_URL": POSTGRES, "AUTH_JWT_SECRET_FILE": "/nonexistent/jwt.secret"},
            "AUTH_JWT_SECRET_FILE names /nonexistent/jwt.secret, which does not exist: write "
            "a secret there (for example from `python3 -c 'import secrets; "
            "print(secrets.token_urlsafe(48))'`)",
            id="postgresql-missing-secret-file",
        ),
        pytest.param(
            {"AUTH_JWT_SECRET": SECRET, "AUTH_JWT_SECRET_FILE": "/etc/jwt.secret"},
            "AUTH_JWT_SECRET and AUTH_JWT_SECRET_FILE are both set: keep only one of them",
            id="two-secrets",
        ),
        pytest.param(
            {"LOG_LEVEL": "verbose"},
            "LOG_LEVEL: it is 'VERBOSE', but it should be 'DEBUG', 'INFO', 'WARNING', 'ERROR' "
            "or 'CRITICAL'",
            id="log-level",
        ),
        pytest.param(
            {"DB_POOL_SIZE": "0", "GRAPHQL_TIMEOUT_S": "soon"},
            "DB_POOL_SIZE: it is '0', but it should be greater than or equal to 1; "
            "GRAPHQL_TIMEOUT_S: it is 'soon', but it should be a valid number, unable to "
            "parse string as a number",
            id="numbers",
        ),
        pytest.param(
            {"CORS_ALLOW_ORIGINS": "https://app.example.com/"},
            "CORS_ALLOW_ORIGINS: 'https://app.example.com/' is not an origin (it has a path): "
            "write https://app.example.com",
            id="cors-origin-with-path",
        ),
    ],
)
def test_a_configuration_mistake_is_one_line_and_status_2(
    tmp_path: Path, env: dict[str, str], told: str
) -> None:
    done = cli(tmp_path, "serve", "--port", str(free_port()), env=env)

    assert one_line(done, 2) == told
    assert list(tmp_path.iterdir()) == []  # nothing created: no database, no secret


def test_an_unreachable_database_is_one_line_and_status_1(tmp_path: Path) -> None:
    url = f"postgresql://live@127.0.0.1:{free_port()}/live"

    done = cli(tmp_path, "migrate", env={"DATABASE_URL": url, "AUTH_JWT_SECRET": SECRET})

    told = one_line(done, 1)
    assert told.startswith("cannot reach the database of DATABASE_URL: ")
    assert told.endswith("; check its host and port, and that the database server is running")


def test_a_database_that_cannot_be_used_as_configured_is_one_line_and_status_2(
    engine_name: str, database_settings: dict[str, Any], tmp_path: Path
) -> None:
    env = server_env(database_settings)
    if engine_name == "sqlite":
        missing = tmp_path / "missing" / "live.db"
        env["DATABASE_URL"] = f"sqlite:///{missing}"
        del env["AUTH_JWT_SECRET"]  # the development secret would go in the same folder
        done = cli(tmp_path, "serve", "--port", str(free_port()), env=env)

        assert one_line(done, 2) == (
            f"the folder of the SQLite database {missing} does not exist: create it, or "
            "point DATABASE_URL at a file in an existing folder"
        )
        assert list(tmp_path.iterdir()) == []
        return
    url = make_url(env["DATABASE_URL"]).set(username="no_such_role")
    unknown_role = {**env, "DATABASE_URL": url.render_as_string(hide_password=False)}
    unknown_schema = {**env, "DATABASE_SCHEMA": "no_such_schema"}

    assert one_line(cli(tmp_path, "migrate", env=unknown_role), 2) == (
        'the database refused the connection: role "no_such_role" does not exist; '
        "check DATABASE_URL's user, password and database name"
    )
    assert one_line(cli(tmp_path, "migrate", env=unknown_schema), 2) == (
        "DATABASE_SCHEMA 'no_such_schema' does not exist: create it (CREATE SCHEMA ...) or "
        "leave DATABASE_SCHEMA unset"
    )
