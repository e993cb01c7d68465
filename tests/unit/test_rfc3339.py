"""app.rfc3339: exactly the RFC 3339 section 5.6 date-time, always returned in UTC."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app import rfc3339
from app.rfc3339 import InvalidDateTime

TEN_UTC = datetime(2030, 6, 1, 10, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("2030-06-01T10:00:00Z", TEN_UTC, id="utc-z"),
        pytest.param("2030-06-01t10:00:00z", TEN_UTC, id="lower-case-t-and-z"),
        pytest.param("2030-06-01T10:00:00+00:00", TEN_UTC, id="zero-offset"),
        pytest.param("2030-06-01T10:00:00-00:00", TEN_UTC, id="unknown-local-offset"),
        pytest.param("2030-06-01T12:00:00+02:00", TEN_UTC, id="positive-offset"),
        pytest.param("2030-06-01T04:30:00-05:30", TEN_UTC, id="negative-half-hour-offset"),
        pytest.param(
            "2030-06-01T23:30:00-05:00",
            datetime(2030, 6, 2, 4, 30, tzinfo=UTC),
            id="offset-crosses-midnight",
        ),
        pytest.param(
            "2030-06-01T10:00:00+23:59",
            datetime(2030, 5, 31, 10, 1, tzinfo=UTC),
            id="largest-offset",
        ),
        pytest.param(
            "2030-06-01T10:00:00.5Z",
            TEN_UTC.replace(microsecond=500_000),
            id="one-digit-fraction",
        ),
        pytest.param(
            "2030-06-01T10:00:00.000001Z",
            TEN_UTC.replace(microsecond=1),
            id="microsecond-fraction",
        ),
        pytest.param(
            "2030-06-01T10:00:00.123456789Z",
            TEN_UTC.replace(microsecond=123_456),
            id="nanoseconds-truncated-to-microseconds",
        ),
        pytest.param(
            "2030-06-01T10:00:00.9999999Z",
            TEN_UTC.replace(microsecond=999_999),
            id="fraction-truncated-not-rounded",
        ),
        pytest.param(
            "2016-12-31T23:59:60Z",
            datetime(2017, 1, 1, tzinfo=UTC),
            id="leap-second-folds-into-next-second",
        ),
        pytest.param(
            "2016-12-31T18:59:60-05:00",
            datetime(2017, 1, 1, tzinfo=UTC),
            id="leap-second-with-offset",
        ),
        pytest.param(
            "2016-12-31T23:59:60.25Z",
            datetime(2017, 1, 1, 0, 0, 0, 250_000, tzinfo=UTC),
            id="leap-second-keeps-fraction",
        ),
        pytest.param("2028-02-29T00:00:00Z", datetime(2028, 2, 29, tzinfo=UTC), id="leap-day"),
        pytest.param("0001-01-01T00:00:00Z", datetime(1, 1, 1, tzinfo=UTC), id="earliest"),
        pytest.param(
            "9999-12-31T23:59:59.999999Z",
            datetime(9999, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
            id="latest",
        ),
    ],
)
def test_valid_date_time_parses_to_the_utc_instant(text: str, expected: datetime) -> None:
    parsed = rfc3339.parse(text)

    assert parsed == expected
    assert parsed.tzinfo is UTC


def test_offset_is_converted_to_utc_wall_clock() -> None:
    parsed = rfc3339.parse("2030-06-01T12:00:00+02:00")

    assert (parsed.hour, parsed.utcoffset()) == (10, timedelta(0))


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("", id="empty"),
        pytest.param("20300601T100000Z", id="basic-format"),
        pytest.param("2030-06-01", id="date-only"),
        pytest.param("10:00:00Z", id="time-only"),
        pytest.param("2030-06-01T10:00:00", id="no-offset"),
        pytest.param("2030-06-01 10:00:00Z", id="space-instead-of-t"),
        pytest.param("2030-06-01_10:00:00Z", id="other-separator"),
        pytest.param("2030-06-01T10:00Z", id="no-seconds"),
        pytest.param("2030-06-01T10:00:00+0200", id="offset-without-colon"),
        pytest.param("2030-06-01T10:00:00+02", id="offset-hours-only"),
        pytest.param("2030-06-01T10:00:00+02:00:00", id="offset-with-seconds"),
        pytest.param("2030-06-01T10:00:00UTC", id="named-zone"),
        pytest.param("2030-06-01T10:00:00.Z", id="empty-fraction"),
        pytest.param("2030-06-01T10:00:00,5Z", id="comma-fraction"),
        pytest.param("2030-6-1T10:00:00Z", id="single-digit-month-and-day"),
        pytest.param("+2030-06-01T10:00:00Z", id="signed-year"),
        pytest.param("12030-06-01T10:00:00Z", id="five-digit-year"),
        pytest.param("2030-13-01T10:00:00Z", id="month-13"),
        pytest.param("2030-00-01T10:00:00Z", id="month-0"),
        pytest.param("2030-06-00T10:00:00Z", id="day-0"),
        pytest.param("2030-06-31T10:00:00Z", id="june-31"),
        pytest.param("2030-02-30T10:00:00Z", id="february-30"),
        pytest.param("2030-02-29T10:00:00Z", id="february-29-outside-leap-year"),
        pytest.param("2030-06-01T24:00:00Z", id="hour-24"),
        pytest.param("2030-06-01T10:60:00Z", id="minute-60"),
        pytest.param("2030-06-01T10:00:61Z", id="second-61"),
        pytest.param("2030-06-01T10:00:00+24:00", id="offset-hour-24"),
        pytest.param("2030-06-01T10:00:00-24:00", id="negative-offset-hour-24"),
        pytest.param("2030-06-01T10:00:00+02:60", id="offset-minute-60"),
        pytest.param("0000-01-01T00:00:00Z", id="year-0"),
        pytest.param("0001-01-01T00:00:00+00:01", id="utc-before-year-1"),
        pytest.param("9999-12-31T23:59:59-00:01", id="utc-after-year-9999"),
        pytest.param("9999-12-31T23:59:60Z", id="leap-second-past-year-9999"),
        pytest.param(" 2030-06-01T10:00:00Z", id="leading-space"),
        pytest.param("2030-06-01T10:00:00Z ", id="trailing-space"),
        pytest.param("2030-06-01T10:00:00Z\n", id="trailing-newline"),
        pytest.param("\u0662\u0660\u0663\u0660-06-01T10:00:00Z", id="arabic-indic-year"),
        pytest.param("2030-06-01T\u0661\u0660:00:00Z", id="arabic-indic-hour"),
        pytest.param("2030-06-01T10:00:00.\u0665Z", id="arabic-indic-fraction"),
        pytest.param("2030-06-01T10:00:00+\u0660\u0662:00", id="arabic-indic-offset"),
        pytest.param("\uff12\uff10\uff13\uff10-06-01T10:00:00Z", id="fullwidth-year"),
    ],
)
def test_anything_but_an_rfc3339_date_time_is_refused(text: str) -> None:
    with pytest.raises(InvalidDateTime):
        rfc3339.parse(text)


def test_invalid_date_time_is_a_value_error() -> None:
    assert issubclass(InvalidDateTime, ValueError)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(datetime(2030, 6, 1, 10, tzinfo=UTC), "2030-06-01T10:00:00Z", id="utc"),
        pytest.param(
            datetime(2030, 6, 1, 12, tzinfo=timezone(timedelta(hours=2))),
            "2030-06-01T10:00:00Z",
            id="offset-rendered-in-utc",
        ),
        pytest.param(
            datetime(2030, 6, 1, 10, 0, 0, 123_456, tzinfo=UTC),
            "2030-06-01T10:00:00.123456Z",
            id="microseconds-kept",
        ),
    ],
)
def test_format_renders_utc_with_z(value: datetime, expected: str) -> None:
    assert rfc3339.format(value) == expected


def test_format_refuses_a_naive_datetime() -> None:
    with pytest.raises(ValueError, match="naive"):
        rfc3339.format(datetime(2030, 6, 1, 10))


@pytest.mark.parametrize("value", [None, 42, 1.5, [], {}, TEN_UTC])
def test_non_strings_are_left_to_other_keywords(value: object) -> None:
    assert rfc3339.is_valid(value) is True


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2030-06-01T10:00:00Z", True),
        ("2030-06-01t12:00:00.5+02:00", True),
        ("2030-06-01T10:00:00", False),
        ("2030-02-30T10:00:00Z", False),
        ("", False),
    ],
)
def test_strings_are_valid_exactly_when_they_parse(value: str, expected: bool) -> None:
    assert rfc3339.is_valid(value) is expected


_FIXED_OFFSETS = st.integers(min_value=-(24 * 60 - 1), max_value=24 * 60 - 1).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)
_AWARE = st.datetimes(
    # A day's margin at each end: the UTC conversion must stay inside datetime's range.
    min_value=datetime(1, 1, 2),
    max_value=datetime(9999, 12, 30),
    timezones=st.one_of(st.timezones(), _FIXED_OFFSETS),
)


@given(_AWARE)
def test_format_then_parse_is_the_same_instant(value: datetime) -> None:
    text = rfc3339.format(value)
    parsed = rfc3339.parse(text)

    assert text.endswith("Z")
    # Compared in UTC: PEP 495 makes inter-zone == False for times in a DST fold or gap.
    assert parsed == value.astimezone(UTC)
    assert parsed.tzinfo is UTC


@given(
    st.from_regex(
        r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?"
        r"([Zz]|[+-][0-9]{2}:[0-9]{2})",
        fullmatch=True,
    )
)
def test_grammatical_text_parses_to_utc_or_raises_invalid_date_time(text: str) -> None:
    try:
        parsed = rfc3339.parse(text)
    except InvalidDateTime:
        return
    assert parsed.tzinfo is UTC
