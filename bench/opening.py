"""W6, "opening": one session, N distinct members registering at once.

Not a steady-state loop but a burst. Per burst, on a running server:

1. create one session (`--seats`, default SEATS; waitlist on or off) through the API, as
   host-1;
2. mint N member tokens (distinct subjects), written to a file, one a line;
3. `wrk` (one thread, pinned to the load core, `--in-flight` connections) walks that
   list exactly once: each request takes the next member, a connection that finds the
   list used up idles, and the run stops at the N-th answer. The Lua script sorts every
   answer by what it says (`REGISTERED`, `WAITLISTED`, a GraphQL error code, an HTTP
   status) and wrk keeps its latency histogram (p50, p99 from send to answer);
4. read the session's rows back from the database and compare them with what must hold
   (the seats taken, the rest waitlisted with tickets 1..N-seats, or told SESSION_FULL)
   and with what the answers said: every difference is reported.

The ceiling beside it is the database alone doing the same transaction (lock one shared
row, insert one row, update the row, commit): `pgbench` with a generated script in a
scratch schema on PostgreSQL, and the same loop through Python's `sqlite3` with the
service's pragmas on SQLite (one writer at a time, so one connection is its ceiling).
"""

import asyncio
import itertools
import json
import os
import re
import sqlite3
import statistics
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import sqlalchemy as sa

from app.auth import mint_token
from app.config import Settings
from app.db import create_engine
from app.models import RegistrationStatus
from bench import runner
from bench.seed import REGISTRATIONS, SESSIONS

SEATS = 100
WRK_TIMEOUT_S = 30  # beyond the service's own 10 s limits, so its TIMEOUT answers show
CREATE = (
    "mutation Open($input: CreateSessionInput!) "
    "{ createSession(input: $input) { id maxParticipants waitlistEnabled } }"
)
REGISTER = (
    "mutation Register($id: ID!) { registerForSession(sessionId: $id) "
    "{ id registeredCount registrationStatus waitlistPosition } }"
)
ACCEPTED = {"REGISTERED", "WAITLISTED"}

# Every answer is sorted under one key; `counts`, `answered` and `sent` are globals of
# the thread's Lua state, which done() (in the main state) reads through thread:get.
SCRIPT = """
local ffi = require("ffi")
ffi.cdef("int getpid(void); int kill(int pid, int sig);")
wrk.method = "POST"
wrk.path = "/graphql"
wrk.body = @BODY@
local tokens = {}
for line in io.lines(@TOKENS@) do tokens[#tokens + 1] = line end
local n = #tokens
sent = 0
answered = 0
counts = {}
local reserved = 0
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

-- wrk asks delay() before each request() on a connection, and other connections may
-- ask in between: the member is reserved here, so the list's end cannot be overrun.
function delay()
  if reserved >= n then return 3600000 end  -- used up: wait, out of the way, for the end
  reserved = reserved + 1
  return 0
end

function request()
  sent = sent + 1
  return wrk.format(nil, nil, {["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. tokens[(sent - 1) % n + 1]}, nil)
end

function response(status, headers, body)
  answered = answered + 1
  local code = string.match(body, '"code"%s*:%s*"([%u_]+)"')
  local key
  if status ~= 200 then
    key = "HTTP " .. status .. (code and (" " .. code) or "")
  elseif code then
    key = code
  else
    key = string.match(body, '"registrationStatus"%s*:%s*"(%u+)"') or "unreadable answer"
  end
  counts[key] = (counts[key] or 0) + 1
  if answered == n then
    -- wrk's main thread sleeps for all of -d whatever its threads do; the interrupt that
    -- wrk handles by stopping early (its Ctrl-C) ends the run at the last answer.
    wrk.thread:stop()
    ffi.C.kill(ffi.C.getpid(), 2)
  end
end

function done(summary, latency, requests)
  local t = threads[1]
  local parts = {}
  for key, value in pairs(t:get("counts")) do
    parts[#parts + 1] = string.format('%q: %d', key, value)
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH {"answered": %d, "sent": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, '
    .. '"max_us": %d, "connect": %d, "read": %d, "write": %d, "timeout": %d, '
    .. '"counts": {%s}}\\n',
    t:get("answered"), t:get("sent"), summary.duration, latency:percentile(50),
    latency:percentile(99), latency.max, e.connect, e.read, e.write, e.timeout,
    table.concat(parts, ", ")))
end
"""


