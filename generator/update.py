"""`prodready update`: copier's update run in a scratch copy, checked, then applied and staged.

Copier updates the project in place: it deletes every file the new template version removes or
renames whatever the user put in it, and refuses a repository that is dirty anywhere, even
outside the project. So the update runs on a scratch copy of the project's committed files.
Its result is compared with the project, a removed or renamed file holding the user's edits is
put back (or merged into the file's new path), and only then is the change set written into the
project and staged, or, with --dry-run, just listed. docs/updating.md describes the behaviour.
"""

import difflib
import os
import shutil
import subprocess
import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import copier

from .answers import parse_set_options
from .errors import BAD_INPUT, FAILED, CliError, copier_errors_reported
from .gitrepo import THROWAWAY_COMMIT_CONFIG, ignored_paths, is_work_tree, run_git
from .interrupts import hold_stop_signals
from .questions import Questionnaire
from .recorded import (
    RecordedProject,
    check_ref_exists,
    read_recorded_project,
    recorded_refs,
    release_version,
    shown,
)
from .source import ANSWERS_FILE
from .staging import temporary_files_in
from .yamlfile import read_yaml_file

# What copier writes around both sides of a change it could not merge (conflict="inline").
CONFLICT_MARKER = b"<<<<<<< before updating"
MERGE_LABELS = ("before updating", "last update", "after updating")

# git's own threshold for calling an added file a renamed one (`git diff -M` uses 50 %).
RENAME_SIMILARITY = 0.5


@dataclass(frozen=True)
class UpdateRequest:
    to_ref: str | None
    set_options: Sequence[str]
    defaults: bool
    """Give new questions their defaults instead of asking (always so without a terminal)."""


@dataclass(frozen=True)
class FileChange:
    kind: str
    """added, changed, removed or renamed."""
    path: str
    """Relative to the project; for a rename, the new path."""
    renamed_from: str | None = None


@dataclass(frozen=True)
class Conflict:
    path: str
    next_step: str


@dataclass(frozen=True)
class AnswerChange:
    name: str
    old: Any
    new: Any
    kind: str
    """new (a question the old version did not ask), changed, or dropped (no longer asked)."""


@dataclass
class UpdatePlan:
    """What the update does (or, with --dry-run, would do) to the project."""

    from_version: str
    to_version: str
    changes: list[FileChange] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    answers: list[AnswerChange] = field(default_factory=list)
    carried_over: list[str] = field(default_factory=list)
    """Renames the user's edits followed ("old -> new")."""
    ignored: set[str] = field(default_factory=set)
    """Added files that git ignores (the project's or an enclosing repository's rules): they are
    written, not staged, and listed, so that none is left out without a word."""

    @property
    def is_noop(self) -> bool:
        return self.from_version == self.to_version and not (self.changes or self.conflicts)


def check_clean_work_tree(project: Path) -> None:
    """Refuse to update outside git or over uncommitted work in the project's own subtree."""
    if not is_work_tree(project):
        raise CliError(
            f"{project} is not in a git repository; updating needs one to merge and review "
            "the changes (git init, commit, then update)"
        )
    # `-- .` limits the check to the project: in a monorepo, the rest is not the update's business.
    if run_git(project, "status", "--porcelain", "--untracked-files=all", "--", "."):
        raise CliError(
            f"{project} has uncommitted changes (untracked files included): commit or stash "
            "them first"
        )


@contextmanager
def planned_update(project: Path, request: UpdateRequest) -> Iterator[tuple[UpdatePlan, Path]]:
    """Run the update on a scratch copy of `project`; yield what it changes and the copy.

    Nothing in `project` is written; `apply_update` writes the plan.
    """
    recorded = read_recorded_project(project)
    check_clean_work_tree(project)
    refs = recorded_refs(recorded, cwd=project)
    if request.to_ref:
        check_ref_exists(request.to_ref, refs, named_by="--to", source=recorded.location)
        _refuse_downgrade(recorded, request.to_ref)
    # Temporary files, copier's clones included, inside the work directory: an interrupted
    # update removes them with it.
    with (
        TemporaryDirectory(prefix="prodready-update-") as workdir,
        temporary_files_in(Path(workdir)),
    ):
        # Named like the project: templates may use `_folder_name`.
        scratch = _copy_committed_files(project, Path(workdir) / "scratch" / project.name)
        questionnaire = _target_questionnaire(scratch, request.to_ref)
        _check_recorded_answers(recorded, questionnaire)
        set_answers = parse_set_options(request.set_options, questionnaire)
        _run_copier_update(scratch, set_answers, request)
        new_answers = _answers_in(scratch)
        plan = UpdatePlan(from_version=recorded.version, to_version=str(new_answers["_commit"]))
        ignored_in_scratch = new_ignored_files(scratch)
        renders = _Renders(Path(workdir), project.name, recorded, new_answers)
        _protect_user_edits(scratch, plan, renders)
        plan.changes = scratch_changes(scratch)
        added = [change.path for change in plan.changes if change.kind in ("added", "renamed")]
        plan.ignored = ignored_in_scratch | ignored_paths(project, added)
        explained = {conflict.path for conflict in plan.conflicts}
        plan.conflicts += [
            conflict
            for conflict in _marked_conflicts(scratch, plan.changes)
            if conflict.path not in explained
        ]
        plan.conflicts.sort(key=lambda conflict: conflict.path)
        plan.answers = _answer_changes(recorded.answers, new_answers)
        yield plan, scratch


