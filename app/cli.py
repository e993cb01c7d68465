"""The `live-sessions` command: serve, migrate, token."""

import argparse
import logging.config
import os
import tempfile
from collections.abc import Sequence
from datetime import timedelta

from alembic import command

from app.auth import mint_token, resolve_secret
from app.config import Settings
from app.logs import logging_config
from app.migrations import alembic_config


def migrate(settings: Settings) -> None:
    command.upgrade(alembic_config(settings), "head")


# uvicorn's own implementations bound neither a request head's size nor its duration;
# they remain selectable for comparison (the benchmark's --http).
HTTP_PROTOCOLS = ("bounded", "httptools", "h11")


def _serve(args: argparse.Namespace, settings: Settings) -> None:
    import uvicorn

    from app.http_protocol import BoundedHttpProtocol

    migrate(settings)
    # Resolve (and if need be create) the secret once, before any worker starts.
    resolve_secret(settings)
    if args.workers > 1:
        _share_metrics_between_workers()
    uvicorn.run(
        "app.main:app",
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_config=logging_config(settings),
        access_log=False,
        timeout_graceful_shutdown=args.graceful_timeout,
        http=BoundedHttpProtocol if args.http == "bounded" else args.http,
    )


def _share_metrics_between_workers() -> None:
    # Workers inherit the environment; prometheus_client reads it at import.
    if "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="live-sessions-metrics-")


def _token(args: argparse.Namespace, settings: Settings) -> None:
    token = mint_token(
        resolve_secret(settings),
        sub=args.sub,
        scopes=args.scope.split(),
        ttl=timedelta(minutes=args.ttl_minutes),
        audience=settings.auth_jwt_audience,
        issuer=settings.auth_jwt_issuer,
    )
    print(token)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="live-sessions", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="apply migrations, then serve the API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument(
        "--graceful-timeout",
        type=int,
        default=30,
        help="seconds to let in-flight requests finish on shutdown",
    )
    serve.add_argument(
        "--http",
        choices=HTTP_PROTOCOLS,
        default="bounded",
        help="HTTP/1.1 implementation: bounded (default) is uvicorn's httptools one with the "
        "MAX_HEADER_BYTES, REQUEST_HEADER_TIMEOUT_S and MAX_CONNECTIONS limits; the others "
        "are uvicorn's own, without them, for comparison only",
    )

    commands.add_parser("migrate", help="apply database migrations up to the latest")

    token = commands.add_parser("token", help="print a bearer token for the configured secret")
    token.add_argument("--sub", required=True, help="the user id the token speaks for")
    token.add_argument(
        "--scope",
        default="sessions:write registrations:write",
        help="space-separated scopes (default: %(default)s)",
    )
    token.add_argument("--ttl-minutes", type=int, default=12 * 60)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    settings = Settings()
    logging.config.dictConfig(logging_config(settings))
    if args.command == "serve":
        _serve(args, settings)
    elif args.command == "migrate":
        migrate(settings)
    else:
        _token(args, settings)


if __name__ == "__main__":
    main()
