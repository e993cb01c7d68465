"""The waitlist: opt-in, first come first served, promoted in the transaction that frees a seat."""

import asyncio
import random
from typing import Any

import httpx

from app.config import Settings
from tests.api.invariants import assert_invariants, session_state
from tests.helpers import auth, create, graphql, seen_by, valid_body

FIELDS = """
  id registeredCount isRegistered waitlistEnabled waitlistCount registrationStatus
  waitlistPosition maxParticipants status updatedAt
"""
REGISTER = f"mutation($id: ID!) {{ registerForSession(sessionId: $id) {{ {FIELDS} }} }}"
UNREGISTER = f"mutation($id: ID!) {{ unregisterFromSession(sessionId: $id) {{ {FIELDS} }} }}"
UPDATE = f"""
mutation($id: ID!, $input: UpdateSessionInput!) {{
  updateSession(id: $id, input: $input) {{ {FIELDS} }}
}}
"""


async def call(client: httpx.AsyncClient, query: str, session_id: str, user: str) -> dict[str, Any]:
    body = await graphql(client, query, {"id": session_id}, headers=auth(user))
    if body.get("errors"):
        return {"error": body["errors"][0]["extensions"]["code"]}
    return next(iter(body["data"].values()))  # type: ignore[no-any-return]


async def waitlisted_session(client: httpx.AsyncClient, seats: int = 2, waiting: int = 3) -> str:
    session = await create(client, maxParticipants=seats, waitlistEnabled=True)
    for index in range(seats + waiting):
        await call(client, REGISTER, session["id"], f"m{index}")
    return str(session["id"])


