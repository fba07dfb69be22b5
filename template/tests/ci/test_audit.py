"""The `make audit` gate (ci/audit.py) on pip-audit's JSON reports: it passes only when every
locked package was audited and none has a known vulnerability.

The reports are pip-audit 2.10's JSON format (`--format json`): UNREACHABLE is what it wrote on a
machine whose vulnerability service did not answer (it exits 0 that way without --strict); the
others are that format with the fields pip-audit fills in for audited packages.
"""

import tomllib
from pathlib import Path

import pytest

from ci import locked
from ci.audit import Run, layers, verdict

PROJECT_ROOT = Path(__file__).resolve().parents[2]
EXPORTED = """\
aiosqlite==0.22.1 \\
    --hash=sha256:043e0bd78d32888c0a9ca90fc788b38796843360c855a7262a532813133a0650 \\
    --hash=sha256:21c002eb13823fad740196c5a2e9d8e62f6243bd9e7e4a1f87fb5e44ecb4fceb
colorama==0.4.6 ; sys_platform == 'win32' \\
    --hash=sha256:08695f5cb7ed6e0531a20572697297273c47b8cae5a63ffc6d6ed5c201be6e44
"""
PINS = locked.parse(EXPORTED)
UNREACHABLE = {
    "dependencies": [
        {
            "name": "aiosqlite",
            "skip_reason": "Dependency not found on PyPI and could not be audited: "
            "aiosqlite (0.22.1)",
        },
        {
            "name": "colorama",
            "skip_reason": "Dependency not found on PyPI and could not be audited: "
            "colorama (0.4.6)",
        },
    ],
    "fixes": [],
}
CLEAN = {
    "dependencies": [
        {"name": "aiosqlite", "version": "0.22.1", "vulns": []},
        {"name": "colorama", "version": "0.4.6", "vulns": []},
    ],
    "fixes": [],
}


def test_parse_reads_pins_markers_and_hashes() -> None:
    assert [(pin.name, pin.version, pin.marker, len(pin.hashes)) for pin in PINS] == [
        ("aiosqlite", "0.22.1", "", 2),
        ("colorama", "0.4.6", "sys_platform == 'win32'", 1),
    ]
    # What pip-audit is given: every package whatever its platform, with its hashes.
    assert PINS[1].requirement(marker=False) == (
        "colorama==0.4.6 "
        "--hash=sha256:08695f5cb7ed6e0531a20572697297273c47b8cae5a63ffc6d6ed5c201be6e44"
    )


@pytest.mark.parametrize("entry", ["fastapi>=0.1 --hash=sha256:00", "fastapi==1.0", "-e ."])
def test_parse_refuses_an_entry_without_pin_or_hash(entry: str) -> None:
    with pytest.raises(locked.ExportError, match="not a pinned, hashed requirement"):
        locked.parse(entry + "\n")


def test_the_export_lists_every_package_of_this_lock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(PROJECT_ROOT)  # uv export reads the lock of the working directory
    lock = tomllib.loads((PROJECT_ROOT / "uv.lock").read_text())
    packages = {
        (locked.normalise(package["name"]), package["version"])
        for package in lock["package"]
        if "registry" in package.get("source", {})
    }
    exported = locked.parse(locked.export("--all-extras", "--all-groups"))
    assert {(pin.name, pin.version) for pin in exported} == packages


def test_layers_hold_each_name_once() -> None:
    older = "aiosqlite==0.21.0 ; python_full_version < '3.12' --hash=sha256:0123\n"
    forked = locked.parse(EXPORTED + older)
    split = layers(forked)
    assert [[(pin.name, pin.version) for pin in layer] for layer in split] == [
        [("aiosqlite", "0.22.1"), ("colorama", "0.4.6")],
        [("aiosqlite", "0.21.0")],
    ]


def test_every_package_audited_and_clean_passes() -> None:
    assert verdict(PINS, [Run(0, CLEAN, "")]) == (
        True,
        "audit: 2 of 2 locked packages audited, no known vulnerabilities",
    )


def test_an_unreachable_service_is_a_failure_even_with_exit_0() -> None:
    passed, line = verdict(PINS, [Run(0, UNREACHABLE, "")])
    assert not passed
    assert line.startswith("audit FAILED: audited 0 of 2 locked packages; not audited: ")
    assert "could not be audited" in line


def test_no_report_is_a_failure_that_quotes_pip_audit() -> None:
    # --strict: pip-audit stops at the first package it cannot audit and writes no report.
    stderr = "ERROR:pip_audit._cli:aiosqlite: Dependency not found on PyPI and could not be audited"
    passed, line = verdict(PINS, [Run(1, None, stderr)])
    assert not passed
    assert line.startswith("audit FAILED: none of the 2 locked packages is known to be audited")
    assert "Dependency not found on PyPI" in line


def test_a_package_missing_from_the_report_fails() -> None:
    partial = {"dependencies": CLEAN["dependencies"][:1], "fixes": []}
    passed, line = verdict(PINS, [Run(0, partial, "")])
    assert not passed
    assert line == "audit FAILED: audited 1 of 2 locked packages; not audited: colorama 0.4.6"


def test_a_known_vulnerability_fails_naming_it() -> None:
    vulnerable = {
        "dependencies": [
            {
                "name": "aiosqlite",
                "version": "0.22.1",
                "vulns": [
                    {
                        "id": "PYSEC-2099-1",
                        "fix_versions": ["0.22.2"],
                        "aliases": ["CVE-2099-0001"],
                        "description": "an example",
                    }
                ],
            },
            CLEAN["dependencies"][1],
        ],
        "fixes": [],
    }
    passed, line = verdict(PINS, [Run(1, vulnerable, "")])
    assert not passed
    assert "known vulnerabilities in 1 locked packages: aiosqlite 0.22.1 (PYSEC-2099-1)" in line


def test_nothing_exported_fails() -> None:
    assert verdict([], [Run(0, {"dependencies": [], "fixes": []}, "")])[0] is False


def test_a_failed_exit_with_a_clean_report_fails() -> None:
    assert verdict(PINS, [Run(2, CLEAN, "")]) == (
        False,
        "audit FAILED: pip-audit exited 2 with a clean report",
    )
