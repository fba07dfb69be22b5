"""One JSON line per request: method, route, path, status, duration, request id and client.

Why: the access log is the first thing read in an incident; structured fields make it queryable
("all 5xx on this route in the last hour") without parsing text.
"""

import structlog

_logger = structlog.get_logger("access")


def log_request(
    *,
    method: str,
    route: str,
    path: str,
    status: int,
    duration: float,
    client: str | None,
) -> None:
    _logger.info(
        "request",
        method=method,
        route=route,
        path=path,
        status=status,
        duration_ms=round(duration * 1000, 3),
        client=client,
    )
