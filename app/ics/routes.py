"""GET /v1/sessions/{id}.ics and GET /v1/calendar/{token}.ics, as translators.

They read through app.resolvers.calendar (which sessions, whose feed) and render with
app.ics.render; what they own is HTTP: 404s, and caching. Calendar apps poll feeds
every few minutes, so each answer carries an ETag named after what the file is made
of, the sessions' ids and versions, read without rendering anything: a poll that
finds nothing new costs one or two small indexed reads and a 304.
"""

import hashlib

from starlette.requests import Request
from starlette.responses import Response

from app.errors_http import error_response
from app.ics import links
from app.resolvers import calendar

MEDIA_TYPE = "text/calendar; charset=utf-8"
# Anyone may cache a session's file; a member's feed is theirs alone.
PUBLIC_CACHE = "public, max-age=300"
PRIVATE_CACHE = "private, max-age=300"


async def session_file(request: Request) -> Response:
    view = await calendar.published_session(request.state.db, request.path_params["session_id"])
    if view is None:
        return error_response(404, "not_found", "no session has this id")
    to = _links(request)
    session = view.session
    tag = _etag(to, "session", session.id, str(session.version))
    if _unchanged(request, tag):
        return _not_modified(tag, PUBLIC_CACHE)
    from app.ics import render  # icalendar is imported by the first calendar served

    disposition = {"Content-Disposition": f'attachment; filename="{session.id}.ics"'}
    return _calendar(tag, PUBLIC_CACHE, render.session_file(view, to), disposition)


async def member_feed(request: Request) -> Response:
    db = request.state.db
    owner = await calendar.feed_owner(db, request.path_params["feed_token"])
    if owner is None:
        return error_response(404, "not_found", "no calendar feed has this address")
    to = _links(request)
    versions = await calendar.feed_versions(db, owner)
    tag = _etag(to, "feed", owner, *(f"{session_id}:{version}" for session_id, version in versions))
    if _unchanged(request, tag):
        return _not_modified(tag, PRIVATE_CACHE)
    # Read after the versions: a change in between makes the body newer than its tag,
    # which only costs the next poll a full answer; the tag is never newer than the body.
    views = await calendar.feed_sessions(db, owner)
    from app.ics import render  # icalendar is imported by the first calendar served

    return _calendar(tag, PRIVATE_CACHE, render.feed(views, to, feed_id=owner))


def _links(request: Request) -> links.Links:
    return links.Links(links.base_url(request), request.state.settings.calendar_join_url)


def _etag(to: links.Links, *parts: str) -> str:
    digest = hashlib.sha256("\n".join((to.fingerprint(), *parts)).encode()).hexdigest()
    return f'"{digest[:32]}"'


def _unchanged(request: Request, tag: str) -> bool:
    """If-None-Match names `tag` (compared weakly, as RFC 9110 asks for this header)."""
    header = request.headers.get("if-none-match")
    if header is None:
        return False
    if header.strip() == "*":
        return True
    return tag in (candidate.strip().removeprefix("W/") for candidate in header.split(","))


def _not_modified(tag: str, cache: str) -> Response:
    return Response(status_code=304, headers={"ETag": tag, "Cache-Control": cache})


def _calendar(tag: str, cache: str, body: bytes, headers: dict[str, str] | None = None) -> Response:
    return Response(
        body,
        media_type=MEDIA_TYPE,
        headers={
            "ETag": tag,
            "Cache-Control": cache,
            "X-Content-Type-Options": "nosniff",
            **(headers or {}),
        },
    )
