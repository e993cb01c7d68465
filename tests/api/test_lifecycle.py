"""startSession, endSession, cancelSession and updateSession over POST /graphql."""

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from app.resolvers import clock as service_clock
from tests.helpers import GET, HOST, SESSION_FIELDS, auth, create, error_of, graphql, register

START = f"""
mutation Start($id: ID!, $streamCallId: String) {{
  startSession(id: $id, streamCallId: $streamCallId) {{ {SESSION_FIELDS} }}
}}
"""
END = f"""
mutation End($id: ID!, $recordingUrl: String) {{
  endSession(id: $id, recordingUrl: $recordingUrl) {{ {SESSION_FIELDS} }}
}}
"""
CANCEL = f"mutation Cancel($id: ID!) {{ cancelSession(id: $id) {{ {SESSION_FIELDS} }} }}"
UPDATE = f"""
mutation Update($id: ID!, $input: UpdateSessionInput!) {{
  updateSession(id: $id, input: $input) {{ {SESSION_FIELDS} }}
}}
"""

# Each change, the field it answers in, the extra variables it takes, and the status it needs.
ACTIONS: dict[str, tuple[str, str, dict[str, Any], str]] = {
    "start": (START, "startSession", {}, "SCHEDULED"),
    "end": (END, "endSession", {}, "LIVE"),
    "cancel": (CANCEL, "cancelSession", {}, "SCHEDULED"),
    "update": (UPDATE, "updateSession", {"input": {"title": "Renamed"}}, "SCHEDULED"),
}
AFTER = {"start": "LIVE", "end": "ENDED", "cancel": "CANCELLED", "update": "SCHEDULED"}

OTHER_HOST = ("host-2", ["sessions:write", "registrations:write"])
ADMIN = ("admin", ["sessions:write", "sessions:admin"])
# A fixed random UUID: parameter ids stay the same from run to run.
UNKNOWN_ID = "6f1c2d3e-8a9b-4c5d-9e0f-1a2b3c4d5e6f"
RFC3339_UTC = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z")
T0 = datetime(2030, 6, 1, 18, 0, tzinfo=UTC)


