"""`prodready new`: render a project in a staging directory and move it in only when complete.

generator/staging.py says where the staging directory lives and how it keeps a second `new` out
of the same destination; generator/interrupts.py how SIGINT and SIGTERM still remove it.
"""

import errno
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import __version__
from .errors import FAILED, CliError
from .gitrepo import configured, git_available, is_work_tree, run_git
from .interrupts import hold_stop_signals
from .source import TemplateSource, read_recorded_source
from .staging import Staging, is_staging_entry, staging_for, staging_path


@dataclass(frozen=True)
class CreatedProject:
    version: str
    """The template version the answers file records (`_commit`), or "" when it has none."""
    repository: bool
    """Whether a git repository with the first commit was made."""
    enclosing_work_tree: Path | None
    """The top of the git work tree the project was created in, if it was created in one."""


def check_destination(destination: Path) -> None:
    """Refuse a destination that is a file, a non-empty directory or has no parent directory.

    `destination` is absolute. Its own staging directory does not make it "not empty": that is a
    `new` running into it, or one that was killed, which claiming the staging directory sorts out.
    """
    try:
        if destination.is_dir():
            staging = staging_path(destination)
            if any(not is_staging_entry(entry, staging) for entry in destination.iterdir()):
                raise CliError(f"destination {destination} is a directory that is not empty")
        elif destination.exists() or destination.is_symlink():
            raise CliError(f"destination {destination} exists and is not a directory")
        elif destination.parent.exists() and not destination.parent.is_dir():
            raise CliError(
                f"{destination.parent}, where {destination.name} would be created, is not a "
                "directory"
            )
        elif not destination.parent.is_dir():
            raise CliError(
                f"the directory {destination.parent} to create {destination.name} in does not exist"
            )
    except OSError as error:  # a name too long, a directory that cannot be read...
        raise CliError(f"destination {destination}: {error.strerror or error}") from error


def create_project(
    destination: Path,
    source: TemplateSource,
    answers: dict[str, Any],
    *,
    defaults: bool,
    user_defaults: Mapping[str, Any],
    git: bool | None,
    notify: Callable[[str], None],
) -> CreatedProject:
    """Render `source` into the absolute `destination` (see check_destination); a failure or an
    interrupt leaves nothing behind.

    `git` None makes a repository unless the destination is inside a git work tree already (a
    nested repository is rarely what a monorepo wants); `notify` hears about stale staging
    directories removed on the way.
    """
    enclosing = _enclosing_work_tree(destination)
    make_repository = git_available() and (enclosing is None if git is None else git)
    with staging_for(destination, notify) as staging:
        # Checked again now that no other `new` can be writing the destination.
        check_destination(destination)
        source.render(staging.project, answers, defaults=defaults, user_defaults=user_defaults)
        recorded = read_recorded_source(staging.project)
        if make_repository:
            _commit_everything(staging.project, recorded)
        hold_stop_signals()  # all of the project, or none of it, and then it is done
        _move_into_place(staging, destination)
    return CreatedProject(
        version=str(recorded.get("_commit", "")),
        repository=make_repository,
        enclosing_work_tree=enclosing,
    )


def _enclosing_work_tree(destination: Path) -> Path | None:
    if not git_available():
        return None
    nearest = destination if destination.is_dir() else destination.parent
    if not is_work_tree(nearest):
        return None
    return Path(run_git(nearest, "rev-parse", "--show-toplevel").strip())


def _commit_everything(project: Path, answers: dict[str, Any]) -> None:
    """Make the first commit: `copier update` refuses to work on an uncommitted tree."""
    run_git(project, "init", "--quiet")
    run_git(project, "add", "--all")
    # A machine without a git identity still gets its first commit, made as the project's author.
    identity = {
        key: str(answers[answer])
        for key, answer in (("user.name", "author_name"), ("user.email", "author_email"))
        if not configured(project, key) and answer in answers
    }
    run_git(
        project,
        "commit",
        "--quiet",
        "--message",
        f"Generate the project with prodready {__version__}",
        config=identity,
    )


def _move_into_place(staging: Staging, destination: Path) -> None:
    if staging.root.parent == destination:
        # An empty directory the user made (maybe the shell's working directory): keep it. The
        # staging directory is inside it, so these are renames, and its lock keeps others out.
        for entry in staging.project.iterdir():
            entry.rename(destination / entry.name)
        return
    try:
        staging.project.rename(destination)
    except OSError as error:
        if error.errno not in (errno.EEXIST, errno.ENOTEMPTY):
            raise
        raise CliError(
            f"destination {destination} was filled by something else while the project was "
            "being generated; it is left as it is",
            FAILED,
        ) from error
