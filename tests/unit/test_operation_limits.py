"""The operation limits measure each fragment once and agree with the rules they replace."""

import logging

import pytest
from graphql import (
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    TokenKind,
    ValidationContext,
    ValidationRule,
    parse,
    specified_rules,
    validate,
)
from graphql.language import Lexer, Source
from hypothesis import given, settings
from hypothesis import strategies as st
from strawberry.extensions import max_aliases, query_depth_limiter

from app.config import Settings
from app.library_internals import graphql_core_schema
from app.schema import build_schema
from app.schema.limits import DocumentMeasurer, LimitExceeded, Limits, operation_limits_rule
from app.schema.rule_guard import guard_all, guarded

SCHEMA: GraphQLSchema = graphql_core_schema(build_schema(Settings.model_construct()))
DEFAULTS = Settings.model_construct()
UNBOUNDED = Limits(
    max_depth=10**9, max_aliases=10**9, max_introspection_depth=10**9, max_cost=10**9
)


def tokens(document: str) -> int:
    lexer = Lexer(Source(document))
    count = 0
    while lexer.advance().kind != TokenKind.EOF:
        count += 1
    return count


def measure(document: str, limits: Limits = UNBOUNDED) -> tuple[DocumentMeasurer, str | None]:
    """The measurer after checking `document`, and the first limit it reported."""
    parsed = parse(document)
    fragments = {
        d.name.value: d for d in parsed.definitions if isinstance(d, FragmentDefinitionNode)
    }
    operations = [d for d in parsed.definitions if isinstance(d, OperationDefinitionNode)]
    measurer = DocumentMeasurer(SCHEMA, fragments, limits)
    try:
        measurer.check(operations)
    except LimitExceeded as exceeded:
        return measurer, exceeded.message
    return measurer, None


def fan_out(chain: int, branch: int, on: str = "Query", leaf: str = "__typename") -> str:
    """`...F0`, each fragment spreading the next `branch` times: branch^chain copies."""
    parts = ["query Bomb { ...F0 }"]
    for i in range(chain - 1):
        parts.append(f"fragment F{i} on {on} {{ " + " ".join([f"...F{i + 1}"] * branch) + " }")
    parts.append(f"fragment F{chain - 1} on {on} {{ {leaf} }}")
    return "\n".join(parts)


def nested_fan_out(chain: int, branch: int) -> str:
    """Fan-out inside a list, each fragment also selecting fields and aliases."""
    parts = ["query Nested { sessions(first: 5) { edges { node { ...F0 } } } }"]
    for i in range(chain - 1):
        spreads = " ".join([f"...F{i + 1}"] * branch)
        parts.append(f"fragment F{i} on Session {{ id t{i}: title {spreads} }}")
    parts.append(f"fragment F{chain - 1} on Session {{ status }}")
    return "\n".join(parts)


@settings(max_examples=60, deadline=None)
@given(
    chain=st.integers(1, 40),
    branch=st.integers(2, 4),
    shape=st.sampled_from([fan_out, nested_fan_out]),
    bounded=st.booleans(),
)
def test_limit_rules_visit_each_selection_of_the_text_at_most_once(
    chain: int, branch: int, shape: object, bounded: bool
) -> None:
    assert callable(shape)
    document: str = shape(chain, branch)
    limits = _default_limits() if bounded else UNBOUNDED

    measurer, _ = measure(document, limits)

    # Expanded, the document holds up to 4^39 selections; the walk stays within its text.
    assert 0 < measurer.visits <= tokens(document)


def test_a_fragment_bomb_is_refused_by_validation_with_its_cost() -> None:
    bomb = fan_out(16, 3)
    assert len(bomb) < 800

    errors = validate(SCHEMA, parse(bomb), [operation_limits_rule(_default_limits())])

    assert len(errors) == 1
    assert "the operation costs at least" in errors[0].message
    assert "over the limit of 10000" in errors[0].message


def test_cost_weighs_each_list_by_its_first() -> None:
    document = "{ sessions(first: 10) { edges { node { id title } } } }"
    # 1 (sessions) + 10 * (1 (edges) + 1 * (1 (node) + 2))
    assert measure(document, _limits(max_cost=41))[1] is None
    assert "costs at least" in str(measure(document, _limits(max_cost=40))[1])


@pytest.mark.parametrize(
    ("first", "weight"),
    [("", 20), ("(first: 3)", 3), ("(first: 1000)", 100), ("(first: $n)", 100)],
)
def test_first_defaults_to_the_schema_default_and_a_variable_counts_as_the_maximum(
    first: str, weight: int
) -> None:
    document = f"query Q($n: Int!) {{ sessions{first} {{ edges {{ cursor }} }} }}"
    cost = 1 + weight * 2

    assert measure(document, _limits(max_cost=cost))[1] is None
    assert measure(document, _limits(max_cost=cost - 1))[1] is not None


def test_graphiql_introspection_query_fits_the_default_limits() -> None:
    from graphql import get_introspection_query

    document = get_introspection_query(descriptions=True)

    assert measure(document, _default_limits())[1] is None


