"""How each database writes JSON exactly as the API prints it.

PostgreSQL: `json_build_object` and `json_agg` (never jsonb, which reorders and merges
keys), `metadata` cast from jsonb to json so it is embedded rather than quoted.
SQLite: `json_object` and `json_group_array` over an ordered subquery (3.40 has no
ORDER BY inside aggregates), and `json(...)` wherever a JSON value crosses a subquery,
which forgets that a text is JSON. Both print date-times like `app.rfc3339.format`: UTC,
a six-digit fraction only when there is one, `Z`; SQLite stores them as
`YYYY-MM-DD HH:MM:SS.ffffff` (SQLAlchemy's format), PostgreSQL as timestamptz. Cursors
are `app.resolvers.cursors.encode_text` of that text and the id: SQLite calls it as a
function registered on each connection, PostgreSQL restates it (base64url of the JSON
array, unpadded).
"""

import re
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSON as PG_JSON
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncEngine

from app.resolvers import cursors

Expression = sa.ColumnElement[Any]
# graphql-core's `Name`: safe to write into SQL as a quoted literal.
_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]*")
# Both engines take at most about a hundred arguments per function call.
MAX_KEYS = 50
CURSOR_FUNCTION = "live_sessions_cursor"


class TooWide(Exception):
    """An object with more keys than one function call can build."""


def name(text: str) -> Expression:
    """A GraphQL name (a key, an enum value's name, a type's name) as a string constant."""
    if not _NAME.fullmatch(text):
        raise ValueError(f"not a GraphQL name: {text!r}")
    return sa.literal_column(f"'{text}'", sa.String)


def _constant(text: str) -> Expression:
    return sa.literal_column("'" + text.replace("'", "''") + "'", sa.String)


def _joined(*parts: Expression) -> Expression:
    """Texts joined with `||`: NULL if any part is."""
    joined = parts[0]
    for part in parts[1:]:
        joined = joined.op("||")(part)
    return joined


def _pairs(pairs: list[tuple[str, Expression]]) -> list[Expression]:
    if len(pairs) > MAX_KEYS:
        raise TooWide(f"{len(pairs)} keys")
    return [part for key, value in pairs for part in (name(key), value)]


class Dialect(Protocol):
    def object(self, pairs: list[tuple[str, Expression]]) -> Expression: ...

    def array(
        self, element: Expression, source: sa.FromClause, where: Expression, order: Expression
    ) -> Expression:
        """The elements of `source`'s rows that satisfy `where`, in `order`; [] for none."""
        ...

    def nested(self, subquery: sa.ScalarSelect[Any]) -> Expression:
        """A subquery returning one JSON value, embedded as JSON (null for no row)."""
        ...

    def boolean(self, condition: Expression) -> Expression: ...

    def boolean_column(self, column: Expression) -> Expression: ...

    def datetime(self, column: Expression) -> Expression: ...

    def json_column(self, column: Expression) -> Expression: ...

    def cursor(self, scheduled_at: Expression, session_id: Expression) -> Expression: ...

    def text(self, data: Expression) -> Expression:
        """The finished `data` object as text."""
        ...