@dataclass
class Burst:
    """One burst: what the clients saw and what the database holds afterwards."""

    members: int
    seats: int
    waitlist: bool
    seconds: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    answers: dict[str, int]  # REGISTERED, WAITLISTED, error codes, "HTTP 503", ...
    unanswered: int  # sent to wrk's list but never answered (connection errors)
    wrk_errors: dict[str, int]  # wrk's own socket error counters
    discrepancies: list[str] = field(default_factory=list)

    @property
    def per_second(self) -> float:
        """Answers per second: every member told REGISTERED, WAITLISTED or SESSION_FULL."""
        return sum(self.answers.values()) / self.seconds if self.seconds else 0.0

    @property
    def errors(self) -> dict[str, int]:
        """Every answer that is not one the rules allow, plus requests left unanswered."""
        allowed = ACCEPTED if self.waitlist else ACCEPTED | {"SESSION_FULL"}
        found = {key: count for key, count in self.answers.items() if key not in allowed}
        if self.unanswered:
            found["no answer"] = self.unanswered
        return found


Bursts = dict[tuple[int, bool], list[Burst]]  # (members, waitlist on) -> its bursts


def create_session(url: str, host_token: str, waitlist: bool, seats: int) -> str:
    variables = {
        "input": {
            "hostId": "host-1",
            "brandId": "brand-opening",
            "title": "A popular session opens",
            "scheduledAt": "2031-06-01T10:00:00Z",
            "maxParticipants": seats,
            "waitlistEnabled": waitlist,
        }
    }
    answer = httpx.post(
        url + "/graphql",
        json={"query": CREATE, "variables": variables},
        headers={"Authorization": f"Bearer {host_token}"},
        timeout=30,
    ).json()
    if answer.get("errors"):
        raise RuntimeError(f"createSession failed: {answer['errors']}")
    session_id: str = answer["data"]["createSession"]["id"]
    return session_id


def member_tokens(secret: str, count: int) -> list[str]:
    """`count` members no earlier burst has seen."""
    prefix = f"opening-{uuid.uuid4().hex[:8]}"
    return [
        mint_token(
            secret, sub=f"{prefix}-{i}", scopes=["registrations:write"], ttl=timedelta(hours=2)
        )
        for i in range(count)
    ]


def run_wrk(
    target: runner.Server, session_id: str, tokens: list[str], *, in_flight: int, core: int
) -> dict[str, Any]:
    """wrk walks `tokens` once with `in_flight` connections; its BENCH line, parsed."""
    body = json.dumps({"query": REGISTER, "variables": {"id": session_id}})
    with tempfile.TemporaryDirectory(prefix="bench-opening-") as directory:
        token_file = Path(directory) / "tokens"
        token_file.write_text("\n".join(tokens) + "\n")
        script = Path(directory) / "opening.lua"
        script.write_text(
            SCRIPT.replace("@BODY@", json.dumps(body)).replace(
                "@TOKENS@", json.dumps(str(token_file))
            )
        )
        # A cap on the run only for when answers go missing: wrk stops at the last answer.
        cap = 60 + len(tokens) // 20
        done = subprocess.run(
            [
                *("taskset", "-c", str(core), "wrk", "-t1", f"-c{min(in_flight, len(tokens))}"),
                *(f"-d{cap}s", "--timeout", f"{WRK_TIMEOUT_S}s", "-s", str(script)),
                target.url + "/graphql",
            ],
            capture_output=True,
            text=True,
            check=True,
            timeout=cap + 60,
        )
    line = next((line for line in done.stdout.splitlines() if line.startswith("BENCH ")), None)
    if line is None:
        raise RuntimeError(f"wrk gave no BENCH line:\n{done.stdout}\n{done.stderr}")
    data: dict[str, Any] = json.loads(line.removeprefix("BENCH "))
    return data


