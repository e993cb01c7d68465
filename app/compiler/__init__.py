"""Compiled reads: a query inside a known subset answered by one SQL statement.

The database builds the finished `data` JSON (PostgreSQL would otherwise send rows that
Python turns into objects, resolves field by field and encodes again), and the bytes it
returns are the answer. It is an execution strategy, not a second schema:

    validated document ──► planner.plan ──► Plan (cached by text and operation name)
                                 │ outside the subset: None, cached too
    Plan + variables ───► calls.root_calls ──► the root fields' statements, their values
                                 │ an argument the resolvers refuse: None
    shape (calls.shape_of) ──► cached CompiledStatement, or render.Renderer ──► one
                               SELECT (dialects: PostgreSQL, SQLite), compiled once
    SQL text + values ──► the database ──► CompiledData (the `data` JSON, as bytes)

Building and compiling the SELECT cost several times what the database takes to run it,
so it happens once per shape; a request computes its values and runs the kept text.

Whenever this returns None the operation goes through ordinary execution, unchanged;
that includes any error while rendering or running the statement, which is logged.
OperationPolicy (app/schema/extensions.py) calls `answer` after parsing, validation,
authentication and the variable checks, inside the operation's time limit, so limits,
metrics and logs are the same either way. tests/api/test_compiled_reads.py proves the
answers equal to ordinary execution's over generated documents and data.
"""

import logging
from collections.abc import Mapping
from typing import Any

from cachetools import LRUCache
from graphql import DocumentNode, GraphQLError
from graphql.execution.values import get_variable_values
from strawberry import Schema

from app.compiler.calls import Unexpressible, root_calls, shape_of
from app.compiler.dialects import TooWide, dialect_of, prepare
from app.compiler.planner import Plan, plan
from app.compiler.render import Renderer
from app.compiler.statements import CompiledStatement, NotPositional, compile_statement
from app.db import Database
from app.errors import DomainError
from app.library_internals import graphql_core_schema
from app.resolvers.views import viewer_is

logger = logging.getLogger(__name__)

__all__ = ["CompiledData", "Compiler", "prepare"]


class CompiledData(bytes):
    """The `data` member of a response, JSON text as the database wrote it."""


class Compiler:
    """Plans per document, statements per plan, dialect and shape (bounded LRUs), and
    answers from them."""

    def __init__(self, schema: Schema, maxsize: int = 1024) -> None:
        self._schema = schema
        self._plans: LRUCache[tuple[str, str | None], Plan | None] = LRUCache(maxsize)
        self._statements: LRUCache[tuple[object, ...], CompiledStatement] = LRUCache(maxsize)

    def plan_for(
        self, query: str, document: DocumentNode, operation_name: str | None
    ) -> Plan | None:
        key = (query, operation_name)
        if key in self._plans:
            return self._plans[key]
        found = plan(graphql_core_schema(self._schema), document, operation_name)
        self._plans[key] = found
        return found

    async def answer(
        self,
        *,
        query: str,
        document: DocumentNode,
        operation_name: str | None,
        variables: Mapping[str, Any] | None,
        db: Database,
        user_id: str,
    ) -> CompiledData | None:
        """The operation's `data`, or None to have it executed the ordinary way."""
        found = self.plan_for(query, document, operation_name)
        dialect = dialect_of(db.engine)
        if found is None or dialect is None:
            return None
        coerced = get_variable_values(
            graphql_core_schema(self._schema),
            found.operation.variable_definitions or (),
            dict(variables or {}),
        )
        if isinstance(coerced, list):
            return None  # ordinary execution reports the variables' errors
        try:
            calls = root_calls(self._schema, found, coerced)
            key = (query, operation_name, db.engine.dialect.name, shape_of(found, coerced, calls))
            statement = self._statements.get(key)
            if statement is None:
                rendered = Renderer(self._schema, found, coerced, dialect, calls).statement()
                statement = compile_statement(rendered, db.engine.dialect)
                self._statements[key] = statement
            values = viewer_is(user_id)
            for call in calls:
                values.update(call.bind.values)
            async with db.single_statement() as connection:
                data = await statement.scalar(connection, values)
        except (DomainError, GraphQLError, Unexpressible, TooWide, NotPositional):
            return None  # refused or too wide to build: ordinary execution answers
        except Exception:
            logger.warning("a compiled read failed; executing it the ordinary way", exc_info=True)
            return None
        if not isinstance(data, str):
            logger.warning("a compiled read returned %s; executing it the ordinary way", type(data))
            return None
        return CompiledData(data.encode())
