"""Local authentication (copier.yml: auth = local): users in this service's database.

Passwords are argon2id hashes (passwords.py); signing in returns a 15-minute access token, a JWT
this service signs (tokens.py), and a rotating refresh token (sessions.py); services call with
an API key (api_keys.py). Accounts lock after repeated failures, and each client address has a
failure limit too (lockout.py). The first user: `python -m <package>.manage create-user EMAIL
--role admin`, the password from stdin.
"""

from ..authentication import Authentication
from ..verified_tokens import remembering_verified_tokens
from .authenticator import LocalAuthenticator
from .router import API_KEY_SCHEME, BEARER_SCHEME, router

AUTHENTICATION = Authentication(
    authenticator=remembering_verified_tokens(LocalAuthenticator),
    routers=[router],
    bearer_scheme=BEARER_SCHEME,
    api_key_scheme=API_KEY_SCHEME,
)

__all__ = ["AUTHENTICATION"]
