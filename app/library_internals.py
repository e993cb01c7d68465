"""Everything the service takes from inside Strawberry and graphql-core, in one place.

Checked against strawberry-graphql 0.341.2 and graphql-core 3.3.2. pyproject.toml
allows only those minors (`CHECKED`), and tests/unit/test_library_internals.py fails
when the installed versions, the bounds or constraints.txt's pins leave them, or when a
module other than this one imports a private or unexported name. Upgrading either
library means reading each entry below against its new source, then moving the bounds.

Unexported means absent from the `__all__` of the module it comes from; private means
an underscored name or attribute. Names from Strawberry's type machinery and schema
builder that the shortcuts below mirror come from here too, exported or not, so one
file says what an upgrade has to check.

Shortcuts, and the tests that prove each equal to the library's own path
------------------------------------------------------------------------
- The plain-field shortcut (app/schema/execution.py, `PlainFieldsExecutionContext`):
  reads an attribute and serializes it where graphql-core would build a resolve-info
  and call Strawberry's default resolver. It relies on `GeneralExecutionContext`,
  graphql-core's `execute_fields(parent_type, source_value, path, grouped_field_set,
  position_context)` and `execute_field(parent_type, source, field_details_list, path,
  position_context)`, and on `attribute_read_by` below. Proven by
  tests/unit/test_plain_fields.py::test_plain_fields_match_the_general_path_for_any_value_and_selection,
  tests/unit/test_plain_fields.py::test_a_field_with_a_permission_class_is_denied_as_on_the_general_path,
  tests/unit/test_plain_fields.py::test_fields_with_an_extension_or_a_directive_read_as_on_the_general_path
  and tests/api/test_plain_fields_api.py::test_every_session_field_reads_the_same_on_both_paths.
- Input objects built from a plan (app/schema/input_plans.py, `PlannedInput`):
  installed as a type's `from_input`, the hook Strawberry calls with the coerced value
  and an `InputContext`; mirrors which values `convert_argument` passes through
  unchanged. Proven by
  tests/unit/test_input_plans.py::test_the_services_inputs_are_built_as_strawberry_builds_them
  and tests/unit/test_input_plans.py::test_fields_strawberry_converts_are_left_to_it.

- Compiled reads (app/compiler/): answer a whole query with one SQL statement. They
  turn graphql-core's coerced arguments into a resolver's keyword arguments with
  Strawberry's own `convert_arguments` (`resolver_arguments` below), so a filter is
  exactly the object the resolver would get, and find a field's Strawberry definition
  through `GraphQLCoreConverter.DEFINITION_BACKREF` (`strawberry_field_of`). Proven by
  tests/api/test_compiled_reads.py::test_compiled_answers_equal_ordinary_execution.

Other reliance, no shortcut: `graphql_core_schema` (the schema our validation rules
walk), `DEFAULT_ALLOWED_OPERATION_TYPES` (what `Schema.execute` allows when given
nothing), `EnterLeaveVisitor` (what a validation rule returns per node kind), and
`ConnectionRejectionError`, documented by Strawberry but missing from its `__all__`.
"""

from typing import Any

from graphql import GraphQLField, GraphQLSchema
from graphql.execution.collect_fields import FieldDetailsList, GroupedFieldSet
from graphql.language.visitor import EnterLeaveVisitor
from strawberry import Schema
from strawberry.exceptions import ConnectionRejectionError
from strawberry.resolvers import is_default_resolver
from strawberry.scalars import is_scalar
from strawberry.schema.schema import (
    DEFAULT_ALLOWED_OPERATION_TYPES,
    StrawberryGraphQLCoreExecutionContext,
)
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.arguments import InputContext, convert_arguments
from strawberry.types.base import (
    StrawberryMaybe,
    StrawberryObjectDefinition,
    StrawberryOptional,
    has_object_definition,
)
from strawberry.types.enum import StrawberryEnumDefinition, has_enum_definition
from strawberry.types.field import StrawberryField

# Library -> the minor this module was checked against, and the release read.
CHECKED = {
    "strawberry-graphql": ("0.341", "0.341.2"),
    "graphql-core": ("3.3", "3.3.2"),
}

# Strawberry's execution context: graphql-core's, plus operation extensions and its
# resolve-info class. The plain-field shortcut subclasses it; tests run it as is.
GeneralExecutionContext = StrawberryGraphQLCoreExecutionContext


def graphql_core_schema(schema: Schema) -> GraphQLSchema:
    """The graphql-core schema Strawberry built and executes against."""
    return schema._schema


def strawberry_field_of(field: GraphQLField) -> StrawberryField | None:
    """The Strawberry definition a graphql-core field was built from."""
    definition = field.extensions.get(GraphQLCoreConverter.DEFINITION_BACKREF)
    return definition if isinstance(definition, StrawberryField) else None


def resolver_arguments(
    schema: Schema, field: GraphQLField, values: dict[str, Any]
) -> dict[str, Any] | None:
    """The keyword arguments Strawberry would call `field`'s resolver with, given the
    argument values graphql-core coerced; None for a field Strawberry did not build."""
    definition = strawberry_field_of(field)
    if definition is None:
        return None
    registry = schema.schema_converter.scalar_registry
    return convert_arguments(values, definition.arguments, registry, schema.config)


def attribute_read_by(field: GraphQLField) -> str | None:
    """The Python attribute Strawberry answers `field` with, when that is all it does.

    Strawberry marks a field's resolver as default (`is_default_resolver`, the private
    `_is_default`) whenever the field has no resolver of its own, even when field
    extensions or permission classes wrap it; reading the attribute then would skip
    them. So the mark counts only with no extensions, no permission classes (which
    Strawberry turns into an extension) and no directives: Strawberry itself ignores a
    field's schema directives when reading it, but whatever acts on one acts through
    the resolver, so a field carrying one is refused rather than judged.
    """
    definition = strawberry_field_of(field)
    if definition is None:
        return None
    if (
        definition.base_resolver is not None
        or definition.extensions
        or definition.permission_classes
        or definition.directives
        or definition.default_resolver is not getattr
        or field.resolve is None
        or not is_default_resolver(field.resolve)
    ):
        return None
    return definition.python_name


__all__ = [
    "CHECKED",
    "DEFAULT_ALLOWED_OPERATION_TYPES",
    "ConnectionRejectionError",
    "EnterLeaveVisitor",
    "FieldDetailsList",
    "GeneralExecutionContext",
    "GroupedFieldSet",
    "InputContext",
    "StrawberryEnumDefinition",
    "StrawberryMaybe",
    "StrawberryObjectDefinition",
    "StrawberryOptional",
    "attribute_read_by",
    "graphql_core_schema",
    "has_enum_definition",
    "has_object_definition",
    "is_scalar",
    "resolver_arguments",
    "strawberry_field_of",
]
