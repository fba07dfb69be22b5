"""What the harness needs from this machine: interpreters, uv, and the real PostgreSQL server.

Anything missing makes the tests that need it skip with a reason, unless
PRODREADY_REQUIRE_SERVICES=1 (CI sets it), where a skip would hide a gap and fails instead.
"""

import os
import random
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


# Ports free_port hands out: below Linux's default ephemeral range (32768-60999), where bind(0)
# picks and where every outgoing connection takes its source port, so a port picked here cannot
# become a connection's source port before its server binds it. Each pytest-xdist worker has a
# slice of its own (gw0 and a run without workers 20000-20999, gw1 21000-21999...), so two workers
# never pick the same port; 8000, the README test's fixed port, is in none of them.
PORT_BASE = 20000
PORT_SLICE = 1000
MAX_SLICES = 12  # up to 31999
_cursor: list[int] = []  # the next offset into this process's slice


def _port_slice() -> range:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    start = PORT_BASE + int(worker.removeprefix("gw")) % MAX_SLICES * PORT_SLICE
    return range(start, start + PORT_SLICE)


def free_port() -> int:
    """A loopback port nothing listens on, for the server a test starts next.

    The slice's ports are handed out in turn, from a random start (another session on this
    machine, with the same slices, most likely starts elsewhere), skipping any that is taken.
    """
    ports = _port_slice()
    if not _cursor:
        _cursor.append(random.randrange(len(ports)))  # noqa: S311 (not a secret)
    for _ in range(len(ports)):
        port = ports[_cursor[0] % len(ports)]
        _cursor[0] += 1
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port
    raise AssertionError(f"no free port on 127.0.0.1 in {ports.start}-{ports.stop - 1}")


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
