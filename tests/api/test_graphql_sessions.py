"""createSession, session(id) and sessions(...) over POST /graphql."""

import logging
from datetime import timedelta
from typing import Any

import httpx
import pytest

from app.config import Settings
from app.resolvers import sessions as rules
from tests.helpers import (
    CREATE,
    GET,
    HOST,
    app_client,
    auth,
    create,
    error_of,
    graphql,
    session_input,
    token,
)

LIST = """
query List($filter: SessionFilter, $first: Int!, $after: String) {
  sessions(filter: $filter, first: $first, after: $after) {
    totalCount
    edges { cursor node { id title brandId hostId kind status scheduledAt } }
    pageInfo { hasNextPage endCursor }
  }
}
"""


async def test_create_returns_the_new_session_with_defaults(client: httpx.AsyncClient) -> None:
    session = await create(client, category="yoga")

    assert session["kind"] == "LIVE"
    assert session["status"] == "SCHEDULED"
    assert session["category"] == "yoga"
    assert session["metadata"] == {}
    assert session["registeredCount"] == 0
    assert session["isRegistered"] is False
    assert session["createdAt"] == session["updatedAt"]
    assert session["startedAt"] is None


async def test_session_by_id_reads_back_what_was_created(client: httpx.AsyncClient) -> None:
    created = await create(client, kind="OFFICE_HOURS", metadata={"room": "A"})

    body = await graphql(client, GET, {"id": created["id"]})

    assert body["data"]["session"] == created


@pytest.mark.parametrize(
    "session_id", ["00000000-0000-4000-8000-000000000000", "not-a-uuid", "", "1' OR '1'='1"]
)
async def test_unknown_or_malformed_id_is_null(client: httpx.AsyncClient, session_id: str) -> None:
    body = await graphql(client, GET, {"id": session_id})

    assert body == {"data": {"session": None}}


async def test_upper_case_id_finds_the_session(client: httpx.AsyncClient) -> None:
    created = await create(client)

    body = await graphql(client, GET, {"id": created["id"].upper()})

    assert body["data"]["session"]["id"] == created["id"]


async def test_reading_needs_only_a_valid_token(client: httpx.AsyncClient) -> None:
    created = await create(client)

    body = await graphql(client, GET, {"id": created["id"]}, headers=auth("member-9", []))

    assert body["data"]["session"]["id"] == created["id"]


@pytest.mark.parametrize("query", [GET, LIST, CREATE, "{ __typename }"])
async def test_every_operation_needs_a_token(client: httpx.AsyncClient, query: str) -> None:
    variables = {"id": "x", "first": 5, "input": session_input()}
    body = await graphql(client, query, variables, headers={})

    assert body["data"] is None
    assert error_of(body)["extensions"]["code"] == "UNAUTHENTICATED"


async def test_expired_token_is_unauthenticated(client: httpx.AsyncClient) -> None:
    expired = token(ttl=timedelta(seconds=-60))

    body = await graphql(client, GET, {"id": "x"}, headers={"Authorization": f"Bearer {expired}"})

    assert error_of(body)["extensions"]["code"] == "UNAUTHENTICATED"
    assert "expired" in error_of(body)["message"]


async def test_create_without_write_scope_is_forbidden(client: httpx.AsyncClient) -> None:
    body = await graphql(client, CREATE, {"input": session_input()}, headers=auth(HOST, []))

    assert error_of(body)["extensions"]["code"] == "FORBIDDEN"


async def test_create_for_another_host_is_forbidden_without_admin(
    client: httpx.AsyncClient,
) -> None:
    variables = {"input": session_input(hostId="other-host")}

    denied = await graphql(client, CREATE, variables)
    allowed = await graphql(
        client, CREATE, variables, headers=auth("admin", ["sessions:write", "sessions:admin"])
    )

    assert error_of(denied)["extensions"]["code"] == "FORBIDDEN"
    assert allowed["data"]["createSession"]["hostId"] == "other-host"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"title": ""}, "title"),
        ({"hostId": ""}, "hostId"),
        ({"brandId": ""}, "brandId"),
        ({"maxParticipants": 0}, "maxParticipants"),
        ({"maxParticipants": -1}, "maxParticipants"),
        ({"metadata": [1, 2]}, "metadata"),
        ({"metadata": "text"}, "metadata"),
        ({"category": ""}, "category"),
    ],
)
async def test_invalid_create_input_is_bad_user_input_naming_the_field(
    client: httpx.AsyncClient, overrides: dict[str, Any], field: str
) -> None:
    body = await graphql(client, CREATE, {"input": session_input(**overrides)})

    error = error_of(body)
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": field}
    assert error["message"].startswith(f"{field}: ")


