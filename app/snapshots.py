"""A session as plain values and as JSON, and back: for creates, idempotent replays and
change events."""

from collections import namedtuple
from typing import Any

import sqlalchemy as sa

from app import rfc3339
from app.models import Session, SessionKind, SessionStatus

_DATETIMES = ("scheduled_at", "started_at", "ended_at", "created_at", "updated_at")
# (column name, model attribute) for every sessions column: the column `metadata` is `meta`.
COLUMNS: list[tuple[str, str]] = [
    (prop.columns[0].key, prop.key) for prop in sa.inspect(Session).column_attrs
]
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


def columns_of(session: Any) -> dict[str, Any]:
    """The row to INSERT for a session (model instance or SessionValues)."""
    return {column: getattr(session, attribute) for column, attribute in COLUMNS}


def snapshot(session: Any) -> dict[str, Any]:
    """A session (model instance, SessionValues or row) as JSON-ready values."""
    data = {attribute: getattr(session, attribute) for _, attribute in COLUMNS}
    for name in _DATETIMES:
        if data[name] is not None:
            data[name] = rfc3339.format(data[name])
    data["kind"], data["status"] = str(data["kind"]), str(data["status"])
    return data


def restore(data: dict[str, Any]) -> Session:
    values = dict(data)
    for name in _DATETIMES:
        if values.get(name) is not None:
            values[name] = rfc3339.parse(values[name])
    values["kind"] = SessionKind(values["kind"])
    values["status"] = SessionStatus(values["status"])
    return Session(**values)
