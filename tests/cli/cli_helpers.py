"""Helpers for the CLI tests: run the installed script, build template repositories to update from.

Helpers in copier's own test style: tiny functions that make a template repository, tag it,
change it and tag again, so a test reads as the story it checks.
"""

import os
import pty
import select
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from prodready.source import copy_template

REPO_ROOT = Path(__file__).resolve().parents[2]
UPSTREAM_URL = "https://github.com/prodready/prodready.git"
ERROR_PREFIX = "prodready: error: "

# Git for test fixtures: a fixed identity and none of the machine's configuration.
GIT_ENV = {
    **os.environ,
    "GIT_AUTHOR_NAME": "Template Author",
    "GIT_AUTHOR_EMAIL": "author@example.com",
    "GIT_COMMITTER_NAME": "Template Author",
    "GIT_COMMITTER_EMAIL": "author@example.com",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], env=GIT_ENV, capture_output=True, text=True, check=True
    ).stdout


def commit_all(repo: Path, message: str) -> None:
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "--message", message)


def release(repo: Path, tag: str) -> None:
    """Commit whatever changed in the template repository and tag it."""
    commit_all(repo, f"Release {tag}")
    git(repo, "tag", tag)


def make_template_repo(path: Path, tag: str) -> Path:
    """A git repository holding this checkout's template release, tagged `tag`."""
    copy_template(REPO_ROOT, path)
    git(path, "init", "--quiet")
    release(path, tag)
    return path


def template_source_of(template_repo: Path, generated: str) -> Path:
    """The template file a project file is rendered from (with or without `.jinja`)."""
    for candidate in (f"template/{generated}.jinja", f"template/{generated}"):
        if (template_repo / candidate).is_file():
            return template_repo / candidate
    raise AssertionError(f"the template has no source for {generated}")


def append_line(path: Path, line: str) -> None:
    with path.open("a", encoding="utf-8") as file:
        file.write(line + "\n")


def snapshot(directory: Path) -> dict[str, bytes | None]:
    """Everything under `directory` (files by content, directories as None) to compare later."""
    return {
        path.relative_to(directory).as_posix(): path.read_bytes() if path.is_file() else None
        for path in directory.rglob("*")
    }


def answers_of(project: Path) -> str:
    return (project / ".copier-answers.yml").read_text(encoding="utf-8")


def assert_single_error(
    result: subprocess.CompletedProcess[str], exit_code: int, message: str
) -> None:
    """Exactly one stderr line, `prodready: error: ...` holding `message`, and the exit status."""
    assert result.returncode == exit_code, result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith(ERROR_PREFIX), result.stderr
    assert message in result.stderr, result.stderr


@dataclass(frozen=True)
class Cli:
    """The installed console script, run as a user would, with stdin not a terminal."""

    script: Path
    env: Mapping[str, str]

    def __call__(
        self, *args: str | Path, cwd: Path | None = None, env: Mapping[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.script), *map(str, args)],
            cwd=cwd,
            env={**self.env, **(env or {})},
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )


def make_typed_template(path: Path) -> Path:
    """A plain-directory template whose questions are int, bool, yaml and a labelled choice."""
    path.mkdir(parents=True)
    (path / "copier.yml").write_text(
        "port: {type: int, default: 8000, help: Port to listen on}\n"
        "debug: {type: bool, default: false}\n"
        "tags: {type: yaml, default: []}\n"
        "colour: {type: str, default: red, choices: {Red: red, Blue: blue}}\n",
        encoding="utf-8",
    )
    (path / "settings.txt.jinja").write_text(
        "port={{ port }} debug={{ debug }} tags={{ tags }} colour={{ colour }}\n", encoding="utf-8"
    )
    return path


def run_in_terminal(
    command: list[str], *, cwd: Path, env: Mapping[str, str], prompt: str, reply: str
) -> tuple[str, int]:
    """Run `command` on a pseudo-terminal, answer `prompt` with `reply`; (transcript, status)."""
    controller, device = pty.openpty()
    process = subprocess.Popen(
        command, cwd=cwd, env=env, stdin=device, stdout=device, stderr=device
    )
    os.close(device)  # the child holds it now; reading ends once the child closes it too
    transcript = b""
    replied = False
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        readable, _, _ = select.select([controller], [], [], 0.5)
        if not readable:
            continue
        try:
            chunk = os.read(controller, 4096)
        except OSError:  # Linux reports the closed terminal as EIO
            break
        if not chunk:
            break
        transcript += chunk
        if not replied and prompt.encode() in transcript:
            os.write(controller, reply.encode())
            replied = True
    os.close(controller)
    try:
        return transcript.decode(errors="replace"), process.wait(timeout=10)
    finally:
        if process.poll() is None:  # it never finished: do not leave it behind
            process.kill()
