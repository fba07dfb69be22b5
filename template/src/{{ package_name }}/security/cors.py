"""CORS: the browser origins allowed to call the API, from CORS_ORIGINS (an explicit list).

Why: a browser lets a page read a response from another origin only when that response names the
page's origin. Only the listed origins get `Access-Control-Allow-Origin`; another origin's
preflight is a 400 problem, and its other requests get no CORS headers, so the browser keeps the
response from the page. `*` is for development: staging and production refuse it, and every
environment refuses it with credentials, which would let any site call the API as its visitor
(settings.py). Starlette's CORSMiddleware does the same job but answers a refused preflight in
plain text.
"""

from collections.abc import Sequence

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..problems import send_problem

ALLOWED_METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE")
ALLOWED_HEADERS = frozenset({"authorization", "content-type", "x-request-id"})
# Response headers a page may read besides the few every browser allows.
EXPOSED_HEADERS = b"X-Request-ID, RateLimit, RateLimit-Policy, Retry-After"
# How long a browser may reuse a preflight's answer before asking again.
PREFLIGHT_MAX_AGE_SECONDS = b"600"


class CorsMiddleware:
    def __init__(
        self, app: ASGIApp, allowed_origins: Sequence[str], allow_credentials: bool
    ) -> None:
        self.app = app
        self.any_origin = "*" in allowed_origins
        self.allowed_origins = frozenset(origin.encode("latin-1") for origin in allowed_origins)
        credentials = (b"access-control-allow-credentials", b"true")
        self.credentials = [credentials] if allow_credentials else []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        origin = requested_method = requested_headers = None
        for name, value in scope["headers"]:
            if name == b"origin":
                origin = value
            elif name == b"access-control-request-method":
                requested_method = value
            elif name == b"access-control-request-headers":
                requested_headers = value
        if origin is None:
            await self.app(scope, receive, send)
            return
        allowed = self.any_origin or origin in self.allowed_origins
        if scope["method"] == "OPTIONS" and requested_method is not None:
            await self._preflight(scope, send, origin, allowed, requested_method, requested_headers)
            return
        if not allowed:
            await self.app(scope, receive, send)
            return
        cors_headers = [
            (b"access-control-allow-origin", origin),
            (b"access-control-expose-headers", EXPOSED_HEADERS),
            (b"vary", b"Origin"),
            *self.credentials,
        ]

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *cors_headers]
            await send(message)

        await self.app(scope, receive, send_with_cors)

    async def _preflight(
        self,
        scope: Scope,
        send: Send,
        origin: bytes,
        allowed: bool,
        method: bytes,
        headers: bytes | None,
    ) -> None:
        names = {name.strip().lower() for name in (headers or b"").decode("latin-1").split(",")}
        names.discard("")
        if not allowed or method.decode("latin-1") not in ALLOWED_METHODS:
            detail = "This origin or method is not allowed by the service's CORS policy."
            await send_problem(send, scope, 400, detail=detail, headers=[(b"vary", b"Origin")])
            return
        if not names <= ALLOWED_HEADERS:
            allowed_headers = ", ".join(sorted(ALLOWED_HEADERS))
            detail = f"CORS allows only these request headers: {allowed_headers}."
            await send_problem(send, scope, 400, detail=detail, headers=[(b"vary", b"Origin")])
            return
        headers_out = [
            (b"access-control-allow-origin", origin),
            (b"access-control-allow-methods", ", ".join(ALLOWED_METHODS).encode()),
            (b"access-control-allow-headers", ", ".join(sorted(ALLOWED_HEADERS)).encode()),
            (b"access-control-max-age", PREFLIGHT_MAX_AGE_SECONDS),
            (b"vary", b"Origin"),
            *self.credentials,
        ]
        await send({"type": "http.response.start", "status": 204, "headers": headers_out})
        await send({"type": "http.response.body", "body": b""})
