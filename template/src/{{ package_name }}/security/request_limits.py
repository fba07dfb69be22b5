"""Request limits: body size, header size, a body that stalls, and the number of query parameters.

Why: without them one client can make the process read a 50 MB body into memory, hold a
connection for ever with a body that never ends, or freeze the event loop with tens of thousands
of query parameters. Each limit is a problem document before the app parses anything:
- 413 for a body over MAX_REQUEST_BODY_BYTES: from Content-Length before a byte is read, and
  counted on the bytes of a chunked body as they arrive, so it is never held whole;
- 431 for headers over MAX_REQUEST_HEADER_BYTES (names and values together);
- 408 when the body stops arriving for REQUEST_BODY_TIMEOUT_SECONDS;
- 400 for more than MAX_QUERY_PARAMETERS, counted by the `&` separators (a bound: C-speed, linear).
The Ingress enforces the same figures first (k8s/base/ingress.yaml); these hold wherever the
service runs without it. uvicorn has read the headers before any app sees them, so a huge header
still costs the server that memory once: the proxy's header buffers are what prevent that.

A body that grows too large or stalls is noticed while the app reads it, inside its body parsing:
`receive` raises Starlette's HTTPException, which FastAPI lets through and problems.py answers.
These answers close the connection, so the server does not go on reading the rest of the body.
"""

import asyncio

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..problems import send_problem
from ..settings import Settings

_CLOSE = [(b"connection", b"close")]


class RequestLimitsMiddleware:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.max_body_bytes = settings.max_request_body_bytes
        self.max_header_bytes = settings.max_request_header_bytes
        self.body_timeout = settings.request_body_timeout_seconds
        self.max_query_parameters = settings.max_query_parameters

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        header_bytes = 0
        content_length = b""
        chunked = False
        for name, value in scope["headers"]:
            header_bytes += len(name) + len(value)
            if name == b"content-length":
                content_length = value
            elif name == b"transfer-encoding":
                chunked = True
        if header_bytes > self.max_header_bytes:
            detail = f"The request's headers are over {self.max_header_bytes} bytes."
            await send_problem(send, scope, 431, detail=detail, headers=_CLOSE)
            return
        if scope["query_string"].count(b"&") >= self.max_query_parameters:
            detail = f"The query string has more than {self.max_query_parameters} parameters."
            await send_problem(send, scope, 400, detail=detail, headers=_CLOSE)
            return
        # The server has checked that Content-Length is a number before the app is called.
        declared_length = int(content_length) if content_length else 0
        if declared_length > self.max_body_bytes:
            await send_problem(send, scope, 413, detail=self._too_large(), headers=_CLOSE)
            return
        if chunked or declared_length:  # Requests without a body pass as they came.
            receive = self._limited(receive)
        await self.app(scope, receive, send)

    def _too_large(self) -> str:
        return f"The request body is over {self.max_body_bytes} bytes."

    def _limited(self, receive: Receive) -> Receive:
        received = 0
        body_complete = False

        async def receive_within_limits() -> Message:
            nonlocal received, body_complete
            if body_complete:  # After the body only a disconnect comes, whenever it comes.
                return await receive()
            try:
                async with asyncio.timeout(self.body_timeout):
                    message = await receive()
            except TimeoutError:
                detail = f"The request body stopped arriving for {self.body_timeout:g} s."
                raise HTTPException(408, detail, headers={"Connection": "close"}) from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise HTTPException(413, self._too_large(), headers={"Connection": "close"})
                body_complete = not message.get("more_body", False)
            return message

        return receive_within_limits
