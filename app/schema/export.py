"""Writes the SDL to schema.graphql: `python -m app.schema.export [PATH]`."""

import sys
from pathlib import Path

from app.schema import schema


def main() -> None:
    path = Path(sys.argv[1] if len(sys.argv) > 1 else "schema.graphql")
    path.write_text(schema.as_str() + "\n")


if __name__ == "__main__":
    main()
