"""HEAD is answered wherever GET is: the GET route runs, and its status and headers go back
without the body.

Why: HTTP wants HEAD wherever GET is (RFC 9110, 9.3.2), and uptime checkers and caches use it,
but FastAPI routes answer only the methods they declare: HEAD was a 405 on every GET route, and a
checker that uses HEAD saw the service as down. The route gets a copy of the scope that says GET.
The scope the server and the outer layers hold still says HEAD, so the server sends no body and
the access log and metrics name the method the client used.
"""

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class HeadAsGetMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def send_without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        as_get = {**scope, "method": "GET"}
        try:
            await self.app(as_get, receive, send_without_body)
        finally:
            # The router puts the matched route on the scope it was given; the pipeline reads it
            # from its own for the route label of the metrics and the access log.
            for key in ("route", "endpoint"):
                if key in as_get:
                    scope[key] = as_get[key]
