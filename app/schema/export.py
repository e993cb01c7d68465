"""Writes the SDL to schema.graphql: `python -m app.schema.export [PATH]`."""

import sys
from pathlib import Path

from app.schema import sdl


def main() -> None:
    path = Path(sys.argv[1] if len(sys.argv) > 1 else "schema.graphql")
    path.write_text(sdl())


if __name__ == "__main__":
    main()
