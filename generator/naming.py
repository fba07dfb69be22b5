"""The project name `prodready new` takes from its destination, unless one is given.

`prodready new billing-api` should make the billing-api service (slug billing-api, package
billing_api), not a "My Service" in a directory called billing-api. The destination's name becomes
the default of the template's `project_name` question, so copier's validators judge it like any
answer; when they refuse it, the error says it came from the destination and how to give a name.
"""

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .errors import CliError
from .questions import Questionnaire

NAME_QUESTION = "project_name"
# Questions whose defaults the shipped template derives from the project name.
_NAMED_AFTER_IT = (NAME_QUESTION, "project_slug", "package_name")
_VALIDATION_ERROR = re.compile(
    r"Validation error for question '(?P<question>\w+)': (?P<reason>.*)", re.DOTALL
)


def name_from_destination(
    destination: Path, questionnaire: Questionnaire, answers: Mapping[str, Any]
) -> dict[str, str]:
    """The default to give copier for the project name: the destination's name, unless answered."""
    if NAME_QUESTION not in questionnaire.questions or NAME_QUESTION in answers:
        return {}
    return {NAME_QUESTION: destination.name}


@contextmanager
def destination_name_explained(
    user_defaults: Mapping[str, Any], answers: Mapping[str, Any]
) -> Iterator[None]:
    """Say so when the name refused is the one taken from the destination."""
    try:
        yield
    except CliError as error:
        refused = _VALIDATION_ERROR.match(error.message)
        if NAME_QUESTION not in user_defaults or refused is None:
            raise
        question = refused["question"]
        if question not in _NAMED_AFTER_IT or question in answers:
            raise
        raise CliError(
            f"the project name {user_defaults[NAME_QUESTION]!r} comes from the destination's "
            f"name and is refused: {refused['reason']}; choose one with --set {NAME_QUESTION}=NAME",
            error.exit_code,
        ) from error
