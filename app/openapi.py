"""The OpenAPI 3.1 document of the REST compatibility route."""

from typing import Any

from app.auth import SCOPE_SESSIONS_ADMIN, SCOPE_SESSIONS_WRITE
from app.contract import COMPONENTS, ERROR_SCHEMA, REQUEST_SCHEMA, RESPONSE_SCHEMA
from app.resolvers.validation import METADATA_MAX_DEPTH


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def openapi_document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "live-sessions REST compatibility API",
            "version": "1.0.0",
            "description": "The legacy REST route. New clients use the GraphQL API at /graphql.",
        },
        "paths": {
            "/v1/sessions": {
                "post": {
                    "operationId": "createSession",
                    "summary": "Create a live session",
                    "description": (
                        f"Needs the scope `{SCOPE_SESSIONS_WRITE}`; `host_id` must be the "
                        f"token's `sub` unless the caller also has `{SCOPE_SESSIONS_ADMIN}`."
                    ),
                    "security": [{"bearerAuth": [SCOPE_SESSIONS_WRITE]}],
                    "parameters": [
                        {
                            "name": "Idempotency-Key",
                            "in": "header",
                            "required": False,
                            "description": (
                                "Makes retries safe: the same key with the same body, from "
                                "the same caller, within 24 hours, returns the first "
                                "response and creates nothing new. Printable ASCII."
                            ),
                            "schema": {
                                "type": "string",
                                "minLength": 1,
                                "maxLength": 255,
                                "pattern": "^[ -~]+$",
                            },
                        }
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/CreateSessionRequest"}
                            }
                        },
                    },
                    "responses": {
                        "201": {
                            "description": "Session created",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/Session"}
                                }
                            },
                        },
                        "400": _error("Validation error"),
                        "401": _error("Missing, malformed, expired or otherwise invalid token"),
                        "403": _error("Missing scope, or host_id is another user"),
                        "408": _error("The body did not arrive in time"),
                        "409": _error(
                            "A request with the same Idempotency-Key is still in progress"
                        ),
                        "413": _error("Body larger than the limit (1 MiB by default)"),
                        "415": _error("Body is not application/json"),
                        "422": _error("The Idempotency-Key was used for a different request"),
                        "503": {
                            **_error(
                                "The operation ran out of time before it committed: nothing "
                                "was created, so retrying is safe"
                            ),
                            "headers": {
                                "Retry-After": {
                                    "description": "Seconds to wait before retrying",
                                    "schema": {"type": "integer", "minimum": 0},
                                }
                            },
                        },
                    },
                }
            }
        },
        "components": {
            "schemas": {
                "CreateSessionRequest": REQUEST_SCHEMA,
                "Session": RESPONSE_SCHEMA,
                "Error": ERROR_SCHEMA,
                **_metadata_levels(),
            },
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": (
                        "HS256 JWT with `sub` and `exp`; scopes in the space-separated `scope` "
                        f"claim: `{SCOPE_SESSIONS_WRITE}` to create, `{SCOPE_SESSIONS_ADMIN}` "
                        "to act for another host."
                    ),
                }
            },
        },
    }


def _metadata_levels() -> dict[str, Any]:
    """MetadataValue with the nesting bound the service enforces, spelled out.

    JSON Schema has no keyword for depth, and the contract's MetadataValue refers to
    itself at any depth; a client generating bodies from this document (a fuzzer, a
    form) would then send metadata the service refuses. So the published document
    unrolls it: the value at depth d (metadata itself is 1) refers to depth d + 1, and
    past METADATA_MAX_DEPTH only scalars remain. The validators keep the recursive
    schema: a body too deep gets the rule's own message ("must not nest deeper ...").
    """
    (name, value), *_ = COMPONENTS["schemas"].items()
    first = 2  # metadata's own values

    def ref(depth: int) -> dict[str, str]:
        suffix = "" if depth == first else f"AtDepth{depth}"
        return {"$ref": f"#/components/schemas/{name}{suffix}"}

    levels = {}
    for depth in range(first, METADATA_MAX_DEPTH + 2):
        inner = ref(depth + 1)
        if depth <= METADATA_MAX_DEPTH:
            level = {**value, "items": inner, "additionalProperties": inner}
        else:
            scalar = {key: value[key] for key in ("description", "pattern")}
            level = {**scalar, "type": ["string", "number", "boolean", "null"]}
        levels[ref(depth)["$ref"].rsplit("/", 1)[1]] = level
    return levels
