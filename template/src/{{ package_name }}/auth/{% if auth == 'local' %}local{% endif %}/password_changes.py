"""Setting a new password: by the signed-in user, who gives the current one, or with a reset token.

Why a history: a password that leaked, put back after a forced change, undoes the change. The
new password may not be any of the account's last PASSWORD_HISTORY ones, the current included;
each is checked with argon2, as a sign-in would (the hashes are salted, so there is no faster way).
Why reset tokens are single-use and short-lived: one travels outside the service (an e-mail, a
support chat), where it may be read later. It is a 256-bit random string stored as a digest,
valid for PASSWORD_RESET_MINUTES, spent by its first use (a conditional UPDATE, so two concurrent
uses cannot both succeed), and issuing a new one spends the user's earlier ones (the user's row is
locked meanwhile, so two issued at once cannot both stay valid). The service
sends no e-mail: `python -m <package>.manage reset-password EMAIL` prints the token for whoever
delivers it (docs/access-control.md).
A wrong current password counts toward the account's lockout as a failed sign-in does, so a
stolen access token cannot be used to guess the password; a locked account cannot change it.
A reset token is spent after RESET_REFUSALS refused new passwords, so whoever holds it cannot
test many guesses against the history.
Either way a new password signs the user out everywhere (every refresh token is revoked; access
tokens already issued live out their ACCESS_TOKEN_MINUTES), spends any unused reset token and
clears a lockout.
"""

import secrets
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from typing import Any

from sqlalchemy import Select, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ...problems import NotFoundError, ProblemError
from ...settings import Settings
from .. import events
from .lockout import aware, check_not_locked
from .models import PasswordHistory, PasswordReset, User
from .passwords import check_policy, hash_password, verify_password
from .sessions import revoke_every_family
from .tokens import digest
from .users import count_failed_password, normalise_email

# Refused new passwords after which a reset token is spent.
RESET_REFUSALS = 3


class WrongPasswordError(ProblemError):
    status = HTTPStatus.FORBIDDEN


class PasswordReusedError(ProblemError):
    """The new password is one the account had recently; the message never says which."""


class ResetRefusedError(ProblemError):
    # The token is the credential of this request: unknown, used or expired is a 401.
    status = HTTPStatus.UNAUTHORIZED


_RESET_REFUSED = "The reset token is not valid: it is unknown, used or expired."


async def change_password(
    session: AsyncSession,
    *,
    settings: Settings,
    user_id: int,
    current_password: str,
    new_password: str,
) -> None:
    user = await session.get(User, user_id)
    if user is None:
        raise NotFoundError("This user no longer exists.")
    check_not_locked(user.locked_until)
    if not await verify_password(settings, user.password_hash, current_password):
        events.password_change_refused(subject=str(user.id), reason="wrong current password")
        await count_failed_password(session, settings=settings, user=user)
        raise WrongPasswordError("The current password is not correct.")
    await _check_new_password(session, settings=settings, user=user, password=new_password)
    await _set_password(session, settings=settings, user=user, password=new_password)
    events.password_changed(subject=str(user.id), how="change")


async def issue_password_reset(session: AsyncSession, *, settings: Settings, email: str) -> str:
    """A new reset token for the user `email`; the user's earlier unused ones are spent."""
    user = await session.scalar(
        select(User).where(User.email == normalise_email(email)).with_for_update()
    )
    if user is None:
        raise NotFoundError("No user has this e-mail address.")
    now = datetime.now(UTC)
    await _spend_unused_resets(session, user_id=user.id, now=now)
    token = secrets.token_urlsafe(32)
    expires_at = now + timedelta(minutes=settings.password_reset_minutes)
    session.add(PasswordReset(user_id=user.id, token_hash=digest(token), expires_at=expires_at))
    await session.commit()
    events.password_reset_issued(subject=str(user.id), minutes=settings.password_reset_minutes)
    return token


async def reset_password(
    session: AsyncSession, *, settings: Settings, token: str, new_password: str
) -> None:
    reset = await session.scalar(
        select(PasswordReset).where(PasswordReset.token_hash == digest(token))
    )
    now = datetime.now(UTC)
    if reset is None or reset.used_at is not None or aware(reset.expires_at) <= now:
        events.password_change_refused(subject=None, reason="reset token not valid")
        raise ResetRefusedError(_RESET_REFUSED)
    user = await session.get(User, reset.user_id)
    if user is None:  # pragma: no cover (the foreign key deletes its resets with the user)
        raise ResetRefusedError(_RESET_REFUSED)
    # The policy and the history first: a refused password spends the token only after a few.
    try:
        await _check_new_password(session, settings=settings, user=user, password=new_password)
    except ProblemError:
        await session.execute(
            update(PasswordReset)
            .where(PasswordReset.id == reset.id)
            .values(refusals=PasswordReset.refusals + 1)
        )
        await session.execute(
            update(PasswordReset)
            .where(PasswordReset.id == reset.id, PasswordReset.refusals >= RESET_REFUSALS)
            .values(used_at=now)
        )
        await session.commit()
        raise
    claimed = await session.execute(
        update(PasswordReset)
        .where(PasswordReset.id == reset.id, PasswordReset.used_at.is_(None))
        .values(used_at=now)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        await session.rollback()
        raise ResetRefusedError(_RESET_REFUSED)
    await _set_password(session, settings=settings, user=user, password=new_password)
    events.password_changed(subject=str(user.id), how="reset")


async def _check_new_password(
    session: AsyncSession, *, settings: Settings, user: User, password: str
) -> None:
    check_policy(settings, password, email=user.email)
    earlier = await session.scalars(
        _latest_history(settings, user_id=user.id, column=PasswordHistory.password_hash)
    )
    for password_hash in [user.password_hash, *earlier]:
        if await verify_password(settings, password_hash, password):
            raise PasswordReusedError(
                f"Choose a password this account has not had among its last"
                f" {settings.password_history}."
            )


async def _set_password(
    session: AsyncSession, *, settings: Settings, user: User, password: str
) -> None:
    """Replace the password (checked by _check_new_password), keeping the old hash; one
    transaction with signing the user out everywhere."""
    session.add(PasswordHistory(user_id=user.id, password_hash=user.password_hash))
    user.password_hash = await hash_password(settings, password)
    user.failed_logins = 0
    user.locked_until = None
    await session.flush()
    # Only the last PASSWORD_HISTORY - 1 earlier hashes are ever read: the rest go.
    kept = _latest_history(settings, user_id=user.id, column=PasswordHistory.id)
    await session.execute(
        delete(PasswordHistory).where(
            PasswordHistory.user_id == user.id, PasswordHistory.id.not_in(kept)
        )
    )
    await revoke_every_family(session, user_id=user.id)
    await _spend_unused_resets(session, user_id=user.id, now=datetime.now(UTC))
    await session.commit()


def _latest_history(settings: Settings, *, user_id: int, column: Any) -> Select[Any]:
    """`column` of the user's PASSWORD_HISTORY - 1 latest earlier passwords: the ones checked."""
    return (
        select(column)
        .where(PasswordHistory.user_id == user_id)
        .order_by(PasswordHistory.id.desc())
        .limit(settings.password_history - 1)
    )


async def _spend_unused_resets(session: AsyncSession, *, user_id: int, now: datetime) -> None:
    await session.execute(
        update(PasswordReset)
        .where(PasswordReset.user_id == user_id, PasswordReset.used_at.is_(None))
        .values(used_at=now)
    )
