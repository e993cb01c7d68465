"""Compiled reads answer exactly as ordinary execution does, in one statement.

Two apps share one database: the served one (compiled reads on) and one resolving field
by field (GRAPHQL_COMPILED_READS=false). Hypothesis generates the data (sessions in any
state, several at the same instant, null categories, metadata with unicode, floats and
nested objects, the viewer seated, waitlisted behind others or neither) and documents in
the subset (any Session fields, aliases, named and inline fragments, @include/@skip on
literals and variables, filters as literals or variables, `first`, `after` cursors,
`session(id)`); both bodies must be the same JSON with the same key order, and the
compiled one must have come from a single statement. Each document is asked twice, with
other values first, so that the second answer usually reuses the SQL the first
compiled (same shape, other values bound).
"""

import json
import logging
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from graphql import build_schema as build_sdl_schema
from graphql import extend_schema, parse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event
from sqlalchemy.pool import Pool

import app.compiler
from app.compiler.planner import plan
from app.compiler.render import Renderer
from app.config import Settings
from app.library_internals import graphql_core_schema
from app.models import Registration, RegistrationStatus, SessionKind, SessionStatus
from app.resolvers import cursors
from app.resolvers.sessions import INSERT_SESSION
from app.schema import build_schema
from app.snapshots import columns_of, new_session_values
from tests.helpers import StatementLog, app_client, auth, throwaway_engine

VIEWER = "viewer-1"
INSTANTS = [
    datetime(2030, 6, 1, 10, 0, tzinfo=UTC),
    datetime(2030, 6, 1, 10, 0, 0, 250_000, tzinfo=UTC),
    datetime(2031, 1, 2, 3, 4, 5, 6, tzinfo=UTC),
    datetime(1999, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
    datetime(42, 1, 1, tzinfo=UTC),  # a year of fewer than four digits
]
SCHEMA = graphql_core_schema(build_schema(Settings.model_construct()))
# calendarUrl is made from the request's address, not from a row: outside the compiled
# subset, so a document selecting it falls back (as the fallback tests check).
NOT_COMPILED = {"calendarUrl"}
SESSION_FIELDS = sorted(
    set(SCHEMA.type_map["Session"].fields) - NOT_COMPILED  # type: ignore[union-attr]
)
REGISTRATIONS_TABLE: sa.Table = Registration.__table__  # type: ignore[attr-defined]


@dataclass
class Apps:
    compiled: httpx.AsyncClient
    ordinary: httpx.AsyncClient
    settings: Settings


@pytest.fixture
async def apps(schema_ready: Settings) -> AsyncIterator[Apps]:
    ordinary = schema_ready.model_copy(update={"graphql_compiled_reads": False})
    async with app_client(schema_ready) as compiled, app_client(ordinary) as field_by_field:
        yield Apps(compiled, field_by_field, schema_ready)


def statements_sent(log: StatementLog) -> list[str]:
    """What reached the database, less SQLite's BEGIN (a transaction, not a query)."""
    return [text for text, _ in log.statements if not text.startswith("BEGIN")]


async def post(client: httpx.AsyncClient, query: str, variables: dict[str, Any]) -> Any:
    response = await client.post(
        "/graphql", json={"query": query, "variables": variables}, headers=auth(VIEWER)
    )
    assert response.status_code == 200, response.text
    # Pairs, not dicts: key order is part of the answer.
    return json.loads(response.content, object_pairs_hook=list)


# -- generated data -----------------------------------------------------------------

texts = st.text(
    st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), min_size=1, max_size=6
)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63)
    | st.floats(allow_nan=False, allow_infinity=False)
    | texts,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=6,
)


@st.composite
def a_session(draw: st.DrawFn) -> dict[str, Any]:
    status = draw(st.sampled_from(SessionStatus))
    scheduled_at = draw(st.sampled_from(INSTANTS))
    started = status in (SessionStatus.LIVE, SessionStatus.ENDED)
    ended = status == SessionStatus.ENDED
    capacity = draw(st.integers(1, 4))
    return {
        "id": str(uuid.UUID(int=draw(st.integers(0, 2**128 - 1)))),
        "host_id": draw(st.sampled_from(["host-1", "host-2"])),
        "brand_id": draw(st.sampled_from(["brand-1", "brand-2"])),
        "title": draw(texts),
        "kind": draw(st.sampled_from(SessionKind)),
        "category": draw(st.none() | texts),
        "scheduled_at": scheduled_at,
        "status": status,
        "started_at": scheduled_at + timedelta(microseconds=draw(st.integers(0, 10**8)))
        if started
        else None,
        "ended_at": scheduled_at + timedelta(hours=2) if ended else None,
        "stream_call_id": "call_1" if started else None,
        "duration_minutes": draw(st.integers(0, 500)) if ended else None,
        "recording_url": draw(st.none() | st.just("https://r.example/1")) if ended else None,
        "meta": draw(st.dictionaries(texts, json_values, max_size=4)),
        "max_participants": capacity,
        "registered_count": draw(st.integers(0, capacity)),
        "waitlist_enabled": draw(st.booleans()),
        "waitlist_count": draw(st.integers(0, 3)),
        "version": draw(st.integers(1, 2**31 - 1)),
        "created_at": INSTANTS[0],
        "updated_at": draw(st.sampled_from(INSTANTS)),
    }


