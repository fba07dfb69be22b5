"""`prodready new` refuses bad input with one error line, a non-zero status and no files."""

from pathlib import Path

import pytest
from cli_helpers import Cli, assert_single_error, make_typed_template, snapshot

BAD_ANSWERS = [
    pytest.param(
        ["--set", "project_name=1 Service"],
        "Validation error for question 'project_name': project_name must start with a letter",
        id="project_name-starts-with-digit",
    ),
    pytest.param(
        ["--set", "project_slug=Order_Service"],
        "Validation error for question 'project_slug': project_slug must start with a lowercase",
        id="project_slug-not-a-slug",
    ),
    pytest.param(
        ["--set", "package_name=json"],
        "package_name 'json' is a Python keyword or would shadow a standard-library",
        id="package_name-shadows-stdlib",
    ),
    # Named after a locked dependency: uv.lock would hold two packages of that name.
    *(
        pytest.param(
            ["--set", f"project_name={name}"],
            f"Validation error for question 'project_slug': project_slug '{name.lower()}' is the "
            "name of a package the service depends on (see uv.lock)",
            id=f"project_name-is-dependency-{name}",
        )
        # The lock's first and last packages too: the list is read from it, not copied.
        for name in ("Click", "anyio", "pytest", "coverage", "aiosqlite", "websockets")
    ),
    # A module a dependency installs under another name than its own (import_names.yml).
    *(
        pytest.param(
            ["--set", f"package_name={module}"],
            f"package_name '{module}' would shadow a module of a package the service depends on",
            id=f"package_name-is-dependency-module-{module}",
        )
        for module in ("yaml", "dotenv", "opentelemetry", "pydantic_core")
    ),
    pytest.param(
        ["--set", "python_version=3.9"],
        "--set python_version=3.9: python_version must be one of 3.11, 3.12, 3.13, not '3.9'",
        id="python_version-not-a-choice",
    ),
    pytest.param(
        ["--set", "database=mysql"],
        "--set database=mysql: database must be one of sqlite, postgresql, not 'mysql'",
        id="database-not-a-choice",
    ),
    pytest.param(
        ["--set", "colour=blue"],
        "--set colour=blue: unknown question 'colour'; the questions are: project_name, ",
        id="unknown-question",
    ),
    pytest.param(
        ["--set", "python_tag=py39"],
        "--set python_tag=py39: python_tag is computed by the template and cannot be set",
        id="computed-value",
    ),
    pytest.param(
        ["--set", "project_name"], "--set expects KEY=VALUE, not 'project_name'", id="set-no-equals"
    ),
    pytest.param(
        ["--template", "no-such-template"],
        "cannot read the template no-such-template: Local template must be a directory.",
        id="template-missing",
    ),
    pytest.param(
        ["--vcs-ref", "v1.0.0"],
        "--vcs-ref selects a version of --template",
        id="vcs-ref-without-template",
    ),
]


@pytest.mark.parametrize(("arguments", "message"), BAD_ANSWERS)
def test_bad_answer_is_one_error_line_and_writes_nothing(
    cli: Cli, workdir: Path, arguments: list[str], message: str
) -> None:
    result = cli("new", "svc", "--defaults", *arguments, cwd=workdir)

    assert_single_error(result, 2, message)
    assert snapshot(workdir) == {}


@pytest.mark.parametrize(
    ("assignment", "message"),
    [
        ("port=eighty", "--set port=eighty: port expects an integer, not 'eighty'"),
        ("debug=maybe", "--set debug=maybe: debug expects true/false/yes/no/1/0, not 'maybe'"),
        ("tags=[a, b", "--set tags=[a, b: tags expects a YAML value, not '[a, b'"),
        ("colour=Red", "--set colour=Red: colour must be one of red, blue, not 'Red'"),
    ],
)
def test_value_must_fit_the_question_type(
    cli: Cli, tmp_path: Path, workdir: Path, assignment: str, message: str
) -> None:
    template = make_typed_template(tmp_path / "typed")

    result = cli(
        "new", "svc", "--template", template, "--defaults", "--set", assignment, cwd=workdir
    )

    assert_single_error(result, 2, message)
    assert snapshot(workdir) == {}


def test_non_empty_destination_is_left_alone(cli: Cli, workdir: Path) -> None:
    (workdir / "svc").mkdir()
    (workdir / "svc" / "notes.txt").write_text("mine\n", encoding="utf-8")
    before = snapshot(workdir)

    result = cli("new", "svc", "--defaults", cwd=workdir)

    assert_single_error(
        result, 2, f"destination {workdir / 'svc'} is a directory that is not empty"
    )
    assert snapshot(workdir) == before


