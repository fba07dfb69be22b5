"""The request pipeline's one middleware: request id, security headers, metrics, access log,
HEAD answered as GET and the last-resort 500, in a single pure ASGI layer.

Why one layer: each ASGI middleware adds a coroutine call and a `send` wrapper to every request,
and Starlette's request/response-object middleware base class adds a task and a stream on top.
Folded into one pass, the whole pipeline adds about 45 us to a trivial request (0.69x a bare app's
throughput, where a stack of decorator-style HTTP middlewares measures about 0.1x):
docs/performance.md in prodready's repository.
Each concern's logic still lives in its own module; this file only orders the calls.

Why catch exceptions here: Starlette's outermost error middleware answers unhandled errors outside
every user middleware, so that 500 would carry no request id, no security headers and would be
missing from the access log and metrics. Here it gets all four, and the traceback is logged as
JSON instead of being printed by the server.
"""

import time
from collections.abc import Callable, Sequence
from typing import Any

import structlog
from fastapi.routing import iter_route_contexts
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .observability.access_log import log_request
from .observability.metrics import IN_PROGRESS, UNMATCHED_ROUTE, record_request
from .problems import send_problem
from .request_id import request_id_from
from .security import head
from .security.headers import security_headers_for

_logger = structlog.get_logger("errors")


class RequestPipelineMiddleware:
    def __init__(
        self, app: ASGIApp, error_reporters: Sequence[Callable[[Exception], None]] = ()
    ) -> None:
        self.app = app
        self._templates_by_endpoint: dict[Any, str] | None = None
        # Told of every unhandled error before the 500 is sent (error tracking, tracing: main.py).
        self.error_reporters = tuple(error_reporters)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        start = time.perf_counter()
        request_id = request_id_from(scope["headers"])
        scope.setdefault("state", {})["request_id"] = request_id
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        extra_headers = [
            (b"x-request-id", request_id.encode("ascii")),
            *security_headers_for(scope["path"], scope["scheme"]),
        ]
        status = 500
        response_started = False
        is_head = scope["method"] == "HEAD"
        # What the layers and the app see; `scope` (the server's) keeps the client's method.
        app_scope = head.as_get(scope) if is_head else scope

        async def send_with_headers(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), *extra_headers]
            elif is_head:
                message = head.without_body(message)
            await send(message)

        IN_PROGRESS.inc()
        try:
            await self.app(app_scope, receive, send_with_headers)
        except Exception as error:
            _logger.exception("unhandled error", path=scope["path"])
            for report in self.error_reporters:
                report(error)
            if response_started:
                raise  # Too late for an error document; the server closes the connection.
            await send_problem(
                send_with_headers,
                scope,
                500,
                detail="An unexpected error occurred; quote the request id when reporting it.",
            )
        finally:
            IN_PROGRESS.dec()
            duration = time.perf_counter() - start
            if is_head:
                # The router marks the scope it was given; wrappers outside this one (an
                # instrumentation's route label) read the server's.
                for key in ("route", "endpoint"):
                    if key in app_scope:
                        scope[key] = app_scope[key]
            route = self._route_template(scope)
            record_request(scope["method"], route, status, duration)
            client = scope.get("client")
            log_request(
                request_id=request_id,
                method=scope["method"],
                route=route,
                path=scope["path"],
                status=status,
                duration=duration,
                client=client[0] if client else None,
            )

    def _route_template(self, scope: Scope) -> str:
        """The matched route's template (`/api/v1/items/{item_id}`), or UNMATCHED_ROUTE.

        FastAPI's own routes (APIRoute) put themselves in `scope["route"]`. Starlette's routes do
        not, and FastAPI serves /docs, /docs/oauth2-redirect and /openapi.json with those (as it
        does `app.add_route` and `app.mount`): for them the router sets only `scope["endpoint"]`,
        which is looked up among the app's routes. Those are walked once, at the first such
        request, the way FastAPI's OpenAPI generator walks them (included routers and their
        prefixes too). A path no route matched has neither: UNMATCHED_ROUTE.
        """
        route: Any = scope.get("route")
        if route is not None:
            return str(route.path_format)
        endpoint = scope.get("endpoint")
        if endpoint is None or "app" not in scope:
            return UNMATCHED_ROUTE
        if self._templates_by_endpoint is None:
            self._templates_by_endpoint = _templates_by_endpoint(scope["app"].routes)
        return self._templates_by_endpoint.get(endpoint, UNMATCHED_ROUTE)


def _templates_by_endpoint(routes: Any) -> dict[Any, str]:
    """Each route's template, by what the router puts in `scope["endpoint"]` when it matches."""
    templates: dict[Any, str] = {}
    for context in iter_route_contexts(routes):
        path_format = context.path_format
        if path_format is None:
            continue
        # A Route's endpoint is its function; a Mount's is the application mounted.
        endpoint = getattr(context, "endpoint", None) or getattr(context, "app", None)
        if endpoint is not None:
            templates.setdefault(endpoint, path_format)
    return templates
