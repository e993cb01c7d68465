"""The `live-sessions` command: serve, migrate, token.

A mistake in the configuration ends the command with one line on stderr saying what to
write instead, and exit status 2; a database that cannot be reached, with one line and
status 1, since it may answer when tried again.
"""

import argparse
import logging
import logging.config
import os
import sys
import tempfile
from collections.abc import Sequence
from datetime import timedelta
from importlib.metadata import PackageNotFoundError, version

from sqlalchemy.exc import DBAPIError

from app.auth import mint_token, resolve_secret
from app.config import ConfigError, Settings, load_settings
from app.logs import logging_config
from app.migrations import upgrade

logger = logging.getLogger(__name__)

EXIT_CONFIG = 2
EXIT_UNREACHABLE = 1
# PostgreSQL's SQLSTATE when no schema of the search_path exists to create tables in.
INVALID_SCHEMA_NAME = "3F000"
# uvicorn's own implementations bound neither a request head's size nor its duration;
# they remain selectable for comparison (the benchmark's --http).
HTTP_PROTOCOLS = ("bounded", "httptools", "h11")


class DatabaseUnreachable(Exception):
    """No connection could be opened; it may succeed later."""


def check_sqlite_folder(settings: Settings) -> None:
    """SQLite cannot create a missing folder (and aiosqlite's failure to then open the
    file ends in a traceback from its thread), so this is told before connecting."""
    path = settings.sqlite_path
    if path is not None and not path.parent.is_dir():
        raise ConfigError(
            f"the folder of the SQLite database {path} does not exist: create it, or point "
            "DATABASE_URL at a file in an existing folder"
        )


def migrate(settings: Settings) -> str:
    """Migrate to the latest revision, telling connection failures in one line."""
    check_sqlite_folder(settings)
    try:
        return upgrade(settings)
    except (OSError, TimeoutError) as error:
        raise DatabaseUnreachable(
            f"cannot reach the database of DATABASE_URL: {_reason(error)}; check its host "
            "and port, and that the database server is running"
        ) from None
    except DBAPIError as error:
        if error.statement is None:  # refused while connecting: the server answered
            raise ConfigError(
                f"the database refused the connection: {_reason(error.orig)}; "
                "check DATABASE_URL's user, password and database name"
            ) from None
        if getattr(error.orig, "sqlstate", None) == INVALID_SCHEMA_NAME:
            raise ConfigError(
                f"DATABASE_SCHEMA {settings.database_schema!r} does not exist: create it "
                "(CREATE SCHEMA ...) or leave DATABASE_SCHEMA unset"
            ) from None
        raise


def _reason(error: BaseException | None) -> str:
    return str(error).strip() or type(error).__name__


def _serve(args: argparse.Namespace, settings: Settings) -> None:
    import uvicorn

    from app.http_protocol import BoundedHttpProtocol

    check_sqlite_folder(settings)
    # Resolve (and if need be create) the secret once, before any worker starts, and
    # say what is to be said about it here, once for the whole server.
    for warning in resolve_secret(settings).warnings():
        logger.warning(warning)
    if settings.is_sqlite and args.workers > 1:
        # On SQLite events go from the committing process straight to its own
        # subscribers (app/main.py); only PostgreSQL's outbox reaches every process.
        logger.warning(
            "SUBSCRIBERS WILL MISS EVENTS: with SQLite and --workers %d, a subscriber only "
            "hears of the changes made through its own worker, not through the %d others; "
            "use --workers 1 with SQLite, or PostgreSQL",
            args.workers,
            args.workers - 1,
        )
    logger.info(migrate(settings))
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
    secret = resolve_secret(settings, create=False)
    token = mint_token(
        secret.value,
        sub=args.sub,
        scopes=args.scope.split(),
        ttl=timedelta(minutes=args.ttl_minutes),
        audience=settings.auth_jwt_audience,
        issuer=settings.auth_jwt_issuer,
    )
    # stderr, so that `TOKEN=$(live-sessions token ...)` captures the token alone.
    print(f"signed with {secret.source}", file=sys.stderr)
    print(token)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _port(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be between 0 and 65535, not {value}")
    return value


def _version() -> str:
    try:
        return version("live-sessions")
    except PackageNotFoundError:
        return "unknown (not installed)"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="live-sessions",
        description="Live classes and office hours: a GraphQL API with a REST route. "
        "Configured by environment variables (DATABASE_URL, AUTH_JWT_SECRET, ...; see "
        "docs/configuration.md).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser(
        "serve",
        help="apply migrations, then serve the API",
        description="Apply database migrations, then serve the API over HTTP and WebSocket.",
    )
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: %(default)s)"
    )
    serve.add_argument(
        "--port", type=_port, default=8000, help="port to listen on (default: %(default)s)"
    )
    serve.add_argument(
        "--workers",
        type=_positive,
        default=1,
        help="worker processes; with SQLite, subscribers only hear of their own worker's "
        "changes (default: %(default)s)",
    )
    serve.add_argument(
        "--graceful-timeout",
        type=int,
        default=30,
        help="seconds to let in-flight requests finish on shutdown (default: %(default)s)",
    )
    serve.add_argument(
        "--http",
        choices=HTTP_PROTOCOLS,
        default="bounded",
        help="HTTP/1.1 implementation: bounded is uvicorn's httptools one with the "
        "MAX_HEADER_BYTES, REQUEST_HEADER_TIMEOUT_S and MAX_CONNECTIONS limits; the others "
        "are uvicorn's own, without them, for comparison only (default: %(default)s)",
    )

    commands.add_parser(
        "migrate",
        help="apply database migrations up to the latest",
        description="Apply database migrations up to the latest, and say which.",
    )

    token = commands.add_parser(
        "token",
        help="print a bearer token signed with the server's secret",
        description="Print a bearer token signed with the secret the server uses (the "
        "same environment finds the same secret); stderr says which secret that is.",
    )
    token.add_argument("--sub", required=True, help="the user id the token speaks for")
    token.add_argument(
        "--scope",
        default="sessions:write registrations:write",
        help="space-separated scopes (default: %(default)s)",
    )
    token.add_argument(
        "--ttl-minutes",
        type=_positive,
        default=12 * 60,
        help="minutes until the token expires (default: %(default)s)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    try:
        settings = load_settings()
        logging.config.dictConfig(logging_config(settings))
        if args.command == "serve":
            _serve(args, settings)
        elif args.command == "migrate":
            print(migrate(settings))
        else:
            _token(args, settings)
    except ConfigError as error:
        _exit(EXIT_CONFIG, str(error))
    except DatabaseUnreachable as error:
        _exit(EXIT_UNREACHABLE, str(error))


def _exit(status: int, message: str) -> None:
    print(f"live-sessions: {message}", file=sys.stderr)
    sys.exit(status)


if __name__ == "__main__":
    main()
