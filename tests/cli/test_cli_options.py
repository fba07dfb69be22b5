"""`prodready options` lists the questions users can answer, with their choices."""

import json
from pathlib import Path

import yaml
from cli_helpers import REPO_ROOT, Cli, make_typed_template

QUESTION_FIELDS = {"name", "type", "default", "derived_from", "choices", "choice_labels", "help"}


def _askable_questions() -> list[str]:
    """The questions of the repository's copier.yml that are asked (not `when: false`)."""
    config = yaml.safe_load((REPO_ROOT / "copier.yml").read_text(encoding="utf-8"))
    return [
        name
        for name, details in config.items()
        if not name.startswith("_")
        and not (isinstance(details, dict) and details.get("when") is False)
    ]


def test_json_lists_every_question_with_its_choices(cli: Cli) -> None:
    result = cli("options", "--json")

    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["schema_version"] == 1
    assert document["template"] == "the prodready template"
    listing = document["questions"]
    by_name = {entry["name"]: entry for entry in listing}
    assert [entry["name"] for entry in listing] == _askable_questions()
    assert "python_tag" not in by_name
    assert all(set(entry) == QUESTION_FIELDS for entry in listing)
    assert by_name["python_version"]["choices"] == ["3.11", "3.12", "3.13"]
    # Labelled choices ({label: value}) are listed by the value --set takes, labels beside.
    assert by_name["database"]["choices"] == ["sqlite", "postgresql"]
    assert by_name["database"]["choice_labels"] == [
        "SQLite (file, no server)",
        "PostgreSQL (asyncpg)",
    ]
    assert by_name["project_name"]["choices"] == []
    assert by_name["project_name"]["derived_from"] == []
    assert by_name["project_slug"]["default"].startswith("{{ project_name")
    assert by_name["project_slug"]["derived_from"] == ["project_name"]
    assert by_name["repository_url"]["derived_from"] == ["project_slug", "container_registry"]
    assert by_name["project_name"]["help"]


def test_table_says_defaults_in_words_and_labels_choices(cli: Cli) -> None:
    result = cli("options", env={"COLUMNS": "200"})

    assert result.returncode == 0, result.stderr
    for name in _askable_questions():
        assert name in result.stdout
    assert "sqlite: SQLite (file, no server)" in result.stdout
    assert "postgresql: PostgreSQL (asyncpg)" in result.stdout
    assert "3.11" in result.stdout
    assert "derived from project_name" in result.stdout
    assert "derived from gitops" in result.stdout
    assert "{{" not in result.stdout
    assert "False" not in result.stdout  # booleans as they are typed: false


def test_template_option_reads_that_templates_questions(cli: Cli, tmp_path: Path) -> None:
    template = make_typed_template(tmp_path / "typed")

    result = cli("options", "--json", "--template", template)

    assert result.returncode == 0, result.stderr
    plain = {"derived_from": [], "choices": [], "choice_labels": [], "help": ""}
    assert json.loads(result.stdout)["questions"] == [
        {**plain, "name": "port", "type": "int", "default": 8000, "help": "Port to listen on"},
        {**plain, "name": "debug", "type": "bool", "default": False},
        {**plain, "name": "tags", "type": "yaml", "default": []},
        {
            **plain,
            "name": "colour",
            "type": "str",
            "default": "red",
            "choices": ["red", "blue"],
            "choice_labels": ["Red", "Blue"],
        },
    ]
