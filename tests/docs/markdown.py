"""The fenced code blocks of a Markdown file, with the test marker each may carry.

A marker is an HTML comment on the line right above a fence, `<!-- readme-test: NAME -->`:
invisible on a rendered page, and the only way to tell the tests to treat a block
specially (they check which markers exist, so a block cannot be dropped quietly).
"""

import re
from dataclasses import dataclass
from pathlib import Path

FENCE = "```"
MARKER = re.compile(r"<!-- readme-test: (?P<name>[a-z-]+) -->")
ROOT = Path(__file__).parents[2]


@dataclass(frozen=True)
class Block:
    info: str  # the fence's info string: the language
    text: str
    line: int  # of the opening fence, 1-based, for messages
    marker: str | None

    def lines(self) -> list[str]:
        return self.text.splitlines()


def fenced_blocks(markdown: str) -> list[Block]:
    blocks: list[Block] = []
    lines = markdown.splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        if not line.startswith(FENCE):
            index += 1
            continue
        end = lines.index(FENCE, index + 1)
        marked = MARKER.fullmatch(lines[index - 1]) if index else None
        blocks.append(
            Block(
                info=line[len(FENCE) :].strip(),
                text="\n".join(lines[index + 1 : end]) + "\n",
                line=index + 1,
                marker=marked["name"] if marked else None,
            )
        )
        index = end + 1
    return blocks


def headings(markdown: str) -> list[str]:
    """The `##` and `###` headings, outside code blocks."""
    found: list[str] = []
    in_code = False
    for line in markdown.splitlines():
        if line.startswith(FENCE):
            in_code = not in_code
        elif not in_code and re.match(r"#{2,3} ", line):
            found.append(line.lstrip("#").strip())
    return found


def anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to dashes."""
    return re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
