"""Per-request bookkeeping (request id, access log, metrics) and body limits."""

import asyncio
import logging
from time import perf_counter

from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors_http import error_response
from app.metrics import HTTP_LATENCY, HTTP_REQUESTS, observe_pool
from app.requests_context import RequestInfo, current, path_for_logs, request_id_from

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
                path_for_logs(scope),
                status,
                elapsed * 1000,
                extra={"status": status, "duration_ms": round(elapsed * 1000, 2), "route": path},
            )
            current.reset(token)


class BodyLimitsMiddleware:
    """Every request body: at most `max_bytes`, all of it within `timeout` seconds.

    uvicorn bounds idle keep-alive connections but neither the size of a body nor
    one that trickles in (or never ends), which would hold a request slot forever.
    Over-limit bodies get 413 and late ones 408, with the {error, message} body.
    """

    def __init__(self, app: ASGIApp, max_bytes: int, timeout: float) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.timeout = timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            response = error_response(413, "payload_too_large", self._too_large)
            await response(scope, receive, send)
            return
        deadline = asyncio.get_running_loop().time() + self.timeout
        received = 0
        body_done = False

        async def limited_receive() -> Message:
            nonlocal received, body_done
            if body_done:
                return await receive()
            try:
                async with asyncio.timeout_at(deadline):
                    message = await receive()
            except TimeoutError:
                raise HTTPException(408, "the body did not arrive in time") from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise HTTPException(413, self._too_large)
                body_done = not message.get("more_body", False)
            return message

        await self.app(scope, limited_receive, send)

    @property
    def _too_large(self) -> str:
        return f"the body is larger than {self.max_bytes} bytes"
