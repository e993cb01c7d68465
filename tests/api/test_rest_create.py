"""POST /v1/sessions against the reference page's contract."""

import json
import uuid
from typing import Any

import httpx
import pytest

from tests.contract.reference import RESPONSE_FIELDS, assert_error_body, assert_session_body
from tests.helpers import HOST, auth, post_session, token, valid_body


async def test_create_returns_201_with_every_contract_field(client: httpx.AsyncClient) -> None:
    response = await post_session(client, valid_body())

    assert response.status_code == 201
    body = response.json()
    assert_session_body(body)
    assert list(body) == list(RESPONSE_FIELDS)  # the page's order
    assert uuid.UUID(body["id"]).version == 4
    assert body["host_id"] == HOST
    assert body["brand_id"] == "brand-1"
    assert body["title"] == "Morning mobility"
    assert body["scheduled_at"] == "2030-06-01T10:00:00Z"
    assert body["max_participants"] == 50
    assert body["status"] == "scheduled"
    assert body["kind"] == "live"
    assert body["metadata"] == {}
    assert body["registered_count"] == 0
    assert body["is_registered"] is False
    for key in (
        "category",
        "started_at",
        "ended_at",
        "stream_call_id",
        "duration_minutes",
        "recording_url",
    ):
        assert body[key] is None, key
    assert body["created_at"] == body["updated_at"]
    assert response.headers["content-type"] == "application/json"


async def test_create_keeps_kind_and_metadata(client: httpx.AsyncClient) -> None:
    metadata = {"level": "beginner", "tags": ["yoga", "am"], "nested": {"ok": True, "n": 1.5}}
    response = await post_session(client, valid_body(kind="office_hours", metadata=metadata))

    assert response.status_code == 201
    assert response.json()["kind"] == "office_hours"
    assert response.json()["metadata"] == metadata


async def test_scheduled_at_with_an_offset_is_returned_in_utc(client: httpx.AsyncClient) -> None:
    response = await post_session(client, valid_body(scheduled_at="2030-06-01T12:30:00.250+02:00"))

    assert response.status_code == 201
    assert response.json()["scheduled_at"] == "2030-06-01T10:30:00.250000Z"


async def test_lower_case_t_and_z_are_accepted(client: httpx.AsyncClient) -> None:
    response = await post_session(client, valid_body(scheduled_at="2030-06-01t10:00:00z"))

    assert response.status_code == 201
    assert response.json()["scheduled_at"] == "2030-06-01T10:00:00Z"


async def test_integral_float_capacity_is_accepted_as_integer(client: httpx.AsyncClient) -> None:
    response = await post_session(client, valid_body(max_participants=128.0))

    assert response.status_code == 201
    assert response.json()["max_participants"] == 128
    assert isinstance(response.json()["max_participants"], int)


async def test_unknown_properties_are_ignored(client: httpx.AsyncClient) -> None:
    response = await post_session(client, valid_body(color="blue", category="yoga", status="ended"))

    assert response.status_code == 201
    body = response.json()
    assert "color" not in body
    # `category` and `status` are not in the page's request schema: not the caller's to set.
    assert body["category"] is None
    assert body["status"] == "scheduled"


async def test_admin_may_create_for_another_host(client: httpx.AsyncClient) -> None:
    headers = auth("admin-1", ["sessions:write", "sessions:admin"])

    response = await post_session(client, valid_body(host_id="someone-else"), headers)

    assert response.status_code == 201
    assert response.json()["host_id"] == "someone-else"


def _without(key: str) -> dict[str, Any]:
    body = valid_body()
    del body[key]
    return body


INVALID_BODIES = {
    "missing host_id": (_without("host_id"), "host_id"),
    "missing brand_id": (_without("brand_id"), "brand_id"),
    "missing title": (_without("title"), "title"),
    "missing scheduled_at": (_without("scheduled_at"), "scheduled_at"),
    "missing max_participants": (_without("max_participants"), "max_participants"),
    "empty host_id": (valid_body(host_id=""), "host_id"),
    "empty brand_id": (valid_body(brand_id=""), "brand_id"),
    "empty title": (valid_body(title=""), "title"),
    "host_id not a string": (valid_body(host_id=7), "host_id"),
    "title null": (valid_body(title=None), "title"),
    "boolean capacity": (valid_body(max_participants=True), "max_participants"),
    "string capacity": (valid_body(max_participants="5"), "max_participants"),
    "fractional capacity": (valid_body(max_participants=2.5), "max_participants"),
    "zero capacity": (valid_body(max_participants=0), "max_participants"),
    "negative capacity": (valid_body(max_participants=-3), "max_participants"),
    "capacity beyond int32": (valid_body(max_participants=2**31), "max_participants"),
    "unknown kind": (valid_body(kind="webinar"), "kind"),
    "upper-case kind": (valid_body(kind="LIVE"), "kind"),
    "metadata a list": (valid_body(metadata=[1, 2]), "metadata"),
    "metadata a string": (valid_body(metadata="{}"), "metadata"),
    "metadata null": (valid_body(metadata=None), "metadata"),
    "date only": (valid_body(scheduled_at="2030-06-01"), "scheduled_at"),
    "no offset": (valid_body(scheduled_at="2030-06-01T10:00:00"), "scheduled_at"),
    "basic format": (valid_body(scheduled_at="20300601T100000Z"), "scheduled_at"),
    "space separator": (valid_body(scheduled_at="2030-06-01 10:00:00Z"), "scheduled_at"),
    "impossible date": (valid_body(scheduled_at="2030-02-30T10:00:00Z"), "scheduled_at"),
    "scheduled_at a number": (valid_body(scheduled_at=1906000000), "scheduled_at"),
}


