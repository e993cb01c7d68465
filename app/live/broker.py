"""In-process fan-out of session events to subscribers, each with a bounded queue."""

import asyncio
from collections import defaultdict

from app.events import SessionEvent


class Overflow:
    """Put in a subscriber's queue in place of the events it could not keep up with."""


OVERFLOW = Overflow()


class Subscription:
    def __init__(self, session_id: str, max_queued: int) -> None:
        self.session_id = session_id
        self.queue: asyncio.Queue[SessionEvent | Overflow] = asyncio.Queue(max_queued)

    def offer(self, event: SessionEvent) -> None:
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            # Too slow to keep up: drop what it has not read and tell it so, instead of
            # letting memory grow; its consumer closes the subscription.
            while not self.queue.empty():
                self.queue.get_nowait()
            self.queue.put_nowait(OVERFLOW)


class Broker:
    """Delivers each published event to the current subscribers of its session."""

    def __init__(self, max_queued: int = 100) -> None:
        self.max_queued = max_queued
        self._subscriptions: defaultdict[str, set[Subscription]] = defaultdict(set)

    def subscribe(self, session_id: str) -> Subscription:
        subscription = Subscription(session_id, self.max_queued)
        self._subscriptions[session_id].add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        subscribers = self._subscriptions.get(subscription.session_id)
        if subscribers is not None:
            subscribers.discard(subscription)
            if not subscribers:
                del self._subscriptions[subscription.session_id]

    def publish(self, events: list[SessionEvent]) -> None:
        for event in events:
            for subscription in list(self._subscriptions.get(event.session_id, ())):
                subscription.offer(event)
