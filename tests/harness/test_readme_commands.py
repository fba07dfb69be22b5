"""Every command the generated README shows, run as written, from a new shell.

The README's first command leaves prodready's environment active, so `make install` runs with its
uv on PATH. Everything after that runs as in a new terminal: no uv, no pre-commit on PATH and no
database URLs set, so the Makefile must find uv in .venv on its own. The README varies with the
database only, so one option set per database is enough. The only change made to a command is the
port: the service listens on a free one (`PORT` in the environment, which the Makefile reads), and
the README's curl lines are pointed at it. The "Try it" block runs as one script in one shell, as
a user pastes it, so its `TOKEN=...` line carries over to the calls after it.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from .conftest import OPTION_SETS
from .environment import (
    POSTGRES_ADMIN_DSN,
    find_python,
    free_port,
    tool_env,
    unavailable,
)
from .matrix import REPO
from .template import render

pytestmark = pytest.mark.slow

README_PORT = "localhost:8000"
SERVER_START_TIMEOUT = 60.0
SERVER_STOP_TIMEOUT = 30.0
# What the README shows that needs a container engine, which these machines lack, and what checks
# it instead.
NEEDS_AN_ENGINE = {
    "docker compose up": "tests/harness/test_container.py checks compose.yaml (compose spec)",
    "docker compose down": "tests/harness/test_container.py checks compose.yaml (compose spec)",
    "make image": "test_make_image_builds_the_dockerfile; test_container.py builds it with podman",
}
# What each line of "Try it" must print, by a piece of it.
TRY_IT_CHECKS: dict[str, Callable[[str], bool]] = {
    "| make user EMAIL=admin@example.com ROLE=admin": lambda out: "admin@example.com" in out,
    "TOKEN=$(curl -s localhost:8000/api/v1/auth/token": lambda out: out.strip() == "",
    "-X POST localhost:8000/api/v1/items": lambda out: json.loads(out)["name"] == "lamp",
    "/api/v1/items?sort=-price_cents": lambda out: json.loads(out)["items"][0]["name"] == "lamp",
    "/health/ready": lambda out: json.loads(out)["checks"] == {"database": "ok", "schema": "ok"},
    "/metrics": lambda out: 'http_requests_total{method="POST",route="/api/v1/items"' in out,
}
# Printed between the lines of the Try it script, to split its output per line.
LINE_MARK = "@@@ readme line"


def readme_option_sets() -> dict[str, dict[str, Any]]:
    """One set per database, every other choice at copier.yml's default."""
    questions = yaml.safe_load((REPO / "copier.yml").read_text())
    return {
        name: answers
        for name, answers in OPTION_SETS.items()
        if all(
            value == questions[key]["default"]
            for key, value in answers.items()
            if key != "database"
        )
    }


README_SETS = readme_option_sets()


def readme_commands(project: Path) -> list[str]:
    """The README's shell lines as written (continuations kept), then its inline `createdb`."""
    readme = (project / "README.md").read_text()
    lines = []
    for block in re.findall(r"```sh\n(.*?)```", readme, flags=re.DOTALL):
        lines += [line for line in block.replace("\\\n", "\\\0").splitlines() if line.strip()]
    commands = [line.replace("\\\0", "\\\n") for line in lines if bare(line)]
    return commands + re.findall(r"`(createdb [^`]+)`", readme)


def bare(command: str) -> str:
    """The command without its comment, on one line: what the README asks to run."""
    return " ".join(re.sub(r"(^|\s)#.*", "", command.replace("\\\n", " ")).split())


def new_shell(env: dict[str, str]) -> dict[str, str]:
    """`env` as a new terminal has it: prodready's environment (uv, pre-commit) not on PATH."""
    directories = [
        directory
        for directory in env["PATH"].split(os.pathsep)
        if not any((Path(directory) / tool).exists() for tool in ("uv", "pre-commit"))
    ]
    fresh = {
        key: value
        for key, value in env.items()
        if key not in {"VIRTUAL_ENV", "DATABASE_URL", "TEST_DATABASE_URL"}
    }
    fresh["PATH"] = os.pathsep.join(directories)
    if shutil.which("make", path=fresh["PATH"]) is None:
        pytest.skip("uv or pre-commit is installed beside make here, so no shell lacks them")
    return fresh


