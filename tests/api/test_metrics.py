"""/metrics stays small whatever operation names clients invent."""

import logging

import httpx
import pytest

from app.config import Settings
from app.logs import RequestContextFilter
from tests.helpers import auth, samples

NAMES = 1_000  # 50 times the default budget of 20 labelled names


async def send_named_operations(
    client: httpx.AsyncClient, count: int, headers: dict[str, str]
) -> None:
    for number in range(count):
        response = await client.post(
            "/graphql", json={"query": f"query Op{number:07d} {{ __typename }}"}, headers=headers
        )
        assert response.status_code == 200


def operation_labels(text: str) -> dict[str, float]:
    """operation label -> operations counted, over every type and outcome."""
    counts: dict[str, float] = {}
    for (name, labels), value in samples(text).items():
        if name == "graphql_operations_total":
            operation = dict(labels)["operation"]
            counts[operation] = counts.get(operation, 0) + value
    return counts


async def test_a_thousand_names_without_a_token_grow_metrics_by_less_than_50_kb(
    client: httpx.AsyncClient,
) -> None:
    before = (await client.get("/metrics")).text

    await send_named_operations(client, NAMES, headers={})
    after = (await client.get("/metrics")).text

    assert len(after.encode()) - len(before.encode()) < 50_000
    counted = operation_labels(after)
    assert counted["unauthenticated"] - operation_labels(before).get("unauthenticated", 0) == NAMES
    assert not [label for label in counted if label.startswith("Op0")]


async def test_a_callers_names_are_labelled_up_to_the_budget_then_counted_as_other(
    client: httpx.AsyncClient,
) -> None:
    budget = Settings.model_fields["graphql_metrics_operation_names"].default
    before = (await client.get("/metrics")).text

    await send_named_operations(client, NAMES, headers=auth())
    again = await client.post(
        "/graphql", json={"query": "query Op0000003 { __typename }"}, headers=auth()
    )
    after = (await client.get("/metrics")).text

    assert again.status_code == 200
    assert len(after.encode()) - len(before.encode()) < 50_000
    counted, earlier = operation_labels(after), operation_labels(before)
    admitted = sorted(label for label in counted if label.startswith("Op0"))
    assert admitted == [f"Op{number:07d}" for number in range(budget)]
    assert counted["Op0000003"] - earlier.get("Op0000003", 0) == 2  # still its own label
    assert counted["other"] - earlier.get("other", 0) == NAMES - budget


@pytest.mark.parametrize("length", [65, 5_000])
async def test_names_longer_than_64_characters_are_counted_as_other(
    client: httpx.AsyncClient, length: int
) -> None:
    name = "x" * length

    before = operation_labels((await client.get("/metrics")).text)
    response = await client.post(
        "/graphql", json={"query": f"query {name} {{ __typename }}"}, headers=auth()
    )
    after = operation_labels((await client.get("/metrics")).text)

    assert response.json() == {"data": {"__typename": "Query"}}
    assert name not in after
    assert after["other"] - before.get("other", 0) == 1


async def test_the_log_field_names_the_operation_only_when_it_is_a_short_graphql_name(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="app.access")
    caplog.handler.addFilter(RequestContextFilter())

    for name in ("x" * 5_000, "Short"):
        await client.post("/graphql", json={"query": f"query {name} {{ __typename }}"}, headers={})

    access = [record for record in caplog.records if record.name == "app.access"]
    assert [record.graphql_operation for record in access] == ["other", "Short"]
