"""The canary analysis cannot pass on no data, and gates on the 5xx share and the p95 latency.

The production overlay with the canary option is built with kustomize; the AnalysisTemplate's
conditions, with the Rollout's arguments put in as Argo Rollouts does, are evaluated for the
results Prometheus can give (tests/harness/argo_expr.py, a deliberately small evaluator of Argo's
expr conditions). That the queries really give `[]` without data is the generated project's own
promtool test (tests/alerts/canary-analysis.yaml, run by `make alerts`).
"""

import math
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from .argo_expr import UnsupportedExpression, evaluate, measurement_phase
from .environment import unavailable
from .k8s_tools import kustomize, load_objects
from .template import render

NO_DATA = "Inconclusive"  # Argo Rollouts pauses the rollout: a human promotes or aborts


def production(tmp_path: Path, **answers: Any) -> list[dict[str, Any]]:
    render(tmp_path / "service", {"canary": True, **answers})
    overlay = tmp_path / "service" / "k8s" / "overlays" / "production"
    shutil.copyfile(overlay / "secrets.env.example", overlay / "secrets.env")
    return load_objects(kustomize(overlay))


def analysis_metrics(objects: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The metrics of the Rollout's AnalysisTemplate, its `{{args.NAME}}` set from the Rollout."""
    (rollout,) = [obj for obj in objects if obj["kind"] == "Rollout"]
    analysis = rollout["spec"]["strategy"]["canary"]["analysis"]
    (template_ref,) = analysis["templates"]
    (template,) = [
        obj
        for obj in objects
        if obj["kind"] == "AnalysisTemplate"
        and obj["metadata"]["name"] == template_ref["templateName"]
    ]
    values = {arg["name"]: arg["value"] for arg in analysis["args"] if "value" in arg}
    declared = {arg["name"] for arg in template["spec"]["args"]}
    assert {arg["name"] for arg in analysis["args"]} == declared

    def resolved(text: str) -> str:
        return re.sub(r"\{\{args\.([\w-]+)\}\}", lambda m: values[m.group(1)], text)

    metrics = {}
    for metric in template["spec"]["metrics"]:
        conditions = ("successCondition", "failureCondition")
        metrics[metric["name"]] = {
            **metric,
            **{key: resolved(metric[key]) for key in conditions if key in metric},
        }
    return metrics


@pytest.fixture(scope="session")
def metrics(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    return analysis_metrics(production(tmp_path_factory.mktemp("canary")))


@pytest.mark.parametrize(
    ("result", "phase"),
    [
        ([], NO_DATA),
        ([math.nan], NO_DATA),
        ([0.0], "Successful"),
        ([0.0099], "Successful"),
        ([0.01], "Failed"),
        ([0.5], "Failed"),
    ],
)
def test_the_error_rate_passes_only_on_a_measured_low_rate(
    metrics: dict[str, dict[str, Any]], result: list[float], phase: str
) -> None:
    assert measurement_phase(metrics["server-error-rate"], result) == phase


@pytest.mark.parametrize(
    ("result", "phase"),
    [
        ([], NO_DATA),
        ([math.nan], NO_DATA),
        ([0.05], "Successful"),
        ([0.2], "Successful"),  # the default slo_latency_ms, 200, is the bound itself
        ([0.201], "Failed"),
        ([2.5], "Failed"),
    ],
)
def test_the_p95_latency_passes_only_within_the_slo(
    metrics: dict[str, dict[str, Any]], result: list[float], phase: str
) -> None:
    assert measurement_phase(metrics["p95-latency"], result) == phase


def test_no_data_pauses_instead_of_promoting_or_erroring(
    metrics: dict[str, dict[str, Any]],
) -> None:
    """Inconclusive (not Error, which aborts after retries) and soon: the limits are small."""
    for metric in metrics.values():
        assert measurement_phase(metric, []) == "Inconclusive"
        assert int(metric.get("inconclusiveLimit", 0)) <= 2, metric["name"]
        assert "or vector(0)" not in metric["provider"]["prometheus"]["query"]


def test_the_latency_gate_follows_slo_latency_ms(tmp_path: Path) -> None:
    metrics = analysis_metrics(production(tmp_path, slo_latency_ms=500))
    assert measurement_phase(metrics["p95-latency"], [0.45]) == "Successful"
    assert measurement_phase(metrics["p95-latency"], [0.55]) == "Failed"


def test_the_evaluator_follows_expr() -> None:
    """The subset argo_expr implements behaves as expr does on the cases that matter here."""
    # Indexing an empty result is expr's runtime error: Argo records the measurement as Error.
    assert measurement_phase({"successCondition": "result[0] < 0.01"}, []) == "Error"
    # `&&` short-circuits, so the guarded form never indexes.
    assert evaluate("len(result) > 0 && result[0] < 0.01", []) is False
    # The condition this template had before: with `or vector(0)` no data measured [0] and passed.
    old = {"successCondition": "isNaN(result[0]) || result[0] < 0.01"}
    assert measurement_phase(old, [0.0]) == "Successful"
    assert measurement_phase(old, [math.nan]) == "Successful"
    # A success condition alone: what does not succeed fails.
    assert measurement_phase({"successCondition": "result[0] < 1"}, [2.0]) == "Failed"
    assert evaluate("!(result[0] >= 1) and not isNaN(result[0]) or result[0] == 5", [5.0])
    with pytest.raises(UnsupportedExpression):
        evaluate("result[0] in [1, 2]", [1.0])


def test_the_projects_promtool_tests_prove_the_queries_empty_on_no_data(tmp_path: Path) -> None:
    """`make alerts` of a canary project: its canary-analysis.yaml runs the shipped queries."""
    if shutil.which("promtool") is None:
        unavailable("promtool is not installed (Debian: apt-get install prometheus)")
    project = tmp_path / "service"
    render(project, {"canary": True})
    assert (project / "tests" / "alerts" / "canary-analysis.yaml").is_file()
    checked = subprocess.run(
        [sys.executable, "tests/alerts/promtool_rules.py", "check"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout[-3000:] + checked.stderr[-3000:]
    assert "canary-analysis.yaml" in checked.stdout + checked.stderr
