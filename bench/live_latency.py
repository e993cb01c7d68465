"""Live-update latency across processes: `python -m bench.live_latency`.

Two `live-sessions serve` processes (one worker each, so the writer and the subscriber
are certainly different processes) on a fresh PostgreSQL schema. A subscriber follows
one session on server B; `--events` registrations are made through server A, either
one at a time (each waits for its event) or `--concurrency` at once. Prints p50, p99 and
the maximum of the time from sending a mutation to its event reaching the subscriber.
Extra `KEY=VALUE` pairs (`--env`) go to both servers' environment.
"""

import argparse
import asyncio
import statistics
import sys
import time
import uuid
from pathlib import Path
from tempfile import TemporaryDirectory

import asyncpg
import httpx

from tests.helpers import auth, post_session, token, valid_body
from tests.server import running_server, server_env
from tests.ws_client import GraphQLSocket

FOLLOW = "subscription($id: ID!) { sessionUpdated(id: $id) { registeredCount version } }"
REGISTER = "mutation($id: ID!) { registerForSession(sessionId: $id) { id } }"


async def measure(url_a: str, url_b: str, events: int, concurrency: int) -> list[float]:
    async with httpx.AsyncClient(base_url=url_a, timeout=30) as writer:
        created = await post_session(writer, valid_body(max_participants=events + 10))
        session_id = created.json()["id"]
        socket = await GraphQLSocket.open(url_b, token=token("watcher"))
        await socket.acknowledged()
        await socket.subscribe(FOLLOW, {"id": session_id})
        await socket.next_data()
        sent: dict[int, float] = {}
        arrived: dict[int, float] = {}
        each_arrival = asyncio.Event()

        async def reader() -> None:
            while len(arrived) < events:
                data = (await socket.next_data(timeout=30))["sessionUpdated"]
                arrived[data["registeredCount"]] = time.perf_counter()
                each_arrival.set()

        async def register(number: int) -> None:
            sent[number] = time.perf_counter()
            response = await writer.post(
                "/graphql",
                json={"query": REGISTER, "variables": {"id": session_id}},
                headers=auth(f"member-{number}"),
            )
            assert "errors" not in response.json(), response.text

        reading = asyncio.create_task(reader())
        if concurrency == 1:
            for number in range(events):
                await register(number)
                while len(arrived) <= number:
                    each_arrival.clear()
                    await each_arrival.wait()
        else:
            gate = asyncio.Semaphore(concurrency)

            async def bounded(number: int) -> None:
                async with gate:
                    await register(number)

            await asyncio.gather(*(bounded(n) for n in range(events)))
        await reading
        await socket.close()
    # With concurrent writers the count does not name the mutation; pair them in order.
    starts = sorted(sent.values())
    ends = [arrived[count] for count in sorted(arrived)]
    return [end - start for start, end in zip(starts, ends, strict=True)]


def report(label: str, latencies: list[float]) -> None:
    ms = sorted(value * 1000 for value in latencies)
    p99 = ms[min(len(ms) - 1, round(0.99 * len(ms)) - 1)]
    print(
        f"{label}: n={len(ms)} p50={statistics.median(ms):.1f} ms "
        f"p99={p99:.1f} ms max={ms[-1]:.1f} ms"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--postgres-url", default="postgresql+asyncpg://postgres@127.0.0.1/test")
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--env", nargs="*", default=[])
    args = parser.parse_args()
    schema = f"bench_{uuid.uuid4().hex}"
    dsn = args.postgres_url.replace("postgresql+asyncpg://", "postgresql://")
    admin = await asyncpg.connect(dsn)
    await admin.execute(f'CREATE SCHEMA "{schema}"')
    extra = dict(pair.split("=", 1) for pair in args.env)
    env = server_env({"database_url": args.postgres_url, "database_schema": schema}, **extra)
    try:
        with (
            TemporaryDirectory() as tmp,
            running_server(Path(tmp), env) as a,
            running_server(Path(tmp), env) as b,
        ):
            latencies = await measure(a.url, b.url, args.events, args.concurrency)
        report(f"concurrency {args.concurrency} {' '.join(args.env)}".strip(), latencies)
    finally:
        await admin.execute(f'DROP SCHEMA "{schema}" CASCADE')
        await admin.close()


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
