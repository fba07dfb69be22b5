"""The production-readiness checklist (checklist.yml): loaded, validated, filtered and rendered.

Why data: the checklist is what every generated service is held to. As a file it can be printed
(`prodready checklist`), counted in docs/checklist.md and checked by tests (every seed line is
mapped; every verifier and piece of evidence exists). Validation is strict and reports every
problem at once: a status typo or a key given twice that slipped through would overstate what
the template does, which is the one thing this file must never do.
"""

import re
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from rich.table import Table
from rich.text import Text

from .errors import FAILED, CliError
from .jsonout import json_document

KINDS = ("code", "config", "ci", "doc", "org")
"""code: the service's behaviour; config: a generated file; ci: a workflow job; doc: a generated
document; org: something only the team can do (the template gives it a document stub)."""

STATUSES = ("done", "harness", "partial", "planned")
"""done: met, and a check the generated project runs itself proves it; harness: met, but only
prodready's own harness proves it (the project holds the evidence, not the check); partial: part
is met, the note says what is missing; planned: nothing is claimed."""
ACTION_KINDS = ("org", "doc")
"""Kinds whose items always leave the team something to do, so they need an `action` (as does every
partial item): the generated docs/production-readiness.md lists each action as a task."""
OPTION_STATES = ("available", "planned")
OPERATORS = ("<=", ">=")
"""Targets are inclusive bounds: `<= 200 ms` for latencies, `>= 90 %` for coverage."""

MAX_TITLE_LENGTH = 72

PACKAGED_CHECKLIST = Path(__file__).parent / "_template" / "checklist.yml"
"""Where the wheel build puts the file (beside the shipped template)."""
CHECKOUT_CHECKLIST = Path(__file__).parent.parent / "checklist.yml"
"""Where it lives in a source checkout, beside copier.yml."""

_REQUIRED_KEYS = ("id", "title", "area", "kind", "option", "status", "sources")
_OPTIONAL_KEYS = ("evidence", "verifier", "target", "alternatives", "note", "action")
_TOP_LEVEL_KEYS = ("areas", "options", "items")
_TARGET_KEYS = frozenset({"operator", "value", "unit"})

_AREA = re.compile(r"[A-Z][A-Z0-9]*")
_ID = re.compile(r"(?P<area>[A-Z][A-Z0-9]*)-[0-9]{2}")
_SOURCE = re.compile(r"(?P<seed>[0-9]{3}):(?P<line>[1-9][0-9]*)")
_VERIFIER = re.compile(r"(template:)?tests/[\w./-]+\.py::\w+(\[[^\]]+\])?|make [a-z][\w-]*")
# An item's option: a question, or a condition on a choice's value (auth=local, auth!=none).
_OPTION = re.compile(r"(?P<name>[a-z][a-z0-9_]*)(?:(?P<operator>!?=)(?P<value>[\w.-]+))?")
_PATH_PART = re.compile(r"\{package\}|(?!\.\.?$)[\w.-]+")  # dot-files yes, "." and ".." no

_STATUS_STYLES = {"done": "green", "harness": "cyan", "partial": "yellow", "planned": "dim"}

Report = Callable[[str], None]
"""Adds one problem, prefixed with the item it concerns."""


class ChecklistError(CliError):
    """checklist.yml is missing, unreadable or breaks the format."""

    def __init__(self, message: str) -> None:
        super().__init__(message, FAILED)


@dataclass(frozen=True)
class SeedLine:
    """One line of a seed checklist, written `003:14` (seed file prefix, 1-based line number)."""

    seed: str
    line: int

    def __str__(self) -> str:
        return f"{self.seed}:{self.line}"


@dataclass(frozen=True)
class Target:
    operator: str
    value: int | float | str
    unit: str

    def __str__(self) -> str:
        return f"{self.operator} {self.value} {self.unit}"

    def as_dict(self) -> dict[str, Any]:
        return {"operator": self.operator, "value": self.value, "unit": self.unit}


