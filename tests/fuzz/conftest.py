"""Schemathesis fuzzing against the in-process app: shared fixtures and the case-count report.

The app runs in process: Schemathesis's ASGI transport starts the app's lifespan (the
database engine) on its own event-loop thread the first time it calls the app, and
`fuzz_app`'s teardown shuts that lifespan down again, before the test database goes.
"""

import os
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import hypothesis
import pytest
import schemathesis
from schemathesis.python import asgi
from starlette.applications import Starlette

from app.config import Settings
from app.main import create_app
from tests.helpers import create_tables, token

# The fuzzing caller may create sessions for any host_id (sessions:admin), and register.
FUZZ_SUB = "host-1"
FUZZ_SCOPES = ("sessions:write", "sessions:admin", "registrations:write")
DEFAULT_EXAMPLES = 250
# Requests never leave the process: every call is given the app (`app=`); this is only the Host.
BASE_URL = "http://testserver"


def _int_from_env(name: str, *, minimum: int) -> int | None:
    raw = os.environ.get(name, "")
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError:
        value = minimum - 1
    if value < minimum:
        raise pytest.UsageError(f"{name} must be an integer of at least {minimum}, got {raw!r}")
    return value


def fuzz_examples() -> int:
    """Examples per fuzz target: $FUZZ_EXAMPLES, 250 by default (Hypothesis's `max_examples`;
    a target with several operations shares it among them)."""
    return _int_from_env("FUZZ_EXAMPLES", minimum=1) or DEFAULT_EXAMPLES


def fuzz_config(
    *,
    base_url: str,
    checks: dict[str, Any],
    mode: str = "all",
    examples_per_operation: dict[str, int] | None = None,
) -> schemathesis.Config:
    """Schemathesis settings shared by both targets: every request carries the fuzzing token.

    Positive and negative data (`mode`), in the examples, coverage and fuzzing phases (as
    far as the specification has them), FUZZ_EXAMPLES examples per operation unless
    `examples_per_operation` (label -> examples) says otherwise. `FUZZ_SEED` replays a run (the summary line prints the seed when the run
    was randomized).
    """
    bearer = token(FUZZ_SUB, FUZZ_SCOPES, ttl=timedelta(hours=2))
    data: dict[str, Any] = {
        "base-url": base_url,
        "headers": {"Authorization": f"Bearer {bearer}"},
        # NUL is refused by design (PostgreSQL cannot store it; docs/security.md, "Security and
        # limits"), so schema-valid data is generated without it.
        "generation": {"mode": mode, "max-examples": fuzz_examples(), "allow-x00": False},
        "phases": {
            "examples": {"enabled": True},
            "coverage": {"enabled": True},
            "fuzzing": {"enabled": True},
            "stateful": {"enabled": False},
        },
        "checks": checks,
        "operations": [
            {"include-name": label, "generation": {"max-examples": examples}}
            for label, examples in (examples_per_operation or {}).items()
        ],
    }
    seed = _int_from_env("FUZZ_SEED", minimum=0)
    if seed is not None:
        data["seed"] = seed
    return schemathesis.Config.from_dict(data)


@dataclass
class FuzzStats:
    """What one fuzz target sent and got back, for the summary line."""

    target: str
    engine: str
    seed: int | None = None
    cases: int = 0
    server_errors: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    codes: Counter[str] = field(default_factory=Counter)

    def record(self, status: int, *, server_error: bool, codes: Iterable[str] = ()) -> None:
        self.statuses[status] += 1
        self.codes.update(codes)
        if server_error:
            self.server_errors += 1

    def line(self) -> str:
        statuses = ",".join(f"{code}:{n}" for code, n in sorted(self.statuses.items()))
        text = (
            f"fuzz: {self.target} cases={self.cases} server_errors={self.server_errors}"
            f" engine={self.engine} statuses={statuses or '-'}"
        )
        if self.codes:
            text += " codes=" + ",".join(f"{code}:{n}" for code, n in sorted(self.codes.items()))
        if self.seed is not None:
            text += f" seed={self.seed}"
        return text


STATS = pytest.StashKey[dict[tuple[str, str], FuzzStats]]()


def replay_seed(schema: schemathesis.BaseSchema) -> int | None:
    """The seed that replays this run with FUZZ_SEED; None when Hypothesis derandomizes
    (its `ci` profile, loaded when it detects CI) and no seed was given."""
    config = schema.config
    if hypothesis.settings.default.derandomize and not config.has_explicit_seed:
        return None
    return config.seed


@pytest.fixture
def fuzz_stats(
    request: pytest.FixtureRequest, engine_name: str
) -> Callable[[str, schemathesis.BaseSchema], FuzzStats]:
    """`fuzz_stats(target, schema)`: the tally of that target on this engine, across its
    operations; the summary at the end of the run prints it."""

    def get(target: str, schema: schemathesis.BaseSchema) -> FuzzStats:
        tallies = request.config.stash.setdefault(STATS, {})
        key = (target, engine_name)
        if key not in tallies:
            tallies[key] = FuzzStats(target, engine_name, seed=replay_seed(schema))
        return tallies[key]

    return get


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    """One line per fuzz target and engine, shown even under -q and output capturing."""
    tallies = config.stash.get(STATS, {})
    if tallies:
        terminalreporter.write_sep("-", "fuzzing")
    for stats in tallies.values():
        terminalreporter.write_line(stats.line())


@pytest.fixture
async def fuzz_app(settings: Settings) -> AsyncIterator[Starlette]:
    """The app on an empty database with its tables; its lifespan is stopped afterwards."""
    await create_tables(settings)
    app = create_app(settings)
    try:
        yield app
    finally:
        # Schemathesis keeps every lifespan it started until the process exits; this one
        # holds the test database's engine, which has to go before the database does.
        asgi.shutdown_lifespans()
