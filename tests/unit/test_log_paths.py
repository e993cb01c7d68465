"""Paths as the logs print them: a calendar feed's token never appears."""

import pytest

from app.requests_context import path_for_logs

TOKEN = "q6Hn0rZb3wC9yYx1u2kKpLmNoPqRsTuVwXyZaBcDeFg"


@pytest.mark.parametrize(
    "path",
    [f"/v1/calendar/{TOKEN}.ics", f"/v1/calendar/{TOKEN}.ics/", f"/v1/calendar/{TOKEN}"],
)
def test_paths_under_the_feed_prefix_are_logged_without_their_token(path: str) -> None:
    assert path_for_logs({"path": path}) == "/v1/calendar/[redacted]"


def test_other_paths_are_logged_as_they_are() -> None:
    path = "/v1/sessions/6f1c2d3e-8a9b-4c5d-9e0f-1a2b3c4d5e6f.ics"

    assert path_for_logs({"path": path}) == path
