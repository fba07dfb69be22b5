"""The service under uvicorn on 127.0.0.1, started as `make run` starts it, for the tests that
need a real server: raw sockets, timeouts, connections the server closes, signals, proxies.

Coverage measures the subprocess (pyproject.toml: `patch = ["subprocess"]`).
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PACKAGE = next((Path(__file__).resolve().parent.parent / "src").iterdir()).name


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def server_command(port: int) -> list[str]:
    """`make run`'s command line (the package's __main__ runs uvicorn) on this port."""
    return [sys.executable, "-m", PACKAGE, f"{PACKAGE}.main:app", "--port", str(port)]


@contextmanager
def served(
    database_url: str, cwd: Path | None = None, /, **settings: object
) -> Iterator[tuple[str, int]]:
    """Serve the app with these settings (as environment variables), in `cwd` (where a .env
    would be read); yields (host, port)."""
    port = free_port()
    environment = {
        **os.environ,  # coverage follows the subprocess through a variable it sets
        "DATABASE_URL": database_url,
        "ENVIRONMENT": "test",
        **{name.upper(): _env_value(value) for name, value in settings.items()},
    }
    with subprocess.Popen(  # noqa: S603 (this interpreter, this package)
        server_command(port),
        cwd=cwd,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    ) as process:
        try:
            wait_until_live(port, process)
            yield "127.0.0.1", port
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


def _env_value(value: object) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def wait_until_live(port: int, process: "subprocess.Popen[bytes] | subprocess.Popen[str]") -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, "the server exited before it served"
        try:
            url = f"http://127.0.0.1:{port}/health/live"
            with urllib.request.urlopen(url, timeout=1) as response:
                assert response.status == 200
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("the server did not answer within 30 s")


def exchange(address: tuple[str, int], request: bytes, *, timeout: float = 10) -> bytes:
    """Send raw bytes, read until the server closes the connection or `timeout` passes."""
    with socket.create_connection(address, timeout=timeout) as connection:
        connection.sendall(request)
        return read_until_closed(connection)


def read_until_closed(connection: socket.socket) -> bytes:
    received = b""
    try:
        while chunk := connection.recv(65536):
            received += chunk
    except (ConnectionResetError, TimeoutError):
        pass
    return received


def status_of(response: bytes) -> int:
    """The status code of the first response in what the server sent."""
    return int(response.split(b" ", 2)[1])


def problem_of(response: bytes) -> dict[str, object]:
    head, _, body = response.partition(b"\r\n\r\n")
    assert b"content-type: application/problem+json" in head.lower(), head
    problem: dict[str, object] = json.loads(body)
    return problem
