"""A webhook receiver for tests: a real HTTP server on 127.0.0.1 (uvicorn, in this
process), recording every request and answering from a script of statuses."""

import asyncio
import contextlib
import json
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

HANG = 0
HANG_S = 5.0
STREAM = 1  # answer 200 with a body of STREAM_CHUNKS slow chunks, far more than is read
STREAM_CHUNK = b"x" * 16 * 1024
STREAM_CHUNKS = 1000
STREAM_GAP_S = 0.05


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: str
    arrived_at: float = field(default_factory=time.time)  # wall clock, for delays

    @property
    def payload(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(self.body)
        return loaded


@dataclass
class Receiver:
    url: str
    received: list[Received] = field(default_factory=list)
    # Statuses to answer, in turn (HANG: no answer for HANG_S; STREAM: an endless-looking
    # body); 204 once they run out.
    script: list[int] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def app(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        body = (await request.body()).decode()
        self.received.append(Received(dict(request.headers), body))
        self.arrived.set()
        status = self.script.pop(0) if self.script else 204
        if status == HANG:
            await asyncio.sleep(HANG_S)
            status = 204
        if status == STREAM:
            await StreamingResponse(_slow_body(), status_code=200)(scope, receive, send)
            return
        await Response(status_code=status)(scope, receive, send)

    async def wait_for(self, count: int, timeout: float | None = 20) -> list[Received]:
        """Once `count` requests have arrived: all of them (None: no time limit)."""
        async with asyncio.timeout(timeout):
            while len(self.received) < count:
                self.arrived.clear()
                await self.arrived.wait()
        return self.received

    def of_type(self, kind: str) -> list[Received]:
        return [item for item in self.received if item.payload["type"] == kind]


async def _slow_body() -> AsyncIterator[bytes]:
    """About a minute of body: a reader that does not stop early runs into its timeout."""
    for _ in range(STREAM_CHUNKS):
        yield STREAM_CHUNK
        await asyncio.sleep(STREAM_GAP_S)


@contextlib.asynccontextmanager
async def receiver(script: list[int] | None = None) -> AsyncIterator[Receiver]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    found = Receiver(f"http://127.0.0.1:{port}/hook", script=list(script or []))
    config = uvicorn.Config(
        found.app,
        log_level="warning",
        lifespan="off",
        interface="asgi3",
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:  # noqa: ASYNC110 - uvicorn has no event for it
            await asyncio.sleep(0.01)
        yield found
    finally:
        server.should_exit = True
        await task
        sock.close()
