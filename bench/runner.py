"""Starting servers pinned to a core, driving them with wrk pinned to another, measuring."""

import collections
import itertools
import json
import os
import platform
import re
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench.workloads import RUN_NUMBER, Workload

ROOT = Path(__file__).parents[1]
_runs: "collections.defaultdict[str, itertools.count[int]]" = collections.defaultdict(
    lambda: itertools.count(1)
)  # per workload: how many times wrk has run it


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _tree(pid: int) -> list[int]:
    pids = [pid]
    for child in Path(f"/proc/{pid}/task").glob("*/children"):
        for child_pid in child.read_text().split():
            pids += _tree(int(child_pid))
    return pids


def tree_rss_bytes(pid: int) -> int:
    total = 0
    for member in _tree(pid):
        try:
            status = Path(f"/proc/{member}/status").read_text()
        except OSError:
            continue
        match = re.search(r"VmRSS:\s+(\d+) kB", status)
        total += int(match.group(1)) * 1024 if match else 0
    return total


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]
    peak_rss: int = 0
    # The process tree's RSS at the first and the last sample of the latest load run.
    run_rss: tuple[int, int] = (0, 0)

    def watch_memory(self, stop: threading.Event) -> None:
        first = last = tree_rss_bytes(self.process.pid)
        while not stop.wait(0.25):
            last = tree_rss_bytes(self.process.pid)
            self.peak_rss = max(self.peak_rss, last)
        self.run_rss = (first, last)


