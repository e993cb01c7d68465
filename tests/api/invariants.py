"""The seat and waitlist invariants, read straight from the database."""

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from app.config import Settings
from tests.helpers import throwaway_engine


async def session_state(
    settings: Settings, session_id: str, engine: AsyncEngine | None = None
) -> dict[str, Any]:
    """Counters and rows of one session; pass `engine` to reuse one across calls."""
    if engine is None:
        async with throwaway_engine(settings) as own:
            return await session_state(settings, session_id, own)
    async with engine.connect() as connection:
        session = (
            await connection.execute(
                sa.text(
                    "SELECT registered_count, waitlist_count, max_participants, status"
                    " FROM sessions WHERE id = :id"
                ),
                {"id": session_id},
            )
        ).one()
        rows = (
            await connection.execute(
                sa.text(
                    "SELECT user_id, status, ticket FROM registrations"
                    " WHERE session_id = :id ORDER BY ticket, user_id"
                ),
                {"id": session_id},
            )
        ).all()
    registered = [row.user_id for row in rows if row.status == "registered"]
    waitlisted = [row for row in rows if row.status == "waitlisted"]
    return {
        "registered_count": session.registered_count,
        "waitlist_count": session.waitlist_count,
        "max_participants": session.max_participants,
        "status": session.status,
        "registered": registered,
        "waitlist": [row.user_id for row in sorted(waitlisted, key=lambda row: row.ticket)],
        "tickets": [row.ticket for row in waitlisted],
        "seated_tickets": [row.ticket for row in rows if row.status == "registered"],
    }


async def assert_invariants(
    settings: Settings, session_id: str, engine: AsyncEngine | None = None
) -> dict[str, Any]:
    state = await session_state(settings, session_id, engine)
    assert state["registered_count"] == len(state["registered"]) <= state["max_participants"]
    assert state["waitlist_count"] == len(state["waitlist"])
    assert len(set(state["tickets"])) == len(state["tickets"]), "two members share a place"
    assert None not in state["tickets"]
    assert all(ticket is None for ticket in state["seated_tickets"]), (
        "a seated member kept a ticket"
    )
    if state["status"] in ("scheduled", "live") and state["waitlist"]:
        assert state["registered_count"] == state["max_participants"], "a seat sits empty"
    return state
