"""What a calendar app's poll costs: `python -m bench.calendar_polls`.

One `live-sessions serve` process (one worker) on a fresh SQLite file, or on a fresh
PostgreSQL schema with `--postgres URL`; one member registered for `--sessions`
sessions. Then `--polls` sequential GETs of the member's feed and of one session's
file, each answered in full (200) and with the ETag it already has (304). Prints p50
and p99 of the time to the whole answer, and the answer's size.
"""

import argparse
import asyncio
import statistics
import time
from pathlib import Path
from tempfile import TemporaryDirectory

import httpx

from bench.database import fresh_database
from tests.helpers import auth, session_input
from tests.server import running_server, server_env

CREATE = "mutation($input: CreateSessionInput!) { createSession(input: $input) { id calendarUrl } }"
REGISTER = "mutation($id: ID!) { registerForSession(sessionId: $id) { id } }"
FEED_URL = "mutation { calendarFeedUrl }"
MEMBER = "member-1"


async def gql(client: httpx.AsyncClient, query: str, user: str, **variables: object) -> dict:
    response = await client.post(
        "/graphql", json={"query": query, "variables": variables}, headers=auth(user)
    )
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


async def seed(client: httpx.AsyncClient, sessions: int) -> tuple[str, str]:
    """The member's feed URL and one session's file URL."""
    file_url = ""
    for number in range(sessions):
        scheduled = f"2030-{1 + number % 12:02d}-{1 + number % 28:02d}T{number % 24:02d}:00:00Z"
        data = await gql(
            client,
            CREATE,
            "host-1",
            input=session_input(title=f"Session {number} ✨", scheduledAt=scheduled),
        )
        session = data["createSession"]
        file_url = session["calendarUrl"]
        await gql(client, REGISTER, MEMBER, id=session["id"])
    feed_url = (await gql(client, FEED_URL, MEMBER))["calendarFeedUrl"]
    return feed_url, file_url


async def timed(
    client: httpx.AsyncClient, url: str, polls: int, etag: str | None
) -> tuple[list[float], int, int]:
    headers = {} if etag is None else {"If-None-Match": etag}
    times: list[float] = []
    status = size = 0
    for _ in range(polls):
        started = time.perf_counter()
        response = await client.get(url, headers=headers)
        times.append((time.perf_counter() - started) * 1000)
        status, size = response.status_code, len(response.content)
    return times, status, size


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def measure(base_url: str, sessions: int, polls: int) -> None:
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
        feed_url, file_url = await seed(client, sessions)
        print("| answer | status | bytes | p50 ms | p99 ms |\n| --- | --- | --- | --- | --- |")
        for name, url in ((f"feed of {sessions}", feed_url), ("one session's file", file_url)):
            etag = (await client.get(url)).headers["etag"]
            for label, tag in (("full", None), ("unchanged", etag)):
                await timed(client, url, 5, tag)  # warm up
                times, status, size = await timed(client, url, polls, tag)
                print(
                    f"| {name}, {label} | {status} | {size:,} | "
                    f"{statistics.median(times):.2f} | {percentile(times, 0.99):.2f} |"
                )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sessions", type=int, default=100)
    parser.add_argument("--polls", type=int, default=200)
    parser.add_argument("--postgres", help="postgresql+asyncpg://… (default: SQLite)")
    args = parser.parse_args()
    with TemporaryDirectory() as directory:
        async with fresh_database(Path(directory), args.postgres) as database:
            with running_server(Path(directory), server_env(database)) as server:
                await measure(server.url, args.sessions, args.polls)


if __name__ == "__main__":
    asyncio.run(main())
