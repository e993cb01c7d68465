"""A shorter way through graphql-core for fields that only read an attribute.

Most of a list's cost is graphql-core completing fields one at a time: for each field it
looks the definition up, builds a resolve-info object, calls Strawberry's default
resolver (`getattr`), checks the value for awaitability and walks the type wrappers to
the scalar's `serialize`. For a field with no resolver, no arguments, no extensions, no
permission classes, no directives and a scalar or enum type, all of that reduces to
"read the attribute, serialize it" (`attribute_read_by` in app/library_internals.py
tells those fields apart, once per schema). That is what `PlainFieldsExecutionContext`
does, field by field, and for an object whose selected fields are all plain (a list row,
typically) in one loop. Every case it is not sure of (a null where the schema forbids
one, an exception, an awaitable, a value `serialize` refuses) goes to the general path
unchanged, which then produces exactly the result and error it always did.
`tests/unit/test_plain_fields.py` (hypothesis, a schema built for the purpose, and
fields that a permission class or an extension guards) and
`tests/api/test_plain_fields_api.py` (the served schema) compare the two paths.
"""

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from weakref import WeakKeyDictionary

from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLLeafType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    Undefined,
    is_leaf_type,
)
from graphql.pyutils import Path

from app.library_internals import (
    FieldDetailsList,
    GeneralExecutionContext,
    GroupedFieldSet,
    attribute_read_by,
)


@dataclass(frozen=True, slots=True)
class PlainField:
    attribute: str  # the Python attribute Strawberry's default resolver reads
    serialize: Callable[[Any], Any]
    nullable: bool


PlainFields = dict[str, dict[str, PlainField]]  # parent type name -> field name -> plan
_plans: "WeakKeyDictionary[GraphQLSchema, PlainFields]" = WeakKeyDictionary()


def _plain(field: GraphQLField) -> PlainField | None:
    attribute = attribute_read_by(field)
    if attribute is None or field.args:
        return None
    nullable = not isinstance(field.type, GraphQLNonNull)
    named = field.type if nullable else field.type.of_type  # type: ignore[union-attr]
    if not is_leaf_type(named):
        return None
    leaf: GraphQLLeafType = named
    return PlainField(attribute, _serializer(leaf), nullable)


def _serializer(leaf: GraphQLLeafType) -> Callable[[Any], Any]:
    """`leaf.serialize`, with a Python enum's members looked up in a table made by it.

    Strawberry's enum serializer compares the member's value with each GraphQL value in
    turn (and an enum's `.value` is a slow descriptor); the table holds what it returned.
    """
    wrapped = getattr(leaf, "wrapped_cls", None)
    if not isinstance(leaf, GraphQLEnumType) or not isinstance(wrapped, enum.EnumMeta):
        return leaf.serialize
    members: list[enum.Enum] = list(wrapped)
    names = {member: leaf.serialize(member) for member in members}
    general = leaf.serialize

    def serialize(value: Any) -> Any:
        return names[value] if type(value) is wrapped else general(value)

    return serialize


def plain_fields(schema: GraphQLSchema) -> PlainFields:
    """Every plain field of every object type in `schema`, worked out once per schema."""
    plans = _plans.get(schema)
    if plans is None:
        plans = {}
        for name, graphql_type in schema.type_map.items():
            if isinstance(graphql_type, GraphQLObjectType) and not name.startswith("__"):
                fields = {
                    field_name: plan
                    for field_name, field in graphql_type.fields.items()
                    if (plan := _plain(field)) is not None
                }
                if fields:
                    plans[name] = fields
        _plans[schema] = plans
    return plans


# What `_complete` returns when a value needs graphql-core's general path.
_GENERAL = object()
# Values of these exact types are never null, undefined, an exception or awaitable.
_SIMPLE = frozenset({str, int, float, bool})


class PlainFieldsExecutionContext(GeneralExecutionContext):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Middleware (a Strawberry extension with a `resolve` hook) wraps every resolver,
        # default ones included: no shortcut then. Strawberry always passes a manager.
        wrapped = self.middleware_manager is not None and self.middleware_manager.middlewares
        self._plain_fields = {} if wrapped else plain_fields(self.schema)

    def _complete(self, plan: PlainField, source: Any) -> Any:
        """The completed value of a plain field, or _GENERAL when it needs the long way."""
        try:
            value = getattr(source, plan.attribute)
            if type(value) in _SIMPLE:
                serialized = plan.serialize(value)
                return _GENERAL if serialized is None or serialized is Undefined else serialized
            if value is None:
                return None if plan.nullable else _GENERAL
            if value is Undefined or isinstance(value, Exception) or self.is_awaitable(value):
                return _GENERAL
            serialized = plan.serialize(value)
        except Exception:
            return _GENERAL  # the general path raises it again, as a located field error
        return _GENERAL if serialized is None or serialized is Undefined else serialized

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: GroupedFieldSet,
        position_context: Any,
    ) -> Any:
        # An object whose selected fields are all plain (a list row, typically) is
        # completed in one loop; on the first doubt the whole object goes the long way.
        fields = self._plain_fields.get(parent_type.name)
        if fields:
            results: dict[str, Any] = {}
            for response_name, field_details_list in grouped_field_set.items():
                name = field_details_list[0].node.name.value
                if name == "__typename":
                    results[response_name] = parent_type.name
                    continue
                plan = fields.get(name)
                value = _GENERAL if plan is None else self._complete(plan, source_value)
                if value is _GENERAL:
                    break
                results[response_name] = value
            else:
                return results
        return super().execute_fields(
            parent_type, source_value, path, grouped_field_set, position_context
        )

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: FieldDetailsList,
        path: Path,
        position_context: Any,
    ) -> Any:
        fields = self._plain_fields.get(parent_type.name)
        plan = fields.get(field_details_list[0].node.name.value) if fields else None
        if plan is not None:
            value = self._complete(plan, source)
            if value is not _GENERAL:
                return value
        return super().execute_field(
            parent_type, source, field_details_list, path, position_context
        )
