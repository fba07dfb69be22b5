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
    run_in_terminal,
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


def _staged(repo: Path) -> set[str]:
    """Paths staged in `repo`, relative to the directory git runs in."""
    return set(git(repo, "diff", "--cached", "--name-only", "--no-renames", "--relative").split())


def _commit_as_told(project: Path) -> None:
    """The commit the printed next step describes (`git commit` of what is staged)."""
    git(project, "commit", "--quiet", "--message", "Update the template")


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
    assert "  added    CHANGES.md\n  changed  Makefile\n" in result.stdout
    # New files are staged too, so committing as told gives a clone with the whole update.
    assert "git diff --cached" in result.stdout
    assert _staged(project) == {".copier-answers.yml", "CHANGES.md", "Makefile"}
    _commit_as_told(project)
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "--quiet", str(project), str(clone))
    assert (clone / "CHANGES.md").read_text(encoding="utf-8") == "New in v2.\n"
    assert git(project, "status", "--porcelain") == ""


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


def test_conflicting_edits_are_listed_with_their_next_step_and_exit_1(
    cli: Cli, workdir: Path, tmp_path: Path
) -> None:
    template = make_template_repo(tmp_path / "template-repo", "v1.0.0")
    project = _generate(cli, workdir, "--template", template)
    _replace_first_line(project / "README.md", "# Orders, as the team calls it")
    commit_all(project, "Rename the README title")
    _replace_first_line(template_source_of(template, "README.md"), "# {{ project_name }} service")
    append_line(template_source_of(template, "Makefile"), TEMPLATE_LINE)
    release(template, "v2.0.0")

    result = cli("update", "svc", cwd=workdir)

    assert result.returncode == 1, result.stderr
    assert result.stderr == ""
    assert "Conflicts, for you to resolve:\n  README.md: resolve the <<<<<<< / >>>>>>> markers" in (
        result.stdout
    )
    assert "`git add README.md`" in result.stdout
    readme = (project / "README.md").read_text(encoding="utf-8")
    assert "<<<<<<< before updating" in readme
    assert "# Orders, as the team calls it" in readme
    assert f"# {yaml.safe_load(answers_of(project))['project_name']} service" in readme
    # The conflicted file is left for the user to stage; the rest of the update is staged.
    assert _staged(project) == {".copier-answers.yml", "Makefile"}


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
    assert "Re-rendered at template version v1.0.0, with the changed answers." in result.stdout
    assert "  changed database: 'sqlite' -> 'postgresql'\n" in result.stdout
    assert "  added    k8s/base/migration-job.yaml\n" in result.stdout
    assert "  removed  k8s/base/sqlite-database-per-pod.yaml\n" in result.stdout
    assert yaml.safe_load(answers_of(project))["database"] == "postgresql"
    assert "k8s/base/migration-job.yaml" in _staged(project)


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


# ---- files the new version removes or renames ----


def test_edited_file_the_new_version_removes_is_kept_and_listed_as_a_conflict(
    cli: Cli, workdir: Path, tmp_path: Path
) -> None:
    template = make_template_repo(tmp_path / "template-repo", "v1.0.0")
    project = _generate(cli, workdir, "--template", template)
    append_line(project / "docs" / "rollback.md", USER_LINE)
    commit_all(project, "Our rollback notes")
    git(template, "rm", "--quiet", "template/docs/rollback.md.jinja", "template/alembic.ini")
    release(template, "v2.0.0")

    result = cli("update", project)

    assert result.returncode == 1, result.stderr
    assert result.stderr == ""
    assert (project / "docs" / "rollback.md").read_text(encoding="utf-8").endswith(USER_LINE + "\n")
    assert (
        "  docs/rollback.md: you changed it and template version v2.0.0 removes it: your "
        "version is kept; keep it, or drop it with `git rm docs/rollback.md`"
    ) in result.stdout
    # The file nobody edited goes, and its removal is staged.
    assert not (project / "alembic.ini").exists()
    assert "  removed  alembic.ini\n" in result.stdout
    assert _staged(project) == {".copier-answers.yml", "alembic.ini"}


