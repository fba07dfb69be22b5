"""`make audit`: pip-audit on every package uv.lock pins, failing unless each one was audited.

pip-audit that cannot reach its vulnerability service may report "No known vulnerabilities found"
and exit 0 having audited nothing. So this gate compares pip-audit's own JSON report with the
export: it passes only when every locked package appears there as audited, with no vulnerability.
Anything else (no report, a skipped package, a missing one, a known vulnerability) ends with one
line saying so and a non-zero exit.

What is audited: the whole lock, every extra and the dev group too (the CI tools run where the
repository's tokens are), each package whatever platform it is for (markers dropped: a
Windows-only wheel is still something this lock lets a developer install). pip never runs
(--disable-pip): the pins and hashes are the lock's, checked again by uv at install time.
"""

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ci import locked

BUILD = Path("build/audit")
SELECTION = ("--all-extras", "--all-groups")


@dataclass(frozen=True)
class Run:
    """One pip-audit run: its exit status, its JSON report (None if it wrote none), its stderr."""

    returncode: int
    report: dict[str, Any] | None
    stderr: str


def layers(pins: list[locked.Pinned]) -> list[list[locked.Pinned]]:
    """The pins in as few lists as hold each name once: pip-audit refuses a name twice in one run,
    which a lock forked by Python version or platform has (one version per fork)."""
    found: list[list[locked.Pinned]] = []
    for pin in pins:
        layer = next((names for names in found if all(p.name != pin.name for p in names)), None)
        if layer is None:
            found.append(layer := [])
        layer.append(pin)
    return found


def verdict(pins: list[locked.Pinned], runs: list[Run]) -> tuple[bool, str]:
    """(passed, the one line to print) for the exported pins and pip-audit's runs over them."""
    expected = {(pin.name, pin.version) for pin in pins}
    if not expected:
        return False, "audit FAILED: uv export listed no package, so nothing was audited"
    reports = [run.report for run in runs if run.report is not None]
    for run in runs:
        if run.report is None:
            last = (run.stderr.strip().splitlines() or ["(no output)"])[-1]
            return False, (
                f"audit FAILED: none of the {len(expected)} locked packages is known to be "
                f"audited: pip-audit exited {run.returncode} without a report ({last[:300]}). "
                "Its vulnerability service must answer: a scan that audited nothing is not a pass"
            )
    dependencies = [dep for report in reports for dep in report["dependencies"]]
    vulnerable = [
        f"{dep['name']} {dep['version']} ({', '.join(v['id'] for v in dep['vulns'])})"
        for dep in dependencies
        if dep.get("vulns")
    ]
    if vulnerable:
        return False, (
            f"audit FAILED: known vulnerabilities in {len(vulnerable)} locked packages: "
            + "; ".join(vulnerable)
            + " (upgrade them: uv lock --upgrade-package NAME)"
        )
    audited = {
        (locked.normalise(dep["name"]), dep["version"])
        for dep in dependencies
        if "skip_reason" not in dep
    }
    missing = sorted(expected - audited)
    if missing:
        reasons = [dep["skip_reason"] for dep in dependencies if "skip_reason" in dep]
        why = f" (pip-audit: {reasons[0][:200]})" if reasons else ""
        names = ", ".join(f"{name} {version}" for name, version in missing[:10])
        more = f" and {len(missing) - 10} more" if len(missing) > 10 else ""
        return False, (
            f"audit FAILED: audited {len(expected & audited)} of {len(expected)} locked packages; "
            f"not audited: {names}{more}{why}"
        )
    failed = [run.returncode for run in runs if run.returncode != 0]
    if failed:
        return False, f"audit FAILED: pip-audit exited {failed[0]} with a clean report"
    count = len(expected)
    return True, f"audit: {count} of {count} locked packages audited, no known vulnerabilities"


def pip_audit(pins: list[locked.Pinned], index: int) -> Run:
    requirements = BUILD / f"requirements-{index}.txt"
    requirements.write_text("".join(pin.requirement(marker=False) + "\n" for pin in pins))
    report = BUILD / f"report-{index}.json"
    report.unlink(missing_ok=True)  # never read an earlier run's report as this one's
    command = [
        *(sys.executable, "-m", "pip_audit", "--requirement", str(requirements)),
        *("--disable-pip", "--require-hashes", "--strict", "--progress-spinner", "off"),
        *("--format", "json", "--output", str(report)),
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603 (this interpreter, fixed arguments)
    sys.stderr.write(result.stderr)  # pip-audit's own account, before the verdict's one line
    try:
        parsed = json.loads(report.read_text()) if report.exists() else None
    except json.JSONDecodeError:
        parsed = None
    return Run(result.returncode, parsed, result.stderr)


def main() -> int:
    try:
        pins = locked.parse(locked.export(*SELECTION))
    except locked.ExportError as error:
        print(f"audit FAILED: {error}", file=sys.stderr)
        return 1
    BUILD.mkdir(parents=True, exist_ok=True)
    runs = [pip_audit(layer, index) for index, layer in enumerate(layers(pins))]
    passed, line = verdict(pins, runs)
    print(line, file=sys.stdout if passed else sys.stderr)
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
