"""Hostile GraphQL: limits refuse it before it reaches the database."""

import asyncio
import logging
from typing import Any

import httpx
import pytest
from graphql import get_introspection_query

from app.config import Settings
from app.resolvers import sessions as rules
from tests.helpers import SECRET, StatementLog, app_client, auth, error_of, graphql

# A field that reads the database whenever an operation selecting it runs: beside it, a
# statement count of 0 shows the operation was refused before it ran.
READS_THE_DATABASE = "sessions(first: 1) { totalCount }"


def nested_type_query(levels: int) -> str:
    inner = "name"
    for _ in range(levels):
        inner = f"ofType {{ {inner} }}"
    return f"{{ {READS_THE_DATABASE} __schema {{ types {{ fields {{ type {{ {inner} }} }} }} }} }}"


def error_message(body: dict[str, Any]) -> str:
    return str(error_of(body)["message"])


async def test_standard_introspection_query_passes_the_default_limits(
    client: httpx.AsyncClient,
) -> None:
    body = await graphql(client, get_introspection_query(descriptions=True))

    assert "errors" not in body
    assert body["data"]["__schema"]["queryType"]["name"] == "Query"


async def test_30_levels_through_introspection_types_is_refused_before_the_database(
    client: httpx.AsyncClient, statements: StatementLog
) -> None:
    statements.clear()
    allowed = await graphql(client, nested_type_query(5))
    assert "errors" not in allowed, allowed
    assert statements.count > 0  # the statement log sees what the document reads

    statements.clear()
    body = await graphql(client, nested_type_query(30))

    assert body["data"] is None
    assert "introspection deeper than 15 levels" in error_message(body)
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert statements.count == 0


async def test_too_many_aliases_are_refused(
    client: httpx.AsyncClient, statements: StatementLog
) -> None:
    aliases = " ".join(f"a{i}: sessions(first: 1) {{ totalCount }}" for i in range(31))

    statements.clear()
    body = await graphql(client, f"{{ {aliases} }}")

    assert body["data"] is None
    assert "aliases" in error_message(body).lower()
    assert statements.count == 0


async def test_thirty_aliases_are_allowed(client: httpx.AsyncClient) -> None:
    aliases = " ".join(f"a{i}: __typename" for i in range(30))

    body = await graphql(client, f"{{ {aliases} }}")

    assert "errors" not in body


async def test_too_many_tokens_are_refused(client: httpx.AsyncClient) -> None:
    fields = " ".join(["__typename"] * 2001)

    body = await graphql(client, f"{{ {fields} }}")

    assert body["data"] is None
    assert "token" in error_message(body).lower()


async def test_batched_requests_are_refused(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql",
        json=[{"query": "{ __typename }"}, {"query": "{ __typename }"}],
        headers=auth(),
    )

    assert response.status_code == 400


@pytest.fixture
def strict_settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "graphql_introspection": False,
            "graphiql": False,
            "graphql_timeout_s": 0.2,
            "graphql_max_depth": 2,
            # The slow resolver below is only reached field by field; the compiled
            # path's time limit is tests/api/test_compiled_reads.py's.
            "graphql_compiled_reads": False,
        }
    )


async def test_limits_follow_settings(strict_settings: Settings, schema_ready: Settings) -> None:
    async with app_client(strict_settings) as client:
        introspection = await graphql(client, "{ __schema { queryType { name } } }")
        ordinary = await graphql(client, "{ sessions(first: 1) { totalCount } }")
        deep = await graphql(client, "{ sessions { edges { node { id } } } }")
        page = await client.get("/graphql", headers={"Accept": "text/html"})

    assert "introspection" in error_message(introspection).lower()
    assert "errors" not in ordinary
    assert "exceeds maximum operation depth of 2" in error_message(deep)
    assert page.status_code == 404


