"""Answers given on the command line (`--set KEY=VALUE`) or in a YAML answers file."""

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from .errors import CliError
from .questions import Questionnaire


def parse_set_options(options: Sequence[str], questionnaire: Questionnaire) -> dict[str, Any]:
    """`--set KEY=VALUE` options as typed answers; a later option for the same key wins."""
    answers = {}
    for option in options:
        name, separator, text = option.partition("=")
        if not separator or not name.strip():
            raise CliError(f"--set expects KEY=VALUE, not {option!r}")
        try:
            answers[name.strip()] = questionnaire.check(name.strip(), text)
        except CliError as error:
            raise CliError(f"--set {option}: {error.message}") from error
    return answers


def read_answers_file(path: Path, questionnaire: Questionnaire) -> dict[str, Any]:
    """Answers from a YAML mapping; `_`-keys are skipped so `.copier-answers.yml` can be reused."""
    try:
        content = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise CliError(f"answers file {path} does not exist") from error
    except (OSError, UnicodeDecodeError) as error:
        raise CliError(f"cannot read answers file {path}: {_reason(error)}") from error
    except yaml.YAMLError as error:
        raise CliError(f"answers file {path} is not valid YAML: {_yaml_problem(error)}") from error
    if not isinstance(content, dict):
        raise CliError(f"answers file {path} must hold a mapping of question: answer")
    answers = {}
    for name, value in content.items():
        if str(name).startswith("_"):
            continue
        try:
            answers[str(name)] = questionnaire.check(str(name), value)
        except CliError as error:
            raise CliError(f"answers file {path}: {error.message}") from error
    return answers


def _reason(error: Exception) -> str:
    return error.strerror if isinstance(error, OSError) and error.strerror else str(error)


def _yaml_problem(error: yaml.YAMLError) -> str:
    if isinstance(error, yaml.MarkedYAMLError) and error.problem_mark is not None:
        return f"{error.problem} (line {error.problem_mark.line + 1})"
    return str(error)
