"""The schema-evolution guard: breaking changes need a CHANGELOG entry."""

from app.schema.evolution import coordinate, judge

OLD = """
type Query { session(id: ID!): Session }
type Session { id: ID! title: String! streamUrl: String }
"""


def test_additions_pass_and_optional_arguments_are_reported_as_dangerous() -> None:
    new = """
    type Query { session(id: ID!, locale: String): Session }
    type Session { id: ID! title: String! streamUrl: String category: String }
    """

    verdict = judge(OLD, new, "")

    assert verdict.ok
    assert verdict.dangerous == ["An optional argument Query.session(locale:) was added."]


def test_removed_field_fails_without_a_changelog_entry() -> None:
    new = "type Query { session(id: ID!): Session } type Session { id: ID! title: String! }"

    verdict = judge(OLD, new, "## Unreleased\n- tidied the Session type\n")

    assert not verdict.ok
    assert [coordinate(d) for d in verdict.unannounced_breaking] == ["Session.streamUrl"]


def test_removed_field_passes_when_the_changelog_announces_it() -> None:
    new = "type Query { session(id: ID!): Session } type Session { id: ID! title: String! }"

    verdict = judge(OLD, new, "- BREAKING: removed Session.streamUrl (use streamCallId)\n")

    assert verdict.ok
    assert [coordinate(d) for d in verdict.announced_breaking] == ["Session.streamUrl"]


def test_an_entry_for_another_field_does_not_count() -> None:
    new = "type Query { session(id: ID!): Session } type Session { id: ID! title: String! }"

    verdict = judge(OLD, new, "- BREAKING: removed Session.streamUrlV2\n")

    assert not verdict.ok


def test_coordinates_are_read_from_descriptions() -> None:
    assert coordinate("Field Session.streamUrl was removed.") == "Session.streamUrl"
    assert coordinate("Type SessionKind was removed.") == "SessionKind"
    assert coordinate("Enum value SessionKind.LIVE was removed.") == "SessionKind.LIVE"
