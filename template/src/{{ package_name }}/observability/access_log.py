"""One JSON line per request: method, route, path, status, duration, request id and client.

Why: the access log is the first thing read in an incident; structured fields make it queryable
("all 5xx on this route in the last hour") without parsing text.

Why not through structlog like every other line: this one is written for every request, and
structlog's processor chain (context copy, level, timestamp, renderer) cost about half of the
whole pipeline's time per request (docs/performance.md in the prodready repository). The line is
built directly instead, in the same shape as logs.py's (`event`, `level`, `timestamp`, `logger`
first, compact separators), with the C string escaper `json.dumps` itself uses, and written with
one system call. Its own fields hold nothing secret (the path has no query string); the context
fields (logs.configure_logging) go through the same key-based redaction as every other line.

Sampling: at a high request rate most access lines say "200, fast". `ACCESS_LOG_SAMPLE_RATE`
(settings.py) keeps that share of the successful ones (status < 400), chosen at random per
request; every error is written. Metrics count every request whatever the rate.
"""

import json
import logging
import os
import random
import sys
import time
from collections.abc import Callable, Mapping
from typing import TextIO

from .redaction import REDACTED, is_sensitive

_escape = json.encoder.encode_basestring_ascii
_enabled = True
_fd = 1
_sample_rate = 1.0
_random: Callable[[], float] = random.random
_context_fields: Callable[[], Mapping[str, str]] | None = None


def configure_access_log(
    level: int,
    *,
    stream: TextIO | None = None,
    sample_rate: float = 1.0,
    context_fields: Callable[[], Mapping[str, str]] | None = None,
    random_source: Callable[[], float] = random.random,
) -> None:
    """Called by logs.configure_logging: same stream, level and context fields as the other logs.

    `random_source` returns a float in [0, 1); tests pass a seeded one.
    """
    global _enabled, _fd, _sample_rate, _random, _context_fields
    _enabled = level <= logging.INFO
    _fd = (stream or sys.__stdout__ or sys.stdout).fileno()
    _sample_rate = sample_rate
    _random = random_source
    _context_fields = context_fields


# The timestamp's date and time to the second, formatted once per second: `datetime.now(UTC)
# .isoformat()` on every line cost about 1.5 us of the line's 6 (docs/performance.md in prodready).
_this_second: tuple[int, str] = (-1, "")


def _timestamp() -> str:
    """Now in UTC, in logs.py's format: 2026-12-06T22:00:24.495298Z (always six digits of
    microseconds, where isoformat() leaves out a zero fraction)."""
    global _this_second
    now = time.time()
    second, text = _this_second
    if int(now) != second:
        second = int(now)
        text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        _this_second = (second, text)
    return f"{text}.{int((now - second) * 1_000_000):06d}Z"


def log_request(
    *,
    request_id: str,
    method: str,
    route: str,
    path: str,
    status: int,
    duration: float,
    client: str | None,
) -> None:
    if not _enabled:
        return
    if status < 400 and _sample_rate < 1.0 and _random() >= _sample_rate:
        return
    timestamp = _timestamp()
    extra = ""
    if _context_fields is not None:
        extra = "".join(
            [
                f",{_escape(key)}:{_escape(REDACTED if is_sensitive(key) else str(value))}"
                for key, value in _context_fields().items()
            ]
        )
    line = (
        f'{{"event":"request","level":"info","timestamp":"{timestamp}","logger":"access",'
        f'"request_id":{_escape(request_id)},"method":{_escape(method)},'
        f'"route":{_escape(route)},"path":{_escape(path)},"status":{status},'
        f'"duration_ms":{duration * 1000:.3f},'
        f'"client":{_escape(client) if client is not None else "null"}{extra}}}\n'
    )
    os.write(_fd, line.encode())