@dataclass(frozen=True)
class Item:
    id: str
    title: str
    area: str
    kind: str
    option: str | None
    status: str
    sources: tuple[SeedLine, ...]
    evidence: tuple[str, ...] = ()
    verifier: tuple[str, ...] = ()
    target: Target | None = None
    alternatives: tuple[Target, ...] = ()
    note: str | None = None
    action: str | None = None
    """What the team still has to do: one paragraph, required when `needs_action`."""

    @property
    def option_name(self) -> str | None:
        """The copier question `option` depends on: `auth` in `auth`, `auth=local`, `auth!=none`."""
        match = _OPTION.fullmatch(self.option or "")
        return match["name"] if match else self.option

    def applies_to(self, answers: Mapping[str, Any]) -> bool:
        """Whether a project with these answers is held to the item (its report lists it).

        `option` is null (every project), a question (answered yes, or any choice), `name=value`
        (that choice) or `name!=value` (any other choice).
        """
        match = _OPTION.fullmatch(self.option or "")
        if match is None:  # null (load_checklist refuses any other form)
            return True
        name, operator, value = match["name"], match["operator"], match["value"]
        if operator == "=":
            return name in answers and str(answers[name]) == value
        if operator == "!=":
            return name in answers and str(answers[name]) != value
        return bool(answers.get(name))

    @property
    def project_verifiers(self) -> tuple[str, ...]:
        """The verifiers the generated project runs itself: its own tests and make targets."""
        return tuple(verifier for verifier in self.verifier if runs_in_project(verifier))

    @property
    def needs_action(self) -> bool:
        """Org and doc items, and partial ones: the team (or a later release) has work left."""
        return self.kind in ACTION_KINDS or self.status == "partial"

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "area": self.area,
            "kind": self.kind,
            "option": self.option,
            "status": self.status,
            "sources": [str(source) for source in self.sources],
            "evidence": list(self.evidence),
            "verifier": list(self.verifier),
            "target": self.target.as_dict() if self.target else None,
            "alternatives": [alternative.as_dict() for alternative in self.alternatives],
            "note": self.note,
            "action": self.action,
        }


def runs_in_project(verifier: str) -> bool:
    """`template:tests/...::name` and `make X` run in the generated project; `tests/...` are
    prodready's own tests, which run only in prodready's CI."""
    return verifier.startswith(("template:", "make "))


@dataclass(frozen=True)
class Checklist:
    areas: Mapping[str, str]
    """Area code -> what it covers, in the file's order."""
    options: Mapping[str, str]
    """Copier option -> `available` (a question today) or `planned`."""
    items: tuple[Item, ...]

    def select(self, *, status: str | None = None, area: str | None = None) -> list[Item]:
        """The items with this status and in this area (either may be None: no filter)."""
        if status is not None and status not in STATUSES:
            raise CliError(f"unknown status {status!r}: choose one of {', '.join(STATUSES)}")
        if area is not None:
            area = area.upper()
            if area not in self.areas:
                raise CliError(f"unknown area {area!r}: choose one of {', '.join(self.areas)}")
        return [
            item
            for item in self.items
            if (status is None or item.status == status) and (area is None or item.area == area)
        ]


@dataclass(frozen=True)
class Counts:
    total: int
    by_kind: dict[str, int]
    """Every kind, in KINDS order, zeros included."""
    by_status: dict[str, int]
    """Every status, in STATUSES order, zeros included."""
    by_kind_and_status: dict[tuple[str, str], int]


def count(items: Iterable[Item]) -> Counts:
    pairs = Counter((item.kind, item.status) for item in items)
    return Counts(
        total=sum(pairs.values()),
        by_kind={kind: sum(pairs[kind, status] for status in STATUSES) for kind in KINDS},
        by_status={status: sum(pairs[kind, status] for kind in KINDS) for status in STATUSES},
        by_kind_and_status={
            (kind, status): pairs[kind, status] for kind in KINDS for status in STATUSES
        },
    )


def summary(items: Sequence[Item]) -> str:
    """`249 items: 30 done, 28 harness, 23 partial, 168 planned`."""
    counts = count(items)
    by_status = ", ".join(f"{number} {status}" for status, number in counts.by_status.items())
    return f"{counts.total} items: {by_status}"


def counts_markdown(items: Sequence[Item]) -> str:
    """The summary line and a kind-by-status table, as docs/checklist.md shows them."""
    counts = count(items)
    lines = [
        f"{summary(items)}.",
        "",
        f"| kind | {' | '.join(STATUSES)} | total |",
        f"| --- |{' ---: |' * (len(STATUSES) + 1)}",
    ]
    for kind in KINDS:
        cells = [str(counts.by_kind_and_status[kind, status]) for status in STATUSES]
        lines.append(f"| {kind} | {' | '.join(cells)} | {counts.by_kind[kind]} |")
    totals = [str(number) for number in counts.by_status.values()]
    lines.append(f"| total | {' | '.join(totals)} | {counts.total} |")
    return "\n".join(lines)


