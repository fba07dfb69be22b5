"""`prodready new` renders a project, records where it came from, and commits it."""

import subprocess
import sys
from pathlib import Path

import yaml
from cli_helpers import (
    REPO_ROOT,
    UPSTREAM_URL,
    Cli,
    answers_of,
    append_line,
    assert_single_error,
    commit_all,
    git,
    make_template_repo,
    make_typed_template,
    release,
    run_in_terminal,
    snapshot,
    template_source_of,
)


def _answers(project: Path) -> dict[str, object]:
    loaded = yaml.safe_load(answers_of(project))
    assert isinstance(loaded, dict)
    return loaded


def _help_of(question: str) -> str:
    config = yaml.safe_load((REPO_ROOT / "copier.yml").read_text(encoding="utf-8"))
    return str(config[question]["help"])


def test_defaults_render_a_committed_project_that_records_the_upstream_release(
    cli: Cli, workdir: Path
) -> None:
    result = cli("new", "svc", "--defaults", cwd=workdir)

    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    project = workdir / "svc"
    answers = answers_of(project)
    assert f"_src_path: {UPSTREAM_URL}\n" in answers
    assert "_commit: v0.1.0\n" in answers
    for generated in ("Makefile", "pyproject.toml", "README.md", "src/svc"):
        assert (project / generated).exists(), generated
    assert git(project, "rev-list", "--count", "HEAD").strip() == "1"
    assert git(project, "status", "--porcelain") == ""
    assert git(project, "log", "-1", "--format=%an <%ae>").strip() == (
        "Service Developer <developer@example.com>"
    )
    # Only the project is left in the parent: the staging directory is gone.
    assert [path.name for path in workdir.iterdir()] == ["svc"]
    for step in ("cd svc", "make install", "make migrate", "make run", "make test"):
        assert step in result.stdout
    assert "http://127.0.0.1:8000" in result.stdout


def test_project_is_named_after_the_destination(cli: Cli, workdir: Path) -> None:
    result = cli("new", "billing-api", "--defaults", cwd=workdir)

    assert result.returncode == 0, result.stderr
    answers = _answers(workdir / "billing-api")
    assert answers["project_name"] == "billing-api"
    assert answers["project_slug"] == "billing-api"
    assert answers["package_name"] == "billing_api"
    assert (workdir / "billing-api" / "src" / "billing_api").is_dir()


def test_an_answered_name_wins_over_the_destinations(cli: Cli, workdir: Path) -> None:
    # "click" could not name the project (a dependency is called so); the answer is used instead.
    result = cli("new", "click", "--defaults", "--set", "project_name=Orders", cwd=workdir)

    assert result.returncode == 0, result.stderr
    assert _answers(workdir / "click")["package_name"] == "orders"


def test_project_name_derives_slug_and_package(cli: Cli, workdir: Path) -> None:
    result = cli("new", "orders", "--defaults", "--set", "project_name=Order Service", cwd=workdir)

    assert result.returncode == 0, result.stderr
    answers = _answers(workdir / "orders")
    assert answers["project_name"] == "Order Service"
    assert answers["project_slug"] == "order-service"
    assert answers["package_name"] == "order_service"
    assert (workdir / "orders" / "src" / "order_service").is_dir()


def test_answers_file_is_reused_and_set_wins_over_it(cli: Cli, workdir: Path) -> None:
    first = cli(
        "new", "first", "--defaults", "--set", "project_name=Billing", "--no-git", cwd=workdir
    )
    assert first.returncode == 0, first.stderr

    # Every question answered (file + --set), so no terminal and no --defaults is needed.
    result = cli(
        "new",
        "second",
        "--answers-file",
        workdir / "first" / ".copier-answers.yml",
        "--set",
        "database=postgresql",
        "--no-git",
        cwd=workdir,
    )

    assert result.returncode == 0, result.stderr
    answers = _answers(workdir / "second")
    assert answers["project_slug"] == "billing"
    assert answers["database"] == "postgresql"
    assert answers["_src_path"] == UPSTREAM_URL


def test_empty_existing_destination_is_filled_in_place(cli: Cli, workdir: Path) -> None:
    destination = workdir / "ledger"
    destination.mkdir()
    inode = destination.stat().st_ino

    result = cli("new", ".", "--defaults", "--no-git", cwd=destination)

    assert result.returncode == 0, result.stderr
    assert destination.stat().st_ino == inode
    assert _answers(destination)["project_name"] == "ledger"  # the current directory's name
    assert not (destination / ".git").exists()
    assert [path.name for path in workdir.iterdir()] == ["ledger"]
    assert not [path for path in destination.iterdir() if "prodready" in path.name]


def test_without_git_identity_the_first_commit_is_the_authors(
    cli: Cli, workdir: Path, user_home: Path
) -> None:
    (user_home / ".gitconfig").write_text("", encoding="utf-8")

    result = cli(
        "new", "svc", "--defaults", "--set", "author_email=orders@example.com", cwd=workdir
    )

    assert result.returncode == 0, result.stderr
    author = git(workdir / "svc", "log", "-1", "--format=%an <%ae>").strip()
    assert author == "Service Team <orders@example.com>"


def test_without_git_installed_the_project_records_the_same_source(
    cli: Cli, workdir: Path, tmp_path: Path
) -> None:
    named = ("--defaults", "--set", "project_name=Orders")
    with_git = cli("new", "with-git", *named, cwd=workdir)
    assert with_git.returncode == 0, with_git.stderr
    no_tools = tmp_path / "bin-without-git"
    no_tools.mkdir()

    result = cli("new", "without-git", *named, cwd=workdir, env={"PATH": str(no_tools)})

    assert result.returncode == 0, result.stderr
    assert "git is not installed" in result.stdout
    assert not (workdir / "without-git" / ".git").exists()
    assert answers_of(workdir / "without-git") == answers_of(workdir / "with-git")


