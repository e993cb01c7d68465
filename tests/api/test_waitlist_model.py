"""A hypothesis state machine drives the waitlist through the HTTP app against a model.

Rules register, unregister, resize, toggle the waitlist and cancel; after every
step each member's status and place, the counters, and the database invariants
must match the model exactly.
"""

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

import httpx
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy.ext.asyncio import AsyncEngine

from app.config import Settings
from app.db import create_engine
from tests.api.invariants import assert_invariants
from tests.helpers import app_client, auth, graphql

MEMBERS = [f"m{index}" for index in range(7)]
FIELDS = "registeredCount waitlistCount registrationStatus waitlistPosition"
CREATE = "mutation($i: CreateSessionInput!) { createSession(input: $i) { id } }"


def machine_for(
    run: Callable[[Coroutine[Any, Any, Any]], Any],
    client: httpx.AsyncClient,
    db: Settings,
    engine: AsyncEngine,
) -> type[RuleBasedStateMachine]:
    class WaitlistMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.seats = 2
            self.enabled = True
            self.open = True
            self.registered: list[str] = []
            self.waitlist: list[str] = []
            created = run(
                graphql(
                    client,
                    CREATE,
                    {
                        "i": {
                            "hostId": "host-1",
                            "brandId": "b",
                            "title": "model",
                            "scheduledAt": "2030-01-01T00:00:00Z",
                            "maxParticipants": self.seats,
                            "waitlistEnabled": True,
                        }
                    },
                )
            )
            self.session_id = created["data"]["createSession"]["id"]

        def mutate(self, query: str, variables: dict[str, Any], user: str = "host-1") -> str:
            body = run(
                graphql(client, query, {"id": self.session_id, **variables}, headers=auth(user))
            )
            return body["errors"][0]["extensions"]["code"] if body.get("errors") else "OK"

        def promote(self) -> None:
            if not self.open:
                return
            while self.waitlist and len(self.registered) < self.seats:
                self.registered.append(self.waitlist.pop(0))

        @rule(member=st.sampled_from(MEMBERS))
        def register(self, member: str) -> None:
            outcome = self.mutate(
                "mutation($id: ID!) { registerForSession(sessionId: $id) { id } }", {}, member
            )
            if member in self.registered or member in self.waitlist:
                expected = "OK"
            elif not self.open:
                expected = "REGISTRATION_CLOSED"
            elif len(self.registered) < self.seats:
                expected = "OK"
                self.registered.append(member)
            elif self.enabled:
                expected = "OK"
                self.waitlist.append(member)
            else:
                expected = "SESSION_FULL"
            assert outcome == expected

        @rule(member=st.sampled_from(MEMBERS))
        def unregister(self, member: str) -> None:
            outcome = self.mutate(
                "mutation($id: ID!) { unregisterFromSession(sessionId: $id) { id } }", {}, member
            )
            if member not in self.registered and member not in self.waitlist:
                expected = "OK"
            elif not self.open:
                expected = "REGISTRATION_CLOSED"
            else:
                expected = "OK"
                if member in self.registered:
                    self.registered.remove(member)
                else:
                    self.waitlist.remove(member)
                self.promote()
            assert outcome == expected

        @rule(seats=st.integers(min_value=1, max_value=6))
        def resize(self, seats: int) -> None:
            outcome = self.mutate(
                "mutation($id: ID!, $n: Int) { updateSession(id: $id, input: {maxParticipants: $n}) { id } }",
                {"n": seats},
            )
            if not self.open:
                expected = "INVALID_TRANSITION"
            elif seats < len(self.registered):
                expected = "BAD_USER_INPUT"
            else:
                expected = "OK"
                self.seats = seats
                self.promote()
            assert outcome == expected

        @rule(enabled=st.booleans())
        def toggle(self, enabled: bool) -> None:
            outcome = self.mutate(
                "mutation($id: ID!, $on: Boolean) { updateSession(id: $id, input: {waitlistEnabled: $on}) { id } }",
                {"on": enabled},
            )
            if self.open:
                self.enabled = enabled
            assert outcome == ("OK" if self.open else "INVALID_TRANSITION")

        # Closing ends a run's interesting part: only once people are waiting.
        @precondition(lambda self: len(self.waitlist) >= 2)
        @rule()
        def cancel(self) -> None:
            outcome = self.mutate("mutation($id: ID!) { cancelSession(id: $id) { id } }", {})
            assert outcome == ("OK" if self.open else "INVALID_TRANSITION")
            self.open = False

        @invariant()
        def matches_the_model(self) -> None:
            state = run(assert_invariants(db, self.session_id, engine))
            assert state["registered_count"] == len(self.registered)
            assert sorted(state["registered"]) == sorted(self.registered)
            assert state["waitlist"] == self.waitlist
            # And through the API, as one member (a different one each step) sees it.
            self.turn = getattr(self, "turn", -1) + 1
            member = MEMBERS[self.turn % len(MEMBERS)]
            body = run(
                graphql(
                    client,
                    f"query($id: ID!) {{ session(id: $id) {{ {FIELDS} }} }}",
                    {"id": self.session_id},
                    headers=auth(member),
                )
            )
            seen = body["data"]["session"]
            assert (seen["registeredCount"], seen["waitlistCount"]) == (
                len(self.registered),
                len(self.waitlist),
            )
            if member in self.registered:
                expected = ("REGISTERED", None)
            elif member in self.waitlist:
                expected = ("WAITLISTED", self.waitlist.index(member) + 1)
            else:
                expected = ("NONE", None)
            assert (seen["registrationStatus"], seen["waitlistPosition"]) == expected

    return WaitlistMachine


def test_waitlist_matches_its_model_after_every_step(schema_ready: Settings) -> None:
    with asyncio.Runner() as runner:
        clients = app_client(schema_ready)
        client = runner.run(clients.__aenter__())
        engine = create_engine(schema_ready)
        try:
            machine = machine_for(runner.run, client, schema_ready, engine)
            run_state_machine_as_test(
                machine,
                settings=settings(
                    max_examples=30,
                    stateful_step_count=30,
                    deadline=None,
                    suppress_health_check=[HealthCheck.too_slow],
                ),
            )
        finally:
            runner.run(engine.dispose())
            runner.run(clients.__aexit__(None, None, None))
