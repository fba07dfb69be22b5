"""Password hashing (argon2id) and the password policy (NIST SP 800-63B).

Why argon2id through argon2-cffi: memory-hard, the current OWASP recommendation; its parameters
come from the settings, and a hash made with older ones is replaced at the next successful sign-in
(needs_rehash). Hashing takes tens of milliseconds of CPU, so it runs in a worker thread: the
event loop keeps serving other requests meanwhile.

The policy is NIST's: a minimum length (15 by default) and a generous maximum, any characters,
no composition rules ("one digit, one symbol"), and refusal of common passwords (the blocklist
shipped next to this file) and of the account's own address.
"""

import unicodedata
from functools import cache
from importlib.resources import files

import anyio.to_thread
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ...problems import ProblemError
from ...settings import Settings

BLOCKLIST_FILE = "common-passwords.txt"


class WeakPasswordError(ProblemError):
    """A password the policy refuses; the message says which rule, never the password."""


@cache
def hasher(time_cost: int, memory_kib: int, parallelism: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism)


def hasher_for(settings: Settings) -> PasswordHasher:
    return hasher(
        settings.argon2_time_cost, settings.argon2_memory_kib, settings.argon2_parallelism
    )


@cache
def dummy_hash(time_cost: int, memory_kib: int, parallelism: int) -> str:
    """A hash with the current parameters, verified for unknown users so that they take as long
    as a known user with a wrong password: the timing does not say which addresses exist."""
    return hasher(time_cost, memory_kib, parallelism).hash("not a password of anyone")


def normalise(password: str) -> str:
    # NFKC, as SP 800-63B asks, so the same password typed on two keyboards hashes the same.
    return unicodedata.normalize("NFKC", password)


async def hash_password(settings: Settings, password: str) -> str:
    return await anyio.to_thread.run_sync(hasher_for(settings).hash, normalise(password))


def _verify(ph: PasswordHasher, password_hash: str, password: str) -> bool:
    try:
        return ph.verify(password_hash, normalise(password))
    except (VerificationError, InvalidHashError):
        return False


async def verify_password(settings: Settings, password_hash: str | None, password: str) -> bool:
    """Whether `password` matches; with no hash (an unknown user) the dummy one is checked, so
    the answer (False) takes as long as for a wrong password."""
    ph = hasher_for(settings)
    if password_hash is None:
        parameters = (settings.argon2_time_cost, settings.argon2_memory_kib)
        dummy = dummy_hash(*parameters, settings.argon2_parallelism)
        await anyio.to_thread.run_sync(_verify, ph, dummy, password)
        return False
    return await anyio.to_thread.run_sync(_verify, ph, password_hash, password)


def needs_rehash(settings: Settings, password_hash: str) -> bool:
    return hasher_for(settings).check_needs_rehash(password_hash)


@cache
def blocklist() -> frozenset[str]:
    text = files(__package__ or __name__).joinpath(BLOCKLIST_FILE).read_text(encoding="utf-8")
    return frozenset(
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )


def check_policy(settings: Settings, password: str, *, email: str) -> None:
    """Raise WeakPasswordError unless `password` may be set for the account `email`."""
    password = normalise(password)
    if len(password) < settings.password_min_length:
        raise WeakPasswordError(
            f"A password needs at least {settings.password_min_length} characters."
        )
    if len(password) > settings.password_max_length:
        raise WeakPasswordError(
            f"A password may have at most {settings.password_max_length} characters."
        )
    folded = password.casefold()
    local_part = email.casefold().partition("@")[0]
    if folded in blocklist() or len(set(folded)) < 3:
        raise WeakPasswordError("This password is too common; choose another one.")
    if folded == email.casefold() or (len(local_part) >= 4 and local_part in folded):
        raise WeakPasswordError("A password must not contain the account's address.")