@pytest.mark.parametrize(
    "scheduled_at",
    ["2030-06-01", "2030-06-01T18:00:00", "20300601T180000Z", "2030-06-01T18:00:00+0200"],
)
async def test_datetime_input_follows_rfc3339_strictly(
    client: httpx.AsyncClient, scheduled_at: str
) -> None:
    body = await graphql(client, CREATE, {"input": session_input(scheduledAt=scheduled_at)})

    assert body["data"] is None
    assert error_of(body)["extensions"]["code"] == "BAD_USER_INPUT"
    assert "RFC 3339" in error_of(body)["message"]


async def test_datetime_literal_in_the_query_is_checked_too(client: httpx.AsyncClient) -> None:
    query = (
        'mutation { createSession(input: {hostId: "host-1", brandId: "b", title: "t", '
        'scheduledAt: "2030-06-01", maxParticipants: 3}) { id } }'
    )

    body = await graphql(client, query)

    assert body["data"] is None
    assert "RFC 3339" in error_of(body)["message"]


async def test_wrong_variable_type_is_bad_user_input(client: httpx.AsyncClient) -> None:
    body = await graphql(client, CREATE, {"input": session_input(maxParticipants=True)})

    assert body["data"] is None
    assert error_of(body)["extensions"]["code"] == "BAD_USER_INPUT"


