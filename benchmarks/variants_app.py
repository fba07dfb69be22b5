"""The generated service with parts of its request pipeline switched off or swapped: for profiling.

benchmarks/components.py copies this file into a rendered project (src/bench_variants.py) and
serves `bench_variants:app` under the same uvicorn flags as the service, one variant per server,
chosen by environment variables:

BENCH_PIPELINE  "off": the service without its middleware; "all" (default): the whole pipeline;
                "none": the middleware with every component a no-op; else the comma-separated
                components kept on (request-id, security-headers,
                metrics, access-log); the others are replaced by no-ops in the middleware module.
BENCH_SECURITY  "all" (default): every security layer main.py adds (ALLOWED_HOSTS and
                CORS_ORIGINS decide whether hosts and cors are among them); "off": none; else the
                comma-separated layers kept (request-limits, hosts, cors, authentication,
                rate-limit). HEAD as GET is the pipeline's own (security/head.py), not a layer.
BENCH_TUNE      comma-separated experiments applied on top (see TUNINGS): candidate changes to
                the template, measured here before anyone edits template/.
BENCH_PACKAGE   the service's package (default my_service).

Nothing here is imported by the service; it patches names in the rendered copy's modules at start.
"""

from __future__ import annotations

import asyncio
import bisect
import importlib
import json
import os
import sys
import threading
import time
import types
from collections.abc import Callable, Sequence
from typing import Any

import structlog

PACKAGE = os.environ.get("BENCH_PACKAGE", "my_service")
middleware: Any = importlib.import_module(f"{PACKAGE}.middleware")
service_main: Any = importlib.import_module(f"{PACKAGE}.main")
metrics: Any = importlib.import_module(f"{PACKAGE}.observability.metrics")
logs: Any = importlib.import_module(f"{PACKAGE}.observability.logs")
access_log: Any = importlib.import_module(f"{PACKAGE}.observability.access_log")
# The security layers main.py adds inside the pipeline, by BENCH_SECURITY name.
SECURITY_LAYERS = {
    "request-limits": ("security.request_limits", "RequestLimitsMiddleware"),
    "hosts": ("security.hosts", "TrustedHostsMiddleware"),
    "cors": ("security.cors", "CorsMiddleware"),
    "authentication": ("auth.authentication", "AuthenticationMiddleware"),
    "rate-limit": ("security.rate_limit", "RateLimitMiddleware"),
}


def _noop(*_: object, **__: object) -> None:
    return None


class _NoGauge:
    inc = dec = staticmethod(_noop)


_NO_STRUCTLOG = types.SimpleNamespace(
    contextvars=types.SimpleNamespace(clear_contextvars=_noop, bind_contextvars=_noop)
)

# What switching a component off replaces in the middleware module's namespace.
COMPONENTS_OFF: dict[str, dict[str, object]] = {
    "request-id": {"request_id_from": lambda _headers: "0" * 32, "structlog": _NO_STRUCTLOG},
    "security-headers": {"security_headers_for": lambda _path, _scheme: []},
    "metrics": {"record_request": _noop, "IN_PROGRESS": _NoGauge()},
    "access-log": {"log_request": _noop},
}


def patch(module: Any, name: str, value: object) -> None:
    if not hasattr(module, name):  # The template changed: fail loudly rather than measure nothing.
        raise AttributeError(f"{module.__name__} has no {name}; update benchmarks/variants_app.py")
    setattr(module, name, value)


# --- tunings: candidate template changes ---------------------------------------------------------


def tune_token_request_id() -> None:
    """request_id.py: os.urandom(16).hex() instead of uuid.uuid4().hex (same 128 random bits)."""
    original = middleware.request_id_from

    def request_id_from(headers: list[tuple[bytes, bytes]]) -> str:
        for name, _value in headers:
            if name == b"x-request-id":
                return str(original(headers))
        return os.urandom(16).hex()

    patch(middleware, "request_id_from", request_id_from)


def tune_metric_children() -> None:
    """metrics.py: cache the labelled children instead of calling .labels() on every request."""
    children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    def record_request(method: str, route: str, status: int, duration: float) -> None:
        key = (method, route, status)
        pair = children.get(key)
        if pair is None:
            pair = children[key] = (
                metrics.REQUESTS.labels(method, route, str(status)),
                metrics.LATENCY.labels(method, route),
            )
        pair[0].inc()
        pair[1].observe(duration)

    patch(middleware, "record_request", record_request)


