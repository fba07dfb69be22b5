"""CPU time of one GET /health/live through an ASGI app called in-process, without a server.

Why: loaded through uvicorn and wrk, a variant's figure moves by 5-10 % with whatever else the
machine runs. Called directly in a loop, the app's own CPU time per request is steady to about
1 us, so small differences between variants show. It is a lower bound: without the server's
socket and parser work between requests, caches stay warm, and the same code costs 2-3x more per
request under uvicorn (docs/performance.md). Response headers are not processed (that is uvicorn's
work), so the security headers' cost does not show here.

Runs inside the rendered project's venv (benchmarks/components.py starts it there); stdout goes to
a file so that the access log does not reach the terminal; the result is printed on stderr.

    python asgi_timing.py MODULE:APP [REQUESTS]
"""

import asyncio
import importlib
import os
import sys
import time
from typing import Any

PATH = "/health/live"
REPEATS = 5


def request_scope(state: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 50000),
        "scheme": "http",
        "method": "GET",
        "root_path": "",
        "path": PATH,
        "raw_path": PATH.encode(),
        "query_string": b"",
        "headers": [(b"host", b"127.0.0.1:8000"), (b"user-agent", b"asgi_timing")],
        "state": state.copy(),  # As uvicorn does: the lifespan's state, copied per request.
    }


async def start(app: Any, state: dict[str, Any]) -> None:
    """Run the app's lifespan start-up (it fills `state`), as the server would."""
    events: asyncio.Queue[dict[str, str]] = asyncio.Queue()
    await events.put({"type": "lifespan.startup"})
    started: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def send(message: dict[str, Any]) -> None:
        if message["type"].startswith("lifespan.startup"):
            started.set_result(None)

    scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": state}
    asyncio.get_running_loop().create_task(app(scope, events.get, send))
    await started


async def measure(app: Any, requests: int) -> float:
    state: dict[str, Any] = {}
    await start(app, state)

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        return None

    for _ in range(requests // 10):  # Warm-up.
        await app(request_scope(state), receive, send)
    best = float("inf")
    for _ in range(REPEATS):
        began = time.thread_time()
        for _ in range(requests):
            await app(request_scope(state), receive, send)
        best = min(best, (time.thread_time() - began) / requests)
    return best * 1e6


def main() -> None:
    target, requests = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 20000
    module, _, attribute = target.partition(":")
    app = getattr(importlib.import_module(module), attribute)
    print(f"{asyncio.run(measure(app, requests)):.2f}", file=sys.stderr)
    os._exit(0)  # Skip the lifespan's shutdown and interpreter teardown: not measured.


if __name__ == "__main__":
    main()