def checklist_json(items: Sequence[Item]) -> str:
    return json_document(items=[item.as_dict() for item in items])


def checklist_table(items: Sequence[Item], *, wide: bool = False) -> Table:
    """A row per item; what proves it under the title, or (`wide`) in columns of its own."""
    table = Table(title="Production-readiness checklist", caption=summary(items))
    table.add_column("ID", no_wrap=True)
    table.add_column("Title", ratio=2, overflow="fold")
    table.add_column("Kind", no_wrap=True)
    table.add_column("Status", no_wrap=True)
    table.add_column("Option")
    if wide:
        table.add_column("Evidence", ratio=1, overflow="fold")
        table.add_column("Verified by", ratio=1, overflow="fold")
    for item in items:
        # Text, not str: square brackets in a title are text, not rich markup.
        title = Text(item.title)
        if item.target:
            # Under the title rather than in a column of its own, so 80 columns still fit.
            title.append(f"\ntarget {item.target}", style="dim")
        if item.evidence and not wide:
            title.append(f"\nevidence: {', '.join(item.evidence)}", style="dim")
        proof = [Text("\n".join(item.evidence)), Text("\n".join(item.verifier))] if wide else []
        table.add_row(
            Text(item.id),
            title,
            Text(item.kind),
            Text(item.status, style=_STATUS_STYLES[item.status]),
            Text(item.option or ""),
            *proof,
        )
    return table


def find_checklist(candidates: Sequence[Path] = (PACKAGED_CHECKLIST, CHECKOUT_CHECKLIST)) -> Path:
    """The first candidate that exists: the installed package's copy before a checkout's."""
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    looked = " and ".join(str(candidate) for candidate in candidates)
    raise ChecklistError(f"checklist.yml is missing (looked for {looked})")


def load_checklist(path: Path | None = None) -> Checklist:
    """Read and validate checklist.yml (found with `find_checklist` when no path is given)."""
    path = path or find_checklist()
    try:
        text = path.read_bytes().decode("utf-8")
        document = yaml.load(text, Loader=_StrictLoader)  # noqa: S506 (a SafeLoader subclass)
    except OSError as error:
        raise ChecklistError(f"cannot read {path}: {error.strerror or error}") from error
    except UnicodeDecodeError as error:
        raise ChecklistError(
            f"{path} is not UTF-8: {error.reason} at byte {error.start}"
        ) from error
    except yaml.YAMLError as error:
        raise ChecklistError(f"{path} is not valid YAML: {' '.join(str(error).split())}") from error
    return parse_checklist(document, source=str(path))


def parse_checklist(document: object, *, source: str = "checklist.yml") -> Checklist:
    """Validate a loaded document; every problem is reported in one ChecklistError."""
    problems: list[str] = []
    if not isinstance(document, dict):
        raise ChecklistError(f"{source}: expected a mapping with {', '.join(_TOP_LEVEL_KEYS)}")
    problems += [f"unknown top-level key {key!r}" for key in document if key not in _TOP_LEVEL_KEYS]
    areas = _string_mapping(document.get("areas"), "areas", problems)
    problems += [
        f"area {area!r} is not upper-case letters and digits"
        for area in areas
        if not _AREA.fullmatch(area)
    ]
    options = _string_mapping(document.get("options"), "options", problems)
    problems += [
        f"option {name!r} has state {state!r}, not one of {', '.join(OPTION_STATES)}"
        for name, state in options.items()
        if state not in OPTION_STATES
    ]
    raw_items = document.get("items")
    if not isinstance(raw_items, list) or not raw_items:
        problems.append("items must be a non-empty list")
        raw_items = []
    items = [
        item
        for position, raw in enumerate(raw_items, 1)
        if (item := _parse_item(raw, position, areas, options, problems)) is not None
    ]
    problems += _cross_item_problems(items, areas)
    if problems:
        raise ChecklistError(f"{source}: " + "; ".join(problems))
    return Checklist(areas=areas, options=options, items=tuple(items))


