"""Every field a caller sends is part of what an Idempotency-Key stands for.

A retry with the same key must send the same request; a change to any one field is a
different request and is refused, whichever field it is. The fields are listed here
literally, as a caller knows them, so a field the app forgets to compare fails a case.
"""

from typing import Any

import httpx
import pytest
from graphql import GraphQLInputObjectType, build_schema

from app.schema import sdl
from tests.helpers import HOST, auth, graphql

CREATE = (
    "mutation($input: CreateSessionInput!, $key: String) {"
    " createSession(input: $input, idempotencyKey: $key) { id } }"
)
GRAPHQL_INPUT: dict[str, Any] = {
    "hostId": HOST,
    "brandId": "brand-1",
    "title": "Morning mobility",
    "scheduledAt": "2030-06-01T10:00:00Z",
    "maxParticipants": 50,
    "kind": "LIVE",
    "metadata": {"level": "beginner"},
    "category": "yoga",
    "waitlistEnabled": False,
}
GRAPHQL_CHANGES: dict[str, Any] = {
    "hostId": "host-2",
    "brandId": "brand-2",
    "title": "Evening mobility",
    "scheduledAt": "2030-06-01T11:00:00Z",
    "maxParticipants": 51,
    "kind": "OFFICE_HOURS",
    "metadata": {"level": "advanced"},
    "category": "pilates",
    "waitlistEnabled": True,
}
REST_BODY: dict[str, Any] = {
    "host_id": HOST,
    "brand_id": "brand-1",
    "title": "Morning mobility",
    "scheduled_at": "2030-06-01T10:00:00Z",
    "max_participants": 50,
    "kind": "live",
    "metadata": {"level": "beginner"},
}
REST_CHANGES: dict[str, Any] = {
    "host_id": "host-2",
    "brand_id": "brand-2",
    "title": "Evening mobility",
    "scheduled_at": "2030-06-01T11:00:00Z",
    "max_participants": 51,
    "kind": "office_hours",
    "metadata": {"level": "advanced"},
}
ADMIN = ["sessions:write", "sessions:admin"]


def test_the_cases_cover_every_field_of_the_input() -> None:
    declared = build_schema(sdl()).type_map["CreateSessionInput"]

    assert isinstance(declared, GraphQLInputObjectType)
    assert set(declared.fields) == set(GRAPHQL_CHANGES)


@pytest.mark.parametrize("field", sorted(GRAPHQL_CHANGES))
async def test_graphql_same_key_with_one_field_changed_is_refused(
    client: httpx.AsyncClient, field: str
) -> None:
    first = await graphql(
        client, CREATE, {"input": GRAPHQL_INPUT, "key": "k"}, headers=auth(HOST, ADMIN)
    )
    changed = {**GRAPHQL_INPUT, field: GRAPHQL_CHANGES[field]}
    second = await graphql(
        client, CREATE, {"input": changed, "key": "k"}, headers=auth(HOST, ADMIN)
    )
    again = await graphql(
        client, CREATE, {"input": GRAPHQL_INPUT, "key": "k"}, headers=auth(HOST, ADMIN)
    )

    assert "errors" not in first, first
    assert second["errors"][0]["extensions"]["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert again["data"] == first["data"]


@pytest.mark.parametrize("field", sorted(REST_CHANGES))
async def test_rest_same_key_with_one_field_changed_is_refused(
    client: httpx.AsyncClient, field: str
) -> None:
    headers = {**auth(HOST, ADMIN), "Idempotency-Key": "k"}

    first = await client.post("/v1/sessions", json=REST_BODY, headers=headers)
    second = await client.post(
        "/v1/sessions", json={**REST_BODY, field: REST_CHANGES[field]}, headers=headers
    )

    assert first.status_code == 201, first.text
    assert second.status_code == 422, second.text
    assert second.json()["error"] == "idempotency_key_reused"
