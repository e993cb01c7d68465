"""Every list a client passes as an argument holds at most MAX_LIST_ITEMS items.

Coercing a list costs time and memory per item before any resolver can refuse it, and
a long enough list of statuses breaks PostgreSQL's limit of 32,767 bind parameters. So
lists are measured where graphql-core meets them: literal ones while validating (by the
input type at that point, so a list inside a `JSON` value is data, not a list input),
and variables before they are coerced, by walking each value along its declared type.
"""

from collections.abc import Mapping
from typing import Any

from graphql import (
    DocumentNode,
    GraphQLError,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLSchema,
    ListValueNode,
    OperationDefinitionNode,
    ValidationRule,
)
from graphql.utilities import type_from_ast

from app.errors import BadUserInput

MAX_LIST_ITEMS = 100


def _too_long(where: str, count: int) -> BadUserInput:
    return BadUserInput(f"holds {count} items; at most {MAX_LIST_ITEMS} are allowed", field=where)


class ListInputLengthRule(ValidationRule):
    """Literal lists given where the schema expects a list."""

    def enter_list_value(self, node: ListValueNode, *_: object) -> None:
        # TypeInfo has entered the list already: its input type is the items' type.
        expected = self.context.get_parent_input_type()
        if isinstance(expected, GraphQLNonNull):
            expected = expected.of_type
        if isinstance(expected, GraphQLList) and len(node.values) > MAX_LIST_ITEMS:
            error = _too_long("list", len(node.values))
            self.report_error(GraphQLError(error.message, node, original_error=error))


def check_variable_lists(
    schema: GraphQLSchema,
    document: DocumentNode | None,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
) -> None:
    """Raises BadUserInput for a list variable, or a list inside one, that is too long."""
    if not variables or document is None:
        return
    operation = _operation(document, operation_name)
    for definition in (operation.variable_definitions or ()) if operation else ():
        name = definition.variable.name.value
        type_ = type_from_ast(schema, definition.type)
        if name in variables and type_ is not None:
            _check(variables[name], type_, name)  # type: ignore[arg-type]


def _operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode | None:
    """The operation graphql-core will run, or None when it will refuse to choose."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name is None:
        return operations[0] if len(operations) == 1 else None
    return next((o for o in operations if o.name and o.name.value == name), None)


def _check(value: Any, type_: GraphQLInputType, where: str) -> None:
    if isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    if isinstance(type_, GraphQLList):
        if not isinstance(value, list):
            return  # a single item stands for a list of one; coercion judges it
        if len(value) > MAX_LIST_ITEMS:
            raise _too_long(where, len(value))
        for index, item in enumerate(value):
            _check(item, type_.of_type, f"{where}.{index}")
    elif isinstance(type_, GraphQLInputObjectType) and isinstance(value, dict):
        for field_name, field in type_.fields.items():
            if field_name in value:
                _check(value[field_name], field.type, f"{where}.{field_name}")