def _string_mapping(value: object, name: str, problems: list[str]) -> dict[str, str]:
    if not isinstance(value, dict) or not value:
        problems.append(f"{name} must be a non-empty mapping")
        return {}
    if not all(isinstance(key, str) and isinstance(text, str) for key, text in value.items()):
        problems.append(f"{name} must map names to strings")
        return {}
    return dict(value)


def _parse_item(
    raw: object,
    position: int,
    areas: Mapping[str, str],
    options: Mapping[str, str],
    problems: list[str],
) -> Item | None:
    """The item, or None after adding to `problems` everything wrong with it."""
    if not isinstance(raw, dict):
        problems.append(f"item #{position} is not a mapping")
        return None
    name = raw["id"] if isinstance(raw.get("id"), str) else f"item #{position}"
    found = len(problems)

    def report(text: str) -> None:
        problems.append(f"{name}: {text}")

    for key in raw:
        if key not in _REQUIRED_KEYS + _OPTIONAL_KEYS:
            report(f"unknown key {key!r}")
    for key in _REQUIRED_KEYS:
        if key not in raw:
            report(f"missing {key!r}")
    for key in ("id", "title", "area", "kind", "status"):
        if key in raw and not isinstance(raw[key], str):
            report(f"{key} must be a string")
    if raw.get("option") is not None and not isinstance(raw["option"], str):
        report("option must be a string or null")
    if len(problems) > found:
        return None

    item = Item(
        id=raw["id"],
        title=raw["title"],
        area=raw["area"],
        kind=raw["kind"],
        option=raw["option"],
        status=raw["status"],
        sources=_sources(raw["sources"], report),
        evidence=_strings(raw.get("evidence", []), "evidence", report),
        verifier=_strings(raw.get("verifier", []), "verifier", report),
        target=_target(raw["target"], "target", report) if "target" in raw else None,
        alternatives=tuple(
            alternative
            for value in _list(raw.get("alternatives", []), "alternatives", report)
            if (alternative := _target(value, "alternative", report)) is not None
        ),
        note=_note(raw.get("note"), report),
        action=_action(raw["action"], report) if "action" in raw else None,
    )
    _check_fields(item, areas, options, report)
    _check_claims(item, has_target="target" in raw, has_action="action" in raw, report=report)
    return item if len(problems) == found else None


def _check_fields(
    item: Item, areas: Mapping[str, str], options: Mapping[str, str], report: Report
) -> None:
    match = _ID.fullmatch(item.id)
    if match is None:
        report("id must look like SEC-05 (area, hyphen, two digits)")
    elif match["area"] != item.area:
        report(f"id prefix {match['area']!r} differs from its area {item.area!r}")
    if not item.title.strip() or len(item.title) > MAX_TITLE_LENGTH:
        report(f"title must be non-empty and at most {MAX_TITLE_LENGTH} characters")
    if item.area not in areas:
        report(f"area {item.area!r} is not declared under areas")
    if item.kind not in KINDS:
        report(f"kind {item.kind!r} is not one of {', '.join(KINDS)}")
    if item.status not in STATUSES:
        report(f"status {item.status!r} is not one of {', '.join(STATUSES)}")
    name = item.option_name
    if item.option is not None and not _OPTION.fullmatch(item.option):
        report(f"option {item.option!r} is not a question, name=value or name!=value")
    elif name is not None and name not in options:
        report(f"option {name!r} is not declared under options")
    elif name is not None and options[name] == "planned" and item.status == "done":
        report(f"cannot be done while its option {name!r} is only planned")
    for path in item.evidence:
        if not all(_PATH_PART.fullmatch(part) for part in path.split("/")):
            report(f"evidence {path!r} is not a relative path inside the project")
    for command in item.verifier:
        if not _VERIFIER.fullmatch(command):
            report(
                f"verifier {command!r} is not tests/...::name, template:tests/...::name or make X"
            )


