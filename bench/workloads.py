"""The workloads, as wrk Lua scripts: W1..W5 for the service, W1 and W3 for the reference."""

import json
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


def _lua(value: object) -> str:
    return json.dumps(json.dumps(value))  # a Lua string literal holding JSON


def _list(values: list[str]) -> str:
    return "{" + ",".join(json.dumps(value) for value in values) + "}"


def _graphql(query: str, variables: object) -> str:
    return json.dumps({"query": query, "variables": variables})


JSON_POST = 'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'


def _rest_create(head: str) -> Workload:
    """W1, the same request for the service and the reference (`head` adds any auth)."""
    return Workload(
        "W1",
        "REST POST /v1/sessions",
        "/v1/sessions",
        head + f'wrk.path = "/v1/sessions"\nwrk.body = {_lua(SESSION_BODY)}\n' + DONE,
    )


def list_sessions(dataset: Dataset, token: str, first: int = 50, name: str = "W3") -> Workload:
    """W3: a page of a random brand's sessions, all 19 fields, as host-1."""
    head = JSON_POST + f'wrk.headers["Authorization"] = "Bearer {token}"\n'
    variables = {"brand": "@@", "first": first}
    return Workload(
        name,
        f"sessions(brandId, first: {first})",
        "/graphql",
        head
        + f"local brands = {_list(dataset.brands)}\n"
        + f"local template = {json.dumps(_graphql(LIST_QUERY, variables))}\n"
        + "request = function()\n"
        + "  local body = string.gsub(template, '@@', brands[math.random(#brands)])\n"
        + '  return wrk.format(nil, "/graphql", nil, body)\nend\n'
        + DONE,
    )


def session_by_id(dataset: Dataset, token: str) -> Workload:
    """W4: one of 1,000 sampled sessions by id, as host-1."""
    head = JSON_POST + f'wrk.headers["Authorization"] = "Bearer {token}"\n'
    return Workload(
        "W4",
        "session(id)",
        "/graphql",
        head
        + f"local ids = {_list(dataset.session_ids)}\n"
        + f"local template = {json.dumps(_graphql(GET_QUERY, {'id': '@@'}))}\n"
        + "request = function()\n"
        + "  local body = string.gsub(template, '@@', ids[math.random(#ids)])\n"
        + '  return wrk.format(nil, "/graphql", nil, body)\nend\n'
        + DONE,
    )


def service_workloads(dataset: Dataset, token: str, member_tokens: list[str]) -> list[Workload]:
    auth = f'wrk.headers["Authorization"] = "Bearer {token}"\n'
    head = JSON_POST + auth
    create_input = {
        "hostId": "host-1",
        "brandId": "brand-1",
        "title": "Benchmark session",
        "scheduledAt": "2031-06-01T10:00:00Z",
        "maxParticipants": 50,
        "metadata": {"level": "all"},
    }
    return [
        _rest_create(head),
        Workload(
            "W2",
            "GraphQL createSession",
            "/graphql",
            head
            + f'wrk.path = "/graphql"\nwrk.body = {json.dumps(_graphql(CREATE_MUTATION, {"input": create_input}))}\n'
            + DONE,
        ),
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
            # registration an earlier run made, which would be a cheap no-op. Four runs:
            # warm-up and measurement at two worker counts.
            + f"local n = ({RUN_NUMBER} - 1) * math.floor(#tokens * #sessions / 4)\n"
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


def reference_workloads(dataset: Dataset) -> list[Workload]:
    return [
        _rest_create(JSON_POST),
        Workload(
            "W3",
            "sessions(brandId, first: 50)",
            "/sessions",
            f"local brands = {_list(dataset.brands)}\n"
            + "request = function()\n"
            + '  return wrk.format("GET", "/sessions?brand=" .. brands[math.random(#brands)])\nend\n'
            + DONE,
        ),
    ]
