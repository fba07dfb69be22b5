"""The security layers, added to the app in the order they must run.

Why here: main.py stays a list of steps, and the order, which matters, is written down once.
Each layer is a small pure ASGI class in its own module. They run inside the request pipeline
(middleware.py), so their refusals are problem documents with its request id and headers, logged
and counted like any response; the cheapest refusals run first:
request limits -> trusted hosts -> CORS -> authentication -> rate limit -> the app. (HEAD is
answered as GET by the pipeline itself: head.py.)
CORS runs outside the rate limiter, so a 429 carries the CORS headers a browser needs to read it,
and a preflight never spends a client's quota. Authentication (auth/authentication.py) only reads
who is calling, so that the rate limiter counts a signed-in user per user; it refuses nothing.
"""

from fastapi import FastAPI

from ..auth.authentication import AuthenticationMiddleware
from ..auth.chosen import AUTHENTICATION
from ..settings import Settings
from .cors import CorsMiddleware
from .hosts import TrustedHostsMiddleware
from .rate_limit import add_rate_limiting
from .request_limits import RequestLimitsMiddleware


def add_security_layers(app: FastAPI, settings: Settings) -> None:
    """Call before the pipeline is added. Each `add_middleware` wraps what was added before it,
    so the innermost layer comes first here."""
    add_rate_limiting(app, settings)
    if AUTHENTICATION.authenticator is not None:  # None: a gateway authenticates (auth = none)
        app.add_middleware(AuthenticationMiddleware)
    if settings.cors_origins:
        app.add_middleware(
            CorsMiddleware,
            allowed_origins=settings.cors_origins,
            allow_credentials=settings.cors_allow_credentials,
        )
    if "*" not in settings.allowed_hosts:  # "*": any host, development only (settings.py)
        app.add_middleware(TrustedHostsMiddleware, allowed_hosts=settings.allowed_hosts)
    app.add_middleware(RequestLimitsMiddleware, settings=settings)
