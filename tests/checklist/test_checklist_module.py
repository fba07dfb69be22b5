"""prodready.checklist: what the loader refuses, where it looks, and what it renders."""

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from prodready.checklist import (
    ACTION_KINDS,
    Checklist,
    ChecklistError,
    checklist_json,
    checklist_table,
    count,
    find_checklist,
    load_checklist,
    parse_checklist,
    summary,
)
from prodready.errors import CliError

VALID: dict[str, Any] = {
    "areas": {"SEC": "Security", "OPS": "Operations"},
    "options": {"database": "available", "auth": "planned"},
    "items": [
        {
            "id": "SEC-01",
            "title": "Security headers",
            "area": "SEC",
            "kind": "code",
            "option": None,
            "status": "done",
            "sources": ["000:7"],
            "evidence": ["src/{package}/security_headers.py"],
            "verifier": ["make test"],
        },
        {
            "id": "SEC-02",
            "title": "Per-user rate limit",
            "area": "SEC",
            "kind": "code",
            "option": "auth",
            "status": "planned",
            "sources": ["003:42"],
            "target": {"operator": "<=", "value": 200, "unit": "ms"},
            "alternatives": [{"operator": "<=", "value": 500, "unit": "ms"}],
        },
        {
            "id": "OPS-01",
            "title": "On-call rotation",
            "area": "OPS",
            "kind": "org",
            "option": None,
            "status": "planned",
            "sources": ["000:71"],
            "action": "Write the on-call rotation in docs/on-call.md: who is primary each week.",
        },
    ],
}
FIXTURES = Path(__file__).parent / "fixtures"
ACTION_MISSING = "org, doc and partial items need an action saying what the team must still do"


def problems_with(change: dict[str, Any], item: int = 0) -> str:
    """The loader's message for VALID with `change` applied to one item (None removes a key)."""
    document = copy.deepcopy(VALID)
    for key, value in change.items():
        if value is None:
            document["items"][item].pop(key)
        else:
            document["items"][item][key] = value
    with pytest.raises(ChecklistError) as raised:
        parse_checklist(document)
    return raised.value.message


def test_a_valid_document_loads() -> None:
    checklist = parse_checklist(VALID)
    assert [item.id for item in checklist.items] == ["SEC-01", "SEC-02", "OPS-01"]
    assert str(checklist.items[0].sources[0]) == "000:7"
    assert str(checklist.items[1].target) == "<= 200 ms"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"kind": "library"}, "SEC-01: kind 'library' is not one of code, config, ci, doc, org"),
        ({"status": "don"}, "SEC-01: status 'don' is not one of done, harness, partial, planned"),
        ({"id": "SEC-5"}, "id must look like SEC-05"),
        ({"id": "OPS-09"}, "id prefix 'OPS' differs from its area 'SEC'"),
        ({"area": "XXX", "id": "XXX-01"}, "area 'XXX' is not declared under areas"),
        ({"sources": ["3:7"]}, "source '3:7' is not a quoted '<seed>:<line>'"),
        ({"sources": [307]}, "source 307 is not a quoted"),
        ({"sources": ["000:71"]}, "source 000:71 is cited 2 times"),
        ({"verifier": []}, "a done item needs evidence and a verifier"),
        ({"verifier": ["pytest"]}, "verifier 'pytest' is not tests/"),
        ({"evidence": ["../secrets"]}, "evidence '../secrets' is not a relative path"),
        ({"evidence": ["/etc/passwd"]}, "evidence '/etc/passwd' is not a relative path"),
        ({"option": "kubernetes"}, "option 'kubernetes' is not declared under options"),
        ({"option": "auth"}, "cannot be done while its option 'auth' is only planned"),
        ({"option": "auth!=none"}, "cannot be done while its option 'auth' is only planned"),
        ({"option": "cache=redis"}, "option 'cache' is not declared under options"),
        ({"option": "auth=="}, "option 'auth==' is not a question, name=value or name!=value"),
        ({"status": "partial"}, "a partial item needs a note"),
        ({"sources": []}, "an item no seed asks for needs a note"),
        ({"owner": "me"}, "unknown key 'owner'"),
        ({"option": None, "title": None}, "missing 'option'"),
        ({"title": "x" * 73}, "title must be non-empty and at most 72 characters"),
        ({"area": ["SEC"]}, "area must be a string"),
    ],
)
def test_the_loader_refuses(change: dict[str, Any], message: str) -> None:
    assert message in problems_with(change)


