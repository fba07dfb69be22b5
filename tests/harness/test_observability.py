"""The dashboard and the recording rules against a real Prometheus scraping the running service.

A query that returns nothing draws an empty panel and a recording rule that records nothing
silences the alerts built on it, and neither fails anywhere else: promtool only checks the syntax.
So Prometheus (Debian's `prometheus` package) scrapes the service `make run` serves, every second,
with the project's own rules loaded, while the test sends it a bounded mix of successes and client
errors; then every panel's query and every recorded series must return at least one sample.
"""

import json
import re
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from .environment import free_port, unavailable
from .project import GeneratedProject, RunningService

pytestmark = pytest.mark.slow

DASHBOARD = Path("k8s/base/grafana-dashboard.json")
# What Grafana puts in place of its built-in variables when it runs a panel's query. 1m spans
# many one-second scrapes; 5m is a short dashboard range, as the test's own history is short.
GRAFANA_BUILTINS = {"__rate_interval": "1m", "__interval": "15s", "__range": "5m"}
PROMETHEUS_START_TIMEOUT = 30.0
DATA_TIMEOUT = 90.0  # from the first request until every query must have answered


def prometheus_binary(name: str) -> str:
    # Debian installs both in /usr/bin, which a trimmed PATH may leave out.
    found = shutil.which(name) or shutil.which(name, path="/usr/bin")
    if found is None:
        unavailable(f"{name} is not installed (Debian: apt-get install prometheus)")
    assert found is not None
    return found


# ---- the dashboard's queries ----


