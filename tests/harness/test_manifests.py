"""The generated Kubernetes manifests (k8s/), for every combination of the options that shape them.

Copier only, no install: each combination is rendered once per session and every overlay built
with `kubectl kustomize`. Core objects must validate strictly against MINIMUM_KUBERNETES; custom
resources must belong to an allowed group and carry their required fields; checkov must find
nothing in the production overlay; and what the production-readiness checklist asks for is
asserted on the rendered objects. Staging and production build their Secret from a git-ignored
secrets.env: the tests copy each overlay's secrets.env.example to it, as docs/deployment.md tells
users to (and check that a fresh render refuses to build without it).
"""

import base64
import itertools
import json
import math
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from .k8s_tools import (
    MINIMUM_KUBERNETES,
    CheckovReport,
    KustomizeError,
    kubernetes_validate,
    kustomize,
    load_objects,
    run_checkov,
)
from .matrix import REPO, choice_questions
from .template import render

OVERLAYS = ("dev", "staging", "production")
MANIFEST_OPTIONS = ("gitops", "canary", "external_secrets")
CUSTOM_RESOURCE_GROUPS = {
    "monitoring.coreos.com",
    "argoproj.io",
    "cert-manager.io",
    "external-secrets.io",
}
# What each custom resource the manifests use cannot do without (their CRDs are not bundled with
# kubernetes-validate). A new kind fails until its required fields are listed here.
CUSTOM_RESOURCE_REQUIRED_FIELDS = {
    ("monitoring.coreos.com/v1", "ServiceMonitor"): ["spec.selector", "spec.endpoints"],
    ("monitoring.coreos.com/v1", "PrometheusRule"): ["spec.groups"],
    ("monitoring.coreos.com/v1", "Probe"): [
        "spec.prober.url",
        "spec.module",
        "spec.targets.staticConfig.static",
    ],
    ("monitoring.coreos.com/v1alpha1", "AlertmanagerConfig"): [
        "spec.route.receiver",
        "spec.receivers",
    ],
    ("external-secrets.io/v1", "ExternalSecret"): [
        "spec.secretStoreRef.kind",
        "spec.secretStoreRef.name",
        "spec.dataFrom",
    ],
    ("argoproj.io/v1alpha1", "Rollout"): [
        "spec.selector",
        "spec.workloadRef.name",
        "spec.strategy.canary.steps",
    ],
    ("argoproj.io/v1alpha1", "AnalysisTemplate"): ["spec.metrics"],
    ("argoproj.io/v1alpha1", "Application"): [
        "spec.project",
        "spec.source.repoURL",
        "spec.source.path",
        "spec.destination.server",
        "spec.destination.namespace",
    ],
    ("argoproj.io/v1alpha1", "AppProject"): ["spec.sourceRepos", "spec.destinations"],
}
# cert-manager's HTTP-01 solver pod (its default resources), which runs in the namespace while a
# certificate is issued.
ACME_SOLVER_POD = {
    "requests": {"cpu": 0.01, "memory": 64 * 2**20},
    "limits": {"cpu": 0.1, "memory": 64 * 2**20},
}
# What the pods' shutdown must leave time for after the drain: the lifespan closing the pool.
LIFESPAN_SHUTDOWN_SECONDS = 5


def _combinations() -> Iterator[tuple[str, dict[str, Any]]]:
    for database, *flags in itertools.product(
        choice_questions()["database"], *[(False, True)] * len(MANIFEST_OPTIONS)
    ):
        answers = {"database": database, **dict(zip(MANIFEST_OPTIONS, flags, strict=True))}
        yield ",".join(f"{key}={value}" for key, value in answers.items()), answers


def is_refused(answers: dict[str, Any]) -> bool:
    """copier.yml's validator: Argo CD builds from git, which has no git-ignored secrets.env."""
    return bool(answers["gitops"] and not answers["external_secrets"])


COMBINATIONS = dict(_combinations())
VALID = {name: answers for name, answers in COMBINATIONS.items() if not is_refused(answers)}
REFUSED = {name: answers for name, answers in COMBINATIONS.items() if is_refused(answers)}
POSTGRESQL = [name for name, answers in VALID.items() if answers["database"] == "postgresql"]
SQLITE = [name for name, answers in VALID.items() if answers["database"] == "sqlite"]
GITOPS = [name for name, answers in VALID.items() if answers["gitops"]]
FILE_SECRETS = [name for name, answers in VALID.items() if not answers["external_secrets"]]


@dataclass
class RenderedManifests:
    answers: dict[str, Any]
    fresh: Path  # the project as copier wrote it
    deployable: Path  # a copy of its k8s/ with each secrets.env.example copied to secrets.env
    _built: dict[str, str] = field(default_factory=dict)

    @property
    def recorded(self) -> dict[str, Any]:
        return dict(yaml.safe_load((self.fresh / ".copier-answers.yml").read_text()))

    @property
    def slug(self) -> str:
        return str(self.recorded["project_slug"])

    def built(self, directory: str) -> str:
        """The kustomize output for k8s/<directory> of the deployable copy, built once."""
        if directory not in self._built:
            self._built[directory] = kustomize(self.deployable / directory)
        return self._built[directory]

    def objects(self, directory: str) -> list[dict[str, Any]]:
        return load_objects(self.built(directory))

    def overlay(self, name: str) -> list[dict[str, Any]]:
        return self.objects(f"overlays/{name}")

    @property
    def kustomizations(self) -> list[str]:
        """The k8s/ directories kustomize builds: the overlays, and argocd/ with gitops."""
        return [f"overlays/{name}" for name in OVERLAYS] + (
            ["argocd"] if self.answers["gitops"] else []
        )


