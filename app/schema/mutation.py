"""Root mutation fields."""

from typing import Annotated

import strawberry

from app.ics.links import feed_url
from app.resolvers import calendar, registrations
from app.resolvers import sessions as rules
from app.schema.inputs import CreateSessionInput, UpdateSessionInput
from app.schema.requests import base_url_of
from app.schema.types import Session
from app.schema.webhooks import WebhookMutation


@strawberry.type
class Mutation(WebhookMutation):
    @strawberry.mutation(description="Schedule a session. Needs the scope sessions:write.")
    async def create_session(
        self,
        info: strawberry.Info,
        input: CreateSessionInput,
        idempotency_key: Annotated[
            str | None,
            strawberry.argument(
                description="Retry-safe: the same key with the same input returns the "
                "session the first call created (for 24 hours, per caller)."
            ),
        ] = None,
    ) -> Session:
        view = await rules.create_session(
            info.context.db, info.context.caller, input.to_data(), idempotency_key
        )
        return Session.from_view(view)

    @strawberry.mutation(
        description="Take a seat for the caller (scope registrations:write). Idempotent; "
        "SESSION_FULL when no seat is left, REGISTRATION_CLOSED unless SCHEDULED or LIVE."
    )
    async def register_for_session(
        self, info: strawberry.Info, session_id: strawberry.ID
    ) -> Session:
        view = await registrations.register_for_session(
            info.context.db, info.context.caller, str(session_id)
        )
        return Session.from_view(view)

    @strawberry.mutation(
        description="Give the caller's seat back (scope registrations:write). Idempotent."
    )
    async def unregister_from_session(
        self, info: strawberry.Info, session_id: strawberry.ID
    ) -> Session:
        view = await registrations.unregister_from_session(
            info.context.db, info.context.caller, str(session_id)
        )
        return Session.from_view(view)

    @strawberry.mutation(description="Change a SCHEDULED session. Host or admin only.")
    async def update_session(
        self,
        info: strawberry.Info,
        id: strawberry.ID,
        input: UpdateSessionInput,
    ) -> Session:
        view = await rules.update_session(
            info.context.db, info.context.caller, str(id), input.to_data()
        )
        return Session.from_view(view)

    @strawberry.mutation(
        description="SCHEDULED -> LIVE. Sets startedAt and streamCallId (generated when omitted)."
    )
    async def start_session(
        self,
        info: strawberry.Info,
        id: strawberry.ID,
        stream_call_id: str | None = None,
    ) -> Session:
        view = await rules.start_session(
            info.context.db, info.context.caller, str(id), stream_call_id
        )
        return Session.from_view(view)

    @strawberry.mutation(description="LIVE -> ENDED. Sets endedAt, durationMinutes, recordingUrl.")
    async def end_session(
        self,
        info: strawberry.Info,
        id: strawberry.ID,
        recording_url: str | None = None,
    ) -> Session:
        view = await rules.end_session(info.context.db, info.context.caller, str(id), recording_url)
        return Session.from_view(view)

    @strawberry.mutation(description="SCHEDULED -> CANCELLED. Host or admin only.")
    async def cancel_session(self, info: strawberry.Info, id: strawberry.ID) -> Session:
        view = await rules.cancel_session(info.context.db, info.context.caller, str(id))
        return Session.from_view(view)

    @strawberry.mutation(
        description="The caller's personal calendar feed: every session they hold a seat or "
        "a waitlist place in, as an address to subscribe to. The same address every time, "
        "until resetCalendarFeedUrl; anyone who has it can read the feed."
    )
    async def calendar_feed_url(self, info: strawberry.Info) -> str:
        context = info.context
        token = await calendar.feed_token(context.db, context.caller, context.feed_key)
        return feed_url(base_url_of(info), token)

    @strawberry.mutation(
        description="A new address for the caller's calendar feed; the old one stops "
        "working at once (404)."
    )
    async def reset_calendar_feed_url(self, info: strawberry.Info) -> str:
        context = info.context
        token = await calendar.reset_feed_token(context.db, context.caller, context.feed_key)
        return feed_url(base_url_of(info), token)
