"""Root query fields."""

import strawberry

from app.resolvers import sessions as rules
from app.schema.inputs import SessionFilter
from app.schema.types import Session, SessionConnection
from app.schema.webhooks import WebhookQuery


def session_filter(given: SessionFilter | None) -> rules.SessionFilter:
    """The rules' filter for the `filter` argument of `sessions` (compiled reads too)."""
    return given.to_data() if given else rules.SessionFilter()


@strawberry.type
class Query(WebhookQuery):
    @strawberry.field(description="A session by id; null when unknown or malformed.")
    async def session(self, info: strawberry.Info, id: strawberry.ID) -> Session | None:
        view = await rules.get_session(info.context.db, info.context.caller, str(id))
        return None if view is None else Session.from_view(view)

    @strawberry.field(
        description="Sessions in (scheduledAt, id) order, `first` (1..100) at a time."
    )
    async def sessions(
        self,
        info: strawberry.Info,
        filter: SessionFilter | None = None,
        first: int = 20,
        after: str | None = None,
    ) -> SessionConnection:
        page = await rules.list_sessions(
            info.context.db,
            info.context.caller,
            session_filter(filter),
            first=first,
            after=after,
        )
        return SessionConnection.from_page(page)
