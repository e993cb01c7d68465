"""What one GraphQL document may ask for: depth, aliases, introspection depth and cost.

All four are properties of an operation with its fragments expanded, and expansion can
be exponential: fifteen fragments that each spread the next one three times are 3^15
copies in 700 bytes. Strawberry's QueryDepthLimiter and MaxAliasesLimiter walk every
copy (25 s of CPU for that document, before any token is checked). Here each fragment
is measured once per document and its measure reused wherever it is spread, so the
work is one visit per selection in the document's text, whatever its fragments do;
and the walk stops as soon as the aliases or the cost so far exceed their limits
(the depths are known when an operation's walk ends, which is linear anyway).

    depth       levels of nested ordinary fields; introspection (`__`) fields are
                leaves, as in Strawberry's QueryDepthLimiter (whose message we keep)
    height      levels of nested fields of any kind, bounding the depth below
                `__schema` and `__type`, which the depth ignores
    aliases     aliased fields in the whole document, fragments expanded
    cost        fields after expansion, each list weighted by its `first` argument:
                cost(f) = 1 + weight(f) * cost(f's selections)

A spread of an unknown fragment, or one that cycles back, measures as nothing here:
graphql-core's own rules report those, and a limit rule must never fail on them.
"""

from dataclasses import dataclass, field

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLType,
    InlineFragmentNode,
    IntValueNode,
    Node,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
    get_named_type,
)
from graphql.type.introspection import SchemaMetaFieldDef, TypeMetaFieldDef
from graphql.utilities import type_from_ast

INTROSPECTION_ROOTS = frozenset({"__schema", "__type"})
_META_FIELDS = {"__schema": SchemaMetaFieldDef, "__type": TypeMetaFieldDef}
# A list's weight when its `first` is a variable or has no default; also the most
# `first` may be anywhere in this schema.
MAX_PAGE = 100


@dataclass(frozen=True)
class Limits:
    max_depth: int
    max_aliases: int
    max_introspection_depth: int
    max_cost: int


@dataclass(frozen=True)
class Measure:
    """One selection set, fragments expanded."""

    depth: int = 0
    height: int = 0
    aliases: int = 0
    cost: int = 0


NOTHING = Measure()


class LimitExceeded(Exception):
    def __init__(self, message: str, node: Node | None = None) -> None:
        super().__init__(message)
        self.message, self.node = message, node


