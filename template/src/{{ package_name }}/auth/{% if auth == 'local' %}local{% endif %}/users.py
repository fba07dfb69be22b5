"""Accounts: creating one, and signing in with its password (lockout, rehash, constant time).

Keyword-only functions over a session, free of HTTP: the router and `manage create-user` share them.
"""

from datetime import UTC, datetime, timedelta
from http import HTTPStatus

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ...problems import ConflictError, NotFoundError, ProblemError
from ...settings import Settings
from .. import events
from ..principal import Role
from .lockout import AddressFailures, TooManyAttemptsError, check_not_locked
from .models import User
from .passwords import check_policy, hash_password, needs_rehash, verify_password


class InvalidCredentialsError(ProblemError):
    status = HTTPStatus.UNAUTHORIZED
    headers = {"WWW-Authenticate": "Bearer"}  # noqa: RUF012 (read-only, RFC 6750 section 3)


class DuplicateUserError(ConflictError):
    def __init__(self) -> None:
        super().__init__("A user with this e-mail address already exists.")


def normalise_email(email: str) -> str:
    return email.strip().lower()


async def create_user(
    session: AsyncSession, *, settings: Settings, email: str, password: str, role: Role
) -> User:
    email = normalise_email(email)
    check_policy(settings, password, email=email)
    user = User(
        email=email,
        password_hash=await hash_password(settings, password),
        role=str(role),
        failed_logins=0,
    )
    session.add(user)
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        raise DuplicateUserError from None
    events.user_created(subject=str(user.id), role=user.role)
    return user


async def get_user_or_404(session: AsyncSession, *, user_id: int) -> User:
    user = await session.get(User, user_id)
    if user is None:
        raise NotFoundError("This user no longer exists.")
    return user


async def sign_in(
    session: AsyncSession,
    *,
    settings: Settings,
    failures: AddressFailures,
    address: str,
    email: str,
    password: str,
) -> User:
    """The user these credentials prove, or InvalidCredentialsError / TooManyAttemptsError."""
    try:
        await failures.check(address)
    except TooManyAttemptsError:
        events.login_failed(reason="too many failures from this address")
        raise
    user = await session.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None:
        await verify_password(settings, None, password)  # as long as a wrong password takes
        await failures.record(address)
        events.login_failed(reason="unknown user")
        raise InvalidCredentialsError("Incorrect e-mail address or password.")
    try:
        check_not_locked(user.locked_until)
    except TooManyAttemptsError:
        events.login_failed(reason="account locked")
        raise
    if not await verify_password(settings, user.password_hash, password):
        await failures.record(address)
        events.login_failed(reason="wrong password")
        await count_failed_password(session, settings=settings, user=user)
        raise InvalidCredentialsError("Incorrect e-mail address or password.")
    user.failed_logins = 0
    user.locked_until = None
    if needs_rehash(settings, user.password_hash):
        # The argon2 parameters changed since this hash was made: the password is at hand now.
        user.password_hash = await hash_password(settings, password)
    await session.commit()
    events.login_succeeded(subject=str(user.id))
    return user


async def count_failed_password(session: AsyncSession, *, settings: Settings, user: User) -> None:
    """One more wrong password for `user` (at sign-in, or as the current one when changing it);
    LOCKOUT_FAILURES in a row lock the account. Incremented in the database, not in Python:
    concurrent guesses are all counted."""
    failed = await session.scalar(
        update(User)
        .where(User.id == user.id)
        .values(failed_logins=User.failed_logins + 1)
        .returning(User.failed_logins)
    )
    if failed is not None and failed >= settings.lockout_failures:
        until = datetime.now(UTC) + timedelta(seconds=settings.lockout_seconds)
        await session.execute(
            update(User).where(User.id == user.id).values(failed_logins=0, locked_until=until)
        )
        events.account_locked(subject=str(user.id), seconds=settings.lockout_seconds)
    await session.commit()
