"""HTTP routes of local authentication: sign in, refresh, sign out, who am I, and passwords.

Thin on purpose: each parses its input, calls users.py, sessions.py or password_changes.py and
shapes the answer.
The sign-in form is OAuth 2.0's password grant (RFC 6749 section 4.3), so /docs' "Authorize"
button and standard clients work. Token responses are never cached: security/headers.py sends
`Cache-Control: no-store` on every API response.
"""

from http import HTTPStatus
from typing import Annotated, Any, cast

from fastapi import APIRouter, Depends, Form, Request, status
from fastapi.security import APIKeyHeader, OAuth2PasswordBearer

from ...db import SessionDep
from ...openapi import problem_responses
from ...problems import ProblemError
from ..authentication import signed_in_principal
from ..verified_tokens import VerifiedTokens
from . import password_changes, sessions, users
from .authenticator import LocalAuthenticator
from .schemas import PasswordChangeIn, PasswordResetIn, RefreshIn, TokenOut, UserOut

SIGN_IN_PATH = "/api/v1/auth/token"
BEARER_SCHEME = OAuth2PasswordBearer(tokenUrl=SIGN_IN_PATH, auto_error=False)
API_KEY_SCHEME = APIKeyHeader(name="X-API-Key", auto_error=False)

router = APIRouter(tags=["auth"])


def _authenticator(request: Request) -> LocalAuthenticator:
    # The lifespan's: this package's authenticator (__init__.py) behind the memory of verified
    # tokens, which routes that sign in do not need.
    remembering: VerifiedTokens = request.state.authenticator
    return cast(LocalAuthenticator, remembering.inner)


Authenticator = Annotated[LocalAuthenticator, Depends(_authenticator)]


class NotAUserError(ProblemError):
    status = HTTPStatus.FORBIDDEN


def _signed_in_user(request: Request, _bearer: Annotated[Any, Depends(BEARER_SCHEME)]) -> int:
    # Not permissions.CurrentPrincipal: that imports chosen.py, which imports this package.
    principal = signed_in_principal(request)
    if principal.kind != "user":
        raise NotAUserError("An API key is not a user: this needs a user's token.")
    return int(principal.subject)


@router.post(SIGN_IN_PATH, responses=problem_responses(401))
async def sign_in(
    request: Request,
    session: SessionDep,
    authenticator: Authenticator,
    username: Annotated[str, Form(min_length=1, max_length=320)],
    password: Annotated[str, Form(min_length=1, max_length=4096)],
    grant_type: Annotated[str | None, Form(pattern="^password$")] = None,
) -> TokenOut:
    """OAuth 2.0 password grant: `username` is the e-mail address."""
    user = await users.sign_in(
        session,
        settings=authenticator.settings,
        failures=authenticator.failures,
        address=authenticator.failures.address(request.scope),
        email=username,
        password=password,
    )
    pair = await sessions.issue(session, settings=authenticator.settings, user=user)
    return TokenOut(**vars(pair))


@router.post("/api/v1/auth/refresh", responses=problem_responses(401))
async def refresh(data: RefreshIn, session: SessionDep, authenticator: Authenticator) -> TokenOut:
    """A new access token and refresh token; the refresh token sent is spent."""
    pair = await sessions.rotate(
        session, settings=authenticator.settings, refresh_token=data.refresh_token
    )
    return TokenOut(**vars(pair))


@router.post("/api/v1/auth/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(data: RefreshIn, session: SessionDep) -> None:
    """Sign out: the refresh token sent, and every one rotated from the same sign-in, die."""
    await sessions.sign_out(session, refresh_token=data.refresh_token)


@router.get("/api/v1/users/me", responses=problem_responses(404))
async def me(session: SessionDep, user_id: Annotated[int, Depends(_signed_in_user)]) -> UserOut:
    return UserOut.model_validate(await users.get_user_or_404(session, user_id=user_id))


@router.post(
    "/api/v1/users/me/password",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(400, 403, 404),
)
async def change_password(
    data: PasswordChangeIn,
    session: SessionDep,
    authenticator: Authenticator,
    user_id: Annotated[int, Depends(_signed_in_user)],
) -> None:
    """A new password, given the current one. The user's refresh tokens are revoked (signed out
    everywhere); access tokens already issued live out their minutes."""
    await password_changes.change_password(
        session,
        settings=authenticator.settings,
        user_id=user_id,
        current_password=data.current_password,
        new_password=data.new_password,
    )


@router.post(
    "/api/v1/auth/password-reset",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(400, 401),
)
async def reset_password(
    data: PasswordResetIn, session: SessionDep, authenticator: Authenticator
) -> None:
    """A new password with a reset token (`manage reset-password`), which this spends."""
    await password_changes.reset_password(
        session,
        settings=authenticator.settings,
        token=data.reset_token,
        new_password=data.new_password,
    )
