"""CORS_ALLOW_ORIGINS: the web origins whose pages may use the API, as browsers write them.

One list answers both questions such a page raises: may it read our HTTP answers
(app.cors), and may it open our WebSocket (browsers let any page try; Strawberry refuses
the handshake by its `Origin`, app.main). A page served by this server needs no listing,
and a client that sends no `Origin` (not a browser) is not concerned.
"""

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