def panels_of(dashboard: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every panel, those inside rows included (a collapsed row holds its panels itself)."""
    for panel in dashboard["panels"]:
        yield panel
        yield from panel.get("panels", [])


def variable_values(dashboard: dict[str, Any]) -> dict[str, str]:
    """What each dashboard variable stands for in a query, as Grafana would substitute it."""
    values = dict(GRAFANA_BUILTINS)
    for variable in dashboard["templating"]["list"]:
        if variable["type"] == "constant":
            values[variable["name"]] = variable["query"]
        elif variable["type"] == "query":
            assert variable.get("includeAll"), variable["name"]
            assert variable.get("allValue"), variable["name"]
            values[variable["name"]] = variable["allValue"]  # "All", the default selection
    return values


def substitute(expr: str, values: dict[str, str]) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        assert name in values, (
            f"the query uses ${name}, which the dashboard does not define: {expr}"
        )
        return values[name]

    return re.sub(r"\$\{(\w+)\}|\$(\w+)", value, expr)


def dashboard_queries(dashboard: dict[str, Any]) -> list[tuple[str, str]]:
    """(panel title and refId, PromQL) of every target of every panel, variables substituted."""
    values = variable_values(dashboard)
    return [
        (f"{panel['title']} [{target['refId']}]", substitute(target["expr"], values))
        for panel in panels_of(dashboard)
        for target in panel.get("targets", [])
    ]


def test_dashboard_is_one_stable_dashboard_of_this_service(rendered: Path) -> None:
    dashboard = json.loads((rendered / DASHBOARD).read_text())
    slug = yaml.safe_load((rendered / ".copier-answers.yml").read_text())["project_slug"]
    assert dashboard["uid"] == slug
    variables = {variable["name"]: variable for variable in dashboard["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    assert variables["namespace"]["type"] == "query"
    assert variables["namespace"]["includeAll"] is True
    assert variables["namespace"]["query"]["query"].startswith("label_values(")

    panels = [panel for panel in panels_of(dashboard) if panel["type"] != "row"]
    titles = [panel["title"] for panel in panels]
    assert len(titles) == len(set(titles)), "panel titles are unique (the test names them)"
    ids = [panel["id"] for panel in panels_of(dashboard)]
    assert len(ids) == len(set(ids))
    for panel in panels:
        assert panel["targets"], panel["title"]
        assert panel.get("description"), f"{panel['title']}: docs/dashboards.md needs a description"
        for target in [panel, *panel["targets"]]:
            assert target["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
    for title, expr in dashboard_queries(dashboard):
        # Every selector of the service's metrics is this service's job, in the chosen namespaces.
        for selector in re.findall(r"[a-z_:]+\{[^}]*\}", expr):
            assert f'job="{slug}"' in selector, f"{title}: {selector} does not select the job"
            assert 'namespace=~".*"' in selector, f"{title}: {selector} ignores $namespace"


# ---- a real Prometheus ----


@contextmanager
def prometheus(workdir: Path, job: str, target: str, rules: Path) -> Iterator[httpx.Client]:
    """Prometheus on a free loopback port, scraping `target` as `job` every second with `rules`."""
    config = {
        "global": {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(rules)],
        "scrape_configs": [{"job_name": job, "static_configs": [{"targets": [target]}]}],
    }
    config_path = workdir / "prometheus.yaml"
    config_path.write_text(yaml.safe_dump(config))
    port = free_port()
    log_path = workdir / "prometheus.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                prometheus_binary("prometheus"),
                f"--config.file={config_path}",
                f"--storage.tsdb.path={workdir / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10)
    try:
        deadline = time.monotonic() + PROMETHEUS_START_TIMEOUT
        while True:
            if process.poll() is not None:
                raise AssertionError(
                    f"prometheus exited {process.returncode}:\n{log_path.read_text()}"
                )
            try:
                if client.get("/-/ready").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"prometheus not ready:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.2)
        loaded = client.get("/api/v1/rules").json()["data"]["groups"]
        assert loaded, f"prometheus loaded no rule group from {rules}:\n{log_path.read_text()}"
        yield client
    finally:
        client.close()
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def query(client: httpx.Client, promql: str) -> list[dict[str, Any]]:
    response = client.get("/api/v1/query", params={"query": promql})
    body = response.json()
    assert body["status"] == "success", f"{promql}: {body.get('error', body)}"
    result: list[dict[str, Any]] = body["data"]["result"]
    return result


def drive_traffic(client: httpx.Client) -> None:
    """A bounded mix (about 300 requests): creations, lists, reads, 404s, 422s, readiness checks."""
    run = uuid.uuid4().hex[:8]  # names are unique, and the service is shared with other tests
    for round_number in range(30):
        created = client.post(
            "/api/v1/items", json={"name": f"dashboard-{run}-{round_number}", "price_cents": 100}
        )
        assert created.status_code == 201, created.text
        item = created.json()
        assert client.get("/api/v1/items", params={"limit": 5}).status_code == 200
        assert client.get(f"/api/v1/items/{item['id']}").status_code == 200
        assert client.get("/api/v1/items/999999999").status_code == 404
        assert client.get("/no/such/path").status_code == 404
        assert client.post("/api/v1/items", json={"name": ""}).status_code == 422
        assert client.get("/api/v1/items", params={"limit": "many"}).status_code == 422
        for _ in range(3):
            assert client.get("/health/ready").status_code == 200
        time.sleep(0.1)  # spread over a few scrapes, so that rates are rates


def recorded_names(rules: Path) -> list[str]:
    groups = yaml.safe_load(rules.read_text())["groups"]
    return [rule["record"] for group in groups for rule in group["rules"] if "record" in rule]


def test_metrics_output_passes_promtool(service: RunningService) -> None:
    metrics = service.client.get("/metrics")
    assert metrics.status_code == 200
    checked = subprocess.run(
        [prometheus_binary("promtool"), "check", "metrics"],
        input=metrics.text,
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_every_panel_and_recording_rule_has_data(
    project: GeneratedProject, service: RunningService, tmp_path: Path
) -> None:
    slug = yaml.safe_load((project.path / ".copier-answers.yml").read_text())["project_slug"]
    rules = tmp_path / "rules.yaml"
    # The rules as the project's own `make alerts` extracts them from its PrometheusRule(s), by
    # the project's own interpreter (`uv run` without the Makefile's extras would re-sync .venv).
    project.run(".venv/bin/python", "tests/alerts/promtool_rules.py", "write", str(rules))
    records = recorded_names(rules)
    assert records, f"no recording rule in {rules}"
    dashboard = json.loads((project.path / DASHBOARD).read_text())
    checks = [(f"panel {title}", expr) for title, expr in dashboard_queries(dashboard)]
    checks += [(f"recording rule {name}", f'{name}{{job="{slug}"}}') for name in records]

    target = service.url.removeprefix("http://")
    with prometheus(tmp_path, slug, target, rules) as client:
        deadline = time.monotonic() + PROMETHEUS_START_TIMEOUT
        while not query(client, f'up{{job="{slug}"}} == 1'):
            assert time.monotonic() < deadline, "prometheus never scraped the service"
            time.sleep(0.5)
        drive_traffic(service.client)
        deadline = time.monotonic() + DATA_TIMEOUT
        while True:
            empty = [(name, expr) for name, expr in checks if not query(client, expr)]
            if not empty or time.monotonic() > deadline:
                break
            time.sleep(2)
        statuses = {
            sample["metric"]["status"]
            for sample in query(client, f'sum by (status) (http_requests_total{{job="{slug}"}})')
        }
        unhealthy = [
            f"- {rule['name']}: {rule.get('lastError')}"
            for group in client.get("/api/v1/rules").json()["data"]["groups"]
            for rule in group["rules"]
            if rule["health"] != "ok"
        ]
    assert {"200", "201", "404", "422"} <= statuses, statuses
    assert not unhealthy, "rules Prometheus failed to evaluate:\n" + "\n".join(unhealthy)
    assert not empty, (
        f"{len(empty)} of {len(checks)} queries returned no data from a Prometheus scraping the "
        f"service with traffic:\n" + "\n".join(f"- {name}: {expr}" for name, expr in empty)
    )