def test_destination_that_is_a_file_is_left_alone(cli: Cli, workdir: Path) -> None:
    (workdir / "svc").write_text("mine\n", encoding="utf-8")
    before = snapshot(workdir)

    result = cli("new", "svc", "--defaults", cwd=workdir)

    assert_single_error(result, 2, f"destination {workdir / 'svc'} exists and is not a directory")
    assert snapshot(workdir) == before


def test_destination_without_parent_directory(cli: Cli, workdir: Path) -> None:
    result = cli("new", "services/svc", "--defaults", cwd=workdir)

    assert_single_error(result, 2, f"the directory {workdir / 'services'} to create svc in")
    assert snapshot(workdir) == {}


def test_destination_under_a_file(cli: Cli, workdir: Path) -> None:
    (workdir / "notes").write_text("mine\n", encoding="utf-8")
    before = snapshot(workdir)

    result = cli("new", "notes/svc", "--defaults", cwd=workdir)

    assert_single_error(result, 2, f"{workdir / 'notes'}, where svc would be created, is not a")
    assert snapshot(workdir) == before


def test_empty_destination_is_refused(cli: Cli, workdir: Path) -> None:
    result = cli("new", "", "--defaults", cwd=workdir)

    assert_single_error(result, 2, "DEST is empty")
    assert snapshot(workdir) == {}


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("1svc", "project_name must start with a letter"),
        ("my.service", "project_name must start with a letter and hold at most 60 letters"),
        ("Click", "project_slug 'click' is the name of a package the service depends on"),
        ("pytest", "project_slug 'pytest' is the name of a package the service depends on"),
        ("json", "project_slug 'json' is the name of a Python module"),
    ],
)
def test_destination_name_that_cannot_name_the_project(
    cli: Cli, workdir: Path, name: str, reason: str
) -> None:
    result = cli("new", name, "--defaults", cwd=workdir)

    assert_single_error(
        result, 2, f"the project name '{name}' comes from the destination's name and is refused: "
    )
    assert reason in result.stderr
    assert "choose one with --set project_name=NAME" in result.stderr
    assert snapshot(workdir) == {}


def test_destination_name_too_long_for_the_file_system(cli: Cli, workdir: Path) -> None:
    name = "s" * 300

    result = cli("new", name, "--defaults", "--set", "project_name=Svc", cwd=workdir)

    assert_single_error(result, 2, f"destination {workdir / name}: File name too long")
    assert snapshot(workdir) == {}


def test_missing_answers_file(cli: Cli, workdir: Path) -> None:
    result = cli("new", "svc", "--answers-file", "answers.yml", cwd=workdir)

    assert_single_error(result, 2, "answers file answers.yml does not exist")
    assert snapshot(workdir) == {}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param(None, "answers file answers.yml is not a file", id="directory"),
        pytest.param(
            "project_name: [Order", "answers file answers.yml is not valid YAML", id="yaml"
        ),
        pytest.param("- Order Service\n", "must hold a mapping of question: answer", id="a-list"),
        pytest.param(
            "database: mysql\n",
            "answers file answers.yml: database must be one of sqlite, postgresql, not 'mysql'",
            id="bad-choice",
        ),
    ],
)
def test_unusable_answers_file(cli: Cli, workdir: Path, content: str | None, message: str) -> None:
    # Tests run as root, which reads a chmod 000 file: a directory is what cannot be read.
    answers = workdir / "answers.yml"
    if content is None:
        answers.mkdir()
    else:
        answers.write_text(content, encoding="utf-8")
    before = snapshot(workdir)

    result = cli("new", "svc", "--defaults", "--answers-file", "answers.yml", cwd=workdir)

    assert_single_error(result, 2, message)
    assert snapshot(workdir) == before


def test_without_a_terminal_every_question_needs_an_answer(cli: Cli, workdir: Path) -> None:
    result = cli(
        "new", "svc", "--set", "project_name=Order Service", "--set", "database=sqlite", cwd=workdir
    )

    assert_single_error(result, 2, "stdin is not a terminal, so nothing can ask for project_slug")
    assert "python_version" in result.stderr
    assert "project_name" not in result.stderr
    assert "database" not in result.stderr
    assert "--set NAME=VALUE" in result.stderr
    assert "--defaults" in result.stderr
    assert snapshot(workdir) == {}


def test_unknown_option_is_one_line_not_a_panel(cli: Cli, workdir: Path) -> None:
    result = cli("new", "svc", "--colour", "blue", cwd=workdir)

    assert_single_error(result, 2, "No such option: --colour")
    assert (
        result.stderr == "prodready: error: No such option: --colour (see prodready new --help)\n"
    )
    assert snapshot(workdir) == {}


def test_missing_destination_argument(cli: Cli, workdir: Path) -> None:
    result = cli("new", "--defaults", cwd=workdir)

    assert_single_error(result, 2, "Missing argument")
    assert snapshot(workdir) == {}
