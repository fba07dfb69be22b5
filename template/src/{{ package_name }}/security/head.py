"""HEAD is answered wherever GET is: the GET route runs, and its status and headers go back
without the body.

Why: HTTP wants HEAD wherever GET is (RFC 9110, 9.3.2), and uptime checkers and caches use it,
but FastAPI routes answer only the methods they declare: HEAD was a 405 on every GET route, and a
checker that uses HEAD saw the service as down. The layers and the route get a copy of the scope
that says GET. The scope the server holds still says HEAD, so the server sends no body, and the
access log and metrics name the method the client used.

Two functions, not a layer of their own: the request pipeline (middleware.py) already copies the
scope's view and wraps `send` for every request, so it calls these in the same pass.
"""

from starlette.types import Message, Scope


def as_get(scope: Scope) -> Scope:
    """The scope the app sees for a HEAD request: the same request, as a GET."""
    return {**scope, "method": "GET"}


def without_body(message: Message) -> Message:
    """A response message as a HEAD answer sends it: body messages carry no bytes."""
    if message["type"] == "http.response.body" and message.get("body"):
        return {**message, "body": b""}
    return message
