"""The server as `make run` starts it: it serves, drains on SIGTERM and exits with status 0.

Coverage measures the subprocess (pyproject.toml: `patch = ["subprocess"]`).
"""

import os
import signal
import subprocess

from .served import free_port, server_command, wait_until_live


def test_sigterm_drains_and_exits_0(database_url: str) -> None:
    port = free_port()
    # The whole environment: coverage follows the subprocess through a variable it sets.
    environment = {**os.environ, "DATABASE_URL": database_url, "ENVIRONMENT": "test"}
    with subprocess.Popen(  # noqa: S603 (this interpreter, this package)
        server_command(port),
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as process:
        try:
            wait_until_live(port, process)
            process.send_signal(signal.SIGTERM)
            output, _ = process.communicate(timeout=30)
        finally:
            process.kill()
    assert process.returncode == 0, output
    assert "Application shutdown complete" in output