@pytest.mark.parametrize(("body", "field"), INVALID_BODIES.values(), ids=INVALID_BODIES.keys())
async def test_invalid_body_is_a_400_naming_the_field(
    client: httpx.AsyncClient, body: dict[str, Any], field: str
) -> None:
    response = await post_session(client, body)

    assert response.status_code == 400
    assert_error_body(response.json(), "validation_error")
    assert response.json()["message"].startswith(f"{field}: ")


LONE_SURROGATES = {
    "in kind": (valid_body(kind="\ud800"), "kind"),
    "in scheduled_at": (valid_body(scheduled_at="\udfff"), "scheduled_at"),
    "in title": (valid_body(title="\ud800"), "title"),
    "in a metadata key": (valid_body(metadata={"\udfff": 1}), "metadata"),
}


@pytest.mark.parametrize(("body", "field"), LONE_SURROGATES.values(), ids=LONE_SURROGATES.keys())
async def test_a_lone_surrogate_is_a_400_naming_the_field(
    client: httpx.AsyncClient, body: dict[str, Any], field: str
) -> None:
    # JSON escapes can spell what no UTF-8 holds: "\ud800".
    response = await client.post(
        "/v1/sessions",
        content=json.dumps(body),
        headers={**auth(), "Content-Type": "application/json"},
    )

    assert response.status_code == 400
    assert_error_body(response.json(), "validation_error")
    assert response.json()["message"].startswith(f"{field}: ")


async def test_every_problem_is_named(client: httpx.AsyncClient) -> None:
    response = await post_session(client, {"title": "", "max_participants": 0})

    message = response.json()["message"]
    for field in ("host_id", "brand_id", "title", "scheduled_at", "max_participants"):
        assert f"{field}: " in message


RAW_BODIES = {
    "malformed JSON": b'{"title": ',
    "trailing garbage": b"{} {}",
    "an array": b"[]",
    "a string": b'"hello"',
    "null": b"null",
    "empty body": b"",
    "NaN": b'{"max_participants": NaN}',
    "UTF-16": '{"title": "x"}'.encode("utf-16"),
    "invalid UTF-8": b'{"title": "\xff"}',
    "a megabyte of brackets": b"[" * (1024 * 1024 - 1),
}


@pytest.mark.parametrize("raw", RAW_BODIES.values(), ids=RAW_BODIES.keys())
async def test_body_that_is_not_a_json_object_is_a_400(
    client: httpx.AsyncClient, raw: bytes
) -> None:
    response = await client.post(
        "/v1/sessions",
        content=raw,
        headers={**auth(), "Content-Type": "application/json"},
    )

    assert response.status_code == 400
    assert_error_body(response.json(), "validation_error")


async def test_missing_token_is_401(client: httpx.AsyncClient) -> None:
    response = await post_session(client, valid_body(), headers={})

    assert response.status_code == 401
    assert_error_body(response.json(), "unauthorized")


@pytest.mark.parametrize(
    "header",
    [
        "Bearer not-a-jwt",
        "Basic dXNlcjpwYXNz",
        "Bearer ",
        f"Bearer {token(secret='another-secret-that-is-long-enough-x')}",
    ],
    ids=["garbage", "basic scheme", "empty bearer", "wrong secret"],
)
async def test_bad_token_is_401(client: httpx.AsyncClient, header: str) -> None:
    response = await post_session(client, valid_body(), headers={"Authorization": header})

    assert response.status_code == 401
    assert_error_body(response.json(), "unauthorized")


async def test_401_comes_before_body_validation(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/sessions", content=b"nope", headers={"Content-Type": "text/plain"}
    )

    assert response.status_code == 401


async def test_missing_write_scope_is_403(client: httpx.AsyncClient) -> None:
    response = await post_session(client, valid_body(), headers=auth(HOST, ["registrations:write"]))

    assert response.status_code == 403
    assert_error_body(response.json(), "forbidden")


async def test_creating_for_another_host_is_403(client: httpx.AsyncClient) -> None:
    response = await post_session(client, valid_body(host_id="someone-else"))

    assert response.status_code == 403
    assert_error_body(response.json(), "forbidden")


async def test_body_over_one_mebibyte_is_413(client: httpx.AsyncClient) -> None:
    body = valid_body(metadata={"blob": "x" * (1024 * 1024)})

    response = await post_session(client, body)

    assert response.status_code == 413
    assert_error_body(response.json(), "payload_too_large")


async def test_chunked_body_over_the_limit_is_413(client: httpx.AsyncClient) -> None:
    async def chunks():  # no Content-Length: the limit must hold while streaming
        for _ in range(17):
            yield b" " * 65536

    response = await client.post(
        "/v1/sessions",
        content=chunks(),
        headers={**auth(), "Content-Type": "application/json"},
    )

    assert response.status_code == 413
    assert_error_body(response.json(), "payload_too_large")


@pytest.mark.parametrize(
    "content_type", [None, "text/plain", "application/x-www-form-urlencoded", "application/jsonx"]
)
async def test_body_that_is_not_json_media_type_is_415(
    client: httpx.AsyncClient, content_type: str | None
) -> None:
    headers = auth()
    if content_type is not None:
        headers["Content-Type"] = content_type
    response = await client.post("/v1/sessions", content=b'{"title": "x"}', headers=headers)

    assert response.status_code == 415
    assert_error_body(response.json(), "unsupported_media_type")


async def test_json_with_charset_parameter_is_accepted(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/sessions",
        content=httpx.Request("POST", "/", json=valid_body()).content,
        headers={**auth(), "Content-Type": "application/json; charset=utf-8"},
    )

    assert response.status_code == 201


async def test_other_methods_get_a_405_error_body(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/sessions", headers=auth())

    assert response.status_code == 405
    assert_error_body(response.json(), "method_not_allowed")
