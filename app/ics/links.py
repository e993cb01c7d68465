"""The absolute URLs calendars hold: a session's file, a member's feed, a join page.

The base is PUBLIC_BASE_URL when set, else the address the request came to: a URL
handed to a calendar app must work from wherever the member is, which only the
deployment knows for sure behind a proxy.
"""

from dataclasses import dataclass
from urllib.parse import quote

from starlette.requests import HTTPConnection

from app.config import Settings

SESSION_FILE_PATH = "/v1/sessions/{session_id}.ics"
FEED_PREFIX = "/v1/calendar/"
FEED_PATH = FEED_PREFIX + "{feed_token}.ics"

# A WebSocket (a subscription reading `calendarUrl`) came in on the HTTP scheme's twin.
_HTTP_SCHEME = {"ws": "http", "wss": "https"}
# Changes whenever app.ics.render's output for the same sessions changes, so that the
# ETags given out before stop matching.
RENDER_FORMAT = "1"


@dataclass(frozen=True)
class Links:
    """What the rendered URLs are made of: the service's address and the join template."""

    base: str
    join_template: str

    def fingerprint(self) -> str:
        """Everything besides the sessions that the bytes depend on."""
        return f"{RENDER_FORMAT}\n{self.base}\n{self.join_template}"


def base_url(connection: HTTPConnection) -> str:
    """The service's address for `connection`, without a trailing slash."""
    settings: Settings = connection.state.settings
    if settings.public_base_url is not None:
        return settings.public_base_url.rstrip("/")
    url = connection.base_url
    return str(url.replace(scheme=_HTTP_SCHEME.get(url.scheme, url.scheme))).rstrip("/")


def session_file_url(base: str, session_id: str) -> str:
    return base + SESSION_FILE_PATH.format(session_id=quote(session_id, safe=""))


def feed_url(base: str, token: str) -> str:
    # Tokens are base64url: nothing in them needs quoting.
    return base + FEED_PATH.format(feed_token=token)


def join_url(template: str, base: str, session_id: str, stream_call_id: str | None) -> str:
    """CALENDAR_JOIN_URL filled in; a path is taken from `base`."""
    url = template.replace("{session_id}", quote(session_id, safe="")).replace(
        "{stream_call_id}", quote(stream_call_id or "", safe="")
    )
    return base + url if url.startswith("/") else url
