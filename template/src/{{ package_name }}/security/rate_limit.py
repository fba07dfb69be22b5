"""Rate limiting: each client has a quota of requests per time window; past it, a 429.

Why: one client (a script in a loop, a scraper, a password-guessing run) must not take the
capacity that every other client shares. The quota is spent per client address, as the server sees
it: uvicorn replaces the peer's address with the client X-Forwarded-For names only when the peer is
a trusted proxy (FORWARDED_ALLOW_IPS, settings.py), so a caller cannot choose its own quota by
sending that header. Health probes and /metrics are never counted: the orchestrator and Prometheus
call them steadily, and refusing them would restart or blind a healthy service.

The window is limits' fixed window: `q` requests per window of `w` seconds, counted from a client's
first request in it. A client that has been quiet may spend its whole quota at once (the burst
allowance); at a window's edge it may send up to 2q in a short span, never more than 2q in any `w`
seconds. The headers are exact: `t` is when the window ends and the whole quota is back, and a
429's Retry-After says the same. Why not the moving window (at most q in any w): it keeps every
request's time (O(q) per hit and memory per client), and limits' memory storage expires those lists
through a thread hop per client: measured in-process, 70-140 us per request against 19-28 us for
the fixed window with SweptMemoryStorage (docs/performance.md in prodready's repository).

Every counted response says where the client stands, in the fields of the IETF draft
draft-ietf-httpapi-ratelimit-headers-10 (structured-field lists):
    RateLimit-Policy: "default";q=100;w=60   (quota q per window of w seconds)
    RateLimit: "default";r=42;t=18           (r requests left; t seconds until the quota is back)
A 429 is a problem document (problems.send_problem) with the same fields and Retry-After.

A path may have a limit of its own instead of the default (RATE_LIMIT_ROUTES: a login, say). This
runs before routing, so it matches the request's path, not a route template.

The counts live where RATE_LIMIT_STORAGE_URL says (build_storage): memory:// is this process only,
so each replica counts alone until a shared store (Redis) is configured.
"""

import ipaddress
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass

from fastapi import FastAPI
from limits import RateLimitItem, parse
from limits.aio import storage as limits_storage
from limits.aio.storage import Storage
from limits.storage import storage_from_string
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..auth.authentication import PRINCIPAL
from ..auth.principal import Principal
from ..problems import send_problem
from ..settings import Settings
from .probes import PROBE_PATHS

DEFAULT_POLICY = "default"


@dataclass(frozen=True)
class Policy:
    """A named quota; its RateLimit-Policy value is built once, not on every request."""

    name: str
    limit: RateLimitItem
    field_name: bytes  # the policy's name as a structured-field string: "default"
    policy_field: bytes  # "default";q=100;w=60
    # limits' key for a client's counter is `limit.key_for(name, client)`: what comes before and
    # after the client in it, so that a request joins three strings instead of calling key_for
    # (1.5 us: it escapes and joins every part again).
    key_before: str
    key_after: str

    @classmethod
    def of(cls, name: str, limit: str) -> "Policy":
        item = parse(limit)
        # A structured-field string: printable ASCII, with " and \ escaped (settings.py checks
        # that a route's path is printable ASCII).
        quoted = '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
        field_name = quoted.encode("ascii")
        policy_field = b"%s;q=%d;w=%d" % (field_name, item.amount, item.get_expiry())
        # NUL stands for the client: no policy name (printable ASCII) or limit part contains it.
        key_before, _, key_after = item.key_for(name, "\0").partition("\0")
        return cls(name, item, field_name, policy_field, key_before, key_after)

    def key_for(self, client: str) -> str:
        """The counter's key: the one limits' FixedWindowRateLimiter uses for this client."""
        return self.key_before + client + self.key_after


def client_key(scope: Scope) -> str:
    """Whose quota a request spends: the signed-in caller's, else its client address's.

    A verified caller (auth/authentication.py, which runs outside this layer) keeps one quota
    across addresses: "user:<id>" or "api_key:<id>". Anyone else is counted by the address
    uvicorn gives (after trusted proxies); IPv6 clients per /64, the block one subscriber is
    usually given, since a single host can pick any address in it. Refused credentials count
    against the address, so guessing tokens spends the guesser's own quota.
    """
    principal: Principal | None = scope.get("state", {}).get(PRINCIPAL)
    if principal is not None:
        return f"{principal.kind}:{principal.subject}"
    client = scope.get("client")
    if client is None:
        return "unknown"
    host: str = client[0]
    if ":" in host:
        try:
            return str(ipaddress.IPv6Network((host, 64), strict=False))
        except ValueError:
            return host
    return host


