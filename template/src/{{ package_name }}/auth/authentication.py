"""Reading a request's credentials, once, before the rate limiter and the routes.

Why in the pipeline and not only in a route dependency: the rate limiter counts a signed-in user's
requests per user, wherever they come from, so it must know who is calling before any route runs.
This layer never refuses a request: it puts the verified caller, or why the credentials were
refused, in the request's state; permissions.py turns "no caller" into a 401 on the routes that
need one, and public routes (health, sign-in) never look.

Credentials are `Authorization: Bearer <token>` or, for services, `X-API-Key: <key>`. How one is
checked is the authenticator's business (chosen.py): the signature of a token this service issued,
or one from an identity provider; a key's hash in the database.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from fastapi import APIRouter
from fastapi.security.base import SecurityBase
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.types import ASGIApp, Receive, Scope, Send

from ..settings import Settings
from . import events
from .principal import Principal

PRINCIPAL = "principal"  # scope["state"] keys this layer sets
REFUSAL = "credentials_refused"


class CredentialsRefusedError(Exception):
    """The credentials were present but not valid; the message says why, without a secret."""


@dataclass(frozen=True, slots=True)
class Credentials:
    bearer_token: str | None = None
    api_key: str | None = None


class Authenticator(Protocol):
    async def authenticate(self, credentials: Credentials) -> Principal:
        """The caller these credentials prove, or CredentialsRefusedError saying why not."""

    async def aclose(self) -> None:
        """At shutdown: close what the authenticator opened (an HTTP client, say)."""


class AuthenticatorFactory(Protocol):
    def __call__(
        self, settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> Authenticator: ...


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
                    state[REFUSAL] = str(refusal)
                    events.credentials_refused(reason=str(refusal))
        await self.app(scope, receive, send)
