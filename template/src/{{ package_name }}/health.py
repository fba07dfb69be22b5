"""Health endpoints for orchestrators: liveness and readiness are different questions.

Why: liveness ("is the process stuck?") must not touch dependencies, or a database outage would get
every pod restarted; readiness ("can it serve now?") checks that the database answers and holds the
schema this release needs (schema.py), so traffic is routed away while it cannot serve, with a
problem document saying what failed.
"""

import asyncio
from typing import Literal

import structlog
from fastapi import APIRouter, Request
from pydantic import BaseModel
from starlette.responses import Response

from .about import VERSION
from .db import inspect
from .openapi import problem_responses
from .problems import problem_response
from .schema import schema_problem

router = APIRouter(prefix="/health", tags=["health"])
_logger = structlog.get_logger("health")


class Liveness(BaseModel):
    status: Literal["ok"] = "ok"
    version: str = VERSION


class Readiness(BaseModel):
    status: Literal["ok"] = "ok"
    checks: dict[str, Literal["ok"]]


@router.get("/live")
async def live() -> Liveness:
    return Liveness()


@router.get("/ready", response_model=Readiness, responses=problem_responses(503))
async def ready(request: Request) -> Readiness | Response:
    timeout = request.state.settings.readiness_timeout_seconds
    try:
        async with asyncio.timeout(timeout):
            problem = await inspect(request.state.engine, schema_problem)
    except Exception as error:  # Any failure means "not ready"; the reason goes to the log.
        _logger.warning("readiness check failed", error=repr(error))
        return problem_response(request, 503, detail="The database is not reachable.")
    if problem is not None:
        _logger.warning("readiness check failed", error=problem)
        return problem_response(request, 503, detail=problem)
    return Readiness(checks={"database": "ok", "schema": "ok"})
