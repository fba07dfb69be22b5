"""docs/production-readiness.md, rendered for each option set, only claims what exists."""

import ast
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from generator.checklist import load_checklist

from .conftest import OPTION_SETS, render
from .matrix import REPO

REPORT = Path("docs") / "production-readiness.md"
# Besides the matrix: every delivery and observability option on, so the items that depend on
# them are reported too.
REPORT_OPTION_SETS = {
    **OPTION_SETS,
    "database=postgresql,gitops,canary,external_secrets,tracing,error_tracking": {
        "database": "postgresql",
        "gitops": True,
        "canary": True,
        "external_secrets": True,
        "tracing": True,
        "error_tracking": True,
    },
}
MARKDOWN_LINK = re.compile(r"\]\(([^)]+)\)")


def checklist() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((REPO / "checklist.yml").read_text(encoding="utf-8"))
    return loaded


def answers_of(project: Path) -> dict[str, Any]:
    answers: dict[str, Any] = yaml.safe_load((project / ".copier-answers.yml").read_text())
    return answers


def applicable_items(project: Path) -> list[dict[str, Any]]:
    answers = answers_of(project)
    listed = {item.id for item in load_checklist().items if item.applies_to(answers)}
    return [item for item in checklist()["items"] if item["id"] in listed]


def defines_test(path: Path, name: str) -> bool:
    function = name.split("[", 1)[0]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return any(
        isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == function
        for node in ast.walk(tree)
    )


def make_targets(project: Path) -> set[str]:
    makefile = (project / "Makefile").read_text()
    return set(re.findall(r"^([a-z][a-z-]*):", makefile, flags=re.MULTILINE))


@pytest.fixture(scope="session", params=list(REPORT_OPTION_SETS), ids=list(REPORT_OPTION_SETS))
def rendered(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    destination = tmp_path_factory.mktemp("report") / "service"
    render(destination, REPORT_OPTION_SETS[request.param])
    return destination


def test_report_lists_exactly_the_items_that_apply(rendered: Path) -> None:
    report = (rendered / REPORT).read_text()
    listed = set(re.findall(r"^\| ([A-Z][A-Z0-9]*-\d+) \|", report, flags=re.MULTILINE))
    expected = {item["id"] for item in applicable_items(rendered)}
    assert listed == expected
    counts = {
        status: sum(item["status"] == status for item in applicable_items(rendered))
        for status in ("done", "harness", "partial", "planned")
    }
    assert (
        f"{len(expected)} items apply: {counts['done']} done, {counts['harness']} verified by "
        f"prodready's harness only, {counts['partial']} partial, {counts['planned']} planned."
        in report
    )


def test_items_only_prodready_checks_say_so(rendered: Path) -> None:
    # `done` in this report means the project's own tests or make targets prove the item.
    rows = {
        row.split(" | ")[0].removeprefix("| "): row
        for row in (rendered / REPORT).read_text().splitlines()
        if re.match(r"\| [A-Z][A-Z0-9]*-\d+ \|", row)
    }
    harness = [item for item in applicable_items(rendered) if item["status"] == "harness"]
    assert harness
    for item in harness:
        assert " | verified by prodready's harness only | " in rows[item["id"]], item["id"]
        assert "prodready's harness: `tests/" in rows[item["id"]], item["id"]
    for item in applicable_items(rendered):
        if item["status"] == "done":
            assert "| done |" in rows[item["id"]]
            assert any(
                verifier.startswith(("template:tests/", "make ")) for verifier in item["verifier"]
            ), item["id"]


def test_every_relative_link_resolves(rendered: Path) -> None:
    report = (rendered / REPORT).read_text()
    links = [link for link in MARKDOWN_LINK.findall(report) if "://" not in link]
    assert len(links) > 20
    missing = [link for link in links if not (rendered / REPORT.parent / link).resolve().exists()]
    assert missing == []


def test_claimed_evidence_and_verifiers_exist_in_the_project(rendered: Path) -> None:
    # Every item the report lists with evidence or a verifier (done, harness or partial) points
    # at files of this rendered project: template: verifiers at a test file that defines the
    # function, make verifiers at a target of its Makefile; prodready's own tests at this checkout.
    package = answers_of(rendered)["package_name"]
    targets = make_targets(rendered)
    claiming = [item for item in applicable_items(rendered) if item["status"] != "planned"]
    assert {item["status"] for item in claiming} == {"done", "harness", "partial"}
    missing = []
    for item in claiming:
        for evidence in item.get("evidence", []):
            if not (rendered / evidence.replace("{package}", package)).exists():
                missing.append((item["id"], evidence))
        for verifier in item.get("verifier", []):
            if verifier.startswith("make "):
                if verifier.split()[1] not in targets:
                    missing.append((item["id"], verifier))
                continue
            where, base = (
                (verifier[len("template:") :], rendered)
                if verifier.startswith("template:")
                else (verifier, REPO)
            )
            path, name = where.split("::", 1)
            if not (base / path).is_file() or not defines_test(base / path, name):
                missing.append((item["id"], verifier))
    assert missing == []


@pytest.mark.parametrize("kind", ["org", "doc"])
def test_team_actions_are_spelled_out(rendered: Path, kind: str) -> None:
    report = (rendered / REPORT).read_text()
    for item in applicable_items(rendered):
        if item["kind"] == kind and item["status"] != "done":
            assert f"- [ ] **{item['id']}** {item['title']}: {item['action']}" in report
