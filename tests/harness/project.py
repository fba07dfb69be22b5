"""A generated project as a user has it: rendered, installed from its lock, run by its Makefile."""

import contextlib
import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

SERVER_START_TIMEOUT = 60.0
SERVER_STOP_TIMEOUT = 25.0  # The Makefile's --timeout-graceful-shutdown plus a margin.
# The served project's rate limits. The load tests and the dashboards' traffic send hundreds of
# requests a minute from 127.0.0.1, far past the default 100/minute, so the default is raised out of
# their reach; test_rate_limits.py sees a 429 on a path of its own with a quota of 3, which nothing
# else calls.
RATE_LIMITED_PATH = "/harness/rate-limited"
RATE_LIMITS = {
    "RATE_LIMIT_DEFAULT": "100000/minute",
    "RATE_LIMIT_ROUTES": json.dumps({RATE_LIMITED_PATH: "3/minute"}),
}


# The project's own ci/credentials.py, as its CI steps use it (how depends on the auth option):
# an identity provider kept running while stdin is open (oidc: the test issuer; else nothing),
# and the headers of a new admin on a served project.
_IDENTITY_PROVIDER = """
import json, os, sys
from ci.credentials import identity_provider
with identity_provider(dict(os.environ)) as provided:
    print(json.dumps(provided), flush=True)
    sys.stdin.read()
"""
_ADMIN_HEADERS = """
import json, os, sys
from ci.credentials import admin_headers
print(json.dumps(admin_headers(sys.argv[1], dict(os.environ))))
"""


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


@dataclass
class GeneratedProject:
    path: Path
    answers: dict[str, Any]
    env: dict[str, str]
    # Set for the PostgreSQL option: fresh databases for the live service and for its own tests.
    database_url: str | None = None
    test_database_url: str | None = None

    @property
    def package(self) -> str:
        return str(yaml.safe_load((self.path / ".copier-answers.yml").read_text())["package_name"])

    def service_env(self) -> dict[str, str]:
        env = dict(self.env)
        env.update(RATE_LIMITS)
        if self.database_url:
            env["DATABASE_URL"] = self.database_url
        if self.test_database_url:
            env["TEST_DATABASE_URL"] = self.test_database_url
        return env

    def attempt(
        self, *command: str, timeout: float = 600, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run a command in the project (`env`: variables to add or override), whatever its exit
        status: for the tests of what fails.

        In a session of its own: past `timeout` its whole process group is killed, not only
        `make`, whose children (a pytest run, a server) would otherwise go on using the CPUs the
        rest of the suite needs."""
        with subprocess.Popen(
            command,
            cwd=self.path,
            env={**self.service_env(), **(env or {})},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        ) as process:
            try:
                stdout, stderr = process.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                _kill_group(process.pid)
                # Bounded: a descendant that left the group may still hold the pipes.
                stdout, stderr = process.communicate(timeout=30)
                raise subprocess.TimeoutExpired(command, timeout, stdout, stderr) from None
            except BaseException:  # Ctrl-C: the terminal's SIGINT no longer reaches the group
                _kill_group(process.pid)
                raise
        return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)

    def run(
        self, *command: str, timeout: float = 600, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """`attempt`, failing the test with the command's output if it fails."""
        result = self.attempt(*command, timeout=timeout, env=env)
        if result.returncode != 0:
            raise AssertionError(
                f"`{' '.join(command)}` exited {result.returncode} in {self.path}\n"
                f"--- stdout ---\n{result.stdout[-6000:]}\n--- stderr ---\n{result.stderr[-6000:]}"
            )
        return result

    @contextmanager
    def identity_provider(self) -> Iterator[None]:
        """Run the project's identity provider for tests (ci/credentials.py) for the block, with
        what the service needs to trust it (OIDC_ISSUER, ...) added to `env`."""
        python = str(self.path / ".venv" / "bin" / "python")
        process = subprocess.Popen(
            [python, "-c", _IDENTITY_PROVIDER],
            cwd=self.path,
            env=self.service_env(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert process.stdin is not None
        assert process.stdout is not None
        try:
            self.env.update(json.loads(process.stdout.readline()))
            yield
        finally:
            process.stdin.close()
            process.wait(timeout=10)
            process.stdout.close()

    def admin_headers(self, url: str) -> dict[str, str]:
        """The headers of a new admin of the service at `url` (its database: service_env's)."""
        python = str(self.path / ".venv" / "bin" / "python")
        result = self.run(python, "-c", _ADMIN_HEADERS, url, timeout=60)
        headers: dict[str, str] = json.loads(result.stdout)
        return headers

    def snapshot(self) -> dict[str, bytes]:
        """Every file a user would commit, by relative path."""
        skipped = {".venv", ".git", ".mypy_cache", ".ruff_cache", ".pytest_cache", "__pycache__"}
        return {
            str(path.relative_to(self.path)): path.read_bytes()
            for path in sorted(self.path.rglob("*"))
            if path.is_file()
            and not skipped.intersection(path.relative_to(self.path).parts)
            and path.suffix != ".db"
            and path.name != ".coverage"
        }


@dataclass
class RunningService:
    url: str
    log_path: Path
    process: subprocess.Popen[bytes]
    client: httpx.Client = field(init=False)
    anonymous: httpx.Client = field(init=False)  # never given credentials

    def __post_init__(self) -> None:
        self.client = httpx.Client(base_url=self.url, timeout=10)
        self.anonymous = httpx.Client(base_url=self.url, timeout=10)

    def log_lines(self) -> list[dict[str, Any]]:
        """Every stdout line, parsed: a line that is not JSON fails the parse, on purpose."""
        lines = self.log_path.read_text().splitlines()
        return [json.loads(line) for line in lines if line.strip()]

    def stop(self, sig: int = signal.SIGTERM) -> int:
        """Signal the server's process group and wait for it; returns the exit code."""
        self.client.close()
        self.anonymous.close()
        if self.process.poll() is None:
            os.killpg(self.process.pid, sig)
            try:
                return self.process.wait(timeout=SERVER_STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
                raise
        return self.process.returncode


@contextmanager
def serve(
    project: GeneratedProject, command: list[str], *, port: int, log_path: Path
) -> Iterator[RunningService]:
    """Start `command`, which serves on 127.0.0.1:`port`, and wait until it is live."""
    url = f"http://127.0.0.1:{port}"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            cwd=project.path,
            env=project.service_env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so a signal reaches make, uv, uvicorn
        )
    service = RunningService(url=url, log_path=log_path, process=process)
    try:
        _wait_until_live(service)
        yield service
    finally:
        if process.poll() is None:
            service.stop()


def _wait_until_live(service: RunningService) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while time.monotonic() < deadline:
        if service.process.poll() is not None:
            raise AssertionError(
                f"the service exited with {service.process.returncode} before answering:\n"
                + service.log_path.read_text()[-6000:]
            )
        try:
            if service.client.get("/health/live").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"the service did not answer /health/live within {SERVER_START_TIMEOUT}s")