def _refuse_downgrade(recorded: RecordedProject, to_ref: str) -> None:
    """copier cannot downgrade; say so before any work, as a refusal of the input."""
    current, target = release_version(recorded.version), release_version(to_ref)
    if current is not None and target is not None and target < current:
        raise CliError(
            f"--to {to_ref} is older than template version {recorded.version}, which "
            f"{recorded.answers_file} records: prodready update only moves forward"
        )


def apply_update(plan: UpdatePlan, scratch: Path, project: Path) -> None:
    """Write the scratch copy's changes into the project; stage all but the conflicted files.

    From here on Ctrl-C and SIGTERM are held off: an update is written whole or not at all.
    """
    hold_stop_signals()
    for change in plan.changes:
        if change.renamed_from is not None:
            _remove(project, change.renamed_from)
        if change.kind == "removed":
            _remove(project, change.path)
        else:
            _copy_entry(scratch / change.path, project / change.path)
    not_staged = {conflict.path for conflict in plan.conflicts} | plan.ignored
    staged = [
        path
        for change in plan.changes
        for path in (change.path, change.renamed_from)
        if path is not None and path not in not_staged
    ]
    if staged:
        run_git(project, "add", "--all", "--", *(f":(literal){path}" for path in staged))


# ---- the scratch copy ----


def _copy_committed_files(project: Path, scratch: Path) -> Path:
    """A git repository holding the project's committed files, and nothing else."""
    listed = run_git(project, "ls-files", "-z", "--cached").split("\0")
    scratch.mkdir(parents=True)
    for relative in filter(None, listed):
        source = project / relative
        if source.is_symlink() or source.is_file():  # submodules are not the template's
            _copy_entry(source, scratch / relative)
    run_git(scratch, "init", "--quiet")
    # --force: a committed file matched by .gitignore is still the project's.
    run_git(scratch, "add", "--all", "--force")
    run_git(scratch, "commit", "--quiet", "--message", "project", config=THROWAWAY_COMMIT_CONFIG)
    return scratch


def _copy_entry(source: Path, destination: Path) -> None:
    destination.parent.mkdir(parents=True, exist_ok=True)
    if destination.is_symlink() or destination.is_file():
        destination.unlink()
    if source.is_symlink():
        destination.symlink_to(os.readlink(source))
    else:
        shutil.copy2(source, destination)


def _remove(root: Path, relative: str) -> None:
    """Delete a file, then the directories its removal left empty (up to `root`)."""
    path = root / relative
    path.unlink(missing_ok=True)
    for parent in path.parents:
        if parent == root or not parent.is_relative_to(root) or any(parent.iterdir()):
            break
        parent.rmdir()


def _target_questionnaire(scratch: Path, to_ref: str | None) -> Questionnaire:
    """The target version's questions; refuse templates whose tasks would run on update.

    Migrations (`_migrations`) are the one unsafe feature prodready allows: they exist to carry
    a project across a release, they run only for the releases the update crosses, and here they
    run in the scratch copy, so what they do shows up in the change set like any other change.
    Tasks and Jinja extensions run code for other reasons: those need `copier update --trust`.
    """
    with warnings.catch_warnings():
        # Worker is the handle copier's own CLI uses (see questions.load_questionnaire).
        warnings.simplefilter("ignore", DeprecationWarning)
        worker_class = copier.Worker
    with copier_errors_reported(), worker_class(dst_path=scratch, vcs_ref=to_ref) as worker:
        old, new = worker.subproject.template, worker.template
        features = sorted(
            {
                feature
                for template in (old, new)
                if template is not None
                for feature, used in (
                    ("tasks", template.tasks),
                    ("jinja_extensions", template.jinja_extensions),
                )
                if used
            }
        )
        if features:
            raise CliError(
                f"the template {new.url} uses {' and '.join(features)}, which run code on this "
                "machine: prodready only runs migrations; review the template, then run "
                "`copier update --trust` yourself",
                BAD_INPUT,
            )
        return Questionnaire.from_copier(new.questions_data)


