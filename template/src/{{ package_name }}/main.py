"""The application factory: settings, logging, middleware, routes and the database lifespan.

The server imports `app` from here (the Makefile's `run`); tests call `create_app(settings)` with
their own settings and run it with its lifespan, exactly as the server does.
"""

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TypedDict

import structlog
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from . import health
from .about import DESCRIPTION, NAME, TITLE, VERSION
from .auth.authentication import Authenticator
from .auth.chosen import AUTHENTICATION
from .db import create_engine
from .items.router import router as items_router
from .middleware import RequestPipelineMiddleware
from .observability import metrics
from .observability.logs import configure_logging
from .observability.options import CHOSEN, Option, log_fields
from .openapi import install_problem_openapi
from .problems import install_problem_handlers
from .security.layers import add_security_layers
from .settings import Settings, load_settings

_logger = structlog.get_logger("lifecycle")


class State(TypedDict):
    """What every request can reach as `request.state.<key>`."""

    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    # None with auth = none: a gateway in front authenticates (auth/chosen.py).
    authenticator: Authenticator | None


def _lifespan(
    settings: Settings, options: list[Option]
) -> Callable[[FastAPI], AbstractAsyncContextManager[State]]:
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[State]:
        engine = create_engine(settings)
        metrics.POOLS.attach(engine.pool)
        for option in options:
            option.start(engine)
        sessionmaker = async_sessionmaker(engine, expire_on_commit=False)
        factory = AUTHENTICATION.authenticator
        authenticator = factory(settings, sessionmaker) if factory is not None else None
        _logger.info("startup", service=NAME, version=VERSION, environment=settings.environment)
        try:
            yield {
                "settings": settings,
                "engine": engine,
                "sessionmaker": sessionmaker,
                "authenticator": authenticator,
            }
        finally:
            # Runs after the server has drained in-flight requests (SIGTERM): close the pool.
            if authenticator is not None:
                await authenticator.aclose()
            metrics.POOLS.detach(engine.pool)
            await engine.dispose()
            for option in options:
                option.stop()
            _logger.info("shutdown", service=NAME)

    return lifespan


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or load_settings()
    # Tracing and error tracking, where chosen: observability/options.py lists them, and they are
    # called at four points: here, the lifespan's start and end, and an unhandled error.
    options = [option(settings) for option in CHOSEN]
    configure_logging(
        settings.log_level,
        context_fields=log_fields(options),
        access_log_sample_rate=settings.access_log_sample_rate,
    )
    app = FastAPI(
        title=TITLE,
        description=DESCRIPTION,
        version=VERSION,
        debug=settings.debug,
        lifespan=_lifespan(settings, options),
        docs_url="/docs" if settings.docs_enabled else None,
        redoc_url=None,
        openapi_url="/openapi.json" if settings.docs_enabled else None,
        # No redirect from /path/ to /path: Starlette builds its absolute URL from the Host header.
        redirect_slashes=False,
    )
    install_problem_handlers(app)
    install_problem_openapi(app, verification_can_fail=AUTHENTICATION.verification_can_fail)
    app.include_router(health.router)
    app.include_router(metrics.router)
    for router in AUTHENTICATION.routers:
        app.include_router(router)
    app.include_router(items_router)
    # Request limits, hosts, CORS, authentication, rate limit: security/layers.py.
    add_security_layers(app, settings)
    # Added last, so it runs first: every response, CORS preflights included, passes through it.
    app.add_middleware(
        RequestPipelineMiddleware, error_reporters=[option.report_error for option in options]
    )
    for option in options:
        option.instrument(app)
    return app


app = create_app()
