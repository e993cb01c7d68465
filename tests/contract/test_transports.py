"""One scenario, two transports: REST and GraphQL create the same session."""

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from tests.contract.reference import RESPONSE_FIELDS, RESPONSE_SCHEMA, assert_session_body
from tests.helpers import CREATE, GET, graphql, post_session, valid_body

Create = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]


def rest_create(client: httpx.AsyncClient) -> Create:
    async def create(body: dict[str, Any]) -> dict[str, Any]:
        response = await post_session(client, body)
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    return create


def graphql_create(client: httpx.AsyncClient) -> Create:
    async def create(body: dict[str, Any]) -> dict[str, Any]:
        variables = {"input": {RESPONSE_FIELDS[key]: value for key, value in body.items()}}
        if "kind" in body:
            variables["input"]["kind"] = body["kind"].upper()
        result = await graphql(client, CREATE, variables)
        assert "errors" not in result, result
        return _as_rest(result["data"]["createSession"])

    return create


def _as_rest(session: dict[str, Any]) -> dict[str, Any]:
    rest = {key: session[name] for key, name in RESPONSE_FIELDS.items()}
    rest["kind"], rest["status"] = rest["kind"].lower(), rest["status"].lower()
    return rest


def test_the_fields_spelled_out_here_are_the_pages_in_its_order() -> None:
    assert list(RESPONSE_FIELDS) == list(RESPONSE_SCHEMA["properties"])


@pytest.fixture(params=["rest", "graphql"])
def transport(request: pytest.FixtureRequest, client: httpx.AsyncClient) -> Create:
    return rest_create(client) if request.param == "rest" else graphql_create(client)


async def test_created_session_satisfies_the_contract(transport: Create) -> None:
    body = valid_body(kind="office_hours", metadata={"level": 2})

    created = await transport(body)

    assert_session_body(created)
    assert created["kind"] == "office_hours"
    assert created["metadata"] == {"level": 2}


async def test_both_transports_return_identical_data(client: httpx.AsyncClient) -> None:
    body = valid_body(scheduled_at="2030-06-01T12:00:00+02:00", metadata={"a": [1, None]})

    via_rest = await rest_create(client)(body)
    via_graphql = await graphql_create(client)(body)

    volatile = ("id", "created_at", "updated_at")
    assert {k: v for k, v in via_rest.items() if k not in volatile} == {
        k: v for k, v in via_graphql.items() if k not in volatile
    }


async def test_a_rest_created_session_reads_back_identically_over_graphql(
    client: httpx.AsyncClient,
) -> None:
    created = await rest_create(client)(valid_body())

    result = await graphql(client, GET, {"id": created["id"]})

    assert _as_rest(result["data"]["session"]) == created
