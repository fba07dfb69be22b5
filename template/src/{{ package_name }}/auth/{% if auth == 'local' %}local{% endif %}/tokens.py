"""Access tokens: short-lived JWTs this service signs and verifies; refresh tokens: random strings.

Why so strict: HS256 is the only algorithm accepted (never the token's own `alg`, so no "none" and
no RS/HS confusion), and issuer, audience, expiry, not-before and issued-at are all required.
Each token names its key by id (`kid`, derived from the key): SECRET_KEY signs, and it and
PREVIOUS_SECRET_KEYS verify, so a key is rotated without signing anyone out; a token naming a key
that is in neither is refused.
Refresh tokens are opaque (nothing to decode or forge) and stored only as a SHA-256 digest.
"""

import hashlib
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jwt

from ...settings import Settings
from ..authentication import CredentialsRefusedError
from ..principal import Role

ALGORITHM = "HS256"
REQUIRED_CLAIMS = ("exp", "iat", "nbf", "iss", "aud", "sub")
LEEWAY_SECONDS = 10  # clocks of replicas disagree a little


def key_id(key: str) -> str:
    """A key's public name: a digest prefix, so the key itself never appears in a token."""
    return hashlib.sha256(b"token-key:" + key.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class KeyRing:
    current: str
    verifying: Mapping[str, str]  # kid -> key: the current one and every previous one

    @classmethod
    def of(cls, settings: Settings) -> "KeyRing":
        current = settings.secret_key.get_secret_value()
        keys = [current, *(key.get_secret_value() for key in settings.previous_secret_keys)]
        return cls(current, {key_id(key): key for key in keys})


@dataclass(frozen=True)
class AccessToken:
    token: str
    expires_in: int  # seconds


def sign_access_token(settings: Settings, *, subject: str, role: Role) -> AccessToken:
    now = int(time.time())
    lifetime = settings.access_token_minutes * 60
    claims = {
        "iss": settings.token_issuer,
        "aud": settings.token_audience,
        "sub": subject,
        "role": str(role),
        "iat": now,
        "nbf": now,
        "exp": now + lifetime,
        "jti": secrets.token_hex(8),
    }
    current = settings.secret_key.get_secret_value()
    token = jwt.encode(claims, current, algorithm=ALGORITHM, headers={"kid": key_id(current)})
    return AccessToken(token, lifetime)


@dataclass(frozen=True, slots=True)
class VerifiedAccessToken:
    subject: str
    role: Role
    expires_at: float  # its exp claim


def verify_access_token(settings: Settings, keys: KeyRing, token: str) -> VerifiedAccessToken:
    """The token's subject, role and expiry, or CredentialsRefusedError saying why not."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError:
        raise CredentialsRefusedError("The token is not a JWT.") from None
    key = keys.verifying.get(str(header.get("kid")))
    if key is None:
        raise CredentialsRefusedError("The token was not signed with a key of this service.")
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            audience=settings.token_audience,
            issuer=settings.token_issuer,
            leeway=LEEWAY_SECONDS,
            options={"require": list(REQUIRED_CLAIMS)},
        )
    except jwt.ExpiredSignatureError:
        raise CredentialsRefusedError("The token has expired.") from None
    except jwt.ImmatureSignatureError:
        raise CredentialsRefusedError("The token is not valid yet.") from None
    except jwt.InvalidTokenError as error:
        raise CredentialsRefusedError(f"The token is not valid: {type(error).__name__}.") from None
    try:
        role = Role(str(claims.get("role")))
    except ValueError:
        raise CredentialsRefusedError("The token names no known role.") from None
    return VerifiedAccessToken(str(claims["sub"]), role, float(claims["exp"]))


def new_refresh_token() -> str:
    return secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    """SHA-256 of a high-entropy random secret (a refresh token, an API key): enough to store it,
    since nobody can guess such a secret to test against the digest."""
    return hashlib.sha256(secret.encode()).hexdigest()