@contextmanager
def server(
    command: list[str], env: dict[str, str], core: int, timeout: float = 60
) -> Iterator[Server]:
    port = free_port()
    log = tempfile.NamedTemporaryFile(prefix="bench-server-", suffix=".log", delete=False)
    process = subprocess.Popen(
        ["taskset", "-c", str(core), *[part.replace("{port}", str(port)) for part in command]],
        cwd=ROOT,
        env={**os.environ, **env, "PYTHONPATH": str(ROOT)},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"server exited:\n{Path(log.name).read_text()[-3000:]}")
            try:
                httpx.get(url + "/healthz" if "app.cli" in command else url + "/stats", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise TimeoutError("server did not start") from None
                time.sleep(0.1)
        yield Server(url, process)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
        os.unlink(log.name)


@dataclass(frozen=True)
class Measurement:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def run_wrk(
    target: Server, workload: Workload, *, seconds: float, connections: int, core: int
) -> Measurement:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(workload.script.replace(RUN_NUMBER, str(next(_runs[workload.name]))))
    stop = threading.Event()
    watcher = threading.Thread(target=target.watch_memory, args=(stop,), daemon=True)
    watcher.start()
    try:
        done = subprocess.run(
            [
                "taskset",
                "-c",
                str(core),
                "wrk",
                "-t1",
                f"-c{connections}",
                f"-d{max(1, round(seconds))}s",
                "--timeout",
                "10s",
                "-s",
                script.name,
                target.url + workload.route,
            ],
            capture_output=True,
            text=True,
            check=True,
            timeout=seconds + 60,
        )
    finally:
        stop.set()
        watcher.join()
        os.unlink(script.name)
    line = next(line for line in done.stdout.splitlines() if line.startswith("BENCH "))
    data = json.loads(line.removeprefix("BENCH "))
    return Measurement(
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        errors=data["errors"] + data["non2xx"],
    )


Results = dict[str, dict[str, Any]]
QUIET_S = 0.5  # for requests in flight when wrk stops to finish


Counters = Callable[[Server, str], tuple[float, float]]


def measure(
    target: Server,
    workloads: list[Workload],
    counters: Counters | None,
    *,
    seconds: float,
    connections: int,
    core: int,
) -> Results:
    """Each workload in turn on `target`: throughput, latency, memory, statements/request.

    A shorter run first (a tenth as long, at least a second; not measured) lets the pool
    open its connections and the page caches fill, so the RSS growth reported is that of
    a server in its steady state; the counters are read once the requests still in
    flight have finished. Without `counters` (a server that counts nothing, PostGraphile)
    statements per request are None.
    """
    results: Results = {}
    for workload in workloads:
        warm_up = max(1.0, seconds / 10)
        run_wrk(target, workload, seconds=warm_up, connections=connections, core=core)
        time.sleep(QUIET_S)
        before = counters(target, workload.route) if counters else None
        load = os.getloadavg()[0]  # other people's work on this machine, as the run starts
        measured = run_wrk(target, workload, seconds=seconds, connections=connections, core=core)
        time.sleep(QUIET_S)
        statements = None
        if counters and before:
            after = counters(target, workload.route)
            statements = (after[0] - before[0]) / max(after[1] - before[1], 1)
        start_rss, end_rss = target.run_rss
        results[workload.name] = {
            "title": workload.title,
            "rps": measured.per_second,
            "p50": measured.p50_ms,
            "p99": measured.p99_ms,
            "errors": measured.errors,
            "rss": target.peak_rss / 2**20,
            "rss_growth": (end_rss - start_rss) / start_rss if start_rss else 0.0,
            "statements": statements,
            "load": load,
        }
    return results


def median(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One row for several runs of a workload: each figure's median, and `spread`, the
    range of req/s over its median."""
    row = dict(runs[0])
    for key, value in runs[0].items():
        if isinstance(value, int | float):
            row[key] = statistics.median(run[key] for run in runs)
    rates = [run["rps"] for run in runs]
    row["spread"] = (max(rates) - min(rates)) / row["rps"] if row["rps"] else 0.0
    row["loads"] = (min(run["load"] for run in runs), max(run["load"] for run in runs))
    row["runs"] = len(runs)
    return row


def probe(target: Server, workload: Workload) -> None:
    """One request of `workload`, which must be answered without an error: a workload
    that fails fast would measure nothing but the failure."""
    if workload.probe is None:
        return
    path, headers, body = workload.probe
    answer = httpx.post(target.url + path, headers=headers, content=body, timeout=30)
    try:
        data = answer.json()  # PostGraphile answers application/graphql-response+json
    except ValueError:
        data = None
    failed = answer.status_code >= 400 or not isinstance(data, dict) or "errors" in data
    if not failed and isinstance(data, dict) and "data" in data:
        failed = not data["data"] or None in data["data"].values()
    if failed:
        raise RuntimeError(
            f"{workload.name} on {target.url}: HTTP {answer.status_code} {answer.text[:500]}"
        )


def service_counters(target: Server, route: str) -> tuple[float, float]:
    """(SQL statements so far, requests answered on `route` so far) from /metrics."""
    text = httpx.get(target.url + "/metrics", timeout=10).text
    statements = requests = 0.0
    for line in text.splitlines():
        if line.startswith("db_statements_total "):
            statements = float(line.split()[-1])
        elif line.startswith("http_requests_total{") and f'route="{route}"' in line:
            requests += float(line.split()[-1])
    return statements, requests


def reference_counters(target: Server, _route: str) -> tuple[float, float]:
    stats = httpx.get(target.url + "/stats", timeout=10).json()
    return float(stats["statements"]), float(stats["requests"])


SERVICE = [sys.executable, "-m", "app.cli", "serve", "--port", "{port}", "--workers", "{workers}"]
REFERENCE = [
    sys.executable,
    "-m",
    "uvicorn",
    "bench.reference:app",
    "--port",
    "{port}",
    "--log-level",
    "warning",
    "--no-access-log",
]


def versions(engine: str, postgres_url: str, server_core: int, load_core: int) -> str:
    """The machine line of a report: cores, Python, the database and the pinning."""
    database = f"SQLite {sqlite3.sqlite_version}"
    if engine == "postgresql":
        out = subprocess.run(
            ["psql", postgres_url.replace("+asyncpg", ""), "-Atc", "show server_version"],
            capture_output=True,
            text=True,
            check=False,
        )
        database = f"PostgreSQL {out.stdout.strip() or '?'}"
    cores = len(os.sched_getaffinity(0))
    return (
        f"{cores} cores ({platform.machine()}), Python {platform.python_version()}, {database}; "
        f"server pinned to core {server_core}, wrk to core {load_core}"
    )
