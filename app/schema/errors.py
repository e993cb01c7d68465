"""How GraphQL errors are presented and logged.

Domain errors (app.errors) keep their message and gain `extensions.code`; errors
graphql-core raises for a bad document or bad variables are the client's and keep
their message; anything else is a bug: logged with its traceback and masked.
"""

import logging
from collections.abc import Iterator
from enum import Enum

from graphql import GraphQLError, GraphQLSyntaxError

from app.errors import DomainError

logger = logging.getLogger("app.graphql")

INTERNAL_MESSAGE = "Internal server error"


class Phase(Enum):
    PARSE = "GRAPHQL_PARSE_FAILED"
    VALIDATION = "GRAPHQL_VALIDATION_FAILED"
    EXECUTION = "BAD_USER_INPUT"  # an error without a field path while executing: variables


def _causes(error: GraphQLError) -> Iterator[BaseException]:
    cause: BaseException | None = error.original_error
    while cause is not None:
        yield cause
        cause = cause.original_error if isinstance(cause, GraphQLError) else None


def domain_error(error: GraphQLError) -> DomainError | None:
    return next((cause for cause in _causes(error) if isinstance(cause, DomainError)), None)


def unexpected_cause(error: GraphQLError) -> BaseException | None:
    """The exception behind a bug, or None for errors the client caused."""
    if domain_error(error) is not None:
        return None
    for cause in _causes(error):
        if not isinstance(cause, GraphQLError):
            return cause
    # A field error with no exception behind it is graphql-core refusing our own
    # output (a null for a non-null field): a bug too.
    return error if error.path else None


def present(error: GraphQLError, phase: Phase) -> GraphQLError:
    """The error as the client sees it."""
    domain = domain_error(error)
    if domain is not None:
        extensions = domain.extensions
    elif unexpected_cause(error) is not None:
        return GraphQLError(
            INTERNAL_MESSAGE,
            nodes=error.nodes,
            path=error.path,
            extensions={"code": "INTERNAL_SERVER_ERROR"},
        )
    else:
        extensions = {"code": phase.value}
    return GraphQLError(
        error.message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=error.original_error,
        extensions={**(error.extensions or {}), **extensions},
    )


def log_unexpected(errors: list[GraphQLError]) -> None:
    """Log bugs with their traceback; expected errors are the client's business."""
    for error in errors:
        cause = unexpected_cause(error)
        if cause is not None:
            logger.error(
                "unexpected error in GraphQL %s",
                ".".join(str(key) for key in error.path or []) or "operation",
                exc_info=(type(cause), cause, cause.__traceback__),
            )


def with_code(error: GraphQLError) -> GraphQLError:
    """The error unchanged if it has a code; else presented, as a parse error if it is one."""
    if error.extensions and "code" in error.extensions:
        return error
    phase = Phase.PARSE if isinstance(error, GraphQLSyntaxError) else Phase.VALIDATION
    return present(error, phase)
