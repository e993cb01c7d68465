"""A depth limit for introspection, which Strawberry's QueryDepthLimiter skips.

QueryDepthLimiter ignores every `__`-prefixed field, so `__schema { types { fields {
type { ofType { ofType ... } } } } }` nests without bound. This rule bounds the
depth below `__schema` and `__type`; GraphiQL's standard introspection query needs 15.
"""

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
)
from graphql.language import SKIP, VisitorAction

INTROSPECTION_ROOTS = frozenset({"__schema", "__type"})


def introspection_depth_rule(max_depth: int) -> type[ValidationRule]:
    class IntrospectionDepthRule(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            self._context = context

        def enter_field(self, node: FieldNode, *_: object) -> VisitorAction:
            if node.name.value not in INTROSPECTION_ROOTS:
                return None
            if self._depth(node.selection_set, frozenset(), 1, max_depth) > max_depth:
                self.report_error(
                    GraphQLError(
                        f"introspection deeper than {max_depth} levels is not allowed", node
                    )
                )
            return SKIP

        def _depth(
            self,
            selections: SelectionSetNode | None,
            visited: frozenset[str],
            depth: int,
            limit: int,
        ) -> int:
            """The depth reached below this selection set, stopping once past `limit`."""
            if selections is None or depth > limit:
                return depth
            deepest = depth
            for selection in selections.selections:
                if isinstance(selection, FieldNode):
                    below = depth + 1 if selection.selection_set else depth
                    reached = self._depth(selection.selection_set, visited, below, limit)
                elif isinstance(selection, InlineFragmentNode):
                    reached = self._depth(selection.selection_set, visited, depth, limit)
                elif isinstance(selection, FragmentSpreadNode):
                    name = selection.name.value
                    fragment = self._context.get_fragment(name)
                    if fragment is None or name in visited:
                        continue  # unknown or cyclic: other rules report those
                    reached = self._depth(fragment.selection_set, visited | {name}, depth, limit)
                else:
                    continue
                deepest = max(deepest, reached)
                if deepest > limit:
                    break
            return deepest

    return IntrospectionDepthRule
