"""HTTP/1.1 connections: uvicorn's httptools protocol, with bounds on what precedes a body.

uvicorn bounds neither the size of a request's head (httptools keeps reading header bytes
for as long as they come) nor the time a client takes to send it, and it never closes a
connection that has not yet sent a whole head. `BoundedHttpProtocol` adds, per connection:

- a head (request line and headers) larger than `max_header_bytes` is answered 431 and the
  connection closed, before more than that many bytes of it are parsed;
- a head not complete within `header_timeout_s` of the connection opening, or of the
  first byte of a later request on it, closes the connection;

and per process, at most `max_connections` connections: one more closes the connection
that has waited longest with no request in progress (still sending its head, or idle
between requests), so that slow or silent clients cannot use up file descriptors. Only
when every other connection has a request in progress does a request get 503, and never
one for /healthz, which answers whatever the load.
"""

import asyncio
import functools
import json
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol
from uvicorn.server import ServerState

from app.config import Settings
from app.metrics import CONNECTIONS_REFUSED

HEALTH_PATH = b"/healthz"


@dataclass(frozen=True)
class ConnectionLimits:
    max_header_bytes: int
    header_timeout_s: float
    max_connections: int

    @classmethod
    def from_settings(cls, settings: Settings) -> "ConnectionLimits":
        return cls(
            max_header_bytes=settings.max_header_bytes,
            header_timeout_s=settings.request_header_timeout_s,
            max_connections=settings.max_connections,
        )


@functools.cache
def process_limits() -> ConnectionLimits:
    # uvicorn makes protocols from a class, in each worker process: the limits are read
    # once per process, from the environment that create_app's Settings reads too.
    return ConnectionLimits.from_settings(Settings())


class WaitingConnections:
    """A server's connections with no request in progress, longest waiting first."""

    def __init__(self) -> None:
        self._order: OrderedDict[BoundedHttpProtocol, None] = OrderedDict()

    def add(self, connection: "BoundedHttpProtocol") -> None:
        self._order[connection] = None

    def discard(self, connection: "BoundedHttpProtocol") -> None:
        self._order.pop(connection, None)

    def pop_oldest(self) -> "BoundedHttpProtocol | None":
        if not self._order:
            return None
        connection, _ = self._order.popitem(last=False)
        return connection


_waiting: "weakref.WeakKeyDictionary[ServerState, WaitingConnections]" = weakref.WeakKeyDictionary()


def _error_bytes(status: int, code: str, message: str) -> bytes:
    """A whole response in the {error, message} shape of app.errors_http, closing."""
    body = json.dumps({"error": code, "message": message}).encode()
    head = (
        b"content-type: application/json\r\n"
        b"content-length: " + str(len(body)).encode() + b"\r\n"
        b"connection: close\r\n\r\n"
    )
    return STATUS_LINE[status] + head + body


class BoundedHttpProtocol(HttpToolsProtocol):
    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
        limits: ConnectionLimits | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.limits = limits or process_limits()
        self.waiting = _waiting.setdefault(server_state, WaitingConnections())
        self.reading_head = True
        self.head_bytes = 0
        self.head_deadline: asyncio.TimerHandle | None = None
        self.too_large = _error_bytes(
            431,
            "request_header_fields_too_large",
            f"the request line and headers are larger than {self.limits.max_header_bytes} bytes",
        )

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.limits.max_connections:
            oldest = self.waiting.pop_oldest()
            if oldest is not None:
                CONNECTIONS_REFUSED.labels("evicted").inc()
                oldest.transport.close()
        self.waiting.add(self)
        self._arm_head_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        self.waiting.discard(self)
        self._cancel_head_deadline()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if not self.reading_head:
            super().data_received(data)
            return
        if self.head_deadline is None:
            self._arm_head_deadline()  # the first byte of a later request
        room = self.limits.max_header_bytes - self.head_bytes
        if len(data) <= room:
            self.head_bytes += len(data)
            super().data_received(data)
            return
        # The head may end within this read: parse no more than the limit allows, then see.
        # (A head pipelined behind a body in one read is counted from the next read on.)
        self.head_bytes += room
        super().data_received(data[:room])
        if self.transport.is_closing() or self.transport.get_protocol() is not self:
            return  # refused as malformed, or upgraded to a WebSocket
        if self.reading_head:
            CONNECTIONS_REFUSED.labels("head_too_large").inc()
            self.transport.write(self.too_large)
            self.transport.close()
            return
        super().data_received(data[room:])

    def on_headers_complete(self) -> None:
        self.reading_head = False
        self._cancel_head_deadline()
        self.waiting.discard(self)
        # uvicorn answers 503 when its `limit_concurrency` is reached; it is read here.
        over = len(self.connections) > self.limits.max_connections
        if over and self.url.split(b"?", 1)[0] != HEALTH_PATH:
            CONNECTIONS_REFUSED.labels("over_capacity").inc()
            self.limit_concurrency = 0
        else:
            self.limit_concurrency = None
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self.reading_head = True
        self.head_bytes = 0
        # No cycle: the request was a WebSocket upgrade, and the connection is no longer ours.
        if (
            self.cycle is not None
            and self.cycle.response_complete
            and not self.transport.is_closing()
        ):
            self.waiting.add(self)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self.reading_head and self.cycle.response_complete and not self.transport.is_closing():
            self.waiting.add(self)

    def _arm_head_deadline(self) -> None:
        self.head_deadline = self.loop.call_later(
            self.limits.header_timeout_s, self._head_timed_out
        )

    def _cancel_head_deadline(self) -> None:
        if self.head_deadline is not None:
            self.head_deadline.cancel()
            self.head_deadline = None

    def _head_timed_out(self) -> None:
        self.head_deadline = None
        if not self.transport.is_closing():
            CONNECTIONS_REFUSED.labels("head_timeout").inc()
            self.transport.close()
