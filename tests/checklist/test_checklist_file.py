"""The repository's checklist.yml: well-formed, and every claim it makes points at something real.

The loader already refuses malformed items (test_checklist_module.py proves it); these tests hold
the file itself to the rules and check what the loader cannot see: that verifiers and evidence
exist in this checkout, that options match copier.yml, and that the documented numbers match.
"""

import ast
import itertools
import re
import tomllib
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
import pytest
import yaml
from prodready.checklist import KINDS, STATUSES, Checklist, Item, counts_markdown

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / "template"
TEMPLATES_SUFFIX = ".jinja"
PACKAGE = "service"
"""The package name paths are rendered with: `{package}` in evidence, `{{ package_name }}` in
template/."""
DOC = REPO / "docs" / "checklist.md"
COUNTS_BLOCK = re.compile(r"<!-- counts:begin -->\n(.*?)\n<!-- counts:end -->", re.DOTALL)
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z`])")
PROJECT_DOCUMENT = re.compile(r"`((?:docs/[\w-]+(?:\.md|/))|[A-Z_]+\.md)`")
"""A document of the generated project an action sends the team to: docs/on-call.md, docs/adr/,
CONTRIBUTING.md."""
VAGUE = (
    "ensure",
    "make sure",
    "best practice",
    "good practice",
    "as needed",
    "appropriate",
    "properly",
    "etc.",
)
"""Words that let an action avoid saying what to do."""


def test_ids_are_unique_and_name_their_area(checklist: Checklist) -> None:
    ids = [item.id for item in checklist.items]
    assert len(ids) == len(set(ids))
    for item in checklist.items:
        assert re.fullmatch(rf"{item.area}-[0-9]{{2}}", item.id), item.id
        assert item.area in checklist.areas, item.id


def test_kinds_and_statuses_are_known(checklist: Checklist) -> None:
    assert {item.kind for item in checklist.items} <= set(KINDS)
    assert {item.status for item in checklist.items} <= set(STATUSES)


def test_done_items_name_evidence_and_a_verifier(checklist: Checklist) -> None:
    done = [item for item in checklist.items if item.status == "done"]
    assert done
    assert [item.id for item in done if not (item.evidence and item.verifier)] == []


def test_done_items_are_checked_by_the_generated_project_itself(checklist: Checklist) -> None:
    # `done` promises a team that its own project proves the item (a test `make test` runs, or a
    # make target). An item only prodready's harness proves is `harness`, and the report says so.
    assert [
        item.id
        for item in checklist.items
        if item.status == "done"
        and not any(verifier.startswith(("template:tests/", "make ")) for verifier in item.verifier)
    ] == []
    harness = [item for item in checklist.items if item.status == "harness"]
    assert harness
    assert [
        item.id
        for item in harness
        if not item.evidence
        or all(verifier.startswith(("template:tests/", "make ")) for verifier in item.verifier)
    ] == []


def test_org_items_are_left_to_the_team(checklist: Checklist) -> None:
    # The template can only give them a document stub saying what to decide (then they are
    # partial, the stub their evidence); only the team can finish them, so never done.
    org = [item for item in checklist.items if item.kind == "org"]
    assert [
        item.id
        for item in org
        if item.status not in ("planned", "partial") or item.option or not item.action
    ] == []


def test_items_that_leave_work_say_what_to_do(checklist: Checklist) -> None:
    needing = [item for item in checklist.items if item.needs_action]
    assert {item.kind for item in needing} >= {"org", "doc"}
    assert [item.id for item in needing if not item.action] == []


def test_actions_are_one_to_three_plain_sentences(checklist: Checklist) -> None:
    unfit = {}
    for item in checklist.items:
        if item.action is None:
            continue
        sentences = SENTENCE_END.split(item.action)
        vague = [word for word in VAGUE if word in item.action.lower()]
        if not 1 <= len(sentences) <= 3 or not item.action.endswith(".") or vague:
            unfit[item.id] = f"{len(sentences)} sentences, vague words {vague}"
        elif not item.action[0].isupper():
            unfit[item.id] = "starts in lower case"
    assert unfit == {}


def test_actions_restate_their_target(checklist: Checklist) -> None:
    # The seeds' number is what the team must meet: the action says it, not only the target field.
    missing = [
        f"{item.id} {item.target}"
        for item in checklist.items
        if item.action and item.target and str(item.target.value) not in item.action
    ]
    assert missing == []


def test_actions_send_the_team_to_documented_files(checklist: Checklist) -> None:
    # Actions name where the answer goes in the generated project; docs/checklist.md lists those
    # files, so stubs can be generated for them and two items never invent two names for one file.
    documented = set(PROJECT_DOCUMENT.findall(DOC.read_text(encoding="utf-8")))
    named = {
        path: item.id
        for item in checklist.items
        for path in PROJECT_DOCUMENT.findall(item.action or "")
    }
    assert len(named) > 10
    assert {path: item_id for path, item_id in named.items() if path not in documented} == {}


def test_the_file_holds_no_jinja_delimiters() -> None:
    # The generated docs/production-readiness.md includes checklist.yml as a Jinja template.
    text = (REPO / "checklist.yml").read_text(encoding="utf-8")
    assert [token for token in ("{{", "{%", "{#") if token in text] == []


def test_every_verifier_exists(checklist: Checklist) -> None:
    missing = {
        f"{item.id} {verifier}": reason
        for item in checklist.items
        for verifier in item.verifier
        if (reason := why_missing(verifier))
    }
    assert missing == {}


def test_every_evidence_path_exists_in_the_template(checklist: Checklist) -> None:
    # Evidence is a path of the rendered project, and the generated report lists an item (and
    # links its evidence) in every project whose answers it applies to. So each path must render
    # for every accepted combination of answers the item applies to: a file that exists only with
    # gitops (k8s/argocd/...) is evidence for an item with `option: gitops`, never for one that
    # applies to every project.
    missing = {
        f"{item.id} {path}": answers
        for item in checklist.items
        for path in item.evidence
        for answers in answer_combinations()
        if applies(item, answers)
        and path.replace("{package}", PACKAGE) not in rendered_paths(frozen(answers))
    }
    assert missing == {}


def test_evidence_lookup_follows_the_options() -> None:
    without, with_gitops = (
        next(a for a in answer_combinations() if a["gitops"] is gitops and not a["canary"])
        for gitops in (False, True)
    )
    assert "k8s/argocd/applications.yaml" in rendered_paths(frozen(with_gitops))
    assert "k8s/argocd/applications.yaml" not in rendered_paths(frozen(without))
    assert "k8s/argocd" not in rendered_paths(frozen(without))
    for answers in (without, with_gitops):
        paths = rendered_paths(frozen(answers))
        assert {"Dockerfile", ".copier-answers.yml", f"src/{PACKAGE}/settings.py"} <= paths
        assert not any(path.endswith(TEMPLATES_SUFFIX) or "{" in path for path in paths)
        postgresql = answers["database"] == "postgresql"
        assert ("k8s/base/migration-job.yaml" in paths) is postgresql
    # copier.yml's validator refuses gitops without external_secrets: no such combination.
    assert not [a for a in answer_combinations() if a["gitops"] and not a["external_secrets"]]


def test_available_options_are_the_template_questions(checklist: Checklist) -> None:
    questions = yaml.safe_load((REPO / "copier.yml").read_text(encoding="utf-8"))
    asked = {
        name
        for name, spec in questions.items()
        if not name.startswith("_") and isinstance(spec, dict) and spec.get("when") is not False
    }
    available = {name for name, state in checklist.options.items() if state == "available"}
    planned = {name for name, state in checklist.options.items() if state == "planned"}
    assert available <= asked
    assert planned & asked == set(), "copier.yml asks it now: mark the option available"


def test_an_option_condition_names_a_choice_the_question_offers(checklist: Checklist) -> None:
    questions = yaml.safe_load((REPO / "copier.yml").read_text(encoding="utf-8"))
    offered = {}
    for name, spec in questions.items():
        if isinstance(spec, dict) and "choices" in spec:
            choices = spec["choices"]
            offered[name] = {
                str(c) for c in (choices.values() if isinstance(choices, dict) else choices)
            }
    conditions = [item for item in checklist.items if item.option and "=" in item.option]
    assert conditions, "no item uses a condition: this test would check nothing"
    wrong = [
        item.id
        for item in conditions
        if item.option_name not in offered
        or item.option.rsplit("=", 1)[1] not in offered[item.option_name]  # type: ignore[union-attr]
    ]
    assert wrong == []


def test_every_option_is_needed_by_an_item(checklist: Checklist) -> None:
    used = {item.option_name for item in checklist.items}
    assert set(checklist.options) - used == set()


def test_coverage_target_is_the_generated_gate(checklist: Checklist) -> None:
    coverage = {item.id: item for item in checklist.items}["TEST-02"]
    pyproject = tomllib.loads((TEMPLATE / "pyproject.toml.jinja").read_text(encoding="utf-8"))
    assert coverage.target is not None
    assert coverage.target.value == pyproject["tool"]["coverage"]["report"]["fail_under"]


def test_the_documented_counts_match_the_file(checklist: Checklist) -> None:
    block = COUNTS_BLOCK.search(DOC.read_text(encoding="utf-8"))
    assert block, f"{DOC} has no <!-- counts:begin --> ... <!-- counts:end --> block"
    assert block.group(1) == counts_markdown(checklist.items), (
        "docs/checklist.md is out of date: regenerate the block with the command it gives"
    )


def why_missing(verifier: str) -> str | None:
    """Why the verifier does not exist in this checkout, or None when it does."""
    if verifier.startswith("make "):
        target = verifier.removeprefix("make ")
        return None if target in make_targets() else "no such target in template/Makefile.jinja"
    location, _, node = verifier.partition("::")
    test_name = node.split("[", 1)[0]  # a parametrized id names its function before the bracket
    if location.startswith("template:"):
        path = template_path(location.removeprefix("template:"))
    else:
        path = REPO / location if (REPO / location).is_file() else None
    if path is None:
        return f"{location} does not exist"
    if test_name not in module_functions(path):
        return f"{path.relative_to(REPO)} defines no function {test_name}"
    return None


@cache
def answer_combinations() -> tuple[dict[str, Any], ...]:
    """Every combination of copier.yml's choice and yes/no questions its validators accept
    (computed once: each is checked against every validator, and every evidence path asks)."""
    questions = copier_questions()
    axes: dict[str, list[Any]] = {}
    for name, spec in questions.items():
        if name.startswith("_") or not isinstance(spec, dict) or spec.get("when") is False:
            continue
        if "choices" in spec:
            choices = spec["choices"]
            axes[name] = list(choices.values() if isinstance(choices, dict) else choices)
        elif spec.get("type") == "bool":
            axes[name] = [False, True]
    environment = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False)  # noqa: S701
    combinations = []
    for values in itertools.product(*axes.values()):
        answers = dict(zip(axes, values, strict=True))
        refusals = [
            environment.from_string(questions[name].get("validator", "")).render(answers).strip()
            for name in axes
        ]
        if not any(refusals):
            combinations.append(answers)
    return tuple(combinations)


@cache
def copier_questions() -> dict[str, Any]:
    questions: dict[str, Any] = yaml.safe_load((REPO / "copier.yml").read_text(encoding="utf-8"))
    return questions


def applies(item: Item, answers: dict[str, Any]) -> bool:
    """Whether the generated report lists the item for these answers (its option was chosen).

    An option copier.yml does not ask yet applies nowhere; its items' evidence, if any, must
    still exist, so it is checked against every combination.
    """
    return item.option_name not in answers or item.applies_to(answers)


def frozen(answers: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    return tuple(sorted(answers.items()))


@cache
def template_files() -> list[tuple[Path, list[jinja2.Template | str]]]:
    """Each template file with its path's parts, the templated ones compiled once for every
    answer combination that renders them."""
    environment = jinja2.Environment(autoescape=False)  # noqa: S701
    files = []
    for template in sorted(TEMPLATE.rglob("*")):
        if not template.is_file():
            continue
        relative = template.relative_to(TEMPLATE).as_posix().removesuffix(TEMPLATES_SUFFIX)
        parts: list[jinja2.Template | str] = [
            environment.from_string(part) if "{" in part else part for part in relative.split("/")
        ]
        files.append((template, parts))
    return files


@cache
def rendered_files(answers: tuple[tuple[str, Any], ...]) -> dict[str, Path]:
    """{rendered path: template file} of the files copier renders for these answers."""
    context = {
        **dict(answers),
        "package_name": PACKAGE,
        "_copier_conf": {"answers_file": ".copier-answers.yml"},
    }
    files = {}
    for template, parts in template_files():
        names = [part if isinstance(part, str) else part.render(context) for part in parts]
        if all(names):
            files["/".join(names)] = template
    return files


@cache
def rendered_paths(answers: tuple[tuple[str, Any], ...]) -> frozenset[str]:
    """The files and directories copier renders from template/ for these answers, as copier names
    them: the `.jinja` suffix dropped, then each part rendered, and a part that renders empty
    (`{% if gitops %}argocd{% endif %}` without gitops) leaving the path out."""
    paths: set[str] = set()
    for path in rendered_files(answers):
        parts = path.split("/")
        paths.update("/".join(parts[:end]) for end in range(1, len(parts) + 1))
    return frozenset(paths)


def template_path(relative: str) -> Path | None:
    """The template file that renders to `relative` for some accepted answers: the path itself,
    with .jinja, or a conditional name (`{% if tracing %}test_tracing.py{% endif %}.jinja`)."""
    for candidate in (TEMPLATE / relative, TEMPLATE / f"{relative}.jinja"):
        if candidate.exists():
            return candidate
    for answers in answer_combinations():
        if (found := rendered_files(frozen(answers)).get(relative)) is not None:
            return found
    return None


def module_functions(path: Path) -> set[str]:
    source = path.read_text(encoding="utf-8")
    if path.suffix == ".jinja":
        # Test modules use Jinja for the package name and database-specific blocks; any one
        # rendering is Python that defines the same test functions.
        source = jinja2.Template(source).render(package_name="service", database="sqlite")
    return {
        node.name
        for node in ast.parse(source).body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    }


def make_targets() -> set[str]:
    makefile = (TEMPLATE / "Makefile.jinja").read_text(encoding="utf-8")
    return set(re.findall(r"^([A-Za-z][\w-]*):(?!=)", makefile, re.MULTILINE))


@pytest.mark.parametrize(
    "verifier",
    [
        "make lint",
        "template:tests/test_health.py::test_readiness_checks_the_database",
        "tests/test_repository.py::test_pre_commit_configs_are_valid[x.yaml]",
    ],
)
def test_verifier_lookup_finds_what_exists(verifier: str) -> None:
    assert why_missing(verifier) is None


@pytest.mark.parametrize(
    ("verifier", "reason"),
    [
        ("make teleport", "no such target in template/Makefile.jinja"),
        ("template:tests/test_health.py::test_nothing", "defines no function test_nothing"),
        ("template:tests/test_absent.py::test_x", "template:tests/test_absent.py does not exist"),
        ("tests/test_repository.py::test_nothing", "defines no function test_nothing"),
    ],
)
def test_verifier_lookup_tells_what_is_missing(verifier: str, reason: str) -> None:
    assert reason in (why_missing(verifier) or "")
