"""An operation's time limit, which stops work but never a commit under way.

A timeout that cancels a commit cannot tell the client what happened: the COMMIT may
have reached the database before the wait for its answer was cancelled. So the limit
applies until a write starts to commit. If it has passed by then, the write is rolled
back and the operation answers TIMEOUT, which therefore always means nothing was
written. Once the write that is the operation's outcome starts to commit, the limit is
lifted and the operation finishes with its real result. A preliminary write that a
failure undoes (an idempotency claim, its release) is shielded while it commits, and
the limit resumes after it.
"""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar

_current: ContextVar[asyncio.Timeout | None] = ContextVar("operation_deadline", default=None)


@asynccontextmanager
async def operation_deadline(seconds: float | None) -> AsyncIterator[None]:
    """Raises TimeoutError when the block runs past `seconds` before its final commit."""
    async with asyncio.timeout(seconds) as timeout:
        token = _current.set(timeout)
        try:
            yield
        finally:
            _current.reset(token)


@asynccontextmanager
async def committing(*, final: bool) -> AsyncIterator[None]:
    """Around one commit. `final`: this write is the operation's outcome."""
    timeout = _current.get()
    if timeout is None:
        yield
        return
    if timeout.expired():
        if final:
            # The cancellation is on its way; take it here, before anything is sent.
            await asyncio.sleep(0)
            raise asyncio.CancelledError
        yield  # cleanup after the deadline (a claim's release): as any late await
        return
    when = timeout.when()
    lift(timeout)
    try:
        yield
    finally:
        if not final:
            timeout.reschedule(when)


def current() -> asyncio.Timeout | None:
    """The running operation's limit, to hand to work done on its behalf elsewhere."""
    return _current.get()


def lift(timeout: asyncio.Timeout | None) -> bool:
    """Lift `timeout` because the operation's outcome is about to be written on its
    behalf (another task commits it); False when it has run out already."""
    if timeout is None:
        return True
    if timeout.expired():
        return False
    timeout.reschedule(None)
    return True
