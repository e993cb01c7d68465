"""GET /openapi.json documents the route with the reference page's schemas."""

from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator

from app.contract import REQUEST_SCHEMA, RESPONSE_SCHEMA
from app.resolvers.validation import METADATA_MAX_DEPTH
from tests.contract.reference import ERROR_SCHEMA as PAGE_ERROR
from tests.contract.reference import REQUEST_SCHEMA as PAGE_REQUEST
from tests.contract.reference import RESPONSE_SCHEMA as PAGE_RESPONSE
from tests.helpers import post_session, valid_body

# No NUL, no unpaired surrogate, in ECMA-262 (UTF-16) terms, as JSON Schema reads patterns.
TEXT_PATTERN = "^(?:[^\\u0000\\uD800-\\uDFFF]|[\\uD800-\\uDBFF][\\uDC00-\\uDFFF])*$"


def test_app_contract_is_the_page_with_only_its_implicit_bounds_added() -> None:
    request = {**REQUEST_SCHEMA, "properties": dict(REQUEST_SCHEMA["properties"])}
    capacity = dict(request["properties"]["max_participants"])
    assert capacity.pop("maximum") == 2**31 - 1
    request["properties"]["max_participants"] = capacity
    scheduled_at = dict(request["properties"]["scheduled_at"])
    assert scheduled_at.pop("pattern") == "^(?!0000-|0001-01-01|9999-12-31)"
    assert scheduled_at.pop("description")
    request["properties"]["scheduled_at"] = scheduled_at
    for name in ("host_id", "brand_id", "title"):
        text = dict(request["properties"][name])
        assert text.pop("pattern") == TEXT_PATTERN
        assert text.pop("description")
        request["properties"][name] = text
    metadata = dict(request["properties"]["metadata"])
    assert metadata.pop("propertyNames")["pattern"] == TEXT_PATTERN
    assert metadata.pop("additionalProperties") == {"$ref": "#/components/schemas/MetadataValue"}
    request["properties"]["metadata"] = {**metadata, "additionalProperties": {}}

    assert request == PAGE_REQUEST
    assert RESPONSE_SCHEMA == PAGE_RESPONSE


async def test_openapi_document_fills_the_pages_gaps(client: httpx.AsyncClient) -> None:
    response = await client.get("/openapi.json")  # no token needed

    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.1")
    operation = document["paths"]["/v1/sessions"]["post"]
    assert operation["operationId"] == "createSession"
    assert operation["security"] == [{"bearerAuth": ["sessions:write"]}]
    scheme = document["components"]["securitySchemes"]["bearerAuth"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    assert set(operation["responses"]) == {
        "201",
        "400",
        "401",
        "403",
        "408",
        "409",
        "413",
        "415",
        "422",
        "503",
    }
    schemas = document["components"]["schemas"]
    assert schemas["Session"] == PAGE_RESPONSE
    assert schemas["Error"] == PAGE_ERROR
    assert schemas["CreateSessionRequest"] == REQUEST_SCHEMA
    metadata_value = schemas["MetadataValue"]
    assert metadata_value["pattern"] == TEXT_PATTERN
    assert metadata_value["items"] == {"$ref": "#/components/schemas/MetadataValueAtDepth3"}


def nested(depth: int) -> dict[str, Any]:
    """Metadata whose deepest object is `depth` levels down (metadata itself is 1)."""
    value: Any = {"leaf": "x"}
    for wraps_left in reversed(range(depth - 1)):
        # Objects and lists in turn, the outermost an object.
        value = {"n": value} if wraps_left % 2 == 0 else [value]
    assert isinstance(value, dict)
    return value


def depth_of(value: Any) -> int:
    children = value.values() if isinstance(value, dict) else value
    if not isinstance(value, dict | list):
        return 0
    return 1 + max((depth_of(child) for child in children), default=0)


@pytest.mark.parametrize("depth", [METADATA_MAX_DEPTH, METADATA_MAX_DEPTH + 1])
async def test_the_published_document_accepts_the_metadata_the_service_accepts(
    client: httpx.AsyncClient, depth: int
) -> None:
    document = (await client.get("/openapi.json")).json()
    body = valid_body(metadata=nested(depth))
    # Lists count as levels too: the body mixes objects and lists.
    assert depth_of(body["metadata"]) == depth
    validator = Draft202012Validator(
        {**document["components"]["schemas"]["CreateSessionRequest"], **document}
    )

    status = (await post_session(client, body)).status_code

    assert (status == 201) == (depth <= METADATA_MAX_DEPTH)
    assert validator.is_valid(body) == (status == 201)


async def test_healthz_needs_no_token(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")

    assert response.status_code == 200


async def test_graphiql_page_is_served_without_a_token(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", headers={"Accept": "text/html"})

    assert response.status_code == 200
    assert "/static/graphiql/graphiql.min.js" in response.text
    assert "http" not in response.text  # nothing from another origin
    assert "default-src 'self'" in response.headers["content-security-policy"]


@pytest.mark.parametrize(
    "asset",
    [
        "/static/graphiql/graphiql.min.js",
        "/static/graphiql/graphiql.min.css",
        "/static/graphiql/react.production.min.js",
        "/static/graphiql/react-dom.production.min.js",
        "/static/demo/demo.js",
    ],
)
async def test_page_assets_are_served_by_the_service(client: httpx.AsyncClient, asset: str) -> None:
    response = await client.get(asset)

    assert response.status_code == 200
    assert len(response.content) > 100


async def test_demo_page_is_served_with_the_same_policy(client: httpx.AsyncClient) -> None:
    response = await client.get("/demo")

    assert response.status_code == 200
    assert "/static/demo/demo.js" in response.text
    assert "default-src 'self'" in response.headers["content-security-policy"]