async def _held(settings: Settings, session_id: str) -> tuple[dict[str, Any], list[Any]]:
    engine = create_engine(settings)
    try:
        async with engine.connect() as connection:
            row = (
                await connection.execute(
                    sa.select(
                        SESSIONS.c.registered_count,
                        SESSIONS.c.waitlist_count,
                        SESSIONS.c.waitlist_tickets,
                        SESSIONS.c.max_participants,
                    ).where(SESSIONS.c.id == session_id)
                )
            ).one()
            rows = (
                await connection.execute(
                    sa.select(REGISTRATIONS.c.status, REGISTRATIONS.c.ticket).where(
                        REGISTRATIONS.c.session_id == session_id
                    )
                )
            ).all()
    finally:
        await engine.dispose()
    return dict(row._mapping), list(rows)


async def verify(settings: Settings, session_id: str, burst: Burst) -> list[str]:
    """Every way the database or the answers differ from what the rules require."""
    session, rows = await _held(settings, session_id)
    seated = sum(1 for status, _ in rows if status == RegistrationStatus.REGISTERED)
    waiting = sorted(
        ticket or 0 for status, ticket in rows if status != RegistrationStatus.REGISTERED
    )
    expected_seated = min(burst.seats, burst.members)
    expected_waiting = burst.members - expected_seated if burst.waitlist else 0
    problems = []

    def expect(what: str, found: object, wanted: object) -> None:
        if found != wanted:
            problems.append(f"{what}: {found}, expected {wanted}")

    expect("seated rows", seated, expected_seated)
    expect("waitlisted rows", len(waiting), expected_waiting)
    expect("registered_count", session["registered_count"], seated)
    expect("waitlist_count", session["waitlist_count"], len(waiting))
    expect("waitlist tickets", waiting, list(range(1, len(waiting) + 1)))
    answers = burst.answers
    expect("answers REGISTERED", answers.get("REGISTERED", 0), seated)
    expect("answers WAITLISTED", answers.get("WAITLISTED", 0), len(waiting))
    if not burst.waitlist:
        expect("answers SESSION_FULL", answers.get("SESSION_FULL", 0), burst.members - seated)
    return problems


async def burst(
    target: runner.Server,
    settings: Settings,
    *,
    secret: str,
    host_token: str,
    members: int,
    seats: int,
    waitlist: bool,
    in_flight: int,
    core: int,
) -> Burst:
    session_id = create_session(target.url, host_token, waitlist, seats)
    tokens = member_tokens(secret, members)
    data = run_wrk(target, session_id, tokens, in_flight=in_flight, core=core)
    result = Burst(
        members=members,
        seats=seats,
        waitlist=waitlist,
        seconds=data["duration_us"] / 1e6,
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        max_ms=data["max_us"] / 1000,
        answers=data["counts"],
        unanswered=members - data["answered"],
        wrk_errors={key: data[key] for key in ("connect", "read", "write", "timeout") if data[key]},
    )
    result.discrepancies = await verify(settings, session_id, result)
    print(f"bench: {describe(result)}", flush=True)
    return result


def describe(result: Burst) -> str:
    errors = ", ".join(f"{key} {count}" for key, count in sorted(result.errors.items()))
    problems = "; ".join(result.discrepancies)
    return (
        f"W6 {result.members} members, waitlist {'on' if result.waitlist else 'off'}: "
        f"{result.seconds:.1f} s, {result.per_second:.0f}/s, p50 {result.p50_ms:.0f} ms, "
        f"p99 {result.p99_ms:.0f} ms, answers {dict(sorted(result.answers.items()))}"
        + (f", errors: {errors}" if errors else "")
        + (f", wrk socket errors {result.wrk_errors}" if result.wrk_errors else "")
        + (f"; DISCREPANCIES: {problems}" if problems else "; database checks out")
    )


# The ceiling: the same transaction with nothing in front of the database.

PGBENCH_SCRIPT = """\
BEGIN;
SELECT registered_count FROM opening_sessions WHERE id = 1 FOR UPDATE;
INSERT INTO opening_registrations (session_id, user_id, created_at)
  VALUES (1, gen_random_uuid()::text, now());
UPDATE opening_sessions SET registered_count = registered_count + 1, updated_at = now()
  WHERE id = 1;
COMMIT;
"""
TABLES = [
    "CREATE TABLE opening_sessions (id int PRIMARY KEY, registered_count int NOT NULL, "
    "updated_at timestamptz NOT NULL)",
    "CREATE TABLE opening_registrations (session_id int NOT NULL REFERENCES opening_sessions, "
    "user_id text NOT NULL, created_at timestamptz NOT NULL, PRIMARY KEY (session_id, user_id))",
    "CREATE INDEX opening_registrations_user ON opening_registrations (user_id, session_id)",
    "INSERT INTO opening_sessions VALUES (1, 0, now())",
]


