"""`python -m bench`: seed, serve, drive with wrk, and print the table (see --help)."""

import argparse
import asyncio
import itertools
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from app.auth import mint_token
from app.cli import HTTP_PROTOCOLS
from bench import opening, runner, scale
from bench.seed import Dataset, drop_database, fresh_database, seed, seeding_settings
from bench.workloads import reference_workloads, service_workloads

SECRET = "bench-secret-that-is-long-enough-for-hs256-tokens"
POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
SERVER_CORE, LOAD_CORE = 0, 1


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--engine", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--postgres-url", default=POSTGRES)
    parser.add_argument("--sessions", type=int, default=10_000, help="up to 1,000,000")
    parser.add_argument("--registrations", type=int, default=200_000)
    parser.add_argument("--seconds", type=float, default=10, help="per workload")
    parser.add_argument("--connections", type=int, default=16)
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
    if args.opening:
        args.workloads = sorted({*(args.workloads or []), "W1", "W5", "W6"})
    if args.smoke:
        args.sessions, args.registrations, args.seconds, args.connections = 300, 3_000, 1, 4
        args.members, args.seats, args.in_flight, args.ceiling_seconds = [50], 10, 20, 1
        args.workloads = args.workloads or ["W1", "W2", "W3", "W4", "W5", "W6"]
    return args


def _row(name: str, side: str, row: dict[str, Any], ratio: str) -> str:
    return (
        f"| {name} {row['title']} | {side} | {row['rps']:.0f} | {row['p50']:.1f} "
        f"| {row['p99']:.1f} | {row['p99'] / row['p50'] if row['p50'] else 0:.1f} "
        f"| {row['errors']:.0f} | {row['rss']:.0f} | {row['rss_growth']:+.1%} "
        f"| {row['statements']:.1f} | {ratio} |"
    )


def _table(
    title: str, versions: str, service: runner.Results, reference: runner.Results, args: Any
) -> str:
    lines = [
        f"### {title}",
        "",
        f"{versions}; {args.sessions:,} sessions, {args.registrations:,} registrations; "
        f"{args.seconds:g} s per workload at {args.connections} connections.",
        "",
        "| workload | side | req/s | p50 ms | p99 ms | p99/p50 | errors | peak RSS MiB "
        "| RSS during run | SQL/req | service/reference |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, row in service.items():
        ref = reference.get(name)
        ratio = f"{row['rps'] / ref['rps']:.2f}×" if ref and ref["rps"] else ""
        lines.append(_row(name, "service", row, ratio))
        if ref:
            lines.append(_row(name, "reference", ref, ""))
    return "\n".join(lines) + "\n"


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
    path = args.output / f"{stamp}-{args.engine}-{kind}.md"
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


async def main() -> int:
    args = _arguments()
    started = time.monotonic()
    if args.scale:
        return await _scale(args, started)
    with tempfile.TemporaryDirectory(prefix="bench-") as directory:
        env = await fresh_database(args.engine, args.postgres_url, Path(directory))
        env |= _server_env(args)
        try:
            settings = seeding_settings(env)
            dataset: Dataset = await seed(settings, args.sessions, args.registrations)
            token = _token()
            members = [
                mint_token(
                    SECRET,
                    sub=f"bench-user-{i}",
                    scopes=["registrations:write"],
                    ttl=timedelta(hours=2),
                )
                for i in range(20_000 if not args.smoke else 500)
            ]
            versions = runner.versions(args.engine, args.postgres_url, SERVER_CORE, LOAD_CORE)
            load: dict[str, Any] = {
                "seconds": args.seconds,
                "connections": args.connections,
                "core": LOAD_CORE,
            }
            tables = []
            # Both servers stay up and each reference workload runs just before the
            # service's: the machine drifts over minutes, so a ratio is only worth what
            # two adjacent runs measure. The idle server costs the other nothing.
            floor = {workload.name: workload for workload in reference_workloads(dataset)}
            chosen = [
                workload
                for workload in service_workloads(dataset, token, members)
                if not args.workloads or workload.name in args.workloads
            ]
            bursts: dict[int, tuple[runner.Results, opening.Bursts]] = {}
            with runner.server(runner.REFERENCE, env, SERVER_CORE) as reference_server:
                for workers, http in itertools.product(args.workers, args.http):
                    reference_server.peak_rss = 0  # each table's own peak
                    command = [
                        *(part.replace("{workers}", str(workers)) for part in runner.SERVICE),
                        "--http",
                        http,
                    ]
                    service: runner.Results = {}
                    reference: runner.Results = {}
                    with runner.server(command, env, SERVER_CORE) as service_server:
                        for workload in chosen:
                            if workload.name in floor:
                                reference |= runner.measure(
                                    reference_server,
                                    [floor[workload.name]],
                                    runner.reference_counters,
                                    **load,
                                )
                            service |= runner.measure(
                                service_server, [workload], runner.service_counters, **load
                            )
                        if args.workloads and "W6" in args.workloads:
                            bursts[workers] = (
                                service,
                                await _bursts(service_server, settings, token, args),
                            )
                    title = f"{args.engine}, {workers} worker(s)"
                    tables.append(
                        _table(
                            title if http == "bounded" else f"{title}, uvicorn's {http}",
                            versions,
                            service,
                            reference,
                            args,
                        )
                    )
            if bursts:
                tables += await _opening_tables(bursts, Path(directory), args)
        finally:
            await drop_database(args.postgres_url, env)
    kind = "smoke" if args.smoke else "opening" if bursts else "table"
    _write(args, "\n".join(tables), kind, started)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
