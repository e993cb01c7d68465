"""CORS: which pages of other origins may read our HTTP answers (app.origins).

Credentials mode is never allowed (no `Access-Control-Allow-Credentials`): callers
authenticate with a bearer token in the `Authorization` header, which a page sends
only when its own code adds it, so no cookie or other ambient credential exists that a
cross-origin page could borrow. That is also why `*` is safe to offer.
"""

import logging
from collections.abc import Iterable

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import Response
from starlette.types import Message, Send

from app.errors_http import error_response
from app.origins import ANY

logger = logging.getLogger(__name__)

METHODS = ("GET", "POST")
# Response headers a cross-origin page may read beyond the CORS-safelisted ones.
EXPOSED = "X-Request-ID, Retry-After"
# How long a browser may reuse a preflight's answer.
MAX_AGE_S = "600"


class CorsPolicy:
    """What the front layer (app.http_front) does for a request with an `Origin` header."""

    def __init__(self, allowed_origins: Iterable[str]) -> None:
        self.allowed = frozenset(allowed_origins)
        self.any = ANY in self.allowed

    def allows(self, origin: str) -> bool:
        return self.any or origin in self.allowed

    def _allow_origin(self, origin: str) -> str:
        return "*" if self.any else origin

    def with_cors_headers(self, origin: str, send: Send) -> Send:
        allowed = self.allows(origin)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if not self.any:
                    # A cache must not serve one origin's answer to another.
                    headers.add_vary_header("Origin")
                if allowed:
                    headers["Access-Control-Allow-Origin"] = self._allow_origin(origin)
                    headers["Access-Control-Expose-Headers"] = EXPOSED
            await send(message)

        return send_with_headers

    def preflight(self, origin: str, headers: Headers) -> Response:
        method = headers["access-control-request-method"]
        if not self.allows(origin):
            reason = (
                f"the origin {origin} is not in the server's CORS_ALLOW_ORIGINS"
                if self.allowed
                else "cross-origin requests are not enabled: CORS_ALLOW_ORIGINS is empty"
            )
            logger.info("refused a CORS preflight: %.200s", reason)
            return error_response(403, "forbidden", reason)
        if method not in METHODS:
            return error_response(
                403, "forbidden", f"only {' and '.join(METHODS)} are served cross-origin"
            )
        response = Response(status_code=204)
        response.headers["Access-Control-Allow-Origin"] = self._allow_origin(origin)
        response.headers["Access-Control-Allow-Methods"] = ", ".join(METHODS)
        response.headers["Access-Control-Max-Age"] = MAX_AGE_S
        requested = headers.get("access-control-request-headers")
        if requested:
            # Any header may be sent: none of them carries an ambient credential.
            response.headers["Access-Control-Allow-Headers"] = requested
        response.headers["Vary"] = "Origin, Access-Control-Request-Headers"
        return response
