"""Webhook throughput and delay: `python -m bench.webhooks`.

One `live-sessions serve` process (one worker) on a fresh SQLite file, or with
`--engine postgresql` a fresh schema in `--postgres-url`, insecure targets allowed and
a 0.1 s poll; a receiver on 127.0.0.1 in this process (tests.webhook_receiver, 204 to
everything); one endpoint subscribed to `session.created` and `registration.created` (the
requests are tests.api.test_webhook_processes's).
Then `--events` events, made as fast as `--concurrency` clients can: each creates a
session and registers one member (two events). Prints the rate events were made and
delivered (all events over the time from the first request to the last receipt), and
the delay from each event's commit (its payload's `timestamp`, the session's
`createdAt`/`updatedAt`) to its receipt: p50, p99 and max. The whole run is bounded by
`--timeout`; the server is stopped by its PID. Extra `KEY=VALUE` pairs (`--env`) go to
the server's environment (e.g. `WEBHOOKS_MAX_IN_FLIGHT_PER_ENDPOINT=32`). The receiver shares this process's event
loop with the clients making events, so receipt times can lag by a loop turn.
"""

import argparse
import asyncio
import itertools
import os
import statistics
import time
from datetime import datetime
from pathlib import Path
from tempfile import TemporaryDirectory

import httpx

from bench.calendar_polls import percentile
from bench.database import fresh_database
from tests.api.test_webhook_processes import add_endpoint, new_session, register
from tests.server import running_server, server_env
from tests.webhook_receiver import Receiver, receiver

SERVER_ENV = {"WEBHOOKS_ALLOW_INSECURE": "true", "WEBHOOKS_POLL_INTERVAL_S": "0.1"}


async def make_events(client: httpx.AsyncClient, pairs: int, concurrency: int) -> None:
    numbers = itertools.count()

    async def worker() -> None:
        while (number := next(numbers)) < pairs:
            await register(client, await new_session(client), f"member-{number}")

    await asyncio.gather(*(worker() for _ in range(concurrency)))


def report(
    label: str, target: Receiver, *, started: float, made: float, events: int, load_before: float
) -> None:
    delays = [
        (item.arrived_at - datetime.fromisoformat(item.payload["timestamp"]).timestamp()) * 1000
        for item in target.received
    ]
    last = max(item.arrived_at for item in target.received)
    load = " ".join(f"{value:.2f}" for value in os.getloadavg())
    print(
        "| run | events | made/s | delivered/s | delay p50 ms | p99 ms | max ms |\n"
        "| --- | --- | --- | --- | --- | --- | --- |\n"
        f"| {label} | {events} | {events / (made - started):.0f} | "
        f"{events / (last - started):.0f} | {statistics.median(delays):.0f} | "
        f"{percentile(delays, 0.99):.0f} | {max(delays):.0f} |\n"
        f"1-minute load average before: {load_before:.2f}; (1, 5, 15 min) at the end: {load}; "
        f"{len({item.headers['webhook-id'] for item in target.received})} distinct webhook-ids"
    )


async def measure(base_url: str, label: str, events: int, concurrency: int) -> None:
    async with receiver() as target, httpx.AsyncClient(base_url=base_url, timeout=60) as client:
        await add_endpoint(client, target)
        pairs = events // 2
        load_before = os.getloadavg()[0]
        started = time.time()
        await make_events(client, pairs, concurrency)
        made = time.time()
        await target.wait_for(2 * pairs, timeout=None)
        report(label, target, started=started, made=made, events=2 * pairs, load_before=load_before)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--engine", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--postgres-url", default="postgresql+asyncpg://postgres@127.0.0.1/test")
    parser.add_argument("--events", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--env", nargs="*", default=[], help="KEY=VALUE for the server")
    parser.add_argument("--timeout", type=float, default=300, help="seconds for the whole run")
    args = parser.parse_args()
    postgres = args.postgres_url if args.engine == "postgresql" else None
    with TemporaryDirectory() as directory:
        async with fresh_database(Path(directory), postgres) as database:
            env = server_env(database, **SERVER_ENV, **dict(p.split("=", 1) for p in args.env))
            with running_server(Path(directory), env) as server:
                async with asyncio.timeout(args.timeout):
                    label = " ".join([args.engine, *args.env])
                    await measure(server.url, label, args.events, args.concurrency)


if __name__ == "__main__":
    asyncio.run(main())
