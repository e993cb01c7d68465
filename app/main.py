"""The ASGI application: `create_app(settings)` builds it; `app` is the default one."""

import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, TypedDict

from cross_web import HTTPException as CrossWebHTTPException
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from app import graphql_http, health, json_input, pages, rest_compat
from app.auth import Caller, TokenVerifier, credentials_from_header, resolve_secret, verifier_for
from app.compiler import CompiledData, Compiler, prepare
from app.config import Settings
from app.context import AppContext, build_context
from app.cors import CorsPolicy
from app.db import Database, create_engine
from app.errors_http import error_response, http_error
from app.health import migration_head
from app.heap import freeze_startup_heap
from app.http_front import HttpFront
from app.ics import links as ics_links
from app.ics import routes as ics
from app.library_internals import ConnectionRejectionError
from app.live.broker import Broker
from app.live.postgres import PostgresRelay, WakeUps
from app.middleware import BodyLimits
from app.openapi import openapi_document
from app.outbox import write_outbox
from app.requests_context import path_for_logs
from app.resolvers.calendar import feed_key
from app.schema import LiveSessionsSchema, build_schema
from app.webhooks.dispatcher import Dispatcher

logger = logging.getLogger(__name__)


class State(TypedDict):
    """Lifespan state; Starlette copies it into every request's `state`."""

    settings: Settings
    db: Database
    verifier: TokenVerifier
    feed_key: bytes
    migration_head: str | None
    schema: LiveSessionsSchema
    broker: Broker


class GraphQLView(GraphQL[AppContext, None]):
    async def get_context(self, request: Request | WebSocket, response: Any) -> AppContext:
        context = build_context(request)
        context.takes_compiled_data = isinstance(request, Request)
        return context

    def encode_json(self, data: object) -> str | bytes:
        # A compiled read's `data` is JSON text already: the body is written around it.
        if isinstance(data, dict) and isinstance(data.get("data"), CompiledData) and len(data) == 1:
            compiled: CompiledData = data["data"]
            return b'{"data":' + compiled + b"}"
        return super().encode_json(data)

    async def on_ws_connect(self, context: AppContext) -> None:
        """Subscriptions authenticate with `{"Authorization": "Bearer ..."}` in
        connection_init; a refusal closes the socket with 4403, as the protocol says."""
        params = context.connection_params if isinstance(context.connection_params, dict) else {}
        header = params.get("Authorization", params.get("authorization"))
        assert context.request is not None
        user = credentials_from_header(header, context.request.state.verifier)
        if not isinstance(user, Caller):
            raise ConnectionRejectionError({"message": user.reason})
        context.user = user

    def is_websocket_origin_allowed(self, request: WebSocket, origin: str) -> bool:
        # Strawberry has let through pages of our own origin, and checks the others
        # against `allowed_origins`; its own warning names that argument, not the setting.
        allowed = super().is_websocket_origin_allowed(request, origin)
        if not allowed:
            logger.info(
                "refused a WebSocket from the origin %.200s: not in CORS_ALLOW_ORIGINS", origin
            )
        return allowed

    async def render_graphql_ide(self, request: Request) -> Response:
        # Our own page and pinned assets, not Strawberry's CDN-loading one.
        return pages.page("graphiql/index.html")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        # As Strawberry's own __call__, but its refusals become GraphQL-shaped JSON.
        try:
            response = await self.run(Request(scope, receive))
        except CrossWebHTTPException as error:
            response = graphql_http.refusal_for(error)
        except ClientDisconnect:
            # The client's doing, not a bug: no traceback, and nobody reads the answer.
            response = graphql_http.refusal(400, graphql_http.BODY_ENDED_EARLY)
        await response(scope, receive, send)

    def decode_json(self, data: str | bytes) -> object:
        if isinstance(data, bytes):
            # Strawberry passes the request body as bytes; query parameters and
            # WebSocket messages come as text and may be any JSON value.
            return graphql_http.request_body(data)
        try:
            return json_input.loads(data)
        except ValueError as error:
            raise json.JSONDecodeError(str(error), data[:32], 0) from None
        except RecursionError:
            # Strawberry answers JSONDecodeError with a 400; a stack overflow would be a 500.
            raise json.JSONDecodeError("nested too deeply", data[:32], 0) from None