@pytest.mark.parametrize(
    ("option", "answers", "applies"),
    [
        (None, {}, True),
        ("tracing", {"tracing": True}, True),
        ("tracing", {"tracing": False}, False),
        ("database", {"database": "sqlite"}, True),  # a choice is always made
        ("auth=local", {"auth": "local"}, True),
        ("auth=local", {"auth": "oidc"}, False),
        ("auth=local", {}, False),
        ("auth!=none", {"auth": "oidc"}, True),
        ("auth!=none", {"auth": "none"}, False),
        ("auth!=none", {}, False),  # not asked: applies nowhere
        ("python_version=3.12", {"python_version": "3.12"}, True),
    ],
)
def test_an_option_condition_says_which_projects_the_item_is_for(
    option: str | None, answers: dict[str, Any], applies: bool
) -> None:
    document = copy.deepcopy(VALID)
    document["options"] |= {"tracing": "available", "python_version": "available"}
    document["items"][1]["option"] = option
    item = parse_checklist(document).items[1]
    assert item.applies_to(answers) is applies
    assert item.option_name == (option and option.split("!")[0].split("=")[0])


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"evidence": ["x.py"]}, "a planned item claims nothing"),
        (
            {"alternatives": [{"operator": "<=", "value": 100, "unit": "ms"}]},
            "alternative <= 100 ms is not looser than the target <= 200 ms",
        ),
        ({"target": None}, "alternatives need a target"),
        ({"target": {"operator": "<", "value": 1, "unit": "ms"}}, "operator '<' is not one of"),
        ({"target": {"operator": "<=", "value": True, "unit": "ms"}}, "value must be a number"),
        ({"target": {"operator": "<=", "value": 1}}, "exactly operator, value and unit"),
    ],
)
def test_the_loader_refuses_false_claims_and_targets(change: dict[str, Any], message: str) -> None:
    assert message in problems_with(change, item=1)


@pytest.mark.parametrize(
    ("item", "change"),
    [
        pytest.param(2, {"action": None}, id="org"),
        pytest.param(2, {"kind": "doc", "action": None}, id="doc"),
        pytest.param(0, {"status": "partial", "note": "no test asserts it"}, id="partial-code"),
    ],
)
def test_org_doc_and_partial_items_need_an_action(item: int, change: dict[str, Any]) -> None:
    message = problems_with(change, item=item)
    item_id = VALID["items"][item]["id"]
    assert f"{item_id}: {ACTION_MISSING}" in message


@pytest.mark.parametrize(
    ("action", "message"),
    [
        ("", "OPS-01: action must be non-empty text"),
        ("   ", "OPS-01: action must be non-empty text"),
        (42, "OPS-01: action must be non-empty text"),
        (["Write it down."], "OPS-01: action must be non-empty text"),
        ("Decide it.\n\nWrite it down.", "OPS-01: action must be a single paragraph"),
        ("Decide it.\nWrite it down.", "OPS-01: action must be a single paragraph"),
        ("Write it down.\n", "OPS-01: action must be a single paragraph"),
    ],
)
def test_an_action_is_one_non_empty_paragraph(action: object, message: str) -> None:
    problems = problems_with({"action": action}, item=2)
    assert message in problems
    assert ACTION_MISSING not in problems, "a malformed action is not also reported as missing"


def test_other_items_may_go_without_an_action_or_carry_one() -> None:
    assert set(ACTION_KINDS) == {"org", "doc"}
    checklist = parse_checklist(VALID)
    assert [item.id for item in checklist.items if item.needs_action] == ["OPS-01"]
    assert checklist.items[1].action is None
    document = copy.deepcopy(VALID)
    document["items"][1]["action"] = "Put a rate limit in front of the service at the edge."
    assert parse_checklist(document).items[1].action == document["items"][1]["action"]


def test_a_file_whose_org_item_lacks_an_action_is_refused() -> None:
    path = FIXTURES / "org_item_without_action.yml"
    with pytest.raises(ChecklistError) as raised:
        load_checklist(path)
    # The fixture is valid but for the missing action, so that is the only problem.
    assert raised.value.message == f"{path}: OPS-01: {ACTION_MISSING}"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"verifier": ["tests/harness/test_generated_project.py::test_lint_is_clean"]},
            "SEC-01: a done item needs a verifier the generated project runs itself",
        ),
        (
            {"status": "harness"},
            "SEC-01: a harness item needs evidence and a verifier among prodready's tests/...",
        ),
        (
            {"status": "harness", "evidence": None, "verifier": ["tests/test_x.py::test_y"]},
            "SEC-01: a harness item needs evidence and a verifier among prodready's tests/...",
        ),
    ],
)
def test_done_needs_a_check_of_the_project_and_harness_one_of_prodready(
    change: dict[str, Any], message: str
) -> None:
    assert message in problems_with(change)


