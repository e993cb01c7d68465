"""Whether a validated operation lies wholly inside the compiled subset, decided once.

The subset is a whitelist: the `sessions` connection and `session(id)` on Query, the
connection's, edge's and page info's fields below, `__typename` anywhere, and on
`Session` the fields `session_fields` knows how to write in SQL. A field the schema
gains later is in none of these tables, so an operation selecting it is not compiled:
it falls back to ordinary execution rather than answering differently. Each whitelisted
field's type is checked too, so a field whose type changes falls back as well.

Only `@include` and `@skip` may appear, on fields, spreads and inline fragments;
fragments must be on the very type they are spread in. Which fields a request finally
selects depends on its variables, so the plan keeps the operation and its fragments,
and the renderer collects fields with graphql-core's own `collect_fields` per request.
"""

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast
from weakref import WeakKeyDictionary

import sqlalchemy as sa
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLEnumType,
    GraphQLError,
    GraphQLField,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableNode,
    get_named_type,
)
from graphql.execution.collect_fields import FragmentDetails

from app.library_internals import attribute_read_by
from app.models import RegistrationStatus, UTCDateTime
from app.resolvers.views import SESSIONS
from app.schema.enums import CallerRegistration
from app.snapshots import ATTRIBUTES, COLUMNS

# (type, field) -> the field's type as the schema prints it.
CONNECTION_FIELDS: dict[tuple[str, str], str] = {
    ("Query", "sessions"): "SessionConnection!",
    ("Query", "session"): "Session",
    ("SessionConnection", "edges"): "[SessionEdge!]!",
    ("SessionConnection", "pageInfo"): "PageInfo!",
    ("SessionConnection", "totalCount"): "Int!",
    ("SessionEdge", "cursor"): "String!",
    ("SessionEdge", "node"): "Session!",
    ("PageInfo", "hasNextPage"): "Boolean!",
    ("PageInfo", "endCursor"): "String",
}
SESSION_TYPE = "Session"
_CONDITIONS = frozenset({"include", "skip"})


class Kind(enum.Enum):
    """How a Session field is written in SQL (app.compiler.render)."""

    TEXT = enum.auto()
    INTEGER = enum.auto()
    BOOLEAN = enum.auto()
    DATETIME = enum.auto()
    JSON = enum.auto()
    ENUM = enum.auto()
    IS_REGISTERED = enum.auto()
    REGISTRATION_STATUS = enum.auto()
    WAITLIST_POSITION = enum.auto()


@dataclass(frozen=True)
class SessionField:
    kind: Kind
    column: str = ""  # the sessions column's label in SELECT_VIEWS (its model attribute)
    names: tuple[tuple[str | None, str], ...] = ()  # ENUM kinds: stored value -> API name


def _python_type(column_type: sa.types.TypeEngine[Any]) -> object:
    if isinstance(column_type, sa.types.TypeDecorator):
        column_type = column_type.impl_instance
    try:
        return column_type.python_type
    except NotImplementedError:
        return None


# Stored fields: the GraphQL scalar, and what the column must hold to print as it does.
_STORED_KINDS: dict[str, tuple[Kind, Callable[[sa.types.TypeEngine[Any]], bool]]] = {
    "ID": (Kind.TEXT, lambda t: _python_type(t) is str),
    "String": (Kind.TEXT, lambda t: _python_type(t) is str),
    "Int": (Kind.INTEGER, lambda t: _python_type(t) is int),
    "Boolean": (Kind.BOOLEAN, lambda t: _python_type(t) is bool),
    "DateTime": (Kind.DATETIME, lambda t: isinstance(t, UTCDateTime)),
    "JSON": (Kind.JSON, lambda t: isinstance(t, sa.JSON)),
}
_COLUMN_OF = {attribute: column for column, attribute in COLUMNS}


def _names(
    graphql_enum: GraphQLEnumType, values: dict[str | None, object]
) -> tuple[tuple[str | None, str], ...] | None:
    """Stored value -> the name the API prints, by the enum's own serializer; None when
    it cannot print one of them."""
    try:
        return tuple((stored, graphql_enum.serialize(member)) for stored, member in values.items())
    except GraphQLError:
        return None


def _stored_field(name: str, field: GraphQLField) -> SessionField | None:
    """A field read straight off a sessions column, if it is one this module can write."""
    python_name = attribute_read_by(field)
    if python_name is None or python_name not in ATTRIBUTES:
        return None
    attribute = ATTRIBUTES[python_name]
    column = SESSIONS[_COLUMN_OF[attribute]]
    if isinstance(field.type, GraphQLNonNull) and column.nullable:
        return None  # ordinary execution would answer an error for a NULL
    named = get_named_type(field.type)
    if isinstance(named, GraphQLEnumType):
        stored_as = column.type.enum_class if isinstance(column.type, sa.Enum) else None
        if not isinstance(stored_as, enum.EnumMeta):
            return None
        if stored_as is not getattr(named, "wrapped_cls", None):
            return None
        members: list[enum.Enum] = list(cast(type[enum.Enum], stored_as))
        names = _names(named, {m.value: m for m in members})
        return None if names is None else SessionField(Kind.ENUM, attribute, names)
    kind_and_types = _STORED_KINDS.get(named.name)
    if kind_and_types is None or not kind_and_types[1](column.type):
        return None
    return SessionField(kind_and_types[0], attribute)


