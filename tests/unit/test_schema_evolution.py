"""The schema-evolution guard: breaking changes since the last release need a CHANGELOG entry."""

import subprocess
from pathlib import Path

import pytest

from app.schema.evolution import announcements, check, coordinate, judge

OLD = """
type Query { session(id: ID!): Session }
type Session { id: ID! title: String! streamUrl: String }
"""
WITHOUT_STREAM_URL = (
    "type Query { session(id: ID!): Session } type Session { id: ID! title: String! }"
)


def test_additions_pass_and_optional_arguments_are_reported_as_dangerous() -> None:
    new = """
    type Query { session(id: ID!, locale: String): Session }
    type Session { id: ID! title: String! streamUrl: String category: String }
    """

    verdict = judge(OLD, new, "")

    assert verdict.ok
    assert verdict.dangerous == ["An optional argument Query.session(locale:) was added."]


def test_removed_field_fails_without_a_changelog_entry() -> None:
    verdict = judge(OLD, WITHOUT_STREAM_URL, "## Unreleased\n- tidied the Session type\n")

    assert not verdict.ok
    assert [coordinate(d) for d in verdict.unannounced_breaking] == ["Session.streamUrl"]


def test_removed_field_passes_when_the_unreleased_section_announces_it() -> None:
    changelog = "## Unreleased\n- BREAKING: removed Session.streamUrl (use streamCallId)\n"

    verdict = judge(OLD, WITHOUT_STREAM_URL, changelog, since=(0, 1, 0))

    assert verdict.ok
    assert [coordinate(d) for d in verdict.announced_breaking] == ["Session.streamUrl"]


def test_an_entry_for_another_field_does_not_count() -> None:
    verdict = judge(
        OLD, WITHOUT_STREAM_URL, "## Unreleased\n- BREAKING: removed Session.streamUrlV2\n"
    )

    assert not verdict.ok


def test_entries_of_the_baseline_release_and_older_ones_do_not_count() -> None:
    # Those described changes up to the baseline; a new removal needs its own entry.
    changelog = (
        "# Changelog\nMark breaking changes like `BREAKING: removed Session.streamUrl`.\n"
        "## Unreleased\n- tidied the Session type\n"
        "## 0.2.0 — 2026-12-01\n- BREAKING: removed Session.streamUrl\n"
        "## 0.1.0 — 2026-11-01\n- BREAKING: removed Session.streamUrl\n"
    )

    assert announcements(changelog, since=(0, 2, 0)) == []
    assert not judge(OLD, WITHOUT_STREAM_URL, changelog, since=(0, 2, 0)).ok


def test_the_section_of_a_release_being_cut_counts_until_it_is_tagged() -> None:
    changelog = "## Unreleased\n## [0.10.0] - 2026-12-01\n- BREAKING: removed Session.streamUrl\n"

    assert judge(OLD, WITHOUT_STREAM_URL, changelog, since=(0, 9, 0)).ok


def test_before_the_first_release_every_section_counts_but_not_the_preamble() -> None:
    changelog = (
        "Write `- BREAKING: Session.title ...`.\n## 0.1.0\n- BREAKING: removed Session.streamUrl\n"
    )

    assert announcements(changelog, since=None) == ["- BREAKING: removed Session.streamUrl"]


def test_coordinates_are_read_from_descriptions() -> None:
    assert coordinate("Field Session.streamUrl was removed.") == "Session.streamUrl"
    assert coordinate("Type SessionKind was removed.") == "SessionKind"
    assert coordinate("Enum value SessionKind.LIVE was removed.") == "SessionKind.LIVE"


# -- the baseline, found in throwaway repositories ---------------------------------

WITH_RECORDING_URL = (
    "type Query { session(id: ID!): Session } "
    "type Session { id: ID! title: String! streamUrl: String recordingUrl: String }"
)


@pytest.fixture(autouse=True)
def isolated_git(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Git as on a bare CI machine: no user config (signing, hooks), a fixed identity,
    and no repository found above the test's own directory."""
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", "/dev/null")
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for role in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{role}_NAME", "test")
        monkeypatch.setenv(f"GIT_{role}_EMAIL", "test@example.invalid")


def git(root: Path, *args: str) -> str:
    command = ["git", "-C", str(root), *args]
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout


def commit(root: Path, sdl: str, changelog: str = "## Unreleased\n", *, tag: str = "") -> None:
    (root / "schema.graphql").write_text(sdl)
    (root / "CHANGELOG.md").write_text(changelog)
    git(root, "add", "schema.graphql", "CHANGELOG.md")
    git(root, "commit", "-q", "-m", "change")
    if tag:
        git(root, "tag", "-a", tag, "-m", tag)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    return root


def test_without_a_release_a_removal_escapes_no_later_edit(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    commit(repo, OLD)
    commit(repo, WITHOUT_STREAM_URL)
    # Any later edit of the schema used to hide the removal from the guard.
    commit(repo, WITHOUT_STREAM_URL.replace("title: String!", "title: String! category: String"))

    assert check(repo) == 1
    out = capsys.readouterr().out
    assert "against the commit that added it" in out
    assert "BREAKING, not in CHANGELOG.md: Field Session.streamUrl was removed." in out


def test_the_newest_release_reachable_from_head_is_the_baseline(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    released = "## 0.10.0\n- BREAKING: removed Session.recordingUrl\n## 0.9.0\n"
    commit(repo, WITH_RECORDING_URL, tag="v0.9.0")
    commit(repo, OLD, "## Unreleased\n" + released, tag="v0.10.0")
    git(repo, "switch", "-q", "-c", "experiment")
    commit(repo, "type Query { session(id: ID!): Session } type Session { id: ID! }", tag="v1.0.0")
    git(repo, "switch", "-q", "main")
    commit(repo, WITHOUT_STREAM_URL, "## Unreleased\n- tidied the Session type\n" + released)

    assert check(repo) == 1
    out = capsys.readouterr().out
    # v0.10.0 by version order, not v0.9.0 by spelling, and not v1.0.0 off this branch.
    assert "against release v0.10.0" in out
    assert "BREAKING, not in CHANGELOG.md: Field Session.streamUrl was removed." in out
    assert "recordingUrl" not in out

    (repo / "CHANGELOG.md").write_text(
        "## Unreleased\n- BREAKING: removed Session.streamUrl\n" + released
    )
    assert check(repo) == 0
    assert (
        "breaking (in CHANGELOG.md): Field Session.streamUrl was removed."
        in capsys.readouterr().out
    )


def test_a_plain_clone_carries_the_release_tag(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    commit(repo, OLD, tag="v0.1.0")
    commit(repo, WITHOUT_STREAM_URL)
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(repo), str(clone))

    assert check(clone) == 1
    assert "against release v0.1.0" in capsys.readouterr().out


def test_a_shallow_clone_fails_loudly_instead_of_passing_blind(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    commit(repo, OLD)
    commit(repo, WITHOUT_STREAM_URL)
    commit(repo, WITHOUT_STREAM_URL + " type Extra { id: ID! }")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{repo}", str(clone))

    assert check(clone) == 2
    assert "shallow clone" in capsys.readouterr().out
    git(clone, "fetch", "-q", "--unshallow", "--tags")
    assert check(clone) == 1


def test_outside_a_git_repository_the_guard_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "schema.graphql").write_text(OLD)

    assert check(tmp_path) == 2
    assert "not a git work tree" in capsys.readouterr().out
