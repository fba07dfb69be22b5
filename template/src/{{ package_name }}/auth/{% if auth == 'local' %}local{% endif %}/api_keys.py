"""API keys for service-to-service calls: `X-API-Key: <id>.<secret>`, with a scope.

Why this shape: the public id finds the row in one indexed lookup; the whole key is proven by its
SHA-256 digest, compared in constant time (a random 256-bit secret needs no slow hash). The key
is shown once, when created (`manage create-api-key`), and never stored; `manage revoke-api-key
KEY_ID` ends it. Its scope is a set of
Permission values: a key gets only what it was created for, not a role.
"""

import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from .. import events
from ..authentication import CredentialsRefusedError
from ..principal import Permission, Principal
from .models import ApiKey
from .tokens import digest

SEPARATOR = "."


@dataclass(frozen=True)
class NewApiKey:
    key_id: str
    key: str  # the only time the whole key exists outside the caller


async def create_api_key(
    session: AsyncSession, *, name: str, scope: Iterable[Permission]
) -> NewApiKey:
    key_id = secrets.token_hex(6)
    key = f"{key_id}{SEPARATOR}{secrets.token_urlsafe(32)}"
    scopes = " ".join(sorted({str(permission) for permission in scope}))
    session.add(ApiKey(key_id=key_id, key_hash=digest(key), name=name, scopes=scopes))
    await session.commit()
    events.api_key_created(key_id=key_id, scopes=scopes)
    return NewApiKey(key_id, key)


async def revoke_api_key(session: AsyncSession, *, key_id: str) -> bool:
    """Revoke the key `key_id`; False when there is no such key (or it was already revoked)."""
    revoked = await session.execute(
        update(ApiKey)
        .where(ApiKey.key_id == key_id, ApiKey.revoked_at.is_(None))
        .values(revoked_at=datetime.now(UTC))
    )
    await session.commit()
    if not revoked.rowcount:  # type: ignore[attr-defined]
        return False
    events.api_key_revoked(key_id=key_id)
    return True


async def principal_for_key(session: AsyncSession, *, key: str) -> Principal:
    key_id, separator, _ = key.partition(SEPARATOR)
    stored = None
    if separator and len(key_id) <= 32:
        stored = await session.scalar(select(ApiKey).where(ApiKey.key_id == key_id))
    if stored is None or not hmac.compare_digest(stored.key_hash, digest(key)):
        raise CredentialsRefusedError("The API key is not valid.")
    if stored.revoked_at is not None:
        raise CredentialsRefusedError("The API key was revoked.")
    permissions = frozenset(Permission(value) for value in stored.scopes.split())
    return Principal(stored.key_id, permissions, kind="api_key")
