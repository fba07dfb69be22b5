"""What the sign-in routes accept and return (OAuth 2.0 token response, RFC 6749 section 5.1)."""

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints

from .lockout import aware

# A refresh token is 43 URL-safe characters (tokens.py); the bound keeps junk out of the query.
RefreshTokenString = Annotated[str, StringConstraints(min_length=1, max_length=256)]


class TokenOut(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 (a scheme, not a secret)
    expires_in: int  # seconds the access token is valid


class RefreshIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    refresh_token: RefreshTokenString


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    role: str
    created_at: Annotated[datetime, AfterValidator(aware)]