@pytest.fixture(scope="session")
def manifests(
    tmp_path_factory: pytest.TempPathFactory,
) -> Callable[[str], RenderedManifests]:
    """Renders a combination on first use and hands out the same render afterwards."""
    renders: dict[str, RenderedManifests] = {}

    def rendered(combination: str) -> RenderedManifests:
        if combination not in renders:
            root = tmp_path_factory.mktemp("manifests")
            answers = VALID[combination]
            render(root / "service", answers)
            deployable = root / "deployable"
            shutil.copytree(root / "service" / "k8s", deployable)
            for example in deployable.glob("overlays/*/secrets.env.example"):
                if example.parent.name != "dev":  # dev reads its committed example directly
                    shutil.copyfile(example, example.with_name("secrets.env"))
            renders[combination] = RenderedManifests(answers, root / "service", deployable)
        return renders[combination]

    return rendered


# ---- reading rendered objects ----


def of_kind(objects: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [obj for obj in objects if obj["kind"] == kind]


def the(objects: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    found = of_kind(objects, kind)
    assert len(found) == 1, f"expected one {kind}, found {[o['metadata']['name'] for o in found]}"
    return found[0]


def named(objects: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    found = [obj for obj in of_kind(objects, kind) if obj["metadata"]["name"] == name]
    assert found, f"no {kind} named {name}"
    return found[0]


def dig(obj: dict[str, Any], dotted: str) -> Any:
    value: Any = obj
    for key in dotted.split("."):
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def pod_specs(objects: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Every pod template, by `Kind/name` of its owner."""
    return {
        f"{obj['kind']}/{obj['metadata']['name']}": obj["spec"]["template"]["spec"]
        for obj in objects
        if obj["kind"] in {"Deployment", "Job"}
    }


def containers(pod_spec: dict[str, Any]) -> list[dict[str, Any]]:
    return list(pod_spec.get("initContainers", [])) + list(pod_spec["containers"])


def service_config(objects: list[dict[str, Any]]) -> dict[str, Any]:
    """The ConfigMap of the service's settings (the other one holds the Grafana dashboard)."""
    (config,) = [
        obj
        for obj in of_kind(objects, "ConfigMap")
        if "grafana_dashboard" not in obj["metadata"].get("labels", {})
    ]
    return config


def api_container(objects: list[dict[str, Any]]) -> dict[str, Any]:
    pod = the(objects, "Deployment")["spec"]["template"]["spec"]
    return next(container for container in pod["containers"] if container["name"] == "api")


def scaled_workload(objects: list[dict[str, Any]]) -> dict[str, Any]:
    """What the HPA scales: the Deployment, or production's Rollout with the canary option."""
    target = the(objects, "HorizontalPodAutoscaler")["spec"]["scaleTargetRef"]
    return named(objects, target["kind"], target["name"])


def surge_pods(workload: dict[str, Any], replicas: int) -> int:
    """Pods a rollout may add above `replicas` (maxSurge, a count or a percentage)."""
    strategy = workload["spec"]["strategy"]
    surge = (strategy.get("rollingUpdate") or strategy.get("canary") or {}).get("maxSurge", "25%")
    if isinstance(surge, str) and surge.endswith("%"):
        return math.ceil(replicas * int(surge[:-1]) / 100)
    return int(surge)


def quantity(value: str | int | float) -> float:
    """A Kubernetes quantity (`250m`, `1`, `192Mi`, `4Gi`) as a number of cores or bytes."""
    text = str(value)
    suffixes = {"m": 1e-3, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30}
    for suffix, factor in suffixes.items():
        if text.endswith(suffix):
            return float(text[: -len(suffix)]) * factor
    return float(text)


def pod_resources(pod_spec: dict[str, Any], bound: str, resource: str) -> float:
    """A pod's effective request or limit: its containers' sum, or its largest init container."""
    running = sum(quantity(c["resources"][bound][resource]) for c in pod_spec["containers"])
    starting = [
        quantity(c["resources"][bound][resource]) for c in pod_spec.get("initContainers", [])
    ]
    return max([running, *starting])


def env_file(path: Path) -> dict[str, str]:
    lines = path.read_text().splitlines()
    pairs = [line.split("=", 1) for line in lines if line.strip() and not line.startswith("#")]
    return {key: value for key, value in pairs}


def connection_budget() -> int:
    """PostgreSQL connections the overlays may use (copier.yml's documented computed values)."""
    questions = yaml.safe_load((REPO / "copier.yml").read_text())
    maximum = int(questions["database_max_connections"]["default"])
    reserved = int(questions["database_reserved_connections"]["default"])
    return maximum - reserved


# ---- every overlay builds and validates ----


@pytest.mark.parametrize("combination", list(VALID))
def test_every_overlay_builds_and_its_core_objects_validate_strictly(
    manifests: Callable[[str], RenderedManifests], combination: str
) -> None:
    rendered = manifests(combination)
    validator = kubernetes_validate()
    problems = []
    for directory in rendered.kustomizations:
        for obj in rendered.objects(directory):
            group = obj["apiVersion"].rpartition("/")[0]
            if group in CUSTOM_RESOURCE_GROUPS:
                continue  # checked by test_custom_resources_are_allowed_and_complete
            try:
                validator.validate(obj, MINIMUM_KUBERNETES, strict=True)
            except validator.SchemaNotFoundError:
                problems.append(
                    f"{directory}: {obj['apiVersion']} {obj['kind']} is neither in Kubernetes "
                    f"{MINIMUM_KUBERNETES} nor an allowed custom resource group"
                )
            except validator.ValidationError as error:
                location = ".".join(map(str, error.path))
                problems.append(f"{directory}: {obj['kind']} {location}: {error.message}")
    assert problems == []


@pytest.mark.parametrize("combination", list(VALID))
def test_custom_resources_are_allowed_and_complete(
    manifests: Callable[[str], RenderedManifests], combination: str
) -> None:
    rendered = manifests(combination)
    problems = []
    for directory in rendered.kustomizations:
        for obj in rendered.objects(directory):
            group = obj["apiVersion"].rpartition("/")[0]
            if "." not in group or group.endswith(".k8s.io"):
                continue  # a Kubernetes API group, validated against its schema
            if group not in CUSTOM_RESOURCE_GROUPS:
                problems.append(f"{directory}: {obj['apiVersion']} is not an allowed group")
                continue
            required = CUSTOM_RESOURCE_REQUIRED_FIELDS.get((obj["apiVersion"], obj["kind"]))
            if required is None:
                problems.append(f"{directory}: list the required fields of {obj['kind']}")
                continue
            missing = [path for path in required if dig(obj, path) in (None, [], {})]
            if missing or not dig(obj, "metadata.name"):
                problems.append(f"{directory}: {obj['kind']} lacks {missing or 'a name'}")
    assert problems == []


def test_strict_validation_rejects_an_unknown_field() -> None:
    """The validator is really strict at the pinned version: a misspelt field fails."""
    validator = kubernetes_validate()
    config_map = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}, "datta": {}}
    with pytest.raises(validator.ValidationError):
        validator.validate(config_map, MINIMUM_KUBERNETES, strict=True)


@pytest.fixture(scope="session")
def production_checkov_reports(
    manifests: Callable[[str], RenderedManifests], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, CheckovReport]:
    """checkov on every valid combination's production overlay, in one run, by combination."""
    directory = tmp_path_factory.mktemp("checkov")
    files = {}
    for index, combination in enumerate(VALID):
        files[combination] = directory / f"production-{index}.yaml"
        files[combination].write_text(manifests(combination).built("overlays/production"))
    reports = run_checkov(list(files.values()))
    return {combination: reports[path] for combination, path in files.items()}


@pytest.mark.parametrize("combination", list(VALID))
def test_checkov_finds_nothing_in_the_production_overlay(
    manifests: Callable[[str], RenderedManifests],
    production_checkov_reports: dict[str, CheckovReport],
    combination: str,
    record_property: Callable[[str, object], None],
) -> None:
    rendered = manifests(combination)
    report = production_checkov_reports[combination]
    record_property("checkov_passed", report.passed)
    print(f"checkov {combination}: {report.passed} passed, {report.skipped} skipped")
    assert report.failures == []
    assert (report.failed, report.parsing_errors) == (0, 0)
    # The checks really ran on every pod-running object, not on an empty or unparsed file.
    workloads = {
        f"{obj['kind']}.{obj['metadata']['namespace']}.{obj['metadata']['name']}"
        for obj in rendered.overlay("production")
        if obj["kind"] in {"Deployment", "Job"}
    }
    assert workloads <= report.checked


# ---- secrets ----


def test_no_template_file_declares_a_secret() -> None:
    """No template file under k8s/ declares a Secret: only kustomize's generator makes them."""
    templates = (REPO / "template" / "k8s").rglob("*")
    declared = [
        path
        for path in templates
        if path.is_file() and re.search(r"^kind:\s*Secret\s*$", path.read_text(), re.MULTILINE)
    ]
    assert declared == []


@pytest.mark.parametrize("combination", list(VALID))
def test_secrets_are_generated_from_the_committed_placeholders_only(
    manifests: Callable[[str], RenderedManifests], combination: str
) -> None:
    rendered = manifests(combination)
    for overlay in OVERLAYS:
        objects = rendered.overlay(overlay)
        secrets = of_kind(objects, "Secret")
        secret_refs = {
            ref["secretRef"]["name"]
            for pod in pod_specs(objects).values()
            for container in containers(pod)
            for ref in container.get("envFrom", [])
            if "secretRef" in ref
        }
        example = rendered.fresh / "k8s" / "overlays" / overlay / "secrets.env.example"
        if example.exists():
            (secret,) = secrets
            # kustomize's secretGenerator: <slug>-secrets-<content hash>.
            assert re.fullmatch(rf"{rendered.slug}-secrets-[a-z0-9]{{10}}", secret_name(secret))
            data = {key: base64.b64decode(value).decode() for key, value in secret["data"].items()}
            assert data == env_file(example)
            assert all("change-me" in value for value in data.values()), data
            assert secret_refs == {secret_name(secret)}
        else:
            assert secrets == []
            external = the(objects, "ExternalSecret")
            assert secret_refs == {external["metadata"]["name"]} == {f"{rendered.slug}-secrets"}


def secret_name(secret: dict[str, Any]) -> str:
    return str(secret["metadata"]["name"])


@pytest.mark.parametrize("combination", FILE_SECRETS)
def test_a_fresh_render_builds_dev_and_refuses_staging_and_production_without_secrets_env(
    manifests: Callable[[str], RenderedManifests], combination: str
) -> None:
    fresh = manifests(combination).fresh / "k8s" / "overlays"
    assert of_kind(load_objects(kustomize(fresh / "dev")), "Secret")
    assert not list(fresh.glob("*/secrets.env"))
    for overlay in ("staging", "production"):
        with pytest.raises(KustomizeError, match=r"secrets\.env"):
            kustomize(fresh / overlay)


def test_secrets_env_is_git_ignored(
    manifests: Callable[[str], RenderedManifests], tmp_path: Path
) -> None:
    fresh = manifests(FILE_SECRETS[0]).fresh
    repository = tmp_path / "repository"
    shutil.copytree(fresh, repository)
    subprocess.run(["git", "init", "--quiet", repository], check=True)
    for overlay in OVERLAYS:
        for name, ignored in (("secrets.env", True), ("secrets.env.example", False)):
            path = f"k8s/overlays/{overlay}/{name}"
            check = subprocess.run(
                ["git", "check-ignore", "--quiet", path], cwd=repository, check=False
            )
            assert (check.returncode == 0) is ignored, path


# ---- pods ----


@pytest.mark.parametrize("combination", list(VALID))
def test_pods_run_locked_down_with_resources(
    manifests: Callable[[str], RenderedManifests], combination: str
) -> None:
    rendered = manifests(combination)
    recorded = rendered.recorded
    image = f"{recorded['container_registry']}/{rendered.slug}:"
    for overlay in OVERLAYS:
        objects = rendered.overlay(overlay)
        assert the(objects, "ServiceAccount")["automountServiceAccountToken"] is False
        for owner, pod in pod_specs(objects).items():
            context = pod["securityContext"]
            assert pod["automountServiceAccountToken"] is False, owner
            assert context["runAsNonRoot"] is True, owner
            assert context["runAsUser"] >= 10000, owner
            assert context["seccompProfile"] == {"type": "RuntimeDefault"}, owner
            writable = {volume["name"] for volume in pod.get("volumes", []) if "emptyDir" in volume}
            for container in containers(pod):
                where = f"{overlay} {owner} {container['name']}"
                assert container["securityContext"] == {
                    "allowPrivilegeEscalation": False,
                    "readOnlyRootFilesystem": True,
                    "capabilities": {"drop": ["ALL"]},
                }, where
                mounts = {m["mountPath"]: m["name"] for m in container.get("volumeMounts", [])}
                assert mounts.get("/tmp") in writable, where
                for bound in ("requests", "limits"):
                    assert set(container["resources"][bound]) == {"cpu", "memory"}, where
                assert container["image"].startswith(image), where
                assert container["imagePullPolicy"] == "Always", where


@pytest.mark.parametrize("combination", list(VALID))
def test_probes_use_the_health_endpoints_and_shutdown_outlasts_the_drain(
    manifests: Callable[[str], RenderedManifests], combination: str
) -> None:
    rendered = manifests(combination)
    # uvicorn's drain, as `make run` and (once there is one) the image's command state it.
    servers = [rendered.fresh / name for name in ("Makefile", "Dockerfile")]
    drains = {
        int(found)
        for server in servers
        if server.exists()
        for found in re.findall(r'--timeout-graceful-shutdown"?,?\s*"?(\d+)', server.read_text())
    }
    assert len(drains) == 1, f"uvicorn's --timeout-graceful-shutdown: {drains or 'not found'}"
    (drain,) = drains
    for overlay in OVERLAYS:
        objects = rendered.overlay(overlay)
        container = api_container(objects)
        ports = {port["name"]: port["containerPort"] for port in container["ports"]}
        assert ports == {"http": 8000}
        probes = {
            probe: (container[probe]["httpGet"]["path"], container[probe]["httpGet"]["port"])
            for probe in ("startupProbe", "livenessProbe", "readinessProbe")
        }
        assert probes == {
            "startupProbe": ("/health/live", "http"),
            "livenessProbe": ("/health/live", "http"),
            "readinessProbe": ("/health/ready", "http"),
        }
        readiness_timeout = float(service_config(objects)["data"]["READINESS_TIMEOUT_SECONDS"])
        assert container["readinessProbe"]["timeoutSeconds"] > readiness_timeout
        pod = the(objects, "Deployment")["spec"]["template"]["spec"]
        pre_stop = container["lifecycle"]["preStop"]["sleep"]["seconds"]
        needed = pre_stop + drain + LIFESPAN_SHUTDOWN_SECONDS
        assert pod["terminationGracePeriodSeconds"] >= needed


@pytest.mark.parametrize("combination", list(VALID))
def test_replicas_spread_scale_and_survive_disruptions(
    manifests: Callable[[str], RenderedManifests], combination: str
) -> None:
    rendered = manifests(combination)
    for overlay in OVERLAYS:
        objects = rendered.overlay(overlay)
        deployment = the(objects, "Deployment")
        pod = deployment["spec"]["template"]["spec"]
        # The HPA owns the count: a `replicas` here would reset it on every apply.
        assert "replicas" not in deployment["spec"]
        assert deployment["spec"]["strategy"]["type"] == "RollingUpdate"
        assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
        spread = {c["topologyKey"] for c in pod["topologySpreadConstraints"]}
        assert spread == {"topology.kubernetes.io/zone", "kubernetes.io/hostname"}

        autoscaler = the(objects, "HorizontalPodAutoscaler")
        assert autoscaler["apiVersion"] == "autoscaling/v2"
        metrics = {metric["resource"]["name"] for metric in autoscaler["spec"]["metrics"]}
        assert metrics == {"cpu", "memory"}
        assert set(autoscaler["spec"]["behavior"]) == {"scaleUp", "scaleDown"}
        assert 1 <= autoscaler["spec"]["minReplicas"] <= autoscaler["spec"]["maxReplicas"]
        workload = scaled_workload(objects)
        assert "replicas" not in workload["spec"]

        budget = the(objects, "PodDisruptionBudget")["spec"]
        assert budget["selector"] == deployment["spec"]["selector"]
        assert budget["maxUnavailable"] == 1
    production = the(rendered.overlay("production"), "HorizontalPodAutoscaler")
    assert production["spec"]["minReplicas"] >= 3


@pytest.mark.parametrize("combination", list(VALID))
def test_production_limits_are_tighter(
    manifests: Callable[[str], RenderedManifests], combination: str
) -> None:
    rendered = manifests(combination)
    staging = api_container(rendered.overlay("staging"))["resources"]
    production = api_container(rendered.overlay("production"))["resources"]
    for resource in ("cpu", "memory"):
        assert quantity(production["limits"][resource]) <= quantity(staging["limits"][resource])
        assert quantity(production["requests"][resource]) >= quantity(staging["requests"][resource])
    assert production["limits"]["memory"] == production["requests"]["memory"]


@pytest.mark.parametrize("combination", list(VALID))
def test_the_quota_holds_the_busiest_moment(
    manifests: Callable[[str], RenderedManifests], combination: str
) -> None:
    """HPA maxReplicas + surge pods, the migration Job and the ACME solver, all at once."""
    rendered = manifests(combination)
    for overlay in OVERLAYS:
        objects = rendered.overlay(overlay)
        hard = the(objects, "ResourceQuota")["spec"]["hard"]
        max_replicas = the(objects, "HorizontalPodAutoscaler")["spec"]["maxReplicas"]
        api_pods = max_replicas + surge_pods(scaled_workload(objects), max_replicas)
        api_pod = the(objects, "Deployment")["spec"]["template"]["spec"]
        jobs = [job["spec"]["template"]["spec"] for job in of_kind(objects, "Job")]
        assert int(hard["pods"]) >= api_pods + len(jobs) + 1, overlay
        for bound, resource in itertools.product(("requests", "limits"), ("cpu", "memory")):
            peak = api_pods * pod_resources(api_pod, bound, resource)
            peak += sum(pod_resources(job, bound, resource) for job in jobs)
            peak += ACME_SOLVER_POD[bound][resource]
            allowed = quantity(hard[f"{bound}.{resource}"])
            assert peak <= allowed, f"{overlay} {bound}.{resource}: peak {peak} > {allowed}"
        assert the(objects, "LimitRange")["spec"]["limits"][0]["type"] == "Container"


# ---- the database ----


@pytest.mark.parametrize("combination", POSTGRESQL)
def test_database_connections_stay_within_the_servers_limit(
    manifests: Callable[[str], RenderedManifests], combination: str
) -> None:
    """(HPA maxReplicas + surge) x (pool + overflow) + the migration Job <= the budget."""
    rendered = manifests(combination)
    budget = connection_budget()
    guide = (rendered.fresh / "docs" / "deployment.md").read_text()
    for overlay in OVERLAYS:
        objects = rendered.overlay(overlay)
        config = service_config(objects)["data"]
        pool, overflow = int(config["DB_POOL_SIZE"]), int(config["DB_MAX_OVERFLOW"])
        max_replicas = the(objects, "HorizontalPodAutoscaler")["spec"]["maxReplicas"]
        surge = surge_pods(scaled_workload(objects), max_replicas)
        migration = len(of_kind(objects, "Job"))  # alembic holds one connection
        peak = (max_replicas + surge) * (pool + overflow) + migration
        arithmetic = f"({max_replicas} + {surge}) pods x ({pool} + {overflow}) + {migration}"
        assert peak <= budget, f"{overlay}: {arithmetic} = {peak} > {budget} connections"
        # The overlay's comment shows the same sum, so that the reader's arithmetic is this one.
        comment = (rendered.fresh / "k8s" / "overlays" / overlay / "database-pool.env").read_text()
        assert f"{arithmetic} = {peak} <= {budget}" in comment, overlay
        sizing = f"| {overlay} | {arithmetic} = {peak} |"  # docs/deployment.md's table
        assert sizing in guide, f"docs/deployment.md lacks {sizing!r}"


@pytest.mark.parametrize("combination", SQLITE)
def test_sqlite_pods_migrate_their_own_database_file(
    manifests: Callable[[str], RenderedManifests], combination: str
) -> None:
    for overlay in OVERLAYS:
        objects = manifests(combination).overlay(overlay)
        assert of_kind(objects, "Job") == []
        assert "DB_POOL_SIZE" not in service_config(objects)["data"]
        pod = the(objects, "Deployment")["spec"]["template"]["spec"]
        (migrate,) = pod["initContainers"]
        assert migrate["command"] == ["migrate"]
        assert migrate["image"] == api_container(objects)["image"]
        for container in (migrate, api_container(objects)):
            url = {env["name"]: env["value"] for env in container["env"]}["DATABASE_URL"]
            directory = url.removeprefix("sqlite+aiosqlite:///").rpartition("/")[0]
            mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
            assert mounts[directory] == "database"


@pytest.mark.parametrize("combination", POSTGRESQL)
def test_the_migration_job_runs_the_release_image_before_the_rollout(
    manifests: Callable[[str], RenderedManifests], combination: str
) -> None:
    rendered = manifests(combination)
    slug = rendered.slug
    for overlay in OVERLAYS:
        objects = rendered.overlay(overlay)
        job = the(objects, "Job")
        (migrate,) = job["spec"]["template"]["spec"]["containers"]
        assert migrate["command"] == ["migrate"]
        assert migrate["image"] == api_container(objects)["image"]
        assert migrate["envFrom"] == api_container(objects)["envFrom"]
        annotations = {
            f"{obj['kind']}/{obj['metadata']['name']}": obj["metadata"].get("annotations", {})
            for obj in objects
        }
        waves = {
            owner: found.get("argocd.argoproj.io/sync-wave", "0")
            for owner, found in annotations.items()
        }
        if rendered.answers["gitops"]:
            # Configuration first, then the migration hook, then the workload.
            assert annotations[f"Job/{slug}-migrate"]["argocd.argoproj.io/hook"] == "Sync"
            assert waves[f"Job/{slug}-migrate"] == "-1"
            prerequisites = {"ConfigMap", "Secret", "ExternalSecret", "NetworkPolicy"}
            for owner, wave in waves.items():
                if owner.split("/")[0] in prerequisites | {"ServiceAccount", "Namespace"}:
                    assert wave == "-2", owner
            assert waves[f"Deployment/{slug}-api"] == "0"
        else:
            assert not any(
                key.startswith("argocd") for found in annotations.values() for key in found
            )
    # Without Argo CD, the documented steps wait for the Job before applying the workload.
    steps = (rendered.fresh / "docs" / "deployment.md").read_text()
    assert re.search(rf"kubectl .*wait --for=condition=complete job/{slug}-migrate", steps)


@pytest.mark.parametrize("combination", POSTGRESQL)
def test_the_documented_schema_downgrade_applies_one_renamed_job(
    manifests: Callable[[str], RenderedManifests], combination: str
) -> None:
    """docs/rollback.md's throwaway overlay, as written, selects nothing but a downgrade Job."""
    rendered = manifests(combination)
    guide = (rendered.fresh / "docs" / "rollback.md").read_text()
    written = re.search(
        r"cat > k8s/downgrade/kustomization.yaml <<'EOF'\n(.+?)\nEOF\n", guide, re.S
    )
    assert written, "docs/rollback.md no longer writes k8s/downgrade/kustomization.yaml"
    throwaway = rendered.deployable / "downgrade"
    throwaway.mkdir(exist_ok=True)
    (throwaway / "kustomization.yaml").write_text(written.group(1))
    objects = load_objects(kustomize(throwaway))
    selected = [
        obj
        for obj in objects
        if obj["metadata"].get("labels", {}).get("app.kubernetes.io/component") == "migration"
    ]
    (job,) = selected
    assert job["metadata"]["name"] == f"{rendered.slug}-downgrade"
    (container,) = job["spec"]["template"]["spec"]["containers"]
    assert container["command"] == ["alembic", "downgrade", "<revision>"]
    assert container["image"].endswith(":<the newer release's tag>")


@pytest.mark.parametrize("combination", list(VALID))
def test_network_policies_deny_by_default_and_allow_only_whats_needed(
    manifests: Callable[[str], RenderedManifests], combination: str
) -> None:
    rendered = manifests(combination)
    expected_egress = {(53, "UDP"), (53, "TCP")}
    if rendered.answers["database"] == "postgresql":
        expected_egress.add((5432, "TCP"))
    for overlay in OVERLAYS:
        policies = [
            policy["spec"] for policy in of_kind(rendered.overlay(overlay), "NetworkPolicy")
        ]
        assert {
            "podSelector": {},
            "policyTypes": ["Ingress", "Egress"],
        } in policies, "no default deny"
        egress = {
            (port["port"], port.get("protocol", "TCP"))
            for policy in policies
            for rule in policy.get("egress", [])
            for port in rule["ports"]
        }
        assert egress == expected_egress, overlay
        sources = {
            peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
            for policy in policies
            for rule in policy.get("ingress", [])
            for peer in rule["from"]
        }
        assert sources == {"ingress-nginx", "monitoring"}, overlay


# ---- traffic and monitoring ----


@pytest.mark.parametrize("combination", list(VALID))
def test_ingress_serves_the_api_over_tls_only(
    manifests: Callable[[str], RenderedManifests], combination: str
) -> None:
    rendered = manifests(combination)
    domain = rendered.recorded["domain"]
    hosts = {"dev": f"dev.{domain}", "staging": f"staging.{domain}", "production": domain}
    for overlay in OVERLAYS:
        objects = rendered.overlay(overlay)
        ingress = the(objects, "Ingress")
        annotations = ingress["metadata"]["annotations"]
        assert annotations["cert-manager.io/cluster-issuer"]
        assert annotations["nginx.ingress.kubernetes.io/force-ssl-redirect"] == "true"
        (rule,) = ingress["spec"]["rules"]
        (tls,) = ingress["spec"]["tls"]
        assert rule["host"] == hosts[overlay]
        assert tls["hosts"] == [hosts[overlay]]
        # The API, and the readiness check alone for the uptime probe (not /health/live, /metrics).
        paths = {(path["path"], path["pathType"]): path for path in rule["http"]["paths"]}
        assert paths.keys() == {("/api", "Prefix"), ("/health/ready", "Exact")}
        for path in paths.values():
            service = named(objects, "Service", path["backend"]["service"]["name"])
            port_names = {port["name"] for port in service["spec"]["ports"]}
            assert path["backend"]["service"]["port"]["name"] in port_names


@pytest.mark.parametrize("combination", list(VALID))
def test_prometheus_scrapes_metrics_through_the_service(
    manifests: Callable[[str], RenderedManifests], combination: str
) -> None:
    for overlay in OVERLAYS:
        objects = manifests(combination).overlay(overlay)
        monitor = the(objects, "ServiceMonitor")
        service = the(objects, "Service")
        (endpoint,) = monitor["spec"]["endpoints"]
        assert (endpoint["path"], endpoint["port"]) == ("/metrics", "http")
        assert monitor["spec"]["selector"]["matchLabels"].items() <= (
            service["metadata"]["labels"].items()
        )
        assert endpoint["port"] in {port["name"] for port in service["spec"]["ports"]}
        # job="<slug>" on every series, which the rules select by; kube-prometheus-stack's label.
        assert monitor["spec"]["jobLabel"] == "app.kubernetes.io/name"
        assert service["metadata"]["labels"]["app.kubernetes.io/name"] == (
            manifests(combination).slug
        )
        slug = manifests(combination).slug
        for selected in [monitor, *of_kind(objects, "PrometheusRule")]:
            assert selected["metadata"]["labels"]["release"] == "kube-prometheus-stack"
        rules = named(objects, "PrometheusRule", f"{slug}-api")
        expressions = [rule["expr"] for group in rules["spec"]["groups"] for rule in group["rules"]]
        assert all(slug in expr for expr in expressions)


@pytest.mark.parametrize("combination", list(VALID))
def test_the_uptime_probe_checks_each_overlays_public_readiness_url(
    manifests: Callable[[str], RenderedManifests], combination: str
) -> None:
    rendered = manifests(combination)
    for overlay in OVERLAYS:
        objects = rendered.overlay(overlay)
        (rule,) = the(objects, "Ingress")["spec"]["rules"]
        probe = the(objects, "Probe")
        assert probe["spec"]["targets"]["staticConfig"]["static"] == [
            f"https://{rule['host']}/health/ready"
        ]
        assert probe["spec"]["module"] == "http_2xx"
        # The alert reads the probe's job.
        (alert,) = [
            alert
            for rules in of_kind(objects, "PrometheusRule")
            for group in rules["spec"]["groups"]
            for alert in group["rules"]
            if alert.get("alert") == "UptimeProbeFailing"
        ]
        assert f'job="{probe["spec"]["jobName"]}"' in alert["expr"]
        assert alert["labels"]["severity"] == "page"


@pytest.mark.parametrize("combination", list(VALID))
def test_alerts_are_routed_by_severity_with_credentials_from_the_overlays_secret(
    manifests: Callable[[str], RenderedManifests], combination: str
) -> None:
    rendered = manifests(combination)
    for overlay in OVERLAYS:
        objects = rendered.overlay(overlay)
        spec = the(objects, "AlertmanagerConfig")["spec"]
        receivers = {receiver["name"]: receiver for receiver in spec["receivers"]}
        routes = {
            matcher["value"]: route["receiver"]
            for route in spec["route"]["routes"]
            for matcher in route["matchers"]
            if matcher["name"] == "severity" and matcher.get("matchType", "=") == "="
        }
        assert routes == {"page": "page", "ticket": "ticket"}
        assert spec["route"]["receiver"] in receivers
        assert {"alertname", "namespace"} <= set(spec["route"]["groupBy"])
        (pagerduty,) = receivers["page"]["pagerdutyConfigs"]
        (webhook,) = receivers["ticket"]["webhookConfigs"]
        assert "url" not in webhook  # the URL only in the Secret
        references = [pagerduty["routingKey"], webhook["urlSecret"]]
        secrets = of_kind(objects, "Secret") or of_kind(objects, "ExternalSecret")
        (secret,) = secrets
        assert {ref["name"] for ref in references} == {secret["metadata"]["name"]}
        if secret["kind"] == "Secret":
            assert {ref["key"] for ref in references} <= secret["data"].keys()


@pytest.mark.parametrize("combination", list(VALID))
def test_prometheus_and_alertmanager_select_the_monitoring_objects(
    manifests: Callable[[str], RenderedManifests], combination: str
) -> None:
    """kube-prometheus-stack picks Probes, PrometheusRules and AlertmanagerConfigs by label."""
    rendered = manifests(combination)
    key, value = rendered.recorded["prometheus_selector_label"].split("=", 1)
    for overlay in OVERLAYS:
        for kind in ("Probe", "PrometheusRule", "AlertmanagerConfig"):
            for obj in of_kind(rendered.overlay(overlay), kind):
                assert obj["metadata"]["labels"].get(key) == value, (overlay, kind)


@pytest.mark.parametrize("combination", list(VALID))
def test_the_dashboard_reaches_grafanas_sidecar(
    manifests: Callable[[str], RenderedManifests], combination: str
) -> None:
    rendered = manifests(combination)
    dashboard = (rendered.fresh / "k8s" / "base" / "grafana-dashboard.json").read_text()
    assert json.loads(dashboard)["uid"] == rendered.slug
    # kubectl apply copies the object into an annotation of at most 256 KiB.
    assert len(dashboard.encode()) < 256 * 1024
    for overlay in OVERLAYS:
        # A stable name, no hash suffix: the sidecar updates one dashboard file in place.
        config_map = named(
            rendered.overlay(overlay), "ConfigMap", f"{rendered.slug}-grafana-dashboard"
        )
        assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"
        assert config_map["data"] == {f"{rendered.slug}.json": dashboard}


# ---- options ----


@pytest.mark.parametrize("combination", list(VALID))
def test_canary_replaces_the_rolling_update_in_production_only(
    manifests: Callable[[str], RenderedManifests], combination: str
) -> None:
    rendered = manifests(combination)
    for overlay in ("dev", "staging"):
        assert of_kind(rendered.overlay(overlay), "Rollout") == []
    objects = rendered.overlay("production")
    if not rendered.answers["canary"]:
        assert of_kind(objects, "Rollout") == []
        return
    rollout = the(objects, "Rollout")
    deployment = the(objects, "Deployment")
    assert rollout["spec"]["workloadRef"]["name"] == deployment["metadata"]["name"]
    assert rollout["spec"]["selector"] == deployment["spec"]["selector"]
    assert scaled_workload(objects) is rollout
    canary = rollout["spec"]["strategy"]["canary"]
    (template,) = canary["analysis"]["templates"]
    analysis = named(objects, "AnalysisTemplate", template["templateName"])
    # Their conditions on no data and on data: test_canary_analysis.py.
    queries = {
        metric["name"]: metric["provider"]["prometheus"]["query"]
        for metric in analysis["spec"]["metrics"]
    }
    assert queries.keys() == {"server-error-rate", "p95-latency"}
    assert "http_requests_total" in queries["server-error-rate"]
    assert 'status=~"5.."' in queries["server-error-rate"]
    assert "http_request_duration_seconds_bucket" in queries["p95-latency"]
    for query in queries.values():
        assert "{{args.canary-hash}}" in query  # Argo's placeholders survived copier's Jinja
    labels = the(objects, "ServiceMonitor")["spec"]["podTargetLabels"]
    assert labels == ["rollouts-pod-template-hash"]


@pytest.mark.parametrize("combination", GITOPS)
def test_argocd_has_one_application_per_overlay(
    manifests: Callable[[str], RenderedManifests], combination: str
) -> None:
    rendered = manifests(combination)
    objects = rendered.objects("argocd")
    project = the(objects, "AppProject")
    applications = of_kind(objects, "Application")
    assert len(applications) == len(OVERLAYS)
    for application in applications:
        spec = application["spec"]
        overlay = spec["source"]["path"].removeprefix("k8s/overlays/")
        assert overlay in OVERLAYS
        namespace = the(rendered.overlay(overlay), "Namespace")["metadata"]["name"]
        assert spec["destination"]["namespace"] == namespace
        assert spec["source"]["repoURL"] == rendered.recorded["repository_url"]
        assert spec["project"] == project["metadata"]["name"]
        assert {"namespace": namespace, "server": spec["destination"]["server"]} in (
            project["spec"]["destinations"]
        )


# ---- bad input ----


@pytest.mark.parametrize("combination", list(REFUSED))
def test_gitops_without_external_secrets_is_refused(combination: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="external_secrets must be on with gitops: Argo CD"):
        render(tmp_path / "service", REFUSED[combination])
    assert not (tmp_path / "service" / "k8s").exists()


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ({"container_registry": "https://ghcr.io/acme"}, "container_registry must be"),
        ({"container_registry": "ghcr.io/acme/"}, "container_registry must be"),
        ({"container_registry": "GHCR.io/acme"}, "container_registry must be"),
        ({"domain": "api_example.com"}, "domain must be"),
        ({"domain": "localhost"}, "domain must be"),
        ({"domain": "-api.example.com"}, "domain must be"),
        ({"repository_url": "ftp://example.com/acme/service.git"}, "repository_url must be"),
        ({"repository_url": "https://example.com/acme/my service.git"}, "repository_url must be"),
        ({"slo_availability": 100}, "slo_availability must be a percentage from 90"),
        ({"slo_availability": 89.9}, "slo_availability must be a percentage from 90"),
        ({"slo_latency_ms": 150}, "slo_latency_ms must be one of the latency histogram's"),
        ({"prometheus_selector_label": "release"}, "prometheus_selector_label must be"),
        ({"prometheus_selector_label": "my release=x"}, "prometheus_selector_label must be"),
        ({"prometheus_selector_label": "release=-x"}, "prometheus_selector_label must be"),
    ],
)
def test_invalid_kubernetes_answers_are_refused(
    answer: dict[str, Any], message: str, tmp_path: Path
) -> None:
    with pytest.raises(ValueError, match=message):
        render(tmp_path / "service", answer)


