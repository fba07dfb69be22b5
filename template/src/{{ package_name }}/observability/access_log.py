"""One JSON line per request: method, route, path, status, duration, request id and client.

Why: the access log is the first thing read in an incident; structured fields make it queryable
("all 5xx on this route in the last hour") without parsing text.

Why not through structlog like every other line: this one is written for every request, and
structlog's processor chain (context copy, level, timestamp, renderer) cost about half of the
whole pipeline's time per request (docs/performance.md in the prodready repository). The line is
built directly instead, in the same shape as structlog's (`event`, `level`, `timestamp`), with the
C string escaper `json.dumps` itself uses, and written with one system call.
"""

import json
import logging
import os
import sys
from datetime import UTC, datetime

_escape = json.encoder.encode_basestring_ascii
_enabled = True
_fd = 1


def configure_access_log(level: int) -> None:
    """Called by logs.configure_logging: same stream and level as the other logs."""
    global _enabled, _fd
    _enabled = level <= logging.INFO
    _fd = (sys.__stdout__ or sys.stdout).fileno()


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
    timestamp = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    line = (
        f'{{"event":"request","level":"info","timestamp":"{timestamp}",'
        f'"request_id":{_escape(request_id)},"method":{_escape(method)},'
        f'"route":{_escape(route)},"path":{_escape(path)},"status":{status},'
        f'"duration_ms":{duration * 1000:.3f},'
        f'"client":{_escape(client) if client is not None else "null"}}}\n'
    )
    os.write(_fd, line.encode())