def test_edits_to_a_renamed_file_follow_it_to_its_new_path(
    cli: Cli, workdir: Path, tmp_path: Path
) -> None:
    template = make_template_repo(tmp_path / "template-repo", "v1.0.0")
    project = _generate(cli, workdir, "--template", template)
    append_line(project / "docs" / "rollback.md", USER_LINE)
    commit_all(project, "Our rollback notes")
    git(template, "mv", "template/docs/rollback.md.jinja", "template/docs/rolling-back.md.jinja")
    _replace_first_line(
        template / "template" / "docs" / "rolling-back.md.jinja",
        "# Rolling back",
    )
    release(template, "v2.0.0")

    result = cli("update", project)

    assert result.returncode == 0, result.stdout
    assert not (project / "docs" / "rollback.md").exists()
    moved = (project / "docs" / "rolling-back.md").read_text(encoding="utf-8")
    assert moved.startswith("# Rolling back\n")  # the template's change
    assert moved.endswith(USER_LINE + "\n")  # and the user's
    assert (
        "  renamed  docs/rollback.md -> docs/rolling-back.md (your edits carried over)\n"
        in result.stdout
    )
    assert _staged(project) == {".copier-answers.yml", "docs/rollback.md", "docs/rolling-back.md"}


def test_set_keeps_an_edited_file_the_new_answer_drops(
    cli: Cli, workdir: Path, tmp_path: Path
) -> None:
    template = make_template_repo(tmp_path / "template-repo", "v1.0.0")
    project = _generate(cli, workdir, "--template", template, "--set", "database=postgresql")
    job = project / "k8s" / "base" / "migration-job.yaml"
    append_line(job, "# reviewed by the platform team")
    commit_all(project, "Review the migration job")

    result = cli("update", project, "--set", "database=sqlite")

    assert result.returncode == 1, result.stderr
    assert "  changed database: 'postgresql' -> 'sqlite'\n" in result.stdout
    assert "  k8s/base/migration-job.yaml: you changed it and template version v1.0.0 removes" in (
        result.stdout
    )
    assert job.read_text(encoding="utf-8").endswith("# reviewed by the platform team\n")
    assert not (project / "k8s" / "base" / "network-policy-postgresql.yaml").exists()


# ---- questions ----


def _release_with_new_question(template: Path, tag: str) -> None:
    with (template / "copier.yml").open("a", encoding="utf-8") as questions:
        questions.write("\nlog_format:\n  type: str\n  help: Log format\n  default: json\n")
    (template / "template" / "LOGGING.md.jinja").write_text(
        "format={{ log_format }}\n", encoding="utf-8"
    )
    release(template, tag)


def test_new_question_is_listed_with_the_default_it_got(
    cli: Cli, workdir: Path, tmp_path: Path
) -> None:
    template = make_template_repo(tmp_path / "template-repo", "v1.0.0")
    project = _generate(cli, workdir, "--template", template)
    _release_with_new_question(template, "v2.0.0")

    result = cli("update", project)

    assert result.returncode == 0, result.stderr
    assert (
        "Answers:\n  new question log_format: 'json' (its default: no terminal to ask on)\n"
        in result.stdout
    )
    assert (project / "LOGGING.md").read_text(encoding="utf-8") == "format=json\n"


def test_new_question_is_asked_on_a_terminal(cli: Cli, workdir: Path, tmp_path: Path) -> None:
    template = make_template_repo(tmp_path / "template-repo", "v1.0.0")
    project = _generate(cli, workdir, "--template", template)
    _release_with_new_question(template, "v2.0.0")

    transcript, status = run_in_terminal(
        [str(cli.script), "update"],
        cwd=project,
        env=cli.env,
        prompt="Log format",
        reply="\x15text\r",  # Ctrl-U clears the proposed default first
    )

    assert status == 0, transcript
    assert "new question log_format: 'text' (your answer)" in transcript
    assert (project / "LOGGING.md").read_text(encoding="utf-8") == "format=text\n"


