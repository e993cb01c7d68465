"""A session as plain values and as JSON, and back: for creates, idempotent replays and
change events."""

import enum
from collections import namedtuple
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa

from app import rfc3339
from app.models import Session, UTCDateTime

# (column name, model attribute) for every sessions column: the column `metadata` is `meta`.
COLUMNS: list[tuple[str, str]] = [
    (prop.columns[0].key, prop.key) for prop in sa.inspect(Session).column_attrs
]
# Column name -> model attribute; plain data (NewSession, SessionChanges) uses column names.
ATTRIBUTES: dict[str, str] = dict(COLUMNS)
_DATETIMES = tuple(
    prop.key
    for prop in sa.inspect(Session).column_attrs
    if isinstance(prop.columns[0].type, UTCDateTime)
)
# Attribute -> its enum class, for the columns stored as an enum's values.
_ENUMS: dict[str, type[enum.Enum]] = {
    prop.key: prop.columns[0].type.enum_class
    for prop in sa.inspect(Session).column_attrs
    if isinstance(prop.columns[0].type, sa.Enum) and prop.columns[0].type.enum_class
}
# A new session's values under the model's attribute names, without the ORM: building a
# table model instance cost a fifth of a create request, for a row written once.
SessionValues = namedtuple(  # type: ignore[misc]
    "SessionValues", [attribute for _, attribute in COLUMNS]
)
_OPTIONAL = {name: field for name, field in Session.model_fields.items() if not field.is_required()}


def new_session_values(**given: Any) -> Any:
    """A SessionValues with `given`, and the model's defaults for the rest."""
    defaults = {
        name: field.get_default(call_default_factory=True)
        for name, field in _OPTIONAL.items()
        if name not in given
    }
    return SessionValues(**defaults, **given)


class SessionState(SimpleNamespace):
    """A session's values under the model's attribute names, to change in place: what a
    transaction holding the session's row lock works on and writes back, without the
    ORM's identity map and unit of work."""


def state_of(row: Any) -> SessionState:
    """The SessionState of a selected sessions row (selected by column name)."""
    return SessionState(**{attribute: getattr(row, column) for column, attribute in COLUMNS})


def values_of(session: Any) -> Any:
    """A SessionValues copy of a session's current values (a model instance changes on)."""
    return SessionValues(*[getattr(session, attribute) for _, attribute in COLUMNS])


def columns_of(session: Any) -> dict[str, Any]:
    """The row to INSERT for a session (model instance or SessionValues)."""
    return {column: getattr(session, attribute) for column, attribute in COLUMNS}


def snapshot(session: Any) -> dict[str, Any]:
    """A session (model instance, SessionValues or row) as JSON-ready values."""
    data = {attribute: getattr(session, attribute) for _, attribute in COLUMNS}
    for name in _DATETIMES:
        if data[name] is not None:
            data[name] = rfc3339.format(data[name])
    for name in _ENUMS:
        data[name] = str(data[name])
    return data


def restore(data: dict[str, Any]) -> Session:
    values = dict(data)
    for name in _DATETIMES:
        if values.get(name) is not None:
            values[name] = rfc3339.parse(values[name])
    for name, enum_class in _ENUMS.items():
        values[name] = enum_class(values[name])
    return Session(**values)
