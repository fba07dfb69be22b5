"""The README's two commands work as written, in sequence, in a fresh clone.

The first installs prodready, generates a service beside the clone and serves it; the second, run
in the same clone afterwards, installs the dev tools and runs the test suite. Here the second stops
after collecting every test and running the readiness-report harness on one option set, which
renders the template the way every harness test does (the whole suite is ten minutes).
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parent.parent
README_PORT = 8000  # The generated Makefile's default, which the README's command relies on.


def readme_commands() -> list[str]:
    return re.findall(r"```sh\n(.+?)\n```", (REPO / "README.md").read_text())


def git(repository: Path, *arguments: str) -> None:
    identity = ["-c", "user.name=README test", "-c", "user.email=readme@localhost"]
    subprocess.run(["git", *identity, *arguments], cwd=repository, check=True, capture_output=True)


def checkout_copy(destination: Path) -> Path:
    """A fresh clone of the working tree: a git repository of every file it would commit."""
    listing = ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"]
    committed = (
        subprocess.run(listing, cwd=REPO, capture_output=True, check=True)
        .stdout.decode()
        .split("\0")
    )
    for name in filter(None, committed):
        if (REPO / name).is_file():
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, target)
    git(destination, "init", "--quiet")
    git(destination, "add", "--all")
    git(destination, "commit", "--quiet", "--message", "clone")
    return destination


def fresh_machine_env() -> dict[str, str]:
    """The environment without this test run's virtualenv: no prodready, no uv on PATH."""
    ours = str(Path(sys.executable).parent)
    env = {key: value for key, value in os.environ.items() if key != "VIRTUAL_ENV"}
    env["PATH"] = os.pathsep.join(part for part in env["PATH"].split(os.pathsep) if part != ours)
    env["UV_PYTHON_DOWNLOADS"] = "never"
    return env


def port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


def test_the_readme_has_the_two_commands() -> None:
    commands = readme_commands()
    # Beside the clone: a service generated inside it would be a repository nested in prodready's.
    assert "prodready new ../my-service --defaults" in commands[0]
    assert "make -C ../my-service install migrate run" in commands[0]
    assert commands[1].endswith("python -m pytest")
    assert commands[1] in (REPO / ".ci" / "run").read_text()


def run_in_background(command: str, clone: Path, log_path: Path) -> subprocess.Popen[bytes]:
    with log_path.open("wb") as log:
        return subprocess.Popen(
            ["bash", "-c", command],
            cwd=clone,
            env=fresh_machine_env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, which the test stops as a whole
        )


def wait_until_ready(process: subprocess.Popen[bytes], log_path: Path) -> httpx.Response:
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        assert process.poll() is None, log_path.read_text()[-5000:]
        try:
            return httpx.get(f"http://127.0.0.1:{README_PORT}/health/ready", timeout=2)
        except httpx.TransportError:
            time.sleep(1)
    pytest.fail("the service did not answer within 300 s:\n" + log_path.read_text()[-5000:])


def second_command_collecting_and_rendering() -> str:
    """Command 2 as written, up to pytest, which collects everything and runs one harness file."""
    install, pytest_run = readme_commands()[1].rsplit(" && ", 1)
    assert pytest_run == "python -m pytest"
    return (
        f"{install} && python -m pytest --collect-only -q"
        # -n 0: in one process, whose summary counts the deselected tests (workers' does not).
        " && python -m pytest -q -n 0 tests/harness/test_readiness_report.py -k '3.11 and local'"
    )


@pytest.mark.slow
def test_the_two_commands_work_in_sequence(tmp_path: Path) -> None:
    if not port_is_free(README_PORT):
        pytest.skip(f"127.0.0.1:{README_PORT} is taken; the README's command serves there")
    clone = checkout_copy(tmp_path / "prodready")
    first_log = tmp_path / "first.log"
    process = run_in_background(readme_commands()[0], clone, first_log)
    try:
        response = wait_until_ready(process, first_log)
        assert response.status_code == 200
        assert response.json()["checks"] == {"database": "ok", "schema": "ok"}
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    assert (tmp_path / "my-service" / ".copier-answers.yml").is_file()
    assert not (clone / "my-service").exists()

    # Whatever else a clone holds must not matter to the harness: here a nested repository, as a
    # service generated inside the clone would be (git made it a submodule without a URL, and
    # every render failed).
    (clone / "stray-service").mkdir()
    (clone / "stray-service" / "app.py").write_text("")
    git(clone / "stray-service", "init", "--quiet")
    git(clone / "stray-service", "add", "--all")
    git(clone / "stray-service", "commit", "--quiet", "--message", "nested")
    second = subprocess.run(
        ["bash", "-c", second_command_collecting_and_rendering()],
        cwd=clone,
        env=fresh_machine_env(),
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    output = second.stdout[-5000:] + second.stderr[-5000:]
    assert second.returncode == 0, output
    collected = re.search(r"^(\d+) tests collected", second.stdout, flags=re.MULTILINE)
    assert collected, output
    assert int(collected.group(1)) > 300
    # The one option set's readiness-report tests ran (returncode 0: none failed).
    assert re.search(r"^[1-9]\d* passed, \d+ deselected", second.stdout, flags=re.MULTILINE), output
