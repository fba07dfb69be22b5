"""Limits on guessing passwords: per account (lockout) and per client address.

Why both: the account lockout (LOCKOUT_FAILURES failed sign-ins in a row, then 429 for
LOCKOUT_SECONDS) stops guessing one account's password from many addresses; it is kept in the
users table, so a restart does not reset it. The per-address limit (LOGIN_FAILURES_PER_ADDRESS)
stops one address from trying one password against many accounts (password spraying), which no
single account's counter would see. Only failures count: a user who signs in often is never
refused. Both refusals are 429 problems with Retry-After.
"""

import math
import time
from datetime import UTC, datetime
from http import HTTPStatus

from limits import parse
from limits.aio.strategies import FixedWindowRateLimiter
from starlette.types import Scope

from ...problems import ProblemError
from ...security.rate_limit import build_storage, client_key
from ...settings import Settings

NAMESPACE = "login-failures"


class TooManyAttemptsError(ProblemError):
    status = HTTPStatus.TOO_MANY_REQUESTS

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail)
        self.headers = {"Retry-After": str(max(1, retry_after))}


def aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything stored is UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def check_not_locked(locked_until: datetime | None) -> None:
    if locked_until is None:
        return
    remaining = (aware(locked_until) - datetime.now(UTC)).total_seconds()
    if remaining > 0:
        raise TooManyAttemptsError(
            "Too many failed sign-ins for this account; try again later.",
            retry_after=math.ceil(remaining),
        )


class AddressFailures:
    """Failed sign-ins per client address, in the rate limiter's store (memory://: per process)."""

    def __init__(self, settings: Settings) -> None:
        self.limit = parse(settings.login_failures_per_address)
        self.limiter = FixedWindowRateLimiter(build_storage(settings))

    @staticmethod
    def address(scope: Scope) -> str:
        # The client's address (IPv6 per /64) as the rate limiter counts it, whoever signs in.
        return client_key({"type": "http", "client": scope.get("client")})

    async def check(self, address: str) -> None:
        if not await self.limiter.test(self.limit, NAMESPACE, address):
            stats = await self.limiter.get_window_stats(self.limit, NAMESPACE, address)
            raise TooManyAttemptsError(
                "Too many failed sign-ins from this address; try again later.",
                retry_after=math.ceil(stats.reset_time - time.time()),
            )

    async def record(self, address: str) -> None:
        await self.limiter.hit(self.limit, NAMESPACE, address)
