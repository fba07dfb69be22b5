"""Prometheus metrics: request count, latency and requests in flight, served at GET /metrics.

Why: the RED signals (rate, errors, duration) per route are what SLOs and alerts are built on.
Routes are labelled by their template (/api/v1/items/{item_id}), never the raw path, so the number
of time series stays bounded; unmatched paths share one label for the same reason.
One process per container: scale with replicas, not `--workers` (prometheus_client would need its
multiprocess mode to aggregate several workers).
"""

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

# `labels()` builds a key and takes a lock on every call; the children it returns are cached here
# (bounded: methods x route templates x statuses).
_children: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}


def record_request(method: str, route: str, status: int, duration: float) -> None:
    key = (method, route, status)
    children = _children.get(key)
    if children is None:
        label = method if method in KNOWN_METHODS else "OTHER"
        children = (REQUESTS.labels(label, route, str(status)), LATENCY.labels(label, route))
        _children[key] = children
    children[0].inc()
    children[1].observe(duration)


router = APIRouter()


@router.get("/metrics", include_in_schema=False)
def metrics() -> Response:
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
