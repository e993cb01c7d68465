"""Root mutation fields."""

import strawberry

from app.resolvers import sessions as rules
from app.schema.inputs import CreateSessionInput
from app.schema.types import Session


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Schedule a session. Needs the scope sessions:write.")
    async def create_session(self, info: strawberry.Info, input: CreateSessionInput) -> Session:
        view = await rules.create_session(info.context.db, info.context.caller, input.to_data())
        return Session.from_view(view)
