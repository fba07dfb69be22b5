"""The OpenAPI document says what the service really answers: every error is a problem document.

Why: FastAPI documents validation errors as `application/json` with its own shape, but the service
answers `application/problem+json` (problems.py). Generated clients and contract tests
(schemathesis) trust the document, so it must match the responses byte for byte in type and shape.
"""

from http import HTTPStatus
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from .problems import MEDIA_TYPE, Problem
from .security.probes import PROBE_PATHS

_PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
_FASTAPI_ERROR_SCHEMAS = ("HTTPValidationError", "ValidationError")


def _with_retry_after(status: HTTPStatus, seconds_until: str) -> dict[str, Any]:
    """A response that says, in Retry-After, how many seconds until `seconds_until`."""
    retry_after = {
        "description": f"Seconds until {seconds_until}",
        "schema": {"type": "integer", "minimum": 1},
    }
    return {"description": status.phrase, "headers": {"Retry-After": retry_after}}


# Past its quota a client gets a 429 on every path the rate limiter counts (security/rate_limit.py).
_TOO_MANY_REQUESTS = _with_retry_after(HTTPStatus.TOO_MANY_REQUESTS, "the client's quota is back")


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route: the error statuses it can answer besides 422 and 500."""
    return {status: {"description": HTTPStatus(status).phrase} for status in statuses}


# When the authenticator cannot check credentials right now (an identity provider out of reach),
# a secured route answers 503 with Retry-After (auth/authentication.py).
_CANNOT_VERIFY_NOW = _with_retry_after(
    HTTPStatus.SERVICE_UNAVAILABLE, "the credentials can be checked again"
)


def install_problem_openapi(app: FastAPI, *, verification_can_fail: bool = False) -> None:
    """`verification_can_fail`: the authenticator depends on a service it can lose, so every
    secured operation documents a 503 too."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _build(app, verification_can_fail=verification_can_fail)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _build(app: FastAPI, *, verification_can_fail: bool) -> dict[str, Any]:
    document = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes
    )
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    problem_schema = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(problem_schema.pop("$defs", {}))
    schemas["Problem"] = problem_schema
    for name in _FASTAPI_ERROR_SCHEMAS:
        schemas.pop(name, None)
    for path, operations in document["paths"].items():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            if path not in PROBE_PATHS:
                responses.setdefault("429", dict(_TOO_MANY_REQUESTS))
            if "security" in operation:
                # auth/permissions.py: no or refused credentials, or a missing permission.
                responses.setdefault("401", {"description": "Unauthorized"})
                responses.setdefault("403", {"description": "Forbidden"})
                if verification_can_fail:
                    responses.setdefault("503", dict(_CANNOT_VERIFY_NOW))
            if "requestBody" in operation:
                # A body that is not JSON at all (bad encoding) is refused before validation.
                responses.setdefault("400", {"description": "Bad Request"})
            responses.setdefault("500", {"description": "Internal Server Error"})
            for status, response in responses.items():
                if status[0] in "45":
                    response["content"] = {MEDIA_TYPE: {"schema": _PROBLEM_REF}}
    return document
