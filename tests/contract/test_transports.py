"""One scenario, two transports: REST and GraphQL create the same session."""

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from app.rest_compat import KEYS
from tests.contract.reference import assert_session_body
from tests.helpers import auth, graphql, valid_body

Create = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]

FIELDS = " ".join(KEYS.values())


def rest_create(client: httpx.AsyncClient) -> Create:
    async def create(body: dict[str, Any]) -> dict[str, Any]:
        response = await client.post("/v1/sessions", json=body, headers=auth())
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    return create


def graphql_create(client: httpx.AsyncClient) -> Create:
    async def create(body: dict[str, Any]) -> dict[str, Any]:
        variables = {"input": {KEYS[key]: value for key, value in body.items()}}
        if "kind" in body:
            variables["input"]["kind"] = body["kind"].upper()
        result = await graphql(
            client,
            f"mutation($input: CreateSessionInput!) {{ createSession(input: $input) {{ {FIELDS} }} }}",
            variables,
        )
        assert "errors" not in result, result
        return _as_rest(result["data"]["createSession"])

    return create


def _as_rest(session: dict[str, Any]) -> dict[str, Any]:
    rest = {key: session[name] for key, name in KEYS.items()}
    rest["kind"], rest["status"] = rest["kind"].lower(), rest["status"].lower()
    return rest


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

    result = await graphql(
        client, f"query($id: ID!) {{ session(id: $id) {{ {FIELDS} }} }}", {"id": created["id"]}
    )

    assert _as_rest(result["data"]["session"]) == created