def test_an_item_only_prodready_proves_is_harness() -> None:
    document = copy.deepcopy(VALID)
    document["items"][0].update(
        status="harness",
        verifier=["make test", "tests/harness/test_generated_project.py::test_lint_is_clean"],
    )
    item = parse_checklist(document).items[0]
    assert item.status == "harness"
    assert item.project_verifiers == ("make test",)
    assert not item.needs_action


def test_every_problem_is_reported_at_once() -> None:
    message = problems_with({"kind": "library", "status": "don"})
    assert "kind 'library'" in message
    assert "status 'don'" in message


def test_duplicate_ids_and_unused_areas_are_refused() -> None:
    document = copy.deepcopy(VALID)
    document["items"][2].update(id="SEC-01", area="SEC", sources=["000:72"])
    with pytest.raises(ChecklistError) as raised:
        parse_checklist(document)
    assert "id SEC-01 is used 2 times" in raised.value.message
    assert "area OPS has no items" in raised.value.message


def test_a_key_given_twice_in_the_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "checklist.yml"
    path.write_text("areas: {SEC: Security}\nareas: {OPS: Operations}\n", encoding="utf-8")
    with pytest.raises(ChecklistError, match="key 'areas' is given twice"):
        load_checklist(path)


def test_a_file_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "checklist.yml"
    path.write_bytes(b"areas: {SEC: S\xe9curit\xe9}\n")
    with pytest.raises(ChecklistError, match="is not UTF-8"):
        load_checklist(path)


def test_the_packaged_file_is_found_before_the_checkout(tmp_path: Path) -> None:
    packaged, checkout = tmp_path / "_template" / "checklist.yml", tmp_path / "checklist.yml"
    checkout.write_text("", encoding="utf-8")
    assert find_checklist((packaged, checkout)) == checkout
    packaged.parent.mkdir()
    packaged.write_text("", encoding="utf-8")
    assert find_checklist((packaged, checkout)) == packaged


def test_a_missing_checklist_names_where_it_looked(tmp_path: Path) -> None:
    with pytest.raises(ChecklistError, match=r"checklist\.yml is missing \(looked for .*nowhere"):
        find_checklist((tmp_path / "nowhere" / "checklist.yml",))


def test_select_filters_by_status_and_area() -> None:
    checklist = parse_checklist(VALID)
    assert [item.id for item in checklist.select(status="planned")] == ["SEC-02", "OPS-01"]
    assert [item.id for item in checklist.select(area="sec")] == ["SEC-01", "SEC-02"]
    assert [item.id for item in checklist.select(status="planned", area="OPS")] == ["OPS-01"]
    assert checklist.select() == list(checklist.items)


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        (
            {"status": "finished"},
            "unknown status 'finished': choose one of done, harness, partial, planned",
        ),
        ({"area": "nope"}, "unknown area 'NOPE': choose one of SEC, OPS"),
    ],
)
def test_select_refuses_unknown_filters(filters: dict[str, str], message: str) -> None:
    with pytest.raises(CliError) as raised:
        parse_checklist(VALID).select(**filters)
    assert raised.value.message == message


def test_counts_cover_every_kind_and_status() -> None:
    counts = count(parse_checklist(VALID).items)
    assert counts.total == 3
    assert counts.by_status == {"done": 1, "harness": 0, "partial": 0, "planned": 2}
    assert counts.by_kind == {"code": 2, "config": 0, "ci": 0, "doc": 0, "org": 1}
    assert counts.by_kind_and_status["code", "planned"] == 1


def test_json_lists_every_field_of_every_item(checklist: Checklist) -> None:
    document = json.loads(checklist_json(checklist.items))
    assert document["schema_version"] == 1
    listed = document["items"]
    assert [entry["id"] for entry in listed] == [item.id for item in checklist.items]
    assert listed == [item.as_dict() for item in checklist.items]
    sec_02 = json.loads(checklist_json(parse_checklist(VALID).items))["items"][1]
    assert sec_02["target"] == {"operator": "<=", "value": 200, "unit": "ms"}
    assert sec_02["alternatives"] == [{"operator": "<=", "value": 500, "unit": "ms"}]
    assert sec_02["sources"] == ["003:42"]
    assert sec_02["action"] is None
    ops_01 = json.loads(checklist_json(parse_checklist(VALID).items))["items"][2]
    assert ops_01["action"] == VALID["items"][2]["action"]


def test_the_table_has_a_row_per_item_and_the_counts_below(checklist: Checklist) -> None:
    table = checklist_table(checklist.items)
    assert table.row_count == len(checklist.items)
    assert table.caption == summary(checklist.items)
    expected = "3 items: 1 done, 0 harness, 0 partial, 2 planned"
    assert summary(parse_checklist(VALID).items) == expected
