"""Idempotency-Key on POST /v1/sessions and createSession(idempotencyKey:)."""

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from app.config import Settings
from app.resolvers import idempotency
from tests.contract.reference import assert_error_body, assert_session_body
from tests.helpers import HOST, auth, graphql, post_session, sql, valid_body

COUNT = "query($f: SessionFilter) { sessions(filter: $f) { totalCount } }"


async def post(
    client: httpx.AsyncClient, body: dict[str, Any], key: str | None, sub: str = HOST
) -> httpx.Response:
    headers = auth(sub, ["sessions:write", "sessions:admin"])
    if key is not None:
        headers["Idempotency-Key"] = key
    return await post_session(client, body, headers)


async def sessions_titled(client: httpx.AsyncClient, title: str) -> int:
    body = await graphql(client, COUNT, {"f": {"brandId": "brand-1"}})
    assert "errors" not in body, body
    # Titles are unique per test, so count through a listing of this brand.
    listing = await graphql(client, "{ sessions(first: 100) { edges { node { title } } } }")
    return sum(edge["node"]["title"] == title for edge in listing["data"]["sessions"]["edges"])


async def test_same_key_and_body_returns_the_original_201_and_creates_nothing(
    client: httpx.AsyncClient,
) -> None:
    body = valid_body(title="once")

    first = await post(client, body, "key-1")
    second = await post(client, body, "key-1")

    assert first.status_code == second.status_code == 201
    assert_session_body(second.json())
    assert second.json() == first.json()
    assert await sessions_titled(client, "once") == 1


async def test_replay_is_the_original_even_after_the_session_changed(
    client: httpx.AsyncClient,
) -> None:
    first = await post(client, valid_body(title="then"), "key-1")
    await graphql(
        client,
        "mutation($id: ID!) { registerForSession(sessionId: $id) { id } }",
        {"id": first.json()["id"]},
        headers=auth("member-1"),
    )

    again = await post(client, valid_body(title="then"), "key-1")

    assert again.json() == first.json()
    assert again.json()["registered_count"] == 0


async def test_same_key_with_a_different_body_is_422(client: httpx.AsyncClient) -> None:
    await post(client, valid_body(title="first"), "key-1")

    response = await post(client, valid_body(title="second"), "key-1")

    assert response.status_code == 422
    assert_error_body(response.json(), "idempotency_key_reused")
    assert await sessions_titled(client, "second") == 0


async def test_keys_belong_to_their_caller(client: httpx.AsyncClient) -> None:
    body = valid_body(title="shared key")

    mine = await post(client, body, "key-1", sub=HOST)
    theirs = await post(client, body, "key-1", sub="admin-2")

    assert theirs.status_code == 201
    assert theirs.json()["id"] != mine.json()["id"]
    assert await sessions_titled(client, "shared key") == 2


async def test_without_a_key_every_post_creates(client: httpx.AsyncClient) -> None:
    await post(client, valid_body(title="twice"), None)
    await post(client, valid_body(title="twice"), None)

    assert await sessions_titled(client, "twice") == 2


@pytest.mark.parametrize("key", ["", "x" * 256, "tab\there", "caf\u00e9".encode("latin-1")])
async def test_malformed_key_is_a_400_naming_the_header(
    client: httpx.AsyncClient, key: str | bytes
) -> None:
    headers: dict[str, Any] = {**auth(), "Idempotency-Key": key}
    response = await client.post(
        "/v1/sessions",
        content=httpx.Request("POST", "/", json=valid_body()).content,
        headers={**headers, "Content-Type": "application/json"},
    )

    assert response.status_code == 400
    assert response.json()["message"].startswith("Idempotency-Key: ")


async def test_key_held_by_a_request_in_flight_is_409(
    client: httpx.AsyncClient, schema_ready: Settings
) -> None:
    body = valid_body(title="in flight")
    await post(client, body, "key-1")
    # As if the first request were still running on another worker: its claim is live.
    await sql(
        schema_ready,
        "UPDATE idempotency_keys SET state = 'in_progress', locked_until = :until",
        until=datetime.now(UTC) + timedelta(minutes=1),
    )

    response = await post(client, body, "key-1")

    assert response.status_code == 409
    assert_error_body(response.json(), "idempotency_in_progress")


