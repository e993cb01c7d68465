"""Calendar files: a session's .ics and a member's feed, parsed back with icalendar."""

import asyncio
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from icalendar import Calendar, Event

from app.config import Settings
from app.resolvers import clock
from tests.helpers import (
    StatementLog,
    app_client,
    auth,
    create,
    create_tables,
    error_of,
    graphql,
    register,
    samples,
    sql,
    token,
    unregister,
)
from tests.server import Server, cli_env
from tests.ws_client import GraphQLSocket

CALENDAR_URL = "query($id: ID!) { session(id: $id) { calendarUrl } }"
FEED_URL = "mutation { calendarFeedUrl }"
RESET_FEED_URL = "mutation { resetCalendarFeedUrl }"
CANCEL = "mutation($id: ID!) { cancelSession(id: $id) { status } }"
END = "mutation($id: ID!) { endSession(id: $id) { status } }"
MOVE = "mutation($id: ID!, $at: DateTime!) { updateSession(id: $id, input: {scheduledAt: $at}) { scheduledAt } }"
UNKNOWN_ID = "6f1c2d3e-8a9b-4c5d-9e0f-1a2b3c4d5e6f"
# Unicode well past one folded line (75 octets), and the characters iCalendar escapes.
UNICODE_TITLE = "Yoga für Anfänger 🧘‍♀️, 瑜伽; «Café» \\ Séance du matin — 東京からライブ配信 ✨✨✨"


async def calendar_url(client: httpx.AsyncClient, session_id: str) -> str:
    body = await graphql(client, CALENDAR_URL, {"id": session_id})
    url: str = body["data"]["session"]["calendarUrl"]
    return url


async def feed_url(client: httpx.AsyncClient, member: str, *, reset: bool = False) -> str:
    body = await graphql(client, RESET_FEED_URL if reset else FEED_URL, headers=auth(member))
    assert "errors" not in body, body
    url: str = body["data"]["resetCalendarFeedUrl" if reset else "calendarFeedUrl"]
    return url


async def fetch(client: httpx.AsyncClient, url: str, **headers: str) -> httpx.Response:
    """GET a calendar URL the way a calendar app does: no Authorization header."""
    return await client.get(url, headers=headers)


async def calendar_at(client: httpx.AsyncClient, url: str) -> Calendar:
    response = await fetch(client, url)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    return Calendar.from_ical(response.content)


async def event_at(client: httpx.AsyncClient, url: str) -> Event:
    events = (await calendar_at(client, url)).events
    assert len(events) == 1
    return events[0]


def by_uid(calendar: Calendar) -> dict[str, Event]:
    return {str(event.uid): event for event in calendar.events}


def selects(log: StatementLog) -> int:
    """Queries sent, leaving out SQLite's BEGIN for each read scope."""
    return sum(statement.lstrip().upper().startswith("SELECT") for statement, _ in log.statements)


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


# -- a session's file ---------------------------------------------------------------


async def test_a_sessions_file_is_one_event_in_utc_with_its_title_and_an_hour_by_default(
    client: httpx.AsyncClient,
) -> None:
    session = await create(client, title=UNICODE_TITLE, scheduledAt="2030-06-01T10:00:00+02:00")
    url = await calendar_url(client, session["id"])

    response = await fetch(client, url)
    event = Calendar.from_ical(response.content).events[0]

    assert url == f"http://testserver/v1/sessions/{session['id']}.ics"
    assert event.uid == session["id"]
    assert event.summary == UNICODE_TITLE
    assert event.start == datetime(2030, 6, 1, 8, 0, tzinfo=UTC)
    assert event.start.utcoffset() == timedelta(0)
    assert event.end - event.start == timedelta(minutes=60)
    assert event.sequence == 0
    assert str(event.status) == "CONFIRMED"
    assert b"DTSTART:20300601T080000Z" in response.content
    assert b"DTEND:20300601T090000Z" in response.content
    # Folded lines never exceed 75 octets, and never split a character.
    assert max(len(line) for line in response.content.split(b"\r\n")) <= 75
    response.content.decode("utf-8")  # raises if a fold split a character


@pytest.mark.parametrize(
    "scheduled_at",
    ["2030-01-15T09:30:00+05:30", "2030-03-31T01:30:00-08:00", "2030-10-27T02:30:00+01:00"],
)
async def test_dtstart_is_the_scheduled_instant_in_utc_whatever_offset_it_was_given(
    client: httpx.AsyncClient, scheduled_at: str
) -> None:
    session = await create(client, scheduledAt=scheduled_at)

    event = await event_at(client, await calendar_url(client, session["id"]))

    assert event.start == datetime.fromisoformat(scheduled_at)
    assert event.start.utcoffset() == timedelta(0)
    assert event.start == instant(session["scheduledAt"])


