"""What every GraphQL operation goes through, as one schema extension.

One extension rather than one per concern: Strawberry wraps every hook of every
extension in a fresh context manager for every operation, and on a create that
machinery cost more than the JWT check and the REST contract check together.
"""

from collections.abc import AsyncIterator, Iterator, Mapping
from time import perf_counter
from typing import Any, Protocol

from graphql import ASTValidationRule, DocumentNode, GraphQLError
from graphql import ExecutionResult as GraphQLExecutionResult
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionContext

from app.auth import Caller
from app.context import AppContext
from app.db import Database
from app.errors import BadUserInput, Unauthenticated
from app.library_internals import graphql_core_schema
from app.metrics import (
    GRAPHQL_LATENCY,
    GRAPHQL_OPERATIONS,
    OPERATION_NAME,
    OperationNames,
    labelled,
)
from app.requests_context import note_graphql_operation
from app.schema.errors import Phase, present
from app.schema.list_inputs import check_variable_lists
from app.schema.rule_guard import guard_all


class CompiledReads(Protocol):
    """app.compiler.Compiler, as the policy calls it (app.compiler imports the schema)."""

    async def answer(
        self,
        *,
        query: str,
        document: DocumentNode,
        operation_name: str | None,
        variables: Mapping[str, Any] | None,
        db: Database,
        user_id: str,
    ) -> bytes | None: ...


class OperationPolicy(SchemaExtension):
    """Bounded parsing and our validation rules; a caller before anything executes;
    a stable `extensions.code` on every error, unexpected ones masked; and a count and
    a latency per operation name, which also names the request's log lines."""

    def __init__(self, *, max_tokens: int, rules: tuple[type[ASTValidationRule], ...]) -> None:
        self._max_tokens = max_tokens
        self._rules = rules
        self._executing = False

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context
        # As MaxTokensLimiter and AddValidationRules would, each with a hook of its own.
        context.parse_options["max_tokens"] = self._max_tokens
        context.validation_rules = guard_all(context.validation_rules + self._rules)
        start = perf_counter()
        yield
        result = context.result
        if result is not None and result.errors:
            phase = self._phase_reached()
            result.errors = [present(error, phase) for error in result.errors]
        _record(context, perf_counter() - start)

    async def on_execute(self) -> AsyncIterator[None]:
        self._executing = True
        context = self.execution_context
        try:
            caller = context.context.caller
            check_variable_lists(
                graphql_core_schema(context.schema),
                context.graphql_document,
                context.operation_name,
                context.variables,
            )
        except (Unauthenticated, BadUserInput) as error:
            # A result set before execution makes Strawberry skip executing.
            context.result = GraphQLExecutionResult(
                data=None, errors=[GraphQLError(error.message, original_error=error)]
            )
        else:
            data = await _compiled(context, caller.sub)
            if data is not None:
                context.result = GraphQLExecutionResult(data=data)  # type: ignore[arg-type]
        yield

    def _phase_reached(self) -> Phase:
        if self._executing:
            return Phase.EXECUTION
        if self.execution_context.graphql_document is None:
            return Phase.PARSE
        return Phase.VALIDATION


async def _compiled(context: ExecutionContext, user_id: str) -> bytes | None:
    """The operation's data from one compiled statement, when it is a query inside the
    subset and the transport can send the database's JSON as it is."""
    compiler: CompiledReads | None = getattr(context.schema, "compiler", None)
    app_context = context.context
    if (
        compiler is None
        or not isinstance(app_context, AppContext)
        or not app_context.takes_compiled_data
        or context.query is None
        or context.graphql_document is None
    ):
        return None
    return await compiler.answer(
        query=context.query,
        document=context.graphql_document,
        operation_name=context.operation_name,
        variables=context.variables,
        db=app_context.db,
        user_id=user_id,
    )


def _record(context: ExecutionContext, elapsed: float) -> None:
    name = _name(context.operation_name)
    try:
        kind = context.operation_type.value
    except RuntimeError:  # the document did not parse
        kind = "unknown"
    note_graphql_operation(name)
    label = _label(context, name)
    result = context.result
    outcome = "error" if result is not None and result.errors else "ok"
    labelled(GRAPHQL_OPERATIONS, label, kind, outcome).inc()
    labelled(GRAPHQL_LATENCY, label, kind).observe(elapsed)


def _name(provided: object) -> str:
    """The operation's name if it is a sane one; `operationName` may be any JSON value."""
    if provided is None:
        return "anonymous"
    if isinstance(provided, str) and OPERATION_NAME.fullmatch(provided):
        return provided
    return "other"


def _label(context: ExecutionContext, name: str) -> str:
    """The metrics label: the name, if the caller has a valid token and the schema's
    budget of names admits it. Anyone may name an operation, so a name alone is no reason
    to keep a series for it."""
    app_context = context.context
    if not (isinstance(app_context, AppContext) and isinstance(app_context.user, Caller)):
        return "unauthenticated"
    if name in ("anonymous", "other"):
        return name
    names = getattr(context.schema, "operation_names", None)
    return names.label(name) if isinstance(names, OperationNames) else "other"