# ---- --dry-run ----


def test_dry_run_lists_every_change_and_writes_nothing(
    cli: Cli, workdir: Path, tmp_path: Path
) -> None:
    template = make_template_repo(tmp_path / "template-repo", "v1.0.0")
    project = _generate(cli, workdir, "--template", template)
    _replace_first_line(project / "README.md", "# Orders, as the team calls it")
    append_line(project / "docs" / "deployment.md", USER_LINE)
    commit_all(project, "Our edits")
    _replace_first_line(template_source_of(template, "README.md"), "# {{ project_name }} service")
    append_line(template_source_of(template, "Makefile"), TEMPLATE_LINE)
    (template / "template" / "CHANGES.md").write_text("New in v2.\n", encoding="utf-8")
    git(template, "rm", "--quiet", "template/alembic.ini", "template/docs/deployment.md.jinja")
    git(template, "mv", "template/docs/rollback.md.jinja", "template/docs/rolling-back.md.jinja")
    release(template, "v1.5.0")
    _release_with_new_question(template, "v2.0.0")
    before = snapshot(project)

    result = cli("update", project, "--dry-run")

    assert result.returncode == 1, result.stderr  # the update would leave conflicts
    assert result.stderr == ""
    assert result.stdout.startswith(
        "Would update from template version v1.0.0 to v2.0.0:\n"
        "Answers:\n"
        "  new question log_format: 'json' (its default: no terminal to ask on)\n"
        "Files:\n"
        "  changed  .copier-answers.yml\n"
        "  added    CHANGES.md\n"
        "  added    LOGGING.md\n"
        "  changed  Makefile\n"
        "  changed  README.md\n"
        "  removed  alembic.ini\n"
        "  renamed  docs/rollback.md -> docs/rolling-back.md\n"
        "Conflicts, for you to resolve:\n"
        "  README.md: resolve the <<<<<<< / >>>>>>> markers, then git add it\n"
        "  docs/deployment.md: you changed it and template version v2.0.0 removes it"
    ), result.stdout
    assert "Dry run: nothing was written." in result.stdout
    assert snapshot(project) == before


# ---- refusals and failures ----


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param("_commit: [v1\n", "is not valid YAML", id="invalid-yaml"),
        pytest.param(
            "- v1.0.0\n", "must hold a mapping of question: answer, not a list", id="list"
        ),
        pytest.param("", "must hold a mapping of question: answer, not an empty file", id="empty"),
        pytest.param("_commit: v1.0.0\n", "does not record _src_path", id="no-src-path"),
        pytest.param("_src_path: SRC\n", "does not record _commit", id="no-commit"),
        pytest.param("_src_path: SRC\n_commit: 1\n", "_commit must be text, not 1", id="number"),
        pytest.param(
            "_src_path: SRC\n_commit: v1.0.0\n_x: &a [1, 1]\n_y: [*a, *a]\n",
            "YAML alias (*a)",
            id="alias",
        ),
        pytest.param(
            "_src_path: SRC\n_commit: v9.9.9\n",
            "_commit in ANSWERS names 'v9.9.9', which the template SRC does not have "
            "(its tags: v1.0.0)",
            id="unknown-tag",
        ),
        pytest.param(
            "_src_path: SRC\n_commit: v1.0.0\ngitops: [a]\n",
            "answers file ANSWERS: gitops expects true/false/yes/no/1/0",
            id="bool-list",
        ),
        pytest.param(
            "_src_path: SRC\n_commit: v1.0.0\ngitops: 5\n",
            "answers file ANSWERS: gitops expects true/false/yes/no/1/0, not 5",
            id="bool-number",
        ),
        pytest.param(
            # 2 KB that PyYAML would compose recursively until Python's stack overflows.
            "_src_path: SRC\n_commit: v1.0.0\nzz: " + "[" * 1000 + "]" * 1000 + "\n",
            "is refused: it nests deeper than 20 levels (line 3)",
            id="deep-nesting",
        ),
    ],
)
def test_broken_answers_file_is_one_error_naming_it(
    cli: Cli, workdir: Path, tmp_path: Path, content: str, message: str
) -> None:
    template = make_template_repo(tmp_path / "template-repo", "v1.0.0")
    project = _generate(cli, workdir, "--template", template)
    answers = project / ".copier-answers.yml"
    answers.write_text(content.replace("SRC", str(template)), encoding="utf-8")
    commit_all(project, "Break the answers file")
    before = snapshot(project)

    result = cli("update", project)

    expected = message.replace("SRC", str(template)).replace("ANSWERS", str(answers))
    assert_single_error(result, 2, expected)
    assert str(answers) in result.stderr
    assert snapshot(project) == before


