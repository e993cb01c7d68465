"""app.contract: the request schema's two validators agree on every body.

`request_errors` asks jsonschema-rs whether a body is valid and only then asks
jsonschema why not; a body one accepts and the other refuses would slip past the
contract or be refused with no reason.
"""

import contextlib
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from app.contract import REQUEST_SCHEMA, request_errors, request_gate, request_validator

# Built on first use (importing jsonschema takes up to a second): here, not inside an
# example that hypothesis times.
request_validator()

VALID = {
    "host_id": "host-1",
    "brand_id": "brand-1",
    "title": "Yoga",
    "scheduled_at": "2031-06-01T10:00:00Z",
    "max_participants": 20,
}

# Lone surrogates included: JSON can carry them, and jsonschema-rs cannot read them.
texts = st.text(st.characters(exclude_categories=()) | st.sampled_from("\ud800\udfffa"))
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | texts
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(texts, children, max_size=3),
    max_leaves=8,
)


def _digits(low: int, high: int, width: int) -> st.SearchStrategy[str]:
    return st.integers(low, high).map(lambda number: str(number).zfill(width))


# Near-misses of RFC 3339 as often as hits: out-of-range parts, other separators, offsets.
date_times = st.builds(
    "{}-{}-{}{}{}:{}:{}{}{}".format,
    st.sampled_from(["0000", "0001", "2031", "9999", "10000", "203"]) | _digits(0, 9999, 4),
    _digits(0, 13, 2),
    st.sampled_from(["01", "02", "29", "30", "31"]) | _digits(0, 32, 2),
    st.sampled_from(["T", "t", " ", "", "TT"]),
    _digits(0, 24, 2),
    _digits(0, 60, 2),
    _digits(0, 61, 2),
    st.sampled_from(["", ".5", ".123456789", ".", ".x"]),
    st.sampled_from(["Z", "z", "", "+00:00", "-00:00", "+23:59", "+24:00", "+0100", "-05:30"]),
)

field_values: dict[str, st.SearchStrategy[Any]] = {
    "host_id": st.sampled_from(["", "h", "host-1"]) | json_values,
    "brand_id": st.sampled_from(["", "b"]) | json_values,
    "title": st.sampled_from(["", " ", "\x00", "\ud800"]) | json_values,
    "scheduled_at": date_times | json_values,
    "max_participants": st.sampled_from(
        [0, 1, -1, 2**31 - 1, 2**31, 2**63, 10**30, 20.0, 20.5, -0.0, 1e308, True, False]
    )
    | json_values,
    "kind": st.sampled_from(["live", "office_hours", "LIVE", "Live", "", "\ud800"]) | json_values,
    "metadata": st.dictionaries(texts, json_values, max_size=3) | json_values,
}


@st.composite
def bodies(draw: st.DrawFn) -> dict[str, Any]:
    """Mostly valid bodies with some fields dropped, replaced or added."""
    body = dict(VALID)
    for name in draw(st.lists(st.sampled_from(list(REQUEST_SCHEMA["properties"])), max_size=3)):
        if draw(st.booleans()):
            body.pop(name, None)
        else:
            body[name] = draw(field_values[name])
    body.update(draw(st.dictionaries(texts, json_values, max_size=2)))
    return body


@settings(max_examples=500)
@given(bodies() | json_values)
def test_both_validators_accept_and_refuse_the_same_bodies(body: Any) -> None:
    errors = list(request_validator().iter_errors(body))

    # When the gate cannot read a body (a lone surrogate), request_errors asks jsonschema.
    with contextlib.suppress(UnicodeEncodeError):
        assert request_gate.is_valid(body) == (not errors)
    assert [error.message for error in request_errors(body)] == [error.message for error in errors]


def test_a_valid_body_has_no_errors() -> None:
    assert request_errors(VALID) == []


def test_an_invalid_body_has_jsonschemas_reasons() -> None:
    errors = request_errors({**VALID, "title": "", "max_participants": 0})

    assert sorted(error.validator for error in errors) == ["exclusiveMinimum", "minLength"]
