"""Response checks for fuzzing GraphQL, in place of Schemathesis's `not_a_server_error`.

That built-in check counts every GraphQL error that carries a `path` as a server error
(unless it is labelled BAD_USER_INPUT or the like), so it fails on the errors our API
documents for requests that are fine to send: NOT_FOUND, FORBIDDEN, SESSION_FULL,
INVALID_TRANSITION, REGISTRATION_CLOSED, ... These checks look at what the app says:
it turns every unexpected exception into INTERNAL_SERVER_ERROR, and documents the rest.
"""

import json
from typing import Any

import schemathesis

from app.errors import DomainError
from app.graphql_http import BAD_REQUEST
from app.schema.errors import Phase


def _domain_codes(error_class: type[DomainError]) -> set[str]:
    return {error_class.code}.union(
        *(_domain_codes(subclass) for subclass in error_class.__subclasses__())
    )


# The codes the app gives errors: one per class of its error tree, those the GraphQL layer
# gives a bad document or bad variables, and two it states where it answers (a time
# limit that ran out; a request refused before GraphQL ran it).
ERROR_CODES = frozenset(
    {*_domain_codes(DomainError), *(phase.value for phase in Phase), "TIMEOUT", BAD_REQUEST}
)


def errors(response: schemathesis.Response) -> list[Any]:
    """The `errors` list of a GraphQL response; [] when the body is not one."""
    try:
        payload = response.json()
    except ValueError:
        return []  # not JSON: graphql_strict_json and response_schema_conformance say so
    found = payload.get("errors") if isinstance(payload, dict) else None
    return found if isinstance(found, list) else []


def code(error: Any) -> Any:
    """`extensions.code` of one error, or None."""
    extensions = error.get("extensions") if isinstance(error, dict) else None
    return extensions.get("code") if isinstance(extensions, dict) else None


def error_codes(response: schemathesis.Response) -> list[str]:
    return [str(code(error)) for error in errors(response)]


@schemathesis.check
def no_graphql_server_error(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: schemathesis.Case
) -> bool | None:
    """HTTP 5xx or an INTERNAL_SERVER_ERROR is a bug; the documented client errors are not."""
    if response.status_code >= 500:
        raise AssertionError(f"HTTP {response.status_code}: {response.text[:500]}")
    internal = [error for error in errors(response) if code(error) == "INTERNAL_SERVER_ERROR"]
    if internal:
        raise AssertionError(f"INTERNAL_SERVER_ERROR: {json.dumps(internal)[:1000]}")
    return None


@schemathesis.check
def graphql_error_codes_documented(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: schemathesis.Case
) -> bool | None:
    """Every error carries an `extensions.code` from the app's error vocabulary."""
    undocumented = [error for error in errors(response) if code(error) not in ERROR_CODES]
    if undocumented:
        raise AssertionError(f"errors without a documented code: {json.dumps(undocumented)[:1000]}")
    return None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


@schemathesis.check
def graphql_strict_json(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: schemathesis.Case
) -> bool | None:
    """The body is JSON as RFC 8259 defines it: Python's json module (and so Schemathesis's
    own parsing) reads and writes NaN and Infinity, which JSON does not have."""
    try:
        json.loads(response.content, parse_constant=_reject_constant)
    except ValueError as error:
        raise AssertionError(f"the body is not JSON: {error}: {response.text[:300]}") from None
    return None
