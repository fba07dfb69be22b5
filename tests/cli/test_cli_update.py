"""`prodready update` merges a newer template into a project and keeps the user's changes."""

from pathlib import Path

import pytest
import yaml
from cli_helpers import (
    UPSTREAM_URL,
    Cli,
    answers_of,
    append_line,
    assert_single_error,
    commit_all,
    git,
    make_template_repo,
    release,
    snapshot,
    template_source_of,
)

USER_LINE = "Run `make run` and open http://127.0.0.1:8000/docs."
TEMPLATE_LINE = "# Added to the template in the new release."


def _generate(cli: Cli, workdir: Path, *arguments: str | Path) -> Path:
    result = cli("new", "svc", "--defaults", *arguments, cwd=workdir)
    assert result.returncode == 0, result.stderr
    return workdir / "svc"


def _replace_first_line(path: Path, line: str) -> None:
    rest = path.read_text(encoding="utf-8").split("\n", 1)[1]
    path.write_text(f"{line}\n{rest}", encoding="utf-8")


def _recorded(project: Path) -> tuple[str, str]:
    answers = yaml.safe_load(answers_of(project))
    return answers["_src_path"], answers["_commit"]


def test_update_keeps_the_users_edit_and_brings_the_new_release(
    cli: Cli, workdir: Path, tmp_path: Path
) -> None:
    template = make_template_repo(tmp_path / "template-repo", "v1.0.0")
    project = _generate(cli, workdir, "--template", template)
    append_line(project / "README.md", USER_LINE)
    commit_all(project, "Document how to run")
    append_line(template_source_of(template, "Makefile"), TEMPLATE_LINE)
    (template / "template" / "CHANGES.md").write_text("New in v2.\n", encoding="utf-8")
    release(template, "v2.0.0")

    result = cli("update", project)

    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert "from template version v1.0.0 to v2.0.0" in result.stdout
    assert (project / "README.md").read_text(encoding="utf-8").endswith(USER_LINE + "\n")
    assert (project / "Makefile").read_text(encoding="utf-8").endswith(TEMPLATE_LINE + "\n")
    assert (project / "CHANGES.md").read_text(encoding="utf-8") == "New in v2.\n"
    assert _recorded(project) == (str(template), "v2.0.0")


def test_to_moves_to_the_given_release_rather_than_the_latest(
    cli: Cli, workdir: Path, tmp_path: Path
) -> None:
    template = make_template_repo(tmp_path / "template-repo", "v1.0.0")
    makefile = template_source_of(template, "Makefile")
    append_line(makefile, "# v2")
    release(template, "v2.0.0")
    append_line(makefile, "# v3")
    release(template, "v3.0.0")
    project = _generate(cli, workdir, "--template", template, "--vcs-ref", "v1.0.0")

    result = cli("update", project, "--to", "v2.0.0")

    assert result.returncode == 0, result.stderr
    assert "from template version v1.0.0 to v2.0.0" in result.stdout
    assert (project / "Makefile").read_text(encoding="utf-8").endswith("# v2\n")
    assert _recorded(project) == (str(template), "v2.0.0")


def test_conflicting_edits_are_listed_and_fail_the_update(
    cli: Cli, workdir: Path, tmp_path: Path
) -> None:
    template = make_template_repo(tmp_path / "template-repo", "v1.0.0")
    project = _generate(cli, workdir, "--template", template)
    _replace_first_line(project / "README.md", "# Orders, as the team calls it")
    commit_all(project, "Rename the README title")
    _replace_first_line(template_source_of(template, "README.md"), "# {{ project_name }} service")
    release(template, "v2.0.0")

    result = cli("update", "svc", cwd=workdir)

    assert_single_error(result, 1, "the update left 1 file(s) with conflicts")
    assert result.stdout == "README.md\n"
    readme = (project / "README.md").read_text(encoding="utf-8")
    assert "<<<<<<< before updating" in readme
    assert "# Orders, as the team calls it" in readme
    assert "# My Service service" in readme


def test_installed_release_updates_from_upstream_through_a_mirror(
    cli: Cli, workdir: Path, tmp_path: Path, user_home: Path
) -> None:
    project = _generate(cli, workdir)
    assert _recorded(project) == (UPSTREAM_URL, "v0.1.0")
    append_line(project / "README.md", USER_LINE)
    commit_all(project, "Document how to run")
    # Upstream's v0.1.0 is the template this package ships (the installed_prodready fixture
    # checked they are the same bytes); v0.2.0 changes the Makefile.
    upstream = make_template_repo(tmp_path / "upstream", "v0.1.0")
    append_line(template_source_of(upstream, "Makefile"), TEMPLATE_LINE)
    release(upstream, "v0.2.0")
    append_line(
        user_home / ".gitconfig", f'[url "file://{upstream}"]\n\tinsteadOf = {UPSTREAM_URL}'
    )

    result = cli("update", cwd=project)

    assert result.returncode == 0, result.stderr
    assert "from template version v0.1.0 to v0.2.0" in result.stdout
    assert (project / "README.md").read_text(encoding="utf-8").endswith(USER_LINE + "\n")
    assert (project / "Makefile").read_text(encoding="utf-8").endswith(TEMPLATE_LINE + "\n")
    assert _recorded(project) == (UPSTREAM_URL, "v0.2.0")


def test_set_changes_an_answer_on_update(cli: Cli, workdir: Path, tmp_path: Path) -> None:
    template = make_template_repo(tmp_path / "template-repo", "v1.0.0")
    project = _generate(cli, workdir, "--template", template)

    result = cli("update", project, "--set", "database=postgresql")

    assert result.returncode == 0, result.stderr
    assert "already at template version v1.0.0" in result.stdout
    assert yaml.safe_load(answers_of(project))["database"] == "postgresql"


def test_set_is_checked_against_the_templates_questions(
    cli: Cli, workdir: Path, tmp_path: Path
) -> None:
    template = make_template_repo(tmp_path / "template-repo", "v1.0.0")
    project = _generate(cli, workdir, "--template", template)
    before = snapshot(project)

    result = cli("update", project, "--set", "colour=blue")

    assert_single_error(result, 2, "--set colour=blue: unknown question 'colour'")
    assert snapshot(project) == before


@pytest.mark.parametrize("change", ["untracked", "modified"])
def test_dirty_tree_is_refused_untouched(cli: Cli, workdir: Path, change: str) -> None:
    project = _generate(cli, workdir)
    if change == "untracked":
        (project / "scratch.txt").write_text("notes\n", encoding="utf-8")
    else:
        append_line(project / "README.md", USER_LINE)
    before = snapshot(project)

    result = cli("update", "svc", cwd=workdir)

    assert_single_error(result, 2, f"{project} has uncommitted changes")
    assert "commit or stash them first" in result.stderr
    assert snapshot(project) == before


def test_directory_not_generated_by_prodready(cli: Cli, workdir: Path) -> None:
    (workdir / "README.md").write_text("hand made\n", encoding="utf-8")
    git(workdir, "init", "--quiet")
    commit_all(workdir, "Hand made")
    before = snapshot(workdir)

    result = cli("update", cwd=workdir)

    assert_single_error(result, 2, f"{workdir} is not a project generated by prodready/copier")
    assert snapshot(workdir) == before


def test_project_outside_git_is_refused(cli: Cli, workdir: Path) -> None:
    project = _generate(cli, workdir, "--no-git")
    before = snapshot(project)

    result = cli("update", project)

    assert_single_error(result, 2, f"{project} is not in a git repository")
    assert snapshot(project) == before
