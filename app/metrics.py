"""Prometheus metrics: per-route HTTP, per-operation GraphQL, and the connection pool.

Label values are few by construction: routes are templates, and GraphQL operation
names are admitted by `OperationNames`.

With several workers, `live-sessions serve` points PROMETHEUS_MULTIPROC_DIR at a
fresh directory before they start; every worker then writes its samples there and
/metrics, whichever worker answers, aggregates them all.
"""

import os
import re
from typing import Any, TypeVar

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.metrics import MetricWrapperBase
from sqlalchemy.pool import QueuePool

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

HTTP_REQUESTS = Counter(
    "http_requests_total", "HTTP requests answered.", ["method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "http_request_duration_seconds",
    "Time to answer an HTTP request.",
    ["method", "route"],
    buckets=LATENCY_BUCKETS,
)
GRAPHQL_OPERATIONS = Counter(
    "graphql_operations_total",
    "GraphQL operations executed (REST calls included, as the mutation they run).",
    ["operation", "type", "outcome"],
)
GRAPHQL_LATENCY = Histogram(
    "graphql_operation_duration_seconds",
    "Time to execute a GraphQL operation.",
    ["operation", "type"],
    buckets=LATENCY_BUCKETS,
)
CONNECTIONS_REFUSED = Counter(
    "http_connections_refused_total",
    "Connections closed, or requests answered, before the app saw them: head_too_large (431), "
    "head_timeout, evicted (an idle or slow connection closed to make room), over_capacity (503).",
    ["reason"],
)
DB_STATEMENTS = Counter("db_statements_total", "SQL statements sent to the database.")
POOL_IN_USE = Gauge(
    "db_pool_connections_in_use",
    "Database connections checked out of the pool.",
    multiprocess_mode="livesum",
)
POOL_IDLE = Gauge(
    "db_pool_connections_idle",
    "Open database connections waiting in the pool.",
    multiprocess_mode="livesum",
)
POOL_CAPACITY = Gauge(
    "db_pool_capacity",
    "Connections the pool may open (size + overflow).",
    multiprocess_mode="livesum",
)


# What a GraphQL operation name may be to name anything (a label, a log field): the
# spec's Name, at most 64 characters. Names are the client's choice, so anything else
# is `other`.
OPERATION_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")


class OperationNames:
    """The operation names this process's metrics may label: the first `limit` to come.

    Each label value is a set of series held in memory for the life of the process and
    written at every scrape (about 2 KB for a counter and a histogram), so a client
    inventing names would otherwise grow both without bound. Later names are `other`.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._admitted: set[str] = set()

    def label(self, name: str) -> str:
        if name in self._admitted:
            return name
        if len(self._admitted) >= self.limit:
            return "other"
        self._admitted.add(name)
        return name


Metric = TypeVar("Metric", bound=MetricWrapperBase)
_CHILDREN: dict[tuple[MetricWrapperBase, tuple[str, ...]], Any] = {}


def labelled(metric: Metric, *values: str) -> Metric:
    """`metric.labels(*values)`, remembered: `labels` validates the values and takes a
    lock on every call, and a request names the same few series again and again. The
    metric keeps every child it made anyway, so remembering them holds nothing more."""
    key = (metric, values)
    child = _CHILDREN.get(key)
    if child is None:
        child = _CHILDREN[key] = metric.labels(*values)
    return child


def observe_pool(pool: object, capacity: int) -> None:
    if isinstance(pool, QueuePool):
        POOL_IN_USE.set(pool.checkedout())
        POOL_IDLE.set(pool.checkedin())
    POOL_CAPACITY.set(capacity)


def exposition() -> tuple[bytes, str]:
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
