"""Fuzz every query and mutation of the committed schema.graphql against POST /graphql.

Each operation gets valid documents (Schemathesis's fuzzing phase, positive mode) sent
with a valid token (sessions:write, sessions:admin, registrations:write), on a database
seeded with a session in every state. The FUZZ_EXAMPLES budget is shared by the
operations, by how many values each takes. Generated scalars lean towards trouble: `ID`s
are often a seeded session's, strings include NUL, LIKE wildcards, huge and cursor-shaped
values, `DateTime`s cover years 1 to 9999 with any offset, `JSON` includes numbers no
float or int can hold. Negative mode is left out: its documents break the SDL, so
graphql-core refuses them before any of our code runs, and they took half the budget;
values our resolvers must refuse come from the scalar strategies above.

Schemathesis's built-in `not_a_server_error` calls every GraphQL error that carries a
`path` a server error, and so fails on our documented NOT_FOUND, FORBIDDEN, SESSION_FULL,
INVALID_TRANSITION, ... errors; `positive_data_acceptance` fails on BAD_USER_INPUT for
values the SDL alone cannot rule out (an empty title). Both are left out. Instead:

- `no_graphql_server_error`: no HTTP 5xx, and no error whose `extensions.code` is
  INTERNAL_SERVER_ERROR (what the app turns every unexpected exception into);
- `graphql_error_codes_documented`: every error carries a code of the app's vocabulary
  (app.errors' classes and the codes the GraphQL layer gives);
- `graphql_strict_json`: the body is JSON as RFC 8259 defines it (no NaN, no Infinity);
- built-in `response_schema_conformance` (a GraphQL JSON object, no null in a non-null
  field).
"""

import base64
import json
import string
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import graphql
import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import response_schema_conformance
from schemathesis.graphql import nodes
from starlette.applications import Starlette

from app.config import Settings
from tests.fuzz.conftest import (
    BASE_URL,
    FUZZ_SCOPES,
    FUZZ_SUB,
    FuzzStats,
    fuzz_config,
    fuzz_examples,
)
from tests.fuzz.graphql_checks import (
    error_codes,
    graphql_error_codes_documented,
    graphql_strict_json,
    no_graphql_server_error,
)
from tests.helpers import app_client, auth

SCHEMA_FILE = Path(__file__).parents[2] / "schema.graphql"

CHECKS = [
    no_graphql_server_error,
    graphql_error_codes_documented,
    graphql_strict_json,
    response_schema_conformance,
]


# Scalar strategies. Values the server must refuse are meant: it answers BAD_USER_INPUT.
def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _rfc3339(moment: datetime, offset_minutes: int, fraction: str, zulu: str) -> str:
    if offset_minutes == 0 and zulu:
        offset = zulu
    else:
        sign = "-" if offset_minutes < 0 else "+"
        hours, minutes = divmod(abs(offset_minutes), 60)
        offset = f"{sign}{hours:02}:{minutes:02}"
    # Not strftime: its %Y does not pad years before 1000 on glibc.
    return (
        f"{moment.year:04}-{moment.month:02}-{moment.day:02}"
        f"T{moment.hour:02}:{moment.minute:02}:{moment.second:02}{fraction}{offset}"
    )


RFC3339_TEXT = st.builds(
    _rfc3339,
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59)),
    st.integers(-(24 * 60 - 1), 24 * 60 - 1),
    st.sampled_from(["", ".5", ".123456", ".123456789"]),
    st.sampled_from(["", "Z", "z"]),
)
INVALID_DATE_TIMES = st.one_of(
    st.sampled_from(
        [
            "0001-01-01T00:00:00+00:01",
            "9999-12-31T23:59:59-23:59",
            "2030-06-01T23:59:60Z",
            "2030-02-30T10:00:00Z",
            "2030-06-01T10:00:00",
            "2030-06-01",
            "2030-06-01T10:00:00+24:00",
            "",
        ]
    ),
    st.text(max_size=40),
)
# Three valid ones for one invalid one: a bad scheduledAt stops a create before the rest is
# read (one_of(a, a, a, b) would not do: Hypothesis picks among distinct branches).
DATE_TIMES = st.sampled_from([RFC3339_TEXT] * 3 + [INVALID_DATE_TIMES]).flatmap(lambda s: s)

