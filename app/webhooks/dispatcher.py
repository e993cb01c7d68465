"""The dispatcher: a lifespan task in every process, another consumer of the outbox.

Each round it fans new outbox events out into deliveries, claims due deliveries up to
its free capacity, and starts one task per claimed delivery, which sends it and
records the outcome (app.webhooks.store). A round starts when woken (a commit in this
process; on PostgreSQL, another process's wake-up heard by the relay; a finished
delivery, whose successor in order may now be due) and at least every
WEBHOOKS_POLL_INTERVAL_S.

On SQLite one process dispatches at a time, whichever holds the lease on the position
row; the others wait their turn. On PostgreSQL every process dispatches.
"""

import asyncio
import contextlib
import logging
import random
import uuid
from collections import Counter
from typing import Any

import httpx

from app.config import Settings
from app.db import Database
from app.resolvers import clock
from app.webhooks import store
from app.webhooks.delivery import Outcome, attempt, new_client
from app.webhooks.signing import headers

logger = logging.getLogger(__name__)

# The shortest time between two rounds. Every commit wakes the dispatcher, and a round
# is a few write transactions (on SQLite, each holding the one writer): without a gap a
# burst of registrations would pay for a round per commit. A round picks up everything
# committed before it, so the gap only delays a delivery, by at most this long.
ROUND_GAP_S = 0.2


class Dispatcher:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._sqlite = settings.is_sqlite
        self.name = uuid.uuid4().hex[:16]  # this process's claims and lease
        self._woken = asyncio.Event()
        self._in_flight: Counter[str] = Counter()  # endpoint id -> deliveries under way
        self._sending: set[asyncio.Task[None]] = set()
        self._rng = random.Random()  # noqa: S311 - jitter, not a secret
        self._client: httpx.AsyncClient | None = None
        self._task: asyncio.Task[None] | None = None
        self._requests: set[asyncio.Task[Outcome]] = set()  # HTTP requests under way
        self._stopping = False

    def wake(self, _changes: Any = None) -> None:
        """Look for work now (a `Database` after-commit consumer, among others)."""
        self._woken.set()

    async def start(self, db: Database) -> None:
        self._db = db
        self._client = new_client(self._settings.webhooks_max_in_flight)
        self._task = asyncio.create_task(self._run(), name="webhooks-dispatcher")

    async def stop(self) -> None:
        """Stop soon: requests under way are abandoned (their leases lapse), but a
        database step under way finishes, so no connection is left mid-statement."""
        self._stopping = True
        self._woken.set()
        for request in self._requests:
            request.cancel()
        tasks = [task for task in (self._task, *self._sending) if task is not None]
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._client is not None:
            await self._client.aclose()

    async def _run(self) -> None:
        poll = self._settings.webhooks_poll_interval_s
        ready = False
        while not self._stopping:
            try:
                if not ready:
                    await store.ensure_position(self._db)
                    ready = True
                self._woken.clear()  # before looking: a later wake-up looks again
                await self._round()
            except Exception:
                logger.warning("webhook dispatch failed; trying again", exc_info=True)
            await asyncio.sleep(ROUND_GAP_S)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(poll):
                    await self._woken.wait()

    async def _round(self) -> None:
        settings = self._settings
        if self._sqlite and not await store.lead(
            self._db, self.name, clock.now(), settings.webhooks_lease_s
        ):
            return
        await store.fan_out(self._db, clock.now())
        free = settings.webhooks_max_in_flight - len(self._sending)
        if free <= 0 or self._stopping:
            return
        claimed = await store.claim(
            self._db,
            self.name,
            clock.now(),
            limit=free,
            busy=dict(self._in_flight),
            per_endpoint=settings.webhooks_max_in_flight_per_endpoint,
            lease_s=settings.webhooks_lease_s,
        )
        for delivery in claimed:
            self._in_flight[delivery.endpoint_id] += 1
            task = asyncio.create_task(self._send(delivery), name=f"webhook-{delivery.id}")
            self._sending.add(task)

    async def _send(self, delivery: store.Claimed) -> None:
        settings = self._settings
        assert self._client is not None
        attempted_at = clock.now()
        timestamp = int(attempted_at.timestamp())
        request = asyncio.create_task(
            attempt(
                self._client,
                delivery.url,
                headers(delivery.secrets, delivery.message_id, timestamp, delivery.body),
                delivery.body,
                timeout_s=settings.webhooks_timeout_s,
                allow_insecure=settings.webhooks_allow_insecure,
            )
        )
        self._requests.add(request)
        try:
            outcome = await request
            await store.record(
                self._db,
                self.name,
                delivery,
                outcome,
                attempted_at=attempted_at,
                now=clock.now(),
                settings=settings,
                rng=self._rng,
            )
        except asyncio.CancelledError:
            pass  # stopping: unrecorded, the lease lapses and it is sent again
        except Exception:
            # Unrecorded: the lease lapses and the delivery is sent again.
            logger.warning("webhook delivery %s failed to record", delivery.id, exc_info=True)
        finally:
            self._requests.discard(request)
            self._in_flight[delivery.endpoint_id] -= 1
            if self._in_flight[delivery.endpoint_id] <= 0:
                del self._in_flight[delivery.endpoint_id]
            self._sending.discard(asyncio.current_task())
            self._woken.set()
