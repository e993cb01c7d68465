"""The schema-evolution guard CI runs: `python -m app.schema.evolution`.

Compares schema.graphql with its version before the latest commit that changed it.
A breaking change fails unless CHANGELOG.md has a line marked BREAKING that names
what changed (for example `BREAKING: removed Session.streamUrl`); dangerous changes
are printed. Clients of a public GraphQL API rely on fields never silently vanishing.
"""

import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from graphql import build_schema, find_breaking_changes, find_dangerous_changes

SCHEMA_FILE = "schema.graphql"
CHANGELOG_FILE = "CHANGELOG.md"


@dataclass(frozen=True)
class Verdict:
    unannounced_breaking: list[str]
    announced_breaking: list[str]
    dangerous: list[str]

    @property
    def ok(self) -> bool:
        return not self.unannounced_breaking


_NAME = r"[_A-Za-z][_0-9A-Za-z]*"
# Words graphql-core starts its change descriptions with; never a type's own name here.
_PROSE = {"A", "An", "Argument", "Directive", "Enum", "Field", "Input", "Standard", "Type", "Value"}


def coordinate(description: str) -> str:
    """The schema coordinate a change is about, e.g. `Session.title` or `SessionKind`."""
    dotted = re.search(rf"{_NAME}(?:\.{_NAME})+", description)
    if dotted:
        return dotted.group(0)
    words = re.findall(_NAME, description)
    names = [word for word in words if word[0].isupper() and word not in _PROSE]
    return names[0] if names else description


def judge(old_sdl: str, new_sdl: str, changelog: str) -> Verdict:
    old, new = build_schema(old_sdl), build_schema(new_sdl)
    announcements = [line for line in changelog.splitlines() if "BREAKING" in line]
    announced: list[str] = []
    unannounced: list[str] = []
    for change in find_breaking_changes(old, new):
        named = coordinate(change.description)
        is_announced = any(re.search(rf"\b{re.escape(named)}\b", line) for line in announcements)
        (announced if is_announced else unannounced).append(change.description)
    dangerous = [change.description for change in find_dangerous_changes(old, new)]
    return Verdict(unannounced, announced, dangerous)


def _git(*args: str) -> str:
    command = ["git", *args]  # fixed arguments from this module, never user input
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout  # noqa: S603


def previous_schema() -> tuple[str, str] | None:
    """(commit, SDL before it) for the latest commit that changed the schema file."""
    commit = _git("log", "-n", "1", "--format=%H", "--", SCHEMA_FILE).strip()
    if not commit:
        return None
    try:
        return commit, _git("show", f"{commit}^:{SCHEMA_FILE}")
    except subprocess.CalledProcessError:
        return None  # the file first appeared in that commit (or it is the root)


def main() -> int:
    previous = previous_schema()
    if previous is None:
        print("schema guard: no earlier schema.graphql to compare with")
        return 0
    commit, old_sdl = previous
    verdict = judge(old_sdl, Path(SCHEMA_FILE).read_text(), Path(CHANGELOG_FILE).read_text())
    print(f"schema guard: schema.graphql against its version before {commit[:12]}")
    for description in verdict.dangerous:
        print(f"  dangerous: {description}")
    for description in verdict.announced_breaking:
        print(f"  breaking (in CHANGELOG.md): {description}")
    for description in verdict.unannounced_breaking:
        print(f"  BREAKING, not in CHANGELOG.md: {description}")
    if not verdict.ok:
        print("schema guard: add a 'BREAKING: ...' line naming each change to CHANGELOG.md")
        return 1
    print("schema guard: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
