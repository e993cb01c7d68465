"""Schema extensions: authentication, error presentation, per-operation metrics."""

from collections.abc import Iterator
from time import perf_counter

from graphql import ExecutionResult as GraphQLExecutionResult
from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from app.errors import Unauthenticated
from app.metrics import GRAPHQL_LATENCY, GRAPHQL_OPERATIONS
from app.requests_context import note_graphql_operation
from app.schema.errors import Phase, present


class RequireCaller(SchemaExtension):
    """Every operation needs a valid bearer token; refuse before anything executes."""

    def on_execute(self) -> Iterator[None]:
        try:
            self.execution_context.context.caller  # noqa: B018 - raises when anonymous
        except Unauthenticated as error:
            # A result set before execution makes Strawberry skip executing.
            self.execution_context.result = GraphQLExecutionResult(
                data=None, errors=[GraphQLError(error.message, original_error=error)]
            )
        yield


class PresentErrors(SchemaExtension):
    """Give every error a stable `extensions.code`; mask unexpected ones."""

    def on_operation(self) -> Iterator[None]:
        self._phase = Phase.PARSE
        yield
        result = self.execution_context.result
        if result is not None and result.errors:
            result.errors = [present(error, self._phase) for error in result.errors]

    def on_validate(self) -> Iterator[None]:
        self._phase = Phase.VALIDATION
        yield

    def on_execute(self) -> Iterator[None]:
        self._phase = Phase.EXECUTION
        yield


class OperationMetrics(SchemaExtension):
    """Count and time each operation by name; name the request's log lines after it."""

    def on_operation(self) -> Iterator[None]:
        start = perf_counter()
        yield
        context = self.execution_context
        name = context.operation_name or "anonymous"
        try:
            kind = context.operation_type.value
        except RuntimeError:  # the document did not parse
            kind = "unknown"
        note_graphql_operation(name)
        result = context.result
        outcome = "error" if result is not None and result.errors else "ok"
        GRAPHQL_OPERATIONS.labels(name, kind, outcome).inc()
        GRAPHQL_LATENCY.labels(name, kind).observe(perf_counter() - start)
