"""Ctrl-C and SIGTERM at any moment: one line and exit 130 while nothing is done yet, the real
status once the work is in place; never a traceback, never a silent death by the signal."""

import signal
import subprocess
import time
from pathlib import Path

from cli_helpers import Cli

SIGTERM_BIT = 1 << (signal.SIGTERM - 1)


def _catches_sigterm(pid: int) -> bool:
    """Whether the process has a handler for SIGTERM (its SigCgt mask in /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("SigCgt:"):
            return bool(int(line.split()[1], 16) & SIGTERM_BIT)
    return False


def test_sigterm_while_the_cli_is_still_importing(cli: Cli, workdir: Path) -> None:
    process = subprocess.Popen(
        [str(cli.script), "new", "svc", "--defaults"],
        cwd=workdir,
        env=dict(cli.env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 10
        while not _catches_sigterm(process.pid):
            assert time.monotonic() < deadline, "prodready never installed its SIGTERM handler"
            time.sleep(0.001)
        # The handler is the first thing the command installs; copier, typer and rich follow.
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=60)
    finally:
        process.kill()

    assert process.returncode == 130, stderr
    assert stderr == "prodready: error: interrupted\n"
    assert stdout == ""
    assert list(workdir.iterdir()) == []
