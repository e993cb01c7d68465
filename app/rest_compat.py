"""POST /v1/sessions, the legacy REST route, as a translator onto `createSession`.

It checks the request against the reference page's schema, renames keys into the
mutation's input, executes the mutation through the same schema and context as
/graphql, and renames the result back. It owns two tables, key names and error
code -> HTTP status, and no business rule.
"""

import logging
from typing import TYPE_CHECKING, Any

from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse

from app import json_input, rfc3339
from app.auth import require_caller
from app.context import build_context
from app.contract import REQUEST_SCHEMA, RESPONSE_SCHEMA, request_errors
from app.errors import Unauthenticated
from app.errors_http import error_response
from app.naming import api_name

logger = logging.getLogger(__name__)

if TYPE_CHECKING:
    from jsonschema import ValidationError

# REST key -> GraphQL name, in the order of the reference page's response schema: the
# page's snake_case names through the schema's own name conversion.
KEYS: dict[str, str] = {key: api_name(key) for key in RESPONSE_SCHEMA["properties"]}
REST_KEYS = {graphql: rest for rest, graphql in KEYS.items()}
ENUM_KEYS = tuple(key for key, spec in RESPONSE_SCHEMA["properties"].items() if "enum" in spec)
REQUEST_KEYS = tuple(REQUEST_SCHEMA["properties"])

# The selection set is the response contract.
CREATE_SESSION = (
    "mutation CreateSession($input: CreateSessionInput!, $idempotencyKey: String) {"
    " createSession(input: $input, idempotencyKey: $idempotencyKey)"
    f" {{ {' '.join(KEYS.values())} }} }}"
)
# GraphQL argument names that errors may name, as a REST caller knows them.
ERROR_FIELDS = {**REST_KEYS, "idempotencyKey": "Idempotency-Key"}

# GraphQL error code -> (HTTP status, REST error code).
STATUS: dict[str, tuple[int, str]] = {
    "BAD_USER_INPUT": (400, "validation_error"),
    "UNAUTHENTICATED": (401, "unauthorized"),
    "FORBIDDEN": (403, "forbidden"),
    "NOT_FOUND": (404, "not_found"),
    "CONFLICT": (409, "conflict"),
    "IDEMPOTENCY_IN_PROGRESS": (409, "idempotency_in_progress"),
    "IDEMPOTENCY_KEY_REUSED": (422, "idempotency_key_reused"),
    "TIMEOUT": (503, "timeout"),
}
# Seconds a caller should wait before retrying, per HTTP status that invites a retry.
RETRY_AFTER = {503: 1}
INTERNAL = (500, "internal_error")

JSON_TYPE_NAMES = {
    "string": "a string",
    "integer": "an integer",
    "object": "a JSON object",
    "boolean": "a boolean",
    "number": "a number",
}


class RestError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def response(self) -> JSONResponse:
        response = error_response(self.status, self.code, self.message)
        if self.status in RETRY_AFTER:
            response.headers["Retry-After"] = str(RETRY_AFTER[self.status])
        return response


async def create_session(request: Request) -> JSONResponse:
    try:
        try:
            require_caller(request.user)
        except Unauthenticated as error:
            raise RestError(401, "unauthorized", error.message) from None
        body = await _read_json_object(request)
        _check_against_contract(body)
        return await _execute_create(request, body)
    except RestError as error:
        return error.response()


async def _read_json_object(request: Request) -> dict[str, Any]:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/json":
        raise RestError(415, "unsupported_media_type", "the body must be application/json")
    try:
        # The front layer (app.http_front) bounds the size and the time this read may take.
        raw = await request.body()
    except ClientDisconnect:
        # The client's doing, and nobody is left to read the answer: one line, no traceback.
        logger.info("refused a REST request: the body ended early: the client disconnected")
        raise RestError(400, "validation_error", "the body ended early") from None
    try:
        return json_input.object_body(raw)
    except json_input.InvalidBody as error:
        raise RestError(400, "validation_error", str(error)) from None


def _check_against_contract(body: dict[str, Any]) -> None:
    errors = sorted(request_errors(body), key=lambda error: _field_order(_field_of(error)))
    if errors:
        message = "; ".join(_describe(error) for error in errors)
        raise RestError(400, "validation_error", message)


def _field_of(error: "ValidationError") -> str:
    if error.validator == "required":
        return str(error.message.split("'")[1])
    return ".".join(str(part) for part in error.absolute_path) or "body"


def _field_order(field: str) -> int:
    name = field.split(".", maxsplit=1)[0]
    return REQUEST_KEYS.index(name) if name in REQUEST_KEYS else len(REQUEST_KEYS)


def _describe(error: "ValidationError") -> str:
    field = _field_of(error)
    schema: dict[str, Any] = error.schema if isinstance(error.schema, dict) else {}
    reasons = {
        "required": "is required",
        "type": f"must be {JSON_TYPE_NAMES.get(str(schema.get('type')), schema.get('type'))}",
        "minLength": "must not be empty",
        "exclusiveMinimum": f"must be greater than {schema.get('exclusiveMinimum')}",
        "maximum": f"must be at most {schema.get('maximum')}",
        "enum": "must be one of " + ", ".join(str(value) for value in schema.get("enum", [])),
        "format": _date_time_problem(error.instance),
        "pattern": str(schema.get("description", error.message)),
    }
    return f"{field}: {reasons.get(str(error.validator), error.message)}"


def _date_time_problem(value: Any) -> str:
    try:
        rfc3339.parse(str(value))
    except rfc3339.InvalidDateTime as error:
        return str(error)
    return "must be an RFC 3339 date-time with a UTC offset, like 2030-06-01T10:00:00Z"


def _to_variables(body: dict[str, Any], idempotency_key: str | None) -> dict[str, Any]:
    data = {KEYS[key]: body[key] for key in REQUEST_KEYS if key in body}
    if "maxParticipants" in data:
        # JSON Schema counts 128.0 as an integer; GraphQL's Int wants 128.
        data["maxParticipants"] = int(data["maxParticipants"])
    if "kind" in data:
        data["kind"] = data["kind"].upper()
    return {"input": data, "idempotencyKey": idempotency_key}


def _to_body(session: dict[str, Any]) -> dict[str, Any]:
    body = {REST_KEYS[key]: value for key, value in session.items()}
    for key in ENUM_KEYS:
        body[key] = body[key].lower()
    return body


async def _execute_create(request: Request, body: dict[str, Any]) -> JSONResponse:
    result = await request.state.schema.execute(
        CREATE_SESSION,
        variable_values=_to_variables(body, request.headers.get("idempotency-key")),
        context_value=build_context(request),
        operation_name="CreateSession",
    )
    if result.errors:
        error = result.errors[0]
        extensions = error.extensions or {}
        status, code = STATUS.get(str(extensions.get("code")), INTERNAL)
        message = error.message
        field = extensions.get("field")
        if isinstance(field, str) and field in ERROR_FIELDS:
            message = message.replace(f"{field}: ", f"{ERROR_FIELDS[field]}: ", 1)
        raise RestError(status, code, message)
    assert result.data is not None
    return JSONResponse(_to_body(result.data["createSession"]), status_code=201)