@dataclass(frozen=True)
class Ceiling:
    tool: str
    clients: int
    runs: tuple[float, ...]  # tx/s of each run

    @property
    def per_second(self) -> float:
        return _median(list(self.runs))


CEILING_RUNS = 3  # the disk is shared and its fsyncs vary: a median, and the spread


def _pgbench() -> str:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pgbench"))
    return str(found[-1]) if found else "pgbench"


def _run_pgbench(env: dict[str, str], clients: int, seconds: float, core: int) -> float:
    with tempfile.TemporaryDirectory(prefix="bench-pgbench-") as directory:
        script = Path(directory) / "opening.sql"
        script.write_text(PGBENCH_SCRIPT)
        done = subprocess.run(
            [
                *("taskset", "-c", str(core), _pgbench(), "--no-vacuum"),
                *("--protocol", "prepared", "--file", str(script)),
                *(f"--client={clients}", f"--jobs={min(clients, 2)}", f"--time={round(seconds)}"),
            ],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            timeout=seconds + 60,
        )
    match = re.search(r"tps = ([\d.]+) \(without initial connection time\)", done.stdout)
    if match is None:
        raise RuntimeError(f"pgbench said:\n{done.stdout}\n{done.stderr}")
    return float(match.group(1))


async def pgbench_ceiling(
    postgres_url: str, clients: list[int], seconds: float, core: int
) -> list[Ceiling]:
    """tx/s of PGBENCH_SCRIPT in a scratch schema, for each number of clients; pgbench
    pinned to `core` as wrk is, prepared statements as asyncpg uses."""
    url = sa.engine.make_url(postgres_url)
    plain = postgres_url.replace("+asyncpg", "")
    schema = f"opening_{uuid.uuid4().hex[:12]}"
    connection = await asyncpg.connect(plain)
    try:
        await connection.execute(f'CREATE SCHEMA "{schema}"')
        await connection.execute(f'SET search_path = "{schema}"')
        for statement in TABLES:
            await connection.execute(statement)
        env = {
            **os.environ,
            "PGOPTIONS": f"-c search_path={schema}",
            "PGHOST": url.host or "127.0.0.1",
            "PGPORT": str(url.port or 5432),
            "PGUSER": url.username or "postgres",
            "PGDATABASE": url.database or "postgres",
        }
        if url.password:
            env["PGPASSWORD"] = url.password
        runs: dict[int, list[float]] = {count: [] for count in clients}
        for _, count in itertools.product(range(CEILING_RUNS), clients):  # interleaved
            runs[count].append(await asyncio.to_thread(_run_pgbench, env, count, seconds, core))
        return [Ceiling("pgbench", count, tuple(found)) for count, found in runs.items()]
    finally:
        await connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        await connection.close()


def sqlite_ceiling(directory: Path, seconds: float) -> list[Ceiling]:
    """The same transaction through Python's sqlite3 with the service's pragmas (WAL,
    synchronous=FULL, BEGIN IMMEDIATE) on a scratch file beside the bench database. SQLite
    takes one writer at a time, so more connections cannot raise it."""
    path = directory / "ceiling.db"
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=FULL")
        connection.execute(
            "CREATE TABLE opening_sessions (id INTEGER PRIMARY KEY, "
            "registered_count INTEGER NOT NULL, updated_at TEXT NOT NULL)"
        )
        connection.execute(
            "CREATE TABLE opening_registrations (session_id INTEGER NOT NULL, "
            "user_id TEXT NOT NULL, created_at TEXT NOT NULL, PRIMARY KEY (session_id, user_id))"
        )
        connection.execute(
            "CREATE INDEX opening_registrations_user ON opening_registrations (user_id, session_id)"
        )
        connection.execute("INSERT INTO opening_sessions VALUES (1, 0, datetime('now'))")
        runs = []
        for _ in range(CEILING_RUNS):
            runs.append(_sqlite_loop(connection, seconds))
    finally:
        connection.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    return [Ceiling("sqlite3 loop", 1, tuple(runs))]