def _check_recorded_answers(recorded: RecordedProject, questionnaire: Questionnaire) -> None:
    """The recorded answers must still be valid answers to the target version's questions."""
    for name, value in recorded.answers.items():
        if name not in questionnaire.questions:
            continue  # no longer asked: copier drops it
        try:
            questionnaire.check(name, value)
        except CliError as error:
            raise CliError(f"answers file {recorded.answers_file}: {error.message}") from error


def _run_copier_update(scratch: Path, set_answers: dict[str, Any], request: UpdateRequest) -> None:
    with copier_errors_reported():
        copier.run_update(
            scratch,
            data=set_answers,
            vcs_ref=request.to_ref,
            overwrite=True,
            skip_answered=True,
            conflict="inline",
            defaults=request.defaults,
            # _target_questionnaire refused tasks and extensions: this allows migrations only.
            unsafe=True,
            quiet=True,
        )


def _answers_in(project: Path) -> dict[str, Any]:
    content = read_yaml_file(project / ANSWERS_FILE, what="answers file the update wrote")
    if not isinstance(content, dict) or not isinstance(content.get("_commit"), str):
        raise CliError(f"the update wrote an answers file without _commit in {project}")
    return content


# ---- what changed ----


def new_ignored_files(scratch: Path) -> set[str]:
    """Files the update added that the project's ignore rules match (call before staging them).

    Every committed file was force-added to the scratch copy, so an untracked ignored file there
    came from the template.
    """
    listed = run_git(scratch, "ls-files", "-z", "--others", "--ignored", "--exclude-standard")
    return set(filter(None, listed.split("\0")))


def scratch_changes(scratch: Path) -> list[FileChange]:
    """Everything the update changed in the scratch copy, renames paired as git pairs them."""
    # --force: an added file git ignores is still the template's (new_ignored_files lists it).
    run_git(scratch, "add", "--all", "--force")
    fields = iter(
        run_git(scratch, "diff", "--cached", "-M", "--name-status", "-z", "HEAD").split("\0")
    )
    changes = []
    for status in fields:
        if not status:
            continue
        path = next(fields)
        match status[0]:
            case "A":
                changes.append(FileChange("added", path))
            case "D":
                changes.append(FileChange("removed", path))
            case "R":
                changes.append(FileChange("renamed", next(fields), renamed_from=path))
            case _:  # M, or T (a file became a symlink or the other way round)
                changes.append(FileChange("changed", path))
    return sorted(changes, key=lambda change: change.path)


def _marked_conflicts(scratch: Path, changes: list[FileChange]) -> list[Conflict]:
    conflicts = []
    for change in changes:
        if change.kind == "removed":
            continue
        if change.path.endswith(".rej"):
            conflicts.append(
                Conflict(
                    change.path,
                    f"apply the rejected change to {change.path.removesuffix('.rej')} by hand, "
                    f"then delete {change.path}",
                )
            )
        elif _holds_conflict_marker(scratch / change.path):
            conflicts.append(
                Conflict(change.path, "resolve the <<<<<<< / >>>>>>> markers, then git add it")
            )
    return conflicts


def _holds_conflict_marker(path: Path) -> bool:
    if path.is_symlink() or not path.is_file():
        return False
    return any(line.rstrip() == CONFLICT_MARKER for line in path.read_bytes().splitlines())


def _answer_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[AnswerChange]:
    changes = []
    for name in sorted(set(old) | {key for key in new if not key.startswith("_")}):
        if name not in old:
            changes.append(AnswerChange(name, None, new[name], "new"))
        elif name not in new:
            changes.append(AnswerChange(name, old[name], None, "dropped"))
        elif old[name] != new[name]:
            changes.append(AnswerChange(name, old[name], new[name], "changed"))
    return changes


def describe_answer(change: AnswerChange) -> str:
    match change.kind:
        case "new":
            return f"new question {change.name}: {shown(change.new)}"
        case "dropped":
            return f"no longer asked {change.name} (was {shown(change.old)})"
        case _:
            return f"changed {change.name}: {shown(change.old)} -> {shown(change.new)}"


# ---- keeping the user's edits to files the new version removes or renames ----


class _Renders:
    """The old and the new version rendered fresh with the project's answers, made on first use.

    The old render is what the user started from, so a file that differs from it was edited.
    """

    def __init__(
        self,
        workdir: Path,
        name: str,
        recorded: RecordedProject,
        new_answers: Mapping[str, Any],
    ) -> None:
        self._workdir = workdir
        self._name = name
        self._recorded = recorded
        self._new_answers = new_answers
        self._made: dict[str, Path] = {}

    def old(self) -> Path:
        return self._render("old", self._recorded.version, self._recorded.answers)

    def new(self) -> Path:
        answers = {k: v for k, v in self._new_answers.items() if not str(k).startswith("_")}
        return self._render("new", str(self._new_answers["_commit"]), answers)

    def _render(self, which: str, ref: str, answers: Mapping[str, Any]) -> Path:
        if which not in self._made:
            destination = self._workdir / which / self._name
            with copier_errors_reported():
                copier.run_copy(
                    self._recorded.location,
                    destination,
                    data=dict(answers),
                    vcs_ref=ref,
                    defaults=True,
                    quiet=True,
                    unsafe=False,
                    skip_tasks=True,
                )
            self._made[which] = destination
        return self._made[which]


