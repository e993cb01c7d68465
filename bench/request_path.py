"""CPU time per request on the request path: `python -m bench.request_path`.

The app is built in this process (`create_app(settings)`, lifespan running, migrations
applied to a fresh database) and driven with raw ASGI calls, no sockets: W1 (REST
`POST /v1/sessions`), W2 (GraphQL `createSession`) and W4 (`session(id)`), the very
requests of bench/workloads.py, one at a time. Each round sends each workload `--requests`
times and reads `time.process_time()` around it (every thread of the process, so the
database driver's thread too); the figure is the median of `--rounds` rounds, with their
range. CPU time per request, unlike requests/s, hardly moves with other load on the
machine. `--profile` prints cProfile's top 30 per workload instead of measuring.
"""

import argparse
import asyncio
import cProfile
import io
import json
import logging.config
import os
import pstats
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from alembic import command
from asgi_lifespan import LifespanManager
from starlette.types import ASGIApp, Message

from app.auth import mint_token
from app.config import Settings
from app.logs import logging_config
from app.main import create_app
from app.migrations import alembic_config
from bench.database import fresh_database
from bench.seed import Dataset
from bench.workloads import GET_QUERY, Workload, service_workloads

SECRET = "bench-secret-that-is-long-enough-for-hs256"
POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
WORKLOADS = ("W1", "W2", "W4")
# W4 reads sessions the warm-up's creates made, cycling through this many.
READ_IDS = 1000
# Requests per workload counted by cProfile after the timed rounds.
CALLS_REQUESTS = 200


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.request_path", description=__doc__)
    parser.add_argument("--engine", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--requests", type=int, default=2000, help="per workload per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=500, help="requests per workload first")
    parser.add_argument(
        "--log-level",
        default="INFO",
        help="the app's LOG_LEVEL (INFO, the default, logs each request)",
    )
    parser.add_argument("--profile", action="store_true", help="cProfile top 30 instead")
    return parser.parse_args()


Send = Callable[[], Awaitable[tuple[int, bytes]]]


def _request(app: ASGIApp, path: str, headers: dict[str, str], body: bytes) -> Send:
    """One request as uvicorn would hand it to the app, again on every call."""
    raw_headers = [(b"host", b"bench")] + [
        (name.lower().encode(), value.encode()) for name, value in headers.items()
    ]
    raw_headers.append((b"content-length", str(len(body)).encode()))

    async def send_once() -> tuple[int, bytes]:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": raw_headers,
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 8000),
        }
        delivered = False
        status = 0
        chunks: list[bytes] = []

        async def receive() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            await asyncio.Event().wait()  # the client stays connected
            raise AssertionError("unreachable")

        async def send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await app(scope, receive, send)
        return status, b"".join(chunks)

    return send_once


@contextmanager
def _quiet_logging(level: str) -> Iterator[None]:
    """The app's logging configuration, as `serve` applies it, writing to /dev/null: the
    records are built and formatted as in a deployment, and the terminal stays readable."""
    with open(os.devnull, "w") as null:
        real_stderr = sys.stderr
        sys.stderr = null
        try:
            logging.config.dictConfig(logging_config(Settings(log_level=level)))
        finally:
            sys.stderr = real_stderr
        yield


async def _check(name: str, send: Send) -> bytes:
    status, body = await send()
    if status not in (200, 201) or b'"errors"' in body:
        raise SystemExit(f"{name} failed: {status} {body[:300]!r}")
    return body


def _reads(app: ASGIApp, workload: Workload, ids: list[str]) -> list[Send]:
    """W4 with each of `ids` in turn, as its wrk script samples them."""
    assert workload.probe is not None
    path, headers, _ = workload.probe
    return [
        _request(
            app,
            path,
            headers,
            json.dumps(
                {"query": GET_QUERY, "variables": {"id": id_}, "operationName": "Get"}
            ).encode(),
        )
        for id_ in ids
    ]


