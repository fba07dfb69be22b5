"""Where a project's template comes from, and how that is recorded so `copier update` works later.

The template ships inside the package (`prodready/_template`, put there by the wheel build), so
`prodready new` works offline. A project must not record that directory as its source: it lives in
site-packages and changes with every upgrade. prodready's release tags are the template's versions,
so the project records the upstream repository and the tag of the release that generated it.
docs/updating.md describes the design.
"""

import shutil
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import copier
import yaml

from . import __version__
from .errors import FAILED, CliError, copier_errors_reported
from .gitrepo import THROWAWAY_COMMIT_CONFIG, git_available, run_git
from .interrupts import Interrupted
from .questions import Questionnaire, load_questionnaire

UPSTREAM_URL = "https://github.com/prodready/prodready.git"
ANSWERS_FILE = ".copier-answers.yml"
BUNDLED_TEMPLATE = Path(__file__).parent / "_template"
RELEASE_TAG = f"v{__version__}"


# What a template release consists of: the questions, the checklist the readiness report is
# rendered from (docs/production-readiness.md includes it), the locked packages' module names
# (copier.yml includes them) and the project files.
TEMPLATE_FILES = ("copier.yml", "checklist.yml", "import_names.yml")
TEMPLATE_DIRECTORY = "template"


def copy_template(source: Path, destination: Path) -> None:
    """Copy a template release (from a checkout or the installed package) into `destination`."""
    destination.mkdir(parents=True, exist_ok=True)
    for name in TEMPLATE_FILES:
        shutil.copy2(source / name, destination / name)
    shutil.copytree(
        source / TEMPLATE_DIRECTORY,
        destination / TEMPLATE_DIRECTORY,
        ignore=shutil.ignore_patterns("__pycache__"),
    )


@contextmanager
def tagged_bundled_template() -> Iterator[Path]:
    """A temporary git repository holding the shipped template, tagged as this release.

    Rendering from it makes copier record `_commit: v<version>` exactly as a copy from the
    upstream tag would.
    """
    with TemporaryDirectory(prefix="prodready-template-") as workdir:
        repo = Path(workdir)
        copy_template(BUNDLED_TEMPLATE, repo)
        run_git(repo, "init", "--quiet")
        run_git(repo, "add", "--all")
        run_git(
            repo,
            "commit",
            "--quiet",
            "--message",
            f"prodready {__version__} template",
            config=THROWAWAY_COMMIT_CONFIG,
        )
        run_git(repo, "tag", RELEASE_TAG, config=THROWAWAY_COMMIT_CONFIG)
        yield repo


def record_upstream_release(answers_file: Path) -> None:
    """Make the answers file name the upstream repository and this release's tag.

    The file is edited line by line rather than re-dumped, so it stays byte for byte what the
    template renders and the first `copier update` sees no spurious change in it.
    """
    lines = answers_file.read_text(encoding="utf-8").splitlines(keepends=True)
    recorded = {"_commit": RELEASE_TAG, "_src_path": UPSTREAM_URL}
    kept: list[str] = []
    insert_at = None
    skipping_entry = False
    for line in lines:
        if skipping_entry and line[:1] in (" ", "\t"):
            continue  # the continuation of a long value being replaced
        skipping_entry = line.split(":", 1)[0] in recorded
        if skipping_entry:
            insert_at = len(kept) if insert_at is None else insert_at
        else:
            kept.append(line)
    if insert_at is None:
        raise CliError(
            f"the template's {ANSWERS_FILE} does not record _src_path, so the project could "
            "not be updated later",
            FAILED,
        )
    replacement = yaml.safe_dump(recorded, default_flow_style=False, sort_keys=False)
    kept.insert(insert_at, replacement)
    answers_file.write_text("".join(kept), encoding="utf-8")


def read_recorded_source(project: Path) -> dict[str, Any]:
    """The answers file's content, or {} when it is missing or not a mapping."""
    try:
        content = yaml.safe_load((project / ANSWERS_FILE).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return {}
    return content if isinstance(content, dict) else {}


@dataclass(frozen=True)
class TemplateSource:
    """The shipped template (`location=None`) or any source copier accepts, at an optional ref."""

    location: str | None = None
    vcs_ref: str | None = None

    def describe(self) -> str:
        return "the prodready template" if self.location is None else self.location

    def questionnaire(self) -> Questionnaire:
        if self.location is None:
            return load_questionnaire(str(BUNDLED_TEMPLATE))
        try:
            return load_questionnaire(self.location, self.vcs_ref)
        except CliError as error:
            # Copier's reasons ("Unknown revision: 'v9'") do not say which template they mean.
            raise CliError(
                f"cannot read the template {self.describe()}: {error.message}", error.exit_code
            ) from error

    def render(
        self,
        project: Path,
        answers: Mapping[str, Any],
        *,
        defaults: bool,
        user_defaults: Mapping[str, Any],
    ) -> None:
        """Render a new project into `project`, which must not exist yet.

        `user_defaults` replace the template's defaults (asked on a terminal, unlike `answers`).
        Temporary clones go where `tempfile` points: `prodready new` points it into its staging.
        """
        copy = _Copy(project, answers, defaults=defaults, user_defaults=user_defaults)
        if self.location is not None:
            copy.run(self.location, self.vcs_ref)
            return
        if git_available():
            with tagged_bundled_template() as repo:
                copy.run(str(repo), RELEASE_TAG)
        else:
            # Without git copier cannot read a tag; the recorded source below is the same.
            copy.run(str(BUNDLED_TEMPLATE), None)
        record_upstream_release(project / ANSWERS_FILE)


@dataclass(frozen=True)
class _Copy:
    project: Path
    answers: Mapping[str, Any]
    defaults: bool
    user_defaults: Mapping[str, Any]

    def run(self, src: str, vcs_ref: str | None) -> None:
        with copier_errors_reported():
            try:
                copier.run_copy(
                    src,
                    self.project,
                    data=dict(self.answers),
                    vcs_ref=vcs_ref,
                    defaults=self.defaults,
                    user_defaults=dict(self.user_defaults),
                    unsafe=False,
                    quiet=True,
                )
            except KeyboardInterrupt as interrupt:
                # Ctrl-C at one of copier's prompts: copier makes it a CopierError, which must
                # not be reported as copier failing.
                raise Interrupted("SIGINT") from interrupt
