"""The one layer every request passes before the router: request id, CORS, body
limits, the caller, and the access log line and metrics once it is answered.

One pure ASGI layer rather than four middlewares: each of those wrapped `send` and
`receive` in closures of its own and parsed the request's headers again, on every
request. The order is theirs, outermost first:

    request id (X-Request-ID on every answer) ─ access log, metrics
      └ CORS (a preflight is answered here; other answers get the CORS headers)
          └ body limits (a declared length over the limit is answered 413 here)
              └ the caller: scope["auth"], scope["user"] (request.auth, request.user)
"""

from time import perf_counter

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.auth import authenticate
from app.cors import CorsPolicy
from app.middleware import BodyLimits, record_request
from app.requests_context import RequestInfo, current, request_id_from

# The request headers this layer reads, each at its first occurrence (as Headers.get).
_ID = b"x-request-id"
_ORIGIN = b"origin"
_PREFLIGHT = b"access-control-request-method"
_LENGTH = b"content-length"
_AUTHORIZATION = b"authorization"
_READ = frozenset((_ID, _ORIGIN, _PREFLIGHT, _LENGTH, _AUTHORIZATION))


def read_head(scope: Scope) -> dict[bytes, str]:
    """The headers of `_READ` the request has, in one pass over them."""
    found: dict[bytes, str] = {}
    for name, value in scope["headers"]:
        if name in _READ and name not in found:
            found[name] = value.decode("latin-1")
    return found


class HttpFront:
    def __init__(self, app: ASGIApp, cors: CorsPolicy, limits: BodyLimits) -> None:
        self.app = app
        self.cors = cors
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "websocket":
            # A subscription may also authenticate in connection_init (app.main).
            header = read_head(scope).get(_AUTHORIZATION)
            scope["auth"], scope["user"] = authenticate(header, scope.setdefault("state", {}))
        if kind != "http":
            await self.app(scope, receive, send)
            return
        head = read_head(scope)
        info = RequestInfo(request_id_from(head.get(_ID)))
        request_id = info.request_id.encode("latin-1")
        token = current.set(info)
        start = perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message["headers"], (b"x-request-id", request_id)]
            await send(message)

        try:
            await self._serve(scope, receive, send_with_id, head)
        finally:
            record_request(scope, status, perf_counter() - start)
            current.reset(token)

    async def _serve(
        self, scope: Scope, receive: Receive, send: Send, head: dict[bytes, str]
    ) -> None:
        origin = head.get(_ORIGIN)
        if origin is not None:
            if scope["method"] == "OPTIONS" and _PREFLIGHT in head:
                await self.cors.preflight(origin, Headers(scope=scope))(scope, receive, send)
                return
            send = self.cors.with_cors_headers(origin, send)
        refusal = self.limits.refusal(head.get(_LENGTH))
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        # An app run without its lifespan has no state, as HTTPConnection.state allows.
        state = scope.setdefault("state", {})
        scope["auth"], scope["user"] = authenticate(head.get(_AUTHORIZATION), state)
        await self.app(scope, self.limits.limited(receive), send)
