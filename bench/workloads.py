"""The workloads, as wrk Lua scripts: W1..W5 for the service, which the floor answers
too (W1..W4, the very same requests), and W2..W4 for PostGraphile in its own schema's
words (the same variables, token and fields)."""

import json
from collections.abc import Mapping
from dataclasses import dataclass

from app.rest_compat import KEYS
from bench.seed import Dataset

SESSION_BODY = {
    "host_id": "host-1",
    "brand_id": "brand-1",
    "title": "Benchmark session",
    "scheduled_at": "2031-06-01T10:00:00Z",
    "max_participants": 50,
    "metadata": {"level": "all"},
}
# The 19 fields of the REST response, which the reference returns for each row: both
# sides do the same work.
SESSION_FIELDS = " ".join(KEYS.values())
LIST_QUERY = (
    "query List($brand: String!, $first: Int!) { sessions(filter: {brandId: $brand}, first: $first) "
    f"{{ edges {{ node {{ {SESSION_FIELDS} }} }} }} }}"
)
GET_QUERY = (
    "query Get($id: ID!) { session(id: $id) "
    "{ id title scheduledAt status registeredCount isRegistered maxParticipants } }"
)
CREATE_MUTATION = (
    "mutation Create($input: CreateSessionInput!) { createSession(input: $input) "
    "{ id title status registeredCount isRegistered createdAt } }"
)
# PostGraphile names the `id` column `rowId` (its `id` is the global node id) and puts
# the created row under `session`; otherwise the same selections.
PEER_FIELDS = SESSION_FIELDS.replace("id ", "rowId ", 1)
PEER_LIST_QUERY = (
    "query List($brand: String!, $first: Int!) { allSessions(condition: {brandId: $brand}, "
    f"first: $first, orderBy: [SCHEDULED_AT_ASC, ROW_ID_ASC]) {{ edges {{ node {{ {PEER_FIELDS} }} }} }} }}"
)
PEER_GET_QUERY = (
    "query Get($id: String!) { sessionByRowId(rowId: $id) "
    "{ rowId title scheduledAt status registeredCount isRegistered maxParticipants } }"
)
PEER_CREATE_MUTATION = (
    "mutation Create($input: SessionInput!) { createSession(input: {session: $input}) "
    "{ session { rowId title status registeredCount isRegistered createdAt } } }"
)
REGISTER_MUTATION = (
    "mutation Register($id: ID!) { registerForSession(sessionId: $id) "
    "{ id registeredCount isRegistered } }"
)

DONE = """
done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.timeout
  io.write(string.format(
    'BENCH {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "errors": %d, "non2xx": %d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    errors, summary.errors.status))
end
"""


# Replaced in a script by how many times wrk has run that workload, this run included.
RUN_NUMBER = "@RUN@"


@dataclass(frozen=True)
class Workload:
    name: str
    title: str
    route: str  # for the per-request statement count
    script: str
    # One request as the script sends it (path, headers, body), for checking that a
    # server answers it without an error before it is measured; None where sending it
    # would change what the workload measures (registrations).
    probe: tuple[str, dict[str, str], bytes] | None = None


def _list(values: list[str]) -> str:
    return "{" + ",".join(json.dumps(value) for value in values) + "}"


def _graphql(query: str, variables: object) -> str:
    """A GraphQL request body; `operationName` is how the floor tells operations apart."""
    name = query.split("(", 1)[0].rsplit(maxsplit=1)[-1]
    return json.dumps({"query": query, "variables": variables, "operationName": name})


def _headers(token: str) -> dict[str, str]:
    return {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}


JSON_POST = 'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'


def _post(name: str, title: str, path: str, body: str, token: str) -> Workload:
    """The same request every time."""
    return Workload(
        name,
        title,
        path,
        _head(token) + f'wrk.path = "{path}"\nwrk.body = {json.dumps(body)}\n' + DONE,
        (path, _headers(token), body.encode()),
    )


def _head(token: str) -> str:
    return JSON_POST + f'wrk.headers["Authorization"] = "Bearer {token}"\n'


