"""`prodready new`: render a project beside its destination and move it in only when complete."""

from dataclasses import dataclass
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

from . import __version__
from .errors import CliError
from .gitrepo import configured, git_available, run_git
from .source import TemplateSource, read_recorded_source


@dataclass(frozen=True)
class CreatedProject:
    version: str
    """The template version the answers file records (`_commit`), or "" when it has none."""
    repository: bool
    """Whether a git repository with the first commit was made."""


def check_destination(destination: Path) -> None:
    """Refuse a destination that is a file, a non-empty directory or has no parent directory."""
    if destination.is_dir():
        if any(destination.iterdir()):
            raise CliError(f"destination {destination} is a directory that is not empty")
    elif destination.exists() or destination.is_symlink():
        raise CliError(f"destination {destination} exists and is not a directory")
    elif not destination.parent.is_dir():
        raise CliError(
            f"the directory {destination.parent} to create {destination.name} in does not exist"
        )


def create_project(
    destination: Path,
    source: TemplateSource,
    answers: dict[str, Any],
    *,
    defaults: bool,
    init_git: bool,
) -> CreatedProject:
    """Render `source` into `destination` (see check_destination); a failure leaves nothing.

    The project is rendered (and committed) in a staging directory next to the destination, on
    the same filesystem, so moving it into place is a rename that cannot half-succeed.
    """
    destination = destination.absolute()
    with TemporaryDirectory(
        dir=destination.parent, prefix=f".{destination.name}.prodready-"
    ) as staging:
        # Same name as the destination: templates may use `_folder_name`.
        project = Path(staging) / destination.name
        source.render(project, answers, defaults=defaults)
        recorded = read_recorded_source(project)
        repository = init_git and git_available()
        if repository:
            _commit_everything(project, recorded)
        _move_into_place(project, destination)
    return CreatedProject(version=str(recorded.get("_commit", "")), repository=repository)


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


def _move_into_place(project: Path, destination: Path) -> None:
    if destination.is_dir():
        # An empty directory the user made (maybe the shell's working directory): keep it.
        for entry in project.iterdir():
            entry.rename(destination / entry.name)
    else:
        project.rename(destination)
