"""registerForSession / unregisterFromSession: seats, idempotency, who sees what."""

import httpx
import pytest

from tests.helpers import (
    REGISTER,
    UNREGISTER,
    auth,
    create,
    error_of,
    graphql,
    register,
    seen_by,
    unregister,
)


async def test_registering_takes_a_seat(client: httpx.AsyncClient) -> None:
    session = await create(client)

    body = await register(client, session["id"])

    registered = body["data"]["registerForSession"]
    assert registered["registeredCount"] == 1
    assert registered["isRegistered"] is True
    assert registered["updatedAt"] > session["updatedAt"]


async def test_registering_twice_changes_nothing(client: httpx.AsyncClient) -> None:
    session = await create(client)
    first = (await register(client, session["id"]))["data"]["registerForSession"]

    second = await register(client, session["id"])

    assert "errors" not in second
    assert second["data"]["registerForSession"] == first


async def test_is_registered_is_for_the_caller(client: httpx.AsyncClient) -> None:
    session = await create(client)
    await register(client, session["id"], "member-1")

    mine = await seen_by(client, session["id"], "member-1")
    theirs = await seen_by(client, session["id"], "member-2")

    assert (mine["isRegistered"], mine["registeredCount"]) == (True, 1)
    assert (theirs["isRegistered"], theirs["registeredCount"]) == (False, 1)


async def test_registering_needs_the_registrations_scope(client: httpx.AsyncClient) -> None:
    session = await create(client)

    body = await graphql(
        client, REGISTER, {"id": session["id"]}, headers=auth("member-1", ["sessions:write"])
    )

    assert error_of(body)["extensions"]["code"] == "FORBIDDEN"
    assert (await seen_by(client, session["id"], "member-1"))["registeredCount"] == 0


@pytest.mark.parametrize("mutation", [REGISTER, UNREGISTER])
@pytest.mark.parametrize("session_id", ["00000000-0000-4000-8000-000000000000", "nope"])
async def test_unknown_session_is_not_found(
    client: httpx.AsyncClient, mutation: str, session_id: str
) -> None:
    body = await graphql(client, mutation, {"id": session_id}, headers=auth("member-1"))

    assert body["data"] is None
    assert error_of(body)["extensions"]["code"] == "NOT_FOUND"


async def test_full_session_refuses_with_session_full(client: httpx.AsyncClient) -> None:
    session = await create(client, maxParticipants=2)
    await register(client, session["id"], "member-1")
    await register(client, session["id"], "member-2")

    body = await register(client, session["id"], "member-3")

    assert error_of(body)["extensions"]["code"] == "SESSION_FULL"
    assert (await seen_by(client, session["id"], "member-3"))["isRegistered"] is False
    assert (await seen_by(client, session["id"], "member-3"))["registeredCount"] == 2


async def test_registered_member_of_a_full_session_may_register_again(
    client: httpx.AsyncClient,
) -> None:
    session = await create(client, maxParticipants=1)
    await register(client, session["id"], "member-1")

    body = await register(client, session["id"], "member-1")

    assert body["data"]["registerForSession"]["registeredCount"] == 1


async def test_unregistering_frees_the_seat(client: httpx.AsyncClient) -> None:
    session = await create(client, maxParticipants=1)
    await register(client, session["id"], "member-1")

    freed = await unregister(client, session["id"], "member-1")
    taken = await register(client, session["id"], "member-2")

    assert freed["data"]["unregisterFromSession"]["registeredCount"] == 0
    assert freed["data"]["unregisterFromSession"]["isRegistered"] is False
    assert taken["data"]["registerForSession"]["registeredCount"] == 1


async def test_unregistering_twice_or_without_a_seat_changes_nothing(
    client: httpx.AsyncClient,
) -> None:
    session = await create(client)
    await register(client, session["id"], "member-1")
    await register(client, session["id"], "member-2")
    await unregister(client, session["id"], "member-1")
    before = await seen_by(client, session["id"], "member-1")

    again = await unregister(client, session["id"], "member-1")
    never = await unregister(client, session["id"], "member-3")

    assert again["data"]["unregisterFromSession"] == before
    assert never["data"]["unregisterFromSession"]["registeredCount"] == 1


async def test_live_sessions_still_take_registrations(client: httpx.AsyncClient) -> None:
    session = await create(client)
    await graphql(
        client, "mutation($id: ID!) { startSession(id: $id) { id } }", {"id": session["id"]}
    )

    body = await register(client, session["id"])

    assert body["data"]["registerForSession"]["registeredCount"] == 1


@pytest.mark.parametrize(
    "close", [["cancelSession"], ["startSession", "endSession"]], ids=["cancelled", "ended"]
)
async def test_closed_sessions_refuse_registration(
    client: httpx.AsyncClient, close: list[str]
) -> None:
    session = await create(client)
    await register(client, session["id"], "member-1")
    for mutation in close:
        await graphql(
            client, f"mutation($id: ID!) {{ {mutation}(id: $id) {{ id }} }}", {"id": session["id"]}
        )

    newcomer = await register(client, session["id"], "member-2")
    leaver = await unregister(client, session["id"], "member-1")
    already = await register(client, session["id"], "member-1")

    assert error_of(newcomer)["extensions"]["code"] == "REGISTRATION_CLOSED"
    # The record of who held a seat is kept once the session is over.
    assert error_of(leaver)["extensions"]["code"] == "REGISTRATION_CLOSED"
    assert already["data"]["registerForSession"]["isRegistered"] is True
    assert (await seen_by(client, session["id"], "member-2"))["registeredCount"] == 1


async def test_registered_only_lists_the_callers_sessions(client: httpx.AsyncClient) -> None:
    sessions = [await create(client, scheduledAt=f"2030-06-0{day}T09:00:00Z") for day in (1, 2, 3)]
    await register(client, sessions[0]["id"], "member-1")
    await register(client, sessions[2]["id"], "member-1")
    await register(client, sessions[1]["id"], "member-2")
    query = """
      query($filter: SessionFilter) {
        sessions(filter: $filter) { totalCount edges { node { id isRegistered } } }
      }
    """

    mine = await graphql(
        client, query, {"filter": {"registeredOnly": True}}, headers=auth("member-1")
    )
    everything = await graphql(
        client, query, {"filter": {"registeredOnly": False}}, headers=auth("member-1")
    )

    nodes = [edge["node"] for edge in mine["data"]["sessions"]["edges"]]
    assert nodes == [
        {"id": sessions[0]["id"], "isRegistered": True},
        {"id": sessions[2]["id"], "isRegistered": True},
    ]
    assert mine["data"]["sessions"]["totalCount"] == 2
    assert everything["data"]["sessions"]["totalCount"] == 3
    flags = [edge["node"]["isRegistered"] for edge in everything["data"]["sessions"]["edges"]]
    assert flags == [True, False, True]
