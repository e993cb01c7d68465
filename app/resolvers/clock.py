"""The service's clock: one function, so tests can stand in for it."""

from datetime import UTC, datetime


def now() -> datetime:
    return datetime.now(UTC)
