"""Request limits, hosts and transport of the running service (`make run`), on every option set:
the attacks of issue 10 over real sockets on loopback, a few requests each.

The session's `service` runs with the defaults (1 MiB bodies, 16 KiB of headers, 100 query
parameters, any host); a second server of this module sets ALLOWED_HOSTS, CORS_ORIGINS and a
short body timeout, as a deployment would.
"""

import json
import os
import select
import socket
import subprocess
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from .environment import free_port
from .project import GeneratedProject, RunningService, serve

pytestmark = pytest.mark.slow

APP_ORIGIN = "https://app.example.com"
BODY_TIMEOUT_SECONDS = 2
# What a busy machine may add to a timeout before the answer arrives.
MARGIN_SECONDS = 3.0
FIFTY_MB = 50 * 1024 * 1024


def _address(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    assert parts.hostname is not None
    assert parts.port is not None
    return parts.hostname, parts.port


def _read_until_closed(connection: socket.socket) -> bytes:
    received = b""
    try:
        while chunk := connection.recv(65536):
            received += chunk
    except (ConnectionResetError, TimeoutError):
        pass
    return received


def _exchange(address: tuple[str, int], request: bytes) -> bytes:
    with socket.create_connection(address, timeout=15) as connection:
        connection.sendall(request)
        return _read_until_closed(connection)


def _request(method: str, target: str, host: str = "127.0.0.1", extra: str = "") -> bytes:
    head = f"{method} {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n{extra}\r\n"
    return head.encode()


def _signed_in(client_headers: Mapping[str, str]) -> str:
    """The raw header lines of the client's credentials (an admin's; none with auth = none)."""
    return "".join(
        f"{name}: {value}\r\n" for name, value in client_headers.items() if name == "authorization"
    )


def _status(response: bytes) -> int:
    return int(response.split(b" ", 2)[1])


def _problem(response: bytes) -> dict[str, object]:
    head, _, body = response.partition(b"\r\n\r\n")
    assert b"content-type: application/problem+json" in head.lower(), head
    problem: dict[str, object] = json.loads(body)
    return problem


def _stream_until_answered(address: tuple[str, int], limit: int) -> tuple[int, bytes]:
    """POST a chunked body of up to `limit` bytes, stopping once the server answers; returns the
    bytes sent and the answer."""
    chunk = b"10000\r\n" + b"x" * 65536 + b"\r\n"
    sent = 0
    with socket.create_connection(address, timeout=15) as connection:
        connection.sendall(
            b"POST /api/v1/items HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        try:
            while sent < limit and not select.select([connection], [], [], 0)[0]:
                connection.sendall(chunk)
                sent += 65536
        except (BrokenPipeError, ConnectionResetError):
            pass
        return sent, _read_until_closed(connection)


def _group_rss_bytes(process_group: int) -> int:
    """Resident memory of every process in the server's group (make, uv, uvicorn)."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == process_group:  # field 5 of stat: the process group
                total += int(fields[21]) * os.sysconf("SC_PAGE_SIZE")  # field 24: rss pages
        except (OSError, IndexError, ValueError):
            continue  # a process that ended meanwhile
    return total


# --- the session's service, default settings ------------------------------------------------------


def test_a_declared_50_mb_body_is_refused_before_it_is_read(service: RunningService) -> None:
    # Only the headers are sent: the answer cannot have waited for the body.
    request = _request("POST", "/api/v1/items", extra=f"Content-Length: {FIFTY_MB}\r\n")
    response = _exchange(_address(service.url), request)
    assert _status(response) == 413
    assert _problem(response)["status"] == 413


def test_streamed_50_mb_bodies_are_cut_off_without_being_held(service: RunningService) -> None:
    before = _group_rss_bytes(service.process.pid)
    assert before > 10 * 1024 * 1024  # the server's processes were found (uvicorn alone is more)
    results = [_stream_until_answered(_address(service.url), FIFTY_MB) for _ in range(4)]
    grown = _group_rss_bytes(service.process.pid) - before
    for sent, response in results:
        assert _status(response) == 413
        assert sent < 16 * 1024 * 1024, sent  # the limit (1 MiB) plus the sockets' buffers
    assert grown < 40 * 1024 * 1024, f"the server grew by {grown:,} bytes"


def test_a_huge_header_is_a_431(service: RunningService) -> None:
    request = _request("GET", "/api/v1/items", extra=f"X-Padding: {'x' * 65536}\r\n")
    response = _exchange(_address(service.url), request)
    assert _status(response) == 431
    assert _problem(response)["status"] == 431


def test_13000_query_parameters_are_a_400(service: RunningService) -> None:
    # Names of up to three characters: written as p0=1&p1=1..., the request line (about 100 KB)
    # is refused by uvicorn's parser itself, a plain-text 400, before the service sees it.
    # That the count is linear (no event-loop freeze) is the generated project's own test
    # (tests/test_request_limits.py counts the checks); no timing is asserted here.
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    names = (digits[n // 1296] + digits[n // 36 % 36] + digits[n % 36] for n in range(13_000))
    query = "&".join(names)
    response = _exchange(_address(service.url), _request("GET", f"/api/v1/items?{query}"))
    assert _status(response) == 400
    assert "more than 100 parameters" in str(_problem(response)["detail"])


@pytest.mark.parametrize("path", ["/health/live", "/api/v1/items"])
def test_head_is_answered_like_get_without_a_body(service: RunningService, path: str) -> None:
    got = service.client.get(path)
    credentials = _signed_in(service.client.headers)
    head = _exchange(_address(service.url), _request("HEAD", path, extra=credentials))
    headers, _, body = head.partition(b"\r\n\r\n")
    assert _status(head) == got.status_code == 200
    assert body == b""
    for name in ("content-type", "content-length"):
        assert f"{name}: {got.headers[name]}".encode() in headers.lower(), name


def test_no_redirect_reflects_the_host(service: RunningService) -> None:
    response = _exchange(_address(service.url), _request("GET", "/api/v1/items/", "evil.example"))
    assert _status(response) == 404
    assert b"evil.example" not in response
    assert b"location:" not in response.lower()


def test_the_server_does_not_name_its_software(service: RunningService) -> None:
    assert "server" not in service.client.get("/health/live").headers


# --- a server configured as a deployment would be -------------------------------------------------


@pytest.fixture(scope="module")
def deployed(
    project: GeneratedProject, service: RunningService, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningService]:
    """`make run` with allowed hosts, CORS origins and a short body timeout (`service` has
    migrated the database)."""
    port = free_port()
    settings = [
        'ALLOWED_HOSTS=["127.0.0.1"]',
        f'CORS_ORIGINS=["{APP_ORIGIN}"]',
        f"REQUEST_BODY_TIMEOUT_SECONDS={BODY_TIMEOUT_SECONDS}",
    ]
    command = ["env", *settings, "make", "--silent", "run", f"PORT={port}"]
    log_path = tmp_path_factory.mktemp("deployed") / "service.log"
    with serve(project, command, port=port, log_path=log_path) as running:
        running.client.headers.update(project.admin_headers(running.url))
        yield running


def test_a_stalled_body_is_a_408_within_the_timeout(deployed: RunningService) -> None:
    request = _request("POST", "/api/v1/items", extra="Content-Length: 100\r\n") + b'{"name": '
    started = time.monotonic()
    response = _exchange(_address(deployed.url), request)
    assert time.monotonic() - started < BODY_TIMEOUT_SECONDS + MARGIN_SECONDS
    assert _status(response) == 408
    assert _problem(response)["status"] == 408


def test_a_foreign_host_is_a_400_problem(deployed: RunningService) -> None:
    address = _address(deployed.url)
    credentials = _signed_in(deployed.client.headers)
    assert _status(_exchange(address, _request("GET", "/api/v1/items", extra=credentials))) == 200
    response = _exchange(address, _request("GET", "/api/v1/items", "evil.example", credentials))
    assert _status(response) == 400
    assert _problem(response)["instance"] == "/api/v1/items"
    # Probes call pods by address: they are served whatever the Host.
    assert _status(_exchange(address, _request("GET", "/health/live", "10.0.0.7:8000"))) == 200


def test_a_foreign_origin_gets_no_cors_permission(deployed: RunningService) -> None:
    allowed = deployed.client.get("/api/v1/items", headers={"Origin": APP_ORIGIN})
    assert allowed.headers["access-control-allow-origin"] == APP_ORIGIN
    foreign = deployed.client.get("/api/v1/items", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in foreign.headers
    preflight = deployed.client.options(
        "/api/v1/items",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status_code == 400
    assert preflight.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("environment", ["staging", "production"])
@pytest.mark.parametrize("unsafe", ['ALLOWED_HOSTS=["*"]', 'CORS_ORIGINS=["*"]'])
def test_staging_and_production_refuse_to_start_with_any_host_or_origin(
    project: GeneratedProject, environment: str, unsafe: str
) -> None:
    strong = "SECRET_KEY=" + "k3P9-harness-only-random-value-0123456789"  # pragma: allowlist secret
    hosts = 'ALLOWED_HOSTS=["api.example.com"]'
    command = ["env", f"ENVIRONMENT={environment}", strong, hosts, unsafe]
    command += ["make", "--silent", "run", f"PORT={free_port()}"]
    result = subprocess.run(
        command,
        cwd=project.path,
        env=project.service_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    name = unsafe.split("=", 1)[0]
    assert f"refusing to start in {environment}" in result.stdout + result.stderr
    assert name in result.stdout + result.stderr


def test_the_deployed_server_answers_with_hsts_only_over_https(deployed: RunningService) -> None:
    # uvicorn trusts X-Forwarded-Proto from 127.0.0.1 by default (--forwarded-allow-ips).
    over_https = deployed.client.get("/health/live", headers={"X-Forwarded-Proto": "https"})
    assert "max-age=" in over_https.headers["strict-transport-security"]
    assert "strict-transport-security" not in deployed.client.get("/health/live").headers