async def _round(sends: list[Send], count: int) -> float:
    """CPU µs per request over `count` requests."""
    start = time.process_time()
    for index in range(count):
        await sends[index % len(sends)]()
    return (time.process_time() - start) / count * 1e6


async def _measure(app: ASGIApp, args: argparse.Namespace) -> dict[str, list[float]]:
    token = mint_token(
        SECRET,
        sub="host-1",
        scopes=["sessions:write", "registrations:write"],
        ttl=timedelta(hours=6),
    )
    by_name = {w.name: w for w in service_workloads(Dataset([""], [""], [""]), token, [token])}
    sends: dict[str, list[Send]] = {}
    created: list[str] = []
    for name in ("W1", "W2"):
        assert by_name[name].probe is not None
        path, headers, body = by_name[name].probe  # type: ignore[misc]
        sends[name] = [_request(app, path, headers, body)]
        for _ in range(max(args.warmup, READ_IDS // 2)):
            answer = json.loads(await _check(name, sends[name][0]))
            created.append(answer["id"] if name == "W1" else answer["data"]["createSession"]["id"])
    sends["W4"] = _reads(app, by_name["W4"], created[:READ_IDS])
    for send in sends["W4"][: args.warmup]:
        await _check("W4", send)
    if args.profile:
        for name in WORKLOADS:
            await _profile(name, sends[name], args.requests)
        return {}
    figures: dict[str, list[float]] = {name: [] for name in WORKLOADS}
    for _ in range(args.rounds):
        for name in WORKLOADS:
            figures[name].append(await _round(sends[name], args.requests))
    for name in WORKLOADS:
        figures[f"{name} calls"] = [await _calls(sends[name], CALLS_REQUESTS)]
    return figures


async def _calls(sends: list[Send], count: int) -> float:
    """Python function calls per request, as cProfile counts them in this thread: unlike
    CPU time, the same from run to run, so it shows gains smaller than CPU time's noise."""
    profiler = cProfile.Profile()
    profiler.enable()
    await _round(sends, count)
    profiler.disable()
    calls = sum(entry[1] for entry in pstats.Stats(profiler).stats.values())  # type: ignore[attr-defined]
    return float(calls) / count


async def _profile(name: str, sends: list[Send], count: int) -> None:
    """cProfile's top 30 by cumulative and by own CPU time: the loop runs in this thread, so
    every callback of the requests is seen (the database driver's thread is not)."""
    profiler = cProfile.Profile(time.thread_time)
    profiler.enable()
    await _round(sends, count)
    profiler.disable()
    for order in ("cumulative", "tottime"):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(30)
        print(f"== {name}, by {order}\n{out.getvalue()}")


async def main() -> int:
    args = _arguments()
    with tempfile.TemporaryDirectory() as directory, _quiet_logging(args.log_level):
        postgres = POSTGRES_URL if args.engine == "postgresql" else None
        async with fresh_database(Path(directory), postgres) as database:
            settings = Settings(
                auth_jwt_secret=SECRET,
                log_level=args.log_level,
                # Its background reads would land in the figures; it is no part of a request.
                webhooks_dispatcher=False,
                **database,  # type: ignore[arg-type]
            )
            await asyncio.to_thread(command.upgrade, alembic_config(settings), "head")
            async with LifespanManager(create_app(settings)) as manager:
                figures = await _measure(manager.app, args)
    if figures:
        print(_report(figures, args))
    return 0


def _report(figures: dict[str, list[float]], args: argparse.Namespace) -> str:
    lines = [
        f"CPU µs per request, {args.engine}, LOG_LEVEL={args.log_level}: median of "
        f"{args.rounds} rounds of {args.requests} (± half the range)"
    ]
    for name in WORKLOADS:
        values = figures[name]
        spread = (max(values) - min(values)) / 2
        calls = figures[f"{name} calls"][0]
        lines.append(
            f"  {name}  {statistics.median(values):8.0f} ± {spread:<5.0f} µs"
            f"  {calls:8.0f} Python calls per request"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
