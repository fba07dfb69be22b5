"""The local authenticator: checks this service's access tokens and its API keys.

Why access tokens are checked without the database: they are signed and live 15 minutes, so every
request is one HMAC, not a query; revocation works through refresh tokens (sessions.py), which
are checked in the database on every use. An API key is one indexed lookup.
It also holds what sign-in needs across requests: the per-address failure counter (lockout.py).
"""

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ...settings import Settings
from .. import events
from ..authentication import Credentials
from ..principal import Principal
from .api_keys import principal_for_key
from .lockout import AddressFailures
from .tokens import KeyRing, verify_access_token


class LocalAuthenticator:
    def __init__(self, settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self.settings = settings
        self.sessionmaker = sessionmaker
        self.keys = KeyRing.of(settings)
        self.failures = AddressFailures(settings)

    async def authenticate(self, credentials: Credentials) -> Principal:
        # A refusal is logged by authentication.py, which catches it.
        if credentials.bearer_token is not None:
            token = verify_access_token(self.settings, self.keys, credentials.bearer_token)
            return Principal.with_role(token.subject, token.role, expires_at=token.expires_at)
        assert credentials.api_key is not None  # Credentials carry one or the other
        async with self.sessionmaker() as session:
            principal = await principal_for_key(session, key=credentials.api_key)
        events.api_key_used(key_id=principal.subject)
        return principal

    async def aclose(self) -> None:
        return None