async def test_unknown_field_is_a_validation_error(client: httpx.AsyncClient) -> None:
    body = await graphql(client, "{ sessions { nope } }")

    assert error_of(body)["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


async def test_syntax_error_is_a_parse_error(client: httpx.AsyncClient) -> None:
    body = await graphql(client, "{ sessions(first: 5 { totalCount } }")

    assert error_of(body)["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"


async def test_unexpected_errors_are_masked_and_logged(
    schema_ready: Settings, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(*_: Any, **__: Any) -> None:
        raise RuntimeError("database password is hunter2")

    monkeypatch.setattr(rules, "get_session", broken)
    # The resolver is what breaks, so the query must reach it rather than a compiled read.
    field_by_field = schema_ready.model_copy(update={"graphql_compiled_reads": False})

    with caplog.at_level(logging.ERROR, logger="app.graphql"):
        async with app_client(field_by_field) as client:
            body = await graphql(client, GET, {"id": "x"})

    error = error_of(body)
    assert error["message"] == "Internal server error"
    assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR"}
    assert "hunter2" not in str(body)
    assert any(
        record.exc_info and "hunter2" in str(record.exc_info[1]) for record in caplog.records
    )


async def test_expected_errors_are_not_logged_as_errors(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR):
        refused = await graphql(client, CREATE, {"input": session_input(title="")})
        invalid = await graphql(client, "{ sessions { nope } }")

    assert error_of(refused)["extensions"]["code"] == "BAD_USER_INPUT"
    assert error_of(invalid)["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert [record for record in caplog.records if record.levelno >= logging.ERROR] == []


# -- listing ------------------------------------------------------------------


async def list_page(client: httpx.AsyncClient, **variables: Any) -> dict[str, Any]:
    variables.setdefault("first", 20)
    body = await graphql(client, LIST, variables)
    assert "errors" not in body, body
    page: dict[str, Any] = body["data"]["sessions"]
    return page


async def test_pages_walk_every_session_in_schedule_order(client: httpx.AsyncClient) -> None:
    # Two sessions share an instant: the id breaks the tie.
    times = ["2030-06-03T09:00:00Z", "2030-06-01T09:00:00Z", "2030-06-02T09:00:00Z"] * 2
    created = [await create(client, scheduledAt=at) for at in times]
    expected = [s["id"] for s in sorted(created, key=lambda s: (s["scheduledAt"], s["id"]))]

    seen: list[str] = []
    after = None
    while True:
        page = await list_page(client, first=4, after=after)
        assert page["totalCount"] == 6
        seen += [edge["node"]["id"] for edge in page["edges"]]
        assert page["pageInfo"]["endCursor"] == page["edges"][-1]["cursor"]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]

    assert seen == expected


async def test_page_does_not_shift_when_sessions_are_added(client: httpx.AsyncClient) -> None:
    for day in (1, 2, 3, 4):
        await create(client, scheduledAt=f"2030-06-0{day}T09:00:00Z")
    first = await list_page(client, first=2)

    await create(client, scheduledAt="2030-05-01T09:00:00Z")  # sorts before the cursor
    second = await list_page(client, first=2, after=first["pageInfo"]["endCursor"])

    assert [edge["node"]["scheduledAt"] for edge in second["edges"]] == [
        "2030-06-03T09:00:00Z",
        "2030-06-04T09:00:00Z",
    ]


async def test_empty_list_has_no_cursor(client: httpx.AsyncClient) -> None:
    page = await list_page(client)

    assert page == {
        "totalCount": 0,
        "edges": [],
        "pageInfo": {"hasNextPage": False, "endCursor": None},
    }


@pytest.mark.parametrize("first", [0, -1, 101])
async def test_first_outside_1_to_100_is_bad_user_input(
    client: httpx.AsyncClient, first: int
) -> None:
    body = await graphql(client, LIST, {"first": first})

    assert error_of(body)["extensions"] == {"code": "BAD_USER_INPUT", "field": "first"}


@pytest.mark.parametrize("after", ["garbage", "", "WyJ4Il0", "eyJhIjoxfQ"])
async def test_forged_cursor_is_bad_user_input(client: httpx.AsyncClient, after: str) -> None:
    body = await graphql(client, LIST, {"first": 5, "after": after})

    assert error_of(body)["extensions"] == {"code": "BAD_USER_INPUT", "field": "after"}


async def test_filters_combine(client: httpx.AsyncClient) -> None:
    admin = auth("admin", ["sessions:write", "sessions:admin"])
    inputs = [
        session_input(brandId="b1", hostId="h1", scheduledAt="2030-01-01T10:00:00Z"),
        session_input(brandId="b1", hostId="h2", scheduledAt="2030-02-01T10:00:00Z"),
        session_input(brandId="b2", hostId="h1", scheduledAt="2030-03-01T10:00:00Z"),
        session_input(
            brandId="b1", hostId="h1", scheduledAt="2030-04-01T10:00:00Z", kind="OFFICE_HOURS"
        ),
    ]
    for data in inputs:
        assert "errors" not in await graphql(client, CREATE, {"input": data}, headers=admin)

    async def titles_for(flt: dict[str, Any]) -> list[str]:
        page = await list_page(client, filter=flt)
        return [edge["node"]["scheduledAt"][:7] for edge in page["edges"]]

    assert await titles_for({"brandId": "b1"}) == ["2030-01", "2030-02", "2030-04"]
    assert await titles_for({"hostId": "h1"}) == ["2030-01", "2030-03", "2030-04"]
    assert await titles_for({"brandId": "b1", "hostId": "h1"}) == ["2030-01", "2030-04"]
    assert await titles_for({"kind": "OFFICE_HOURS"}) == ["2030-04"]
    assert await titles_for({"kind": "LIVE", "brandId": "b1"}) == ["2030-01", "2030-02"]
    assert await titles_for({"status": ["SCHEDULED"]}) == [
        "2030-01",
        "2030-02",
        "2030-03",
        "2030-04",
    ]
    assert await titles_for({"status": ["ENDED", "CANCELLED"]}) == []
    window = {"scheduledFrom": "2030-02-01T10:00:00Z", "scheduledTo": "2030-04-01T10:00:00Z"}
    assert await titles_for(window) == ["2030-02", "2030-03"]
    offset_window = {"scheduledFrom": "2030-02-01T12:00:00+02:00"}
    assert await titles_for(offset_window) == ["2030-02", "2030-03", "2030-04"]
    page = await list_page(client, filter={"brandId": "b1"}, first=1)
    assert page["totalCount"] == 3
    assert page["pageInfo"]["hasNextPage"] is True


async def test_string_filters_are_values_not_sql(client: httpx.AsyncClient) -> None:
    await create(client, brandId="b' OR '1'='1")
    await create(client, brandId="plain")

    page = await list_page(client, filter={"brandId": "b' OR '1'='1"})

    assert [edge["node"]["brandId"] for edge in page["edges"]] == ["b' OR '1'='1"]
