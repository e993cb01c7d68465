"""RFC 3339 date-times: the one strict parser both transports use, and the one formatter.

`datetime.fromisoformat` is not a validator (it takes basic format, date-only and
offset-less strings), so parsing follows the RFC 3339 grammar (section 5.6) exactly.
"""

import re
from datetime import UTC, datetime, timedelta, timezone

_RFC3339 = re.compile(
    r"(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})[Tt]"
    r"(?P<hour>\d{2}):(?P<minute>\d{2}):(?P<second>\d{2})(?:\.(?P<fraction>\d+))?"
    r"(?P<offset>[Zz]|[+-]\d{2}:\d{2})",
    re.ASCII,
)


class InvalidDateTime(ValueError):
    """The text is not an RFC 3339 date-time with a UTC offset."""


def parse(text: str) -> datetime:
    """Parse an RFC 3339 date-time and return it as an aware datetime in UTC."""
    match = _RFC3339.fullmatch(text)
    if match is None:
        raise InvalidDateTime(
            "must be an RFC 3339 date-time with a UTC offset, like 2030-06-01T10:00:00Z"
        )
    parts = match.groupdict()
    offset = _parse_offset(parts["offset"])
    second = int(parts["second"])
    # A leap second (23:59:60) is valid RFC 3339; POSIX time folds it into the next second.
    leap = timedelta(seconds=1) if second == 60 else timedelta(0)
    if leap:
        second = 59
    fraction = (parts["fraction"] or "")[:6].ljust(6, "0")
    try:
        local = datetime(
            int(parts["year"]),
            int(parts["month"]),
            int(parts["day"]),
            int(parts["hour"]),
            int(parts["minute"]),
            second,
            int(fraction),
            tzinfo=offset,
        )
        return (local + leap).astimezone(UTC)
    except (ValueError, OverflowError) as error:
        raise InvalidDateTime(f"is not a valid date-time: {error}") from None


def _parse_offset(text: str) -> timezone:
    if text in ("Z", "z"):
        return UTC
    hours, minutes = int(text[1:3]), int(text[4:6])
    if hours > 23 or minutes > 59:
        raise InvalidDateTime("has an out-of-range UTC offset")
    delta = timedelta(hours=hours, minutes=minutes)
    return timezone(-delta if text[0] == "-" else delta)


def is_valid(value: object) -> bool:
    """For JSON Schema's `date-time` format: non-strings are another keyword's business."""
    if not isinstance(value, str):
        return True
    try:
        parse(value)
    except InvalidDateTime:
        return False
    return True


def format(value: datetime) -> str:
    """Format an aware datetime as RFC 3339 in UTC with a `Z` suffix."""
    if value.tzinfo is None:
        raise ValueError("refusing to format a naive datetime")
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