# Cursors are base64url JSON [scheduledAt, id]: near misses reach the decoder's corners.
CURSORS = st.one_of(
    st.tuples(RFC3339_TEXT, st.text(max_size=40)).map(lambda key: _b64(json.dumps(key))),
    st.integers(1, 3000).map(lambda depth: _b64("[" * depth)),
    st.text(max_size=40).map(_b64),
    st.binary(max_size=40).map(lambda raw: base64.urlsafe_b64encode(raw).decode()),
)
NASTY_STRINGS = st.sampled_from(
    [
        "",
        "\x00",
        "a\x00b",
        " ",
        "%",
        "_",
        "\\",
        "'",
        "\u202e",
        "\U0001f600",
        "https://example.com/recording.mp4",
        "http://[::1]/x",
        "x" * 5000,
    ]
)
# Ordinary text twice as often as the nasty kinds: an argument that is refused hides the rest.
STRINGS = st.sampled_from(
    [
        st.text(alphabet=string.printable, min_size=1, max_size=40),
        st.text(alphabet=string.printable, min_size=1, max_size=40),
        st.text(min_size=1, max_size=40),
        st.text(min_size=1, max_size=40),
        NASTY_STRINGS,
        CURSORS,
    ]
).flatmap(lambda s: s)
IDS_WITHOUT_SESSION = st.one_of(
    st.uuids().map(str), st.text(alphabet=string.printable, max_size=40), st.text(max_size=10)
)


def _json_object(fields: dict[str, graphql.ValueNode]) -> graphql.ValueNode:
    return graphql.ObjectValueNode(
        fields=tuple(
            graphql.ObjectFieldNode(name=graphql.NameNode(value=name), value=value)
            for name, value in fields.items()
        )
    )


_JSON_NAMES = st.from_regex(r"\A[_A-Za-z][_0-9A-Za-z]{0,10}\Z")
_JSON_LEAVES = st.one_of(
    st.just(graphql.NullValueNode()),
    st.booleans().map(nodes.Boolean),
    st.integers().map(nodes.Int),
    st.floats(allow_nan=False, allow_infinity=False).map(nodes.Float),
    STRINGS.map(nodes.String),
    # Literals no Python float (1e400) or default-limited int (4301 digits) holds.
    st.sampled_from(["1e400", "-1e400", "1e-400", "9" * 400 + ".0"]).map(nodes.Float),
    st.sampled_from([str(2**63), "1" * 4300, "1" * 4301]).map(nodes.Int),
)
JSON_VALUES = st.recursive(
    _JSON_LEAVES,
    lambda children: st.one_of(
        st.lists(children, max_size=4).map(nodes.List),
        st.dictionaries(_JSON_NAMES, children, max_size=4).map(_json_object),
    ),
    max_leaves=12,
)

# Mostly in the ranges the rules accept (maxParticipants >= 1, first 1..100), and their edges.
INTS = st.sampled_from(
    [
        st.integers(1, 100),
        st.integers(1, 100),
        st.integers(-(2**31), 2**31 - 1),
        st.sampled_from([0, -1, 101, 2**31 - 1, -(2**31)]),
    ]
).flatmap(lambda s: s)

schemathesis.graphql.scalar("String", STRINGS.map(nodes.String))
schemathesis.graphql.scalar("Int", INTS.map(nodes.Int))
schemathesis.graphql.scalar("DateTime", DATE_TIMES.map(nodes.String))
# metadata must be an object: mostly objects, sometimes anything else.
schemathesis.graphql.scalar(
    "JSON",
    st.one_of(st.dictionaries(_JSON_NAMES, JSON_VALUES, max_size=5).map(_json_object), JSON_VALUES),
)


def _input_size(type_: graphql.GraphQLInputType, seen: frozenset[str] = frozenset()) -> int:
    """How many values a caller chooses for an argument of this type."""
    named = graphql.get_named_type(type_)
    if isinstance(named, graphql.GraphQLInputObjectType) and named.name not in seen:
        return sum(_input_size(field.type, seen | {named.name}) for field in named.fields.values())
    return 1


