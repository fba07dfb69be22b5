"""CPU time the rate limiter adds to a counted request, in-process, by the number of clients.

Why its own script: middleware.py and components.py load GET /health/live, which the limiter
does not count, so their figures hold only its skip. Here the service's app (create_app) is called
in a loop, as benchmarks/asgi_timing.py does, on a path the limiter counts (an unknown path: a 404
that touches no database), with the limiter off and then on, the requests spread round-robin over
N client addresses, each within its quota. Process CPU time, not the thread's: limits' memory
storage expires its entries in a task that hands work to threads (asyncio.to_thread), and that
work is part of the cost.

Then the limiter alone, which the whole app's figures bury in 60-80 us of pipeline that moves by
10 us between runs on a busy machine: RateLimitMiddleware around an app that only answers, called
the same way, in three variants measured in turn within each repeat (so drift hits all three):
no limiter (the baseline); the limiter as it was before it counted with one `incr` (prodready
32156f3: limits' FixedWindowRateLimiter's `hit` then `get_window_stats`, keys from `key_for`, on a
SweptMemoryStorage whose methods limits' __init_subclass__ had wrapped twice); and the template's
limiter as rendered. The second is the third's subclass with only `count` and the storage
replaced, so what differs is the counting and nothing else.

Run inside a rendered project (its venv has the package and limits); stdout carries the access
log, the same for both variants, so send it away; the figures are printed on stderr:

    cd RENDERED && .venv/bin/python PATH/TO/benchmarks/rate_limit.py PACKAGE [REQUESTS] >/dev/null
"""

import asyncio
import importlib
import os
import sys
import time
from typing import Any

PATH = "/benchmark/counted"
REPEATS = 5
# (clients, each one's quota): every client stays within its quota over the whole run.
CASES = [(100, "100000/minute"), (10_000, "1000/minute")]


def request_scope(client: str) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "server": ("127.0.0.1", 8000),
        "client": (client, 50000),
        "scheme": "http",
        "method": "GET",
        "root_path": "",
        "path": PATH,
        "raw_path": PATH.encode(),
        "query_string": b"",
        "headers": [(b"host", b"127.0.0.1:8000")],
        "state": {},
    }


async def measure(app: Any, clients: int, requests: int) -> float:
    """Best of REPEATS, after a warm-up: process CPU us per request."""
    await measure_once(app, clients, requests // 10)
    return min([await measure_once(app, clients, requests) for _ in range(REPEATS)])


async def answer(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b""})


def limiter_variants(package: str, quota: str) -> dict[str, Any]:
    """The apps of the limiter-alone comparison, by label."""
    rate_limit = importlib.import_module(f"{package}.security.rate_limit")
    from limits.aio.strategies import FixedWindowRateLimiter

    class TwiceWrapped(rate_limit.SweptMemoryStorage):
        """limits' Storage.__init_subclass__ wraps the methods again, as it did before rate_limit
        undid that for SweptMemoryStorage."""

    class StrategyLimiter(rate_limit.RateLimitMiddleware):
        """Counts as the template did before its own `count`: the strategy's two calls."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.limiter = FixedWindowRateLimiter(self.storage)

        async def count(self, policy: Any, client: str) -> tuple[int, float]:
            admitted = await self.limiter.hit(policy.limit, policy.name, client)
            stats = await self.limiter.get_window_stats(policy.limit, policy.name, client)
            used = policy.limit.amount - stats.remaining
            return (used if admitted else policy.limit.amount + 1), stats.reset_time

    def limited(middleware: Any, storage: Any) -> Any:
        policy = rate_limit.Policy.of(rate_limit.DEFAULT_POLICY, quota)
        return middleware(answer, default=policy, routes={}, storage=storage)

    return {
        "no limiter": answer,
        "before (hit + get_window_stats)": limited(StrategyLimiter, TwiceWrapped()),
        "the template's (incr + get_expiry)": limited(
            rate_limit.RateLimitMiddleware, rate_limit.SweptMemoryStorage()
        ),
    }


async def measure_interleaved(
    apps: dict[str, Any], clients: int, requests: int
) -> dict[str, float]:
    """Best of REPEATS per app, the apps taking turns within each repeat: CPU us per request."""
    best = dict.fromkeys(apps, float("inf"))
    for repeat in range(REPEATS + 1):  # The first is a warm-up.
        for label, app in apps.items():
            cost = await measure_once(app, clients, requests)
            if repeat:
                best[label] = min(best[label], cost)
    return best


async def measure_once(app: Any, clients: int, requests: int) -> float:
    scopes = [
        request_scope(f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}") for i in range(clients)
    ]

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        return None

    began = time.process_time()
    for index in range(requests):
        await app(dict(scopes[index % clients]), receive, send)
        await asyncio.sleep(0)  # the event loop's turn between requests, as under a server
    return (time.process_time() - began) / requests * 1e6


def main() -> None:
    package, requests = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 20000
    create_app = importlib.import_module(f"{package}.main").create_app
    settings_type = importlib.import_module(f"{package}.settings").Settings
    results = []
    for clients, quota in CASES:
        for enabled in (False, True):
            settings = settings_type(
                rate_limit_enabled=enabled, rate_limit_default=quota, _env_file=None
            )
            cost = asyncio.run(measure(create_app(settings), clients, requests))
            results.append((clients, quota, enabled, cost))
    for clients, quota, enabled, cost in results:
        label = f"limiter {'on ' if enabled else 'off'}, {clients:>6} clients, quota {quota}"
        print(f"{label:55} {cost:7.2f} us", file=sys.stderr)
    print("the limiter alone (around an app that only answers), CPU us/request:", file=sys.stderr)
    for clients, quota in CASES:
        apps = limiter_variants(package, quota)
        costs = asyncio.run(measure_interleaved(apps, clients, requests))
        baseline = costs["no limiter"]
        for label, cost in costs.items():
            added = f"  (+{cost - baseline:.2f})" if label != "no limiter" else ""
            print(f"  {clients:>6} clients, {label:36} {cost:7.2f} us{added}", file=sys.stderr)
    os._exit(0)


if __name__ == "__main__":
    main()