class Clock:
    """Stands in for `app.resolvers.clock.now`: the time is whatever the test sets."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> datetime:
        self.at += timedelta(**delta)
        return self.at


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock(T0)
    monkeypatch.setattr(service_clock, "now", fake)
    return fake


def instant(text: str) -> datetime:
    assert RFC3339_UTC.fullmatch(text), text
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


async def act(
    client: httpx.AsyncClient,
    action: str,
    session_id: str,
    *,
    headers: dict[str, str] | None = None,
    **variables: Any,
) -> dict[str, Any]:
    """Run one change and return the raw response body."""
    query, _, extra, _ = ACTIONS[action]
    return await graphql(client, query, {"id": session_id, **extra, **variables}, headers=headers)


async def changed(
    client: httpx.AsyncClient, action: str, session_id: str, **variables: Any
) -> dict[str, Any]:
    """Run one change that must succeed and return the session it answers."""
    body = await act(client, action, session_id, **variables)
    assert "errors" not in body, body
    session: dict[str, Any] = body["data"][ACTIONS[action][1]]
    return session


async def read(client: httpx.AsyncClient, session_id: str) -> dict[str, Any]:
    body = await graphql(client, GET, {"id": session_id})
    assert "errors" not in body, body
    session: dict[str, Any] = body["data"]["session"]
    return session


async def in_status(client: httpx.AsyncClient, status: str) -> dict[str, Any]:
    """A new session of HOST brought to `status` by the mutations themselves."""
    session = await create(client)
    if status in ("LIVE", "ENDED"):
        session = await changed(client, "start", session["id"])
    if status == "ENDED":
        session = await changed(client, "end", session["id"])
    if status == "CANCELLED":
        session = await changed(client, "cancel", session["id"])
    assert session["status"] == status
    return session


async def update(
    client: httpx.AsyncClient, session_id: str, data: dict[str, Any]
) -> dict[str, Any]:
    return await graphql(client, UPDATE, {"id": session_id, "input": data})


# -- start ----------------------------------------------------------------------------


async def test_start_makes_the_session_live_now_with_the_given_call(
    client: httpx.AsyncClient,
) -> None:
    created = await create(client)
    before = datetime.now(UTC)

    started = await changed(client, "start", created["id"], streamCallId="call-42")

    after = datetime.now(UTC)
    assert started["status"] == "LIVE"
    assert started["streamCallId"] == "call-42"
    assert before <= instant(started["startedAt"]) <= after
    assert instant(started["updatedAt"]) > instant(created["updatedAt"])
    assert started["endedAt"] is None
    assert started["durationMinutes"] is None
    assert await read(client, created["id"]) == started


async def test_start_without_a_call_id_generates_a_distinct_one(
    client: httpx.AsyncClient,
) -> None:
    first = await changed(client, "start", (await create(client))["id"])
    second = await changed(client, "start", (await create(client))["id"])

    assert isinstance(first["streamCallId"], str)
    assert first["streamCallId"]
    assert first["streamCallId"] != second["streamCallId"]


async def test_start_with_an_empty_call_id_is_bad_user_input(client: httpx.AsyncClient) -> None:
    created = await create(client)

    body = await act(client, "start", created["id"], streamCallId="")

    assert error_of(body)["extensions"] == {"code": "BAD_USER_INPUT", "field": "streamCallId"}
    assert await read(client, created["id"]) == created


# -- end ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("elapsed", "minutes"),
    [
        (timedelta(0), 0),
        (timedelta(seconds=59), 0),
        (timedelta(seconds=60), 1),
        (timedelta(minutes=90, seconds=59), 90),
        (timedelta(hours=25, microseconds=1), 1500),
    ],
)
async def test_end_records_when_and_whole_minutes_live(
    client: httpx.AsyncClient, clock: Clock, elapsed: timedelta, minutes: int
) -> None:
    created = await create(client)
    clock.advance(minutes=5)
    started = await changed(client, "start", created["id"])
    clock.at += elapsed

    ended = await changed(client, "end", created["id"])

    assert ended["status"] == "ENDED"
    assert instant(ended["startedAt"]) == T0 + timedelta(minutes=5)
    assert instant(ended["endedAt"]) == clock.at
    assert ended["durationMinutes"] == minutes
    assert instant(ended["updatedAt"]) == clock.at
    assert ended["streamCallId"] == started["streamCallId"]
    assert ended["recordingUrl"] is None
    assert await read(client, created["id"]) == ended


@pytest.mark.parametrize(
    "url", ["https://cdn.example.com/rec/1.mp4", "http://example.com:8080/r?id=1"]
)
async def test_end_keeps_the_recording_url(client: httpx.AsyncClient, url: str) -> None:
    live = await in_status(client, "LIVE")

    ended = await changed(client, "end", live["id"], recordingUrl=url)

    assert ended["recordingUrl"] == url
    assert (await read(client, live["id"]))["recordingUrl"] == url


@pytest.mark.parametrize(
    "url", ["ftp://x/y", "not a url", "", "http://", "/recordings/1.mp4", "https:example.com"]
)
async def test_recording_url_must_be_absolute_http(client: httpx.AsyncClient, url: str) -> None:
    live = await in_status(client, "LIVE")

    body = await act(client, "end", live["id"], recordingUrl=url)

    error = error_of(body)
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "recordingUrl"}
    assert error["message"].startswith("recordingUrl: ")
    assert await read(client, live["id"]) == live


# -- cancel ---------------------------------------------------------------------------


async def test_cancel_moves_scheduled_to_cancelled(client: httpx.AsyncClient, clock: Clock) -> None:
    created = await create(client)
    at = clock.advance(minutes=1)

    cancelled = await changed(client, "cancel", created["id"])

    assert cancelled["status"] == "CANCELLED"
    assert instant(cancelled["updatedAt"]) == at
    assert cancelled["startedAt"] is None
    assert cancelled["endedAt"] is None
    assert await read(client, created["id"]) == cancelled


# -- transitions ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "status"),
    [
        ("start", "LIVE"),
        ("start", "ENDED"),
        ("start", "CANCELLED"),
        ("end", "SCHEDULED"),
        ("end", "ENDED"),
        ("end", "CANCELLED"),
        ("cancel", "LIVE"),
        ("cancel", "ENDED"),
        ("cancel", "CANCELLED"),
        ("update", "LIVE"),
        ("update", "ENDED"),
        ("update", "CANCELLED"),
    ],
)
async def test_invalid_transition_names_the_current_status(
    client: httpx.AsyncClient, action: str, status: str
) -> None:
    session = await in_status(client, status)

    body = await act(client, action, session["id"])

    assert body["data"] is None
    error = error_of(body)
    assert error["extensions"] == {"code": "INVALID_TRANSITION", "status": status}
    assert status in error["message"]
    assert await read(client, session["id"]) == session


# -- who may change a session ---------------------------------------------------------


@pytest.mark.parametrize("action", list(ACTIONS))
async def test_another_host_may_not_change_the_session(
    client: httpx.AsyncClient, action: str
) -> None:
    session = await in_status(client, ACTIONS[action][3])

    body = await act(client, action, session["id"], headers=auth(*OTHER_HOST))

    assert body["data"] is None
    assert error_of(body)["extensions"] == {"code": "FORBIDDEN"}
    assert await read(client, session["id"]) == session


@pytest.mark.parametrize("action", list(ACTIONS))
async def test_an_admin_with_write_scope_may_change_any_session(
    client: httpx.AsyncClient, action: str
) -> None:
    session = await in_status(client, ACTIONS[action][3])

    body = await act(client, action, session["id"], headers=auth(*ADMIN))

    assert "errors" not in body, body
    assert body["data"][ACTIONS[action][1]]["status"] == AFTER[action]
    assert (await read(client, session["id"]))["status"] == AFTER[action]


@pytest.mark.parametrize("sub", [HOST, "admin"])
@pytest.mark.parametrize("action", list(ACTIONS))
async def test_admin_scope_without_write_scope_is_forbidden(
    client: httpx.AsyncClient, action: str, sub: str
) -> None:
    session = await in_status(client, ACTIONS[action][3])

    body = await act(client, action, session["id"], headers=auth(sub, ["sessions:admin"]))

    assert error_of(body)["extensions"] == {"code": "FORBIDDEN"}
    assert await read(client, session["id"]) == session


@pytest.mark.parametrize("session_id", [UNKNOWN_ID, "nope"])
@pytest.mark.parametrize("action", list(ACTIONS))
async def test_unknown_or_malformed_id_is_not_found(
    client: httpx.AsyncClient, action: str, session_id: str
) -> None:
    body = await act(client, action, session_id)

    assert body["data"] is None
    assert error_of(body)["extensions"] == {"code": "NOT_FOUND"}


# -- update ---------------------------------------------------------------------------


async def test_update_changes_only_the_given_fields(
    client: httpx.AsyncClient, clock: Clock
) -> None:
    created = await create(client, category="yoga", kind="OFFICE_HOURS", metadata={"room": "A"})
    at = clock.advance(minutes=3)

    body = await update(client, created["id"], {"title": "Sunrise yoga"})

    updated = body["data"]["updateSession"]
    assert updated == {**created, "title": "Sunrise yoga", "updatedAt": updated["updatedAt"]}
    assert instant(updated["updatedAt"]) == at
    assert await read(client, created["id"]) == updated


async def test_update_can_change_every_field_at_once(client: httpx.AsyncClient) -> None:
    created = await create(client, category="yoga")
    data = {
        "title": "Office hour",
        "scheduledAt": "2031-01-02T03:04:05Z",
        "maxParticipants": 7,
        "kind": "OFFICE_HOURS",
        "category": "q-and-a",
        "metadata": {"link": "https://example.com", "tags": ["a", "b"], "n": 1},
    }

    body = await update(client, created["id"], data)

    assert "errors" not in body, body
    updated = body["data"]["updateSession"]
    assert {key: updated[key] for key in data} == data
    assert updated["status"] == "SCHEDULED"
    assert await read(client, created["id"]) == updated


async def test_update_with_null_category_clears_it(client: httpx.AsyncClient) -> None:
    created = await create(client, category="yoga")

    body = await update(client, created["id"], {"category": None})

    assert body["data"]["updateSession"]["category"] is None
    assert (await read(client, created["id"]))["category"] is None


async def test_update_stores_scheduled_at_in_utc(client: httpx.AsyncClient) -> None:
    created = await create(client)

    body = await update(client, created["id"], {"scheduledAt": "2030-07-01T12:30:00+02:00"})

    assert body["data"]["updateSession"]["scheduledAt"] == "2030-07-01T10:30:00Z"
    assert (await read(client, created["id"]))["scheduledAt"] == "2030-07-01T10:30:00Z"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"title": ""}, "title"),
        ({"maxParticipants": 0}, "maxParticipants"),
        ({"maxParticipants": -1}, "maxParticipants"),
        ({"metadata": [1]}, "metadata"),
        ({"metadata": "x"}, "metadata"),
        ({"category": ""}, "category"),
        ({"title": None}, "title"),
        ({"maxParticipants": None}, "maxParticipants"),
        ({"scheduledAt": None}, "scheduledAt"),
        ({"kind": None}, "kind"),
        ({"metadata": None}, "metadata"),
    ],
)
async def test_invalid_update_is_bad_user_input_naming_the_field(
    client: httpx.AsyncClient, data: dict[str, Any], field: str
) -> None:
    created = await create(client)

    body = await update(client, created["id"], {"title": "Changed too", **data})

    error = error_of(body)
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": field}
    assert error["message"].startswith(f"{field}: ")
    assert await read(client, created["id"]) == created


async def register_members(client: httpx.AsyncClient, session_id: str, members: int) -> None:
    for n in range(1, members + 1):
        body = await register(client, session_id, f"member-{n}")
        assert "errors" not in body, body


async def test_capacity_cannot_drop_below_the_seats_taken(client: httpx.AsyncClient) -> None:
    created = await create(client, maxParticipants=5)
    await register_members(client, created["id"], 3)
    before = await read(client, created["id"])

    body = await update(client, created["id"], {"maxParticipants": 2, "title": "Smaller"})

    error = error_of(body)
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "maxParticipants"}
    assert await read(client, created["id"]) == before


async def test_capacity_may_equal_the_seats_taken(client: httpx.AsyncClient) -> None:
    created = await create(client, maxParticipants=5)
    await register_members(client, created["id"], 3)

    body = await update(client, created["id"], {"maxParticipants": 3})

    assert "errors" not in body, body
    updated = body["data"]["updateSession"]
    assert updated["maxParticipants"] == 3
    assert updated["registeredCount"] == 3


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"title": "Evening yoga"},
        {"title": "Evening yoga", "maxParticipants": 20, "kind": "LIVE"},
        {"scheduledAt": "2030-06-01T20:00:00+02:00"},
        {"category": "yoga", "metadata": {"room": "A"}},
    ],
)
async def test_update_to_the_same_values_leaves_updated_at(
    client: httpx.AsyncClient, clock: Clock, data: dict[str, Any]
) -> None:
    created = await create(client, category="yoga", metadata={"room": "A"})
    clock.advance(minutes=10)

    body = await update(client, created["id"], data)

    assert "errors" not in body, body
    assert body["data"]["updateSession"] == created
    assert await read(client, created["id"]) == created


@pytest.mark.parametrize(
    "data",
    [
        {"title": "Late yoga"},
        {"scheduledAt": "2030-06-01T18:00:01Z"},
        {"maxParticipants": 21},
        {"kind": "OFFICE_HOURS"},
        {"category": None},
        {"metadata": {"room": "B"}},
    ],
)
async def test_update_that_changes_something_moves_updated_at(
    client: httpx.AsyncClient, clock: Clock, data: dict[str, Any]
) -> None:
    created = await create(client, category="yoga", metadata={"room": "A"})
    at = clock.advance(minutes=10)

    body = await update(client, created["id"], data)

    assert "errors" not in body, body
    updated = body["data"]["updateSession"]
    assert instant(created["updatedAt"]) == T0
    assert instant(updated["updatedAt"]) == at
    assert updated["createdAt"] == created["createdAt"]


async def test_a_frozen_clock_freezes_registrations_too(
    client: httpx.AsyncClient, clock: Clock
) -> None:
    session_id = (await create(client))["id"]
    at = clock.advance(minutes=7)

    registered = await register(client, session_id, "member-1")
    read = await graphql(
        client, "query($id: ID!) { session(id: $id) { updatedAt } }", {"id": session_id}
    )

    assert "errors" not in registered, registered
    assert instant(read["data"]["session"]["updatedAt"]) == at