def examples_per_operation(budget: int) -> dict[str, int]:
    """The target's budget shared by its operations, by how many values each one takes:
    createSession and sessions get the most, session(id) the fewest (at least 5 each)."""
    sdl = graphql.build_schema(SCHEMA_FILE.read_text(encoding="utf-8"))
    sizes = {
        f"{root.name}.{name}": sum(_input_size(arg.type) for arg in field.args.values()) or 1
        for root in (sdl.query_type, sdl.mutation_type)
        if root is not None
        for name, field in root.fields.items()
    }
    total = sum(sizes.values())
    return {label: max(5, round(budget * size / total)) for label, size in sizes.items()}


# Collected once from the committed SDL (tests/contract checks that it is the app's);
# each engine's test sends the cases to its own app (`app=graphql_app`).
schema = schemathesis.graphql.from_path(
    SCHEMA_FILE,
    config=fuzz_config(
        base_url=f"{BASE_URL}/graphql",
        checks={},
        mode="positive",
        examples_per_operation=examples_per_operation(fuzz_examples()),
    ),
)


CREATE = """
mutation($input: CreateSessionInput!) { createSession(input: $input) { id } }
"""
START = "mutation($id: ID!) { startSession(id: $id) { id } }"
END = "mutation($id: ID!) { endSession(id: $id) { id } }"
CANCEL = "mutation($id: ID!) { cancelSession(id: $id) { id } }"
REGISTER = "mutation($id: ID!) { registerForSession(sessionId: $id) { id } }"


async def _call(
    client: httpx.AsyncClient, query: str, variables: dict[str, Any], user: str = FUZZ_SUB
) -> dict[str, Any]:
    response = await client.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers=auth(user, FUZZ_SCOPES),
    )
    body: dict[str, Any] = response.json()
    assert response.status_code == 200, body
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


async def _create(client: httpx.AsyncClient, *, host: str = FUZZ_SUB, seats: int = 10) -> str:
    when = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    data = await _call(
        client,
        CREATE,
        {
            "input": {
                "hostId": host,
                "brandId": "brand-1",
                "title": "Seeded",
                "scheduledAt": when,
                "maxParticipants": seats,
            }
        },
        user=host,
    )
    session_id: str = data["createSession"]["id"]
    return session_id


async def seed_sessions(settings: Settings) -> list[str]:
    """A session in every state the rules care about, made through the API itself."""
    async with app_client(settings) as client:
        scheduled = await _create(client)
        other_host = await _create(client, host="host-2")
        live = await _create(client)
        await _call(client, START, {"id": live})
        ended = await _create(client)
        await _call(client, START, {"id": ended})
        await _call(client, END, {"id": ended})
        cancelled = await _create(client)
        await _call(client, CANCEL, {"id": cancelled})
        full = await _create(client, seats=1)
        await _call(client, REGISTER, {"id": full}, user="member-1")
        registered = await _create(client)
        await _call(client, REGISTER, {"id": registered})
    return [scheduled, other_host, live, ended, cancelled, full, registered]


@pytest.fixture
async def graphql_app(fuzz_app: Starlette, settings: Settings) -> Starlette:
    """The fuzzed app, seeded; a generated `ID` is a seeded session's half of the time."""
    ids = await seed_sessions(settings)
    schemathesis.graphql.scalar(
        "ID",
        st.one_of(
            st.sampled_from(ids).map(nodes.String),
            st.one_of(IDS_WITHOUT_SESSION.map(nodes.String), st.integers().map(nodes.Int)),
        ),
    )
    return fuzz_app


@schema.parametrize()
# One seeded database per engine serves every example of the test: that is the point.
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
def test_fuzz_graphql(case: schemathesis.Case, graphql_app: Starlette, fuzz_stats: Any) -> None:
    stats: FuzzStats = fuzz_stats("graphql", schema)
    stats.cases += 1
    response = case.call(app=graphql_app)
    codes = error_codes(response)
    server_error = response.status_code >= 500 or "INTERNAL_SERVER_ERROR" in codes
    stats.record(response.status_code, server_error=server_error, codes=codes or ["none"])
    case.validate_response(response, checks=CHECKS, transport_kwargs={"app": graphql_app})
