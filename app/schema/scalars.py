"""Scalars whose parsing is stricter than Strawberry's defaults."""

from datetime import datetime
from typing import Any

import strawberry
from strawberry.types.scalar import ScalarDefinition

from app import rfc3339
from app.errors import BadUserInput


class InvalidDateTimeInput(BadUserInput):
    """Raised during GraphQL input coercion; graphql-core keeps it as the original error."""


def _parse_datetime(value: Any) -> datetime:
    if not isinstance(value, str):
        raise InvalidDateTimeInput("must be a string in RFC 3339 format")
    try:
        return rfc3339.parse(value)
    except rfc3339.InvalidDateTime as error:
        raise InvalidDateTimeInput(str(error)) from None


DateTime: ScalarDefinition = strawberry.scalar(
    name="DateTime",
    description="An instant as an RFC 3339 date-time with a UTC offset; returned in UTC.",
    specified_by_url="https://datatracker.ietf.org/doc/html/rfc3339#section-5.6",
    serialize=rfc3339.format,
    parse_value=_parse_datetime,
)

SCALAR_MAP: dict[object, ScalarDefinition] = {datetime: DateTime}
