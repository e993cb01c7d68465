"""Readers for the deployment files the tests check: a Dockerfile and an nginx config.

Just enough of each format for these files: Dockerfile instructions with continuation
lines and JSON (exec form) arguments; nginx directives and blocks, comments dropped.
"""

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Instruction:
    keyword: str
    arguments: str

    def exec_form(self) -> list[str]:
        """The JSON array of an exec-form instruction (ENTRYPOINT, CMD, HEALTHCHECK's CMD)."""
        text = self.arguments
        if self.keyword == "HEALTHCHECK":
            text = text.split(" CMD ", 1)[1]
        value: Any = json.loads(text)
        assert isinstance(value, list), text
        assert all(isinstance(item, str) for item in value), text
        return value


def dockerfile_stages(path: Path) -> list[list[Instruction]]:
    """The instructions of each build stage, in order; the last stage is the image."""
    logical: list[str] = []
    pending = ""
    for line in path.read_text().splitlines():
        stripped = line.strip()
        # Comment lines are dropped even inside a continued instruction, as Docker does.
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1].strip() + " "
            continue
        logical.append(pending + stripped)
        pending = ""
    stages: list[list[Instruction]] = []
    for line in logical:
        keyword, _, arguments = line.partition(" ")
        instruction = Instruction(keyword.upper(), arguments.strip())
        if instruction.keyword == "FROM":
            stages.append([])
        stages[-1].append(instruction)
    return stages


def env_names(instructions: list[Instruction]) -> set[str]:
    names: set[str] = set()
    for instruction in instructions:
        if instruction.keyword == "ENV":
            names.update(re.findall(r"(?:^|\s)([A-Za-z_][A-Za-z0-9_]*)=", instruction.arguments))
    return names


@dataclass
class Directive:
    name: str
    arguments: list[str]
    children: list["Directive"] = field(default_factory=list)

    def find(self, name: str, *arguments: str) -> list["Directive"]:
        """Children called `name` whose arguments start with `arguments`."""
        return [
            child
            for child in self.children
            if child.name == name and child.arguments[: len(arguments)] == list(arguments)
        ]


def nginx_config(path: Path) -> Directive:
    text = "\n".join(line.split("#", 1)[0] for line in path.read_text().splitlines())
    # Quoted strings stay one token; braces and semicolons are tokens of their own.
    tokens = re.findall(r"'[^']*'|\"[^\"]*\"|[{};]|[^\s{};]+", text)
    root = Directive("main", [])
    stack = [root]
    words: list[str] = []
    for token in tokens:
        if token in (";", "{"):
            directive = Directive(words[0], words[1:])
            stack[-1].children.append(directive)
            if token == "{":
                stack.append(directive)
            words = []
        elif token == "}":
            assert not words, words
            stack.pop()
        else:
            words.append(token)
    assert len(stack) == 1, "unbalanced braces"
    assert not words, "a directive without its semicolon"
    return root
