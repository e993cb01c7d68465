"""The `live-sessions` command: the README's first-run path, its options, what it says."""

import sqlite3
from contextlib import closing
from importlib.metadata import version
from pathlib import Path
from typing import Any

import httpx
import jwt
from sqlmodel import SQLModel

from app.config import Settings
from app.health import migration_head
from tests.helpers import SECRET, valid_body
from tests.helpers import token as signed_token
from tests.server import Server, cli, running_server, server_env


def run_cli(cwd: Path, *args: str, env: dict[str, str] | None = None) -> str:
    done = cli(cwd, *args, env=env)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_first_run_serves_with_a_generated_secret_and_cli_tokens(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    with running_server(tmp_path, {}) as server:
        base_url = server.url
        secret_file = tmp_path / "live-sessions.db.secret"
        assert secret_file.exists()
        told = cli(tmp_path, "token", "--sub", "host-1", "--scope", "sessions:write")
        token = told.stdout.strip()
        headers = {"Authorization": f"Bearer {token}"}
        # From another folder the default DATABASE_URL names another database, which has
        # no secret: refused, rather than minting tokens no server accepts.
        lost = cli(elsewhere, "token", "--sub", "host-1")
        database_url = f"sqlite:///{tmp_path / 'live-sessions.db'}"
        found = cli(elsewhere, "token", "--sub", "host-1", env={"DATABASE_URL": database_url})
        accepted = httpx.post(
            f"{base_url}/v1/sessions",
            json=valid_body(),
            headers={"Authorization": f"Bearer {found.stdout.strip()}"},
        )

        created = httpx.post(f"{base_url}/v1/sessions", json=valid_body(), headers=headers)
        read = httpx.post(
            f"{base_url}/graphql",
            json={
                "query": "query($id: ID!) { session(id: $id) { title } }",
                "variables": {"id": created.json()["id"]},
            },
            headers=headers,
        )

    assert created.status_code == 201
    assert read.json() == {"data": {"session": {"title": "Morning mobility"}}}
    claims = jwt.decode(token, secret_file.read_text(), algorithms=["HS256"])
    assert claims["sub"] == "host-1"
    assert claims["scope"] == "sessions:write"
    assert (
        told.stderr == f"signed with the development secret in {secret_file}, beside the database\n"
    )
    assert (lost.returncode, lost.stdout) == (2, "")
    assert lost.stderr == (
        f"live-sessions: there is no secret in {elsewhere / 'live-sessions.db.secret'} yet: "
        "the server creates it when it first starts; run this command with the server's "
        "DATABASE_URL (or AUTH_JWT_SECRET_FILE, or AUTH_JWT_SECRET)\n"
    )
    assert list(elsewhere.iterdir()) == []
    assert found.stderr == told.stderr
    assert accepted.status_code == 201, accepted.text


def sqlite_schema(path: Path) -> tuple[str, dict[str, str]]:
    """The revision a SQLite file is stamped with, and the SQL of each of its tables."""
    with closing(sqlite3.connect(path)) as connection:
        [(revision,)] = connection.execute("SELECT version_num FROM alembic_version").fetchall()
        tables = connection.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
        return revision, dict(tables.fetchall())


def test_migrate_creates_the_schema_and_is_repeatable(tmp_path: Path) -> None:
    database = tmp_path / "live-sessions.db"
    settings = Settings(auth_jwt_secret=SECRET, database_url=f"sqlite+aiosqlite:///{database}")

    run_cli(tmp_path, "migrate")
    revision, tables = sqlite_schema(database)
    run_cli(tmp_path, "migrate")

    assert revision == migration_head(settings)
    assert set(tables) == {*SQLModel.metadata.tables, "alembic_version"}
    assert sqlite_schema(database) == (revision, tables)


def without_driver(database_url: str) -> str:
    """The URL as people write it: `sqlite:///...`, or `postgres://...` as libpq does."""
    scheme, _, rest = database_url.partition("://")
    return f"{'sqlite' if scheme.startswith('sqlite') else 'postgres'}://{rest}"


def test_migrate_takes_urls_without_a_driver_and_says_what_it_applied(
    database_settings: dict[str, Any], tmp_path: Path
) -> None:
    env = server_env(database_settings)
    env["DATABASE_URL"] = without_driver(env["DATABASE_URL"])
    head = migration_head(Settings(auth_jwt_secret=SECRET, **database_settings))

    first = run_cli(tmp_path, "migrate", env=env)
    again = run_cli(tmp_path, "migrate", env=env)

    applied = ", ".join(f"{number:04d}" for number in range(1, int(head or 0) + 1))
    assert first == f"migrated the database to revision {head}: applied {applied}"
    assert again == f"the database is already at head (revision {head})"


def test_every_option_has_help_with_its_default(tmp_path: Path) -> None:
    serve = run_cli(tmp_path, "serve", "--help")
    token_help = run_cli(tmp_path, "token", "--help")

    for default in ("127.0.0.1", "8000", "1", "30", "bounded"):
        assert f"(default: {default})" in serve
    for default in ("sessions:write registrations:write", "720"):
        assert f"(default: {default})" in " ".join(token_help.split())
    assert "the user id the token speaks for" in token_help


def test_version_is_the_installed_package_version(tmp_path: Path) -> None:
    assert run_cli(tmp_path, "--version") == f"live-sessions {version('live-sessions')}"


def test_a_server_says_its_warnings_once_whatever_its_workers(
    engine_name: str, database_settings: dict[str, Any], tmp_path: Path
) -> None:
    env = server_env(database_settings)
    if engine_name == "sqlite":
        del env["AUTH_JWT_SECRET"]  # the development secret, which is warned about
    with running_server(tmp_path, env, workers=2) as server:
        log = server.log.read_text()
        messages = [record["message"] for record in server.log_records()]

    development = [m for m in messages if m.startswith("AUTH_JWT_SECRET is not set")]
    missing = [m for m in messages if m.startswith("SUBSCRIBERS WILL MISS EVENTS")]
    if engine_name == "sqlite":
        assert len(development) == 1
        assert missing == [
            "SUBSCRIBERS WILL MISS EVENTS: with SQLite and --workers 2, a subscriber only "
            "hears of the changes made through its own worker, not through the 1 others; use "
            "--workers 1 with SQLite, or PostgreSQL"
        ]
    else:
        assert development == missing == []
    assert "\x1b" not in log
    assert "color_message" not in log


def test_text_logs_hold_no_colour_codes_when_stderr_is_not_a_terminal(tmp_path: Path) -> None:
    with running_server(tmp_path, {"LOG_FORMAT": "text"}) as server:
        log = server.log.read_text()

    assert "Uvicorn running on http://127.0.0.1:" in log
    assert "\x1b" not in log


def test_a_token_from_another_secret_is_logged_once_and_refused_every_time(server: Server) -> None:
    foreign = {"Authorization": f"Bearer {signed_token(secret='x' + SECRET)}"}

    answers = [
        httpx.post(f"{server.url}/v1/sessions", json=valid_body(), headers=foreign)
        for _ in range(3)
    ]
    server.wait_for_log(lambda record: record["logger"] == "app.access")

    assert [answer.status_code for answer in answers] == [401] * 3
    assert {answer.json()["message"] for answer in answers} == {"the token is invalid"}
    told = [
        record
        for record in server.log_records()
        if "does not match this server's secret" in record["message"]
    ]
    assert len(told) == 1
    assert told[0]["level"] == "WARNING"
    assert "this server's secret, AUTH_JWT_SECRET:" in told[0]["message"]