def _view_fields(session_type: GraphQLObjectType) -> dict[str, SessionField]:
    """The caller's view of a session: its registration and waitlist place."""
    status_field = session_type.fields.get("registrationStatus")
    registration = None if status_field is None else get_named_type(status_field.type)
    statuses: dict[str | None, object] = {
        status.value: CallerRegistration.of(status) for status in RegistrationStatus
    }
    statuses[None] = CallerRegistration.of(None)
    candidates = {
        "isRegistered": ("Boolean!", SessionField(Kind.IS_REGISTERED)),
        "waitlistPosition": ("Int", SessionField(Kind.WAITLIST_POSITION)),
    }
    names = _names(registration, statuses) if isinstance(registration, GraphQLEnumType) else None
    if names is not None:
        candidates["registrationStatus"] = (
            "RegistrationStatus!",
            SessionField(Kind.REGISTRATION_STATUS, names=names),
        )
    return {
        name: plan
        for name, (printed, plan) in candidates.items()
        if name in session_type.fields and str(session_type.fields[name].type) == printed
    }


_session_fields: "WeakKeyDictionary[GraphQLSchema, dict[str, SessionField]]" = WeakKeyDictionary()


def session_fields(schema: GraphQLSchema) -> dict[str, SessionField]:
    """Every Session field the compiler can write, worked out once per schema."""
    known = _session_fields.get(schema)
    if known is None:
        session_type = schema.type_map.get(SESSION_TYPE)
        if not isinstance(session_type, GraphQLObjectType):
            _session_fields[schema] = {}
            return {}
        known = _view_fields(session_type)
        for name, field in session_type.fields.items():
            stored = _stored_field(name, field)
            if stored is not None and name not in known:
                known[name] = stored
        _session_fields[schema] = known
    return known


@dataclass(frozen=True)
class Plan:
    operation: OperationDefinitionNode
    fragments: dict[str, FragmentDetails]
    # The variables `@include`/`@skip` read: with the arguments, what decides the SQL text.
    condition_variables: tuple[str, ...] = ()


def plan(schema: GraphQLSchema, document: DocumentNode, operation_name: str | None) -> Plan | None:
    """The operation to compile, or None when any part of it is outside the subset."""
    operation = _operation(document, operation_name)
    if (
        operation is None
        or operation.operation is not OperationType.QUERY
        or operation.directives
        or any(definition.directives for definition in operation.variable_definitions or ())
    ):
        return None
    definitions = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    checker = _Checker(schema, definitions)
    if schema.query_type is None or not checker.supports(
        operation.selection_set, schema.query_type.name
    ):
        return None
    return Plan(
        operation,
        {name: FragmentDetails(d) for name, d in definitions.items()},
        tuple(sorted(checker.condition_variables)),
    )


def _operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode | None:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name is None:
        return operations[0] if len(operations) == 1 else None
    return next((o for o in operations if o.name and o.name.value == name), None)


class _Checker:
    def __init__(self, schema: GraphQLSchema, fragments: dict[str, FragmentDefinitionNode]) -> None:
        self._schema = schema
        self._fragments = fragments
        self._session_fields = session_fields(schema)
        self._checked: dict[str, bool] = {}  # each fragment once, however often spread
        self.condition_variables: set[str] = set()

    def supports(self, selection_set: SelectionSetNode, parent: str) -> bool:
        return all(self._supports(selection, parent) for selection in selection_set.selections)

    def _supports(self, selection: object, parent: str) -> bool:
        if not isinstance(selection, FieldNode | FragmentSpreadNode | InlineFragmentNode):
            return False
        if any(d.name.value not in _CONDITIONS for d in selection.directives or ()):
            return False
        self.condition_variables.update(
            argument.value.name.value
            for directive in selection.directives or ()
            for argument in directive.arguments or ()
            if isinstance(argument.value, VariableNode)
        )
        if isinstance(selection, FieldNode):
            return self._field(selection, parent)
        if isinstance(selection, InlineFragmentNode):
            condition = selection.type_condition
            return (condition is None or condition.name.value == parent) and self.supports(
                selection.selection_set, parent
            )
        return self._spread(selection.name.value, parent)

    def _spread(self, name: str, parent: str) -> bool:
        key = f"{name} {parent}"
        if key not in self._checked:
            self._checked[key] = False  # a cycle is a validation error; never loop here
            fragment = self._fragments.get(name)
            self._checked[key] = (
                fragment is not None
                and fragment.type_condition.name.value == parent
                and not fragment.directives
                and not fragment.variable_definitions
                and self.supports(fragment.selection_set, parent)
            )
        return self._checked[key]

    def _field(self, node: FieldNode, parent: str) -> bool:
        name = node.name.value
        if name == "__typename":
            return True
        if parent == SESSION_TYPE:
            return name in self._session_fields and node.selection_set is None
        printed = CONNECTION_FIELDS.get((parent, name))
        parent_type = self._schema.type_map.get(parent)
        if printed is None or not isinstance(parent_type, GraphQLObjectType):
            return False
        field = parent_type.fields.get(name)
        if field is None or str(field.type) != printed:
            return False
        if node.selection_set is None:
            return True
        return self.supports(node.selection_set, get_named_type(field.type).name)
