"""`python -m bench`: seed, serve, drive with wrk, and print the table (see --help)."""

import argparse
import asyncio
import contextlib
import itertools
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from app.auth import mint_token
from app.cli import HTTP_PROTOCOLS
from bench import opening, peer, runner, scale
from bench.seed import Dataset, drop_database, fresh_database, seed, seeding_settings
from bench.workloads import Workload, peer_workloads, service_workloads

SECRET = "bench-secret-that-is-long-enough-for-hs256-tokens"
POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
SERVER_CORE, LOAD_CORE = 0, 1


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--engine",
        nargs="+",
        choices=["postgresql", "sqlite"],
        help="default: both for the table; SQLite for --smoke, --scale and --opening",
    )
    parser.add_argument("--postgres-url", default=POSTGRES)
    parser.add_argument("--sessions", type=int, default=10_000, help="up to 1,000,000")
    parser.add_argument("--registrations", type=int, default=200_000)
    parser.add_argument("--seconds", type=float, default=10, help="per workload and run")
    parser.add_argument("--runs", type=int, default=3, help="of each workload; medians shown")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument(
        "--no-peer", action="store_true", help="leave PostGraphile out (--smoke always does)"
    )
    parser.add_argument("--workers", type=int, nargs="+", default=[1])
    parser.add_argument(
        "--http",
        nargs="+",
        choices=HTTP_PROTOCOLS,
        default=["bounded"],
        help="the service's HTTP implementation(s) (serve --http), a table each",
    )
    parser.add_argument(
        "--workloads",
        nargs="+",
        metavar="W",
        help="only these workloads (default: W1..W5; W6, the opening burst, only when named)",
    )
    parser.add_argument(
        "--opening",
        action="store_true",
        help="W6, the opening burst, with W1 and W5 on the same server: --workloads W1 W5 W6",
    )
    parser.add_argument(
        "--members", type=int, nargs="+", default=[1_000, 10_000], help="W6: members per burst"
    )
    parser.add_argument("--seats", type=int, default=opening.SEATS, help="W6: the session's")
    parser.add_argument("--in-flight", type=int, default=200, help="W6: requests in flight")
    parser.add_argument(
        "--waitlist", nargs="+", choices=["on", "off"], default=["on", "off"], help="W6"
    )
    parser.add_argument("--repeat", type=int, default=1, help="W6: bursts per configuration")
    parser.add_argument(
        "--ceiling-clients", type=int, nargs="+", default=[1, 16], help="W6: pgbench clients"
    )
    parser.add_argument("--ceiling-seconds", type=float, default=5, help="W6: per pgbench run")
    parser.add_argument("--output", type=Path, default=Path("bench/results"))
    parser.add_argument("--smoke", action="store_true", help="a few seconds, tiny data (CI)")
    parser.add_argument(
        "--scale",
        type=int,
        nargs="+",
        metavar="SESSIONS",
        help="instead of the table: W3 and W4 at each size, with plans (bench/scale.py)",
    )
    parser.add_argument("--registrations-per-session", type=int, default=20)
    args = parser.parse_args()
    args.server_core, args.load_core = SERVER_CORE, LOAD_CORE
    single = args.smoke or args.scale or args.opening
    args.engines = args.engine or (["sqlite"] if single else ["postgresql", "sqlite"])
    if args.scale and len(args.engines) > 1:
        parser.error("--scale runs on one --engine")
    args.engine = args.engines[0]
    if args.opening:
        args.workloads = sorted({*(args.workloads or []), "W1", "W5", "W6"})
    if args.smoke:
        args.sessions, args.registrations, args.seconds, args.connections = 300, 3_000, 1, 4
        args.runs, args.no_peer = 1, True
        args.members, args.seats, args.in_flight, args.ceiling_seconds = [50], 10, 20, 1
        args.workloads = args.workloads or ["W1", "W2", "W3", "W4", "W5", "W6"]
    return args


FLOOR, PEER, SERVICE = "floor", "PostGraphile", "live-sessions"
# The side-by-side table's columns: the workload, and its heading.
SUMMARY = {"W1": "W1 REST", "W2": "W1 GraphQL", "W3": "W3 list 50", "W4": "W4 by id"}
# Side -> workload -> the median of its runs, for one engine and worker count.
Sides = dict[str, runner.Results]