def _protect_user_edits(scratch: Path, plan: UpdatePlan, renders: _Renders) -> None:
    """Put back, or merge into their new path, removed files whose content was the user's."""
    for change in scratch_changes(scratch):
        if change.kind == "removed":
            _protect(scratch, change.path, None, plan, renders)
        elif change.renamed_from is not None:
            _protect(scratch, change.renamed_from, change.path, plan, renders)


def _protect(
    scratch: Path,
    gone: str,
    moved_to: str | None,
    plan: UpdatePlan,
    renders: _Renders,
) -> None:
    user = _committed_bytes(scratch, gone)
    if moved_to is not None and _bytes_at(scratch / moved_to) == user:
        return  # moved unchanged (by a migration, or a rename git paired exactly)
    started_from = _bytes_at(renders.old() / gone)
    if started_from == user:
        return  # the user never touched it: the template's removal or rename stands
    target = _renamed_to(gone, started_from, scratch, renders) if started_from else None
    if target is not None and started_from is not None:
        merged, clean = _merge(user, started_from, (renders.new() / target).read_bytes())
        (scratch / target).write_bytes(merged)
        if clean:
            plan.carried_over.append(f"{gone} -> {target}")
        else:
            plan.conflicts.append(
                Conflict(
                    target,
                    f"template version {plan.to_version} renamed {gone} to it and your edits "
                    "to it clash with the template's: resolve the <<<<<<< / >>>>>>> markers, "
                    "then git add it",
                )
            )
        return
    run_git(scratch, "checkout", "HEAD", "--", f":(literal){gone}")
    plan.conflicts.append(
        Conflict(
            gone,
            f"you changed it and template version {plan.to_version} removes it: your version "
            f"is kept; keep it, or drop it with `git rm {gone}`",
        )
    )


def _renamed_to(gone: str, started_from: bytes, scratch: Path, renders: _Renders) -> str | None:
    """The new version's path for `gone`: a file it added that is most like the old one."""
    old_root, new_root = renders.old(), renders.new()
    best, best_ratio = None, RENAME_SIMILARITY
    for candidate in new_root.rglob("*"):
        relative = candidate.relative_to(new_root).as_posix()
        if not candidate.is_file() or (old_root / relative).exists():
            continue
        if _committed_exists(scratch, relative):
            continue  # the project has a file there already: merging into it would mix two files
        ratio = difflib.SequenceMatcher(None, started_from, candidate.read_bytes()).ratio()
        if ratio >= best_ratio:
            best, best_ratio = relative, ratio
    return best


def _merge(user: bytes, base: bytes, template: bytes) -> tuple[bytes, bool]:
    """git merge-file of the user's edits and the template's; (result, whether it was clean)."""
    with TemporaryDirectory(prefix="prodready-merge-") as workdir:
        paths = [Path(workdir, name) for name in ("user", "base", "template")]
        for path, content in zip(paths, (user, base, template), strict=True):
            path.write_bytes(content)
        labels = [part for label in MERGE_LABELS for part in ("-L", label)]
        # merge-file exits with the number of conflicts; run_git would take that for a failure.
        result = subprocess.run(
            ["git", "merge-file", *labels, *map(str, paths)], capture_output=True, check=False
        )
        if result.returncode < 0:
            raise CliError(
                f"git merge-file failed: {result.stderr.decode(errors='replace')}", FAILED
            )
        return paths[0].read_bytes(), result.returncode == 0


def _committed_bytes(scratch: Path, relative: str) -> bytes:
    # Bytes, not text: run_git decodes, which would mangle a binary file.
    result = subprocess.run(
        ["git", "-C", str(scratch), "cat-file", "blob", f"HEAD:{relative}"],
        capture_output=True,
        check=False,
    )
    if result.returncode != 0:
        raise CliError(f"git cat-file failed for {relative}", FAILED)
    return result.stdout


def _committed_exists(scratch: Path, relative: str) -> bool:
    """Whether the project (the scratch copy's first commit) has a file at `relative`."""
    return bool(run_git(scratch, "ls-tree", "--name-only", "HEAD", "--", f":(literal){relative}"))


def _bytes_at(path: Path) -> bytes | None:
    if path.is_symlink():
        return os.readlink(path).encode()
    return path.read_bytes() if path.is_file() else None
