"""The generated project's own scans, `make audit sast secrets-scan sbom manifests image-lint`,
run for real on every option set with what they report checked against what the project holds.

Each is also shown to fail when it should, on the default set only (the gates do not depend on
the options): a finding is seeded in a copy of the project and the same make target runs there,
with RUN pointed at the shared project's locked environment, so nothing is installed twice and the
shared project is never changed. Where pip-audit's vulnerability service does not answer (these
machines), `make audit` must fail loudly; the test proves that, and the export it audits, then
skips the real audit with the reason.
"""

import json
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

from .conftest import on_the_default_set
from .k8s_tools import CHECKOV_VERSION
from .once_per_input import once_per_input
from .project import GeneratedProject

pytestmark = pytest.mark.slow

OVERLAYS = ("dev", "production", "staging")
# What pip-audit says when its vulnerability service does not answer: pypi.org's JSON API not
# found through this machine's proxy, or no connection at all.
SERVICE_UNREACHABLE = re.compile(
    r"could not be audited|ConnectionError|Max retries exceeded|NameResolutionError|ProxyError"
)
HADOLINT_FINDING = re.compile(r"\b(DL|SC)\d{4}\b")


def make(
    project: GeneratedProject, target: str, cwd: Path | None = None, **variables: str
) -> subprocess.CompletedProcess[str]:
    """`make target` in the project (or in `cwd`, a copy of it), whatever its exit status."""
    assignments = [f"{name}={value}" for name, value in variables.items()]
    return subprocess.run(
        ["make", target, *assignments],
        cwd=cwd or project.path,
        env=project.service_env(),
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


def succeeded(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, (
        f"--- stdout ---\n{result.stdout}\n--- stderr ---\n{result.stderr}"
    )
    return result.stdout


def verdict(result: subprocess.CompletedProcess[str], gate: str) -> str:
    """The gate's own last line (make adds its `make: ***` line after a failure)."""
    lines = (result.stdout + result.stderr).splitlines()
    return next(line for line in reversed(lines) if line.startswith((f"{gate}:", f"{gate} FAILED")))


def copy_of(project: GeneratedProject, destination: Path) -> Path:
    """The project's files without its environments and outputs, to seed a finding in."""
    skipped = shutil.ignore_patterns(".venv", "build", "*_cache", "__pycache__")
    shutil.copytree(project.path, destination, ignore=skipped, symlinks=True)
    return destination


def in_shared_environment(project: GeneratedProject) -> dict[str, str]:
    """make's RUN for a copy: the shared project's locked environment, the copy's files (cwd)."""
    return {"RUN": f"$(UV) run --locked --project {project.path} $(EXTRAS)"}


def locked_packages(project: GeneratedProject) -> set[tuple[str, str]]:
    """(name, version) of every package uv.lock takes from an index: all extras and groups."""
    lock = tomllib.loads((project.path / "uv.lock").read_text())
    return {
        (package["name"], package["version"])
        for package in lock["package"]
        if "registry" in package.get("source", {})
    }


def requirement_pins(text: str) -> set[tuple[str, str]]:
    return set(re.findall(r"(?m)^([a-z0-9][a-z0-9._-]*)==([^\s;\\]+)", text))


def chosen_extras(project: GeneratedProject) -> list[str]:
    """The extras the answers call for, as `uv export` takes them (copier.yml: uv_extras)."""
    answers = project.answers
    extras = ["postgresql"] * (answers["database"] == "postgresql")
    extras += ["tracing"] * bool(answers["tracing"]) + ["error-tracking"] * bool(
        answers["error_tracking"]
    )
    extras += [f"auth-{answers['auth']}"] * (answers["auth"] != "none")
    return [item for extra in extras for item in ("--extra", extra)]


# ---- every option set ----


def test_audit_audits_every_locked_package_or_fails_loudly(project: GeneratedProject) -> None:
    result = make(project, "audit")
    exported = "".join(
        path.read_text() for path in sorted((project.path / "build/audit").glob("requirements-*"))
    )
    locked = locked_packages(project)
    # The whole lock is audited: every extra, the dev tools, other platforms' wheels.
    assert requirement_pins(exported) == locked
    assert len(locked) > 100
    line = verdict(result, "audit")
    count = len(locked)
    if result.returncode == 0:
        assert (
            line == f"audit: {count} of {count} locked packages audited, no known vulnerabilities"
        )
        return
    assert line.startswith("audit FAILED: "), line
    assert "known vulnerabilities" not in line, f"the lock needs upgrading: {line}"
    assert SERVICE_UNREACHABLE.search(result.stderr), result.stderr[-3000:]
    assert f"none of the {len(locked)} locked packages is known to be audited" in line
    pytest.skip(
        "pip-audit's vulnerability service (pypi.org's JSON API) does not answer from here: "
        f"`make audit` failed loudly, as it must, and exported all {len(locked)} locked packages; "
        "auditing them needs that service"
    )


def test_sast_finds_nothing_of_medium_or_high_severity(project: GeneratedProject) -> None:
    output = succeeded(make(project, "sast"))
    assert "No issues identified." in output
    scanned = re.search(r"Total lines of code: (\d+)", output)
    assert scanned, output
    assert int(scanned.group(1)) > 500


def test_secrets_scan_finds_nothing_in_every_project_file(project: GeneratedProject) -> None:
    output = succeeded(make(project, "secrets-scan"))
    if (project.path / ".git").exists():  # test_pre_commit_hooks_pass makes it a repository
        listed = subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
            cwd=project.path,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split("\n")
        expected = len([name for name in listed if name and (project.path / name).is_file()])
    else:
        expected = len([name for name in project.snapshot() if not name.startswith("build/")])
    assert f"secrets-scan: {expected} files scanned, no potential secret" in output


def test_sbom_lists_every_runtime_package_of_the_chosen_extras(project: GeneratedProject) -> None:
    output = succeeded(make(project, "sbom"))
    export = project.run(
        *("uv", "export", "--locked", "--no-emit-project", "--no-dev", "--no-header"),
        *("--format", "requirements.txt", *chosen_extras(project)),
    ).stdout
    runtime = requirement_pins(export)
    sbom = json.loads((project.path / "build/sbom.cdx.json").read_text())
    assert (sbom["bomFormat"], sbom["specVersion"]) == ("CycloneDX", "1.6")
    pyproject = tomllib.loads((project.path / "pyproject.toml").read_text())
    assert sbom["metadata"]["component"]["name"] == pyproject["project"]["name"]
    components = {(item["name"].lower(), item["version"]) for item in sbom["components"]}
    assert len(sbom["components"]) == len(runtime)
    assert components == {(name.lower(), version) for name, version in runtime}
    for item in sbom["components"]:
        assert item["purl"] == f"pkg:pypi/{item['name'].lower()}@{item['version']}"
    # Runtime only: no dev tool in what the image ships.
    assert not {name for name, _ in components} & {"pytest", "ruff", "mypy", "pip-audit"}
    assert f"lists the {len(runtime)} runtime packages" in output


# What `make manifests` reads, besides the Python it runs under: once_per_input.py runs it once
# per distinct content of these and python_version.
MANIFESTS_INPUT = ("k8s", "ci/manifests.py", "tools/checkov")


def test_manifests_checks_every_overlay_with_checkov(
    project: GeneratedProject, tmp_path_factory: pytest.TempPathFactory
) -> None:
    name = ",".join(f"{key}={value}" for key, value in project.answers.items())
    python = f"python {project.answers['python_version']}"
    step = "make manifests"
    with once_per_input(tmp_path_factory, step, project.path, MANIFESTS_INPUT, name, python):
        _manifests_pass_checkov(project)


def _manifests_pass_checkov(project: GeneratedProject) -> None:
    output = succeeded(make(project, "manifests"))
    for overlay in OVERLAYS:
        line = re.search(
            rf"^manifests: overlays/{overlay}: (\d+) objects checked against Kubernetes 1\.33, "
            r"checkov (\d+) passed, 0 failed$",
            output,
            flags=re.MULTILINE,
        )
        assert line, output
        assert int(line.group(1)) > 10
        assert int(line.group(2)) > 50
        rendered = project.path / f"build/manifests/rendered/overlays-{overlay}.yaml"
        assert "kind: Deployment" in rendered.read_text()


def test_checkovs_own_lock_is_current_and_pins_the_harness_version(
    project: GeneratedProject,
) -> None:
    tools = project.path / "tools" / "checkov"
    project.run("uv", "lock", "--check", "--project", str(tools))
    dependencies = tomllib.loads((tools / "pyproject.toml").read_text())["project"]["dependencies"]
    assert dependencies == [f"checkov=={CHECKOV_VERSION}"]


def test_image_lint_finds_nothing(project: GeneratedProject) -> None:
    output = succeeded(make(project, "image-lint"))
    assert not HADOLINT_FINDING.search(output), output


# ---- each target fails when it should (the default option set) ----


@on_the_default_set
def test_audit_refuses_to_pass_when_nothing_could_be_audited(
    project: GeneratedProject,
) -> None:
    # Whatever this machine reaches: a proxy that refuses every connection makes the service
    # unreachable, the case in which pip-audit alone can say "No known vulnerabilities found".
    unreachable = "http://127.0.0.1:9"
    result = subprocess.run(
        ["make", "audit"],
        cwd=project.path,
        env={**project.service_env(), "HTTPS_PROXY": unreachable, "HTTP_PROXY": unreachable},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode != 0
    line = verdict(result, "audit")
    count = len(locked_packages(project))
    assert line.startswith(f"audit FAILED: none of the {count} locked packages"), line
    assert "No known vulnerabilities found" not in result.stdout + result.stderr


@on_the_default_set
def test_sast_fails_on_a_shell_command_and_a_bind_to_every_interface(
    project: GeneratedProject, tmp_path: Path
) -> None:
    copy = copy_of(project, tmp_path / "service")
    package = project.package
    (copy / "src" / package / "seeded.py").write_text(
        "import subprocess\n\n"
        'HOST = "0.0.0.0"\n\n\n'
        "def run(command: str) -> None:\n"
        "    subprocess.run(command, shell=True, check=True)\n"
    )
    result = make(project, "sast", cwd=copy, **in_shared_environment(project))
    assert result.returncode != 0
    assert "B602:subprocess_popen_with_shell_equals_true" in result.stdout
    assert "B104:hardcoded_bind_all_interfaces" in result.stdout
    assert f"src/{package}/seeded.py" in result.stdout


@on_the_default_set
def test_secrets_scan_fails_on_an_aws_key(project: GeneratedProject, tmp_path: Path) -> None:
    copy = copy_of(project, tmp_path / "service")
    key = "AKIA" + "Z7VRSQ5TJN2XMPLE"  # split, so prodready's own files hold no key either
    (copy / "src" / project.package / "cloud.py").write_text(f'ACCESS_KEY_ID = "{key}"\n')
    result = make(project, "secrets-scan", cwd=copy, **in_shared_environment(project))
    assert result.returncode != 0
    assert f"src/{project.package}/cloud.py:1: AWS Access Key" in result.stderr
    assert "secrets-scan FAILED: 1 potential secrets in" in result.stderr


@on_the_default_set
def test_manifests_fails_on_a_misspelt_field_and_a_pod_without_limits(
    project: GeneratedProject, tmp_path: Path
) -> None:
    copy = copy_of(project, tmp_path / "service")
    overlay = copy / "k8s" / "overlays" / "dev"
    (overlay / "seeded.yaml").write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: seeded\n"
        "spec:\n  replicaz: 1\n  selector:\n    matchLabels: {app: seeded}\n"
        "  template:\n    metadata:\n      labels: {app: seeded}\n"
        "    spec:\n      containers:\n        - name: app\n          image: example/app:1.0\n"
    )
    kustomization = overlay / "kustomization.yaml"
    text = kustomization.read_text()
    assert "\n  - ../../base\n" in text
    kustomization.write_text(
        text.replace("\n  - ../../base\n", "\n  - ../../base\n  - seeded.yaml\n")
    )
    result = make(project, "manifests", cwd=copy, **in_shared_environment(project))
    assert result.returncode != 0
    assert re.search(
        r"^overlays/dev: Deployment \S*seeded: spec: .*'replicaz'", result.stderr, re.M
    ), result.stderr
    # checkov: no CPU or memory limit on the seeded pod (CKV_K8S_11, CKV_K8S_13), dev only.
    for check in ("CKV_K8S_11", "CKV_K8S_13"):
        assert re.search(rf"^overlays-dev\.yaml: {check} .*seeded", result.stderr, re.M), (
            result.stderr
        )
    assert re.search(r"^manifests: overlays/production: .* 0 failed$", result.stdout, re.M)
    assert verdict(result, "manifests").startswith("manifests FAILED: ")


@on_the_default_set
def test_image_lint_fails_on_a_latest_base_image(project: GeneratedProject, tmp_path: Path) -> None:
    copy = copy_of(project, tmp_path / "service")
    dockerfile = copy / "Dockerfile"
    text = dockerfile.read_text()
    dockerfile.write_text(re.sub(r"(?m)^FROM \S+", "FROM python:latest", text, count=1))
    result = make(project, "image-lint", cwd=copy, **in_shared_environment(project))
    assert result.returncode != 0
    assert "DL3007" in result.stdout + result.stderr
