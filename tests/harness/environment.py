"""What the harness needs from this machine: interpreters, uv, and the real PostgreSQL server.

Anything missing makes the tests that need it skip with a reason, unless
PRODREADY_REQUIRE_SERVICES=1 (CI sets it), where a skip would hide a gap and fails instead.
"""

import os
import shutil
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

POSTGRES_ADMIN_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres connect_timeout=3"


def unavailable(reason: str) -> None:
    if os.environ.get("PRODREADY_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{reason} (PRODREADY_REQUIRE_SERVICES=1: required here)")
    pytest.skip(reason)


def find_python(version: str) -> Path | None:
    """An interpreter for `3.12`: pyenv's build of it if there is one, else `python3.12` on PATH."""
    if shutil.which("pyenv"):
        bare = subprocess.run(
            ["pyenv", "versions", "--bare"], capture_output=True, text=True, check=False
        ).stdout.split()
        for name in sorted(bare, reverse=True):
            if name.startswith(f"{version}."):
                prefix = subprocess.run(
                    ["pyenv", "prefix", name], capture_output=True, text=True, check=False
                ).stdout.strip()
                candidate = Path(prefix) / "bin" / f"python{version}"
                if candidate.exists():
                    return candidate
    found = shutil.which(f"python{version}")
    if found and subprocess.run([found, "-V"], capture_output=True, check=False).returncode == 0:
        return Path(found)
    return None


def tool_env(python: Path) -> dict[str, str]:
    """Environment for running uv and make in a generated project, as a user's shell would."""
    env = {key: value for key, value in os.environ.items() if key != "VIRTUAL_ENV"}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"  # uv from the dev venv
    env["UV_PYTHON"] = str(python)
    env["UV_PYTHON_DOWNLOADS"] = "never"
    env["UV_NO_PROGRESS"] = "1"
    # pre-commit's hook environments, installed once from PyPI and shared by every option set.
    env.setdefault("PRE_COMMIT_HOME", str(Path.home() / ".cache" / "prodready" / "pre-commit"))
    return env


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def fresh_postgres_database(purpose: str) -> Iterator[str]:
    """A new, empty database on the local server for one run; dropped afterwards."""
    import psycopg

    name = f"prodready_{purpose}_{uuid.uuid4().hex[:10]}"
    try:
        admin = psycopg.connect(POSTGRES_ADMIN_DSN, autocommit=True)
    except psycopg.OperationalError as error:
        unavailable(f"PostgreSQL on 127.0.0.1:5432 is not reachable: {error}".strip())
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