class PostgreSQL:
    def object(self, pairs: list[tuple[str, Expression]]) -> Expression:
        return sa.func.json_build_object(*_pairs(pairs))

    def array(
        self, element: Expression, source: sa.FromClause, where: Expression, order: Expression
    ) -> Expression:
        aggregated = sa.func.json_agg(aggregate_order_by(element, order))
        empty = sa.cast(sa.literal_column("'[]'"), PG_JSON)
        return (
            sa.select(sa.func.coalesce(aggregated, empty))
            .select_from(source)
            .where(where)
            .scalar_subquery()
        )

    def nested(self, subquery: sa.ScalarSelect[Any]) -> Expression:
        return subquery

    def boolean(self, condition: Expression) -> Expression:
        return sa.case((condition, sa.true()), else_=sa.false())

    def boolean_column(self, column: Expression) -> Expression:
        return column

    def datetime(self, column: Expression) -> Expression:
        # `||` (not concat) so that a NULL instant stays NULL.
        utc = sa.func.timezone(_constant("UTC"), column)
        fraction = sa.case(
            (sa.func.to_char(utc, _constant("US")) == _constant("000000"), _constant("")),
            else_=sa.func.to_char(utc, _constant(".US")),
        )
        return _joined(
            sa.func.to_char(utc, _constant('YYYY-MM-DD"T"HH24:MI:SS')), fraction, _constant("Z")
        )

    def json_column(self, column: Expression) -> Expression:
        return sa.cast(column, PG_JSON)

    def cursor(self, scheduled_at: Expression, session_id: Expression) -> Expression:
        key = _joined(_constant('["'), scheduled_at, _constant('","'), session_id, _constant('"]'))
        base64 = sa.func.encode(sa.func.convert_to(key, _constant("UTF8")), _constant("base64"))
        # PostgreSQL breaks base64 into lines of 76; urlsafe alphabet; no padding.
        newline = sa.func.chr(sa.literal_column("10"))
        return sa.func.rtrim(
            sa.func.translate(base64, _constant("+/").op("||")(newline), _constant("-_")),
            _constant("="),
        )

    def text(self, data: Expression) -> Expression:
        return sa.cast(data, sa.Text)


class SQLite:
    def object(self, pairs: list[tuple[str, Expression]]) -> Expression:
        return sa.func.json_object(*_pairs(pairs))

    def array(
        self, element: Expression, source: sa.FromClause, where: Expression, order: Expression
    ) -> Expression:
        rows = sa.select(element.label("e")).select_from(source).where(where).order_by(order)
        ordered = rows.subquery()
        aggregated = sa.func.json_group_array(sa.func.json(ordered.c.e))
        return self.nested(sa.select(aggregated).scalar_subquery())

    def nested(self, subquery: sa.ScalarSelect[Any]) -> Expression:
        return sa.func.json(subquery)

    def boolean(self, condition: Expression) -> Expression:
        return sa.case(
            (condition, sa.func.json(_constant("true"))), else_=sa.func.json(_constant("false"))
        )

    def boolean_column(self, column: Expression) -> Expression:
        return sa.case((column.is_(None), sa.null()), else_=self.boolean(column != 0))

    def datetime(self, column: Expression) -> Expression:
        fraction = sa.func.substr(column, 20)
        return _joined(
            sa.func.replace(sa.func.substr(column, 1, 19), _constant(" "), _constant("T")),
            sa.case(
                (fraction.in_([_constant(""), _constant(".000000")]), _constant("")),
                else_=sa.func.substr(column, 20, 7),
            ),
            _constant("Z"),
        )

    def json_column(self, column: Expression) -> Expression:
        return sa.func.json(column)

    def cursor(self, scheduled_at: Expression, session_id: Expression) -> Expression:
        return sa.func.live_sessions_cursor(scheduled_at, session_id)

    def text(self, data: Expression) -> Expression:
        return data


def dialect_of(engine: AsyncEngine) -> Dialect | None:
    """The dialect for `engine`, or None for an engine compiled reads do not speak."""
    dialects: dict[str, Dialect] = {"postgresql": PostgreSQL(), "sqlite": SQLite()}
    return dialects.get(engine.dialect.name)


def prepare(engine: AsyncEngine) -> None:
    """Register what the dialect needs on every connection `engine` opens."""
    if engine.dialect.name != "sqlite":
        return

    @sa.event.listens_for(engine.sync_engine, "connect")
    def _register(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.create_function(CURSOR_FUNCTION, 2, _cursor, deterministic=True)


def _cursor(scheduled_at: str | None, session_id: str | None) -> str | None:
    if scheduled_at is None or session_id is None:
        return None
    return cursors.encode_text(scheduled_at, session_id)