def _graphql_sampling(
    name: str,
    title: str,
    query: str,
    *,
    variables: Mapping[str, object],
    values: list[str],
    token: str,
) -> Workload:
    """A GraphQL request whose "@@" variable is a random one of `values` each time."""
    template = _graphql(query, variables)
    return Workload(
        name,
        title,
        "/graphql",
        _head(token)
        + f"local values = {_list(values)}\n"
        + f"local template = {json.dumps(template)}\n"
        + "request = function()\n"
        + "  local body = string.gsub(template, '@@', values[math.random(#values)])\n"
        + '  return wrk.format(nil, "/graphql", nil, body)\nend\n'
        + DONE,
        ("/graphql", _headers(token), template.replace("@@", values[0]).encode()),
    )


def list_sessions(
    dataset: Dataset, token: str, first: int = 50, name: str = "W3", query: str = LIST_QUERY
) -> Workload:
    """W3: a page of a random brand's sessions, all 19 fields, as the token's caller."""
    variables = {"brand": "@@", "first": first}
    title = f"sessions(brandId, first: {first})"
    return _graphql_sampling(
        name, title, query, variables=variables, values=dataset.brands, token=token
    )


def session_by_id(dataset: Dataset, token: str, query: str = GET_QUERY) -> Workload:
    """W4: one of 1,000 sampled sessions by id, as the token's caller."""
    variables = {"id": "@@"}
    return _graphql_sampling(
        "W4", "session(id)", query, variables=variables, values=dataset.session_ids, token=token
    )


def _graphql_create(token: str, query: str) -> Workload:
    """W2: the GraphQL mutation, with REST W1's six fields."""
    create_input = {api: SESSION_BODY[rest] for rest, api in KEYS.items() if rest in SESSION_BODY}
    body = _graphql(query, {"input": create_input})
    return _post("W2", "GraphQL createSession", "/graphql", body, token)


def service_workloads(dataset: Dataset, token: str, member_tokens: list[str]) -> list[Workload]:
    """W1..W5; the floor answers W1..W4 as they are."""
    return [
        _post("W1", "REST POST /v1/sessions", "/v1/sessions", json.dumps(SESSION_BODY), token),
        _graphql_create(token, CREATE_MUTATION),
        list_sessions(dataset, token),
        session_by_id(dataset, token),
        Workload(
            "W5",
            "registerForSession, distinct users",
            "/graphql",
            JSON_POST
            + f"local tokens = {_list(member_tokens)}\n"
            + f"local sessions = {_list(dataset.roomy_ids)}\n"
            + f"local template = {json.dumps(_graphql(REGISTER_MUTATION, {'id': '@@'}))}\n"
            # Every (member, session) pair at most once: each run of W5 (warm-ups included)
            # starts a quarter of the pairs further on, so no request repeats a
            # registration an earlier run made, which would be a cheap no-op. Room for
            # sixteen runs: warm-up and measurement, three times, at two worker counts.
            + f"local n = ({RUN_NUMBER} - 1) * math.floor(#tokens * #sessions / 16)\n"
            + "request = function()\n"
            + "  local pair = n % (#tokens * #sessions)\n"
            + "  n = n + 1\n"
            + "  local token = tokens[math.floor(pair / #sessions) + 1]\n"
            + "  local body = string.gsub(template, '@@', sessions[pair % #sessions + 1])\n"
            + '  return wrk.format(nil, "/graphql", {["Authorization"] = "Bearer " .. token,'
            + ' ["Content-Type"] = "application/json"}, body)\nend\n'
            + DONE,
        ),
    ]


def peer_workloads(dataset: Dataset, token: str) -> list[Workload]:
    """W2..W4 in PostGraphile's schema (it has no REST route)."""
    return [
        _graphql_create(token, PEER_CREATE_MUTATION),
        list_sessions(dataset, token, query=PEER_LIST_QUERY),
        session_by_id(dataset, token, query=PEER_GET_QUERY),
    ]
