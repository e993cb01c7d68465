"""Input objects built from a plan made once, not worked out again for every request.

Strawberry turns an input value into its class by resolving each field's type and
GraphQL name on every request; for `createSession` that was a tenth of the request.
A plan made on first use (per schema configuration) keeps the result exact and the
work small: fields whose values Strawberry passes through unchanged (scalars, enums,
optional or not) are copied, any other field is converted by Strawberry itself
(`InputContext.convert`), and the class is called as Strawberry calls it. Installed
through `from_input`, the hook Strawberry offers input types that build their own
value; tests/unit/test_input_plans.py compares both ways of building.
"""

from collections.abc import Mapping
from dataclasses import MISSING
from typing import Any, NamedTuple

from strawberry.relay import GlobalID

from app.library_internals import (
    InputContext,
    StrawberryEnumDefinition,
    StrawberryMaybe,
    StrawberryObjectDefinition,
    StrawberryOptional,
    has_enum_definition,
    has_object_definition,
    is_scalar,
)

_PLANS_KEPT = 8


class _Field(NamedTuple):
    graphql_name: str
    python_name: str
    type_: Any
    passed_through: bool  # Strawberry would hand the value over unchanged


class _Plan(NamedTuple):
    nulls: dict[str, None]  # fields without a default start as None, as in Strawberry
    fields: tuple[_Field, ...]


class PlannedInput:
    """The `from_input` of one input type."""

    def __init__(self, definition: StrawberryObjectDefinition) -> None:
        self._definition = definition
        self._plans: dict[tuple[int, int], tuple[object, object, _Plan]] = {}

    def __call__(self, cls: type, value: Mapping[str, Any], context: InputContext) -> Any:
        plan = self._plan_for(context)
        kwargs: dict[str, Any] = dict(plan.nulls)
        for field in plan.fields:
            if field.graphql_name in value:
                given = value[field.graphql_name]
                kwargs[field.python_name] = (
                    given
                    if field.passed_through
                    else context.convert(given, field.type_, field.graphql_name)
                )
        return cls(**kwargs)

    def _plan_for(self, context: InputContext) -> _Plan:
        # The entry holds the config and registry, so their ids stay theirs while it lives.
        key = (id(context.config), id(context.scalar_registry))
        cached = self._plans.get(key)
        if cached is not None:
            return cached[2]
        plan = self._make_plan(context)
        if len(self._plans) >= _PLANS_KEPT:  # a server has one schema; tests build many
            self._plans.clear()
        self._plans[key] = (context.config, context.scalar_registry, plan)
        return plan

    def _make_plan(self, context: InputContext) -> _Plan:
        definition = self._definition
        nulls = {
            field.python_name: None
            for field in definition.fields
            if field.default_value is MISSING and field.default_factory is MISSING
        }
        fields = []
        for field in definition.fields:
            type_ = field.resolve_type(type_definition=definition)
            fields.append(
                _Field(
                    context.config.name_converter.from_field(field),
                    field.python_name,
                    type_,
                    _passed_through(type_, context.scalar_registry),
                )
            )
        return _Plan(nulls, tuple(fields))


def _passed_through(type_: Any, scalar_registry: Mapping[object, Any]) -> bool:
    """Whether Strawberry's convert_argument returns a value of this type as it is."""
    if _has_maybe(type_):  # wrapped in Some()
        return False
    if isinstance(type_, StrawberryOptional):
        type_ = type_.of_type
    if type_ is GlobalID:  # decoded from its string
        return False
    return (
        is_scalar(type_, scalar_registry)
        or isinstance(type_, StrawberryEnumDefinition)
        or has_enum_definition(type_)
    )


def plan_inputs(*input_types: type) -> None:
    """Build these input types from plans (see the module's docstring)."""
    for input_type in input_types:
        assert has_object_definition(input_type)
        definition = input_type.__strawberry_definition__
        assert definition.is_input
        if any(_has_maybe(field.type) for field in definition.fields):
            # Strawberry leaves the null check of Maybe fields to types with from_input.
            raise TypeError(f"{definition.name} has Maybe fields: it cannot be planned")
        definition.from_input = PlannedInput(definition)


def _has_maybe(type_: Any) -> bool:
    return isinstance(type_, StrawberryMaybe) or (
        isinstance(type_, StrawberryOptional) and isinstance(type_.of_type, StrawberryMaybe)
    )