async def test_moving_a_session_moves_its_event_under_a_higher_sequence(
    client: httpx.AsyncClient,
) -> None:
    session = await create(client)
    url = await calendar_url(client, session["id"])
    before = await event_at(client, url)

    moved = await graphql(client, MOVE, {"id": session["id"], "at": "2030-07-01T12:00:00-04:00"})
    assert "errors" not in moved, moved
    after = await event_at(client, url)

    assert after.uid == before.uid
    assert after.sequence > before.sequence
    assert after.start == datetime(2030, 7, 1, 16, 0, tzinfo=UTC)
    assert after.stamp > before.stamp or after.stamp == after.last_modified


async def test_a_cancelled_session_stays_served_as_cancelled_under_a_higher_sequence(
    client: httpx.AsyncClient,
) -> None:
    session = await create(client)
    url = await calendar_url(client, session["id"])
    before = await event_at(client, url)

    cancelled = await graphql(client, CANCEL, {"id": session["id"]})
    assert cancelled["data"]["cancelSession"]["status"] == "CANCELLED"
    after = await event_at(client, url)

    assert str(after.status) == "CANCELLED"
    assert after.sequence > before.sequence
    assert after.start == before.start


async def test_a_live_sessions_event_carries_the_join_link(
    client: httpx.AsyncClient,
) -> None:
    session = await create(client)
    url = await calendar_url(client, session["id"])
    scheduled = await event_at(client, url)

    start = 'mutation($id: ID!) { startSession(id: $id, streamCallId: "call-42") { status } }'
    assert "errors" not in await graphql(client, start, {"id": session["id"]})
    live = await event_at(client, url)

    join = f"http://testserver/demo?session={session['id']}"
    assert "Join" not in str(scheduled.description)
    assert join in str(live.description)
    assert live.url == join
    assert live.sequence > scheduled.sequence


async def test_the_join_link_follows_the_configured_template_and_base_url(
    settings: Settings,
) -> None:
    configured = settings.model_copy(
        update={
            "public_base_url": "https://live.example.com",
            "calendar_join_url": "https://app.example.com/join/{session_id}?call={stream_call_id}",
        }
    )
    await create_tables(configured)
    async with app_client(configured) as client:
        session = await create(client)
        url = await calendar_url(client, session["id"])
        start = 'mutation($id: ID!) { startSession(id: $id, streamCallId: "c 1") { status } }'
        await graphql(client, start, {"id": session["id"]})
        event = await event_at(client, url.removeprefix("https://live.example.com"))

    assert url == f"https://live.example.com/v1/sessions/{session['id']}.ics"
    assert event.url == f"https://app.example.com/join/{session['id']}?call=c%201"


