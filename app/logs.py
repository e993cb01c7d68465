"""Logging: JSON lines (or text) with the request id and GraphQL operation on every record."""

import logging
from typing import Any

from app.config import Settings
from app.requests_context import current


class RequestContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        info = current.get()
        record.request_id = info.request_id if info else None
        record.graphql_operation = info.graphql_operation if info else None
        # uvicorn attaches a copy of some messages with ANSI colour codes for its own
        # terminal formatter; the JSON formatter would print it as one more field.
        record.__dict__.pop("color_message", None)
        return True


def logging_config(settings: Settings) -> dict[str, Any]:
    """A dictConfig for this process; uvicorn applies it in every worker too."""
    if settings.log_format == "json":
        formatter: dict[str, Any] = {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": ["levelname", "name", "message", "request_id", "graphql_operation", "process"],
            "rename_fields": {"levelname": "level", "name": "logger"},
            "timestamp": "time",
        }
    else:
        formatter = {
            "format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s",
        }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_context": {"()": RequestContextFilter}},
        "formatters": {"default": formatter},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "default",
                "filters": ["request_context"],
            }
        },
        "root": {"level": settings.log_level, "handlers": ["stderr"]},
        "loggers": {
            # Our middleware writes one access line per request, with its id.
            "uvicorn.access": {"level": "WARNING"},
            # Alembic's step-by-step lines: the CLI says in one what a migration applied.
            "alembic": {"level": "WARNING"},
            "uvicorn": {"level": settings.log_level, "handlers": [], "propagate": True},
            "uvicorn.error": {"level": settings.log_level, "handlers": [], "propagate": True},
        },
    }