def _row(name: str, side: str, row: dict[str, Any], ratio: str) -> str:
    statements = "—" if row["statements"] is None else f"{row['statements']:.1f}"
    return (
        f"| {name} {row['title']} | {side} | {row['rps']:.0f} | {row['spread']:.0%} "
        f"| {row['p50']:.1f} | {row['p99']:.1f} "
        f"| {row['p99'] / row['p50'] if row['p50'] else 0:.1f} "
        f"| {row['errors']:.0f} | {row['rss']:.0f} | {row['rss_growth']:+.1%} "
        f"| {statements} | {ratio} |"
    )


def _ratio(row: dict[str, Any], floor: dict[str, Any] | None) -> str:
    return f"{row['rps'] / floor['rps']:.2f}×" if floor and floor["rps"] else ""


def _setting(args: Any) -> str:
    return (
        f"{args.sessions:,} sessions over 20 brands, {args.registrations:,} registrations; "
        f"{args.runs} run(s) of {args.seconds:g} s per workload at {args.connections} "
        "connections, medians; spread: the runs' range of req/s over their median"
    )


def _loads(sides: Sides) -> str:
    """The machine's 1-minute load average as the runs started: others work here too."""
    loads = [bound for rows in sides.values() for row in rows.values() for bound in row["loads"]]
    return f"load average {min(loads):.1f}–{max(loads):.1f} as runs started" if loads else ""