def run(command: str, project: Path, env: dict[str, str], timeout: float = 900) -> str:
    """Run one README line with bash in the project; fail with its output unless it exits 0."""
    result = subprocess.run(
        ["bash", "-c", command],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert result.returncode == 0, (
        f"`{command}` exited {result.returncode}\n"
        f"--- stdout ---\n{result.stdout[-6000:]}\n--- stderr ---\n{result.stderr[-6000:]}"
    )
    return result.stdout


def git(project: Path, *arguments: str) -> str:
    identity = ["-c", "user.name=Readme Test", "-c", "user.email=readme@localhost"]
    return subprocess.run(
        ["git", *identity, *arguments], cwd=project, capture_output=True, text=True, check=True
    ).stdout


@contextmanager
def databases_dropped_afterwards(*names: str) -> Iterator[None]:
    import psycopg

    try:
        psycopg.connect(POSTGRES_ADMIN_DSN).close()
    except psycopg.OperationalError as error:
        unavailable(f"PostgreSQL on 127.0.0.1:5432 is not reachable: {error}".strip())
    try:
        yield
    finally:
        with psycopg.connect(POSTGRES_ADMIN_DSN, autocommit=True) as admin:
            for name in names:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class ReadmeProject:
    path: Path
    commands: list[str]
    new_shell: dict[str, str]

    def lines(self, wanted: Callable[[str], bool]) -> list[str]:
        return [command for command in self.commands if wanted(bare(command))]

    def try_it(self) -> list[str]:
        """The lines of the README's "Try it" block: the one that calls the running service."""
        readme = (self.path / "README.md").read_text()
        (block,) = [b for b in re.findall(r"```sh\n(.*?)```", readme, re.S) if README_PORT in b]
        return [command for command in self.commands if command in block]

    def line(self, wanted: str) -> str:
        (found,) = self.lines(lambda command: command == wanted)
        return found


def render_readme_project(destination: Path, answers: dict[str, Any]) -> Path:
    """Rendered as `prodready new` leaves it: a git repository with the files committed."""
    render(destination, answers)
    git(destination, "init", "--quiet")
    git(destination, "add", "--all")
    git(destination, "commit", "--quiet", "--message", "generated")
    return destination


def interpreter_env(answers: dict[str, Any]) -> dict[str, str]:
    python = find_python(answers["python_version"])
    if python is None:
        unavailable(f"Python {answers['python_version']} is not installed on this machine")
    assert python is not None
    return tool_env(python)


@pytest.fixture(scope="session", params=list(README_SETS), ids=list(README_SETS))
def readme_project(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ReadmeProject]:
    """Rendered, then `make install` as written, with prodready's uv on PATH."""
    # A name of its own, so that `createdb <package>` as written cannot meet another run's.
    package = f"readme_{uuid.uuid4().hex[:10]}"
    answers = {**README_SETS[request.param], "project_name": package.replace("_", "-")}
    first_shell = interpreter_env(answers)
    path = render_readme_project(tmp_path_factory.mktemp("readme") / "service", answers)
    project = ReadmeProject(path, readme_commands(path), new_shell(first_shell))
    if answers["database"] == "postgresql":
        with databases_dropped_afterwards(package, f"{package}_test"):
            run(project.line("make install"), path, first_shell)
            yield project
    else:
        run(project.line("make install"), path, first_shell)
        yield project


# ---- the commands, as a new shell runs them ----


def descendants(pid: int) -> list[tuple[int, str]]:
    """(pid, command line) of every process below `pid`, parents first."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile
        children.setdefault(parent, []).append(int(stat.parent.name))
    found: list[tuple[int, str]] = []
    pending = list(children.get(pid, []))
    while pending:
        child = pending.pop(0)
        try:
            cmdline = (Path("/proc") / str(child) / "cmdline").read_bytes()
        except OSError:
            continue
        found.append((child, cmdline.replace(b"\0", b" ").decode(errors="replace")))
        pending += children.get(child, [])
    return found


@dataclass
class MakeRun:
    process: subprocess.Popen[bytes]
    log_path: Path
    port: int

    def output(self) -> str:
        return self.log_path.read_text()

    def signal_server(self, which: str) -> None:
        """SIGTERM to the server, to `uv run` or to make, as `kill PID` would send it."""
        processes = descendants(self.process.pid)
        if which == "server":
            pid = processes[-1][0]  # the innermost: the interpreter running uvicorn
            assert ".main:app" in processes[-1][1], processes
        elif which == "uv":
            pid = next(pid for pid, cmd in processes if re.match(r"\S*uv run ", cmd))
        else:
            pid = self.process.pid
            assert "make" in (Path("/proc") / str(pid) / "cmdline").read_text(), processes
        os.kill(pid, signal.SIGTERM)

    def wait(self) -> int:
        return self.process.wait(timeout=SERVER_STOP_TIMEOUT)


@contextmanager
def make_run(project: ReadmeProject, log_path: Path) -> Iterator[MakeRun]:
    """`make run` as written, on a free port, until it answers; killed if a test leaves it up."""
    port = free_port()
    env = {**project.new_shell, "PORT": str(port)}
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            ["bash", "-c", project.line("make run")],
            cwd=project.path,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    running = MakeRun(process, log_path, port)
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while not _answers(port):
            assert process.poll() is None, f"make run exited:\n{running.output()[-6000:]}"
            assert time.monotonic() < deadline, f"no answer:\n{running.output()[-6000:]}"
            time.sleep(0.2)
        yield running
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _answers(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/health/live", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def test_every_command_the_readme_shows_is_run_or_accounted_for(
    readme_project: ReadmeProject,
) -> None:
    run_here = {"make install", "make migrate", "make run", "make test", "make lint"}
    run_here |= {"make format", "make hooks"}
    shown = {bare(command) for command in readme_project.commands}
    try_it = {bare(command) for command in readme_project.try_it()}
    createdb = {command for command in shown if command.startswith("createdb ")}
    assert shown - try_it - createdb == run_here | NEEDS_AN_ENGINE.keys()
    assert len(try_it) == len(TRY_IT_CHECKS)
    for line in try_it:
        assert sum(piece in line for piece in TRY_IT_CHECKS) == 1, line
    database = yaml.safe_load((readme_project.path / ".copier-answers.yml").read_text())
    assert len(createdb) == (database["database"] == "postgresql")


def test_migrate_run_and_try_it_from_a_new_shell(
    readme_project: ReadmeProject, tmp_path: Path
) -> None:
    env = readme_project.new_shell
    for createdb in readme_project.lines(lambda command: command.startswith("createdb ")):
        run(createdb, readme_project.path, env)
    run(readme_project.line("make migrate"), readme_project.path, env)
    lines = readme_project.try_it()
    with make_run(readme_project, tmp_path / "run.log") as running:
        script = "set -e -o pipefail\n" + "".join(
            f"echo '{LINE_MARK}'\n{line.replace(README_PORT, f'localhost:{running.port}')}\n"
            for line in lines
        )
        outputs = run(script, readme_project.path, env).split(LINE_MARK + "\n")[1:]
        assert len(outputs) == len(lines)
        for line, output in zip(lines, outputs, strict=True):
            (check,) = [check for piece, check in TRY_IT_CHECKS.items() if piece in bare(line)]
            assert check(output), f"{line}\n{output}"
        running.signal_server("server")
        assert running.wait() == 0, running.output()[-3000:]
    assert "Application shutdown complete." in running.output()
    assert not re.search(r"^make(\[\d+\])?: \*\*\*", running.output(), flags=re.MULTILINE)


def test_make_run_stopped_through_uv_exits_0_without_an_error(
    readme_project: ReadmeProject, tmp_path: Path
) -> None:
    with make_run(readme_project, tmp_path / "run.log") as running:
        running.signal_server("uv")
        assert running.wait() == 0, running.output()[-3000:]
    assert "Application shutdown complete." in running.output()
    assert "make: ***" not in running.output()


def test_make_run_stopped_itself_stops_the_server_too(
    readme_project: ReadmeProject, tmp_path: Path
) -> None:
    # make dies of the SIGTERM it was sent (GNU make re-raises it), but only after passing it to
    # the command it runs and waiting for it: no server may be left behind, holding the port.
    with make_run(readme_project, tmp_path / "run.log") as running:
        server = descendants(running.process.pid)
        running.signal_server("make")
        assert running.wait() == -signal.SIGTERM, running.output()[-3000:]
        assert not [pid for pid, _ in server if Path(f"/proc/{pid}").exists()], server
        assert not _answers(running.port)
    assert "Application shutdown complete." in running.output()


def test_test_lint_format_and_hooks_from_a_new_shell(readme_project: ReadmeProject) -> None:
    env, path = readme_project.new_shell, readme_project.path
    assert "passed" in run(readme_project.line("make test"), path, env)
    run(readme_project.line("make lint"), path, env)
    run(readme_project.line("make format"), path, env)
    assert git(path, "status", "--porcelain") == ""  # formatted already; nothing left behind
    run(readme_project.line("make hooks"), path, env)
    # A commit from the new shell runs every hook, the ones that need uv included.
    for changed in ("pyproject.toml", "migrations/env.py"):
        with (path / changed).open("a") as file:
            file.write("# a change\n")
    git(path, "add", "--all")
    commit = subprocess.run(
        ["git", "-c", "user.name=R", "-c", "user.email=r@localhost", "commit", "-m", "change"],
        cwd=path,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    hooks_said = commit.stderr  # git hands a hook's output to stderr
    assert commit.returncode == 0, commit.stdout + hooks_said
    for hook in ("mypy --strict", "uv.lock matches pyproject.toml", "ruff check"):
        assert re.search(rf"^{re.escape(hook)}.*Passed$", hooks_said, flags=re.MULTILINE), (
            hooks_said
        )


def test_make_image_builds_the_dockerfile(readme_project: ReadmeProject) -> None:
    # No engine here: what it would run, which test_container.py does with podman.
    slug = yaml.safe_load((readme_project.path / ".copier-answers.yml").read_text())
    command = f"{bare(readme_project.line('make image'))} --dry-run"
    dry_run = run(command, readme_project.path, readme_project.new_shell)
    assert dry_run.strip() == f"docker build --tag {slug['project_slug']}:dev ."


def test_without_uv_anywhere_make_says_how_to_install_it(tmp_path: Path) -> None:
    (name,) = [name for name, answers in README_SETS.items() if answers["database"] == "sqlite"]
    path = render_readme_project(tmp_path / "service", README_SETS[name])
    env = new_shell(interpreter_env(README_SETS[name]))
    for target in ("install", "run", "test"):
        result = subprocess.run(
            ["make", target], cwd=path, env=env, capture_output=True, text=True, check=False
        )
        assert result.returncode == 2
        assert result.stdout == ""
        (line,) = result.stderr.splitlines()
        assert "uv not found: install it with `pip install uv`" in line
    assert not (path / ".venv").exists()
