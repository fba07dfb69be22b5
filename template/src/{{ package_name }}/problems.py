"""Errors as RFC 9457 problem documents (`application/problem+json`).

Why: clients get one machine-readable error shape for every failure (validation, not found,
conflict, method not allowed, unexpected), each with the request id to quote in a bug report and
never a stack trace. Domain code raises `ProblemError` subclasses; it never builds responses.
"""

import json
from collections.abc import Iterable, Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.routing import Match
from starlette.types import Scope, Send

MEDIA_TYPE = "application/problem+json"


class FieldError(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class Problem(BaseModel):
    """The body of every error response."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    request_id: str | None = None
    errors: list[FieldError] | None = None


class ProblemError(Exception):
    """A failure the client can act on; subclasses set the status and title."""

    status = HTTPStatus.BAD_REQUEST
    headers: Mapping[str, str] = {}  # read-only: a 401's WWW-Authenticate, say

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFoundError(ProblemError):
    status = HTTPStatus.NOT_FOUND


class ConflictError(ProblemError):
    status = HTTPStatus.CONFLICT


def problem_body(
    status: int,
    *,
    request_id: str | None,
    instance: str | None,
    detail: str | None = None,
    errors: list[dict[str, Any]] | None = None,
) -> bytes:
    problem: dict[str, Any] = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "instance": instance,
        "request_id": request_id,
    }
    if detail is not None:
        problem["detail"] = detail
    if errors is not None:
        problem["errors"] = errors
    return json.dumps(problem, separators=(",", ":")).encode()


async def send_problem(
    send: Send,
    scope: Scope,
    status: int,
    *,
    detail: str | None = None,
    headers: Iterable[tuple[bytes, bytes]] = (),
) -> None:
    """Answer with a problem document from pure ASGI code (middleware), before any route runs."""
    body = problem_body(
        status,
        request_id=scope.get("state", {}).get("request_id"),
        instance=scope["path"],
        detail=detail,
    )
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", MEDIA_TYPE.encode()),
                (b"content-length", str(len(body)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def problem_response(
    request: Request,
    status: int,
    *,
    detail: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    body = problem_body(
        status,
        request_id=getattr(request.state, "request_id", None),
        instance=request.url.path,
        detail=detail,
        errors=errors,
    )
    return Response(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


async def _handle_problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ProblemError)
    return problem_response(request, exc.status, detail=exc.detail, headers=exc.headers or None)


async def _handle_http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    detail = None if exc.detail == HTTPStatus(exc.status_code).phrase else str(exc.detail)
    headers = exc.headers
    if exc.status_code == HTTPStatus.METHOD_NOT_ALLOWED:
        headers = {"Allow": ", ".join(_allowed_methods(request))}
    return problem_response(request, exc.status_code, detail=detail, headers=headers)


_METHODS = ("DELETE", "GET", "PATCH", "POST", "PUT")


def _allowed_methods(request: Request) -> list[str]:
    # Starlette names only the first route that matched the path, but GET and POST on one path are
    # two routes; RFC 9110 wants Allow to list every method the path supports, so ask the router.
    routes = request.app.router.routes
    return [
        method
        for method in _METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL for route in routes
        )
    ]


async def _handle_validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    # Only location, message and type: echoing the rejected input back could leak what was sent.
    errors = [
        {"loc": list(error["loc"]), "msg": error["msg"], "type": error["type"]}
        for error in exc.errors()
    ]
    return problem_response(request, 422, detail="The request is not valid.", errors=errors)


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ProblemError, _handle_problem)
    app.add_exception_handler(HTTPException, _handle_http_exception)
    app.add_exception_handler(RequestValidationError, _handle_validation_error)
