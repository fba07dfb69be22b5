"""What .github/ promises, read from the files themselves: the workflows have not run yet on a fork
or a laptop, so these hold them to docs/ci-cd.md (actionlint and zizmor check their syntax and
security: `make workflows`, pre-commit).

The image is built once per push to main, tagged with the commit, never `latest`, and promoted
by digest; staging gets every release, production the digest staging passed, and only when its
environment requires approval; release-please keeps versions and the changelog; a failure on
main and every deploy reach the chat; CODEOWNERS names the code owners for every file; each job
is least-privilege, bounded and keeps no token.
"""

import re
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ("ci", "security", "release", "deploy", "template-update")
MAKE = re.compile(r"\bmake\s+(?:-s\s+)?([a-z][a-z-]*)")
# What a target needs to be planned by `make -n` (the workflows pass these).
MAKE_VARIABLES = {"smoke": ["URL=https://example.com"], "deploy": ["DIGEST=sha256:" + "0" * 64]}
# @user, @org/team or an e-mail address, as copier's code_owners question accepts them.
OWNER = re.compile(
    r"^(@[A-Za-z0-9][A-Za-z0-9-]*(/[A-Za-z0-9._-]+)?|[^@\s]+@[^@\s]+\.[A-Za-z]{2,})$"
)


def workflow(name: str) -> dict[Any, Any]:
    loaded: dict[Any, Any] = yaml.safe_load((ROOT / f".github/workflows/{name}.yml").read_text())
    return loaded


def jobs(name: str) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = workflow(name)["jobs"]
    return found


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = job.get("steps", [])
    return found