def test_to_naming_a_missing_tag_lists_the_tags(cli: Cli, workdir: Path, tmp_path: Path) -> None:
    template = make_template_repo(tmp_path / "template-repo", "v1.0.0")
    project = _generate(cli, workdir, "--template", template)

    result = cli("update", project, "--to", "v3")

    assert_single_error(
        result,
        2,
        f"--to names 'v3', which the template {template} does not have (its tags: v1.0.0)",
    )


def test_unreachable_template_is_a_failure_and_writes_nothing(
    cli: Cli, workdir: Path, tmp_path: Path
) -> None:
    template = make_template_repo(tmp_path / "template-repo", "v1.0.0")
    project = _generate(cli, workdir, "--template", template)
    template.rename(tmp_path / "moved-away")
    before = snapshot(project)

    result = cli("update", project)

    assert_single_error(result, 3, f"cannot list the versions of the template {template}")
    assert snapshot(project) == before


def test_unreachable_template_names_what_git_said(cli: Cli, workdir: Path, tmp_path: Path) -> None:
    template = make_template_repo(tmp_path / "template-repo", "v1.0.0")
    project = _generate(cli, workdir, "--template", template)
    template.rename(tmp_path / "moved-away")

    result = cli("update", project)

    # git's complaint, not its closing advice ("...and the repository exists.").
    assert_single_error(result, 3, "fatal: ")
    assert "repository exists" not in result.stderr


def test_downgrade_is_refused_before_any_work(cli: Cli, workdir: Path, tmp_path: Path) -> None:
    template = make_template_repo(tmp_path / "template-repo", "v1.0.0")
    append_line(template_source_of(template, "Makefile"), TEMPLATE_LINE)
    release(template, "v2.0.0")
    project = _generate(cli, workdir, "--template", template)
    before = snapshot(project)

    result = cli("update", project, "--to", "v1.0.0")

    assert_single_error(result, 2, "--to v1.0.0 is older than template version v2.0.0")
    assert snapshot(project) == before


def test_template_with_tasks_is_refused(cli: Cli, workdir: Path, tmp_path: Path) -> None:
    template = make_template_repo(tmp_path / "template-repo", "v1.0.0")
    project = _generate(cli, workdir, "--template", template)
    append_line(template / "copier.yml", "_tasks: ['touch tasks-ran']")
    release(template, "v2.0.0")
    before = snapshot(project)

    result = cli("update", project)

    assert_single_error(result, 2, "uses tasks, which run code on this machine")
    assert snapshot(project) == before


# ---- a project inside a bigger repository ----


def _project_in_monorepo(
    cli: Cli, monorepo: Path, template: Path, other_file: str, content: str
) -> Path:
    """services/svc generated in `monorepo`, committed there beside one file of the monorepo's."""
    (monorepo / "services").mkdir()
    project = _generate(cli, monorepo / "services", "--template", template, "--no-git")
    (monorepo / other_file).write_text(content, encoding="utf-8")
    git(monorepo, "init", "--quiet")
    commit_all(monorepo, "Monorepo")
    return project


