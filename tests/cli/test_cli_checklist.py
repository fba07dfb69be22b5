"""`prodready checklist` shows the checklist the installed package ships, as a table or JSON."""

import json

import yaml
from cli_helpers import ERROR_PREFIX, REPO_ROOT, Cli


def _items_in_checkout() -> list[dict[str, object]]:
    items: list[dict[str, object]] = yaml.safe_load(
        (REPO_ROOT / "checklist.yml").read_text(encoding="utf-8")
    )["items"]
    return items


def test_json_lists_every_item_of_the_checklist(cli: Cli) -> None:
    result = cli("checklist", "--json")

    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["schema_version"] == 1
    listed = document["items"]
    assert [item["id"] for item in listed] == [item["id"] for item in _items_in_checkout()]


def test_filters_by_status_and_area(cli: Cli) -> None:
    expected = [
        item["id"]
        for item in _items_in_checkout()
        if item["status"] == "done" and item["area"] == "SEC"
    ]

    result = cli("checklist", "--json", "--status", "done", "--area", "SEC")

    assert result.returncode == 0, result.stderr
    assert [item["id"] for item in json.loads(result.stdout)["items"]] == expected
    assert expected, "the checkout has done security items to filter"


def test_table_shows_ids_and_statuses(cli: Cli) -> None:
    result = cli("checklist", "--status", "done", env={"COLUMNS": "200"})

    assert result.returncode == 0, result.stderr
    assert "SEC-01" in result.stdout
    rows = [line for line in result.stdout.splitlines() if line.startswith("│ ")]
    assert rows
    assert not [row for row in rows if "planned" in row]


def test_table_shows_the_evidence_and_wide_the_verifiers(cli: Cli) -> None:
    sec_01 = next(item for item in _items_in_checkout() if item["id"] == "SEC-01")
    evidence, verifier = str(sec_01["evidence"][0]), str(sec_01["verifier"][0])  # type: ignore[index]

    narrow = cli("checklist", "--area", "SEC", env={"COLUMNS": "400"})
    wide = cli("checklist", "--area", "SEC", "--wide", env={"COLUMNS": "400"})

    assert narrow.returncode == 0, narrow.stderr
    assert wide.returncode == 0, wide.stderr
    assert f"evidence: {evidence}" in narrow.stdout
    assert verifier not in narrow.stdout
    assert "Verified by" in wide.stdout
    assert evidence in wide.stdout
    assert verifier in wide.stdout


def test_unknown_status_is_one_line_and_exit_2(cli: Cli) -> None:
    result = cli("checklist", "--status", "finished")

    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"{ERROR_PREFIX}unknown status 'finished': choose one of done, harness, partial, planned"
    ]
    assert result.stdout == ""
