"""The template the harness renders: the working tree's, in a git repository of its own.

copier renders a local template by cloning it, and takes a dirty work tree in with `git add -A` of
the whole checkout. From the checkout itself anything lying there would matter: a service
generated inside the clone is a nested repository, which git then records as a submodule without
a URL, and every render fails. A repository holding only what a template release consists of
(copier.yml, checklist.yml, template/ and what else the package ships), committed as the working
tree has them, makes nothing else in the checkout matter. What it holds is read from
pyproject.toml, as the wheel ships it, rather than from the installed package, which may be stale.
"""

import atexit
import functools
import os
import shutil
import subprocess
import tempfile
import tomllib
from pathlib import Path
from typing import Any

import copier

from .matrix import REPO

# The user's git configuration (signing, hooks, a missing identity) must not affect the commit.
_COMMIT_CONFIG = {
    "user.name": "prodready harness",
    "user.email": "harness@localhost",
    "commit.gpgSign": "false",
    "core.hooksPath": os.devnull,
}


def _git(repository: Path, *arguments: str) -> None:
    configured = [
        item for key, value in _COMMIT_CONFIG.items() for item in ("-c", f"{key}={value}")
    ]
    subprocess.run(
        ["git", *configured, *arguments], cwd=repository, check=True, capture_output=True
    )


SHIPPED_AS = "prodready/_template/"


def copy_shipped_template(destination: Path) -> None:
    """Copy from the checkout what the wheel ships as the template (pyproject: force-include)."""
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    included = pyproject["tool"]["hatch"]["build"]["targets"]["wheel"]["force-include"]
    for source, target in included.items():
        if not target.startswith(SHIPPED_AS):
            continue
        copied = destination / target.removeprefix(SHIPPED_AS)
        if (REPO / source).is_dir():
            shutil.copytree(REPO / source, copied, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(REPO / source, copied)


@functools.cache
def working_tree_template() -> Path:
    """Built on first use, so once per test session; removed when the session's process exits."""
    repository = Path(tempfile.mkdtemp(prefix="prodready-harness-template-"))
    atexit.register(shutil.rmtree, repository, ignore_errors=True)
    copy_shipped_template(repository)
    _git(repository, "init", "--quiet")
    _git(repository, "add", "--all")
    _git(repository, "commit", "--quiet", "--message", "the working tree's template")
    return repository


def render(destination: Path, answers: dict[str, Any]) -> None:
    """Render the working tree's template (uncommitted changes included) into `destination`."""
    copier.run_copy(
        str(working_tree_template()),
        destination,
        data=answers,
        defaults=True,
        quiet=True,
        vcs_ref="HEAD",
    )
