"""The plain-field shortcut gives exactly what graphql-core's general path gives.

A small schema whose sources hold every kind of value a plain field can meet (good
values, nulls where the schema forbids them, values `serialize` refuses, exceptions,
awaitables, attributes that raise), queried with random selections, aliases, fragments
and directives: data and errors (message, path, locations) must match field for field.
A second schema holds fields Strawberry marks as having its default resolver although
something else runs when they are read (a permission class that denies, an extension);
none of them may take the shortcut.
"""

import asyncio
import enum
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
import strawberry
from graphql import GraphQLError
from hypothesis import given, settings
from hypothesis import strategies as st
from strawberry.extensions import FieldExtension
from strawberry.permission import BasePermission
from strawberry.resolvers import is_default_resolver
from strawberry.schema_directive import Location
from strawberry.types import ExecutionResult, Info

from app.library_internals import GeneralExecutionContext, graphql_core_schema
from app.schema.execution import PlainField, PlainFieldsExecutionContext, plain_fields
from app.schema.scalars import SCALAR_MAP


@strawberry.enum
class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Raises:
    def __get__(self, instance: object, owner: type | None = None) -> Any:
        raise ValueError("the attribute itself failed")


class Later:
    """An awaitable (and not a coroutine, which would warn when a query skips it)."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def __await__(self) -> Any:
        return self.value
        yield


@strawberry.type
class Item:
    name: str
    note: str | None
    count: int
    ratio: float | None
    flag: bool
    colour: Colour
    maybe_colour: Colour | None
    at: datetime
    maybe_at: datetime | None
    ident: strawberry.ID

    @strawberry.field
    def echo(self, text: str) -> str:
        return text


@strawberry.type
class Holder:
    items: list[Item]
    first: Item | None


FIELDS = [
    "name",
    "note",
    "count",
    "ratio",
    "flag",
    "colour",
    "maybeColour",
    "at",
    "maybeAt",
    "ident",
]
AT = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
# Per field: values the shortcut must serialize, and values it must hand back untouched.
GOOD: dict[str, list[Any]] = {
    "name": ["a", ""],
    "note": ["n", None],
    "count": [0, -3, 2**31 - 1],
    "ratio": [0.5, 3, None],
    "flag": [True, False],
    "colour": [Colour.RED],
    "maybe_colour": [Colour.BLUE, None],
    "at": [AT],
    "maybe_at": [AT, None],
    "ident": ["x1", 7],
}
BAD: list[Any] = [
    None,  # a null where the field is non-null (harmless where nullable)
    2**40,  # out of Int range
    "not-an-enum",
    "red",  # an enum member's raw value, not the member
    float("nan"),
    ValueError("an exception as the value"),
    "awaitable",  # replaced by a coroutine at query time
    "raises",  # replaced by an attribute that raises
    object(),
]
PYTHON_NAMES = {
    "maybeColour": "maybe_colour",
    "maybeAt": "maybe_at",
}


def _python(field: str) -> str:
    return PYTHON_NAMES.get(field, field)


@dataclass
class Case:
    values: dict[str, Any]
    selection: list[tuple[str | None, str, str | None]]  # (alias, field, directive)
    use_fragment: bool
    typename: bool


def _source(values: dict[str, Any]) -> Item:
    fields = dict(values)
    awaited = [name for name, value in fields.items() if value == "awaitable"]
    raising = [name for name, value in fields.items() if value == "raises"]
    for name in awaited + raising:
        fields[name] = None
    cls: type[Any] = Item
    if raising:
        cls = type("RaisingItem", (Item,), {name: Raises() for name in raising})
        item = object.__new__(cls)
        for name, value in fields.items():
            if name not in raising:
                object.__setattr__(item, name, value)
    else:
        item = Item(**fields)
    for name in awaited:
        object.__setattr__(item, name, Later(GOOD[name][0]))
    return item


values_strategy = st.fixed_dictionaries(
    {_python(field): st.sampled_from(GOOD[_python(field)] + BAD) for field in FIELDS}
)
selection_strategy = st.lists(
    st.tuples(
        st.one_of(st.none(), st.sampled_from(["a", "b", "c"])),
        st.sampled_from(FIELDS),
        st.sampled_from([None, "@include(if: true)", "@skip(if: true)", "@include(if: $on)"]),
    ),
    min_size=1,
    max_size=8,
)


# Every query uses $on, whatever the selection, so none is invalid for an unused variable.
ROOT_USES_ON = "on: __typename @include(if: $on)"


def _query(case: Case) -> str:
    parts = []
    for alias, field, directive in case.selection:
        # One alias per field name, so selections never conflict (a validation error).
        parts.append(f"{alias + '_' + field + ': ' if alias else ''}{field} {directive or ''}")
    body = " ".join(parts) + (" __typename" if case.typename else "")
    if case.use_fragment:
        return (
            f"query($on: Boolean!) {{ first {{ ...F }} items {{ ...F }} {ROOT_USES_ON} }} "
            f"fragment F on Item {{ {body} }}"
        )
    return (
        f'query($on: Boolean!) {{ first {{ {body} }} items {{ {body} echo(text: "e") }} '
        f"{ROOT_USES_ON} }}"
    )


def _schema(context_class: type[Any]) -> strawberry.Schema:
    return strawberry.Schema(
        query=Holder,
        config=strawberry.schema.config.StrawberryConfig(scalar_map=SCALAR_MAP),
        execution_context_class=context_class,
    )


PLAIN = _schema(PlainFieldsExecutionContext)
GENERAL = _schema(GeneralExecutionContext)


def _outcome(result: ExecutionResult) -> tuple[Any, list[dict[str, Any]]]:
    errors: list[GraphQLError] = result.errors or []
    return result.data, sorted(
        (error.formatted for error in errors), key=lambda error: str(error.get("path"))
    )


async def _run(schema: strawberry.Schema, case: Case, on: bool) -> tuple[Any, Any]:
    items = [_source(case.values), _source(case.values)]
    root = Holder(items=items, first=_source(case.values))
    result = await schema.execute(_query(case), variable_values={"on": on}, root_value=root)
    return _outcome(result)


@settings(max_examples=300, deadline=None)
@given(
    values=values_strategy,
    selection=selection_strategy,
    use_fragment=st.booleans(),
    typename=st.booleans(),
    on=st.booleans(),
)
def test_plain_fields_match_the_general_path_for_any_value_and_selection(
    values: dict[str, Any],
    selection: list[tuple[str | None, str, str | None]],
    use_fragment: bool,
    typename: bool,
    on: bool,
) -> None:
    case = Case(values, selection, use_fragment, typename)
    plain = asyncio.run(_run(PLAIN, case, on))
    assert plain == asyncio.run(_run(GENERAL, case, on))
    _, errors = plain
    assert all("path" in error for error in errors)  # executed, not refused as invalid


def test_only_fields_that_read_an_attribute_are_plain() -> None:
    plans = plain_fields(graphql_core_schema(PLAIN))
    assert set(plans["Item"]) == set(FIELDS)  # not `echo`: it has a resolver and arguments
    assert "Holder" not in plans  # lists and objects take the general path


@pytest.mark.parametrize("value", [None, 2**40, ValueError("boom")])
def test_a_refused_value_gives_the_general_paths_error(value: Any) -> None:
    values = {_python(field): GOOD[_python(field)][0] for field in FIELDS} | {"count": value}
    case = Case(values, [(None, "count", None)], use_fragment=False, typename=False)
    plain = asyncio.run(_run(PLAIN, case, on=True))
    assert plain == asyncio.run(_run(GENERAL, case, on=True))
    data, errors = plain
    assert data is None  # a non-null failure nulls the parent, and the parent is non-null
    assert errors
    assert all(error["path"][-1] == "count" for error in errors)


class Deny(BasePermission):
    message = "not for this caller"

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return False


class Shout(FieldExtension):
    def resolve(self, next_: Any, source: Any, info: Info, **kwargs: Any) -> Any:
        return next_(source, info, **kwargs).upper()


@strawberry.schema_directive(locations=[Location.FIELD_DEFINITION])
class Tag:
    name: str


@strawberry.type
class Guarded:
    name: str
    # No resolver of their own: Strawberry marks all three as default-resolved.
    secret: str = strawberry.field(permission_classes=[Deny])
    loud: str = strawberry.field(extensions=[Shout()])
    tagged: str = strawberry.field(directives=[Tag(name="t")])


@strawberry.type
class GuardedQuery:
    guarded: Guarded


GUARDED = GuardedQuery(guarded=Guarded(name="n", secret="the secret", loud="quiet", tagged="t"))
GUARDED_FIELDS = ["secret", "loud", "tagged"]


def _guarded_schema(context_class: type[Any]) -> strawberry.Schema:
    return strawberry.Schema(query=GuardedQuery, execution_context_class=context_class)


GUARDED_PLAIN = _guarded_schema(PlainFieldsExecutionContext)
GUARDED_GENERAL = _guarded_schema(GeneralExecutionContext)


async def _guarded_outcome(schema: strawberry.Schema, query: str) -> tuple[Any, Any]:
    return _outcome(await schema.execute(query, root_value=GUARDED))


def test_fields_strawberry_marks_default_but_guards_are_not_plain() -> None:
    graphql_schema = graphql_core_schema(GUARDED_PLAIN)
    fields = graphql_schema.type_map["Guarded"].fields  # type: ignore[attr-defined]
    # The mark alone, which the shortcut once trusted, would have let all of them in.
    assert all(is_default_resolver(fields[name].resolve) for name in ["name", *GUARDED_FIELDS])
    assert set(plain_fields(graphql_schema)["Guarded"]) == {"name"}


# Alone, first, last and aliased: the whole-object loop and the field-by-field path.
SECRET_SELECTIONS = ["secret", "secret name", "name secret", "n: name s: secret"]


@pytest.mark.parametrize("selection", SECRET_SELECTIONS)
async def test_a_field_with_a_permission_class_is_denied_as_on_the_general_path(
    selection: str,
) -> None:
    query = f"{{ guarded {{ {selection} }} }}"
    plain = await _guarded_outcome(GUARDED_PLAIN, query)
    assert plain == await _guarded_outcome(GUARDED_GENERAL, query)
    data, errors = plain
    assert data is None  # the non-null `secret` failed, and so did its non-null parent
    assert [error["message"] for error in errors] == [Deny.message]


async def test_a_denying_field_would_be_served_if_it_took_the_shortcut() -> None:
    """Why the classification matters: the shortcut itself never asks permission."""

    class Unguarded(PlainFieldsExecutionContext):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._plain_fields = {"Guarded": {"secret": PlainField("secret", str, False)}}

    result = await _guarded_schema(Unguarded).execute("{ guarded { secret } }", root_value=GUARDED)
    assert result.errors is None
    assert result.data == {"guarded": {"secret": "the secret"}}


@pytest.mark.parametrize("selection", ["loud", "name loud", "tagged", "name tagged loud"])
async def test_fields_with_an_extension_or_a_directive_read_as_on_the_general_path(
    selection: str,
) -> None:
    query = f"{{ guarded {{ {selection} }} }}"
    plain = await _guarded_outcome(GUARDED_PLAIN, query)
    assert plain == await _guarded_outcome(GUARDED_GENERAL, query)
    data, errors = plain
    assert not errors
    assert data["guarded"].get("loud", "QUIET") == "QUIET"
