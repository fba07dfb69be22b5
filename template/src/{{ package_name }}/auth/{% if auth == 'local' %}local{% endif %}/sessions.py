"""Refresh tokens: issued at sign-in, rotated on every use, revoked by family.

Why families: every token rotated from one sign-in shares a family id. A refresh token is used
once; presenting it again means two parties hold it (it was stolen), so the whole family is
revoked and both must sign in again (OAuth 2.0 Security BCP, RFC 9700 section 4.14.2).
Rotation is one transaction: the old token is marked used only if it still was not (a conditional
UPDATE), so two concurrent uses cannot both succeed.
"""

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http import HTTPStatus

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ...problems import ProblemError
from ...settings import Settings
from .. import events
from ..principal import Role
from .lockout import aware
from .models import RefreshToken, User
from .tokens import digest, new_refresh_token, sign_access_token


class RefreshRefusedError(ProblemError):
    status = HTTPStatus.UNAUTHORIZED
    headers = {"WWW-Authenticate": "Bearer"}  # noqa: RUF012 (read-only, RFC 6750 section 3)


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int


async def issue(
    session: AsyncSession, *, settings: Settings, user: User, family: str | None = None
) -> TokenPair:
    """A new access token and a refresh token in `family` (a new family: a new sign-in)."""
    refresh_token = new_refresh_token()
    session.add(
        RefreshToken(
            user_id=user.id,
            family=family or secrets.token_hex(16),
            token_hash=digest(refresh_token),
            expires_at=datetime.now(UTC) + timedelta(days=settings.refresh_token_days),
        )
    )
    await session.commit()
    access = sign_access_token(settings, subject=str(user.id), role=Role(user.role))
    return TokenPair(access.token, refresh_token, access.expires_in)


async def rotate(session: AsyncSession, *, settings: Settings, refresh_token: str) -> TokenPair:
    stored = await session.scalar(
        select(RefreshToken).where(RefreshToken.token_hash == digest(refresh_token))
    )
    now = datetime.now(UTC)
    if stored is None or stored.revoked_at is not None or aware(stored.expires_at) <= now:
        raise RefreshRefusedError("The refresh token is not valid; sign in again.")
    claimed = await session.execute(
        update(RefreshToken)
        .where(RefreshToken.id == stored.id, RefreshToken.used_at.is_(None))
        .values(used_at=now)
    )
    family, user_id = stored.family, stored.user_id  # a rollback expires `stored`
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        await session.rollback()
        await revoke_family(session, family=family)
        events.refresh_token_reused(subject=str(user_id), family=family)
        raise RefreshRefusedError("The refresh token was already used; sign in again.")
    user = await session.get(User, user_id)
    if user is None:  # pragma: no cover (the foreign key deletes its tokens with the user)
        raise RefreshRefusedError("The refresh token is not valid; sign in again.")
    return await issue(session, settings=settings, user=user, family=family)


async def revoke_family(session: AsyncSession, *, family: str) -> None:
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.family == family, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=datetime.now(UTC))
    )
    await session.commit()


async def revoke_every_family(session: AsyncSession, *, user_id: int) -> None:
    """Sign the user out everywhere (a new password): in the caller's transaction, uncommitted."""
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=datetime.now(UTC))
    )


async def sign_out(session: AsyncSession, *, refresh_token: str) -> None:
    """Revoke the family of `refresh_token`; an unknown token is already signed out."""
    family = await session.scalar(
        select(RefreshToken.family).where(RefreshToken.token_hash == digest(refresh_token))
    )
    if family is not None:
        await revoke_family(session, family=family)
