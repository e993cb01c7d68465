"""Schema extensions: authentication for every operation, and error presentation."""

from collections.abc import Iterator

from graphql import ExecutionResult as GraphQLExecutionResult
from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from app.errors import Unauthenticated
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
