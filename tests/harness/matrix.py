"""The option sets the harness renders: every combination of copier.yml's choice questions.

A new option in copier.yml is a new axis here with no harness change. While the full product stays
small it is rendered whole; past MAX_FULL_PRODUCT the matrix must switch to pairwise coverage
(every pair of values in some set) instead of silently exploding CI time.
"""

import itertools
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
MAX_FULL_PRODUCT = 12


def choice_questions() -> dict[str, list[Any]]:
    questions = yaml.safe_load((REPO / "copier.yml").read_text())
    axes: dict[str, list[Any]] = {}
    for name, spec in questions.items():
        if name.startswith("_") or not isinstance(spec, dict) or "choices" not in spec:
            continue
        choices = spec["choices"]
        axes[name] = list(choices.values() if isinstance(choices, dict) else choices)
    return axes


def option_sets() -> dict[str, dict[str, Any]]:
    """{id: answers}; the id names every value, e.g. `python_version=3.12,database=postgresql`."""
    axes = choice_questions()
    combinations = list(itertools.product(*axes.values()))
    if len(combinations) > MAX_FULL_PRODUCT:
        raise RuntimeError(
            f"{len(combinations)} option combinations: switch the harness to pairwise coverage"
        )
    sets = {}
    for values in combinations:
        answers = dict(zip(axes, values, strict=True))
        sets[",".join(f"{key}={value}" for key, value in answers.items())] = answers
    return sets