async def test_slow_operation_is_stopped_with_a_timeout_error(
    strict_settings: Settings, schema_ready: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def slow(*_: Any) -> None:
        await asyncio.sleep(5)

    monkeypatch.setattr(rules, "get_session", slow)

    async with app_client(strict_settings) as client:
        body = await graphql(client, '{ session(id: "x") { id } }')

    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "TIMEOUT"


def test_settings_have_safe_defaults() -> None:
    defaults = Settings(auth_jwt_secret=SECRET)

    assert (defaults.graphql_max_depth, defaults.graphql_max_aliases) == (10, 30)
    assert defaults.graphql_max_tokens == 2000
    assert defaults.graphql_timeout_s == 10


def fragment_bomb(chain: int = 16, branch: int = 3) -> str:
    """720 bytes that expand to 3^15 copies of `__typename`."""
    parts = ["query { ...F0 }"]
    for i in range(chain - 1):
        parts.append(f"fragment F{i} on Query {{ " + " ".join([f"...F{i + 1}"] * branch) + " }")
    parts.append(f"fragment F{chain - 1} on Query {{ __typename }}")
    return " ".join(parts)


async def test_a_fragment_bomb_without_a_token_is_refused_by_its_cost(
    client: httpx.AsyncClient, statements: StatementLog, caplog: pytest.LogCaptureFixture
) -> None:
    bomb = fragment_bomb()
    assert len(bomb.encode()) <= 720

    statements.clear()
    body = await graphql(client, bomb, headers={})

    assert body["data"] is None
    [error] = body["errors"]
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "costs at least" in error["message"]
    assert "limit of 10000" in error["message"]
    assert statements.count == 0
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]


async def test_a_spread_of_an_unknown_fragment_is_a_validation_failure_not_a_bug(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    body = await graphql(client, "query { ...Nope }")

    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "Unknown fragment 'Nope'" in error_message(body)
    assert not [record for record in caplog.records if record.levelno >= logging.WARNING]


async def test_an_operation_over_the_cost_budget_is_refused_with_its_cost_and_the_limit(
    settings: Settings, schema_ready: Settings, statements: StatementLog
) -> None:
    # 1 + 10 * (1 + (1 + 2)): sessions, then per item edges, node, id and title.
    query = "{ sessions(first: 10) { edges { node { id title } } } }"

    async with app_client(settings.model_copy(update={"graphql_max_cost": 40})) as client:
        statements.clear()
        refused = await graphql(client, query)
        refused_statements = statements.count
        allowed = await graphql(client, query.replace("first: 10", "first: 9"))

    assert refused["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "the operation costs at least 41, over the limit of 40" in error_message(refused)
    assert refused_statements == 0
    assert "errors" not in allowed


LIST_BY_STATUS = "query($s: [SessionStatus!]) { sessions(filter: {status: $s}) { totalCount } }"


async def test_a_list_variable_over_100_items_is_refused_before_the_database(
    client: httpx.AsyncClient, statements: StatementLog
) -> None:
    # 32,767 copies once broke PostgreSQL's bind-parameter limit with a 500.
    statements.clear()
    body = await graphql(client, LIST_BY_STATUS, {"s": ["LIVE"] * 32_767})

    assert body["data"] is None
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["message"] == "s: holds 32767 items; at most 100 are allowed"
    assert statements.count == 0


async def test_a_literal_list_over_100_items_is_refused_while_validating(
    client: httpx.AsyncClient, statements: StatementLog
) -> None:
    statuses = ", ".join(["LIVE"] * 101)

    statements.clear()
    body = await graphql(
        client, f"{{ sessions(filter: {{status: [{statuses}]}}) {{ totalCount }} }}"
    )

    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "holds 101 items; at most 100" in error_message(body)
    assert statements.count == 0


async def test_a_list_inside_a_json_value_is_data_not_a_list_input(
    client: httpx.AsyncClient,
) -> None:
    create = (
        'mutation($m: JSON) { createSession(input: {hostId: "host-1", brandId: "b",'
        ' title: "t", scheduledAt: "2030-06-01T10:00:00Z", maxParticipants: 5,'
        " metadata: $m}) { id } }"
    )

    body = await graphql(client, create, {"m": {"tags": list(range(150))}})

    assert "errors" not in body


async def test_repeated_statuses_are_sent_to_the_database_once(
    client: httpx.AsyncClient, statements: StatementLog
) -> None:
    statements.clear()
    body = await graphql(client, LIST_BY_STATUS, {"s": ["SCHEDULED"] * 99 + ["LIVE"]})

    assert body["data"]["sessions"]["totalCount"] == 0
    filtered = [
        str(parameters) for _, parameters in statements.statements if "'live'" in str(parameters)
    ]
    assert filtered
    assert all(sent.count("'scheduled'") == 1 for sent in filtered), filtered