async def store(settings: Settings, sessions: list[dict[str, Any]], places: list[str]) -> None:
    """Replace the database's contents: these sessions, and where the viewer stands in
    each ("none", "registered", or "waitlisted" behind that many others)."""
    async with throwaway_engine(settings) as engine, engine.begin() as connection:
        await connection.execute(sa.delete(REGISTRATIONS_TABLE))
        await connection.execute(sa.text("DELETE FROM sessions"))
        for session, where in zip(sessions, places, strict=True):
            values = new_session_values(**session)
            await connection.execute(INSERT_SESSION, columns_of(values))
            for ticket, user in enumerate(_queue(where)):
                status = RegistrationStatus.WAITLISTED if where != "registered" else "registered"
                await connection.execute(
                    sa.insert(REGISTRATIONS_TABLE).values(
                        session_id=session["id"],
                        user_id=user,
                        created_at=INSTANTS[0],
                        status=status,
                        ticket=None if status == "registered" else ticket + 1,
                    )
                )


def _queue(where: str) -> list[str]:
    if where == "none":
        return []
    if where == "registered":
        return [VIEWER]
    return [f"member-{n}" for n in range(int(where))] + [VIEWER]


# -- generated documents ------------------------------------------------------------


@dataclass
class Document:
    """A query being written: its variables (definitions, values, and other values of
    the same kind) and fragments."""

    definitions: list[str] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)
    others: dict[str, Any] = field(default_factory=dict)
    fragments: list[str] = field(default_factory=list)
    names: int = 0

    def fresh(self, prefix: str) -> str:
        self.names += 1
        return f"{prefix}{self.names}"

    def variable(self, type_: str, value: Any, other: Any) -> str:
        name = self.fresh("v")
        self.definitions.append(f"${name}: {type_}")
        self.values[name] = value
        self.others[name] = other
        return f"${name}"

    def text(self, root: str) -> str:
        header = f"({', '.join(self.definitions)})" if self.definitions else ""
        return f"query Q{header} {{ {root} }} " + " ".join(self.fragments)


def _literal(value: Any, enums: bool = False) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_literal(item, enums) for item in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) and not enums:
        return json.dumps(value)
    return str(value)


def selection(draw: st.DrawFn, doc: Document, type_name: str, fields: dict[str, Any]) -> str:
    """Some of `fields` (name -> how to select inside it, or None for a leaf), each maybe
    aliased, conditional, or inside an inline or named fragment."""
    chosen = draw(st.lists(st.sampled_from(sorted(fields)), min_size=1, max_size=4))
    parts = []
    for name in chosen:
        inner = fields[name]
        text = name if inner is None else f"{name} {{ {inner(draw, doc)} }}"
        if draw(st.booleans()):
            text = f"{doc.fresh('a')}: {text}"
        condition = draw(st.sampled_from(["", "", "literal", "variable"]))
        directive = draw(st.sampled_from(["include", "skip"]))
        if condition == "literal":
            text = text.replace(
                name, f"{name} @{directive}(if: {_literal(draw(st.booleans()))})", 1
            )
        elif condition == "variable":
            variable = doc.variable("Boolean!", draw(st.booleans()), draw(st.booleans()))
            text = text.replace(name, f"{name} @{directive}(if: {variable})", 1)
        wrapper = draw(st.sampled_from(["", "", "inline", "typed", "named"]))
        if wrapper == "inline":
            text = f"... {{ {text} }}"
        elif wrapper == "typed":
            text = f"... on {type_name} {{ {text} }}"
        elif wrapper == "named":
            fragment = doc.fresh("F")
            doc.fragments.append(f"fragment {fragment} on {type_name} {{ {text} }}")
            text = f"...{fragment}"
        parts.append(text)
    return " ".join(parts)


def node(draw: st.DrawFn, doc: Document) -> str:
    return selection(draw, doc, "Session", dict.fromkeys(SESSION_FIELDS))


def edges(draw: st.DrawFn, doc: Document) -> str:
    return selection(draw, doc, "SessionEdge", {"cursor": None, "node": node, "__typename": None})


def page_info(draw: st.DrawFn, doc: Document) -> str:
    fields = {"hasNextPage": None, "endCursor": None, "__typename": None}
    return selection(draw, doc, "PageInfo", fields)


