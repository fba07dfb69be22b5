"""The server as `make run` starts it: it serves, drains on SIGTERM and exits with status 0.

Coverage measures the subprocess (pyproject.toml: `patch = ["subprocess"]`).
"""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

PACKAGE = next((Path(__file__).resolve().parent.parent / "src").iterdir()).name


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_until_live(url: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, "the server exited before it served"
        try:
            with urllib.request.urlopen(url, timeout=1) as response:  # noqa: S310 (a local URL)
                assert response.status == 200
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"{url} did not answer within 30 s")


def test_sigterm_drains_and_exits_0(database_url: str) -> None:
    port = _free_port()
    command = [sys.executable, "-m", PACKAGE, f"{PACKAGE}.main:app", "--port", str(port)]
    # The whole environment: coverage follows the subprocess through a variable it sets.
    environment = {**os.environ, "DATABASE_URL": database_url, "ENVIRONMENT": "test"}
    with subprocess.Popen(  # noqa: S603 (this interpreter, this package)
        command, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as process:
        try:
            _wait_until_live(f"http://127.0.0.1:{port}/health/live", process)
            process.send_signal(signal.SIGTERM)
            output, _ = process.communicate(timeout=30)
        finally:
            process.kill()
    assert process.returncode == 0, output
    assert "Application shutdown complete" in output