def test_template_option_records_its_absolute_source_and_tag(
    cli: Cli, workdir: Path, tmp_path: Path
) -> None:
    template = make_template_repo(tmp_path / "template-repo", "v1.0.0")
    append_line(template_source_of(template, "Makefile"), "# only in v2")
    release(template, "v2.0.0")

    # Relative to the working directory; `copier update` later runs from the project.
    result = cli(
        "new",
        "svc",
        "--template",
        "../template-repo",
        "--vcs-ref",
        "v1.0.0",
        "--defaults",
        cwd=workdir,
    )

    assert result.returncode == 0, result.stderr
    assert "Created svc from " in result.stdout
    assert " at v1.0.0." in result.stdout
    answers = _answers(workdir / "svc")
    assert answers["_src_path"] == str(template.resolve())
    assert answers["_commit"] == "v1.0.0"
    assert "# only in v2" not in (workdir / "svc" / "Makefile").read_text(encoding="utf-8")


def test_values_are_cast_to_the_question_type(cli: Cli, workdir: Path, tmp_path: Path) -> None:
    template = make_typed_template(tmp_path / "typed")
    answers = workdir / "answers.yml"
    answers.write_text("port: 9000\ncolour: blue\n", encoding="utf-8")

    result = cli(
        "new",
        "svc",
        "--template",
        template,
        "--answers-file",
        answers,
        "--set",
        "debug=yes",
        "--set",
        "tags=[api, orders]",
        "--set",
        "port=8080",
        "--no-git",
        cwd=workdir,
    )

    assert result.returncode == 0, result.stderr
    assert (workdir / "svc" / "settings.txt").read_text(encoding="utf-8") == (
        "port=8080 debug=True tags=['api', 'orders'] colour=blue\n"
    )


def test_failure_while_rendering_leaves_nothing(cli: Cli, workdir: Path, tmp_path: Path) -> None:
    template = make_typed_template(tmp_path / "broken")
    (template / "broken.txt.jinja").write_text("{{ port | no_such_filter }}\n", encoding="utf-8")
    before = snapshot(workdir)

    result = cli("new", "svc", "--template", template, "--defaults", cwd=workdir)

    assert_single_error(result, 3, "the template does not render: No filter named 'no_such_filter'")
    assert snapshot(workdir) == before


def test_terminal_asks_for_the_answers_missing(cli: Cli, workdir: Path) -> None:
    # Every question answered by a file (taken from a reference project) but package_name.
    reference = cli("new", "reference", "--defaults", "--no-git", cwd=workdir)
    assert reference.returncode == 0, reference.stderr
    answers = _answers(workdir / "reference")
    del answers["package_name"]
    answers.update({"project_name": "Tty Service", "project_slug": "tty-service"})
    answers_file = workdir / "answers.yml"
    answers_file.write_text(yaml.safe_dump(answers), encoding="utf-8")

    transcript, status = run_in_terminal(
        [str(cli.script), "new", "svc", "--answers-file", str(answers_file)],
        cwd=workdir,
        env=cli.env,
        prompt=_help_of("package_name")[:24],  # the one question left unanswered
        reply="\r",  # take the default the prompt shows
    )

    assert status == 0, transcript
    assert _answers(workdir / "svc")["package_name"] == "tty_service"


def test_python_dash_m_and_version(cli: Cli) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "prodready", "--version"],
        env=dict(cli.env),
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout == "prodready 0.1.0\n"
    assert cli("--version").stdout == result.stdout


# ---- inside an existing git repository ----


def _monorepo(workdir: Path) -> Path:
    (workdir / "ops.md").write_text("the rest of the monorepo\n", encoding="utf-8")
    git(workdir, "init", "--quiet")
    commit_all(workdir, "Monorepo")
    (workdir / "services").mkdir()
    return workdir / "services"


def test_inside_a_repository_no_repository_is_nested(
    cli: Cli, workdir: Path, tmp_path: Path
) -> None:
    template = make_template_repo(tmp_path / "template-repo", "v1.0.0")
    services = _monorepo(workdir)

    result = cli("new", "orders", "--template", template, "--defaults", cwd=services)

    assert result.returncode == 0, result.stderr
    project = services / "orders"
    assert not (project / ".git").exists()
    assert f"{project} is inside the git repository at {workdir}" in result.stdout
    assert "(--git makes one)" in result.stdout
    assert "so that `prodready update` can work" in result.stdout
    # What it says to do is what `prodready update` then needs.
    (instruction,) = [line for line in result.stdout.splitlines() if line.startswith("  git -C")]
    subprocess.run(["bash", "-c", instruction], env=cli.env, check=True, capture_output=True)
    assert git(workdir, "status", "--porcelain") == ""
    append_line(template_source_of(template, "Makefile"), "# only in v2")
    release(template, "v2.0.0")
    updated = cli("update", project)
    assert updated.returncode == 0, updated.stdout + updated.stderr
    assert "# only in v2" in (project / "Makefile").read_text(encoding="utf-8")


def test_git_option_nests_a_repository_when_asked(cli: Cli, workdir: Path) -> None:
    services = _monorepo(workdir)

    result = cli("new", "orders", "--defaults", "--git", cwd=services)

    assert result.returncode == 0, result.stderr
    project = services / "orders"
    assert git(project, "rev-parse", "--show-toplevel").strip() == str(project)
    assert git(project, "rev-list", "--count", "HEAD").strip() == "1"
    assert f"nested in the repository at {workdir} as --git asked" in result.stdout
