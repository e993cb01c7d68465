"""Webhooks end to end in one process: endpoints through GraphQL, events from real
changes, delivered over real HTTP to receivers on loopback."""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from standardwebhooks import Webhook

from app.config import Settings
from tests.helpers import app_client, auth, create, create_tables, graphql, register, unregister
from tests.webhook_receiver import STREAM, Received, receiver


def admin() -> dict[str, str]:
    return auth("brand-admin", ["webhooks:admin"])


BRAND = "brand-1"

CREATE_ENDPOINT = """
mutation($input: CreateWebhookEndpointInput!) {
  createWebhookEndpoint(input: $input) { secret endpoint { id url eventTypes enabled } }
}"""
ENDPOINTS = """
query($brand: String!) {
  webhookEndpoints(brandId: $brand) { id enabled disabledReason failingSince }
}"""
DELIVERIES = """
query($id: ID!, $first: Int!, $after: String) {
  webhookDeliveries(endpointId: $id, first: $first, after: $after) {
    nodes { id messageId eventType status attemptCount
            attempts { succeeded responseStatus latencyMs error } }
    pageInfo { hasNextPage endCursor }
  }
}"""
ROTATE = "mutation($id: ID!) { rotateWebhookSecret(id: $id) { secret } }"
REDELIVER = "mutation($id: ID!) { redeliverWebhook(deliveryId: $id) { id status attemptCount } }"
ALL_TYPES = [
    "SESSION_CREATED",
    "SESSION_UPDATED",
    "SESSION_STARTED",
    "SESSION_ENDED",
    "SESSION_CANCELLED",
    "REGISTRATION_CREATED",
    "REGISTRATION_CANCELLED",
    "REGISTRATION_PROMOTED",
]


@pytest.fixture
def webhook_settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "webhooks_dispatcher": True,
            "webhooks_allow_insecure": True,
            "webhooks_retry_schedule_s": (0.2, 0.2, 0.2),
            "webhooks_poll_interval_s": 0.1,
            "webhooks_timeout_s": 2.0,
            "webhooks_lease_s": 5.0,
        }
    )


