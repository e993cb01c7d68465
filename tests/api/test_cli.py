"""The README's first-run path: `serve` with no configuration, `token`, then a request."""

import subprocess
from pathlib import Path

import httpx
import jwt

from tests.helpers import valid_body
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


def test_migrate_creates_the_schema_and_is_repeatable(tmp_path: Path) -> None:
    run_cli(tmp_path, "migrate")
    run_cli(tmp_path, "migrate")

    assert (tmp_path / "live-sessions.db").exists()
