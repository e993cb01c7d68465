"""A real `live-sessions serve` process on a free 127.0.0.1 port, for end-to-end tests."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.helpers import SECRET

CLI = [sys.executable, "-m", "app.cli"]

# A worker is ready in about a second on an idle machine; on a busy
# two-core CI machine four of them took up to ~30 s. A limit only decides how long a
# server that will never answer takes to fail, so it is set far above the worst start seen.
START_LIMIT_S = 60.0
START_LIMIT_PER_WORKER_S = 30.0


def start_limit(workers: int) -> float:
    """Seconds a server with `workers` workers may take to answer /healthz on all of them."""
    return START_LIMIT_S + START_LIMIT_PER_WORKER_S * workers


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def cli_env(overrides: Mapping[str, str]) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DATABASE_", "AUTH_JWT_", "LOG_", "CORS_"))
    }
    env["PYTHONPATH"] = str(Path(__file__).parents[1])
    env.update(overrides)
    return env


def cli(
    cwd: Path, *args: str, env: Mapping[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run `live-sessions ARGS` to its end, with only `env` configured."""
    return subprocess.run(
        [*CLI, *args],
        cwd=cwd,
        env=cli_env(env or {}),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def server_env(database_settings: Mapping[str, str], **extra: str) -> dict[str, str]:
    """The environment for a server on the test's database (see conftest.database_settings)."""
    env = {"DATABASE_URL": database_settings["database_url"], "AUTH_JWT_SECRET": SECRET, **extra}
    if "database_schema" in database_settings:
        env["DATABASE_SCHEMA"] = database_settings["database_schema"]
    return env


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def log_records(self) -> list[dict[str, Any]]:
        lines = self.log.read_text().splitlines()
        return [json.loads(line) for line in lines if line.startswith("{")]

    def wait_for_log(
        self, wanted: Callable[[dict[str, Any]], bool], timeout: float = 5
    ) -> dict[str, Any]:
        """The first log record `wanted` accepts; the server writes it after responding."""
        deadline = time.monotonic() + timeout
        while True:
            found = [record for record in self.log_records() if wanted(record)]
            if found:
                return found[0]
            if time.monotonic() > deadline:
                raise TimeoutError(f"no such log record in {self.log}")
            time.sleep(0.05)


@contextmanager
def running_server(
    cwd: Path,
    env: Mapping[str, str],
    *,
    workers: int = 1,
    timeout: float | None = None,
    command: Sequence[str] = (*CLI, "serve"),
    port: int | None = None,
) -> Iterator[Server]:
    """Start `command --port P --workers N` in `cwd`, wait until every worker is up and
    /healthz answers, yield it, stop it by its PID. `timeout` defaults to
    `start_limit(workers)`; `port` (a free one by default) lets a test restart a server
    where its clients expect it."""
    port = port or free_port()
    log_path = cwd / f"server-{port}.log"
    restarts = 0
    while log_path.exists():
        restarts += 1
        log_path = cwd / f"server-{port}.{restarts}.log"
    log = log_path.open("w")
    process = subprocess.Popen(
        [*command, "--port", str(port), "--workers", str(workers)],
        cwd=cwd,
        env=cli_env(env),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        started_at = time.monotonic()
        limit = start_limit(workers) if timeout is None else timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"server exited: {log_path.read_text()}")
            # Every worker must be up, or the first one would serve everything.
            started = log_path.read_text().count("Application startup complete.")
            try:
                healthy = httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200
            except httpx.TransportError:
                healthy = False
            if healthy and started >= workers:
                break
            if time.monotonic() - started_at > limit:
                raise TimeoutError(
                    f"{started} of {workers} workers up, /healthz answering: {healthy}, "
                    f"after {limit:.0f} s; log:\n{log_path.read_text()[-3000:]}"
                )
            time.sleep(0.05)
        yield Server(base_url, process, log_path)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
