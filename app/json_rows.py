"""Many rows as one JSON parameter (PostgreSQL): a statement whose text does not change
with the number of rows, so it is compiled and prepared once for any batch size."""

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB


def json_rows(param: str, name: str, *columns: sa.ColumnClause[Any]) -> sa.TableValuedAlias:
    """`jsonb_to_recordset(:param) AS name(column type, ...)`: bind a list of dicts, one
    per row, keyed by the columns' names."""
    return (
        sa.func.jsonb_to_recordset(sa.bindparam(param, type_=JSONB))
        .table_valued(*columns)
        .render_derived(name, with_types=True)
    )