def test_unknown_and_cyclic_fragments_are_left_to_graphql_cores_rules() -> None:
    for document in ("{ ...Nope }", "{ ...A } fragment A on Query { ...A __typename }"):
        errors = validate(SCHEMA, parse(document), guard_all((*specified_rules, _rule())))

        assert errors, document
        assert all("could not be validated" not in error.message for error in errors)


# The rules replaced: Strawberry's depth and alias limiters, whose verdicts ours must keep.
FIELDS = ["id", "title", "__typename", "registeredCount"]


@st.composite
def small_documents(draw: st.DrawFn) -> str:
    """Documents over `sessions`, with nested fragments (no cycles), aliases, inline
    fragments and introspection fields; small enough for the exponential rules."""
    fragment_count = draw(st.integers(0, 3))

    def selections(level: int, fragments_from: int) -> str:
        items = []
        for i in range(draw(st.integers(1, 3))):
            kind = draw(st.sampled_from(["field", "alias", "spread", "inline", "nested"]))
            if kind == "spread" and fragments_from < fragment_count:
                items.append(f"...S{draw(st.integers(fragments_from, fragment_count - 1))}")
            elif kind == "inline" and level < 3:
                items.append(f"... on Session {{ {selections(level + 1, fragments_from)} }}")
            elif kind == "alias":
                items.append(f"a{level}_{i}: {draw(st.sampled_from(FIELDS))}")
            else:
                items.append(draw(st.sampled_from(FIELDS)))
        return " ".join(items)

    fragments = [
        f"fragment S{n} on Session {{ {selections(0, n + 1)} }}" for n in range(fragment_count)
    ]
    spread = " ".join(f"...S{n}" for n in range(fragment_count))
    alias = draw(st.sampled_from(["", "list: "]))
    operation = f"{{ {alias}sessions {{ edges {{ node {{ id {spread} }} }} }} }}"
    return "\n".join([operation, *fragments])


@settings(max_examples=200, deadline=None)
@given(
    document=small_documents(), max_depth=st.integers(1, 4), max_aliases_allowed=st.integers(0, 6)
)
def test_depth_and_alias_verdicts_match_strawberrys_limiters(
    document: str, max_depth: int, max_aliases_allowed: int
) -> None:
    parsed = parse(document)
    their_depth = validate(
        SCHEMA, parsed, [query_depth_limiter.create_validator(max_depth, None, None)]
    )
    their_aliases = validate(SCHEMA, parsed, [max_aliases.create_validator(max_aliases_allowed)])
    our_depth = validate(SCHEMA, parsed, [_rule(max_depth=max_depth)])
    our_aliases = validate(SCHEMA, parsed, [_rule(max_aliases=max_aliases_allowed)])

    assert bool(their_depth) == bool(our_depth), (document, their_depth, our_depth)
    assert bool(their_aliases) == bool(our_aliases), (document, their_aliases, our_aliases)
    if their_depth:
        assert our_depth[0].message == their_depth[0].message


def test_introspection_deeper_than_the_limit_is_refused_inside_fragments() -> None:
    type_ref = "fragment T on __Type { ofType { ofType { ofType { name } } } }"
    document = f"{{ __schema {{ types {{ fields {{ type {{ ...T }} }} }} }} }} {type_ref}"

    assert measure(document, _limits(max_introspection_depth=7))[1] is None
    assert "introspection deeper than 6" in str(
        measure(document, _limits(max_introspection_depth=6))[1]
    )


class ExplodingRule(ValidationRule):
    def enter_field(self, *_: object) -> None:
        raise KeyError("Nope")


class ExplodingAtStartRule(ValidationRule):
    def __init__(self, context: ValidationContext) -> None:
        raise RuntimeError("cannot start")


@pytest.mark.parametrize("rule", [ExplodingRule, ExplodingAtStartRule])
def test_a_rule_that_raises_refuses_the_document_and_warns_once(
    rule: type[ValidationRule], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="app.graphql"):
        errors = validate(SCHEMA, parse("{ __typename a: __typename }"), [guarded(rule)])

    assert [error.message for error in errors] == ["the document could not be validated"]
    assert all(isinstance(error, GraphQLError) for error in errors)
    assert [record.levelname for record in caplog.records] == ["WARNING"]
    assert rule.__name__ in caplog.records[0].getMessage()


def _limits(**overrides: int) -> Limits:
    values = {
        "max_depth": 10**9,
        "max_aliases": 10**9,
        "max_introspection_depth": 10**9,
        "max_cost": 10**9,
    }
    values.update(overrides)
    return Limits(**values)


def _default_limits() -> Limits:
    return Limits(
        max_depth=DEFAULTS.graphql_max_depth,
        max_aliases=DEFAULTS.graphql_max_aliases,
        max_introspection_depth=DEFAULTS.graphql_max_introspection_depth,
        max_cost=DEFAULTS.graphql_max_cost,
    )


def _rule(**overrides: int) -> type[ValidationRule]:
    return operation_limits_rule(_limits(**overrides))
