"""The `make manifests` gate (ci/manifests.py): strict validation, the custom resource allow-list,
the copy it renders from, and how it reads checkov's JSON report (checkov 3.3's format)."""

from pathlib import Path
from typing import Any

from ci.manifests import (
    KUBERNETES_VERSION,
    checkov_problems,
    deployable_copy,
    kustomizations,
    per_file,
    validation_problems,
)

CONFIG_MAP = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "config"}}


def test_a_valid_object_passes() -> None:
    assert validation_problems([{**CONFIG_MAP, "data": {"LOG_LEVEL": "INFO"}}]) == []


def test_a_misspelt_field_fails_strict_validation() -> None:
    (problem,) = validation_problems([{**CONFIG_MAP, "datta": {}}])
    assert problem.startswith("ConfigMap config: ")
    assert "datta" in problem


def test_a_removed_api_version_and_an_unknown_group_fail() -> None:
    ingress = {"apiVersion": "extensions/v1beta1", "kind": "Ingress", "metadata": {"name": "a"}}
    custom = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}
    assert validation_problems([ingress, custom]) == [
        f"extensions/v1beta1 Ingress a: not in Kubernetes {KUBERNETES_VERSION} "
        "nor an allowed custom resource group",
        f"example.com/v1 Widget w: not in Kubernetes {KUBERNETES_VERSION} "
        "nor an allowed custom resource group",
    ]


def test_an_allowed_custom_resource_needs_a_name_and_a_spec() -> None:
    monitor = {"apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor"}
    assert validation_problems([{**monitor, "metadata": {"name": "m"}, "spec": {"a": 1}}]) == []
    assert validation_problems([{**monitor, "metadata": {"name": "m"}}]) == [
        "ServiceMonitor m: a custom resource needs a name and a spec"
    ]


def test_every_overlay_and_argocd_are_built_from_a_copy_without_real_secrets(
    tmp_path: Path,
) -> None:
    k8s = tmp_path / "k8s"
    for overlay in ("dev", "production"):
        (k8s / "overlays" / overlay).mkdir(parents=True)
        (k8s / "overlays" / overlay / "kustomization.yaml").write_text("resources: []\n")
    (k8s / "argocd").mkdir()
    (k8s / "argocd" / "kustomization.yaml").write_text("resources: []\n")
    (k8s / "overlays" / "production" / "secrets.env.example").write_text("SECRET_KEY=change-me\n")
    (k8s / "overlays" / "production" / "secrets.env").write_text("SECRET_KEY=the-real-one\n")
    assert kustomizations(k8s) == ["overlays/dev", "overlays/production", "argocd"]
    copy = deployable_copy(k8s, tmp_path / "copy")
    assert (copy / "overlays/production/secrets.env").read_text() == "SECRET_KEY=change-me\n"
    assert not (copy / "overlays/dev/secrets.env").exists()


def check(check_id: str, path: str, **result: Any) -> dict[str, Any]:
    return {
        "check_id": check_id,
        "check_name": f"the check {check_id}",
        "resource": "Deployment.my-service-dev.my-service-api",
        "file_path": path,
        "check_result": {"result": "PASSED", **result},
    }


def test_checkov_failures_and_unexplained_skips_are_problems() -> None:
    report = {
        "summary": {"passed": 2, "failed": 1, "skipped": 2, "parsing_errors": 0},
        "results": {
            "passed_checks": [
                check("CKV_K8S_8", "/build/manifests/rendered/overlays-dev.yaml"),
                check("CKV_K8S_9", "/build/manifests/rendered/overlays-dev.yaml"),
            ],
            "failed_checks": [check("CKV_K8S_11", "/build/manifests/rendered/overlays-prod.yaml")],
            "skipped_checks": [
                check(
                    "CKV_K8S_43",
                    "/build/manifests/rendered/overlays-dev.yaml",
                    suppress_comment="the digest is pinned in the overlay at release time",
                ),
                check("CKV_K8S_35", "/x/overlays-dev.yaml", suppress_comment="why not"),
            ],
        },
    }
    assert checkov_problems(report) == [
        "overlays-prod.yaml: CKV_K8S_11 the check CKV_K8S_11: "
        "Deployment.my-service-dev.my-service-api",
        "overlays-dev.yaml: CKV_K8S_35 is skipped on "
        "Deployment.my-service-dev.my-service-api without a written reason",
    ]
    assert per_file(report, "passed_checks") == {"overlays-dev.yaml": 2}