def connection(draw: st.DrawFn, doc: Document) -> str:
    fields = {"totalCount": None, "edges": edges, "pageInfo": page_info, "__typename": None}
    return selection(draw, doc, "SessionConnection", fields)


def arguments(draw: st.DrawFn, doc: Document, sessions: list[dict[str, Any]]) -> str:
    given = []
    first = draw(st.none() | st.integers(1, 6))
    if first is not None:
        literal = draw(st.booleans())
        other = draw(st.integers(1, 6))
        given.append(f"first: {first if literal else doc.variable('Int!', first, other)}")
    if sessions and draw(st.booleans()):
        key, other_key = (draw(st.sampled_from(sessions)) for _ in range(2))
        cursor, other_cursor = (
            cursors.encode((k["scheduled_at"], k["id"])) for k in (key, other_key)
        )
        given.append(f"after: {doc.variable('String', cursor, other_cursor)}")
    conditions: dict[str, Any] = {}
    others: dict[str, Any] = {}
    for name, values in {
        "brandId": ["brand-1", "brand-2"],
        "hostId": ["host-1"],
        "status": [[s.name for s in SessionStatus][:n] for n in range(1, 4)],
        "kind": [kind.name for kind in SessionKind],
        "scheduledFrom": ["2030-06-01T10:00:00.25Z"],
        "scheduledTo": ["2030-06-02T00:00:00+02:00"],
        "registeredOnly": [True, False],
    }.items():
        if draw(st.integers(0, 3)) == 0:
            conditions[name], others[name] = (draw(st.sampled_from(values)) for _ in range(2))
    if conditions:
        if draw(st.booleans()):
            given.append(f"filter: {doc.variable('SessionFilter', conditions, others)}")
        else:
            enums = {"status", "kind"}
            inner = ", ".join(f"{k}: {_literal(v, k in enums)}" for k, v in conditions.items())
            given.append(f"filter: {{ {inner} }}")
    return f"({', '.join(given)})" if given else ""


@st.composite
def a_document(draw: st.DrawFn, sessions: list[dict[str, Any]]) -> tuple[str, Document]:
    doc = Document()
    roots = []
    for _ in range(draw(st.integers(1, 2))):
        args = arguments(draw, doc, sessions)
        roots.append(f"{doc.fresh('s')}: sessions{args} {{ {connection(draw, doc)} }}")
    if draw(st.booleans()):
        ids = [s["id"] for s in sessions] + [str(uuid.uuid4()), "not-an-id"]
        chosen, other = (draw(st.sampled_from(ids)) for _ in range(2))
        literal = draw(st.booleans())
        argument = json.dumps(chosen) if literal else doc.variable("ID!", chosen, other)
        roots.append(f"one: session(id: {argument}) {{ {node(draw, doc)} }}")
    if draw(st.booleans()):
        roots.append("__typename")
    order = draw(st.permutations(roots))
    return doc.text(" ".join(order)), doc


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
async def test_compiled_answers_equal_ordinary_execution(
    apps: Apps, statements: StatementLog, caplog: pytest.LogCaptureFixture, data: st.DataObject
) -> None:
    sessions = data.draw(st.lists(a_session(), max_size=7, unique_by=lambda s: s["id"]))
    places = data.draw(
        st.lists(
            st.sampled_from(["none", "registered", "0", "2"]),
            min_size=len(sessions),
            max_size=len(sessions),
        )
    )
    await store(apps.settings, sessions, places)
    query, doc = data.draw(a_document(sessions))

    for variables in (doc.others, doc.values):
        statements.clear()
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="app.compiler"):
            compiled = await post(apps.compiled, query, variables)
        sent = statements_sent(statements)
        ordinary = await post(apps.ordinary, query, variables)

        assert ordinary[0][0] == "data", ordinary  # every generated document is valid
        assert compiled == ordinary
        assert caplog.records == []  # no compiled read failed and fell back
        assert len(sent) == 1, sent


# -- one statement, whatever the page ------------------------------------------------

LIST = """query($first: Int!) { sessions(first: $first) { totalCount
  edges { cursor node { id title scheduledAt registeredCount isRegistered } }
  pageInfo { hasNextPage endCursor } } }"""


async def _sessions(settings: Settings, count: int) -> list[dict[str, Any]]:
    sessions = [
        {
            **a_session_values(n),
        }
        for n in range(count)
    ]
    await store(settings, sessions, ["registered" if n % 3 == 0 else "none" for n in range(count)])
    return sessions


