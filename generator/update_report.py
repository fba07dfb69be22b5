"""The summary `prodready update` prints: versions, answers, files, conflicts and the next step."""

import shlex
from pathlib import Path

from .gitrepo import run_git
from .update import UpdatePlan, describe_answer

IGNORED_NOTE = " (git ignores it: written, not staged)"


def update_summary(plan: UpdatePlan, *, dry_run: bool, new_answers_from: str) -> list[str]:
    """Lines for stdout; `new_answers_from` says where new questions' values came from."""
    lines = [_headline(plan, dry_run=dry_run)]
    if plan.answers:
        lines.append("Answers:")
        for answer in plan.answers:
            origin = f" ({new_answers_from})" if answer.kind == "new" else ""
            lines.append(f"  {describe_answer(answer)}{origin}")
    if plan.changes:
        lines.append("Files:")
        carried = set(plan.carried_over)
        for change in plan.changes:
            ignored = (
                " (git ignores it: written, not staged)" if change.path in plan.ignored else ""
            )
            if change.renamed_from is None:
                lines.append(f"  {change.kind:<8} {change.path}{ignored}")
                continue
            rename = f"{change.renamed_from} -> {change.path}"
            note = " (your edits carried over)" if rename in carried else ""
            lines.append(f"  {'renamed':<8} {rename}{note}{ignored}")
    if plan.conflicts:
        lines.append("Conflicts, for you to resolve:")
        lines.extend(f"  {conflict.path}: {conflict.next_step}" for conflict in plan.conflicts)
    return lines


def _headline(plan: UpdatePlan, *, dry_run: bool) -> str:
    if plan.is_noop:
        return f"The project is already at template version {plan.to_version}."
    if plan.from_version == plan.to_version:
        moved = f"at template version {plan.to_version}, with the changed answers"
        return f"Would re-render {moved}:" if dry_run else f"Re-rendered {moved}."
    if dry_run:
        return f"Would update from template version {plan.from_version} to {plan.to_version}:"
    return f"Updated from template version {plan.from_version} to {plan.to_version}."


def next_steps(plan: UpdatePlan, project: Path, *, dry_run: bool) -> list[str]:
    """What the user does now, as commands that lead to a commit holding the whole update."""
    if plan.is_noop:
        return []
    if dry_run:
        return ["Dry run: nothing was written. Run the command without --dry-run to apply it."]
    where = [] if project == Path.cwd() else [f"In {project}:"]
    message = shlex.quote(f"Update to template version {plan.to_version}")
    # In a subdirectory of a bigger repository, other work may be staged: commit only the project.
    in_subdirectory = bool(run_git(project, "rev-parse", "--show-prefix").strip())
    commit = f"git commit -m {message}" + (" -- ." if in_subdirectory else "")
    ignored = sorted(shlex.quote(path) for path in plan.ignored)
    keep_ignored = (
        [
            "Files git ignores were written but not staged; "
            f"`git add -f {' '.join(ignored)}` keeps them in git."
        ]
        if ignored
        else []
    )
    if not plan.conflicts:
        return [
            *where,
            "Every change is staged, new files included: review it with `git diff --cached`,",
            f"then `{commit}`.",
            *keep_ignored,
        ]
    # A .rej file is deleted once its hunks are applied: the file they belong to is staged.
    paths = " ".join(
        sorted({shlex.quote(conflict.path.removesuffix(".rej")) for conflict in plan.conflicts})
    )
    return [
        *where,
        "Everything else is staged. Resolve the conflicts above, then stage them with",
        f"`git add {paths}` (or `git rm` the files you drop), review with `git diff --cached`",
        f"and `{commit}`.",
        *keep_ignored,
    ]