def test_monorepo_needs_only_the_projects_own_subtree_clean(
    cli: Cli, workdir: Path, tmp_path: Path
) -> None:
    template = make_template_repo(tmp_path / "template-repo", "v1.0.0")
    project = _project_in_monorepo(cli, workdir, template, "ops.md", "the rest of the monorepo\n")
    append_line(project / "README.md", USER_LINE)
    commit_all(workdir, "Document the service")
    append_line(workdir / "ops.md", "work in progress outside the project")
    (workdir / "scratch.txt").write_text("untracked, outside the project\n", encoding="utf-8")
    append_line(template_source_of(template, "Makefile"), TEMPLATE_LINE)
    release(template, "v2.0.0")

    result = cli("update", cwd=project)

    assert result.returncode == 0, result.stderr
    assert (project / "README.md").read_text(encoding="utf-8").endswith(USER_LINE + "\n")
    assert (project / "Makefile").read_text(encoding="utf-8").endswith(TEMPLATE_LINE + "\n")
    assert _staged(workdir) == {"services/svc/.copier-answers.yml", "services/svc/Makefile"}
    assert git(workdir, "status", "--porcelain", "--", "ops.md", "scratch.txt").split("\n")[:2] == [
        " M ops.md",
        "?? scratch.txt",
    ]


def test_monorepo_update_lists_ignored_files_and_commits_only_the_project(
    cli: Cli, workdir: Path, tmp_path: Path
) -> None:
    template = make_template_repo(tmp_path / "template-repo", "v1.0.0")
    # The monorepo ignores a file the next release adds; unrelated work is staged elsewhere.
    project = _project_in_monorepo(cli, workdir, template, ".gitignore", "CHANGES.md\n")
    (workdir / "staged-elsewhere.txt").write_text("not the update's\n", encoding="utf-8")
    git(workdir, "add", "staged-elsewhere.txt")
    (template / "template" / "CHANGES.md").write_text("New in v2.\n", encoding="utf-8")
    append_line(template_source_of(template, "Makefile"), TEMPLATE_LINE)
    release(template, "v2.0.0")

    result = cli("update", cwd=project)

    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert "added    CHANGES.md (git ignores it: written, not staged)" in result.stdout
    assert "`git add -f CHANGES.md` keeps them in git" in result.stdout
    assert (project / "CHANGES.md").read_text(encoding="utf-8") == "New in v2.\n"
    commit = next(line for line in result.stdout.splitlines() if "git commit" in line)
    assert commit.endswith("`git commit -m 'Update to template version v2.0.0' -- .`."), commit
    git(project, "commit", "--quiet", "-m", "Update to template version v2.0.0", "--", ".")
    committed = git(workdir, "show", "--name-only", "--format=", "HEAD").split()
    assert committed == ["services/svc/.copier-answers.yml", "services/svc/Makefile"]
    assert _staged(workdir) == {"staged-elsewhere.txt"}


def test_standalone_project_lists_an_added_file_its_gitignore_ignores(
    cli: Cli, workdir: Path, tmp_path: Path
) -> None:
    template = make_template_repo(tmp_path / "template-repo", "v1.0.0")
    project = _generate(cli, workdir, "--template", template)
    append_line(project / ".gitignore", "CHANGES.md")
    commit_all(project, "Ignore the changelog")
    (template / "template" / "CHANGES.md").write_text("New in v2.\n", encoding="utf-8")
    release(template, "v2.0.0")

    result = cli("update", project)

    assert result.returncode == 0, result.stderr
    assert "added    CHANGES.md (git ignores it: written, not staged)" in result.stdout
    assert (project / "CHANGES.md").is_file()
    assert "CHANGES.md" not in _staged(project)
