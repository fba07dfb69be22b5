"""`make deploy` and `make rollback`: put one image digest on an environment, or the one before it.

deploy.yml runs these so that a deploy from CI and one from a laptop are the same commands. What
the environment holds is read from its rendered overlay, not from options: a migration Job is run
to completion before the new pods start (docs/deployment.md), a Rollout (production's canary) is
waited on instead of a Deployment, and with k8s/argocd/ Argo CD applies the image (it would revert
a kubectl apply at its next self-heal), so the Application's kustomize image is set instead.

Before changing anything, the image the environment runs is written to
build/deploy/<env>/previous-image; `rollback` deploys that one again, which is what deploy.yml's
failure step does after a failed rollout or smoke test.
"""

import argparse
import json
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ENVIRONMENTS = ("dev", "staging", "production")
DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
WAIT = "10m"


class DeployError(Exception):
    """Bad input or a failed step: one line for the user."""


@dataclass(frozen=True)
class Target:
    environment: str
    image_name: str  # <registry>/<slug>, as the overlay names it
    namespace: str
    workload: str  # kind/name, e.g. deployment/my-service-api
    migration_job: str | None
    argocd_application: str | None

    @property
    def state(self) -> Path:
        return Path("build/deploy") / self.environment


def kubectl(*arguments: str, capture: bool = False, dry_run: bool = False) -> str:
    print("+ kubectl " + " ".join(arguments), flush=True)
    if dry_run:
        return ""
    result = subprocess.run(  # noqa: S603 - fixed kubectl arguments, no shell
        ["kubectl", *arguments],  # noqa: S607 - kubectl from the locked environment (.venv/bin)
        capture_output=capture,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        detail = (result.stderr or "").strip().splitlines()
        shown = " ".join(arguments[:4])
        raise DeployError(f"kubectl {shown} failed: {detail[-1] if detail else 'see above'}")
    return result.stdout or ""


def overlay_image_name(environment: str) -> str:
    kustomization = yaml.safe_load(
        Path(f"k8s/overlays/{environment}/kustomization.yaml").read_text()
    )
    for image in kustomization.get("images", []):
        if image.get("name") == "service-image":
            return str(image["newName"])
    raise DeployError(f"k8s/overlays/{environment}/kustomization.yaml has no service-image entry")


def target_of(environment: str, objects: list[dict[str, Any]]) -> Target:
    kinds = {(obj["kind"], obj["metadata"]["name"]) for obj in objects}
    namespace = next(obj["metadata"]["name"] for obj in objects if obj["kind"] == "Namespace")
    rollouts = [name for kind, name in kinds if kind == "Rollout"]
    deployments = [
        obj["metadata"]["name"]
        for obj in objects
        if obj["kind"] == "Deployment"
        and obj["metadata"].get("labels", {}).get("app.kubernetes.io/component") == "api"
    ]
    workload = f"rollout/{rollouts[0]}" if rollouts else f"deployment/{deployments[0]}"
    jobs = [name for kind, name in kinds if kind == "Job" and name.endswith("-migrate")]
    application = None
    if Path("k8s/argocd").is_dir():
        application = f"{namespace}"  # Applications are named <slug>-<env>, like the namespaces
    return Target(
        environment=environment,
        image_name=overlay_image_name(environment),
        namespace=namespace,
        workload=workload,
        migration_job=jobs[0] if jobs else None,
        argocd_application=application,
    )


def wrapper_kustomization(environment: str, image_name: str, digest: str) -> str:
    """The overlay with its image pinned to the digest: the same bytes staging ran."""
    return yaml.safe_dump(
        {
            "apiVersion": "kustomize.config.k8s.io/v1beta1",
            "kind": "Kustomization",
            "resources": [f"../../../k8s/overlays/{environment}"],
            "images": [{"name": image_name, "digest": digest}],
        },
        sort_keys=False,
    )


def render(target: Target, digest: str) -> Path:
    target.state.mkdir(parents=True, exist_ok=True)
    (target.state / "kustomization.yaml").write_text(
        wrapper_kustomization(target.environment, target.image_name, digest)
    )
    release = target.state / "release.yaml"
    release.write_text(kubectl("kustomize", str(target.state), capture=True))
    return release


def running_image(target: Target) -> str:
    query = "{.spec.template.spec.containers[?(@.name=='api')].image}"
    result = subprocess.run(  # noqa: S603 - fixed kubectl arguments, no shell
        ["kubectl", "-n", target.namespace, "get", target.workload, "-o", f"jsonpath={query}"],  # noqa: S607
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout.strip() if result.returncode == 0 else ""


def wait_until_running(target: Target, image: str, dry_run: bool) -> None:
    if not dry_run and target.argocd_application:
        deadline = time.monotonic() + 600
        while running_image(target) != image:
            if time.monotonic() > deadline:
                raise DeployError(f"Argo CD did not put {image} on {target.workload} in 10 minutes")
            time.sleep(10)
    if target.workload.startswith("rollout/"):
        # A canary takes its steps' pauses; Degraded (an aborted analysis) never becomes Healthy.
        kubectl(
            "-n",
            target.namespace,
            "wait",
            target.workload,
            "--for=jsonpath={.status.phase}=Healthy",
            "--timeout=30m",
            dry_run=dry_run,
        )
    else:
        kubectl(
            "-n",
            target.namespace,
            "rollout",
            "status",
            target.workload,
            f"--timeout={WAIT}",
            dry_run=dry_run,
        )


def put(target: Target, image: str, dry_run: bool) -> None:
    """Make the environment run `image` (<name>@sha256:... or <name>:<tag>)."""
    if target.argocd_application:
        patch = {"spec": {"source": {"kustomize": {"images": [f"service-image={image}"]}}}}
        kubectl(
            "-n",
            "argocd",
            "patch",
            "application",
            target.argocd_application,
            "--type",
            "merge",
            "-p",
            json.dumps(patch),
            dry_run=dry_run,
        )
    else:
        release = str(target.state / "release.yaml")
        if target.migration_job:
            # On a rollback too: the older image's `migrate` leaves a newer schema as it is.
            ns = target.namespace
            kubectl(
                "-n",
                ns,
                "delete",
                "job",
                target.migration_job,
                "--ignore-not-found",
                dry_run=dry_run,
            )
            kubectl(
                "apply",
                "-f",
                release,
                "--selector",
                "app.kubernetes.io/component!=api",
                dry_run=dry_run,
            )
            kubectl(
                "-n",
                ns,
                "wait",
                "--for=condition=complete",
                f"job/{target.migration_job}",
                f"--timeout={WAIT}",
                dry_run=dry_run,
            )
        kubectl("apply", "-f", release, dry_run=dry_run)
    wait_until_running(target, image, dry_run)


def split_image(image: str) -> str:
    if "@" in image:
        return image.split("@", 1)[1]
    raise DeployError(f"the previous image {image} is not pinned by digest; roll back by hand")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ci.deploy", description=__doc__)
    parser.add_argument("action", choices=["deploy", "rollback"])
    parser.add_argument("--environment", required=True)
    parser.add_argument("--digest", default="")
    parser.add_argument("--dry-run", action="store_true", help="print the kubectl commands only")
    args = parser.parse_args(argv)
    try:
        if args.environment not in ENVIRONMENTS:
            raise DeployError(
                f"ENV must be one of {', '.join(ENVIRONMENTS)}, not {args.environment!r}"
            )
        previous_file = Path("build/deploy") / args.environment / "previous-image"
        if args.action == "rollback":
            if not previous_file.is_file() or not previous_file.read_text().strip():
                raise DeployError(
                    f"nothing to roll back to: {previous_file} was not recorded by a deploy"
                )
            digest = split_image(previous_file.read_text().strip())
        else:
            digest = args.digest
        if not DIGEST.match(digest):
            raise DeployError(f"DIGEST must be sha256:<64 hex>, not {digest!r}")
        # Render first: the objects say what the environment holds (no secrets.env: stops here).
        plain = kubectl("kustomize", f"k8s/overlays/{args.environment}", capture=True)
        target = target_of(args.environment, [o for o in yaml.safe_load_all(plain) if o])
        render(target, digest)
        image = f"{target.image_name}@{digest}"
        if args.action == "deploy" and not args.dry_run:
            previous_file.write_text(running_image(target) + "\n")
        print(f"{args.action}: {image} to {target.workload} in {target.namespace}", flush=True)
        put(target, image, args.dry_run)
    except DeployError as error:
        print(f"make {args.action}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
