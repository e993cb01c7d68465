"""`python -m bench`: seed, serve, drive with wrk, and print the table (see --help)."""

import argparse
import asyncio
import platform
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg

from app.auth import mint_token
from app.config import Settings
from bench import runner
from bench.seed import Dataset, seed
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
    parser.add_argument("--output", type=Path, default=Path("bench/results"))
    parser.add_argument("--smoke", action="store_true", help="a few seconds, tiny data (CI)")
    args = parser.parse_args()
    if args.smoke:
        args.sessions, args.registrations, args.seconds, args.connections = 300, 3_000, 1, 4
    return args


async def _fresh_database(args: argparse.Namespace, directory: Path) -> dict[str, str]:
    if args.engine == "sqlite":
        return {"DATABASE_URL": f"sqlite+aiosqlite:///{directory / 'bench.db'}"}
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    connection = await asyncpg.connect(args.postgres_url.replace("+asyncpg", ""))
    await connection.execute(f'CREATE SCHEMA "{schema}"')
    await connection.close()
    return {"DATABASE_URL": args.postgres_url, "DATABASE_SCHEMA": schema}


async def _drop(args: argparse.Namespace, env: dict[str, str]) -> None:
    if "DATABASE_SCHEMA" in env:
        connection = await asyncpg.connect(args.postgres_url.replace("+asyncpg", ""))
        await connection.execute(f'DROP SCHEMA "{env["DATABASE_SCHEMA"]}" CASCADE')
        await connection.close()


def _versions(args: argparse.Namespace) -> str:
    database = f"SQLite {sqlite3.sqlite_version}"
    if args.engine == "postgresql":
        out = subprocess.run(
            ["psql", args.postgres_url.replace("+asyncpg", ""), "-Atc", "show server_version"],
            capture_output=True,
            text=True,
            check=False,
        )
        database = f"PostgreSQL {out.stdout.strip() or '?'}"
    cores = len(__import__("os").sched_getaffinity(0))
    return (
        f"{cores} cores ({platform.machine()}), Python {platform.python_version()}, {database}; "
        f"server pinned to core {SERVER_CORE}, wrk to core {LOAD_CORE}"
    )


def _measure(target: runner.Server, workloads, counters, args) -> dict[str, dict[str, float]]:  # type: ignore[no-untyped-def]
    results = {}
    for workload in workloads:
        before = counters(target, workload.route)
        measured = runner.run_wrk(
            target, workload, seconds=args.seconds, connections=args.connections, core=LOAD_CORE
        )
        after = counters(target, workload.route)
        requests = max(after[1] - before[1], 1)
        results[workload.name] = {
            "title": workload.title,
            "rps": measured.per_second,
            "p50": measured.p50_ms,
            "p99": measured.p99_ms,
            "errors": measured.errors,
            "rss": target.peak_rss / 2**20,
            "statements": (after[0] - before[0]) / requests,
        }
    return results


def _table(title: str, versions: str, service: dict, reference: dict, args) -> str:  # type: ignore[no-untyped-def]
    lines = [
        f"### {title}",
        "",
        f"{versions}; {args.sessions:,} sessions, {args.registrations:,} registrations; "
        f"{args.seconds:g} s per workload at {args.connections} connections.",
        "",
        "| workload | side | req/s | p50 ms | p99 ms | errors | peak RSS MiB | SQL/req | service/reference |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, row in service.items():
        ref = reference.get(name)
        ratio = f"{row['rps'] / ref['rps']:.2f}×" if ref and ref["rps"] else ""
        lines.append(
            f"| {name} {row['title']} | service | {row['rps']:.0f} | {row['p50']:.1f} | {row['p99']:.1f} "
            f"| {row['errors']:.0f} | {row['rss']:.0f} | {row['statements']:.1f} | {ratio} |"
        )
        if ref:
            lines.append(
                f"| {name} {ref['title']} | reference | {ref['rps']:.0f} | {ref['p50']:.1f} "
                f"| {ref['p99']:.1f} | {ref['errors']:.0f} | {ref['rss']:.0f} | {ref['statements']:.1f} | |"
            )
    return "\n".join(lines) + "\n"


async def main() -> int:
    args = _arguments()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="bench-") as directory:
        env = await _fresh_database(args, Path(directory))
        env["AUTH_JWT_SECRET"] = SECRET
        env["LOG_LEVEL"] = "WARNING"
        try:
            settings = Settings(
                database_url=env["DATABASE_URL"],
                database_schema=env.get("DATABASE_SCHEMA"),
                auth_jwt_secret=SECRET,
            )
            dataset: Dataset = await seed(settings, args.sessions, args.registrations)
            token = mint_token(
                SECRET,
                sub="host-1",
                scopes=["sessions:write", "registrations:write"],
                ttl=timedelta(hours=2),
            )
            members = [
                mint_token(
                    SECRET,
                    sub=f"bench-user-{i}",
                    scopes=["registrations:write"],
                    ttl=timedelta(hours=2),
                )
                for i in range(20_000 if not args.smoke else 500)
            ]
            versions = _versions(args)
            tables = []
            with runner.server(runner.REFERENCE, env, SERVER_CORE) as reference_server:
                reference = _measure(
                    reference_server, reference_workloads(dataset), runner.reference_counters, args
                )
            for workers in args.workers:
                command = [part.replace("{workers}", str(workers)) for part in runner.SERVICE]
                with runner.server(command, env, SERVER_CORE) as service_server:
                    service = _measure(
                        service_server,
                        service_workloads(dataset, token, members),
                        runner.service_counters,
                        args,
                    )
                tables.append(
                    _table(
                        f"{args.engine}, {workers} worker(s)", versions, service, reference, args
                    )
                )
        finally:
            await _drop(args, env)
    report = "\n".join(tables)
    print(report)
    args.output.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = args.output / f"{stamp}-{args.engine}{'-smoke' if args.smoke else ''}.md"
    path.write_text(report)
    print(f"bench: wrote {path} in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
