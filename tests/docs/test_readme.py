"""The README's commands, run as a reader would run them, so the front page cannot rot.

How each fenced block is run (the README says the same in a comment at its top):
- `sh`: in document order, each in a fresh `bash -eu -o pipefail` that starts with the
  environment the previous one exported (one terminal), in a copy of the checkout served
  by the README's own `scripts/serve`; `127.0.0.1:8000` becomes the test server's
  address. A block fails on a non-zero exit or a GraphQL `"errors"` in its output.
- `python`, `js`: a follower of live updates. Its first line says the file to save it as
  and the command to run; it is started where it stands in the tour, must print the
  session as it is before the next `sh` block runs, and the session again once those
  blocks have changed it. The `js` one finds the packages `scripts/bootstrap` installed
  from tests/docs/node (its `npm install` is the reader's own install step).
- `graphql`: every operation of the block, one at a time by name, as GraphiQL runs them.
- marked `readme-test: commands`: the two commands; the tour is served by the first and
  `.ci/run` calls the second.
Any other block fails the test that lists them.
"""

import json
import re
import shutil
import subprocess
import time
import tomllib
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import OperationDefinitionNode, parse

from app.config import Settings
from tests.docs.markdown import ROOT, Block, anchor, fenced_blocks, headings
from tests.helpers import auth
from tests.server import cli_env, running_server, server_env

README = (ROOT / "README.md").read_text()
BLOCKS = fenced_blocks(README)
FOLLOWER_KINDS = ("python", "js")
RUN_KINDS = ("sh", "graphql", *FOLLOWER_KINDS)
DEFAULT_ADDRESS = "127.0.0.1:8000"
FOLLOWER_LINE = re.compile(
    r"(?:#|//) save as (?P<file>\S+)(?: \(after (?P<install>[^)]+)\))?, run: (?P<command>.+)"
)
NODE_PACKAGES = ROOT / "tests" / "docs" / "node"
# Variables the tour itself exports, and the test suite's own; every other upper-case
# name the README shows must be a setting.
NOT_SETTINGS = {"TOKEN", "SESSION_ID", "MEMBER", "TEST_POSTGRES_URL"}
BLOCK_TIMEOUT_S = 60
EVENT_TIMEOUT_S = 30
# A reader's shell; the blocks are written for bash (`$(...)`, heredocs, `set -o pipefail`).
BASH = shutil.which("bash") or "/bin/bash"


def commands_block() -> Block:
    (block,) = [block for block in BLOCKS if block.marker == "commands"]
    return block


def commands() -> list[str]:
    return [line.split("#", 1)[0].strip() for line in commands_block().lines()]


def followers() -> list[Block]:
    return [block for block in BLOCKS if block.info in FOLLOWER_KINDS]


# -- what the README is made of -------------------------------------------------------


def test_every_block_is_one_the_tests_run() -> None:
    for block in BLOCKS:
        assert block.marker == "commands" or (block.marker is None and block.info in RUN_KINDS), (
            f"README.md line {block.line}: a ```{block.info} block the tests do not run"
        )
    assert commands_block().info == "sh"
    assert [block.info for block in followers()] == list(FOLLOWER_KINDS)


def test_the_readme_is_short_and_its_contents_list_every_section() -> None:
    assert len(README.encode()) <= 15 * 1024
    contents = README.split("## Contents", 1)[1].split("\n## ", 1)[0]
    linked = re.findall(r"\]\(#([^)]+)\)", contents)
    sections = [anchor(heading) for heading in headings(README) if heading != "Contents"]
    assert linked == sections


def test_files_the_readme_links_exist() -> None:
    targets = re.findall(r"\]\((?!https?://|#)([^)#]+)", README)
    assert targets
    for target in targets:
        assert (ROOT / target).exists(), target


def test_the_two_commands_serve_and_run_the_suite_ci_runs() -> None:
    assert commands() == ["scripts/serve", "scripts/test"]
    for script in commands():
        assert (ROOT / script).stat().st_mode & 0o111, f"{script} is not executable"
    # The tour runs scripts/serve for real; scripts/test is the whole suite, which CI
    # runs once per engine rather than a test running it from inside itself.
    assert "exec .venv/bin/python -m pytest" in (ROOT / "scripts/test").read_text()
    ci = (ROOT / ".ci/run").read_text()
    assert re.search(r"^\s*\./scripts/test --engine \"\$engine\"", ci, re.MULTILINE)


def test_variables_the_readme_names_are_settings() -> None:
    names = set(re.findall(r"`([A-Z][A-Z0-9_]{2,})`", README))
    fields = {name.upper() for name in Settings.model_fields}
    assert names - NOT_SETTINGS <= fields, names - NOT_SETTINGS - fields


def test_the_python_client_it_installs_is_the_one_the_tour_runs_with() -> None:
    (wanted,) = re.findall(r'`pip install "([^"]+)"`', README)
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert any(
        dependency.startswith(wanted) for dependency in project["optional-dependencies"]["dev"]
    ), wanted


# -- GraphiQL -------------------------------------------------------------------------


async def test_each_graphiql_operation_runs_on_its_own(client: httpx.AsyncClient) -> None:
    blocks = [block for block in BLOCKS if block.info == "graphql"]
    assert blocks
    for block in blocks:
        operations = [
            definition
            for definition in parse(block.text).definitions
            if isinstance(definition, OperationDefinitionNode)
        ]
        # A pasted block with several operations only runs when each has a name.
        assert all(operation.name for operation in operations), block.line
        for operation in operations:
            assert operation.name is not None
            response = await client.post(
                "/graphql",
                json={"query": block.text, "operationName": operation.name.value},
                headers=auth(),
            )
            assert response.status_code == 200, response.text
            assert "errors" not in response.json(), (operation.name.value, response.json())