def by_name(job: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A job's steps by id, else by name (the ones the tests look up have one or the other)."""
    return {step.get("id", step.get("name", "")): step for step in steps(job)}


def runs(name: str) -> list[str]:
    return [step.get("run", "") for job in jobs(name).values() for step in steps(job)]


def runs_make(name: str, target: str) -> bool:
    return any(re.search(rf"\bmake {target}\b", line) for line in runs(name))


def answers() -> dict[str, Any]:
    recorded: dict[str, Any] = yaml.safe_load((ROOT / ".copier-answers.yml").read_text())
    return recorded


def test_every_job_is_least_privilege_bounded_and_keeps_no_token() -> None:
    for name in WORKFLOWS:
        loaded = workflow(name)
        assert loaded["permissions"] == {}, name
        assert "group" in loaded["concurrency"], name
        for job_name, job in loaded["jobs"].items():
            assert "permissions" in job, f"{name}.{job_name} has no permissions of its own"
            if "uses" in job:  # a called workflow sets its own jobs' timeouts
                continue
            assert isinstance(job.get("timeout-minutes"), int), f"{name}.{job_name}: no timeout"
            for step in steps(job):
                if str(step.get("uses", "")).startswith("actions/checkout@"):
                    assert step["with"]["persist-credentials"] is False, f"{name}.{job_name}"


def test_no_run_step_expands_an_expression_inline() -> None:
    # Secrets, inputs and the event's text reach a shell only through `env:` (template injection).
    for name in WORKFLOWS:
        for line in runs(name):
            assert "${{" not in line, f"{name}: {line!r}"


def test_every_make_target_a_workflow_runs_exists() -> None:
    targets = {target for name in WORKFLOWS for line in runs(name) for target in MAKE.findall(line)}
    assert {"install", "lint", "test", "load", "deploy", "smoke", "rollback", "notify"} <= targets
    assert "approval-required" in targets
    for target in sorted(targets):
        result = subprocess.run(  # noqa: S603 - fixed arguments, no shell
            ["make", "-n", target, *MAKE_VARIABLES.get(target, [])],  # noqa: S607 - make on PATH
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, f"make -n {target}: {result.stderr.strip()}"


def test_ci_runs_every_gate_with_postgresql_exactly_when_it_is_the_database() -> None:
    ci = jobs("ci")
    for target in ("lint", "workflows", "test", "alerts", "manifests", "contract", "load"):
        assert runs_make("ci", target), target
    with_postgresql = answers()["database"] == "postgresql"
    for job_name in ("test", "contract", "load"):
        assert ("postgres" in ci[job_name].get("services", {})) == with_postgresql, job_name
    assert not any("services" in ci[job] for job in ("lint", "alerts", "manifests"))


def test_the_load_job_serves_the_app_loads_it_and_stops_it() -> None:
    load = jobs("ci")["load"]
    names = [step.get("run", step.get("name", "")) for step in steps(load)]
    assert names.index("make install") < names.index("make migrate")
    script = steps(load)[-1]["run"]
    # Served in the background on loopback (`make load` refuses anything else), ready first.
    assert script.index("make run") < script.index("/health/ready") < script.index("make load")
    assert "make run > " in script
    assert "&\n" in script
    assert 'kill -TERM "$server"' in script
    assert script.rstrip().endswith('exit "$status"')  # the gate's verdict is the job's
    # Bounded: a short run, and the job's timeout behind it.
    assert re.fullmatch(r"\d+s", load["env"]["LOAD_DURATION"])
    assert int(load["env"]["LOAD_DURATION"][:-1]) <= 60
    assert load["timeout-minutes"] <= 15


def test_security_scans_weekly_and_with_trivy() -> None:
    assert workflow("security")[True]["schedule"], "no schedule"  # PyYAML reads `on` as True
    for target in ("audit", "sast", "secrets-scan", "image-lint"):
        assert runs_make("security", target), target
    trivy = [
        step
        for step in steps(jobs("security")["image"])
        if str(step.get("uses", "")).startswith("aquasecurity/trivy-action@")
    ]
    assert len(trivy) == 1
    assert trivy[0]["with"]["exit-code"] == "1"


def test_the_image_is_built_once_per_push_tagged_with_the_commit_never_latest() -> None:
    release = workflow("release")
    assert release[True] == {"push": {"branches": ["main"]}}
    builds = [
        step
        for job in release["jobs"].values()
        for step in steps(job)
        if "build-push-action" in str(step.get("uses"))
        or re.search(r"\bdocker (buildx )?build\b", step.get("run", ""))
    ]
    assert len(builds) == 1  # one build in the whole release; the version tag is a retag
    assert builds[0]["with"]["tags"] == "${{ steps.name.outputs.repository }}:${{ github.sha }}"
    assert builds[0]["with"]["push"] is True
    for name in ("release", "deploy"):
        assert "latest" not in (ROOT / f".github/workflows/{name}.yml").read_text(), name
    image = by_name(release["jobs"]["image"])
    assert release["jobs"]["image"]["outputs"]["digest"] == "${{ steps.build.outputs.digest }}"
    signing = image["Sign the digest and attach the SBOM (keyless, Sigstore)"]
    assert signing["env"]["IMAGE"].endswith("@${{ steps.build.outputs.digest }}")
    assert "cosign sign --yes" in signing["run"]
    assert "cosign attest" in signing["run"]
    provenance = [step for step in steps(release["jobs"]["image"]) if "attest-build" in str(step)]
    assert provenance[0]["with"]["subject-digest"] == "${{ steps.build.outputs.digest }}"


def test_release_please_tags_versions_and_keeps_the_changelog() -> None:
    version = jobs("release")["version"]
    assert version["permissions"]["contents"] == "write"
    script = "\n".join(step.get("run", "") for step in steps(version))
    assert "release-please@" in script
    assert " github-release " in script
    assert " release-pr " in script
    # The version is one more tag of the image this commit built: its digest, no rebuild.
    assert 'imagetools create --tag "${IMAGE}:${version}" "${IMAGE}@${DIGEST}"' in script
    config = yaml.safe_load((ROOT / "release-please-config.json").read_text())
    (package,) = config["packages"].values()
    assert package["release-type"] == "python"
    assert package["changelog-path"] == "CHANGELOG.md"
    assert "." in yaml.safe_load((ROOT / ".release-please-manifest.json").read_text())
    # Its extra file: uv.lock's entry of this project, whose version release-please bumps too.
    (extra,) = package["extra-files"]
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert extra["jsonpath"] == f"$.package[?(@.name.value=='{project['name']}')].version"
    locked = tomllib.loads((ROOT / extra["path"]).read_text())["package"]
    assert [entry["version"] for entry in locked if entry["name"] == project["name"]] == [
        project["version"]
    ]


def test_every_release_deploys_its_digest_to_staging() -> None:
    deploy_call = jobs("release")["deploy"]
    assert deploy_call["uses"] == "$/.github/workflows/deploy.yml"  # this repository, this commit
    assert deploy_call["needs"] == "image"
    assert deploy_call["with"]["digest"] == "${{ needs.image.outputs.digest }}"
    staging = jobs("deploy")["staging"]
    assert staging["environment"]["name"] == "staging"
    assert "needs" not in staging  # first, with no approval
    assert by_name(staging)["deploy"]["env"]["DIGEST"] == "${{ inputs.digest }}"


@pytest.mark.parametrize(
    ("environment", "digest"),
    [("staging", "inputs.digest"), ("production", "needs.staging.outputs.digest")],
)
def test_each_deploy_is_smoke_tested_rolled_back_on_failure_and_told(
    environment: str, digest: str
) -> None:
    job = jobs("deploy")[environment]
    named = by_name(job)
    assert named["deploy"]["env"]["DIGEST"] == "${{ " + digest + " }}"
    assert named["deploy"]["run"].startswith(f'make deploy ENV={environment} DIGEST="$DIGEST"')
    assert named["smoke"]["run"] == 'make smoke URL="$URL"'
    rollback = named["Roll back"]
    assert rollback["if"].startswith("failure()")
    assert "steps.smoke.outcome == 'failure'" in rollback["if"]
    assert rollback["run"] == f"make rollback ENV={environment}"
    told = named["Notify the chat"]
    assert told["if"] == "always()"  # green or red
    assert told["continue-on-error"] is True  # a chat that is down never decides the deploy
    assert told["env"]["STATUS"] == "${{ job.status }}"
    assert told["env"]["CHAT_WEBHOOK_URL"] == "${{ secrets.CHAT_WEBHOOK_URL }}"
    assert "${{ " + digest + " }}" in told["env"]["MESSAGE"]
    assert told["run"] == "make notify"
    order = list(named)
    assert order.index("deploy") < order.index("smoke") < order.index("Roll back")
    assert order[-1] == "Notify the chat"


def test_production_promotes_the_digest_staging_passed() -> None:
    deploy = jobs("deploy")
    assert deploy["production"]["needs"] == "staging"
    assert deploy["production"]["environment"]["name"] == "production"
    assert deploy["staging"]["outputs"]["digest"] == "${{ steps.deploy.outputs.digest }}"


def test_production_stops_first_unless_its_environment_requires_approval() -> None:
    production = jobs("deploy")["production"]
    order = [step.get("name", step.get("id", step.get("uses", ""))) for step in steps(production)]
    check = by_name(production)["Approval required"]
    assert check["run"] == "make approval-required ENV=production"
    assert check["env"] == {"GITHUB_TOKEN": "${{ github.token }}"}  # in env:, never in run:
    # What GET .../environments/production needs of the job's token, and nothing more.
    assert production["permissions"] == {"contents": "read", "actions": "read"}
    # release.yml calls deploy.yml, whose jobs get no more than the calling job grants.
    assert jobs("release")["deploy"]["permissions"] == production["permissions"]
    # Only the checkout that brings ci/approval.py comes before it: no secret, no uv, no deploy.
    first = order.index("Approval required")
    assert first == 1
    assert str(order[0]).startswith("actions/checkout@")
    assert first < order.index("Cluster access") < order.index("Deploy")
    assert not any("secrets." in str(step) for step in steps(production)[: first + 1])


def test_a_failure_on_main_reaches_the_chat() -> None:
    ci, release = jobs("ci"), jobs("release")
    assert set(ci["notify"]["needs"]) == set(ci) - {"notify"}  # every other ci job
    assert ci["notify"]["if"] == "failure() && github.event_name == 'push'"  # pushes: main only
    assert set(release["notify"]["needs"]) == {"image", "version"}  # deploy.yml tells its own
    assert release["notify"]["if"] == "failure()"
    # A repository secret reaches the called deploy.yml only when passed to it.
    passed = release["deploy"]["secrets"]["CHAT_WEBHOOK_URL"]
    assert passed == "${{ secrets.CHAT_WEBHOOK_URL }}"
    assert workflow("deploy")[True]["workflow_call"]["secrets"]["CHAT_WEBHOOK_URL"]
    for job in (ci["notify"], release["notify"]):
        told = by_name(job)["Notify the chat"]
        assert told["env"]["STATUS"] == "failure"
        assert told["run"] == "make notify"


def codeowners_rules() -> list[tuple[str, list[str]]]:
    lines = (ROOT / ".github/CODEOWNERS").read_text().splitlines()
    rules = [line.split() for line in lines if line.strip() and not line.startswith("#")]
    return [(pattern, owners) for pattern, *owners in rules]


def test_codeowners_names_the_code_owners_for_every_file() -> None:
    rules = codeowners_rules()
    code_owners = answers()["code_owners"].split()
    # The last matching rule wins: a catch-all first, so that no file is left without owners.
    assert rules[0] == ("*", code_owners)
    for pattern, owners in rules:
        assert owners, f"{pattern} has no owner (its files would need no review)"
        assert all(OWNER.match(owner) for owner in owners), owners
    assert {pattern for pattern, _ in rules} >= {"/.github/", "/k8s/"}
