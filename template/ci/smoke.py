"""`make smoke URL=...`: the check after every deployment, against the service where it now runs.

Read-only on purpose (it runs against production): liveness, readiness (the database answers),
the security headers and request id the middleware adds, and one API call, the items list: refused
without credentials where the service authenticates (a 401 that says Bearer), and read with the
Authorization header that the SMOKE_AUTHORIZATION variable holds, when it is set (a CI secret).
A service that does not answer fails in seconds with one line: each connection may take
CONNECT_TIMEOUT, and the whole check no more than --deadline. The standard library only, so the
check needs nothing the service does not already have.
"""

import argparse
import http.client
import json
import os
import sys
import time
import uuid
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

from .credentials import REQUIRES_CREDENTIALS

CONNECT_TIMEOUT = 2.0  # seconds
# Names only: an ingress may rewrite a value (HSTS, say), but a missing header is a regression.
SECURITY_HEADERS = (
    "content-security-policy",
    "strict-transport-security",
    "x-content-type-options",
    "x-frame-options",
    "referrer-policy",
    "cache-control",
)


class SmokeError(Exception):
    """One line saying which check failed and why."""


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]  # names in lower case
    body: bytes


class Client:
    def __init__(self, base: SplitResult, deadline: float) -> None:
        self.base = base
        self.deadline = time.monotonic() + deadline

    def get(self, path: str, headers: dict[str, str] | None = None) -> Answer:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise SmokeError(f"GET {path}: the overall deadline passed")
        https = self.base.scheme == "https"
        connection_type = http.client.HTTPSConnection if https else http.client.HTTPConnection
        connection = connection_type(
            self.base.hostname or "", self.base.port, timeout=min(CONNECT_TIMEOUT, remaining)
        )
        try:
            connection.connect()
            if connection.sock is not None:  # the answer may take the rest of the budget
                connection.sock.settimeout(max(self.deadline - time.monotonic(), 0.01))
            connection.request("GET", self.base.path.rstrip("/") + path, headers=headers or {})
            response = connection.getresponse()
            body = response.read()
        except TimeoutError:
            raise SmokeError(f"GET {path}: no answer in time from {self.base.netloc}") from None
        except OSError as error:  # refused, unreachable, unknown name, TLS
            raise SmokeError(f"GET {path}: {self.base.netloc} did not answer: {error}") from None
        finally:
            connection.close()
        return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, body)


def expect_json(path: str, answer: Answer) -> object:
    if answer.status != 200:
        raise SmokeError(f"GET {path} answered {answer.status}, not 200: {answer.body[:200]!r}")
    if not answer.headers.get("content-type", "").startswith("application/json"):
        raise SmokeError(f"GET {path}: content-type {answer.headers.get('content-type')!r}")
    try:
        return json.loads(answer.body)
    except ValueError:
        raise SmokeError(f"GET {path}: the body is not JSON") from None


def run_checks(client: Client, authorization: str | None = None) -> list[str]:
    request_id = f"smoke-{uuid.uuid4().hex}"
    live = client.get("/health/live", {"X-Request-ID": request_id})
    body = expect_json("/health/live", live)
    if not isinstance(body, dict) or body.get("status") != "ok":
        raise SmokeError(f"GET /health/live: status is not ok: {body!r}")
    # HSTS comes only over HTTPS (the service's security/headers.py): not asked of plain HTTP.
    expected = [
        name
        for name in SECURITY_HEADERS
        if client.base.scheme == "https" or name != "strict-transport-security"
    ]
    missing = [name for name in expected if name not in live.headers]
    if missing:
        raise SmokeError(f"GET /health/live: security headers missing: {', '.join(missing)}")
    if live.headers.get("x-request-id") != request_id:
        raise SmokeError("GET /health/live: the X-Request-ID sent was not echoed back")
    passed = [f"live, version {body.get('version')}", "security headers", "request id"]

    expect_json("/health/ready", client.get("/health/ready"))
    passed.append("ready")

    items_path = "/api/v1/items?limit=1"
    anonymous = client.get(items_path)
    if REQUIRES_CREDENTIALS:
        # Anyone may read this check's result, so the refusal is checked, never the data.
        if anonymous.status != 401 or not anonymous.headers.get("www-authenticate"):
            raise SmokeError(
                f"GET {items_path} without credentials answered {anonymous.status}, not a 401"
            )
        passed.append("anonymous items list refused")
    if authorization is not None or not REQUIRES_CREDENTIALS:
        answer = client.get(items_path, {"Authorization": authorization} if authorization else {})
        items = expect_json(items_path, answer)
        if not isinstance(items, dict) or not isinstance(items.get("items"), list):
            raise SmokeError("GET /api/v1/items: not an item page")
        passed.append("items list")
    return passed


def parse_url(url: str) -> SplitResult:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SmokeError(f"{url!r} is not an http(s)://host[:port] URL")
    try:
        parts.port  # noqa: B018 (urlsplit checks the port only when asked)
    except ValueError as error:
        raise SmokeError(f"{url!r}: {error}") from None
    return parts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="post-deployment smoke test")
    parser.add_argument("url", help="the service's base URL, e.g. https://staging.example.com")
    parser.add_argument("--deadline", type=float, default=5.0, help="seconds for every check")
    options = parser.parse_args(argv)
    started = time.monotonic()
    try:
        client = Client(parse_url(options.url), options.deadline)
        passed = run_checks(client, os.environ.get("SMOKE_AUTHORIZATION") or None)
    except SmokeError as failure:
        print(f"smoke: FAILED: {options.url}: {failure}", file=sys.stderr)
        return 1
    elapsed = time.monotonic() - started
    print(f"smoke: passed {options.url} in {elapsed:.2f} s: {', '.join(passed)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
