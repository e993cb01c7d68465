"""When a failed delivery is tried again, and when its endpoint is given up on."""

import random
from datetime import datetime, timedelta

JITTER = 0.1  # each wait is stretched or shrunk by up to this fraction


def next_attempt(
    schedule: tuple[float, ...], failures: int, now: datetime, rng: random.Random
) -> datetime | None:
    """After the `failures`-th failed attempt (1-based): when to try again, or None when
    the schedule is spent. Jitter keeps many retries of one outage from arriving at once."""
    if failures > len(schedule):
        return None
    wait = schedule[failures - 1] * (1 + rng.uniform(-JITTER, JITTER))
    return now + timedelta(seconds=wait)


def gives_up_on_endpoint(failing_since: datetime, now: datetime, limit_s: float) -> bool:
    """Failing without a success in between for `limit_s` or longer."""
    return (now - failing_since).total_seconds() >= limit_s
