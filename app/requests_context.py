"""What the logs and metrics need to know about the request being served."""

import re
import uuid
from contextvars import ContextVar
from dataclasses import dataclass

from starlette.types import Scope

from app.ics.links import FEED_PREFIX

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


# Paths whose rest is a secret (a calendar feed's token: calendar apps cannot send headers).
SECRET_PATH_PREFIXES = (FEED_PREFIX,)


def path_for_logs(scope: Scope) -> str:
    """The request's path with any secret in it replaced: logs are read by more people,
    and kept longer, than the secrets they would otherwise hold."""
    path: str = scope["path"]
    for prefix in SECRET_PATH_PREFIXES:
        if path.startswith(prefix):
            return prefix + "[redacted]"
    return path
