"""CPU time the rate limiter adds to a counted request, in-process, by the number of clients.

Why its own script: middleware.py and components.py load GET /health/live, which the limiter
does not count, so their figures hold only its skip. Here the service's app (create_app) is called
in a loop, as benchmarks/asgi_timing.py does, on a path the limiter counts (an unknown path: a 404
that touches no database), with the limiter off and then on, the requests spread round-robin over
N client addresses, each within its quota. Process CPU time, not the thread's: limits' memory
storage expires its entries in a task that hands work to threads (asyncio.to_thread), and that
work is part of the cost.

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
    """Best of REPEATS: process CPU us per request."""
    scopes = [
        request_scope(f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}") for i in range(clients)
    ]

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        return None

    for index in range(requests // 10):  # Warm-up.
        await app(dict(scopes[index % clients]), receive, send)
    best = float("inf")
    for _ in range(REPEATS):
        began = time.process_time()
        for index in range(requests):
            await app(dict(scopes[index % clients]), receive, send)
            await asyncio.sleep(0)  # the event loop's turn between requests, as under a server
        best = min(best, (time.process_time() - began) / requests)
    return best * 1e6


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
    os._exit(0)


if __name__ == "__main__":
    main()