def tune_no_clear() -> None:
    """middleware.py: no clear_contextvars(); uvicorn runs each request in a fresh task context."""
    bind = structlog.contextvars.bind_contextvars
    patch(
        middleware,
        "structlog",
        types.SimpleNamespace(
            contextvars=types.SimpleNamespace(clear_contextvars=_noop, bind_contextvars=bind)
        ),
    )


def _reconfigure(**changes: Any) -> None:
    """Re-run structlog.configure with the service's settings but some parts replaced."""
    config = structlog.get_config()
    structlog.configure(**{**config, **changes})


def _fast_renderer() -> Callable[[Any, str, dict[str, Any]], str]:
    encode = json.JSONEncoder(default=repr).encode  # Built once; json.dumps(default=...) is not.

    def render(_logger: Any, _name: str, event_dict: dict[str, Any]) -> str:
        return encode(event_dict)

    return render


def tune_fast_json() -> None:
    """logs.py: render with one prebuilt json.JSONEncoder instead of JSONRenderer's json.dumps."""
    processors = structlog.get_config()["processors"]
    assert isinstance(processors[-1], structlog.processors.JSONRenderer)
    _reconfigure(processors=[*processors[:-1], _fast_renderer()])


def _fast_timestamp(_logger: Any, _name: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    now = time.time()
    seconds = int(now)
    fraction = int((now - seconds) * 1e6)
    event_dict["timestamp"] = (
        f"{time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime(seconds))}.{fraction:06d}Z"
    )
    return event_dict


def tune_fast_timestamp() -> None:
    """logs.py: format the UTC timestamp from time.time() instead of TimeStamper(fmt="iso")."""
    processors = structlog.get_config()["processors"]
    stamper = next(
        i for i, p in enumerate(processors) if isinstance(p, structlog.processors.TimeStamper)
    )
    _reconfigure(processors=[*processors[:stamper], _fast_timestamp, *processors[stamper + 1 :]])


class _UnflushedLogger:
    """WriteLogger without the flush per line: the stream's buffer is flushed when full (8 KiB)."""

    def __init__(self, file: Any) -> None:
        self._write = file.write
        self._lock = threading.Lock()

    def msg(self, message: str) -> None:
        with self._lock:
            self._write(message + "\n")

    log = debug = info = warn = warning = error = critical = exception = fatal = msg


def tune_no_flush() -> None:
    """logs.py: a logger factory that writes without flushing each line."""
    stream = sys.__stdout__ or sys.stdout
    _reconfigure(logger_factory=lambda *_: _UnflushedLogger(stream))


def tune_gauge_function() -> None:
    """metrics.py: count in-flight requests in a plain int, read by Gauge.set_function at scrape."""

    class InFlight:
        count = 0

        def inc(self) -> None:
            self.count += 1

        def dec(self) -> None:
            self.count -= 1

    in_flight = InFlight()
    metrics.IN_PROGRESS.set_function(lambda: in_flight.count)
    patch(middleware, "IN_PROGRESS", in_flight)


_encode_str = json.encoder.encode_basestring_ascii  # type: ignore[attr-defined]  # C, as json.dumps
_clock: list[Any] = [-1, ""]  # The second last formatted, and its "YYYY-MM-DDTHH:MM:SS".


def _utc_timestamp() -> str:
    """ISO 8601 UTC with microseconds, as TimeStamper(fmt="iso", utc=True) writes it; strftime
    once a second, not once a request."""
    now = time.time()
    second = int(now)
    if second != _clock[0]:
        _clock[0], _clock[1] = second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
    return f"{_clock[1]}.{int((now - second) * 1e6):06d}Z"


class _BufferedWriter:
    """Writes to the stream's buffer and has the event loop flush it at most 50 ms later."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self._pending = False

    def write(self, line: str) -> None:
        self._stream.write(line)
        if self._pending:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self._stream.flush()
            return
        self._pending = True
        loop.call_later(0.05, self._flush)

    def _flush(self) -> None:
        self._pending = False
        self._stream.flush()


class _FlushingWriter:
    def __init__(self, stream: Any) -> None:
        self._write, self._flush = stream.write, stream.flush

    def write(self, line: str) -> None:
        self._write(line)
        self._flush()


def _lean_access_log(writer: Any) -> None:
    request_ids = structlog.contextvars._CONTEXT_VARS  # Stands for passing request_id in.

    def log_request(
        *,
        method: str,
        route: str,
        path: str,
        status: int,
        duration: float,
        client: str | None,
        request_id: str | None = None,  # Passed in by templates since b3d680f.
    ) -> None:
        if request_id is None:
            var = request_ids.get("structlog_request_id")
            request_id = var.get() if var is not None else None
        writer.write(
            f'{{"method": {_encode_str(method)}, "route": {_encode_str(route)}, '
            f'"path": {_encode_str(path)}, "status": {status}, '
            f'"duration_ms": {round(duration * 1000, 3)!r}, '
            f'"client": {_encode_str(client) if client is not None else "null"}, '
            f'"event": "request", '
            f'"request_id": {_encode_str(request_id) if request_id is not None else "null"}, '
            f'"level": "info", "timestamp": "{_utc_timestamp()}"}}\n'
        )

    patch(middleware, "log_request", log_request)


def tune_lean_access_log() -> None:
    """access_log.py: format the line with an f-string (same JSON), write and flush it."""
    _lean_access_log(_FlushingWriter(sys.__stdout__ or sys.stdout))


def tune_lean_access_log_buffered() -> None:
    """access_log.py: as lean-access-log, but the event loop flushes at most every 50 ms."""
    _lean_access_log(_BufferedWriter(sys.__stdout__ or sys.stdout))


class _RequestMetrics:
    """The service's three metrics kept in plain ints and floats, turned into samples at scrape."""

    def __init__(self, buckets: Sequence[float]) -> None:
        self.bounds = [*buckets, float("inf")]
        self.in_flight = 0
        self.counts: dict[tuple[str, str, int], int] = {}
        self.histograms: dict[tuple[str, str], list[float]] = {}  # Per bucket, then the sum.

    def record(self, method: str, route: str, status: int, duration: float) -> None:
        key = (method, route, status)
        self.counts[key] = self.counts.get(key, 0) + 1
        histogram = self.histograms.get((method, route))
        if histogram is None:
            histogram = self.histograms[(method, route)] = [0.0] * (len(self.bounds) + 1)
        histogram[bisect.bisect_left(self.bounds, duration)] += 1
        histogram[-1] += duration

    def collect(self) -> Any:
        from prometheus_client.core import (
            CounterMetricFamily,
            GaugeMetricFamily,
            HistogramMetricFamily,
        )

        total = CounterMetricFamily("bench_http_requests", "", labels=["method", "route", "status"])
        for (method, route, status), count in self.counts.items():
            total.add_metric([method, route, str(status)], count)
        latency = HistogramMetricFamily(
            "bench_http_request_duration_seconds", "", labels=["method", "route"]
        )
        for labels, histogram in self.histograms.items():
            cumulative, buckets = 0.0, []
            for bound, count in zip(self.bounds, histogram, strict=False):
                cumulative += count
                buckets.append((str(bound) if bound != float("inf") else "+Inf", cumulative))
            latency.add_metric(list(labels), buckets, histogram[-1])
        yield total
        yield latency
        yield GaugeMetricFamily("bench_http_requests_in_progress", "", value=self.in_flight)


def tune_lean_pipeline() -> None:
    """The floor: the whole middleware rewritten lean (os.urandom ids, a custom metrics collector,
    the f-string access line through the buffered writer); same headers, same log fields."""
    from prometheus_client import REGISTRY

    request_metrics = _RequestMetrics(metrics.LATENCY._upper_bounds[:-1])  # Without +Inf.
    REGISTRY.register(request_metrics)
    writer = _BufferedWriter(sys.__stdout__ or sys.stdout)
    bind = structlog.contextvars.bind_contextvars
    security_headers_for = middleware.security_headers_for
    unmatched = metrics.UNMATCHED_ROUTE
    valid_id = importlib.import_module(f"{PACKAGE}.request_id")._VALID_ID

    async def __call__(self: Any, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        request_id = None
        for name, value in scope["headers"]:
            if name == b"x-request-id" and valid_id.fullmatch(value):
                request_id = value.decode("ascii")
        if request_id is None:
            request_id = os.urandom(16).hex()
        scope.setdefault("state", {})["request_id"] = request_id
        bind(request_id=request_id)
        path = scope["path"]
        extra = [
            (b"x-request-id", request_id.encode()),
            *security_headers_for(path, scope["scheme"]),
        ]
        status = 500

        async def send_with_headers(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), *extra]
            await send(message)

        request_metrics.in_flight += 1
        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            request_metrics.in_flight -= 1
            duration = time.perf_counter() - start
            route = scope.get("route")
            route = route.path if route is not None else unmatched
            method = scope["method"]
            request_metrics.record(method, route, status, duration)
            client = scope.get("client")
            writer.write(
                f'{{"method": {_encode_str(method)}, "route": {_encode_str(route)}, '
                f'"path": {_encode_str(path)}, "status": {status}, '
                f'"duration_ms": {round(duration * 1000, 3)!r}, '
                f'"client": {_encode_str(client[0]) if client else "null"}, '
                f'"event": "request", "request_id": {_encode_str(request_id)}, '
                f'"level": "info", "timestamp": "{_utc_timestamp()}"}}\n'
            )

    patch(middleware.RequestPipelineMiddleware, "__call__", __call__)


# OWASP's REST Security Cheat Sheet list for API responses; the other four matter for documents.
_API_ONLY = {
    b"x-content-type-options",
    b"x-frame-options",
    b"strict-transport-security",
    b"content-security-policy",
    b"cache-control",
}


def tune_api_headers() -> None:
    """security/headers.py: API responses get OWASP's REST list only; /docs as is."""
    original = middleware.security_headers_for

    def security_headers_for(path: str, scheme: str) -> list[tuple[bytes, bytes]]:
        headers = original(path, scheme)
        if headers is not original("/", scheme):
            return headers
        return [(name, value) for name, value in headers if name in _API_ONLY]

    patch(middleware, "security_headers_for", security_headers_for)


TUNINGS: dict[str, Callable[[], None]] = {
    "api-headers": tune_api_headers,
    "lean-pipeline": tune_lean_pipeline,
    "gauge-function": tune_gauge_function,
    "lean-access-log": tune_lean_access_log,
    "lean-access-log-buffered": tune_lean_access_log_buffered,
    "token-request-id": tune_token_request_id,
    "metric-children": tune_metric_children,
    "no-clear": tune_no_clear,
    "fast-json": tune_fast_json,
    "fast-timestamp": tune_fast_timestamp,
    "no-flush": tune_no_flush,
}


# --- the app -------------------------------------------------------------------------------------


def build() -> Any:
    pipeline = os.environ.get("BENCH_PIPELINE", "all")
    app = service_main.create_app()  # Configures logging: tunings below replace parts of it.
    if pipeline == "off":
        app.user_middleware = [
            m for m in app.user_middleware if m.cls is not middleware.RequestPipelineMiddleware
        ]
    elif pipeline != "all":
        kept = set() if pipeline == "none" else set(pipeline.split(","))
        unknown = kept - COMPONENTS_OFF.keys()
        if unknown:
            raise ValueError(f"unknown components {sorted(unknown)}; known: {list(COMPONENTS_OFF)}")
        for component, replacements in COMPONENTS_OFF.items():
            if component not in kept:
                for name, value in replacements.items():
                    patch(middleware, name, value)
    security = os.environ.get("BENCH_SECURITY", "all")
    if security != "all":
        kept = set() if security == "off" else set(security.split(","))
        unknown = kept - SECURITY_LAYERS.keys()
        if unknown:
            raise ValueError(f"unknown layers {sorted(unknown)}; known: {list(SECURITY_LAYERS)}")
        removed = [
            getattr(importlib.import_module(f"{PACKAGE}.{module}"), name)
            for layer, (module, name) in SECURITY_LAYERS.items()
            if layer not in kept
        ]
        app.user_middleware = [m for m in app.user_middleware if m.cls not in removed]
    for tuning in filter(None, os.environ.get("BENCH_TUNE", "").split(",")):
        TUNINGS[tuning]()
    return app


app = build()
