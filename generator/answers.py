"""Answers given on the command line (`--set KEY=VALUE`) or in a YAML answers file."""

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .errors import CliError
from .questions import Questionnaire
from .yamlfile import read_yaml_file


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
    content = read_yaml_file(path, what="answers file")
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
