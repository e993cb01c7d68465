"""The GraphQL schema: thin types over the rules in app.resolvers, and its limits."""

import functools
from collections.abc import Iterable
from typing import Any

from graphql import GraphQLError
from graphql.validation import (
    ASTValidationRule,
    MaxIntrospectionDepthRule,
    NoSchemaIntrospectionCustomRule,
)
from strawberry import Schema
from strawberry.extensions import ParserCache, SchemaExtension, ValidationCache
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext, ExecutionResult
from strawberry.types.graphql import OperationType

from app.config import Settings
from app.deadline import operation_deadline
from app.library_internals import DEFAULT_ALLOWED_OPERATION_TYPES
from app.metrics import OperationNames
from app.naming import NAMES
from app.schema.errors import log_unexpected, with_code
from app.schema.execution import PlainFieldsExecutionContext
from app.schema.extensions import CompiledReads, OperationPolicy
from app.schema.limits import Limits, operation_limits_rule
from app.schema.list_inputs import ListInputLengthRule
from app.schema.mutation import Mutation
from app.schema.query import Query
from app.schema.scalars import SCALAR_MAP
from app.schema.subscription import Subscription


class LiveSessionsSchema(Schema):
    def __init__(
        self,
        *args: Any,
        execution_timeout_s: float | None = None,
        operation_names: OperationNames | None = None,
        **kwargs: Any,
    ):
        super().__init__(*args, **kwargs)
        self.execution_timeout_s = execution_timeout_s
        # Set by create_app when compiled reads are on (app.compiler); OperationPolicy
        # answers the queries inside their subset through it.
        self.compiler: CompiledReads | None = None
        # OperationPolicy labels metrics through it: one budget of names per schema.
        self.operation_names = operation_names or OperationNames(0)

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # Strawberry logs every error with a traceback at ERROR; only bugs deserve that.
        log_unexpected(errors)

    async def execute(  # noqa: PLR0917 - the signature of Schema.execute
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
        operation_extensions: dict[str, Any] | None = None,
    ) -> ExecutionResult:
        # `execute` would run a subscription's root field as a plain resolver and fail
        # with a null for a non-null field; only `subscribe` (WebSocket) can run one.
        # Refused here, it raises InvalidOperationTypeError, which the view answers 400.
        allowed = set(allowed_operation_types or DEFAULT_ALLOWED_OPERATION_TYPES)
        allowed.discard(OperationType.SUBSCRIPTION)
        try:
            async with operation_deadline(self.execution_timeout_s):
                result = await super().execute(
                    query,
                    variable_values=variable_values,
                    context_value=context_value,
                    root_value=root_value,
                    operation_name=operation_name,
                    allowed_operation_types=allowed,
                    operation_extensions=operation_extensions,
                )
        except TimeoutError:
            # Nothing was committed: a commit under way lifts the deadline (app.deadline).
            message = f"the operation took longer than {self.execution_timeout_s:g}s and stopped"
            return ExecutionResult(
                data=None, errors=[GraphQLError(message, extensions={"code": "TIMEOUT"})]
            )
        if result.errors:
            # ParserCache parses inside an extension hook, so a syntax error skips the
            # operation hook that OperationPolicy finishes in: give such errors their code.
            result.errors = [with_code(error) for error in result.errors]
        return result


def build_schema(settings: Settings) -> LiveSessionsSchema:
    # The limit rules are built once per schema, not per request, so ValidationCache
    # can recognise a document it has already validated.
    limits = Limits(
        max_depth=settings.graphql_max_depth,
        max_aliases=settings.graphql_max_aliases,
        max_introspection_depth=settings.graphql_max_introspection_depth,
        max_cost=settings.graphql_max_cost,
    )
    rules: list[type[ASTValidationRule]] = [
        operation_limits_rule(limits),
        ListInputLengthRule,
        # graphql-core's own bound on introspection lists (fields, interfaces, ...)
        # remembers each fragment's entry depth, so it is linear too.
        MaxIntrospectionDepthRule,
    ]
    if not settings.graphql_introspection:
        rules.append(NoSchemaIntrospectionCustomRule)
    # Factories, not instances: Strawberry builds a fresh extension per operation.
    extensions: list[type[SchemaExtension] | Any] = [
        functools.partial(
            OperationPolicy, max_tokens=settings.graphql_max_tokens, rules=tuple(rules)
        ),
        # Parsing and validating the same document again is pure waste: both are cached
        # (bounded LRU, keyed by the text and by the document and rules respectively).
        functools.partial(ParserCache, maxsize=1024),
        functools.partial(ValidationCache, maxsize=1024),
    ]
    return LiveSessionsSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=extensions,
        config=StrawberryConfig(scalar_map=SCALAR_MAP, name_converter=NAMES),
        execution_context_class=PlainFieldsExecutionContext,
        execution_timeout_s=settings.graphql_timeout_s,
        operation_names=OperationNames(settings.graphql_metrics_operation_names),
    )


def sdl() -> str:
    """The published shape of the API (schema.graphql); settings do not change it."""
    return build_schema(Settings.model_construct()).as_str() + "\n"
