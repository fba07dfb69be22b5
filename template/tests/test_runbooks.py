"""Every alert has its runbook, and every runbook its alert.

Why: the alert rules (PrometheusRules under k8s/) and docs/runbooks/ change in different pull
requests; without this test they drift apart, and a page at night links a runbook that is missing,
or no longer says what the alert means. Each runbook has the same five sections, in order, so the
on-call engineer always finds "what do I do" in the same place.
"""

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
RUNBOOKS = ROOT / "docs" / "runbooks"
SECTIONS = ["Meaning", "Impact", "Diagnosis", "Mitigation", "Escalation"]
FENCE = re.compile(r"^```.*?^```", flags=re.MULTILINE | re.DOTALL)


def alert_rules() -> dict[str, dict[str, Any]]:
    """{alert name: rule} of every PrometheusRule document under k8s/."""
    rules: dict[str, dict[str, Any]] = {}
    for path in sorted((ROOT / "k8s").rglob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if not isinstance(document, dict) or document.get("kind") != "PrometheusRule":
                continue
            for group in document["spec"]["groups"]:
                for rule in group["rules"]:
                    if "alert" in rule:
                        rules[rule["alert"]] = rule
    return rules


ALERTS = alert_rules()


def sections(runbook: Path) -> list[tuple[str, str]]:
    """[(title, body)] of the runbook's `## ` sections, code blocks left out."""
    text = FENCE.sub("", runbook.read_text(encoding="utf-8"))
    parts = re.split(r"^## (.+)$", text, flags=re.MULTILINE)
    return list(zip(parts[1::2], parts[2::2], strict=True))


def test_the_rules_define_alerts() -> None:
    assert ALERTS, "no PrometheusRule with an alert under k8s/"


@pytest.mark.parametrize("name", sorted(ALERTS))
def test_every_alert_has_a_runbook_with_the_five_sections(name: str) -> None:
    runbook = RUNBOOKS / f"{name}.md"
    assert runbook.is_file(), f"docs/runbooks/{name}.md is missing"
    found = sections(runbook)
    assert [title for title, _ in found] == SECTIONS
    assert [title for title, body in found if not body.strip()] == []


@pytest.mark.parametrize("name", sorted(ALERTS))
def test_every_alert_links_its_runbook(name: str) -> None:
    rule = ALERTS[name]
    assert rule["labels"]["severity"] in {"page", "ticket"}
    assert rule["annotations"]["runbook_url"].endswith(f"/docs/runbooks/{name}.md")


def test_every_runbook_has_its_alert() -> None:
    runbooks = {path.stem for path in RUNBOOKS.glob("*.md")} - {"README"}
    assert runbooks - set(ALERTS) == set()