def _sqlite_loop(connection: sqlite3.Connection, seconds: float) -> float:
    done = 0
    started = time.monotonic()
    while (elapsed := time.monotonic() - started) < seconds:
        connection.execute("BEGIN IMMEDIATE")
        connection.execute("SELECT registered_count FROM opening_sessions WHERE id = 1")
        connection.execute(
            "INSERT INTO opening_registrations VALUES (1, ?, datetime('now'))",
            (uuid.uuid4().hex,),
        )
        connection.execute(
            "UPDATE opening_sessions SET registered_count = registered_count + 1, "
            "updated_at = datetime('now') WHERE id = 1"
        )
        connection.execute("COMMIT")
        done += 1
    return done / elapsed


# The report.


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


def _spread(values: list[float], digits: int = 0) -> str:
    middle = f"{_median(values):,.{digits}f}"
    if len(values) < 2:
        return middle
    return f"{middle} ({min(values):,.{digits}f}–{max(values):,.{digits}f})"


def _ratio(part: float, whole: float) -> str:
    return f"{part / whole:.2f}×" if whole else "–"


def report(
    title: str,
    bursts: Bursts,
    server: dict[str, float],
    ceilings: list[Ceiling],
    *,
    in_flight: int,
    seats: int,
) -> str:
    """One table per server: each (members, waitlist) with W5 and W1 of the same server."""
    w5, w1 = server.get("W5", 0.0), server.get("W1", 0.0)
    best = max((ceiling.per_second for ceiling in ceilings), default=0.0)
    lines = [
        f"### W6 opening, {title}",
        "",
        f"One session of {seats} seats; N distinct members at once, {in_flight} in flight. "
        "Answers/s: every registerForSession answered (seated, waitlisted or SESSION_FULL) "
        "over the burst's wall time. Where a burst ran more than once: median (min–max).",
        "",
        "| N | waitlist | runs | wall s | answers/s | p50 ms | p99 ms | max ms | answers "
        "| errors | W5 req/s | W6 ÷ W5 | W1 req/s | W5 ÷ W1 | W6 ÷ ceiling | database |",
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | ---: | ---: "
        "| ---: | ---: | ---: | --- |",
    ]
    for (members, waitlist), runs in bursts.items():
        rate = [run.per_second for run in runs]
        answers: dict[str, list[int]] = {}
        errors: dict[str, int] = {}
        for run in runs:
            for key, count in run.answers.items():
                answers.setdefault(key, []).append(count)
            for key, count in run.errors.items():
                errors[key] = errors.get(key, 0) + count
        answer_text = ", ".join(
            f"{key} {_spread([float(c) for c in counts])}"
            for key, counts in sorted(answers.items())
        )
        error_text = ", ".join(f"{key} {count}" for key, count in sorted(errors.items())) or "0"
        problems = sorted({problem for run in runs for problem in run.discrepancies})
        lines.append(
            f"| {members:,} | {'on' if waitlist else 'off'} | {len(runs)} "
            f"| {_spread([run.seconds for run in runs], 1)} | {_spread(rate)} "
            f"| {_spread([run.p50_ms for run in runs])} | {_spread([run.p99_ms for run in runs])} "
            f"| {_spread([run.max_ms for run in runs])} | {answer_text} | {error_text} "
            f"| {w5:.0f} | {_ratio(_median(rate), w5)} | {w1:.0f} | {_ratio(w5, w1)} "
            f"| {_ratio(_median(rate), best)} "
            f"| {'; '.join(problems) or 'as required'} |"
        )
    if ceilings:
        lines += [
            "",
            "Ceiling, the same transaction with nothing in front of the database (lock the "
            "shared row, insert a row, update the row, commit): "
            + ", ".join(
                f"{c.tool} {c.clients} client{'s' if c.clients > 1 else ''}: "
                f"{_spread(list(c.runs))} tx/s"
                for c in ceilings
            )
            + ". W6 ÷ ceiling is against the best of these.",
        ]
    return "\n".join(lines) + "\n"