async def test_an_ended_session_lasts_as_long_as_it_ran(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = await create(client, scheduledAt="2030-06-01T18:00:00Z")
    url = await calendar_url(client, session["id"])
    went_live = datetime(2030, 6, 1, 18, 3, tzinfo=UTC)
    monkeypatch.setattr(clock, "now", lambda: went_live)
    start = "mutation($id: ID!) { startSession(id: $id) { status } }"
    assert "errors" not in await graphql(client, start, {"id": session["id"]})
    monkeypatch.setattr(clock, "now", lambda: went_live + timedelta(minutes=45, seconds=20))
    assert "errors" not in await graphql(client, END, {"id": session["id"]})

    event = await event_at(client, url)

    assert event.start == datetime(2030, 6, 1, 18, 0, tzinfo=UTC)
    assert event.end - event.start == timedelta(minutes=45)
    assert str(event.status) == "CONFIRMED"
    assert "ended" in str(event.description)


@pytest.mark.parametrize("session_id", [UNKNOWN_ID, "not-a-uuid", "%00"])
async def test_unknown_or_malformed_session_ids_are_not_found(
    client: httpx.AsyncClient, session_id: str
) -> None:
    response = await fetch(client, f"/v1/sessions/{session_id}.ics")

    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


async def test_a_sessions_file_answers_304_while_the_session_is_unchanged(
    client: httpx.AsyncClient,
) -> None:
    session = await create(client, maxParticipants=5)
    url = await calendar_url(client, session["id"])
    first = await fetch(client, url)
    tag = first.headers["etag"]

    again = await fetch(client, url, **{"If-None-Match": tag})
    weak_in_a_list = await fetch(client, url, **{"If-None-Match": f'"other", W/{tag}'})
    await register(client, session["id"], "member-1")
    changed = await fetch(client, url, **{"If-None-Match": tag})

    assert first.headers["cache-control"] == "public, max-age=300"
    assert (again.status_code, again.content) == (304, b"")
    assert again.headers["etag"] == tag
    assert again.headers["cache-control"] == "public, max-age=300"
    assert weak_in_a_list.status_code == 304
    assert changed.status_code == 200
    assert changed.headers["etag"] != tag
    # The same version renders the same bytes, so the tag is a strong one.
    assert (await fetch(client, url)).content == changed.content


async def test_a_subscriber_is_given_the_same_http_calendar_url_as_a_query(
    server: Server,
) -> None:
    async with httpx.AsyncClient(base_url=server.url) as client:
        session = await create(client)
        queried = await calendar_url(client, session["id"])
        socket = await GraphQLSocket.open(server.url, token=token("watcher"))
        await socket.acknowledged()
        follow = "subscription($id: ID!) { sessionUpdated(id: $id) { calendarUrl } }"
        await socket.subscribe(follow, {"id": session["id"]})
        subscribed = (await socket.next_data())["sessionUpdated"]["calendarUrl"]
        await socket.close()
        file = await fetch(client, subscribed)

    assert subscribed == queried == f"{server.url}/v1/sessions/{session['id']}.ics"
    assert file.status_code == 200


# -- a member's feed ----------------------------------------------------------------


async def test_a_members_feed_holds_every_session_they_hold_a_seat_or_a_waitlist_place_in(
    client: httpx.AsyncClient,
) -> None:
    seated = await create(client, title="Seated", scheduledAt="2030-06-02T09:00:00+09:00")
    full = await create(client, title=UNICODE_TITLE, maxParticipants=1, waitlistEnabled=True)
    elsewhere = await create(client, title="Not theirs")
    await register(client, full["id"], "someone-else")
    await register(client, elsewhere["id"], "someone-else")
    await register(client, seated["id"], "member-1")
    await register(client, full["id"], "member-1")

    feed = await calendar_at(client, await feed_url(client, "member-1"))
    events = by_uid(feed)

    assert set(events) == {seated["id"], full["id"]}
    assert str(events[seated["id"]].status) == "CONFIRMED"
    assert events[seated["id"]].start == datetime(2030, 6, 2, 0, 0, tzinfo=UTC)
    assert str(events[full["id"]].status) == "TENTATIVE"
    assert events[full["id"]].summary == UNICODE_TITLE
    assert "waitlist (place 1)" in str(events[full["id"]].description)
    assert [event.start for event in feed.events] == sorted(event.start for event in feed.events)


async def test_the_feed_url_stays_the_same_until_a_reset_which_revokes_the_old_one(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    session = await create(client)
    await register(client, session["id"], "member-1")
    first = await feed_url(client, "member-1")
    again = await feed_url(client, "member-1")

    reset = await feed_url(client, "member-1", reset=True)
    after_reset = await feed_url(client, "member-1")

    assert first == again
    assert first.startswith("http://testserver/v1/calendar/")
    assert first.endswith(".ics")
    assert reset != first
    assert after_reset == reset
    assert (await fetch(client, first)).status_code == 404
    assert set(by_uid(await calendar_at(client, reset))) == {session["id"]}
    token = reset.removeprefix("http://testserver/v1/calendar/").removesuffix(".ics")
    stored = await sql(settings, "SELECT user_id, nonce, token_hash FROM calendar_feeds")
    assert [row[0] for row in stored] == ["member-1"]
    assert not [value for value in stored[0] if token in value]


async def test_each_member_gets_a_feed_of_their_own(client: httpx.AsyncClient) -> None:
    theirs = await create(client)
    mine = await create(client)
    await register(client, theirs["id"], "member-2")
    await register(client, mine["id"], "member-1")

    urls = await asyncio.gather(*(feed_url(client, "member-1") for _ in range(4)))
    other = await feed_url(client, "member-2")

    assert len(set(urls)) == 1
    assert other != urls[0]
    assert set(by_uid(await calendar_at(client, urls[0]))) == {mine["id"]}
    assert set(by_uid(await calendar_at(client, other))) == {theirs["id"]}


async def test_an_empty_feed_is_a_valid_calendar(client: httpx.AsyncClient) -> None:
    feed = await calendar_at(client, await feed_url(client, "member-1"))

    assert feed.events == []
    assert feed.calendar_name == "Live sessions"


@pytest.mark.parametrize("token", ["A" * 43, "A" * 42, "not-a-token", "%2e%2e", "A" * 43 + "%00"])
async def test_unknown_or_malformed_feed_tokens_are_not_found(
    client: httpx.AsyncClient, token: str
) -> None:
    await feed_url(client, "member-1")

    response = await fetch(client, f"/v1/calendar/{token}.ics")

    assert response.status_code == 404


async def test_the_feed_answers_304_until_a_session_in_it_changes_or_leaves_it(
    client: httpx.AsyncClient,
) -> None:
    kept = await create(client)
    left = await create(client)
    await register(client, kept["id"], "member-1")
    await register(client, left["id"], "member-1")
    url = await feed_url(client, "member-1")
    first = await fetch(client, url)
    tag = first.headers["etag"]

    unchanged = await fetch(client, url, **{"If-None-Match": tag})
    await register(client, kept["id"], "someone-else")  # a seat taken: a new version
    after_change = await fetch(client, url, **{"If-None-Match": tag})
    tag = after_change.headers["etag"]
    await unregister(client, left["id"], "member-1")
    after_leaving = await fetch(client, url, **{"If-None-Match": tag})
    tag = after_leaving.headers["etag"]
    await graphql(client, CANCEL, {"id": kept["id"]})
    after_cancel = await fetch(client, url, **{"If-None-Match": tag})

    assert first.headers["cache-control"] == "private, max-age=300"
    assert (unchanged.status_code, unchanged.content) == (304, b"")
    assert unchanged.headers["cache-control"] == "private, max-age=300"
    assert after_change.status_code == 200
    assert after_leaving.status_code == 200
    assert set(by_uid(Calendar.from_ical(after_leaving.content))) == {kept["id"]}
    assert after_cancel.status_code == 200
    cancelled = by_uid(Calendar.from_ical(after_cancel.content))[kept["id"]]
    assert str(cancelled.status) == "CANCELLED"
    assert (
        await fetch(client, url, **{"If-None-Match": after_cancel.headers["etag"]})
    ).status_code == 304


@pytest.mark.parametrize("mutation", [FEED_URL, RESET_FEED_URL])
async def test_a_feed_url_needs_an_authenticated_caller(
    client: httpx.AsyncClient, settings: Settings, mutation: str
) -> None:
    body = await graphql(client, mutation, headers={})

    assert error_of(body)["extensions"]["code"] == "UNAUTHENTICATED"
    assert await sql(settings, "SELECT user_id FROM calendar_feeds") == []


async def test_the_feed_token_never_reaches_the_logs_or_the_metrics(server: Server) -> None:
    async with httpx.AsyncClient(base_url=server.url) as client:
        session = await create(client)
        await register(client, session["id"], "member-1")
        url = await feed_url(client, "member-1")
        token = url.removeprefix(f"{server.url}/v1/calendar/").removesuffix(".ics")
        assert (await client.get(url)).status_code == 200
        assert (await client.get(url + "/")).status_code == 307  # to the URL without "/"
        assert (await client.get(f"/v1/calendar/{token}")).status_code == 404
        revoked = url
        await feed_url(client, "member-1", reset=True)
        assert (await client.get(revoked)).status_code == 404
        metrics = (await client.get("/metrics")).text

    server.wait_for_log(lambda record: record.get("message", "").startswith("GET /v1/calendar/"))
    log = server.log.read_text()
    assert token not in log
    assert "GET /v1/calendar/[redacted] 200" in log
    assert token not in metrics
    routes = {dict(labels).get("route") for (_, labels) in samples(metrics)}
    assert "/v1/calendar/{feed_token}.ics" in routes


async def test_a_poll_that_finds_nothing_new_costs_one_or_two_small_reads(
    client: httpx.AsyncClient, statements: StatementLog
) -> None:
    sessions = [await create(client) for _ in range(3)]
    for session in sessions:
        await register(client, session["id"], "member-1")
    feed = await feed_url(client, "member-1")
    file = await calendar_url(client, sessions[0]["id"])
    feed_tag = (await fetch(client, feed)).headers["etag"]
    file_tag = (await fetch(client, file)).headers["etag"]

    statements.clear()
    assert (await fetch(client, feed, **{"If-None-Match": feed_tag})).status_code == 304
    feed_poll = selects(statements)
    statements.clear()
    assert (await fetch(client, file, **{"If-None-Match": file_tag})).status_code == 304
    file_poll = selects(statements)

    # The feed: whose token, then the sessions' ids and versions; the file: its row.
    assert (feed_poll, file_poll) == (2, 1)


def test_importing_the_app_leaves_icalendar_until_a_calendar_is_served() -> None:
    # Every worker imports the app before serving; most never serve a calendar.
    probe = "import sys, app.main; print('icalendar' in sys.modules)"
    done = subprocess.run(
        [sys.executable, "-c", probe], env=cli_env({}), capture_output=True, text=True, check=True
    )

    assert done.stdout.strip() == "False"
