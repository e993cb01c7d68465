"""The README's first-run path: `serve` with no configuration, `token`, then a request."""

import sqlite3
import subprocess
from contextlib import closing
from pathlib import Path

import httpx
import jwt
from sqlmodel import SQLModel

from app.config import Settings
from app.health import migration_head
from tests.helpers import SECRET, valid_body
from tests.server import CLI, cli_env, running_server


def run_cli(cwd: Path, *args: str) -> str:
    done = subprocess.run(
        [*CLI, *args], cwd=cwd, env=cli_env({}), capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def test_first_run_serves_with_a_generated_secret_and_cli_tokens(tmp_path: Path) -> None:
    with running_server(tmp_path, {}) as server:
        base_url = server.url
        secret_file = tmp_path / "live-sessions.db.secret"
        assert secret_file.exists()
        token = run_cli(tmp_path, "token", "--sub", "host-1", "--scope", "sessions:write")
        headers = {"Authorization": f"Bearer {token}"}

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
