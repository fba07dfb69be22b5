"""The few git operations prodready needs, run through the git command line."""

import os
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

from .errors import FAILED, CliError, git_complaint

# Identity and settings for prodready's own throwaway commits (the shipped template's repository,
# the update's scratch copy), so the user's git configuration (signing, hooks, a missing
# identity) cannot break or slow them down.
THROWAWAY_COMMIT_CONFIG = {
    "user.name": "prodready",
    "user.email": "prodready@localhost",
    "commit.gpgSign": "false",
    "tag.gpgSign": "false",
    "core.hooksPath": os.devnull,
}

# `git status --porcelain` codes of paths a merge left unresolved.
_UNMERGED_CODES = frozenset({"DD", "AU", "UD", "UA", "DU", "AA", "UU"})


def git_available() -> bool:
    return shutil.which("git") is not None


def _git(
    repo: Path, args: tuple[str, ...], config: Mapping[str, str] | None
) -> subprocess.CompletedProcess[str]:
    settings = [part for key, value in (config or {}).items() for part in ("-c", f"{key}={value}")]
    return subprocess.run(
        ["git", *settings, "-C", str(repo), *args], capture_output=True, text=True, check=False
    )


def run_git(repo: Path, *args: str, config: Mapping[str, str] | None = None) -> str:
    """Run git in `repo` and return its stdout; a failure reports what git said went wrong."""
    result = _git(repo, args, config)
    if result.returncode != 0:
        reason = git_complaint(result.stderr, result.returncode)
        raise CliError(f"git {args[0]} failed: {reason}", FAILED)
    return result.stdout


def is_work_tree(path: Path) -> bool:
    """Whether `path` is inside a git working tree."""
    result = _git(path, ("rev-parse", "--is-inside-work-tree"), None)
    return result.returncode == 0 and result.stdout.strip() == "true"


def configured(repo: Path, key: str) -> bool:
    """Whether git's configuration (system, global or the repository's) sets `key`."""
    return _git(repo, ("config", "--get", key), None).returncode == 0


def changed_paths(repo: Path) -> list[tuple[str, Path]]:
    """(status code, absolute path) of everything `git status` reports, untracked files too."""
    top = Path(run_git(repo, "rev-parse", "--show-toplevel").strip())
    fields = run_git(repo, "status", "--porcelain=v1", "-z", "--untracked-files=all").split("\0")
    entries = []
    fields_left = iter(fields)
    for field in fields_left:
        if not field:
            continue
        code, relative = field[:2], field[3:]
        entries.append((code, top / relative))
        if "R" in code or "C" in code:
            # A rename or copy is followed by the path it came from, which is not a change.
            next(fields_left, None)
    return entries


def is_unmerged(code: str) -> bool:
    return code in _UNMERGED_CODES


def ignored_paths(repo: Path, paths: list[str]) -> set[str]:
    """Those of `paths` (relative to `repo`) that git's ignore rules match, tracked or not."""
    if not paths:
        return set()
    result = subprocess.run(
        ["git", "-C", str(repo), "check-ignore", "--no-index", "-z", "--stdin"],
        input="\0".join(paths) + "\0",
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode not in (0, 1):  # 1: none of them is ignored
        reason = git_complaint(result.stderr, result.returncode)
        raise CliError(f"git check-ignore failed: {reason}", FAILED)
    return set(filter(None, result.stdout.split("\0")))
