"""Every vendored file is the one its VENDORED.md lists, byte for byte."""

import hashlib
import re
from pathlib import Path

import pytest

STATIC = Path(__file__).parents[2] / "app" / "static"
LISTINGS = sorted(STATIC.glob("*/VENDORED.md"))
HASH_LINE = re.compile(r"^([0-9a-f]{64})  (\S+)$", re.MULTILINE)


@pytest.mark.parametrize("listing", LISTINGS, ids=lambda path: path.parent.name)
def test_vendored_files_match_their_listed_sha256(listing: Path) -> None:
    listed = HASH_LINE.findall(listing.read_text())

    assert listed, f"{listing} lists no hashes"
    for digest, name in listed:
        assert hashlib.sha256((listing.parent / name).read_bytes()).hexdigest() == digest, name


def test_every_vendored_directory_has_a_listing() -> None:
    assert {path.parent.name for path in LISTINGS} == {"graphiql", "swagger-ui"}
