"""A template's questions, read with copier, and the checks an answer passes before copier runs."""

import json
import re
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import copier
import yaml

from .errors import CliError, copier_errors_reported

_JINJA_MARKERS = ("{{", "{%")
_FALSE_WORDS = frozenset({"", "0", "false", "f", "no", "n", "off", "null", "none", "~"})
_BOOL_WORDS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}
_EXPECTED_TEXT = {
    "int": "an integer",
    "float": "a number",
    "bool": "true/false/yes/no/1/0",
    "yaml": "a YAML value",
    "json": "a JSON value",
}
_INFERABLE_TYPES = frozenset({"str", "int", "float", "bool"})
_TEXT_TYPES = frozenset({"str", "path"})
MAX_ANSWER_CHARS = 4096
"""No question needs more; a longer answer is a mistake (or an attack) and is refused early."""


def _is_jinja(value: object) -> bool:
    return isinstance(value, str) and any(marker in value for marker in _JINJA_MARKERS)


def _is_literally_false(value: object) -> bool:
    """Whether a `when:` is a fixed false (copier's boolean words), not a Jinja condition."""
    if isinstance(value, str):
        return not _is_jinja(value) and value.strip().lower() in _FALSE_WORDS
    return value is False


@dataclass(frozen=True)
class Question:
    """One question as the template declares it (defaults and choices unrendered)."""

    name: str
    type: str
    default: Any
    """The raw default: a derived one stays the Jinja expression it is computed from."""
    choices: list[Any] | str
    """The allowed values, or the Jinja expression when the template computes them."""
    choice_labels: list[str]
    """What the template calls each choice (the value itself when it gives no label)."""
    help: str
    multiselect: bool
    conditional: bool
    """Asked only when a Jinja `when:` holds, so whether it needs an answer depends on others."""

    @classmethod
    def from_copier(cls, name: str, details: Mapping[str, Any]) -> "Question":
        default = details.get("default")
        choices = _choices(details.get("choices", []))
        return cls(
            name=name,
            type=details.get("type") or _type_of_default(default),
            default=default,
            choices=choices if isinstance(choices, str) else [value for _, value in choices],
            choice_labels=[] if isinstance(choices, str) else [label for label, _ in choices],
            help=str(details.get("help", "")).strip(),
            multiselect=bool(details.get("multiselect", False)),
            conditional=_is_jinja(details.get("when")),
        )

    def parse(self, text: str) -> Any:
        """Cast a command-line value to the question's type, as copier would store it."""
        try:
            match self.type:
                case "int":
                    return int(text)
                case "float":
                    return float(text)
                case "bool":
                    return _BOOL_WORDS[text.strip().lower()]
                case "yaml":
                    return yaml.safe_load(text)
                case "json":
                    return json.loads(text)
                case _:
                    # str, path, or a type the template computes: copier casts those itself.
                    return text
        except (ValueError, KeyError, yaml.YAMLError) as error:
            raise CliError(
                f"{self.name} expects {_EXPECTED_TEXT[self.type]}, not {text!r}"
            ) from error

    def derived_from(self, names: Iterable[str]) -> list[str]:
        """The questions among `names` a Jinja default is computed from ([] for a fixed one)."""
        if not _is_jinja(self.default):
            return []
        used = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", self.default))
        return [name for name in names if name in used and name != self.name]

    def coerce(self, value: Any) -> Any:
        """Bring a value from the command line or a YAML file to the type the question holds.

        Anything else is refused rather than passed on: copier would take `gitops: 5` or
        `gitops: [a]` as true, and a list as a project name.
        """
        if isinstance(value, str):
            if len(value) > MAX_ANSWER_CHARS:
                raise CliError(f"{self.name} is longer than {MAX_ANSWER_CHARS} characters")
            return self.parse(value)
        if self.type in ("yaml", "json"):
            return value
        if (
            self.type in _TEXT_TYPES
            and isinstance(value, int | float)
            and not isinstance(value, bool)
        ):
            # YAML reads `python_version: 3.12` as a number; copier would store the text.
            return str(value)
        if self.type == "bool" and (isinstance(value, bool) or value in (0, 1)):
            return bool(value)
        if self.type == "int" and isinstance(value, int) and not isinstance(value, bool):
            return value
        if self.type == "float" and isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        if self.type not in _EXPECTED_TEXT and self.type not in _TEXT_TYPES:
            return value  # a type the template computes: copier casts and checks it
        expected = "text" if self.type in _TEXT_TYPES else _EXPECTED_TEXT[self.type]
        raise CliError(f"{self.name} expects {expected}, not {_shown(value)}")

    def check_choice(self, value: Any) -> None:
        """Refuse a value outside a fixed list of choices (computed choices are copier's job)."""
        if self.multiselect or isinstance(self.choices, str) or not self.choices:
            return
        allowed = [self.coerce(choice) for choice in self.choices]
        if value not in allowed:
            listed = ", ".join(str(choice) for choice in allowed)
            raise CliError(f"{self.name} must be one of {listed}, not {value!r}")


