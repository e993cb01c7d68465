"""Per-request bookkeeping (request id, access log, metrics) and the body deadline."""

import asyncio
import logging
from time import perf_counter

from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.metrics import HTTP_LATENCY, HTTP_REQUESTS, observe_pool
from app.requests_context import RequestInfo, current, request_id_from

access_log = logging.getLogger("app.access")


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        info = RequestInfo(request_id_from(Headers(scope=scope).get("x-request-id")))
        token = current.set(info)
        start = perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message).append("X-Request-ID", info.request_id)
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = perf_counter() - start
            route = scope.get("route")
            # The route's template, never the raw path: label values must stay few.
            path = getattr(route, "path", "unmatched")
            method = scope["method"]
            HTTP_REQUESTS.labels(method, path, str(status)).inc()
            HTTP_LATENCY.labels(method, path).observe(elapsed)
            state = scope.get("state") or {}
            if "db" in state:
                observe_pool(state["db"].engine.sync_engine.pool, state["settings"].pool_capacity)
            access_log.info(
                "%s %s %s %.1fms",
                method,
                scope["path"],
                status,
                elapsed * 1000,
                extra={"status": status, "duration_ms": round(elapsed * 1000, 2), "route": path},
            )
            current.reset(token)


class BodyDeadlineMiddleware:
    """A client gets `timeout` seconds to send its whole body, then a 408.

    uvicorn bounds idle keep-alive connections but not a body that trickles in
    (or never ends), which would otherwise hold a worker's request slot forever.
    """

    def __init__(self, app: ASGIApp, timeout: float) -> None:
        self.app = app
        self.timeout = timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        deadline = asyncio.get_running_loop().time() + self.timeout
        body_done = False

        async def receive_before_deadline() -> Message:
            nonlocal body_done
            if body_done:
                return await receive()
            try:
                async with asyncio.timeout_at(deadline):
                    message = await receive()
            except TimeoutError:
                raise HTTPException(408, "Request Timeout") from None
            body_done = message["type"] != "http.request" or not message.get("more_body")
            return message

        await self.app(scope, receive_before_deadline, send)
