"""The REST body has exactly the seed page's fields, in its order."""

import httpx

from tests.helpers import auth, valid_body

# The response schema of tests/contract/post-v1-sessions.txt, as the page lists it.
SEED_FIELDS = (
    "id",
    "host_id",
    "brand_id",
    "title",
    "kind",
    "category",
    "scheduled_at",
    "started_at",
    "ended_at",
    "status",
    "stream_call_id",
    "max_participants",
    "duration_minutes",
    "recording_url",
    "metadata",
    "created_at",
    "updated_at",
    "registered_count",
    "is_registered",
)


async def test_the_201_body_holds_the_seed_pages_19_fields_in_its_order(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/v1/sessions", json=valid_body(), headers=auth())

    assert response.status_code == 201
    assert tuple(response.json()) == SEED_FIELDS
