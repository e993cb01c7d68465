"""What the front layer (app.http_front) does around every HTTP request: its access
log line and metrics, and the limits on its body."""

import asyncio
import logging
from collections.abc import MutableMapping
from typing import Any

from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.types import Message, Receive, Scope

from app.errors_http import error_response
from app.metrics import HTTP_LATENCY, HTTP_REQUESTS, labelled, observe_pool
from app.requests_context import path_for_logs

access_log = logging.getLogger("app.access")


def record_request(scope: Scope, status: int, elapsed: float) -> None:
    """The request's metrics and its access log line, once it has been answered."""
    route = scope.get("route")
    # The route's template, never the raw path: label values must stay few.
    path = getattr(route, "path", "unmatched")
    method = scope["method"]
    labelled(HTTP_REQUESTS, method, path, str(status)).inc()
    labelled(HTTP_LATENCY, method, path).observe(elapsed)
    state: MutableMapping[str, Any] = scope.get("state") or {}
    if "db" in state:
        observe_pool(state["db"].engine.sync_engine.pool, state["settings"].pool_capacity)
    if access_log.isEnabledFor(logging.INFO):
        # Its arguments are built only for a line that is written (LOG_LEVEL=INFO).
        access_log.info(
            "%s %s %s %.1fms",
            method,
            path_for_logs(scope),
            status,
            elapsed * 1000,
            extra={"status": status, "duration_ms": round(elapsed * 1000, 2), "route": path},
        )


class BodyLimits:
    """Every request body: at most `max_bytes`, all of it within `timeout` seconds.

    uvicorn bounds idle keep-alive connections but neither the size of a body nor
    one that trickles in (or never ends), which would hold a request slot forever.
    Over-limit bodies get 413 and late ones 408, with the {error, message} body.
    """

    def __init__(self, max_bytes: int, timeout: float) -> None:
        self.max_bytes = max_bytes
        self.timeout = timeout

    def refusal(self, content_length: str | None) -> Response | None:
        """The 413 for a declared length over the limit, before any of the body is read."""
        declared = content_length or ""
        if declared.isdigit() and int(declared) > self.max_bytes:
            return error_response(413, "payload_too_large", self._too_large)
        return None

    def limited(self, receive: Receive) -> Receive:
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

        return limited_receive

    @property
    def _too_large(self) -> str:
        return f"the body is larger than {self.max_bytes} bytes"
