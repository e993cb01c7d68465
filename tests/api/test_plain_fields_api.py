"""The served schema answers the same with the plain-field shortcut as without it.

Sessions in every state (scheduled, live, ended with a recording, cancelled; a seated
caller, a waitlisted one) are read through every Session field, with aliases, fragments,
directives and `__typename`, by the app as served and by the same app on graphql-core's
general path; the JSON bodies must be identical.
"""

from typing import Any

import pytest

import app.schema
from app.config import Settings
from app.library_internals import GeneralExecutionContext
from tests.helpers import app_client, auth, create, graphql, register

ALL_FIELDS = """
id hostId brandId title kind category scheduledAt startedAt endedAt status streamCallId
maxParticipants durationMinutes recordingUrl metadata createdAt updatedAt registeredCount
isRegistered waitlistEnabled waitlistCount registrationStatus waitlistPosition version
"""
QUERIES = [
    f"query {{ sessions(first: 100) {{ totalCount edges {{ cursor node {{ {ALL_FIELDS} }} }}"
    " pageInfo { hasNextPage endCursor } } }",
    f"query {{ sessions(first: 2) {{ edges {{ node {{ __typename ...S }} }} }} }}"
    f" fragment S on Session {{ {ALL_FIELDS} }}",
    "query($on: Boolean!) { sessions(first: 100) { edges { node {"
    " a: id b: title @include(if: $on) c: status @skip(if: $on) id registeredCount"
    " ... on Session { metadata startedAt @include(if: $on) } } } } }",
]
START = "mutation($id: ID!) { startSession(id: $id) { id } }"
END = 'mutation($id: ID!) { endSession(id: $id, recordingUrl: "https://r.example/1") { id } }'
CANCEL = "mutation($id: ID!) { cancelSession(id: $id) { id } }"


async def _bodies(settings: Settings, caller: str) -> list[dict[str, Any]]:
    bodies = []
    # Field by field: compiled reads would answer these queries without either path.
    field_by_field = settings.model_copy(update={"graphql_compiled_reads": False})
    async with app_client(field_by_field) as client:
        for query in QUERIES:
            for on in (True, False):
                variables = {"on": on} if "$on" in query else {}
                bodies.append(await graphql(client, query, variables, headers=auth(caller)))
    return bodies


async def test_every_session_field_reads_the_same_on_both_paths(
    schema_ready: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with app_client(schema_ready) as client:
        live = await create(client, category="yoga", metadata={"level": "all", "n": [1, 2]})
        ended = await create(client, title="Ended")
        cancelled = await create(client, title="Cancelled")
        full = await create(client, title="Full", maxParticipants=1, waitlistEnabled=True)
        for mutation, session in ((START, live), (START, ended), (END, ended)):
            assert "errors" not in await graphql(client, mutation, {"id": session["id"]})
        assert "errors" not in await graphql(client, CANCEL, {"id": cancelled["id"]})
        await register(client, live["id"], "member-1")
        await register(client, full["id"], "member-2")
        await register(client, full["id"], "member-1")  # waitlisted, place 1

    served = await _bodies(schema_ready, "member-1")
    monkeypatch.setattr(app.schema, "PlainFieldsExecutionContext", GeneralExecutionContext)
    general = await _bodies(schema_ready, "member-1")

    assert served == general
    assert all("errors" not in body for body in served)
    nodes = [edge["node"] for edge in served[0]["data"]["sessions"]["edges"]]
    assert {node["status"] for node in nodes} == {"LIVE", "ENDED", "CANCELLED", "SCHEDULED"}
    assert {node["registrationStatus"] for node in nodes} == {"REGISTERED", "WAITLISTED", "NONE"}
