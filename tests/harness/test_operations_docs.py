"""The generated operations documents (docs/, docs/runbooks/) match the project they describe.

Copier only, no install. For the matrix's option sets and for the delivery and observability
options on and off: every alert of every PrometheusRule under k8s/ has its runbook, with the five
sections in order, and its runbook_url points at it; every runbook has its alert; links, anchors
and the file paths the documents cite exist in the rendered project; nothing is left unrendered;
and the architecture diagram shows the components the options chose.
"""

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from .conftest import OPTION_SETS, render

RUNBOOK_SECTIONS = ["Meaning", "Impact", "Diagnosis", "Mitigation", "Escalation"]
# Besides the matrix (python_version x database), the options that change what the documents say.
ALL_ON = {"gitops": True, "canary": True, "external_secrets": True}
OBSERVABILITY_ON = {"tracing": True, "error_tracking": True}
DOCS_OPTION_SETS = {
    **OPTION_SETS,
    **{
        f"database={database},{','.join(options)}": {"database": database, **options}
        for database in ("sqlite", "postgresql")
        for options in (
            {**ALL_ON, **OBSERVABILITY_ON},
            {"canary": True},
            {"external_secrets": True, "tracing": True},
        )
    },
}
# In the diagram iff the option is on (the database is checked on its own).
DIAGRAM_COMPONENTS = {
    "gitops": "Argo CD",
    "canary": "Argo Rollouts",
    "external_secrets": "External Secrets",
    "tracing": "OTLP collector",
    "error_tracking": "Sentry",
}
FENCE = re.compile(r"^```.*?^```", flags=re.MULTILINE | re.DOTALL)
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
INLINE_CODE = re.compile(r"`([^`\n]+)`")
# A path the documents cite as `k8s/...`, `src/...`: must exist. Placeholders (<env>) are skipped.
CITED_PATH = re.compile(r"^(?:k8s|src|docs|tests|migrations|compose)/[\w./-]*$")


# What each rendered project was given, for options the answers file may not record.
_GIVEN: dict[Path, dict[str, Any]] = {}


