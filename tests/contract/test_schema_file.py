"""schema.graphql is the published schema: the code and the file must agree."""

from pathlib import Path

from app.schema import sdl

SCHEMA_FILE = Path(__file__).parents[2] / "schema.graphql"


def test_schema_file_matches_the_code() -> None:
    assert SCHEMA_FILE.read_text() == sdl(), (
        "schema.graphql is stale: run `.venv/bin/python -m app.schema.export`"
    )
