"""The pages and what they load, over HTTP: no token needed, the same strict policy."""

import httpx
import pytest

from app.config import Settings
from app.schema import sdl
from tests.helpers import app_client

PAGES = ("/", "/docs", "/demo", "/graphql")


@pytest.mark.parametrize("path", PAGES)
async def test_every_page_has_the_strict_policy_and_the_favicon(
    client: httpx.AsyncClient, path: str
) -> None:
    response = await client.get(path, headers={"Accept": "text/html"})

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in response.headers["content-security-policy"]
    assert '<link rel="icon" href="/favicon.ico" type="image/svg+xml" />' in response.text


async def test_favicon_is_served_as_svg(client: httpx.AsyncClient) -> None:
    response = await client.get("/favicon.ico")

    assert response.status_code == 200
    assert response.headers["content-type"] == "image/svg+xml"
    assert response.text.startswith("<svg")


async def test_the_published_schema_needs_no_token(client: httpx.AsyncClient) -> None:
    response = await client.get("/schema.graphql")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text == sdl()


async def test_the_schema_is_not_published_when_introspection_is_off(
    schema_ready: Settings,
) -> None:
    async with app_client(
        schema_ready.model_copy(update={"graphql_introspection": False})
    ) as client:
        response = await client.get("/schema.graphql")

    assert response.status_code == 404
