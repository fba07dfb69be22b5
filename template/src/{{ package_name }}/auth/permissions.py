"""The dependencies a route declares to say who may call it.

    @router.delete("/{item_id}", dependencies=[Depends(require(Permission.ITEMS_WRITE))])

Why a dependency per permission: a route without one is public, and that is visible in the route
itself; tests/test_authorization.py lists every route of the app and fails on a non-public one that
answers an anonymous request, so a forgotten dependency cannot ship.
Anonymous or refused credentials are a 401 with `WWW-Authenticate: Bearer`; a caller without the
permission is a 403, logged as a security event (events.py).
"""

from dataclasses import dataclass
from http import HTTPStatus
from typing import Annotated, Any

from fastapi import Depends, Request

from ..problems import ProblemError
from . import events
from .authentication import signed_in_principal
from .chosen import AUTHENTICATION
from .principal import Permission, Principal

# With no authentication (auth = none), a gateway in front has already decided; every request
# reaching the service is trusted with every permission.
_GATEWAY = Principal("gateway", frozenset(Permission), kind="gateway")


class PermissionDeniedError(ProblemError):
    status = HTTPStatus.FORBIDDEN


def _no_scheme() -> None:
    return None


# Declared as the dependency's parameters only so that OpenAPI lists the security schemes (and
# /docs can sign in): their values are ignored, authentication.py has already read the headers.
_BearerScheme = Annotated[Any, Depends(AUTHENTICATION.bearer_scheme or _no_scheme)]
_ApiKeyScheme = Annotated[Any, Depends(AUTHENTICATION.api_key_scheme or _no_scheme)]


async def current_principal(
    request: Request, _bearer: _BearerScheme, _api_key: _ApiKeyScheme
) -> Principal:
    if AUTHENTICATION.authenticator is None:
        return _GATEWAY
    return signed_in_principal(request)


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


@dataclass(frozen=True)
class Require:
    """The dependency `require(permission)` returns; tests/test_access_control.py reads
    `permission` off each route's dependencies to hold docs/access-control.md to the code."""

    permission: Permission

    async def __call__(self, principal: CurrentPrincipal) -> Principal:
        if self.permission not in principal.permissions:
            events.permission_denied(subject=principal.subject, permission=self.permission)
            raise PermissionDeniedError(f"This needs the {self.permission!s} permission.")
        return principal


def require(permission: Permission) -> Require:
    return Require(permission)


CanReadItems = Annotated[Principal, Depends(require(Permission.ITEMS_READ))]
CanWriteItems = Annotated[Principal, Depends(require(Permission.ITEMS_WRITE))]