@dataclass
class DocumentMeasurer:
    """Measures a document's operations against `limits`; `visits` counts the
    selections it looked at, which is what makes its cost observable in tests."""

    schema: GraphQLSchema
    fragments: dict[str, FragmentDefinitionNode]
    limits: Limits
    visits: int = 0
    _measured: dict[str, Measure] = field(default_factory=dict)
    _measuring: set[str] = field(default_factory=set)
    _aliases: int = 0

    def check(self, operations: list[OperationDefinitionNode]) -> None:
        """Raises LimitExceeded at the first limit an operation exceeds."""
        for operation in operations:
            root = self.schema.get_root_type(operation.operation)
            measure = self.selection_set(operation.selection_set, root, operation)
            # Checked per operation, not per part: a fragment's fields do not count
            # towards the depth where it is spread below an introspection field.
            if measure.depth > self.limits.max_depth:
                name = operation.name.value if operation.name else "anonymous"
                raise LimitExceeded(
                    f"'{name}' exceeds maximum operation depth of {self.limits.max_depth}",
                    operation,
                )
            self._add_aliases(measure.aliases, operation)

    def selection_set(
        self,
        selections: SelectionSetNode,
        parent: GraphQLNamedType | None,
        operation: OperationDefinitionNode,
    ) -> Measure:
        depth = height = aliases = cost = 0
        for selection in selections.selections:
            self.visits += 1
            if isinstance(selection, FieldNode):
                measure = self._field(selection, parent, operation)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                inner = type_from_ast(self.schema, condition) if condition else parent
                measure = self.selection_set(
                    selection.selection_set, _named(inner) or parent, operation
                )
            elif isinstance(selection, FragmentSpreadNode):
                measure = self._fragment(selection.name.value, operation)
            else:  # pragma: no cover - graphql-core has no other selection kind
                continue
            depth = max(depth, measure.depth)
            height = max(height, measure.height)
            aliases += measure.aliases
            cost += measure.cost
            self._check_running(aliases, cost, selection)
        return Measure(depth, height, aliases, cost)

    def _field(
        self, node: FieldNode, parent: GraphQLNamedType | None, operation: OperationDefinitionNode
    ) -> Measure:
        name = node.name.value
        definition = _field_definition(parent, name)
        alias = 1 if node.alias else 0
        if node.selection_set is None:
            return Measure(aliases=alias, cost=1)
        child_type = get_named_type(definition.type) if definition else None
        below = self.selection_set(node.selection_set, child_type, operation)
        if name in INTROSPECTION_ROOTS and 1 + below.height > self.limits.max_introspection_depth:
            raise LimitExceeded(
                "introspection deeper than "
                f"{self.limits.max_introspection_depth} levels is not allowed",
                node,
            )
        ordinary = not name.startswith("__")
        return Measure(
            depth=1 + below.depth if ordinary else 0,
            height=1 + below.height,
            aliases=alias + below.aliases,
            cost=1 + _weight(node, definition) * below.cost,
        )

    def _fragment(self, name: str, operation: OperationDefinitionNode) -> Measure:
        measured = self._measured.get(name)
        if measured is not None:
            return measured
        fragment = self.fragments.get(name)
        if fragment is None or name in self._measuring:
            return NOTHING
        self._measuring.add(name)
        condition = _named(type_from_ast(self.schema, fragment.type_condition))
        measured = self.selection_set(fragment.selection_set, condition, operation)
        self._measuring.discard(name)
        self._measured[name] = measured
        return measured

    def _check_running(self, aliases: int, cost: int, node: Node) -> None:
        # Every part of an operation weighs at least 1, so a part over a limit is
        # enough to know the whole operation is: stop here rather than finish.
        self._add_aliases(0, node, pending=aliases)
        if cost > self.limits.max_cost:
            raise LimitExceeded(
                f"the operation costs at least {cost}, over the limit of "
                f"{self.limits.max_cost} (fields counted after fragments are expanded, "
                f"each list weighted by its `first`, {MAX_PAGE} when it is a variable)",
                node,
            )

    def _add_aliases(self, count: int, node: Node, *, pending: int = 0) -> None:
        self._aliases += count
        if self._aliases + pending > self.limits.max_aliases:
            raise LimitExceeded(
                f"more than {self.limits.max_aliases} aliases found. "
                f"Allowed: {self.limits.max_aliases}",
                node,
            )


def _named(type_: GraphQLType | None) -> GraphQLNamedType | None:
    return None if type_ is None else get_named_type(type_)


def _field_definition(parent: GraphQLNamedType | None, name: str) -> GraphQLField | None:
    if name in _META_FIELDS:
        return _META_FIELDS[name]
    if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
        definition: GraphQLField | None = parent.fields.get(name)
        return definition
    return None


def _weight(node: FieldNode, definition: GraphQLField | None) -> int:
    """How many items a list field may return: its `first`, else 1 (not a list we
    page, such as a connection's edges, already weighted by the connection)."""
    if definition is None or "first" not in definition.args:
        return 1
    given = next((arg.value for arg in node.arguments or () if arg.name.value == "first"), None)
    if given is None:
        default = definition.args["first"].default_value
        first = default if isinstance(default, int) else MAX_PAGE
    elif isinstance(given, IntValueNode):
        first = int(given.value)
    else:  # a variable: its value is not known while validating
        first = MAX_PAGE
    return min(max(first, 1), MAX_PAGE)


def operation_limits_rule(limits: Limits) -> type[ValidationRule]:
    class OperationLimitsRule(ValidationRule):
        """Reports the first limit the document exceeds; see the module docstring."""

        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            document = context.document
            fragments = {
                definition.name.value: definition
                for definition in document.definitions
                if isinstance(definition, FragmentDefinitionNode)
            }
            operations = [
                definition
                for definition in document.definitions
                if isinstance(definition, OperationDefinitionNode)
            ]
            measurer = DocumentMeasurer(context.schema, fragments, limits)
            try:
                measurer.check(operations)
            except LimitExceeded as exceeded:
                context.report_error(GraphQLError(exceeded.message, exceeded.node))

    return OperationLimitsRule
