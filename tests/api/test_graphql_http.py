"""What /graphql answers a request it cannot run: a status, JSON, and a GraphQL-shaped error."""

import json
import logging
import socket
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.graphql_http import BAD_REQUEST
from tests.contract.reference import assert_error_body
from tests.helpers import auth, token, valid_body
from tests.server import running_server, server_env

JSON = {"Content-Type": "application/json"}
SUBSCRIPTION = 'subscription { sessionUpdated(id: "s-1") { id } }'


def assert_refused(response: httpx.Response, code: str = BAD_REQUEST) -> str:
    """The response is a refusal in the GraphQL shape; returns its message."""
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"errors"}
    [error] = body["errors"]
    assert set(error) == {"message", "extensions"}
    assert error["extensions"] == {"code": code}
    assert error["message"]
    return str(error["message"])


@pytest.mark.parametrize("body", ["null", "123", '"abc"', "true", "[]"])
async def test_a_body_that_is_not_a_json_object_gets_400_with_a_graphql_error(
    client: httpx.AsyncClient, body: str
) -> None:
    response = await client.post("/graphql", content=body, headers=JSON)  # no token needed

    assert "must be a JSON object" in assert_refused(response)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-32"])
async def test_json_that_is_not_utf8_is_refused_on_both_routes(
    client: httpx.AsyncClient, encoding: str
) -> None:
    headers = {**auth(), **JSON}

    gql = await client.post(
        "/graphql",
        content=json.dumps({"query": "{ __typename }"}).encode(encoding),
        headers=headers,
    )
    rest = await client.post(
        "/v1/sessions", content=json.dumps(valid_body()).encode(encoding), headers=headers
    )

    assert assert_refused(gql) == "the body is not UTF-8"
    assert rest.status_code == 400
    assert_error_body(rest.json(), "validation_error")
    assert rest.json()["message"] == "the body is not UTF-8"


async def test_a_subscription_over_http_is_told_to_use_the_websocket(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)

    posted = await client.post("/graphql", json={"query": SUBSCRIPTION}, headers=auth())
    got = await client.get("/graphql", params={"query": SUBSCRIPTION}, headers=auth())

    for response in (posted, got):
        assert "WebSocket" in assert_refused(response)
    refusals = [record for record in caplog.records if record.name == "app.graphql_http"]
    assert [record.levelno for record in refusals] == [logging.INFO, logging.INFO]
    assert not [record for record in caplog.records if record.levelno >= logging.WARNING]


REFUSED: dict[str, dict[str, Any]] = {
    "unknown operationName": {
        "json": {"query": "query A { __typename }", "operationName": "B"},
    },
    "no query": {"json": {"variables": {}}},
    "operationName not a string": {"json": {"query": "{ __typename }", "operationName": 7}},
    "variables not an object": {"json": {"query": "{ __typename }", "variables": [1]}},
    "not JSON": {"content": b'{"query": ', "headers": JSON},
    "NaN": {"content": b'{"query": "{ __typename }", "variables": {"n": NaN}}', "headers": JSON},
    "form-encoded": {"data": {"query": "{ __typename }"}},
    "a mutation over GET": {"method": "GET", "params": {"query": "mutation { __typename }"}},
}


@pytest.mark.parametrize("request_args", REFUSED.values(), ids=REFUSED.keys())
async def test_every_refusal_from_graphql_is_json(
    client: httpx.AsyncClient, request_args: dict[str, Any]
) -> None:
    args = dict(request_args)
    method = args.pop("method", "POST")
    args["headers"] = {**auth(), **args.get("headers", {})}

    response = await client.request(method, "/graphql", **args)

    assert_refused(response)


async def test_get_still_reads_variables_of_any_json_shape(client: httpx.AsyncClient) -> None:
    query = "query Count($first: Int) { sessions(first: $first) { totalCount } }"

    given = await client.get(
        "/graphql", params={"query": query, "variables": '{"first": 1}'}, headers=auth()
    )
    null = await client.get(
        "/graphql", params={"query": query, "variables": "null"}, headers=auth()
    )

    for response in (given, null):
        assert response.status_code == 200, response.text
        assert response.json() == {"data": {"sessions": {"totalCount": 0}}}


def send_half_a_body_and_hang_up(url: str, path: str) -> None:
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as sock:
        sock.sendall(
            (
                f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
                f"Authorization: Bearer {token()}\r\nContent-Length: 200\r\n\r\n"
                '{"query": "{ __typen'
            ).encode()
        )
        time.sleep(0.2)  # the server is reading the body when the connection goes


@pytest.mark.slow
def test_a_client_that_hangs_up_mid_body_is_one_info_line_on_both_routes(
    database_settings: dict[str, Any], tmp_path: Path
) -> None:
    with running_server(tmp_path, server_env(database_settings)) as server:
        send_half_a_body_and_hang_up(server.url, "/graphql")
        server.wait_for_log(lambda record: record.get("route") == "/graphql")
        send_half_a_body_and_hang_up(server.url, "/v1/sessions")
        server.wait_for_log(lambda record: record.get("route") == "/v1/sessions")
        records = server.log_records()

    refusals = [record for record in records if "the client disconnected" in record["message"]]
    assert [(record["logger"], record["level"]) for record in refusals] == [
        ("app.graphql_http", "INFO"),
        ("app.rest_compat", "INFO"),
    ]
    assert not [record for record in records if record["level"] in ("WARNING", "ERROR")]
    assert not [record for record in records if "exc_info" in record]
