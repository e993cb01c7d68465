"""What the logs and metrics need to know about the request being served."""

import re
import uuid
from contextvars import ContextVar
from dataclasses import dataclass

_REQUEST_ID = re.compile(r"[A-Za-z0-9._:@/+=-]{1,128}")


@dataclass
class RequestInfo:
    request_id: str
    graphql_operation: str | None = None


current: ContextVar[RequestInfo | None] = ContextVar("live_sessions_request", default=None)


def request_id_from(header: str | None) -> str:
    """The caller's X-Request-ID when it is a sane token, else a fresh one."""
    if header is not None and _REQUEST_ID.fullmatch(header):
        return header
    return uuid.uuid4().hex


def note_graphql_operation(name: str | None) -> None:
    info = current.get()
    if info is not None:
        info.graphql_operation = name or "anonymous"
