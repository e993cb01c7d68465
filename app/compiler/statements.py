"""A rendered statement compiled once, then executed with each request's values.

Compiling the SELECT that builds a page's JSON took longer than the database took to run
it, so the SQL text is kept per plan, dialect and shape, and each request only binds its
values: positionally, in the compiled order, each processed as its type would be (an
enum to its stored value, a date-time to what the column stores). The text goes to the
driver as it is (`exec_driver_sql`), which skips SQLAlchemy's statement handling; on
PostgreSQL asyncpg also keeps the prepared statement per connection, by text.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect as EngineDialect
from sqlalchemy.ext.asyncio import AsyncConnection

Processor = Callable[[Any], Any] | None


class NotPositional(Exception):
    """A dialect whose statements do not take positional parameters."""


@dataclass(frozen=True)
class CompiledStatement:
    sql: str
    names: tuple[str, ...]  # the positional parameters, in order
    processors: tuple[Processor, ...]
    # Parameters no Binds named (constants of the statement, such as an OFFSET of 0).
    constants: Mapping[str, Any]

    def arguments(self, values: Mapping[str, Any]) -> tuple[Any, ...]:
        """The positional arguments for `values`, by parameter name."""
        return tuple(
            _processed(process, values[name] if name in values else self.constants[name])
            for name, process in zip(self.names, self.processors, strict=True)
        )

    async def scalar(self, connection: AsyncConnection, values: Mapping[str, Any]) -> Any:
        result = await connection.exec_driver_sql(self.sql, self.arguments(values))
        return result.scalar()


def _processed(process: Processor, value: Any) -> Any:
    return value if process is None else process(value)


def compile_statement(statement: sa.Select[Any], dialect: EngineDialect) -> CompiledStatement:
    compiled = statement.compile(dialect=dialect)
    if compiled.positiontup is None:
        raise NotPositional(dialect.name)
    names = tuple(compiled.positiontup)
    binds = {name: compiled.binds[name] for name in names}
    return CompiledStatement(
        compiled.string,
        names,
        tuple(binds[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names),
        {name: bind.effective_value for name, bind in binds.items()},
    )