def _table(title: str, versions: str, sides: Sides, args: Any) -> str:
    lines = [
        f"### {title}",
        "",
        f"{versions}; {_setting(args)}; {_loads(sides)}.",
        "",
        "| workload | side | req/s | spread | p50 ms | p99 ms | p99/p50 | errors | peak RSS MiB "
        "| RSS during run | SQL/req | ÷ floor |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    floor = sides.get(FLOOR, {})
    for name, row in sides[SERVICE].items():
        lines.append(_row(name, SERVICE, row, _ratio(row, floor.get(name))))
        if name in sides.get(PEER, {}):
            lines.append(
                _row(name, PEER, sides[PEER][name], _ratio(sides[PEER][name], floor.get(name)))
            )
        if name in floor:
            lines.append(_row(name, FLOOR, floor[name], ""))
    return "\n".join(lines) + "\n"


def _summary(by_engine: dict[str, Sides], versions: dict[str, str], args: Any) -> str:
    """The side-by-side table: each server on each engine, W1 (REST, GraphQL), W3, W4."""
    names = {"postgresql": "PostgreSQL", "sqlite": "SQLite"}
    heads = " | ".join(SUMMARY.values())
    rates = [f"| server | {heads} |", "| --- |" + " ---: |" * len(SUMMARY)]
    latencies = list(rates)
    for engine, sides in by_engine.items():
        floor = sides.get(FLOOR, {})
        for side in (FLOOR, PEER, SERVICE):
            if side not in sides:
                continue
            durability = ", synchronous=FULL" if engine == "sqlite" and side == FLOOR else ""
            label = f"{side} ({names[engine]}{durability})"
            rate_cells, latency_cells = [], []
            for name in SUMMARY:
                row = sides[side].get(name)
                if row is None:
                    rate_cells.append("—")
                    latency_cells.append("—")
                    continue
                ratio = _ratio(row, floor.get(name))
                rate_cells.append(f"{row['rps']:,.0f} ±{row['spread'] / 2:.0%} · {ratio}")
                latency_cells.append(f"{row['p50']:.1f} / {row['p99']:.1f}")
            rates.append(f"| {label} | " + " | ".join(rate_cells) + " |")
            latencies.append(f"| {label} | " + " | ".join(latency_cells) + " |")
    machine = "; ".join(
        f"{names[engine]}: {line}, {_loads(by_engine[engine])}" for engine, line in versions.items()
    )
    return "\n".join(
        [
            "## Side by side",
            "",
            f"{machine}. The service with {args.workers[0]} worker(s), the floor and "
            f"PostGraphile with one process each; {_setting(args)}.",
            "",
            "Requests/s (median ± half the runs' range · ÷ the same engine's floor):",
            "",
            *rates,
            "",
            "Latency, p50 / p99 ms (medians of the runs):",
            "",
            *latencies,
            "",
        ]
    )


def _server_env(args: Any) -> dict[str, str]:
    """Settings for both sides' servers. A connection per wrk connection: with the default
    pool (5 + 10 overflow) the overflow connections close between runs and reopen in the
    next, and their threads and page caches read as RSS growth of the run."""
    return {
        "AUTH_JWT_SECRET": SECRET,
        "LOG_LEVEL": "WARNING",
        "DB_POOL_SIZE": str(args.connections),
        "DB_MAX_OVERFLOW": "0",
    }


def _token() -> str:
    return mint_token(
        SECRET,
        sub="host-1",
        scopes=["sessions:write", "registrations:write"],
        ttl=timedelta(hours=6),
    )


def _write(args: Any, report: str, kind: str, started: float) -> None:
    print(report)
    args.output.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = args.output / f"{stamp}-{'+'.join(args.engines)}-{kind}.md"
    path.write_text(report)
    print(f"bench: wrote {path} in {time.monotonic() - started:.0f} s")


async def _scale(args: Any, started: float) -> int:
    env = _server_env(args)
    results = [await scale.measure_size(args, size, _token(), env) for size in args.scale]
    versions = runner.versions(args.engine, args.postgres_url, SERVER_CORE, LOAD_CORE)
    _write(args, scale.report(results, versions, args), "scale", started)
    return 0


async def _bursts(
    target: runner.Server, settings: Any, host_token: str, args: Any
) -> opening.Bursts:
    """W6 on a running server: each (members, waitlist) `--repeat` times, in turn."""
    found: opening.Bursts = {}
    for _ in range(args.repeat):
        for members, waitlist in itertools.product(args.members, args.waitlist):
            found.setdefault((members, waitlist == "on"), []).append(
                await opening.burst(
                    target,
                    settings,
                    secret=SECRET,
                    host_token=host_token,
                    members=members,
                    seats=args.seats,
                    waitlist=waitlist == "on",
                    in_flight=args.in_flight,
                    core=LOAD_CORE,
                )
            )
    return found


async def _opening_tables(
    bursts: dict[int, tuple[runner.Results, opening.Bursts]], directory: Path, args: Any
) -> list[str]:
    """W6's tables, with the database's own ceiling measured once the servers are down."""
    if args.engine == "postgresql":
        ceilings = await opening.pgbench_ceiling(
            args.postgres_url, args.ceiling_clients, args.ceiling_seconds, LOAD_CORE
        )
    else:
        ceilings = opening.sqlite_ceiling(directory, args.ceiling_seconds)
    for ceiling in ceilings:
        print(f"bench: ceiling {ceiling}", flush=True)
    tables = []
    for workers, (service, found) in bursts.items():
        rates = {name: row["rps"] for name, row in service.items()}
        title = f"{args.engine}, {workers} worker(s)"
        tables.append(
            opening.report(
                title, found, rates, ceilings, in_flight=args.in_flight, seats=args.seats
            )
        )
    return tables


def _measure_sides(
    servers: dict[str, tuple[runner.Server, dict[str, Workload], runner.Counters | None]],
    names: list[str],
    args: Any,
) -> Sides:
    """`--runs` rounds; in each, every workload on every side in turn, the floor and the peer
    right before the service: the machine drifts over minutes, so a ratio is only worth
    what adjacent runs measure. Idle servers cost the measured one nothing."""
    for target, workloads, _ in servers.values():
        for name in names:
            if name in workloads:
                runner.probe(target, workloads[name])
    found: dict[str, dict[str, list[dict[str, Any]]]] = {side: {} for side in servers}
    for run in range(1, args.runs + 1):
        for name in names:
            for side, (target, workloads, counters) in servers.items():
                if name in workloads:
                    measured = runner.measure(
                        target,
                        [workloads[name]],
                        counters,
                        seconds=args.seconds,
                        connections=args.connections,
                        core=LOAD_CORE,
                    )[name]
                    found[side].setdefault(name, []).append(measured)
                    print(
                        f"bench: {args.engine} {name} {side} run {run}/{args.runs}: "
                        f"{measured['rps']:,.0f} req/s at load {measured['load']:.1f}",
                        flush=True,
                    )
    return {
        side: {name: runner.median(runs) for name, runs in rows.items()}
        for side, rows in found.items()
        if rows
    }


async def _engine(args: Any) -> tuple[list[str], Sides, str]:
    """The tables for `args.engine`, and the sides of its first (workers, HTTP) pair."""
    with tempfile.TemporaryDirectory(prefix="bench-") as directory:
        env = await fresh_database(args.engine, args.postgres_url, Path(directory))
        env |= _server_env(args)
        try:
            return await _serve_and_measure(args, env, Path(directory))
        finally:
            await drop_database(args.postgres_url, env)


async def _serve_and_measure(
    args: Any, env: dict[str, str], directory: Path
) -> tuple[list[str], Sides, str]:
    settings = seeding_settings(env)
    dataset: Dataset = await seed(settings, args.sessions, args.registrations)
    token = _token()
    members = [
        mint_token(
            SECRET, sub=f"bench-user-{i}", scopes=["registrations:write"], ttl=timedelta(hours=2)
        )
        for i in range(20_000 if not args.smoke else 500)
    ]
    versions = runner.versions(args.engine, args.postgres_url, SERVER_CORE, LOAD_CORE)
    chosen = [
        workload
        for workload in service_workloads(dataset, token, members)
        if not args.workloads or workload.name in args.workloads
    ]
    names = [workload.name for workload in chosen]
    # The floor answers the service's own requests for W1..W4.
    floor_workloads = {w.name: w for w in chosen if w.name in SUMMARY}
    with_peer = args.engine == "postgresql" and not args.no_peer
    tables: list[str] = []
    first: Sides = {}
    bursts: dict[int, tuple[runner.Results, opening.Bursts]] = {}
    async with contextlib.AsyncExitStack() as stack:
        servers: dict[str, tuple[runner.Server, dict[str, Workload], runner.Counters | None]] = {}
        floor_server = stack.enter_context(runner.server(runner.REFERENCE, env, SERVER_CORE))
        servers[FLOOR] = (floor_server, floor_workloads, runner.reference_counters)
        if with_peer:
            node = peer.installed()
            schema = env["DATABASE_SCHEMA"]
            peer_schema = await stack.enter_async_context(peer.prepared(args.postgres_url, schema))
            peer_env = peer.environment(
                args.postgres_url, schema, peer_schema, SECRET, args.connections
            )
            peer_server = stack.enter_context(
                runner.server(peer.command(node), peer_env, SERVER_CORE)
            )
            servers[PEER] = (peer_server, {w.name: w for w in peer_workloads(dataset, token)}, None)
        for workers, http in itertools.product(args.workers, args.http):
            for target, _, _ in servers.values():
                target.peak_rss = 0  # each table's own peak
            command = [
                *(part.replace("{workers}", str(workers)) for part in runner.SERVICE),
                "--http",
                http,
            ]
            # The wrk connections' worth of pooled connections in all, shared by the
            # workers: as many per worker would be 4 x 32 on PostgreSQL, more than its
            # default max_connections (100) once the floor's are open too.
            pool = {"DB_POOL_SIZE": str(max(4, -(-args.connections // workers)))}
            with runner.server(command, env | pool, SERVER_CORE) as service_server:
                both = {
                    **servers,
                    SERVICE: (
                        service_server,
                        {w.name: w for w in chosen},
                        runner.service_counters,
                    ),
                }
                sides = _measure_sides(both, names, args)
                if args.workloads and "W6" in args.workloads:
                    bursts[workers] = (
                        sides[SERVICE],
                        await _bursts(service_server, settings, token, args),
                    )
            first = first or sides
            title = f"{args.engine}, {workers} worker(s)"
            tables.append(
                _table(
                    title if http == "bounded" else f"{title}, uvicorn's {http}",
                    versions,
                    sides,
                    args,
                )
            )
    if bursts:
        tables += await _opening_tables(bursts, directory, args)
    return tables, first, versions


async def main() -> int:
    args = _arguments()
    started = time.monotonic()
    if args.scale:
        return await _scale(args, started)
    tables: list[str] = []
    by_engine: dict[str, Sides] = {}
    versions: dict[str, str] = {}
    for engine in args.engines:
        args.engine = engine
        engine_tables, by_engine[engine], versions[engine] = await _engine(args)
        tables += engine_tables
    summary = _summary(by_engine, versions, args)
    kind = "smoke" if args.smoke else "opening" if args.opening else "table"
    _write(args, "\n".join([summary, "## Per engine", "", *tables]), kind, started)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
