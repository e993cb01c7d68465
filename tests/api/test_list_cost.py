"""The session list costs a constant number of statements and stays index-backed."""

from typing import Any

import httpx
import pytest

from app.config import Settings
from tests.helpers import (
    StatementLog,
    app_client,
    auth,
    graphql,
    register,
    session_input,
    throwaway_engine,
)

LIST = """
query($filter: SessionFilter, $first: Int!) {
  sessions(filter: $filter, first: $first) {
    totalCount
    edges {
      cursor
      node {
        id title registeredCount isRegistered scheduledAt
        waitlistEnabled waitlistCount registrationStatus waitlistPosition
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}
"""
CREATE = "mutation($input: CreateSessionInput!) { createSession(input: $input) { id } }"


async def seed(client: httpx.AsyncClient, count: int, brand: str = "brand-1") -> list[str]:
    ids = []
    for index in range(count):
        data = session_input(
            brandId=brand, scheduledAt=f"2030-06-01T{index // 60:02d}:{index % 60:02d}:00Z"
        )
        body = await graphql(client, CREATE, {"input": data})
        ids.append(body["data"]["createSession"]["id"])
    return ids


@pytest.mark.parametrize("compiled_reads", [True, False], ids=["compiled", "field by field"])
async def test_page_of_1_and_page_of_100_cost_the_same_statements(
    client: httpx.AsyncClient,
    statements: StatementLog,
    schema_ready: Settings,
    compiled_reads: bool,
) -> None:
    ids = await seed(client, 100)
    for session_id in ids[::3]:
        await register(client, session_id, "member-1")

    reads = schema_ready.model_copy(update={"graphql_compiled_reads": compiled_reads})
    async with app_client(reads) as reader:
        statements.clear()
        one = await graphql(reader, LIST, {"first": 1}, headers=auth("member-1"))
        cost_of_one = statements.count
        statements.clear()
        hundred = await graphql(reader, LIST, {"first": 100}, headers=auth("member-1"))
        cost_of_hundred = statements.count

    assert len(one["data"]["sessions"]["edges"]) == 1
    edges = hundred["data"]["sessions"]["edges"]
    assert len(edges) == 100
    assert sum(edge["node"]["isRegistered"] for edge in edges) == len(ids[::3])
    assert cost_of_one == cost_of_hundred
    queries = [sql for sql, _ in statements.statements if not sql.startswith("BEGIN")]
    # Compiled: one statement builds the answer; field by field: the page and totalCount,
    # each in its own short transaction.
    assert len(queries) == (1 if compiled_reads else 2)


async def test_filtered_list_uses_the_brand_index(
    client: httpx.AsyncClient, statements: StatementLog, schema_ready: Settings, engine_name: str
) -> None:
    await seed(client, 30, "brand-1")
    await seed(client, 30, "brand-2")
    flt = {
        "brandId": "brand-1",
        "status": ["SCHEDULED", "LIVE"],
        "scheduledFrom": "2030-06-01T00:10:00Z",
    }

    # The resolver's page statement, which a compiled read embeds as its rows.
    field_by_field = schema_ready.model_copy(update={"graphql_compiled_reads": False})
    statements.clear()
    async with app_client(field_by_field) as reader:
        body = await graphql(reader, LIST, {"first": 10, "filter": flt})
    assert len(body["data"]["sessions"]["edges"]) == 10
    page_sql, parameters = next(
        (sql, params) for sql, params in statements.statements if "LIMIT" in sql.upper()
    )

    plan = await explain(schema_ready, engine_name, page_sql, parameters)

    assert "ix_sessions_brand_scheduled" in plan, plan
    if engine_name == "sqlite":
        # Rows come out of the index in order: no sort step.
        assert "TEMP B-TREE" not in plan, plan
    else:
        assert "Sort" not in plan, plan


async def explain(settings: Settings, engine_name: str, sql: str, parameters: Any) -> str:
    async with throwaway_engine(settings) as engine, engine.connect() as connection:
        if engine_name == "sqlite":
            rows = await connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", parameters)
            return "\n".join(str(row[-1]) for row in rows)
        # The tables are tiny; make the planner show what it would do at scale.
        await connection.exec_driver_sql("SET enable_seqscan = off")
        raw: Any = (await connection.get_raw_connection()).driver_connection
        rows = await raw.fetch(f"EXPLAIN {sql}", *parameters)
        return "\n".join(row[0] for row in rows)
