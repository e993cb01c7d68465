"""app.schema.input_plans: a planned input is exactly what Strawberry would build.

Each case builds the same coerced input value twice, through the plan and through
Strawberry's own conversion (the type's `from_input` unset), and compares them: the
service's input types, and an input type with every kind of field the plan must hand
back to Strawberry (lists, nested inputs, GlobalID, renamed fields), under the
default naming and with auto_camel_case off.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC
from typing import Any

import pytest
import strawberry
from hypothesis import given, settings
from hypothesis import strategies as st
from strawberry.relay import GlobalID
from strawberry.scalars import JSON
from strawberry.schema.config import StrawberryConfig
from strawberry.types.arguments import convert_argument
from strawberry.types.base import has_object_definition

from app.config import Settings
from app.schema import build_schema
from app.schema.enums import SessionKind, SessionStatus
from app.schema.input_plans import PlannedInput, plan_inputs
from app.schema.inputs import CreateSessionInput, SessionFilter, UpdateSessionInput


@strawberry.input
class Inner:
    count: int
    tags: list[str] | None = None


@strawberry.input
class Unusual:
    plain: str
    renamed: str | None = strawberry.field(default=None, name="otherName")
    kinds: list[SessionKind] | None = None
    inner: Inner | None = None
    inners: list[Inner] | None = None
    global_id: GlobalID | None = None
    unset_default: str | None = strawberry.UNSET
    data: JSON | None = None


plan_inputs(Inner, Unusual)


@strawberry.type
class Query:
    @strawberry.field
    def echo(self, value: Unusual) -> str:
        return value.plain


SERVICE = build_schema(Settings.model_construct())
DEFAULT_NAMES = strawberry.Schema(Query)
PYTHON_NAMES = strawberry.Schema(Query, config=StrawberryConfig(auto_camel_case=False))


@contextmanager
def strawberrys_own_conversion(*input_types: type) -> Iterator[None]:
    definitions = [t.__strawberry_definition__ for t in input_types if has_object_definition(t)]
    planned = [definition.from_input for definition in definitions]
    for definition in definitions:
        definition.from_input = None
    try:
        yield
    finally:
        for definition, from_input in zip(definitions, planned, strict=True):
            definition.from_input = from_input


def both_ways(
    schema: strawberry.Schema, input_type: type, value: dict[str, Any]
) -> tuple[Any, Any]:
    converter = schema.schema_converter

    def build() -> Any:
        return convert_argument(value, input_type, converter.scalar_registry, schema.config)

    planned = build()
    with strawberrys_own_conversion(input_type, Inner):
        strawberrys = build()
    return planned, strawberrys


texts = st.text(max_size=5)
instants = st.datetimes(timezones=st.just(UTC))
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | texts,
    lambda children: st.lists(children, max_size=2) | st.dictionaries(texts, children, max_size=2),
    max_leaves=5,
)


def inputs(required: dict[str, Any], optional: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """Coerced input values: every required field, any subset of the optional ones."""
    return st.fixed_dictionaries(required, optional=optional)


create_inputs = inputs(
    {
        "hostId": texts,
        "brandId": texts,
        "title": texts,
        "scheduledAt": instants,
        "maxParticipants": st.integers(),
    },
    {
        "kind": st.sampled_from(SessionKind),
        "metadata": st.none() | json_values,
        "category": st.none() | texts,
        "waitlistEnabled": st.booleans(),
    },
)
update_inputs = inputs(
    {},
    {
        "title": st.none() | texts,
        "scheduledAt": st.none() | instants,
        "maxParticipants": st.none() | st.integers(),
        "kind": st.none() | st.sampled_from(SessionKind),
        "category": st.none() | texts,
        "metadata": st.none() | json_values,
        "waitlistEnabled": st.none() | st.booleans(),
    },
)
filter_inputs = inputs(
    {},
    {
        "brandId": st.none() | texts,
        "hostId": st.none() | texts,
        "status": st.none() | st.lists(st.sampled_from(SessionStatus), max_size=3),
        "kind": st.none() | st.sampled_from(SessionKind),
        "scheduledFrom": st.none() | instants,
        "scheduledTo": st.none() | instants,
        "registeredOnly": st.none() | st.booleans(),
    },
)


@settings(max_examples=150)
@given(
    st.one_of(
        st.tuples(st.just(CreateSessionInput), create_inputs),
        st.tuples(st.just(UpdateSessionInput), update_inputs),
        st.tuples(st.just(SessionFilter), filter_inputs),
    )
)
def test_the_services_inputs_are_built_as_strawberry_builds_them(
    case: tuple[type, dict[str, Any]],
) -> None:
    input_type, value = case

    planned, strawberrys = both_ways(SERVICE, input_type, value)

    assert type(planned) is type(strawberrys) is input_type
    assert planned == strawberrys


def unusual_inputs(python_names: bool) -> st.SearchStrategy[dict[str, Any]]:
    def name(camel: str, snake: str) -> str:
        return snake if python_names else camel

    inner = inputs({"count": st.integers()}, {"tags": st.none() | st.lists(texts, max_size=2)})
    return inputs(
        {"plain": texts},
        {
            "otherName": st.none() | texts,
            "kinds": st.none() | st.lists(st.sampled_from(SessionKind), max_size=2),
            "inner": st.none() | inner,
            "inners": st.none() | st.lists(inner, max_size=2),
            name("globalId", "global_id"): st.none()
            | st.builds(lambda n: str(GlobalID("Session", str(n))), st.integers(0)),
            name("unsetDefault", "unset_default"): st.none() | texts,
            "data": st.none() | json_values,
        },
    )


@pytest.mark.parametrize(
    ("schema", "python_names"),
    [
        pytest.param(DEFAULT_NAMES, False, id="camel-case"),
        pytest.param(PYTHON_NAMES, True, id="python-names"),
    ],
)
@settings(max_examples=150)
@given(data=st.data())
def test_fields_strawberry_converts_are_left_to_it(
    schema: strawberry.Schema, python_names: bool, data: st.DataObject
) -> None:
    value = data.draw(unusual_inputs(python_names))

    planned, strawberrys = both_ways(schema, Unusual, value)

    assert planned == strawberrys
    assert (planned.kinds is None) or planned.kinds is not value.get("kinds")


def test_the_services_inputs_are_planned() -> None:
    for input_type in (CreateSessionInput, UpdateSessionInput, SessionFilter):
        assert isinstance(input_type.__strawberry_definition__.from_input, PlannedInput)


def test_an_input_with_maybe_fields_is_not_planned() -> None:
    # Strawberry checks `Maybe` nulls in the document only for types without from_input.
    @strawberry.input
    class WithMaybe:
        count: strawberry.Maybe[int]

    with pytest.raises(TypeError, match="Maybe"):
        plan_inputs(WithMaybe)
    assert WithMaybe.__strawberry_definition__.from_input is None


def test_each_schema_plans_with_its_own_names() -> None:
    camel, _ = both_ways(DEFAULT_NAMES, Unusual, {"plain": "x", "unsetDefault": "y"})
    python, _ = both_ways(PYTHON_NAMES, Unusual, {"plain": "x", "unset_default": "y"})
    foreign, _ = both_ways(DEFAULT_NAMES, Unusual, {"plain": "x", "unset_default": "y"})

    assert camel.unset_default == python.unset_default == "y"
    assert foreign.unset_default is strawberry.UNSET