# -- the tour -------------------------------------------------------------------------


def shadow_checkout(where: Path) -> Path:
    """The checkout as a reader has it, but in `where`: what it writes (the SQLite file,
    the development secret, follow.py) lands there, and a database the developer left
    in the real checkout is not seen."""
    where.mkdir()
    for entry in ROOT.iterdir():
        if entry.name != ".git" and not entry.name.startswith("live-sessions.db"):
            (where / entry.name).symlink_to(entry)
    return where


def run_sh(block: Block, cwd: Path, env: dict[str, str], address: str) -> dict[str, str]:
    """Run one `sh` block; the environment it leaves, for the next."""
    state = cwd / ".readme-env"
    script = block.text.replace(DEFAULT_ADDRESS, address) + f'env -0 > "{state}"\n'
    done = subprocess.run(
        [BASH, "-eu", "-o", "pipefail", "-c", script],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=BLOCK_TIMEOUT_S,
        check=False,
    )
    where = (
        f"README.md line {block.line}:\n{block.text}\nstdout: {done.stdout}\nstderr: {done.stderr}"
    )
    assert done.returncode == 0, where
    assert '"errors"' not in done.stdout, where
    pairs = (item.split("=", 1) for item in state.read_text().split("\0") if "=" in item)
    return dict(pairs)


class Follower:
    """A README follower program, running, its output in files."""

    def __init__(self, block: Block, cwd: Path, env: dict[str, str], address: str) -> None:
        first = block.text.partition("\n")[0]
        match = FOLLOWER_LINE.fullmatch(first)
        assert match, f"README.md line {block.line}: no 'save as FILE, run: COMMAND' line"
        if match["install"]:
            check_install_step(match["install"])
            env = {**env, "NODE_PATH": str(NODE_PACKAGES / "node_modules")}
        (cwd / match["file"]).write_text(block.text.replace(DEFAULT_ADDRESS, address))
        self.line = block.line
        self.output = cwd / f"{match['file']}.out"
        self.errors = cwd / f"{match['file']}.err"
        with self.output.open("w") as stdout, self.errors.open("w") as stderr:
            self.process = subprocess.Popen(
                [BASH, "-c", f"exec {match['command']}"],
                cwd=cwd,
                env=env,
                stdout=stdout,
                stderr=stderr,
            )

    def events(self) -> list[dict[str, Any]]:
        events = []
        for line in self.output.read_text().splitlines():
            try:
                events.append(json.loads(line))
            except json.JSONDecodeError:
                pytest.fail(f"README.md line {self.line} printed {line!r}, not a session")
        return events

    def wait_for(self, wanted: Callable[[list[dict[str, Any]]], bool]) -> list[dict[str, Any]]:
        deadline = time.monotonic() + EVENT_TIMEOUT_S
        while not wanted(events := self.events()):
            exited = self.process.poll()
            status = (
                f"README.md line {self.line}: exit status {exited}, printed {events}; "
                f"stderr: {self.errors.read_text()}"
            )
            assert exited is None, status
            assert time.monotonic() < deadline, status
            time.sleep(0.05)
        return events

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def check_install_step(install: str) -> None:
    """The packages the reader installs are the ones the test runs the example with."""
    command, _, packages = install.partition(" install ")
    assert command == "npm", install
    pinned = json.loads((NODE_PACKAGES / "package.json").read_text())["dependencies"]
    assert set(packages.split()) <= set(pinned), install


def node_ready() -> bool:
    return shutil.which("node") is not None and (NODE_PACKAGES / "node_modules").is_dir()


@contextmanager
def following(block: Block, cwd: Path, env: dict[str, str], address: str) -> Iterator[Follower]:
    follower = Follower(block, cwd, env, address)
    try:
        yield follower
    finally:
        follower.stop()


@pytest.mark.slow
@pytest.mark.parametrize("kind", FOLLOWER_KINDS)
def test_the_tour_runs_as_written(
    kind: str, engine_name: str, database_settings: dict[str, Any], tmp_path: Path
) -> None:
    if kind == "js" and not node_ready():
        pytest.skip("needs node and tests/docs/node/node_modules: scripts/bootstrap installs them")
    checkout = shadow_checkout(tmp_path / "checkout")
    # On SQLite exactly as the README says: no configuration at all.
    settings = server_env(database_settings) if engine_name == "postgresql" else {}
    serve = commands()[0].split()
    with running_server(checkout, settings, command=serve) as server:
        address = server.url.removeprefix("http://")
        env = cli_env(settings)
        follower: Follower | None = None
        with ExitStack() as stack:
            for block in BLOCKS:
                if block.info == "sh" and block.marker is None:
                    if follower is not None:
                        follower.wait_for(lambda events: len(events) >= 1)
                    env = run_sh(block, checkout, env, address)
                elif block.info == kind:
                    follower = stack.enter_context(following(block, checkout, env, address))
            assert follower is not None
            events = follower.wait_for(lambda events: len(events) >= 2)

    first, changed = events[0], events[-1]
    assert changed["registeredCount"] == first["registeredCount"] + 1
    assert changed["version"] > first["version"]
    if engine_name == "sqlite":
        assert (checkout / "live-sessions.db").is_file()
        assert (checkout / "live-sessions.db.secret").is_file()
