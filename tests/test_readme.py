"""The README's first command works as written: it installs prodready, generates and serves."""

import os
import re
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parent.parent
README_PORT = 8000  # The generated Makefile's default, which the README's command relies on.


def readme_commands() -> list[str]:
    return re.findall(r"```sh\n(.+?)\n```", (REPO / "README.md").read_text())


def checkout_copy(destination: Path) -> Path:
    """The files git tracks (as they are in the working tree), like a fresh clone."""
    tracked = (
        subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True)
        .stdout.decode()
        .split("\0")
    )
    for name in filter(None, tracked):
        if (REPO / name).is_file():
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, target)
    return destination


def port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


def test_the_readme_has_the_two_commands() -> None:
    commands = readme_commands()
    assert "prodready new my-service --defaults" in commands[0]
    assert "python -m pytest" in commands[1]
    assert commands[1] in (REPO / ".ci" / "run").read_text()


@pytest.mark.slow
def test_the_first_command_generates_and_serves_the_default_service(tmp_path: Path) -> None:
    if not port_is_free(README_PORT):
        pytest.skip(f"127.0.0.1:{README_PORT} is taken; the README's command serves there")
    clone = checkout_copy(tmp_path / "prodready")
    env = {key: value for key, value in os.environ.items() if key != "VIRTUAL_ENV"}
    env["UV_PYTHON_DOWNLOADS"] = "never"
    log_path = tmp_path / "readme.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            ["bash", "-c", readme_commands()[0]],
            cwd=clone,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            assert process.poll() is None, log_path.read_text()[-5000:]
            try:
                response = httpx.get(f"http://127.0.0.1:{README_PORT}/health/ready", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(1)
        else:
            pytest.fail("the service did not answer within 300 s:\n" + log_path.read_text()[-5000:])
        assert response.status_code == 200
        assert response.json()["checks"] == {"database": "ok"}
        assert (clone / "my-service" / ".copier-answers.yml").is_file()
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