@pytest.fixture
async def hooks(webhook_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    await create_tables(webhook_settings)
    async with app_client(webhook_settings) as client:
        yield client


async def add_endpoint(
    client: httpx.AsyncClient, url: str, types: list[str] | None = None
) -> dict[str, Any]:
    body = await graphql(
        client,
        CREATE_ENDPOINT,
        {"input": {"brandId": BRAND, "url": url, "eventTypes": types or ALL_TYPES}},
        headers=admin(),
    )
    assert "errors" not in body, body
    created: dict[str, Any] = body["data"]["createWebhookEndpoint"]
    return created


async def settled_deliveries(
    client: httpx.AsyncClient, endpoint_id: str, timeout: float = 10
) -> list[dict[str, Any]]:
    """The endpoint's deliveries once there are some and none is pending (the receiver
    answers before the dispatcher records the answer)."""
    async with asyncio.timeout(timeout):
        while True:
            body = await graphql(
                client, DELIVERIES, {"id": endpoint_id, "first": 100}, headers=admin()
            )
            nodes: list[dict[str, Any]] = body["data"]["webhookDeliveries"]["nodes"]
            if nodes and all(node["status"] != "PENDING" for node in nodes):
                return nodes
            await asyncio.sleep(0.05)


def verified(secret: str, item: Received) -> dict[str, Any]:
    payload: dict[str, Any] = Webhook(secret).verify(item.body, item.headers)
    return payload


async def test_deliveries_are_signed_per_standard_webhooks(hooks: httpx.AsyncClient) -> None:
    async with receiver() as target:
        endpoint = await add_endpoint(hooks, target.url)
        session = await create(hooks, brandId=BRAND, title="Signed")
        await register(hooks, session["id"], "member-1")

        created, registered = await target.wait_for(2)

    assert endpoint["secret"].startswith("whsec_")
    payload = verified(endpoint["secret"], created)
    assert payload["type"] == "session.created"
    assert payload["data"]["session"]["id"] == session["id"]
    assert payload["data"]["session"]["title"] == "Signed"
    assert len(payload["data"]["session"]) == 19
    assert payload["timestamp"] == session["createdAt"]
    member = verified(endpoint["secret"], registered)
    assert member["type"] == "registration.created"
    assert (member["data"]["member_id"], member["data"]["status"]) == ("member-1", "registered")
    assert member["data"]["session"]["registered_count"] == 1
    assert created.headers["webhook-id"] != registered.headers["webhook-id"]


async def test_only_the_brands_subscribed_types_are_delivered(hooks: httpx.AsyncClient) -> None:
    async with receiver() as target:
        await add_endpoint(hooks, target.url, ["REGISTRATION_CANCELLED"])
        other_brand = await create(hooks, brandId="brand-2")
        await register(hooks, other_brand["id"], "member-1")
        await unregister(hooks, other_brand["id"], "member-1")
        session = await create(hooks, brandId=BRAND)
        await register(hooks, session["id"], "member-1")
        await unregister(hooks, session["id"], "member-1")

        [cancelled] = await target.wait_for(1)

    assert cancelled.payload["type"] == "registration.cancelled"
    assert cancelled.payload["data"]["session"]["id"] == session["id"]
    assert cancelled.payload["data"]["status"] == "cancelled"
    assert len(target.received) == 1


async def test_a_receiver_failing_three_times_gets_the_event_four_times_with_one_id(
    hooks: httpx.AsyncClient,
) -> None:
    async with receiver(script=[500, 503, 429]) as target:
        endpoint = await add_endpoint(hooks, target.url, ["SESSION_CREATED"])
        await create(hooks, brandId=BRAND)

        attempts = await target.wait_for(4)
        [delivery] = await settled_deliveries(hooks, endpoint["endpoint"]["id"])

    assert len({item.headers["webhook-id"] for item in attempts}) == 1
    assert len({item.body for item in attempts}) == 1
    assert delivery["status"] == "DELIVERED"
    assert delivery["messageId"] == attempts[0].headers["webhook-id"]
    assert [a["responseStatus"] for a in delivery["attempts"]] == [500, 503, 429, 204]
    assert [a["succeeded"] for a in delivery["attempts"]] == [False, False, False, True]
    assert all(a["latencyMs"] >= 0 for a in delivery["attempts"])


async def test_events_of_one_session_arrive_in_order_even_through_retries(
    hooks: httpx.AsyncClient,
) -> None:
    async with receiver(script=[500]) as target:
        await add_endpoint(hooks, target.url, ["REGISTRATION_CREATED"])
        session = await create(hooks, brandId=BRAND, maxParticipants=50)
        members = [f"member-{n}" for n in range(8)]
        for member in members:
            await register(hooks, session["id"], member)

        await target.wait_for(len(members) + 1)

    counts = [item.payload["data"]["session"]["registered_count"] for item in target.received]
    assert counts == [1, *range(1, len(members) + 1)]
    assert [item.payload["data"]["member_id"] for item in target.received[1:]] == members


async def test_after_rotation_both_secrets_sign_until_the_old_one_expires(
    hooks: httpx.AsyncClient,
) -> None:
    async with receiver() as target:
        endpoint = await add_endpoint(hooks, target.url, ["SESSION_CREATED"])
        body = await graphql(hooks, ROTATE, {"id": endpoint["endpoint"]["id"]}, headers=admin())
        new_secret = body["data"]["rotateWebhookSecret"]["secret"]
        await create(hooks, brandId=BRAND)

        [item] = await target.wait_for(1)

    assert new_secret != endpoint["secret"]
    assert len(item.headers["webhook-signature"].split(" ")) == 2
    assert verified(new_secret, item) == verified(endpoint["secret"], item)
    with pytest.raises(Exception, match="No matching signature"):
        Webhook("whsec_" + "A" * 32).verify(item.body, item.headers)


async def test_410_disables_the_endpoint_and_says_why(hooks: httpx.AsyncClient) -> None:
    async with receiver(script=[410]) as target:
        await add_endpoint(hooks, target.url, ["SESSION_CREATED"])
        await create(hooks, brandId=BRAND)
        await target.wait_for(1)
        await create(hooks, brandId=BRAND)

        body = await graphql(hooks, ENDPOINTS, {"brand": BRAND}, headers=admin())
        for _ in range(50):
            [endpoint] = body["data"]["webhookEndpoints"]
            if not endpoint["enabled"]:
                break
            body = await graphql(hooks, ENDPOINTS, {"brand": BRAND}, headers=admin())

    assert endpoint["enabled"] is False
    assert "410" in endpoint["disabledReason"]
    assert len(target.received) == 1


async def test_redelivery_sends_the_same_message_again(hooks: httpx.AsyncClient) -> None:
    async with receiver() as target:
        endpoint = await add_endpoint(hooks, target.url, ["SESSION_CREATED"])
        await create(hooks, brandId=BRAND)
        [first] = await target.wait_for(1)
        [delivery] = await settled_deliveries(hooks, endpoint["endpoint"]["id"])
        again = await graphql(hooks, REDELIVER, {"id": delivery["id"]}, headers=admin())

        [_, second] = await target.wait_for(2)

    assert again["data"]["redeliverWebhook"]["status"] == "PENDING"
    assert second.headers["webhook-id"] == first.headers["webhook-id"]
    assert second.body == first.body


async def test_deliveries_page_newest_first(hooks: httpx.AsyncClient) -> None:
    async with receiver() as target:
        endpoint = await add_endpoint(hooks, target.url, ["SESSION_CREATED"])
        for _ in range(3):
            await create(hooks, brandId=BRAND)
        await target.wait_for(3)
        await settled_deliveries(hooks, endpoint["endpoint"]["id"])
        variables = {"id": endpoint["endpoint"]["id"], "first": 2}
        page = (await graphql(hooks, DELIVERIES, variables, headers=admin()))["data"]
        after = page["webhookDeliveries"]["pageInfo"]["endCursor"]
        rest = (await graphql(hooks, DELIVERIES, {**variables, "after": after}, headers=admin()))[
            "data"
        ]

    first_ids = [int(node["id"]) for node in page["webhookDeliveries"]["nodes"]]
    assert page["webhookDeliveries"]["pageInfo"]["hasNextPage"] is True
    assert first_ids == sorted(first_ids, reverse=True)
    [last] = rest["webhookDeliveries"]["nodes"]
    assert int(last["id"]) < min(first_ids)
    assert rest["webhookDeliveries"]["pageInfo"]["hasNextPage"] is False


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/hook",  # plain http off loopback
        "https://10.0.0.5/hook",
        "https://192.168.1.1/hook",
        "https://172.16.0.1/hook",
        "https://169.254.169.254/latest/meta-data",  # cloud metadata
        "https://[fe80::1]/hook",
        "https://[::ffff:10.0.0.1]/hook",
        "https://[fd00:ec2::254]/hook",
        "https://100.100.100.200/hook",
        "https://0.0.0.0/hook",
        "https://user:pass@example.com/hook",
        "ftp://example.com/hook",
    ],
)
async def test_private_and_metadata_targets_are_refused(hooks: httpx.AsyncClient, url: str) -> None:
    body = await graphql(
        hooks,
        CREATE_ENDPOINT,
        {"input": {"brandId": BRAND, "url": url, "eventTypes": ["SESSION_CREATED"]}},
        headers=admin(),
    )

    [error] = body["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "url"}


async def test_loopback_is_refused_unless_insecure_targets_are_allowed(
    schema_ready: Settings,
) -> None:
    async with app_client(schema_ready) as client:
        body = await graphql(
            client,
            CREATE_ENDPOINT,
            {
                "input": {
                    "brandId": BRAND,
                    "url": "https://127.0.0.1:9/hook",
                    "eventTypes": ["SESSION_CREATED"],
                }
            },
            headers=admin(),
        )

    assert "loopback" in body["errors"][0]["message"]


@contextlib.asynccontextmanager
async def connection_counter() -> AsyncIterator[list[int]]:
    """A TCP listener on loopback that counts the connections it is offered: proof that
    nothing at all, not even a TLS handshake, went to its port. Yields [port, count]."""
    seen = [0, 0]

    def accepted(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen[1] += 1
        writer.close()

    server = await asyncio.start_server(accepted, "127.0.0.1", 0)
    seen[0] = server.sockets[0].getsockname()[1]
    async with server:
        yield seen


async def test_a_target_that_became_refused_is_refused_at_delivery_and_nothing_is_sent(
    webhook_settings: Settings,
) -> None:
    # Saved while the name resolved to an address allowed then (loopback, insecure
    # targets allowed); delivered by processes that refuse that address.
    allowed_then = webhook_settings.model_copy(update={"webhooks_dispatcher": False})
    refused_now = webhook_settings.model_copy(update={"webhooks_allow_insecure": False})
    await create_tables(webhook_settings)
    async with connection_counter() as counter:
        async with app_client(allowed_then) as client:
            url = f"https://localhost:{counter[0]}/hook"
            endpoint = await add_endpoint(client, url, ["SESSION_CREATED"])
            await create(client, brandId=BRAND)
        async with app_client(refused_now) as client:
            [delivery] = await settled_deliveries(client, endpoint["endpoint"]["id"])
        connections = counter[1]

    assert delivery["status"] == "FAILED"
    assert len(delivery["attempts"]) == 4
    for attempt in delivery["attempts"]:
        assert attempt["succeeded"] is False
        assert attempt["responseStatus"] is None
        assert attempt["error"].startswith("refused target: resolves to a loopback address")
    assert connections == 0


async def test_a_huge_answer_is_read_only_to_64_kib_and_the_attempt_recorded(
    hooks: httpx.AsyncClient, webhook_settings: Settings
) -> None:
    async with receiver(script=[STREAM]) as target:
        endpoint = await add_endpoint(hooks, target.url, ["SESSION_CREATED"])
        await create(hooks, brandId=BRAND)
        await target.wait_for(1)
        [delivery] = await settled_deliveries(hooks, endpoint["endpoint"]["id"])

    assert delivery["status"] == "DELIVERED"
    [attempt] = delivery["attempts"]
    assert (attempt["succeeded"], attempt["responseStatus"], attempt["error"]) == (True, 200, None)
    # The body would take about a minute; reading it all would run into the time limit.
    assert attempt["latencyMs"] < webhook_settings.webhooks_timeout_s * 1000 / 2


async def test_an_endpoint_failing_for_the_disable_period_is_disabled_and_says_why(
    webhook_settings: Settings,
) -> None:
    settings = webhook_settings.model_copy(update={"webhooks_disable_after_s": 0.5})
    await create_tables(settings)
    async with receiver(script=[500] * 10) as target, app_client(settings) as client:
        await add_endpoint(client, target.url, ["SESSION_CREATED"])
        await create(client, brandId=BRAND)
        async with asyncio.timeout(10):
            while True:
                body = await graphql(client, ENDPOINTS, {"brand": BRAND}, headers=admin())
                [endpoint] = body["data"]["webhookEndpoints"]
                if not endpoint["enabled"]:
                    break
                await asyncio.sleep(0.05)
        await create(client, brandId=BRAND)
        await asyncio.sleep(0.5)  # a few dispatcher rounds: time to send, were it sent

    assert endpoint["disabledReason"].startswith("every delivery failed since ")
    assert endpoint["disabledReason"].endswith("the last: answered 500")
    assert endpoint["failingSince"] is not None
    assert 2 <= len(target.received) <= 4
    assert {item.payload["type"] for item in target.received} == {"session.created"}


async def test_managing_endpoints_needs_the_webhooks_admin_scope(
    hooks: httpx.AsyncClient,
) -> None:
    body = await graphql(hooks, ENDPOINTS, {"brand": BRAND})

    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
