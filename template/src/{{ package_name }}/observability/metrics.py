"""Prometheus metrics: request count, latency and requests in flight, served at GET /metrics.

Why: the RED signals (rate, errors, duration) per route are what SLOs and alerts are built on.
Routes are labelled by their template (/api/v1/items/{item_id}), never the raw path, so the number
of time series stays bounded; unmatched paths share one label for the same reason.
One process per container: scale with replicas, not `--workers` (prometheus_client would need its
multiprocess mode to aggregate several workers).

The database pool's gauges are read from the pool when Prometheus scrapes (PoolCollector), not
updated on every checkout: nothing is added to a query's path.
"""

from collections.abc import Iterator

from fastapi import APIRouter
from fastapi.responses import Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy.pool import Pool, QueuePool

UNMATCHED_ROUTE = "<unmatched>"

REQUESTS = Counter("http_requests_total", "HTTP requests handled.", ["method", "route", "status"])
LATENCY = Histogram(
    "http_request_duration_seconds",
    "Time from receiving a request to sending the last byte of its response.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0, 2.5, 5.0, 10.0),
)
IN_PROGRESS = Gauge("http_requests_in_progress", "HTTP requests being handled right now.")


# Any token is a valid HTTP method; unknown ones share a label so clients cannot add series.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

# `labels()` builds a key and takes a lock on every call; the children it returns are cached here,
# keyed by the labels themselves (8 methods x route templates x statuses), never by what the client
# sent, and capped anyway: past the cap a child is looked up on each call, which is only slower.
CHILDREN_CACHE_LIMIT = 4096
_children: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}


def record_request(method: str, route: str, status: int, duration: float) -> None:
    label = method if method in KNOWN_METHODS else "OTHER"
    key = (label, route, status)
    children = _children.get(key)
    if children is None:
        children = (REQUESTS.labels(label, route, str(status)), LATENCY.labels(label, route))
        if len(_children) < CHILDREN_CACHE_LIMIT:
            _children[key] = children
    children[0].inc()
    children[1].observe(duration)


class PoolCollector(Collector):
    """`db_pool_connections_in_use` and `db_pool_connections_max`, read from the pools when scraped.

    The lifespan (main.py) attaches its engine's pool at start-up and detaches it at shutdown. One
    collector is registered once, at import, like the metrics above: apps created one after another
    (tests) never register a name twice, and with no pool attached the gauges are simply absent.
    Several pools attached at once (apps running side by side in one process) are summed.

    Both databases' engines use SQLAlchemy's own QueuePool (AsyncAdaptedQueuePool): with the
    PostgreSQL option asyncpg's connections are pooled by SQLAlchemy, not by asyncpg.Pool, and a
    SQLite file gets the same pool with SQLAlchemy's defaults (5 + 10 overflow). Pools without a
    limit (in-memory SQLite's StaticPool, NullPool) have nothing to report and are not attached.
    """

    def __init__(self) -> None:
        self._pools: list[QueuePool] = []

    def attach(self, pool: Pool) -> None:
        if isinstance(pool, QueuePool):
            self._pools.append(pool)

    def detach(self, pool: Pool) -> None:
        if pool in self._pools:
            self._pools.remove(pool)

    def collect(self) -> Iterator[Metric]:
        if not self._pools:
            return
        yield GaugeMetricFamily(
            "db_pool_connections_in_use",
            "Database connections checked out of the pool right now.",
            value=sum(pool.checkedout() for pool in self._pools),
        )
        yield GaugeMetricFamily(
            "db_pool_connections_max",
            "Most connections the pool opens: pool size plus max overflow.",
            # SQLAlchemy has no public accessor for the overflow limit; the attribute is stable.
            value=sum(pool.size() + pool._max_overflow for pool in self._pools),
        )


POOLS = PoolCollector()
REGISTRY.register(POOLS)


router = APIRouter()


@router.get("/metrics", include_in_schema=False)
def metrics() -> Response:
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
