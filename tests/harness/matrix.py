"""The option sets the harness renders: pairwise coverage of copier.yml's code-affecting options.

The axes are every question with `choices` (python_version, database, auth) and every bool question
except the manifest-only ones (MANIFEST_ONLY: test_manifests.py renders every combination of those
without an install). Rendering the full product would grow by a factor with every option
(3 x 2 x 3 x 2 x 2 = 72 installs today); instead the sets cover every PAIR of values of any two axes
(python_version=3.13 with tracing=true, database=postgresql with error_tracking=false, ...), which
is where most option interactions show. The sets are chosen by a small deterministic greedy
generator: the default answers first, then, as long as a pair is uncovered, the combination that
covers the most uncovered pairs (the first in product order on a tie). Today that is 9 sets, the
minimum for two 3-valued axes (python_version and auth). A new choice or bool question becomes an
axis here with no harness change.

Ids name every value, `python_version=3.11,database=sqlite,auth=local,tracing=false,...`.
pytest's -k grammar refuses `=`, so select by values: each python_version x auth pair is in
exactly one set, and `-k "3.11 and local"` picks the default set, `-k "3.12 and oidc"` another
(printed by `pytest tests/harness --collect-only -q`).
"""

import itertools
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
# Bool questions that only change k8s/ manifests: test_manifests.py covers all their combinations.
MANIFEST_ONLY = frozenset({"gitops", "canary", "external_secrets"})


def _questions() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((REPO / "copier.yml").read_text())
    return {
        name: spec
        for name, spec in loaded.items()
        if not name.startswith("_") and isinstance(spec, dict) and spec.get("when") is not False
    }


def choice_questions() -> dict[str, list[Any]]:
    axes: dict[str, list[Any]] = {}
    for name, spec in _questions().items():
        if "choices" in spec:
            choices = spec["choices"]
            axes[name] = list(choices.values() if isinstance(choices, dict) else choices)
    return axes


def axes() -> dict[str, list[Any]]:
    """Each code-affecting option and its values, in copier.yml's order."""
    found = choice_questions()
    for name, spec in _questions().items():
        if spec.get("type") == "bool" and name not in MANIFEST_ONLY:
            found[name] = [False, True]
    return found


def default_answers() -> dict[str, Any]:
    """The default of every axis (literal values in copier.yml, not templates)."""
    questions = _questions()
    return {name: questions[name]["default"] for name in axes()}


def pairwise(axes: dict[str, list[Any]], first: dict[str, Any]) -> list[dict[str, Any]]:
    """Combinations covering every pair of values of any two axes, starting with `first`."""
    names = list(axes)

    def pairs(answers: dict[str, Any]) -> set[tuple[tuple[str, Any], tuple[str, Any]]]:
        return {((a, answers[a]), (b, answers[b])) for a, b in itertools.combinations(names, 2)}

    uncovered = {
        ((a, x), (b, y))
        for a, b in itertools.combinations(names, 2)
        for x in axes[a]
        for y in axes[b]
    }
    candidates = [
        dict(zip(names, values, strict=True)) for values in itertools.product(*axes.values())
    ]
    chosen = [first]
    uncovered -= pairs(first)
    while uncovered:
        best = max(candidates, key=lambda answers: len(pairs(answers) & uncovered))
        chosen.append(best)
        uncovered -= pairs(best)
    return chosen


def _id_value(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def option_sets() -> dict[str, dict[str, Any]]:
    """{id: answers}; the id names every value (`python_version=3.12,database=postgresql,...`)."""
    sets = {}
    for answers in pairwise(axes(), default_answers()):
        sets[",".join(f"{key}={_id_value(value)}" for key, value in answers.items())] = answers
    return sets