async def test_a_lapsed_claim_is_taken_over_by_the_retry(
    client: httpx.AsyncClient, schema_ready: Settings
) -> None:
    body = valid_body(title="crashed first")
    await post(client, body, "key-1")
    # The first attempt claimed key-2 and died before writing anything.
    await sql(
        schema_ready,
        "INSERT INTO idempotency_keys (caller, key, fingerprint, state, attempt, locked_until,"
        " session_id, response, created_at, expires_at)"
        " SELECT caller, 'key-2', fingerprint, 'in_progress', 'dead', :lapsed, NULL, NULL,"
        " created_at, expires_at FROM idempotency_keys WHERE key = 'key-1'",
        lapsed=datetime.now(UTC) - timedelta(seconds=1),
    )

    retried = await post(client, body, "key-2")
    replayed = await post(client, body, "key-2")

    assert retried.status_code == 201
    assert replayed.json() == retried.json()
    assert await sessions_titled(client, "crashed first") == 2


async def test_a_failed_create_gives_the_key_back(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_run_once = idempotency.run_once

    async def failing_create(*args: Any, create: Any, **kwargs: Any) -> Any:
        async def broken(s: Any) -> Any:
            await create(s)
            raise RuntimeError("disk full")

        return await real_run_once(*args, create=broken, **kwargs)

    monkeypatch.setattr(idempotency, "run_once", failing_create)
    failed = await post(client, valid_body(title="retry me"), "key-1")
    monkeypatch.setattr(idempotency, "run_once", real_run_once)

    retried = await post(client, valid_body(title="retry me"), "key-1")

    assert failed.status_code == 500
    assert_error_body(failed.json(), "internal_error")
    assert retried.status_code == 201
    assert await sessions_titled(client, "retry me") == 1


async def test_keys_expire_after_24_hours(
    client: httpx.AsyncClient, schema_ready: Settings
) -> None:
    await post(client, valid_body(title="yesterday"), "key-1")
    await sql(
        schema_ready,
        "UPDATE idempotency_keys SET expires_at = :past",
        past=datetime.now(UTC) - timedelta(seconds=1),
    )

    response = await post(client, valid_body(title="today"), "key-1")

    assert response.status_code == 201
    assert await sessions_titled(client, "today") == 1


async def test_graphql_create_takes_the_same_key(client: httpx.AsyncClient) -> None:
    mutation = """
      mutation($input: CreateSessionInput!, $key: String) {
        createSession(input: $input, idempotencyKey: $key) { id title createdAt }
      }
    """
    data = {
        "hostId": HOST,
        "brandId": "brand-1",
        "title": "via graphql",
        "scheduledAt": "2030-06-01T10:00:00Z",
        "maxParticipants": 5,
    }

    first = await graphql(client, mutation, {"input": data, "key": "gql-1"})
    again = await graphql(client, mutation, {"input": data, "key": "gql-1"})
    other = await graphql(client, mutation, {"input": {**data, "title": "x"}, "key": "gql-1"})

    assert again["data"] == first["data"]
    assert other["errors"][0]["extensions"]["code"] == "IDEMPOTENCY_KEY_REUSED"


async def test_racing_retries_create_exactly_one_session(
    racer: httpx.AsyncClient,
) -> None:
    body = valid_body(title="raced")

    responses = await asyncio.gather(*(post(racer, body, "race-key") for _ in range(20)))

    statuses = [response.status_code for response in responses]
    assert set(statuses) <= {201, 409}
    created = [response.json() for response in responses if response.status_code == 201]
    assert created
    assert all(body == created[0] for body in created)
    for response in responses:
        if response.status_code == 409:
            assert_error_body(response.json(), "idempotency_in_progress")
    settled = await post(racer, body, "race-key")
    assert settled.json() == created[0]
    assert await sessions_titled(racer, "raced") == 1