class SweptMemoryStorage(limits_storage.MemoryStorage):
    """limits' memory storage, sweeping out expired counters once a second, not on every hit.

    Why: the library starts a sweep of every client's counter whenever the previous sweep has
    finished, which is on nearly every request: with 10,000 clients that measured 670 us per
    request. A counter's expiry is checked when it is read anyway, so the sweep only frees the
    memory of clients that went quiet; once a second is enough for that. It overrides the
    library's private scheduling method (name-mangled), so check it when upgrading limits.
    It takes over the memory:// scheme, so storage_from_string builds it.
    """

    STORAGE_SCHEME = ["async+memory"]  # noqa: RUF012 (read once, by the library's registry)
    SWEEP_INTERVAL = 1.0  # seconds
    _next_sweep = 0.0

    async def _MemoryStorage__schedule_expiry(self) -> None:  # noqa: N802 (the library's name)
        now = time.monotonic()
        if now >= self._next_sweep:
            self._next_sweep = now + self.SWEEP_INTERVAL
            await super()._MemoryStorage__schedule_expiry()  # type: ignore[misc]


# limits' Storage.__init_subclass__ wraps these methods in its error handler for every subclass,
# so this one's were wrapped twice (MemoryStorage's, already wrapped, again): one more coroutine
# per call, 0.4 us per counted request. The parent's, wrapped once, do the same.
for _method in ("incr", "get", "get_expiry", "check", "reset", "clear"):
    setattr(SweptMemoryStorage, _method, getattr(limits_storage.MemoryStorage, _method))


def build_storage(settings: Settings) -> Storage:
    """The counters' store, from RATE_LIMIT_STORAGE_URL (its asyncio variant: async+memory://)."""
    storage = storage_from_string(f"async+{settings.rate_limit_storage_url}")
    assert isinstance(storage, Storage)
    return storage


class RateLimitMiddleware:
    def __init__(
        self, app: ASGIApp, *, default: Policy, routes: Mapping[str, Policy], storage: Storage
    ) -> None:
        self.app = app
        self.default = default
        self.routes = routes
        self.storage = storage

    async def count(self, policy: Policy, client: str) -> tuple[int, float]:
        """Count one request in the client's fixed window: (requests in it so far, its end).

        What limits' FixedWindowRateLimiter does, in fewer storage calls. Its `hit` is this
        `incr`, which returns the new count, but only says whether it is within the quota; the
        headers then need `get_window_stats`, which reads the count again and then the expiry:
        four calls into the memory storage per request (three round trips to a Redis). The count
        `incr` returned is the one this request made, so it is kept, and only the window's end is
        read: `incr` (the one that takes the lock and may start a sweep) and `get_expiry` (a dict
        lookup in memory, a TTL with Redis). The key is the strategy's own (Policy.key_for), so
        the counters are the ones FixedWindowRateLimiter would read.
        """
        key = policy.key_for(client)
        count = await self.storage.incr(key, policy.limit.get_expiry())
        return count, await self.storage.get_expiry(key)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in PROBE_PATHS:
            await self.app(scope, receive, send)
            return
        policy = self.routes.get(scope["path"], self.default)
        count, window_end = await self.count(policy, client_key(scope))
        remaining = max(0, policy.limit.amount - count)
        # Whole seconds, rounded up: a client that waits t seconds is not refused for being early.
        reset = max(0, math.ceil(window_end - time.time()))
        headers = [
            (b"ratelimit-policy", policy.policy_field),
            (b"ratelimit", b"%s;r=%d;t=%d" % (policy.field_name, remaining, reset)),
        ]
        if count > policy.limit.amount:
            retry_after = max(1, reset)
            await send_problem(
                send,
                scope,
                429,
                detail=f"Too many requests from this client; retry in {retry_after} s.",
                headers=[*headers, (b"retry-after", b"%d" % retry_after)],
            )
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *headers]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def add_rate_limiting(app: FastAPI, settings: Settings) -> None:
    """The limiter, unless RATE_LIMIT_ENABLED is off; its limits were checked by Settings."""
    if not settings.rate_limit_enabled:
        return
    app.add_middleware(
        RateLimitMiddleware,
        default=Policy.of(DEFAULT_POLICY, settings.rate_limit_default),
        routes={path: Policy.of(path, limit) for path, limit in settings.rate_limit_routes.items()},
        storage=build_storage(settings),
    )
