"""How /graphql refuses a request before GraphQL runs it: a status and a GraphQL-shaped body.

Strawberry refuses such requests (a body that is not a JSON object, an unknown
`operationName`, a missing query...) with a plain-text body, but a GraphQL client reads
`errors`: every refusal is `{"errors": [{"message": ..., "extensions": {"code": ...}}]}`.
They are the client's mistakes, so they are logged at INFO, in one line.
"""

import logging

from cross_web import HTTPException
from starlette.responses import JSONResponse
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.types.graphql import OperationType

from app import json_input

logger = logging.getLogger(__name__)

# Apollo Server's code for a request refused before its operation is parsed or resolved.
BAD_REQUEST = "BAD_REQUEST"
CODES = {404: "NOT_FOUND"}
SUBSCRIPTION_OVER_HTTP = (
    "subscriptions are served over WebSocket: open /graphql with the graphql-transport-ws "
    "protocol and subscribe there"
)
BODY_ENDED_EARLY = "the body ended early: the client disconnected"


def refusal(status: int, message: str) -> JSONResponse:
    # The message may quote the client (an operation name): a bounded line, not a copy.
    logger.info("refused a GraphQL request: %.200s", message)
    error = {"message": message, "extensions": {"code": CODES.get(status, BAD_REQUEST)}}
    return JSONResponse({"errors": [error]}, status_code=status)


def refusal_for(error: HTTPException) -> JSONResponse:
    """The refusal Strawberry raised; a subscription is told where subscriptions go."""
    cause = error.__cause__
    if (
        isinstance(cause, InvalidOperationTypeError)
        and cause.operation_type is OperationType.SUBSCRIPTION
    ):
        return refusal(400, SUBSCRIPTION_OVER_HTTP)
    return refusal(error.status_code, error.reason)


def request_body(raw: bytes) -> dict[str, object]:
    """A POST body as the JSON object GraphQL over HTTP requires, or a 400 saying why."""
    try:
        body = json_input.object_body(raw)
    except json_input.InvalidBody as error:
        raise HTTPException(400, str(error)) from None
    # Strawberry checks the types of `query`, `variables` and `extensions`, not this one.
    if not isinstance(body.get("operationName"), str | None):
        raise HTTPException(400, "the operationName must be a string or null, if provided")
    return body