def _check_claims(item: Item, *, has_target: bool, has_action: bool, report: Report) -> None:
    """What each status may claim, what the team is told to do, and that a target's alternatives
    are the looser values."""
    if item.status == "done" and not (item.evidence and item.verifier):
        report("a done item needs evidence and a verifier")
    elif item.status == "done" and not item.project_verifiers:
        report(
            "a done item needs a verifier the generated project runs itself (template:tests/..."
            " or make X); one proven only by prodready's tests/... is `harness`"
        )
    if item.status == "harness" and not (
        item.evidence and len(item.project_verifiers) < len(item.verifier)
    ):
        report("a harness item needs evidence and a verifier among prodready's tests/...")
    if item.status == "planned" and (item.evidence or item.verifier):
        report("a planned item claims nothing: no evidence, no verifier")
    if item.status == "partial" and item.note is None:
        report("a partial item needs a note saying what is missing")
    if not item.sources and item.note is None:
        report("an item no seed asks for needs a note saying why it is here")
    if item.needs_action and not has_action:
        report("org, doc and partial items need an action saying what the team must still do")
    if item.alternatives and not has_target:
        report("alternatives need a target")
    elif item.target is not None:
        for alternative in item.alternatives:
            if not _is_looser(alternative, item.target):
                report(f"alternative {alternative} is not looser than the target {item.target}")


def _list(value: object, name: str, report: Report) -> list[Any]:
    if not isinstance(value, list):
        report(f"{name} must be a list")
        return []
    return value


def _strings(value: object, name: str, report: Report) -> tuple[str, ...]:
    values = _list(value, name, report)
    if not all(isinstance(entry, str) and entry for entry in values):
        report(f"{name} must hold non-empty strings")
        return ()
    return tuple(values)


def _note(value: object, report: Report) -> str | None:
    if value is not None and (not isinstance(value, str) or not value.strip()):
        report("note must be non-empty text")
        return None
    return value


def _action(value: object, report: Report) -> str | None:
    """One paragraph on one line: the report makes it a single Markdown task line."""
    if not isinstance(value, str) or not value.strip():
        report("action must be non-empty text")
        return None
    if len(value.splitlines()) > 1 or value != value.strip():
        report("action must be a single paragraph without line breaks (fold it with >-)")
        return None
    return value


def _sources(value: object, report: Report) -> tuple[SeedLine, ...]:
    lines = []
    for entry in _list(value, "sources", report):
        match = _SOURCE.fullmatch(entry) if isinstance(entry, str) else None
        if match is None:
            report(f"source {entry!r} is not a quoted '<seed>:<line>' such as '003:14'")
        else:
            lines.append(SeedLine(match["seed"], int(match["line"])))
    return tuple(lines)


def _target(value: object, name: str, report: Report) -> Target | None:
    if not isinstance(value, dict) or set(value) != _TARGET_KEYS:
        report(f"{name} must be a mapping of exactly operator, value and unit")
        return None
    operator, number, unit = value["operator"], value["value"], value["unit"]
    if operator not in OPERATORS:
        report(f"{name} operator {operator!r} is not one of {', '.join(OPERATORS)}")
        return None
    # bool is an int in Python, but `value: yes` is a typo, not a bound.
    if isinstance(number, bool) or not isinstance(number, int | float | str) or number == "":
        report(f"{name} value must be a number (or a grade such as A)")
        return None
    if not isinstance(unit, str) or not unit.strip():
        report(f"{name} unit must be non-empty text")
        return None
    return Target(operator, number, unit)


def _is_looser(alternative: Target, target: Target) -> bool:
    """Whether `alternative` accepts more than `target` (the looser value some seed accepts)."""
    if alternative.operator != target.operator or alternative.unit != target.unit:
        return False
    if isinstance(alternative.value, str) or isinstance(target.value, str):
        return False  # Grades have no order here; a graded target takes no alternatives.
    if target.operator == "<=":
        return alternative.value > target.value
    return alternative.value < target.value


def _cross_item_problems(items: Sequence[Item], areas: Mapping[str, str]) -> list[str]:
    problems = []
    ids = Counter(item.id for item in items)
    problems += [
        f"id {item_id} is used {times} times" for item_id, times in ids.items() if times > 1
    ]
    # A seed line maps to exactly one item: two items citing it means a merge was missed.
    cited = Counter(source for item in items for source in item.sources)
    problems += [
        f"source {line} is cited {times} times" for line, times in cited.items() if times > 1
    ]
    used_areas = {item.area for item in items}
    problems += [f"area {area} has no items" for area in areas if items and area not in used_areas]
    return problems


class _StrictLoader(yaml.SafeLoader):
    """A SafeLoader that refuses a key given twice in one mapping (PyYAML keeps the last)."""


def _mapping_without_duplicate_keys(
    loader: _StrictLoader, node: yaml.MappingNode
) -> dict[Hashable, Any]:
    seen: set[Hashable] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"key {key!r} is given twice", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node)


_StrictLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_without_duplicate_keys
)
