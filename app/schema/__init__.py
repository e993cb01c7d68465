"""The GraphQL schema: thin types over the rules in app.resolvers."""

from graphql import GraphQLError
from strawberry import Schema
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from app.schema.errors import log_unexpected
from app.schema.extensions import OperationMetrics, PresentErrors, RequireCaller
from app.schema.mutation import Mutation
from app.schema.query import Query
from app.schema.scalars import SCALAR_MAP


class LiveSessionsSchema(Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # Strawberry logs every error with a traceback at ERROR; only bugs deserve that.
        log_unexpected(errors)


schema = LiveSessionsSchema(
    query=Query,
    mutation=Mutation,
    extensions=[OperationMetrics, PresentErrors, RequireCaller],
    config=StrawberryConfig(scalar_map=SCALAR_MAP),
)
