"""What a worker does before it serves: only what serving needs."""

import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

from tests.helpers import auth, valid_body
from tests.server import cli_env, running_server, server_env


def test_importing_the_app_leaves_jsonschema_until_a_body_is_refused() -> None:
    # jsonschema imports every format package it finds; with rfc3987-syntax installed
    # that was one second of each worker's 1.7 s start.
    probe = "import sys, app.main; print('jsonschema' in sys.modules)"
    done = subprocess.run(
        [sys.executable, "-c", probe], env=cli_env({}), capture_output=True, text=True, check=True
    )

    assert done.stdout.strip() == "False"


def test_four_workers_start_and_each_explains_a_refused_body(
    database_settings: dict[str, Any], tmp_path: Path
) -> None:
    with running_server(tmp_path, server_env(database_settings), workers=4) as server:
        # Fresh connections, so that the refusals are spread over the workers.
        responses = [
            httpx.post(
                f"{server.url}/v1/sessions",
                json=valid_body(title="", max_participants=0),
                headers={**auth(), "Connection": "close"},
            )
            for _ in range(8)
        ]

    assert {response.status_code for response in responses} == {400}
    for response in responses:
        message = response.json()["message"]
        assert "title: must not be empty" in message
        assert "max_participants: must be greater than 0" in message
