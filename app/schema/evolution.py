"""The schema-evolution guard CI runs: `python -m app.schema.evolution`.

Compares schema.graphql with the schema clients were last promised: the one at the
newest release tag (`vMAJOR.MINOR.PATCH`, by version order) reachable from HEAD, or,
before the first release, the one in the commit that added the file. Comparing with
the previous commit instead would let a breaking change escape as soon as any later
commit edited the schema again.

A breaking change fails unless CHANGELOG.md announces it, in a section newer than
that release (`## Unreleased`, or the section of a release being cut), with a line
marked BREAKING that names what changed (for example `- BREAKING: removed
Session.streamUrl`); dangerous changes are printed. Clients of a public GraphQL API
rely on fields never silently vanishing.

Without the history (no git, or a shallow clone that may lack the tag and the first
commit) the guard fails and says so: passing against whatever commit happens to be
present would be passing blind.
"""

import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from graphql import build_schema, find_breaking_changes, find_dangerous_changes

SCHEMA_FILE = "schema.graphql"
CHANGELOG_FILE = "CHANGELOG.md"

Version = tuple[int, int, int]

_RELEASE_TAG = re.compile(r"v(\d+)\.(\d+)\.(\d+)")
# `## Unreleased`, `## 0.2.0 — 2026-12-03`, `## [0.2.0] - …`: the sections of CHANGELOG.md.
_SECTION = re.compile(
    r"##\s+\[?(?:(?P<unreleased>unreleased)|v?(?P<version>\d+\.\d+\.\d+))\b", re.I
)


@dataclass(frozen=True)
class Verdict:
    unannounced_breaking: list[str]
    announced_breaking: list[str]
    dangerous: list[str]

    @property
    def ok(self) -> bool:
        return not self.unannounced_breaking


@dataclass(frozen=True)
class Baseline:
    """The schema clients were promised, and where it came from."""

    sdl: str
    commit: str
    tag: str | None  # None before the first release: the commit that added the file

    @property
    def version(self) -> Version | None:
        return None if self.tag is None else _version(self.tag)

    def describe(self) -> str:
        if self.tag is None:
            return f"the commit that added it ({self.commit[:12]}; no release tag yet)"
        return f"release {self.tag} ({self.commit[:12]})"


class HistoryUnavailable(Exception):
    """The git history needed to find the baseline is not here."""


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


def _version(text: str) -> Version:
    major, minor, patch = (int(part) for part in re.findall(r"\d+", text)[:3])
    return major, minor, patch


def announcements(changelog: str, since: Version | None) -> list[str]:
    """BREAKING lines in the sections after release `since` (every section when None).

    Text before the first section is the changelog's preamble, never an announcement;
    so is a section of `since` or an older release: its entries were about an earlier
    baseline, and naming the same field again there must not excuse a new removal.
    """
    lines: list[str] = []
    counting = False
    for line in changelog.splitlines():
        if line.startswith("## "):
            section = _SECTION.match(line)
            counting = section is not None and (
                section["unreleased"] is not None
                or since is None
                or _version(section["version"]) > since
            )
        elif counting and "BREAKING" in line:
            lines.append(line)
    return lines


def judge(old_sdl: str, new_sdl: str, changelog: str, since: Version | None = None) -> Verdict:
    old, new = build_schema(old_sdl), build_schema(new_sdl)
    announced_lines = announcements(changelog, since)
    announced: list[str] = []
    unannounced: list[str] = []
    for change in find_breaking_changes(old, new):
        named = coordinate(change.description)
        is_announced = any(re.search(rf"\b{re.escape(named)}\b", line) for line in announced_lines)
        (announced if is_announced else unannounced).append(change.description)
    dangerous = [change.description for change in find_dangerous_changes(old, new)]
    return Verdict(unannounced, announced, dangerous)


def _git(root: Path, *args: str) -> str:
    command = ["git", "-C", str(root), *args]  # fixed arguments from this module
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout  # noqa: S603


def release_tags(root: Path) -> list[str]:
    """Release tags reachable from HEAD, newest version first (v0.10.0 before v0.9.0)."""
    names = _git(root, "tag", "--merged", "HEAD", "--list", "v*").split()
    return sorted((n for n in names if _RELEASE_TAG.fullmatch(n)), key=_version, reverse=True)


def baseline(root: Path) -> Baseline | None:
    """The schema at the newest release, else as first committed; None if never committed.

    Raises HistoryUnavailable when git or the full history is missing.
    """
    try:
        shallow = _git(root, "rev-parse", "--is-shallow-repository").strip() == "true"
    except (OSError, subprocess.CalledProcessError) as error:
        raise HistoryUnavailable(f"{root} is not a git work tree ({_reason(error)})") from error
    if shallow:
        # Tags and the first commit may lie beyond the cut; any answer could be wrong.
        raise HistoryUnavailable(
            "this is a shallow clone, so the release tags and the commit that added "
            f"{SCHEMA_FILE} may be missing; run `git fetch --unshallow --tags` (or clone "
            "without --depth) and run the guard again"
        )
    try:
        tags = release_tags(root)
        tag = tags[0] if tags else None
        if tag is not None:
            commit = _git(root, "rev-parse", f"{tag}^{{commit}}").strip()
        else:
            added = _git(
                root, "log", "--reverse", "--diff-filter=A", "--format=%H", "--", SCHEMA_FILE
            )
            if not added:
                return None
            commit = added.split()[0]
    except subprocess.CalledProcessError as error:
        raise HistoryUnavailable(f"git could not read the history ({_reason(error)})") from error
    try:
        sdl = _git(root, "show", f"{commit}:{SCHEMA_FILE}")
    except subprocess.CalledProcessError as error:
        raise HistoryUnavailable(f"{tag} has no {SCHEMA_FILE} to compare with") from error
    return Baseline(sdl=sdl, commit=commit, tag=tag)


def _reason(error: OSError | subprocess.CalledProcessError) -> str:
    if isinstance(error, subprocess.CalledProcessError):
        return str(error.stderr).strip() or f"git exited with {error.returncode}"
    return str(error)


def check(root: Path) -> int:
    """The guard's exit status: 0 ok, 1 an unannounced breaking change, 2 no history."""
    try:
        base = baseline(root)
    except HistoryUnavailable as error:
        print(f"schema guard: cannot find the schema clients were promised: {error}")
        return 2
    if base is None:
        print(f"schema guard: {SCHEMA_FILE} was never committed; nothing published to compare with")
        return 0
    verdict = judge(
        base.sdl,
        (root / SCHEMA_FILE).read_text(),
        (root / CHANGELOG_FILE).read_text(),
        since=base.version,
    )
    print(f"schema guard: {SCHEMA_FILE} against {base.describe()}")
    for description in verdict.dangerous:
        print(f"  dangerous: {description}")
    for description in verdict.announced_breaking:
        print(f"  breaking (in CHANGELOG.md): {description}")
    for description in verdict.unannounced_breaking:
        print(f"  BREAKING, not in CHANGELOG.md: {description}")
    if not verdict.ok:
        print("schema guard: name each change on a 'BREAKING: ...' line under '## Unreleased'")
        return 1
    print("schema guard: ok")
    return 0


if __name__ == "__main__":
    sys.exit(check(Path.cwd()))