async def test_rest_creates_keep_the_waitlist_off_and_the_contract_body(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/v1/sessions", json=valid_body(), headers=auth())

    assert "waitlist_enabled" not in response.json()
    assert (await seen_by(client, response.json()["id"], "m0", FIELDS))["waitlistEnabled"] is False


async def test_without_a_waitlist_a_full_session_says_session_full(
    client: httpx.AsyncClient,
) -> None:
    session = await create(client, maxParticipants=1)
    await call(client, REGISTER, session["id"], "m0")

    assert await call(client, REGISTER, session["id"], "m1") == {"error": "SESSION_FULL"}


async def test_a_full_session_with_a_waitlist_queues_newcomers_in_order(
    client: httpx.AsyncClient,
) -> None:
    session_id = await waitlisted_session(client, seats=2, waiting=3)

    views = [await seen_by(client, session_id, f"m{index}", FIELDS) for index in range(6)]

    assert [view["registrationStatus"] for view in views] == [
        "REGISTERED",
        "REGISTERED",
        "WAITLISTED",
        "WAITLISTED",
        "WAITLISTED",
        "NONE",
    ]
    assert [view["waitlistPosition"] for view in views] == [None, None, 1, 2, 3, None]
    assert [view["isRegistered"] for view in views[:3]] == [True, True, False]
    assert views[0]["registeredCount"] == 2
    assert views[0]["waitlistCount"] == 3


async def test_registering_again_while_waitlisted_changes_nothing(
    client: httpx.AsyncClient,
) -> None:
    session_id = await waitlisted_session(client, seats=1, waiting=2)
    before = await seen_by(client, session_id, "m1", FIELDS)

    again = await call(client, REGISTER, session_id, "m1")

    assert again == before


async def test_a_freed_seat_goes_to_the_head_of_the_waitlist(client: httpx.AsyncClient) -> None:
    session_id = await waitlisted_session(client, seats=2, waiting=3)

    left = await call(client, UNREGISTER, session_id, "m0")

    assert (left["registeredCount"], left["waitlistCount"]) == (2, 2)
    assert left["registrationStatus"] == "NONE"
    promoted = await seen_by(client, session_id, "m2", FIELDS)
    assert (promoted["registrationStatus"], promoted["isRegistered"]) == ("REGISTERED", True)
    assert promoted["waitlistPosition"] is None
    assert [
        (await seen_by(client, session_id, m, FIELDS))["waitlistPosition"] for m in ("m3", "m4")
    ] == [
        1,
        2,
    ]


async def test_leaving_the_waitlist_moves_everyone_behind_up(client: httpx.AsyncClient) -> None:
    session_id = await waitlisted_session(client, seats=1, waiting=4)

    await call(client, UNREGISTER, session_id, "m2")

    positions = [
        (await seen_by(client, session_id, f"m{i}", FIELDS))["waitlistPosition"] for i in (1, 3, 4)
    ]
    assert positions == [1, 2, 3]
    assert (await seen_by(client, session_id, "m0", FIELDS))["waitlistCount"] == 3


async def test_raising_capacity_promotes_as_many_as_fit_in_order(
    client: httpx.AsyncClient,
) -> None:
    session_id = await waitlisted_session(client, seats=2, waiting=4)

    body = await graphql(client, UPDATE, {"id": session_id, "input": {"maxParticipants": 4}})

    updated = body["data"]["updateSession"]
    assert (updated["registeredCount"], updated["waitlistCount"]) == (4, 2)
    statuses = [
        (await seen_by(client, session_id, f"m{i}", FIELDS))["registrationStatus"] for i in range(6)
    ]
    assert statuses == ["REGISTERED"] * 4 + ["WAITLISTED"] * 2


async def test_turning_the_waitlist_off_keeps_who_waits_but_takes_no_one_new(
    client: httpx.AsyncClient,
) -> None:
    session_id = await waitlisted_session(client, seats=1, waiting=2)

    await graphql(client, UPDATE, {"id": session_id, "input": {"waitlistEnabled": False}})
    newcomer = await call(client, REGISTER, session_id, "late")
    await call(client, UNREGISTER, session_id, "m0")

    assert newcomer == {"error": "SESSION_FULL"}
    # Those already waiting are still served, in order.
    assert (await seen_by(client, session_id, "m1", FIELDS))["registrationStatus"] == "REGISTERED"
    assert (await seen_by(client, session_id, "m2", FIELDS))["waitlistPosition"] == 1


async def test_ending_or_cancelling_closes_the_waitlist_for_the_record(
    client: httpx.AsyncClient,
) -> None:
    cancelled = await waitlisted_session(client, seats=1, waiting=2)
    ended = await waitlisted_session(client, seats=1, waiting=2)
    await graphql(client, "mutation($id: ID!) { cancelSession(id: $id) { id } }", {"id": cancelled})
    for mutation in ("startSession", "endSession"):
        await graphql(
            client, f"mutation($id: ID!) {{ {mutation}(id: $id) {{ id }} }}", {"id": ended}
        )

    for session_id in (cancelled, ended):
        assert await call(client, UNREGISTER, session_id, "m0") == {"error": "REGISTRATION_CLOSED"}
        waiting = await seen_by(client, session_id, "m1", FIELDS)
        assert (waiting["registrationStatus"], waiting["waitlistPosition"]) == ("WAITLISTED", 1)
        assert await call(client, REGISTER, session_id, "new") == {"error": "REGISTRATION_CLOSED"}


async def test_the_first_ten_of_the_waitlist_are_promoted_exactly(
    client: httpx.AsyncClient, schema_ready: Settings
) -> None:
    session = await create(client, maxParticipants=10, waitlistEnabled=True)
    members = [f"member-{index}" for index in range(50)]
    random.Random(3).shuffle(members)

    results = await asyncio.gather(*(call(client, REGISTER, session["id"], m) for m in members))
    assert all("error" not in result for result in results)
    before = await assert_invariants(schema_ready, session["id"])
    assert len(before["registered"]) == 10
    assert len(before["waitlist"]) == 40

    await asyncio.gather(
        *(call(client, UNREGISTER, session["id"], m) for m in before["registered"])
    )

    after = await assert_invariants(schema_ready, session["id"])
    assert sorted(after["registered"]) == sorted(before["waitlist"][:10])
    assert after["waitlist"] == before["waitlist"][10:]


async def test_workers_racing_300_registrations_and_100_departures_keep_the_invariants(
    racer: httpx.AsyncClient,
    settings: Settings,
) -> None:
    client = racer
    session = await create(client, maxParticipants=50, waitlistEnabled=True)
    members = [f"member-{index}" for index in range(300)]
    leavers = random.Random(5).sample(members, 100)
    calls = [call(client, REGISTER, session["id"], m) for m in members] + [
        call(client, UNREGISTER, session["id"], m) for m in leavers
    ]
    random.Random(9).shuffle(calls)

    results = await asyncio.gather(*calls)

    assert all("error" not in result for result in results), results
    state = await assert_invariants(settings, session["id"])
    assert len(state["registered"]) == 50
    remaining = set(state["registered"]) | set(state["waitlist"])
    assert remaining <= set(members)
    # A departure that ran before its own registration left nothing behind, so the
    # member then registered; every other leaver is gone.
    assert len(remaining) >= 200
    view = await seen_by(client, session["id"], "observer", FIELDS)
    assert view["registeredCount"] == 50
    assert view["waitlistCount"] == len(state["waitlist"])
    assert (await session_state(settings, session["id"]))["waitlist_count"] == len(
        state["waitlist"]
    )
