"""A plan, one request's variables and its root calls -> one SELECT whose only value is
the `data` JSON.

Fields are collected as graphql-core collects them for execution (`collect_fields`,
`collect_subfields`: fragments, `@include`/`@skip`, same-key merging, first-seen key
order), so the object's keys come out in the order ordinary execution writes them.
Rows, filters, cursors and the caller's view come from the resolvers' own statements
(`page_query`, `count_query`, `view_query`, built by app.compiler.calls with named
parameters), so the SELECT's text depends only on the selection and the calls' shapes
and is compiled once for all requests of that shape (app.compiler.statements).
"""

from typing import Any

import sqlalchemy as sa
from graphql import GraphQLObjectType, GraphQLSchema
from graphql.execution.collect_fields import (
    FieldDetailsList,
    GroupedFieldSet,
    collect_subfields,
)
from graphql.execution.values import VariableValues
from strawberry import Schema

from app.compiler.calls import Call
from app.compiler.dialects import Dialect, Expression, name
from app.compiler.planner import Kind, Plan, SessionField, session_fields
from app.library_internals import graphql_core_schema
from app.models import RegistrationStatus
from app.resolvers.sessions import PAGE_LIMIT

Columns = sa.ColumnCollection[str, sa.ColumnElement[Any]]


class Renderer:
    """One request's statement. Its text depends only on what `shape_of` keys it by
    (app.compiler.calls): the selection and the calls' shapes; their values are the
    named parameters of `calls`' statements."""

    def __init__(
        self,
        schema: Schema,
        plan: Plan,
        variables: VariableValues,
        dialect: Dialect,
        calls: list[Call],
    ) -> None:
        self._graphql: GraphQLSchema = graphql_core_schema(schema)
        self._plan = plan
        self._variables = variables
        self._dialect = dialect
        self._calls = calls
        self._session_fields = session_fields(self._graphql)

    def statement(self) -> sa.Select[Any]:
        query_type = self._graphql.query_type
        assert query_type is not None
        pairs = []
        for call in self._calls:
            if call.field == "__typename":
                pairs.append((call.key, name(query_type.name)))
            elif call.field == "sessions":
                pairs.append((call.key, self._connection(query_type, call)))
            else:
                pairs.append((call.key, self._session(query_type, call)))
        return sa.select(self._dialect.text(self._dialect.object(pairs)))

    def _subfields(
        self, parent: GraphQLObjectType, field: str, details: FieldDetailsList
    ) -> tuple[GraphQLObjectType, GroupedFieldSet]:
        named = parent.fields[field].type
        while not isinstance(named, GraphQLObjectType):
            named = named.of_type
        grouped = collect_subfields(
            self._graphql,
            self._plan.fragments,
            self._variables,
            self._plan.operation,
            named,
            details,
        ).grouped_field_set
        return named, grouped

    # -- Query.sessions ---------------------------------------------------------------

    def _connection(self, query_type: GraphQLObjectType, call: Call) -> Expression:
        assert call.page is not None
        assert call.count is not None
        page = self._viewed(call.page, self._edge_nodes(query_type, call)).subquery()
        rows = sa.select(
            *page.c,
            sa.func.row_number().over(order_by=(page.c.scheduled_at, page.c.id)).label("rn"),
        ).cte(f"page_{call.bind.prefix}")
        # page_query reads `first` + 1 rows (its limit, by name), the extra one telling
        # whether another page follows.
        limit_name = call.bind.prefix + PAGE_LIMIT
        limit = sa.bindparam(limit_name, call.bind.values[limit_name], type_=sa.Integer())
        on_page = rows.c.rn < limit
        connection, grouped = self._subfields(query_type, "sessions", call.details)
        pairs = []
        for key, sub in grouped.items():
            field = sub[0].node.name.value
            if field == "__typename":
                value = name(connection.name)
            elif field == "totalCount":
                value = call.count.scalar_subquery()
            elif field == "edges":
                value = self._edges(connection, sub, rows, on_page)
            else:
                value = self._page_info(connection, sub, rows, on_page, limit)
            pairs.append((key, value))
        return self._dialect.object(pairs)

    def _cursor(self, columns: Columns) -> Expression:
        return self._dialect.cursor(self._dialect.datetime(columns.scheduled_at), columns.id)

    def _edges(
        self,
        connection: GraphQLObjectType,
        details: FieldDetailsList,
        rows: sa.CTE,
        on_page: Expression,
    ) -> Expression:
        edge, grouped = self._subfields(connection, "edges", details)
        pairs = []
        for key, sub in grouped.items():
            field = sub[0].node.name.value
            if field == "__typename":
                value = name(edge.name)
            elif field == "cursor":
                value = self._cursor(rows.c)
            else:
                _, node = self._subfields(edge, "node", sub)
                value = self._node(node, rows.c)
            pairs.append((key, value))
        return self._dialect.array(self._dialect.object(pairs), rows, on_page, rows.c.rn)

    def _page_info(
        self,
        connection: GraphQLObjectType,
        details: FieldDetailsList,
        rows: sa.CTE,
        on_page: Expression,
        limit: Expression,
    ) -> Expression:
        page_info, grouped = self._subfields(connection, "pageInfo", details)
        pairs = []
        for key, sub in grouped.items():
            field = sub[0].node.name.value
            if field == "__typename":
                value = name(page_info.name)
            elif field == "hasNextPage":
                fetched = sa.select(sa.func.count()).select_from(rows).scalar_subquery()
                value = self._dialect.boolean(fetched >= limit)
            else:
                last = sa.select(self._cursor(rows.c)).where(on_page).order_by(rows.c.rn.desc())
                value = last.limit(1).scalar_subquery()
            pairs.append((key, value))
        return self._dialect.object(pairs)

    # -- Query.session ----------------------------------------------------------------

    def _session(self, query_type: GraphQLObjectType, call: Call) -> Expression:
        if call.view is None:
            return sa.null()
        _, grouped = self._subfields(query_type, "session", call.details)
        view = self._viewed(call.view, [grouped]).subquery()
        # FROM named outright: a selection left empty by @skip reads no column of it.
        found = sa.select(self._node(grouped, view.c)).select_from(view)
        return self._dialect.nested(found.scalar_subquery())

    # -- Session ----------------------------------------------------------------------

    def _edge_nodes(self, query_type: GraphQLObjectType, call: Call) -> list[GroupedFieldSet]:
        """The field sets of every `edges { node }` in a `sessions` selection."""
        connection, grouped = self._subfields(query_type, "sessions", call.details)
        nodes = []
        for edges in grouped.values():
            if edges[0].node.name.value != "edges":
                continue
            edge, edge_fields = self._subfields(connection, "edges", edges)
            for node in edge_fields.values():
                if node[0].node.name.value == "node":
                    nodes.append(self._subfields(edge, "node", node)[1])
        return nodes

    def _viewed(self, query: sa.Select[Any], nodes: list[GroupedFieldSet]) -> sa.Select[Any]:
        """`query` (rows of SELECT_VIEWS) without the caller's view columns no field of
        `nodes` reads: a correlated subquery per row that nobody asked for."""
        kinds = {
            self._session_fields[details[0].node.name.value].kind
            for grouped in nodes
            for details in grouped.values()
            if details[0].node.name.value != "__typename"
        }
        unused = set()
        if not kinds & {Kind.IS_REGISTERED, Kind.REGISTRATION_STATUS}:
            unused.add("registration")
        if Kind.WAITLIST_POSITION not in kinds:
            unused.add("waitlist_position")
        kept = [column for column in query.selected_columns if column.key not in unused]
        return query.with_only_columns(*kept) if unused else query

    def _node(self, grouped: GroupedFieldSet, columns: Columns) -> Expression:
        pairs = []
        for key, details in grouped.items():
            field = details[0].node.name.value
            if field == "__typename":
                pairs.append((key, name("Session")))
            else:
                pairs.append((key, self._value(self._session_fields[field], columns)))
        return self._dialect.object(pairs)

    def _value(self, field: SessionField, columns: Columns) -> Expression:
        dialect = self._dialect
        match field.kind:
            case Kind.TEXT | Kind.INTEGER:
                return columns[field.column]
            case Kind.BOOLEAN:
                return dialect.boolean_column(columns[field.column])
            case Kind.DATETIME:
                return dialect.datetime(columns[field.column])
            case Kind.JSON:
                return dialect.json_column(columns[field.column])
            case Kind.ENUM:
                return _case(columns[field.column], field.names)
            case Kind.IS_REGISTERED:
                registered = _text(RegistrationStatus.REGISTERED)
                return dialect.boolean(columns.registration == registered)
            case Kind.REGISTRATION_STATUS:
                return _case(columns.registration, field.names)
            case Kind.WAITLIST_POSITION:
                return columns.waitlist_position


def _text(value: str) -> Expression:
    return sa.literal_column(f"'{value}'", sa.String) if value.isidentifier() else sa.literal(value)


def _case(column: Expression, names: tuple[tuple[str | None, str], ...]) -> Expression:
    """Stored value -> API name; the None entry, if any, names NULL."""
    whens = [(column == _text(stored), name(api)) for stored, api in names if stored is not None]
    otherwise = next((name(api) for stored, api in names if stored is None), None)
    return sa.case(*whens, else_=otherwise)
