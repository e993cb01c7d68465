"""Fuzz POST /v1/sessions from the document the app serves at GET /openapi.json.

Positive and negative requests (Schemathesis's examples, coverage and fuzzing phases),
each sent with a valid token that may act for any host_id. Every response must: not be a
5xx; have a status the document lists; have the documented content type; match the
documented schema (`Session` for 201, `Error` = {"error", "message"} otherwise).
Requests that break the document must be refused with 400 (or 413/415 for a huge body
or another media type); requests that satisfy it must get 201, or 422 when the fuzzer
reused an Idempotency-Key with another body (documented, and the generated keys are few).
"""

import asyncio
from typing import Any

import httpx
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    positive_data_acceptance,
    response_schema_conformance,
    status_code_conformance,
)
from starlette.applications import Starlette

from app.config import Settings
from app.main import create_app
from tests.fuzz.conftest import BASE_URL, FuzzStats, fuzz_config
from tests.helpers import SECRET

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
    positive_data_acceptance,
]


def served_openapi_document() -> dict[str, Any]:
    """GET /openapi.json, as the app serves it (the route needs no database)."""

    async def fetch() -> dict[str, Any]:
        app = create_app(Settings(auth_jwt_secret=SECRET, database_url="sqlite+aiosqlite://"))
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
            response = await client.get("/openapi.json")
            response.raise_for_status()
            document: dict[str, Any] = response.json()
            return document

    return asyncio.run(fetch())


# Collected once; each engine's test sends the cases to its own app (`app=fuzz_app`).
schema = schemathesis.openapi.from_dict(
    served_openapi_document(),
    config=fuzz_config(
        base_url=BASE_URL,
        checks={
            "negative_data_rejection": {"expected-statuses": ["400", "413", "415"]},
            "positive_data_acceptance": {"expected-statuses": ["201", "422"]},
        },
    ),
)


@schema.parametrize()
# One database per engine serves every example of the test: that is the point.
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
def test_fuzz_rest(case: schemathesis.Case, fuzz_app: Starlette, fuzz_stats: Any) -> None:
    stats: FuzzStats = fuzz_stats("rest", schema)
    stats.cases += 1
    response = case.call(app=fuzz_app)
    stats.record(response.status_code, server_error=response.status_code >= 500)
    # `app` also reaches the checks that send follow-up requests of their own.
    case.validate_response(response, checks=CHECKS, transport_kwargs={"app": fuzz_app})