def _type_of_default(default: Any) -> str:
    """The type copier gives a question without `type:`, from its default's Python type."""
    name = type(default).__name__
    return name if name in _INFERABLE_TYPES else "yaml"


def _shown(value: Any) -> str:
    """A value as the user wrote it in YAML, short enough for one error line."""
    text = json.dumps(value, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def _choices(choices: Any) -> list[tuple[str, Any]] | str:
    """(label, value) behind copier's choice forms: a list, [label, value] pairs, {label: value}."""
    if isinstance(choices, str):
        return choices
    pairs = choices.items() if isinstance(choices, Mapping) else choices
    labelled = []
    for choice in pairs:
        label, value = choice if isinstance(choice, list | tuple) else (choice, choice)
        # The extended form {label: {value: ..., validator: ...}} can disable a choice.
        value = value["value"] if isinstance(value, Mapping) else value
        labelled.append((str(label), value))
    return labelled


@dataclass(frozen=True)
class Questionnaire:
    """The questions a user may answer; computed values (`when: false`) are not among them."""

    questions: Mapping[str, Question]
    computed: frozenset[str]

    @classmethod
    def from_copier(cls, questions_data: Mapping[str, Mapping[str, Any]]) -> "Questionnaire":
        computed = {
            name
            for name, details in questions_data.items()
            if _is_literally_false(details.get("when", True))
        }
        return cls(
            questions={
                name: Question.from_copier(name, details)
                for name, details in questions_data.items()
                if name not in computed
            },
            computed=frozenset(computed),
        )

    def question(self, name: str) -> Question:
        """The question called `name`, or an error that lists the ones there are."""
        if name in self.questions:
            return self.questions[name]
        valid = ", ".join(self.questions)
        if name in self.computed:
            raise CliError(
                f"{name} is computed by the template and cannot be set; the questions are: {valid}"
            )
        raise CliError(f"unknown question {name!r}; the questions are: {valid}")

    def check(self, name: str, value: Any) -> Any:
        """An answer coerced to its question's type, once its name and choice are valid."""
        question = self.question(name)
        coerced = question.coerce(value)
        question.check_choice(coerced)
        return coerced

    def unanswered(self, answers: Iterable[str]) -> list[str]:
        """Questions copier would have to ask (conditional ones may turn out not to be asked)."""
        given = set(answers)
        return [
            name
            for name, question in self.questions.items()
            if name not in given and not question.conditional
        ]


def load_questionnaire(src_path: str, vcs_ref: str | None = None) -> Questionnaire:
    """Read a template's questions the way copier does (includes, clones, `_subdirectory`...)."""
    with warnings.catch_warnings():
        # Copier has no public API for reading a template's questions. Worker is the handle its
        # own CLI uses; it warns that it is internal, which the <10 pin in pyproject makes safe.
        warnings.simplefilter("ignore", DeprecationWarning)
        worker_class = copier.Worker
    with copier_errors_reported(), worker_class(src_path=src_path, vcs_ref=vcs_ref) as worker:
        return Questionnaire.from_copier(worker.template.questions_data)
