"""The scaling run: W3 and W4 at growing data sizes, with the query plans behind them.

`python -m bench --scale 1000 10000 100000 1000000` seeds each size afresh (registrations
in proportion, `--registrations-per-session`), runs W3 and W4 for `--seconds` each, runs
W3 with `first: 1` and `first: 100` briefly to count their SQL statements per request,
and records the plans of the W3 and W4 statements, built by the service's own code.
"""

import enum
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.config import Settings
from app.db import create_engine
from app.resolvers.sessions import SessionFilter, page_query
from app.resolvers.views import view_query, viewer_is
from bench import runner
from bench.seed import Dataset, drop_database, fresh_database, seed, seeding_settings
from bench.workloads import list_sessions, session_by_id

VIEWER = "host-1"  # the W3/W4 caller
COUNT_SECONDS = 2  # for the statements-per-request runs: counting needs no long run


@dataclass(frozen=True)
class SizeResult:
    sessions: int
    registrations: int
    measured: runner.Results
    plans: dict[str, str]


async def explain(settings: Settings, query: Any) -> str:
    """The database's plan for `query` as the service would run it for VIEWER."""
    engine = create_engine(settings)
    try:
        compiled = query.compile(dialect=engine.dialect)
        values = compiled.construct_params(viewer_is(VIEWER))
        positional = [
            value.value if isinstance(value, enum.Enum) else value
            for value in (values[name] for name in compiled.positiontup)
        ]
        async with engine.connect() as connection:
            if settings.is_sqlite:
                rows = await connection.exec_driver_sql(
                    f"EXPLAIN QUERY PLAN {compiled}", tuple(positional)
                )
                return "\n".join(str(row[-1]) for row in rows)
            raw: Any = (await connection.get_raw_connection()).driver_connection
            plan = await raw.fetch(f"EXPLAIN {compiled}", *positional)
            return "\n".join(row[0] for row in plan)
    finally:
        await engine.dispose()


async def measure_size(args: Any, size: int, token: str, env_base: dict[str, str]) -> SizeResult:
    registrations = size * args.registrations_per_session
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as directory:
        env = await fresh_database(args.engine, args.postgres_url, Path(directory)) | env_base
        try:
            settings = seeding_settings(env)
            dataset: Dataset = await seed(settings, size, registrations)
            plans = {
                "W3": await explain(
                    settings,
                    page_query(SessionFilter(brand_id=dataset.brands[0]), first=50, after=None),
                ),
                "W4": await explain(settings, view_query(dataset.session_ids[0])),
            }
            command = [part.replace("{workers}", "1") for part in runner.SERVICE]
            with runner.server(command, env, args.server_core) as server:
                timed = runner.measure(
                    server,
                    [list_sessions(dataset, token), session_by_id(dataset, token)],
                    runner.service_counters,
                    seconds=args.seconds,
                    connections=args.connections,
                    core=args.load_core,
                )
                counted = runner.measure(
                    server,
                    [
                        list_sessions(dataset, token, first=1, name="W3 first: 1"),
                        list_sessions(dataset, token, first=100, name="W3 first: 100"),
                    ],
                    runner.service_counters,
                    seconds=COUNT_SECONDS,
                    connections=args.connections,
                    core=args.load_core,
                )
        finally:
            await drop_database(args.postgres_url, env)
    return SizeResult(size, registrations, timed | counted, plans)


def report(results: list[SizeResult], versions: str, args: Any) -> str:
    lines = [
        f"### Scaling, {args.engine}, 1 worker",
        "",
        f"{versions}; {args.seconds:g} s per workload at {args.connections} connections; "
        f"{args.registrations_per_session} registrations per session.",
        "",
        "| sessions | registrations | W3 req/s | W3 p50 ms | W3 p99 ms | W4 req/s | W4 p50 ms "
        "| W4 p99 ms | SQL/req W3 first: 1 | SQL/req W3 first: 100 |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for result in results:
        w3, w4 = result.measured["W3"], result.measured["W4"]
        one, hundred = result.measured["W3 first: 1"], result.measured["W3 first: 100"]
        lines.append(
            f"| {result.sessions:,} | {result.registrations:,} | {w3['rps']:.0f} | "
            f"{w3['p50']:.1f} | {w3['p99']:.1f} | {w4['rps']:.0f} | {w4['p50']:.1f} | "
            f"{w4['p99']:.1f} | {one['statements']:.1f} | {hundred['statements']:.1f} |"
        )
    by_size = {result.sessions: result for result in results}
    largest = results[-1]
    if 10_000 in by_size and largest.sessions > 10_000:
        base = by_size[10_000].measured["W3"]["p50"]
        growth = largest.measured["W3"]["p50"] / base if base else float("inf")
        lines += [
            "",
            f"W3 p50 at {largest.sessions:,} sessions is {growth:.2f}× its p50 at 10,000 "
            "(target: at most 1.5×).",
        ]
    lines += ["", "Plans (the service's own W3 and W4 statements, as the database explains them):"]
    for result in results:
        for name, plan in result.plans.items():
            lines += ["", f"{name} at {result.sessions:,} sessions:", "", "```", plan, "```"]
    return "\n".join(lines) + "\n"
