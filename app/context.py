"""The per-request context every resolver receives."""

from dataclasses import dataclass

from starlette.authentication import BaseUser
from starlette.requests import HTTPConnection

from app.auth import Caller, require_caller
from app.db import Database
from app.live.broker import Broker


@dataclass
class AppContext:
    """Holds a database handle (never a live session) and who is asking."""

    db: Database
    user: BaseUser
    # Derives members' calendar feed tokens (app.resolvers.calendar).
    feed_key: bytes
    request: HTTPConnection | None = None
    broker: Broker | None = None
    # A WebSocket's connection_init payload; Strawberry fills it in.
    connection_params: object = None
    # The result goes out as an HTTP body, which may carry `data` as the JSON text a
    # compiled read returns (app.compiler); other transports read `data` as objects.
    takes_compiled_data: bool = False

    @property
    def caller(self) -> Caller:
        """The authenticated caller; raises `Unauthenticated` for anyone else."""
        return require_caller(self.user)


def build_context(connection: HTTPConnection) -> AppContext:
    """The context for one HTTP request or WebSocket, from lifespan state and auth."""
    state = connection.state
    return AppContext(
        db=state.db,
        user=connection.user,
        feed_key=state.feed_key,
        request=connection,
        broker=state.broker,
    )
