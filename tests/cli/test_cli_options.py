"""`prodready options` lists the questions users can answer, with their choices."""

import json
from pathlib import Path

import yaml
from cli_helpers import REPO_ROOT, Cli, make_typed_template


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
    listing = json.loads(result.stdout)
    by_name = {entry["name"]: entry for entry in listing}
    assert [entry["name"] for entry in listing] == _askable_questions()
    assert "python_tag" not in by_name
    assert all(set(entry) == {"name", "type", "default", "choices", "help"} for entry in listing)
    assert by_name["python_version"]["choices"] == ["3.11", "3.12", "3.13"]
    # Labelled choices ({label: value}) are listed by the value --set takes.
    assert by_name["database"]["choices"] == ["sqlite", "postgresql"]
    assert by_name["project_name"]["choices"] == []
    assert by_name["project_slug"]["default"].startswith("{{ project_name")
    assert by_name["project_name"]["help"]


def test_table_names_every_question(cli: Cli) -> None:
    result = cli("options", env={"COLUMNS": "200"})

    assert result.returncode == 0, result.stderr
    for name in _askable_questions():
        assert name in result.stdout
    assert "sqlite, postgresql" in result.stdout


def test_template_option_reads_that_templates_questions(cli: Cli, tmp_path: Path) -> None:
    template = make_typed_template(tmp_path / "typed")

    result = cli("options", "--json", "--template", template)

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [
        {
            "name": "port",
            "type": "int",
            "default": 8000,
            "choices": [],
            "help": "Port to listen on",
        },
        {"name": "debug", "type": "bool", "default": False, "choices": [], "help": ""},
        {"name": "tags", "type": "yaml", "default": [], "choices": [], "help": ""},
        {"name": "colour", "type": "str", "default": "red", "choices": ["red", "blue"], "help": ""},
    ]