async def openapi(_: Request) -> JSONResponse:
    return JSONResponse(openapi_document())


async def unexpected_error(request: Request, exc: Exception) -> Response:
    path = path_for_logs(request.scope)
    logger.error("unexpected error on %s %s", request.method, path, exc_info=exc)
    return error_response(500, "internal_error", "Internal server error")


def create_app(settings: Settings | None = None, *, serving: bool = False) -> Starlette:
    """The ASGI app. `serving`: this process exists to serve it (uvicorn's `app.main:app`),
    so what startup built can be moved out of the garbage collector's way."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[State]:
        secret = resolve_secret(settings)
        broker = Broker(settings.subscription_queue_size)
        relay: PostgresRelay | None = None
        wakeups: WakeUps | None = None
        dispatcher = Dispatcher(settings) if settings.webhooks_dispatcher else None
        woken_by_commits = [dispatcher.wake] if dispatcher is not None else []
        if settings.is_sqlite:
            # One process: events go straight from the committing request to subscribers,
            # and into the outbox for the webhook dispatcher.
            db = Database(
                create_engine(settings),
                before_commit=[write_outbox],
                after_commit=[broker.publish, *woken_by_commits],
            )
        else:
            # Every process: events reach subscribers through the outbox and the relay;
            # wake-ups after commit only shorten the relays' wait (app.live.postgres).
            relay = PostgresRelay(
                settings, broker, also_wake=[dispatcher.wake] if dispatcher is not None else []
            )
            if settings.events_wakeups:
                wakeups = WakeUps(settings, relay)
                await wakeups.start()
            db = Database(
                create_engine(settings),
                before_commit=[write_outbox],
                after_commit=[*([wakeups] if wakeups is not None else []), *woken_by_commits],
            )
            await relay.start()
        if dispatcher is not None:
            await dispatcher.start(db)
        if schema.compiler is not None:
            prepare(db.engine)
        if serving:
            freeze_startup_heap()
        try:
            yield {
                "settings": settings,
                "db": db,
                "verifier": verifier_for(settings, secret),
                "feed_key": feed_key(settings.calendar_feed_secret or secret.value),
                "migration_head": migration_head(settings),
                "schema": schema,
                "broker": broker,
            }
        finally:
            if dispatcher is not None:
                await dispatcher.stop()
            if wakeups is not None:
                await wakeups.stop()
            if relay is not None:
                await relay.stop()
            await db.dispose()

    schema = build_schema(settings)
    if settings.graphql_compiled_reads:
        schema.compiler = Compiler(schema)
    graphql = GraphQLView(
        schema,
        graphql_ide="graphiql" if settings.graphiql else None,
        allowed_origins=settings.cors_allow_origins,
    )
    return Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Route("/v1/sessions", rest_compat.create_session, methods=["POST"]),
            Route(ics_links.SESSION_FILE_PATH, ics.session_file, methods=["GET"]),
            Route(ics_links.FEED_PATH, ics.member_feed, methods=["GET"]),
            Route("/healthz", health.healthz, methods=["GET"]),
            Route("/readyz", health.readyz, methods=["GET"]),
            Route("/metrics", health.metrics, methods=["GET"]),
            Route("/openapi.json", openapi, methods=["GET"]),
            *pages.routes(),
        ],
        middleware=[
            Middleware(
                HttpFront,
                cors=CorsPolicy(settings.cors_allow_origins),
                limits=BodyLimits(settings.max_body_bytes, settings.request_body_timeout_s),
            ),
        ],
        exception_handlers={HTTPException: http_error, Exception: unexpected_error},
        lifespan=lifespan,
    )


def __getattr__(name: str) -> Starlette:
    # `app.main:app` is built on first use, so importing `create_app` reads no environment.
    if name == "app":
        application = create_app(serving=True)
        globals()["app"] = application
        return application
    raise AttributeError(name)
