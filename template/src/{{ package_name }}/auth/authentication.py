"""Reading a request's credentials, once, before the rate limiter and the routes.

Why in the pipeline and not only in a route dependency: the rate limiter counts a signed-in user's
requests per user, wherever they come from, so it must know who is calling before any route runs.
This layer never refuses a request: it puts the verified caller, or why the credentials were
refused, in the request's state, and logs each refusal as a security event; signed_in_principal
turns "no caller" into a 401 (or a 503 when they could not be checked) on the routes that need
one, through permissions.py, and public routes (health, sign-in) never look.

Credentials are `Authorization: Bearer <token>` or, for services, `X-API-Key: <key>`. How one is
checked is the authenticator's business (chosen.py): the signature of a token this service issued,
or one from an identity provider; a key's hash in the database.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import Protocol

from fastapi import APIRouter, Request
from fastapi.security.base import SecurityBase
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.types import ASGIApp, Receive, Scope, Send

from ..problems import ProblemError
from ..settings import Settings
from . import events
from .principal import Principal

PRINCIPAL = "principal"  # scope["state"] keys this layer sets
REFUSAL = "credentials_refused"


class CredentialsRefusedError(Exception):
    """The credentials were present but not valid; the message says why, without a secret.

    `retry_after`: they could not be checked at all right now (the identity provider's keys are
    out of reach), which is the service's failure, not the caller's: a 503 saying when to retry.
    """

    def __init__(self, reason: str, *, retry_after: int | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class NotAuthenticatedError(ProblemError):
    status = HTTPStatus.UNAUTHORIZED
    headers = {"WWW-Authenticate": "Bearer"}  # noqa: RUF012 (read-only, RFC 6750 section 3)


class CannotVerifyNowError(ProblemError):
    status = HTTPStatus.SERVICE_UNAVAILABLE

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail)
        self.headers = {"Retry-After": str(retry_after)}


def signed_in_principal(request: Request) -> Principal:
    """The caller this layer verified, or the 401 (or 503) that says why there is none."""
    principal: Principal | None = getattr(request.state, PRINCIPAL, None)
    if principal is not None:
        return principal
    refusal: CredentialsRefusedError | None = getattr(request.state, REFUSAL, None)
    if refusal is None:
        raise NotAuthenticatedError("Sign in: this request carries no credentials.")
    if refusal.retry_after is not None:
        raise CannotVerifyNowError(str(refusal), retry_after=refusal.retry_after)
    raise NotAuthenticatedError(str(refusal))


@dataclass(frozen=True, slots=True)
class Credentials:
    bearer_token: str | None = None
    api_key: str | None = None


class Authenticator(Protocol):
    async def authenticate(self, credentials: Credentials) -> Principal:
        """The caller these credentials prove, or CredentialsRefusedError saying why not."""

    async def aclose(self) -> None:
        """At shutdown: close what the authenticator opened (an HTTP client, say)."""


# Builds the authenticator from the settings and the database's sessions, in the lifespan.
AuthenticatorFactory = Callable[[Settings, async_sessionmaker[AsyncSession]], Authenticator]


@dataclass(frozen=True)
class Authentication:
    """What a method of authentication adds to the app (chosen.py names this service's one)."""

    # Builds the authenticator in the lifespan, once the database exists; None: no authentication.
    authenticator: AuthenticatorFactory | None
    # Its own routes (sign-in, refresh, sign-out), if any.
    routers: Sequence[APIRouter] = ()
    # The security schemes the OpenAPI document lists (and /docs' "Authorize" button uses), each
    # built with auto_error=False: this layer, not FastAPI's, reads the credentials.
    bearer_scheme: SecurityBase | None = None
    api_key_scheme: SecurityBase | None = None
    # The authenticator depends on a service it can lose (an identity provider's keys): then a
    # protected route can answer 503 (CannotVerifyNowError), and the OpenAPI document says so.
    verification_can_fail: bool = False


def credentials_from(headers: Sequence[tuple[bytes, bytes]]) -> Credentials | None:
    bearer_token = api_key = None
    for name, value in headers:
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                bearer_token = token.strip()
        elif name == b"x-api-key" and value.strip():
            api_key = value.decode("latin-1").strip()
    if bearer_token is None and api_key is None:
        return None
    return Credentials(bearer_token, api_key)


class AuthenticationMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            credentials = credentials_from(scope["headers"])
            state = scope.setdefault("state", {})
            authenticator: Authenticator | None = state.get("authenticator")
            if credentials is not None and authenticator is not None:
                try:
                    state[PRINCIPAL] = await authenticator.authenticate(credentials)
                except CredentialsRefusedError as refusal:
                    state[REFUSAL] = refusal
                    events.credentials_refused(reason=str(refusal))
        await self.app(scope, receive, send)
