"""Output types. Built from resolver results by `from_view`; no rules live here."""

from datetime import datetime
from typing import Self

import strawberry
from strawberry.scalars import JSON
from strawberry.types import get_object_definition

from app.ics.links import session_file_url
from app.resolvers.sessions import SessionPage, count_sessions, cursor_of
from app.resolvers.views import SessionView
from app.schema.enums import CallerRegistration, SessionKind, SessionStatus
from app.schema.requests import base_url_of
from app.snapshots import ATTRIBUTES


@strawberry.type(description="A live class or office hour that members register for.")
class Session:
    id: strawberry.ID = strawberry.field(description="The session's UUID, as text.")
    host_id: str = strawberry.field(description="The user who hosts the session.")
    brand_id: str = strawberry.field(description="The brand the session belongs to.")
    title: str
    kind: SessionKind
    category: str | None
    scheduled_at: datetime = strawberry.field(description="When the session is due to start.")
    started_at: datetime | None = strawberry.field(description="When the host went live.")
    ended_at: datetime | None = strawberry.field(description="When the host ended it.")
    status: SessionStatus
    stream_call_id: str | None = strawberry.field(description="The video call, once live.")
    max_participants: int = strawberry.field(description="Seats available.")
    duration_minutes: int | None = strawberry.field(
        description="Whole minutes between start and end, once ended."
    )
    recording_url: str | None
    metadata: JSON = strawberry.field(description="Free-form JSON object set by the host.")
    created_at: datetime
    updated_at: datetime
    registered_count: int = strawberry.field(description="Seats taken.")
    is_registered: bool = strawberry.field(description="Whether the caller holds a seat.")
    waitlist_enabled: bool = strawberry.field(
        description="Whether a full session queues newcomers (promoted first come, first served)."
    )
    waitlist_count: int = strawberry.field(description="Members waiting for a seat.")
    registration_status: CallerRegistration = strawberry.field(
        description="Where the caller stands: seated, waiting, or neither."
    )
    waitlist_position: int | None = strawberry.field(
        description="The caller's 1-based place in the waitlist; null unless WAITLISTED."
    )
    version: int = strawberry.field(description="Increases with every change to the session.")

    @strawberry.field(
        description='The session\'s calendar file (RFC 5545 .ics), for "Add to calendar": '
        "public, and kept current (a cancellation shows as STATUS:CANCELLED)."
    )
    def calendar_url(self, info: strawberry.Info) -> str:
        return session_file_url(base_url_of(info), str(self.id))

    @classmethod
    def from_view(cls, view: SessionView) -> Self:
        row = view.session
        return cls(
            **{name: getattr(row, attribute) for name, attribute in _STORED_FIELDS},
            is_registered=view.is_registered,
            registration_status=CallerRegistration.of(view.registration),
            waitlist_position=view.waitlist_position,
        )


# (field, model attribute) for the fields read straight off the stored row: every field
# named after a sessions column. The rest are the caller's view of the session.
_STORED_FIELDS = tuple(
    (field.python_name, ATTRIBUTES[field.python_name])
    for field in get_object_definition(Session, strict=True).fields
    if field.python_name in ATTRIBUTES
)


@strawberry.type
class SessionEdge:
    node: Session
    view: strawberry.Private[SessionView]

    @strawberry.field
    def cursor(self) -> str:
        # Worked out only when asked for: most lists read pageInfo.endCursor alone.
        return cursor_of(self.view.session)


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type(description="One page of sessions, ordered by scheduledAt then id.")
class SessionConnection:
    edges: list[SessionEdge]
    page_info: PageInfo
    page: strawberry.Private[SessionPage]

    @strawberry.field(description="How many sessions match the filter, on all pages.")
    async def total_count(self, info: strawberry.Info) -> int:
        return await count_sessions(info.context.db, self.page)

    @classmethod
    def from_page(cls, page: SessionPage) -> Self:
        return cls(
            edges=[SessionEdge(node=Session.from_view(view), view=view) for view in page.views],
            page_info=PageInfo(has_next_page=page.has_next_page, end_cursor=page.end_cursor),
            page=page,
        )