def a_session_values(n: int) -> dict[str, Any]:
    return {
        "id": str(uuid.UUID(int=n + 1)),
        "host_id": "host-1",
        "brand_id": "brand-1",
        "title": f"Session {n}",
        "kind": SessionKind.LIVE,
        "scheduled_at": INSTANTS[n % 2],
        "status": SessionStatus.SCHEDULED,
        "max_participants": 10,
        "registered_count": n % 3,
        "created_at": INSTANTS[0],
        "updated_at": INSTANTS[0],
    }


async def test_a_compiled_list_is_one_statement_whatever_its_size(
    apps: Apps, statements: StatementLog
) -> None:
    await _sessions(apps.settings, 60)
    counts = {}
    for first in (1, 50):
        statements.clear()
        body = await post(apps.compiled, LIST, {"first": first})
        counts[first] = len(statements_sent(statements))
        assert body == await post(apps.ordinary, LIST, {"first": first})

    statements.clear()
    await post(apps.ordinary, LIST, {"first": 50})

    assert counts == {1: 1, 50: 1}
    assert len(statements_sent(statements)) == 2  # field by field: the page, the count


# -- outside the subset, refused, or failing: as before ------------------------------

OUTSIDE_OR_REFUSED = [
    # outside the subset: introspection, a mutation, a directive it does not know
    ("{ sessions { totalCount } __schema { queryType { name } } }", {}),
    ('mutation { cancelSession(id: "x") { id } }', {}),
    ("{ sessions { edges { node { id title @deprecated } } } }", {}),
    # arguments the resolvers refuse
    ("{ sessions(first: 0) { totalCount } }", {}),
    ('{ sessions(after: "not a cursor") { totalCount } }', {}),
    ('{ sessions(filter: { brandId: "a\\u0000b" }) { totalCount } }', {}),
    ("query($f: Int!) { sessions(first: $f) { totalCount } }", {"f": "ten"}),
    ("query($f: Int!) { sessions(first: $f) { totalCount } }", {}),
    # limits: depth, aliases
    (
        "{ sessions { edges { node { id } } } }" + " ".join(f"a{n}: __typename" for n in range(31)),
        {},
    ),
]


@pytest.mark.parametrize(("query", "variables"), OUTSIDE_OR_REFUSED)
async def test_what_is_not_compiled_answers_as_ordinary_execution(
    apps: Apps, query: str, variables: dict[str, Any]
) -> None:
    await _sessions(apps.settings, 3)

    assert await post(apps.compiled, query, variables) == await post(
        apps.ordinary, query, variables
    )


async def test_a_caller_without_a_token_is_refused_before_any_statement(
    apps: Apps, statements: StatementLog
) -> None:
    statements.clear()
    response = await apps.compiled.post("/graphql", json={"query": LIST, "variables": {"first": 5}})

    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert statements_sent(statements) == []


async def test_a_field_the_compiler_does_not_know_is_left_to_ordinary_execution() -> None:
    grown = extend_schema(SCHEMA, parse("extend type Session { rating: Float }"))
    known = parse("{ sessions { edges { node { id title } } } }")
    unknown = parse("{ sessions { edges { node { id rating } } } }")

    assert plan(grown, known, None) is not None
    assert plan(grown, unknown, None) is None
    # and a whitelisted field whose type changed is not compiled either
    changed = build_sdl_schema(
        "type Query { sessions: SessionConnection! } type SessionConnection { totalCount: String! }"
    )
    assert plan(changed, parse("{ sessions { totalCount } }"), None) is None


@pytest.fixture
def slow_statements(engine_name: str) -> Iterator[sa.ColumnElement[Any]]:
    """An SQL expression that takes three seconds (pg_sleep; a function on SQLite)."""
    if engine_name == "postgresql":
        yield sa.func.pg_sleep(3)
        return

    def register(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.create_function("test_sleep", 1, time.sleep)

    event.listen(Pool, "connect", register)
    try:
        yield sa.func.test_sleep(3)
    finally:
        event.remove(Pool, "connect", register)


async def test_a_slow_compiled_read_is_stopped_by_the_operation_time_limit(
    schema_ready: Settings,
    slow_statements: sa.ColumnElement[Any],
    monkeypatch: pytest.MonkeyPatch,
    statements: StatementLog,
) -> None:
    class SlowRenderer(Renderer):
        def statement(self) -> sa.Select[Any]:
            return sa.select(super().statement().scalar_subquery(), slow_statements)

    monkeypatch.setattr(app.compiler, "Renderer", SlowRenderer)
    quick = schema_ready.model_copy(update={"graphql_timeout_s": 1.0})
    async with app_client(quick) as client:
        statements.clear()
        body = await post(client, LIST, {"first": 5})

    assert body == [
        ("data", None),
        (
            "errors",
            [
                [
                    ("message", "the operation took longer than 1s and stopped"),
                    ("extensions", [("code", "TIMEOUT")]),
                ]
            ],
        ),
    ]
    assert len(statements_sent(statements)) == 1  # cut short, and not tried again