@pytest.mark.parametrize(
    "answer",
    [
        {"container_registry": "registry.example.com:5000/platform/team"},
        {"domain": "orders.eu-west-1.example.co.uk"},
        {"repository_url": "git@github.com:acme/orders.git"},
        {"slo_availability": 99.95, "slo_latency_ms": 1000},
        {"prometheus_selector_label": "monitoring.example.com/prometheus=main"},
    ],
)
def test_valid_kubernetes_answers_are_accepted(answer: dict[str, Any], tmp_path: Path) -> None:
    render(tmp_path / "service", answer)
    recorded = yaml.safe_load((tmp_path / "service" / ".copier-answers.yml").read_text())
    assert answer.items() <= recorded.items()


@pytest.mark.parametrize(
    ("repository_url", "web_url"),
    [
        ("https://github.com/acme/orders.git", "https://github.com/acme/orders"),
        ("git@github.com:acme/orders.git", "https://github.com/acme/orders"),
        (
            "ssh://git@gitlab.example.com:2222/team/orders.git",
            "https://gitlab.example.com/team/orders",
        ),
    ],
)
def test_alerts_link_runbooks_in_the_repository(
    repository_url: str, web_url: str, tmp_path: Path
) -> None:
    render(tmp_path / "service", {"repository_url": repository_url})
    rules = yaml.safe_load((tmp_path / "service" / "k8s/base/prometheus-rules.yaml").read_text())
    alerts = [
        rule for group in rules["spec"]["groups"] for rule in group["rules"] if "alert" in rule
    ]
    assert len(alerts) == 12
    for alert in alerts:
        assert alert["labels"]["severity"] in {"page", "ticket"}
        assert alert["annotations"]["summary"]
        assert alert["annotations"]["description"]
        assert alert["annotations"]["runbook_url"] == (
            f"{web_url}/blob/main/docs/runbooks/{alert['alert']}.md"
        )