@pytest.fixture(scope="session", params=list(DOCS_OPTION_SETS), ids=list(DOCS_OPTION_SETS))
def rendered(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    destination = tmp_path_factory.mktemp("docs") / "service"
    render(destination, DOCS_OPTION_SETS[request.param])
    _GIVEN[destination] = DOCS_OPTION_SETS[request.param]
    return destination


def answers_of(project: Path) -> dict[str, Any]:
    answers: dict[str, Any] = yaml.safe_load((project / ".copier-answers.yml").read_text())
    return {**answers, **_GIVEN.get(project, {})}


def alert_rules(project: Path) -> dict[str, dict[str, Any]]:
    """{alert name: rule} of every PrometheusRule document in the rendered k8s/."""
    rules: dict[str, dict[str, Any]] = {}
    for path in sorted((project / "k8s").rglob("*.y*ml")):
        for document in yaml.safe_load_all(path.read_text()):
            if not isinstance(document, dict) or document.get("kind") != "PrometheusRule":
                continue
            for group in document["spec"]["groups"]:
                for rule in group["rules"]:
                    if "alert" in rule:
                        assert rule["alert"] not in rules, f"{rule['alert']} defined twice"
                        rules[rule["alert"]] = rule
    return rules


def markdown_files(project: Path) -> list[Path]:
    return sorted((project / "docs").rglob("*.md"))


def prose(text: str) -> str:
    """The text outside fenced code blocks."""
    return FENCE.sub("", text)


def sections(text: str) -> list[tuple[str, str]]:
    """[(title, body)] of the `## ` sections, in order."""
    parts = re.split(r"^## (.+)$", prose(text), flags=re.MULTILINE)
    return list(zip(parts[1::2], parts[2::2], strict=True))


def anchors(text: str) -> set[str]:
    """GitHub's heading ids: lowercase, punctuation dropped, spaces to hyphens."""
    headings = re.findall(r"^#+ (.+)$", prose(text), flags=re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-") for heading in headings}


def test_every_alert_has_a_runbook_with_the_five_sections(rendered: Path) -> None:
    alerts = alert_rules(rendered)
    assert alerts, "no PrometheusRule with an alert under k8s/: nothing to hold the runbooks to"
    for name in alerts:
        runbook = rendered / "docs" / "runbooks" / f"{name}.md"
        assert runbook.is_file(), f"{name} has no runbook"
        found = sections(runbook.read_text())
        assert [title for title, _ in found] == RUNBOOK_SECTIONS, name
        empty = [title for title, body in found if not body.strip()]
        assert empty == [], (name, empty)


def test_every_runbook_url_points_at_its_runbook(rendered: Path) -> None:
    alerts = alert_rules(rendered)
    assert alerts
    for name, rule in alerts.items():
        assert rule["labels"]["severity"] in {"page", "ticket"}, name
        assert rule["annotations"]["runbook_url"].endswith(f"/docs/runbooks/{name}.md"), name


def test_every_runbook_belongs_to_an_alert(rendered: Path) -> None:
    runbooks = {path.stem for path in (rendered / "docs" / "runbooks").glob("*.md")} - {"README"}
    assert runbooks - set(alert_rules(rendered)) == set()


def test_the_index_and_each_runbook_give_the_rules_severity(rendered: Path) -> None:
    alerts = alert_rules(rendered)
    index = (rendered / "docs" / "runbooks" / "README.md").read_text()
    rows = re.findall(r"^\| \[(\w+)\]\(\1\.md\) \|.*\| (\w+) \|$", index, flags=re.MULTILINE)
    assert dict(rows) == {name: rule["labels"]["severity"] for name, rule in alerts.items()}
    for name, rule in alerts.items():
        runbook = (rendered / "docs" / "runbooks" / f"{name}.md").read_text()
        assert re.findall(r"Severity `(\w+)`", runbook) == [rule["labels"]["severity"]], name


def test_every_relative_link_and_anchor_resolves(rendered: Path) -> None:
    broken = []
    for document in markdown_files(rendered):
        for link in LINK.findall(prose(document.read_text())):
            if re.match(r"^[a-z]+:", link):
                continue
            target, _, anchor = link.partition("#")
            path = (document.parent / target).resolve() if target else document
            unknown_anchor = bool(anchor) and path.suffix == ".md"
            if not path.exists() or (unknown_anchor and anchor not in anchors(path.read_text())):
                broken.append((document.name, link))
    assert broken == []


def test_every_cited_path_exists(rendered: Path) -> None:
    missing = []
    for document in markdown_files(rendered):
        if document.name == "production-readiness.md":
            continue  # it also names what is planned; test_readiness_report.py checks its evidence
        for code in INLINE_CODE.findall(prose(document.read_text())):
            if not CITED_PATH.match(code):
                continue
            path = rendered / code
            # A git-ignored file the user creates from its committed example (secrets.env).
            if not path.exists() and not path.with_name(path.name + ".example").exists():
                missing.append((document.name, code))
    assert missing == []


def test_nothing_is_left_unrendered(rendered: Path) -> None:
    leftovers = [
        path.name
        for path in markdown_files(rendered)
        if "{{" in path.read_text() or "{%" in path.read_text()
    ]
    assert leftovers == []


def test_the_architecture_diagram_shows_the_chosen_components(rendered: Path) -> None:
    answers = answers_of(rendered)
    architecture = (rendered / "docs" / "architecture.md").read_text()
    diagrams = re.findall(r"^```mermaid\n(.*?)^```", architecture, re.MULTILINE | re.DOTALL)
    assert len(diagrams) == 1
    diagram = diagrams[0]
    names = {"postgresql": "PostgreSQL", "sqlite": "SQLite"}
    chosen = names.pop(answers["database"])
    (other,) = names.values()
    assert chosen in diagram
    assert other not in diagram
    for option, component in DIAGRAM_COMPONENTS.items():
        assert (component in diagram) == bool(answers.get(option)), option


def test_team_stubs_say_what_to_fill_in(rendered: Path) -> None:
    for name in ("on-call.md", "escalation.md"):
        assert "TO FILL IN" in (rendered / "docs" / name).read_text(), name
    recovery = (rendered / "docs" / "disaster-recovery.md").read_text()
    assert recovery.count("TO BE DECIDED") >= 2  # RTO and RPO
