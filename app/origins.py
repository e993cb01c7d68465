"""Which web origins may use the API from a browser: CORS_ALLOW_ORIGINS, read and applied.

One list answers both questions a browser's page raises: may it read our HTTP answers
(CORS), and may it open our WebSocket (browsers let any page try; only the server can
refuse, by the `Origin` header). A page served by this server needs no listing, and a
client that sends no `Origin` (not a browser) is not concerned.
"""

from collections.abc import Iterable
from urllib.parse import urlsplit

ANY = "*"
_DEFAULT_PORTS = {"http": 80, "https": 443}


def parse(text: str) -> tuple[str, ...]:
    """A comma-separated list of origins, each as browsers write it, or ValueError."""
    items = [item.strip() for item in text.split(",") if item.strip()]
    if ANY in items and len(items) > 1:
        raise ValueError("'*' already allows every origin: write '*' alone, or only the origins")
    return tuple(item if item == ANY else _origin(item) for item in items)


def _origin(text: str) -> str:
    parts = urlsplit(text)
    try:
        port = parts.port
    except ValueError:
        port = -1
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname or port == -1 or parts.username:
        raise ValueError(
            f"{text!r} is not an origin: write scheme://host[:port], such as "
            "https://app.example.com"
        )
    host = parts.hostname
    origin = (
        f"{scheme}://{host}"
        if port in (None, _DEFAULT_PORTS[scheme])
        else (f"{scheme}://{host}:{port}")
    )
    if parts.path or parts.query or parts.fragment:
        raise ValueError(f"{text!r} is not an origin (it has a path): write {origin}")
    return origin


class OriginPolicy:
    """Decides for one `Origin` header value, given the request's `Host`."""

    def __init__(self, allowed: Iterable[str]) -> None:
        self.allowed = frozenset(allowed)
        self.any = ANY in self.allowed

    def allows(self, origin: str) -> bool:
        """Listed (or everything is): the page may read our answers cross-origin."""
        return self.any or origin in self.allowed

    def may_connect(self, origin: str | None, host: str | None) -> bool:
        """May a page of `origin` open a WebSocket here? Pages of our own host may:
        the scheme is left out, since a TLS proxy in front makes ours `ws` and theirs
        `https`."""
        if origin is None or self.allows(origin):
            return True
        _, _, origin_host = origin.partition("://")
        return host is not None and origin_host.lower() == host.lower()
