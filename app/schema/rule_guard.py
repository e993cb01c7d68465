"""Validation rules that fail are validation failures, never server errors.

A rule that raises (a library's rule meeting a document it did not expect, such as
Strawberry's depth limiter on a spread of an unknown fragment) would otherwise escape
`validate` and be answered as INTERNAL_SERVER_ERROR with a traceback per request. A
guarded rule reports the document as not validated instead, logs one WARNING, and
stops visiting; graphql-core's other rules go on.
"""

import functools
import logging
from collections.abc import Callable
from typing import Any

from graphql import GraphQLError, ValidationContext, ValidationRule
from graphql.language import BREAK

from app.library_internals import EnterLeaveVisitor

logger = logging.getLogger("app.graphql")

Handler = Callable[..., Any]


def guarded(rule: type[ValidationRule]) -> type[ValidationRule]:
    """`rule`, failing closed. One rule always gets the same guard, which keeps the
    rule tuple equal between requests (ValidationCache's key)."""
    guard = _GUARDS.get(rule)
    if guard is None:
        guard = _GUARDS[rule] = _guard(rule)
    return guard


_GUARDS: dict[type[ValidationRule], type[ValidationRule]] = {}


def _guard(rule: type[ValidationRule]) -> type[ValidationRule]:

    class GuardedRule(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            self._inner: ValidationRule | None = None
            try:
                self._inner = rule(context)
            except Exception as error:
                self._fail(error)

        def get_enter_leave_for_kind(self, kind: str) -> EnterLeaveVisitor:
            if self._inner is None:
                return EnterLeaveVisitor(None, None)
            inner = self._inner.get_enter_leave_for_kind(kind)
            return EnterLeaveVisitor(self._guard(inner.enter), self._guard(inner.leave))

        def _guard(self, handler: Handler | None) -> Handler | None:
            if handler is None:
                return None

            def guarded_handler(*args: Any) -> Any:
                try:
                    return handler(*args)
                except Exception as error:
                    self._fail(error)
                    return BREAK

            return guarded_handler

        def _fail(self, error: Exception) -> None:
            logger.warning(
                "validation rule %s failed on a document (%s: %s); the document is refused",
                rule.__name__,
                type(error).__name__,
                error,
            )
            self.report_error(GraphQLError("the document could not be validated"))

    GuardedRule.__name__ = GuardedRule.__qualname__ = f"Guarded{rule.__name__}"
    return GuardedRule


@functools.lru_cache(maxsize=8)
def guard_all(rules: tuple[type[ValidationRule], ...]) -> tuple[type[ValidationRule], ...]:
    """Every rule guarded; the same tuple back for the same rules, on every request."""
    return tuple(guarded(rule) for rule in rules)
