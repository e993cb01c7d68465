"""A request's root fields and what each reads: the resolvers' own statements, with the
request's arguments bound by name (app.resolvers.binds).

Computed for every request, cached or not: the statements' `Binds` carry the values to
bind and the shape that, with the `@include`/`@skip` variables, picks the cached SQL
(app.compiler.statements). Building these few small statements costs little; building
and compiling the one around them is what the cache saves.
"""

from dataclasses import dataclass
from typing import Any

from graphql import GraphQLField
from graphql.execution.collect_fields import FieldDetailsList, collect_fields
from graphql.execution.values import VariableValues, get_argument_values
from sqlmodel.sql.expression import Select, SelectOfScalar
from strawberry import Schema

from app.compiler.planner import Plan
from app.library_internals import graphql_core_schema, resolver_arguments
from app.resolvers.binds import Binds
from app.resolvers.sessions import count_query, page_query
from app.resolvers.views import parse_session_id, view_query
from app.schema.query import session_filter


class Unexpressible(Exception):
    """An argument the plan cannot express; ordinary execution will answer."""


@dataclass(frozen=True)
class Call:
    key: str  # the response key
    field: str  # the root field's name
    details: FieldDetailsList
    bind: Binds  # the parameters of the statements below
    page: Select[Any] | None = None  # Query.sessions
    count: SelectOfScalar[int] | None = None  # Query.sessions
    view: Select[Any] | None = None  # Query.session; None for an id that cannot be one


def root_calls(schema: Schema, plan: Plan, variables: VariableValues) -> list[Call]:
    """The operation's root fields as this request selects them, with their statements;
    raises whatever the resolvers raise for arguments they refuse."""
    graphql = graphql_core_schema(schema)
    query_type = graphql.query_type
    assert query_type is not None
    grouped = collect_fields(
        graphql, plan.fragments, variables, query_type, plan.operation
    ).grouped_field_set
    calls = []
    for index, (key, details) in enumerate(grouped.items()):
        field = details[0].node.name.value
        bind = Binds(f"f{index}_")
        if field == "sessions":
            arguments = _arguments(schema, query_type.fields[field], details, variables)
            flt = session_filter(arguments.get("filter"))
            first: int = arguments["first"]
            page = page_query(flt, first=first, after=arguments.get("after"), bind=bind)
            calls.append(Call(key, field, details, bind, page=page, count=count_query(flt, bind)))
        elif field == "session":
            arguments = _arguments(schema, query_type.fields[field], details, variables)
            canonical = parse_session_id(str(arguments["id"]))
            if canonical is None:
                bind.term("no_id")  # as get_session: an id that cannot be one finds nothing
                calls.append(Call(key, field, details, bind))
            else:
                calls.append(Call(key, field, details, bind, view=view_query(canonical, bind)))
        else:
            calls.append(Call(key, field, details, bind))
    return calls


def _arguments(
    schema: Schema, definition: GraphQLField, details: FieldDetailsList, variables: VariableValues
) -> dict[str, Any]:
    first = details[0]
    values = get_argument_values(definition, first.node, variables, first.fragment_variable_values)
    arguments = resolver_arguments(schema, definition, values)
    if arguments is None:
        raise Unexpressible(first.node.name.value)
    return arguments


def shape_of(plan: Plan, variables: VariableValues, calls: list[Call]) -> tuple[object, ...]:
    """What decides the statement's SQL text besides the plan: the values `@include` and
    `@skip` read, and the shape of each root field's statements."""
    conditions = tuple(variables.coerced.get(name) for name in plan.condition_variables)
    return conditions, tuple((call.key, call.field, tuple(call.bind.shape)) for call in calls)
