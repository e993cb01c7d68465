"""Root subscription fields."""

import logging
from collections.abc import AsyncGenerator

import strawberry
from starlette.websockets import WebSocket

from app.live.follow import SubscriberTooSlow, follow
from app.schema.types import Session

logger = logging.getLogger(__name__)

# WebSocket close code 1013, "try again later": the client may resubscribe.
TOO_SLOW = 1013


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="The session now, then again after every committed change to it. "
        "`version` increases with each change: drop events older than one already seen."
    )
    async def session_updated(
        self,
        info: strawberry.Info,
        id: strawberry.ID,
    ) -> AsyncGenerator[Session, None]:
        context = info.context
        assert context.broker is not None
        try:
            async for view in follow(context.db, context.broker, context.caller, str(id)):
                yield Session.from_view(view)
        except SubscriberTooSlow as error:
            logger.warning("dropping a subscriber of session %s: %s", id, error)
            if isinstance(context.request, WebSocket):
                await context.request.close(code=TOO_SLOW, reason=str(error)[:120])
            return
