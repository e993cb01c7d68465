"""Regression tests for what fuzzing (tests/fuzz) found, one per finding."""

import base64
from typing import Any

import httpx
import pytest

from tests.contract.reference import assert_error_body
from tests.helpers import CREATE, auth, graphql, session_input, valid_body


def bad_input(body: dict[str, Any]) -> dict[str, Any]:
    assert body["data"] is None, body
    extensions: dict[str, Any] = body["errors"][0]["extensions"]
    assert extensions["code"] == "BAD_USER_INPUT", body
    return extensions


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"title": "a\u0000b"}, "title"),
        ({"host_id": "host\u0000"}, "host_id"),
        ({"brand_id": "\u0000"}, "brand_id"),
        ({"metadata": {"k": "\u0000"}}, "metadata.k"),
        ({"metadata": {"\u0000": 1}}, "metadata"),
        ({"metadata": {"deep": [{"x": "a\u0000"}]}}, "metadata.deep.0.x"),
    ],
)
async def test_nul_characters_are_refused_on_every_engine(
    client: httpx.AsyncClient, overrides: dict[str, Any], field: str
) -> None:
    admin = auth("admin", ["sessions:write", "sessions:admin"])

    response = await client.post("/v1/sessions", json=valid_body(**overrides), headers=admin)

    assert response.status_code == 400
    assert_error_body(response.json(), "validation_error")
    assert response.json()["message"] == (
        f"{field}: must not contain NUL (U+0000) or an unpaired surrogate"
        + (", in any string or key at any depth" if field.startswith("metadata.") else "")
    )


async def test_nul_in_a_filter_or_update_is_bad_user_input(client: httpx.AsyncClient) -> None:
    created = await graphql(client, CREATE, {"input": session_input()})
    session_id = created["data"]["createSession"]["id"]

    listing = await graphql(
        client,
        "query($b: String) { sessions(filter: {brandId: $b}) { totalCount } }",
        {"b": "\u0000"},
    )
    update = await graphql(
        client,
        'mutation($id: ID!) { updateSession(id: $id, input: {category: "a\\u0000b"}) { id } }',
        {"id": session_id},
    )

    assert bad_input(listing)["field"] == "filter.brandId"
    assert bad_input(update)["field"] == "category"


async def test_a_deeply_nested_cursor_is_bad_user_input(client: httpx.AsyncClient) -> None:
    cursor = base64.urlsafe_b64encode(b"[" * 1000).decode().rstrip("=")

    body = await graphql(
        client, "query($c: String) { sessions(after: $c) { totalCount } }", {"c": cursor}
    )

    assert bad_input(body)["field"] == "after"


async def test_the_idempotency_key_rule_is_in_the_openapi_document(
    client: httpx.AsyncClient,
) -> None:
    document = (await client.get("/openapi.json")).json()
    parameter = document["paths"]["/v1/sessions"]["post"]["parameters"][0]

    assert parameter["name"] == "Idempotency-Key"
    assert parameter["schema"]["pattern"] == "^[ -~]+$"


@pytest.mark.parametrize(
    "scheduled_at",
    ["0001-01-01T00:00:00+03:00", "9999-12-31T23:59:59-00:01", "0000-06-01T00:00:00Z"],
)
async def test_instants_at_the_edge_of_the_range_get_a_precise_400(
    client: httpx.AsyncClient, scheduled_at: str
) -> None:
    response = await client.post(
        "/v1/sessions", json=valid_body(scheduled_at=scheduled_at), headers=auth()
    )

    assert response.status_code == 400
    assert "must fall between 0001-01-02 and 9999-12-30" in response.json()["message"]


async def test_the_edges_of_the_range_that_fit_are_accepted(client: httpx.AsyncClient) -> None:
    early = await client.post(
        "/v1/sessions", json=valid_body(scheduled_at="0001-01-02T00:00:00+03:00"), headers=auth()
    )
    late = await client.post(
        "/v1/sessions", json=valid_body(scheduled_at="9999-12-30T23:59:59-05:00"), headers=auth()
    )

    assert early.json()["scheduled_at"] == "0001-01-01T21:00:00Z"
    assert late.json()["scheduled_at"] == "9999-12-31T04:59:59Z"


async def test_numbers_that_overflow_to_infinity_are_refused_by_rest(
    client: httpx.AsyncClient,
) -> None:
    raw = valid_body()
    content = httpx.Request("POST", "/", json=raw).content.replace(
        b"}", b', "metadata": {"a": 1e400}}'
    )

    response = await client.post(
        "/v1/sessions", content=content, headers={**auth(), "Content-Type": "application/json"}
    )

    assert response.status_code == 400
    assert_error_body(response.json(), "validation_error")


@pytest.mark.parametrize("literal", ["1e400", "-1e400", "1" * 4301])
async def test_non_finite_or_huge_numbers_in_graphql_metadata_are_bad_user_input(
    client: httpx.AsyncClient, literal: str
) -> None:
    query = (
        'mutation { createSession(input: {hostId: "host-1", brandId: "b", title: "t", '
        f'scheduledAt: "2030-06-01T10:00:00Z", maxParticipants: 3, metadata: {{a: {literal}}}}}) '
        "{ id metadata } }"
    )

    response = await client.post("/graphql", json={"query": query}, headers=auth())

    assert response.status_code == 200
    assert "Infinity" not in response.text
    assert "NaN" not in response.text
    assert response.json()["errors"][0]["extensions"]["code"] in {
        "BAD_USER_INPUT",
        "GRAPHQL_VALIDATION_FAILED",
    }


async def test_graphql_variables_with_overflowing_numbers_are_a_400(
    client: httpx.AsyncClient,
) -> None:
    content = (
        b'{"query": "mutation($m: JSON) { createSession(input: {hostId: \\"host-1\\", '
        b'brandId: \\"b\\", title: \\"t\\", scheduledAt: \\"2030-06-01T10:00:00Z\\", '
        b'maxParticipants: 3, metadata: $m}) { id } }", "variables": {"m": {"a": 1e400}}}'
    )

    response = await client.post(
        "/graphql", content=content, headers={**auth(), "Content-Type": "application/json"}
    )

    assert response.status_code == 400


async def test_unpaired_surrogates_are_bad_user_input_not_a_crash(
    client: httpx.AsyncClient,
) -> None:
    content = (
        b'{"query": "mutation($i: CreateSessionInput!) { createSession(input: $i) { id } }",'
        b' "variables": {"i": {"hostId": "host-1", "brandId": "b", "title": "x\\ud800",'
        b' "scheduledAt": "2030-06-01T10:00:00Z", "maxParticipants": 3,'
        b' "metadata": {"k\\udc00": 1}}}}'
    )

    response = await client.post(
        "/graphql", content=content, headers={**auth(), "Content-Type": "application/json"}
    )

    assert bad_input(response.json())["field"] == "title"
