"""What the sign-in and password routes accept and return (the token response: RFC 6749 5.1)."""

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints

from .lockout import aware

# A refresh or reset token is 43 URL-safe characters; the bound keeps junk out of the query.
RefreshTokenString = Annotated[str, StringConstraints(min_length=1, max_length=256)]
# The policy (passwords.py) decides what is long enough; this bound only caps what is hashed.
PasswordString = Annotated[str, StringConstraints(min_length=1, max_length=4096)]


class TokenOut(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 (a scheme, not a secret)
    expires_in: int  # seconds the access token is valid


class RefreshIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    refresh_token: RefreshTokenString


class PasswordChangeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    current_password: PasswordString
    new_password: PasswordString


class PasswordResetIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reset_token: RefreshTokenString
    new_password: PasswordString


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    role: str
    created_at: Annotated[datetime, AfterValidator(aware)]
