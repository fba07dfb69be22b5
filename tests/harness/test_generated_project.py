"""Each option set as a user gets it: installed from its lock, linted, tested, served for real."""

import json
import re
import shutil
import signal
import uuid
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
import yaml

from . import promtool_memo
from .conftest import on_the_default_set
from .environment import free_port, unavailable
from .matrix import REPO
from .project import GeneratedProject, RunningService, serve

pytestmark = pytest.mark.slow

# On plain HTTP, as the harness serves it: HSTS comes over HTTPS only (test_request_limits.py).
SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "cache-control": "no-store",
    "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
    "permissions-policy": "camera=(), geolocation=(), microphone=()",
    "x-xss-protection": "0",
    "x-permitted-cross-domain-policies": "none",
}


def test_answers_file_records_the_answers_and_nothing_else(project: GeneratedProject) -> None:
    recorded = yaml.safe_load((project.path / ".copier-answers.yml").read_text())
    questions = yaml.safe_load((REPO / "copier.yml").read_text())
    asked = {name for name, spec in questions.items() if not name.startswith("_")}
    asked -= {
        name
        for name, spec in questions.items()
        if isinstance(spec, dict) and spec.get("when") is False
    }
    assert {key for key in recorded if not key.startswith("_")} == asked
    assert {"_src_path", "_commit"} <= set(recorded)
    for key, value in project.answers.items():
        assert recorded[key] == value


def test_lock_matches_the_rendered_pyproject(project: GeneratedProject) -> None:
    project.run("uv", "lock", "--check")


def test_lint_is_clean(project: GeneratedProject) -> None:
    project.run("make", "lint")


def test_formatter_changes_nothing(project: GeneratedProject) -> None:
    before = project.snapshot()
    project.run("make", "format")
    after = project.snapshot()
    changed = sorted(
        path for path in before.keys() | after.keys() if before.get(path) != after.get(path)
    )
    assert changed == []


# The hooks (.pre-commit-config.yaml, the same for every option set) run the commands that
# `make lint sast secrets-scan image-lint` run on every set: here, that they are wired right.
@on_the_default_set
def test_pre_commit_hooks_pass(project: GeneratedProject) -> None:
    # As a user's first commit would run them: in a git repository holding every file.
    project.run("git", "init", "--quiet")
    project.run("git", "add", "--all")
    project.run("pre-commit", "run", "--all-files", timeout=900)


def test_own_tests_pass_with_the_coverage_gate(project: GeneratedProject) -> None:
    output = project.run("make", "test").stdout
    coverage = re.search(r"Total coverage: (\d+\.\d+)%", output)
    passed = re.search(r"(\d+) passed", output)
    assert coverage, output[-3000:]
    assert passed, output[-3000:]
    assert float(coverage.group(1)) >= 90
    assert int(passed.group(1)) >= 50
    # pytest's summary counts ("2 failed", "1 error"), not words such as `--extra error-tracking`
    # in the command make echoes.
    assert not re.search(r"\b\d+ (failed|errors?)\b", output), output[-3000:]


def test_alert_rules_pass_their_unit_tests(
    project: GeneratedProject, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    # `make alerts`: promtool checks the PrometheusRules in k8s/ and runs tests/alerts/*.yaml.
    # promtool itself runs once per distinct input in the session (promtool_memo.py says why).
    real_promtool = shutil.which("promtool")
    if real_promtool is None:
        unavailable("promtool is not installed (Debian: apt-get install prometheus)")
    assert real_promtool is not None
    results = promtool_memo.session_results(tmp_path_factory)
    memo = promtool_memo.install(tmp_path, real_promtool, results, project.env["PATH"])
    output = project.run("make", "alerts", timeout=900, env=memo).stdout
    assert "SUCCESS" in output
    assert "FAILED" not in output
    tests = sorted(path.name for path in (project.path / "tests" / "alerts").glob("*.yaml"))
    for name in tests:
        assert f"Unit Testing:  {name}" in output
    assert len(tests) >= 3


def test_service_answers_for_real(service: RunningService) -> None:
    client = service.client
    request_id = f"harness-{uuid.uuid4().hex}"

    live = client.get("/health/live", headers={"X-Request-ID": request_id})
    assert live.status_code == 200
    assert live.json()["status"] == "ok"
    assert live.headers["x-request-id"] == request_id
    for name, value in SECURITY_HEADERS.items():
        assert live.headers[name] == value

    ready = client.get("/health/ready")
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"] == {"database": "ok", "schema": "ok"}

    name = f"harness item {uuid.uuid4().hex[:8]}"
    created = client.post("/api/v1/items", json={"name": name, "price_cents": 1999, "quantity": 2})
    assert created.status_code == 201, created.text
    item = created.json()
    listed = client.get("/api/v1/items", params={"name_contains": name, "sort": "name"})
    assert listed.status_code == 200
    assert [found["id"] for found in listed.json()["items"]] == [item["id"]]
    fetched = client.get(f"/api/v1/items/{item['id']}")
    assert fetched.json() == item

    missing = client.get("/api/v1/items/2147483647")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    problem = missing.json()
    assert problem["status"] == 404
    assert problem["request_id"] == missing.headers["x-request-id"]
    for name_, value in SECURITY_HEADERS.items():
        assert missing.headers[name_] == value

    metrics = client.get("/metrics")
    assert metrics.status_code == 200
    assert metrics.headers["content-type"].startswith("text/plain")
    assert 'http_requests_total{method="POST",route="/api/v1/items",status="201"}' in metrics.text
    assert (
        'http_request_duration_seconds_bucket{le="0.1",method="GET",route="/health/ready"}'
        in metrics.text
    )

    logs = service.log_lines()  # every stdout line must be JSON
    access = [line for line in logs if line.get("event") == "request"]
    traced = [line for line in access if line["request_id"] == request_id]
    assert len(traced) == 1
    assert traced[0]["route"] == "/health/live"
    assert traced[0]["status"] == 200
    assert traced[0]["client"] == "127.0.0.1"
    assert any(
        line["status"] == 404 and line["route"] == "/api/v1/items/{item_id}" for line in access
    )
    assert any(line.get("event") == "startup" for line in logs)


def test_schemathesis_finds_no_server_error_and_no_schema_violation(
    project: GeneratedProject, tmp_path: Path
) -> None:
    # `make contract`: the project serves itself (make run's command line, a free port, a migrated
    # database: PostgreSQL's from DATABASE_URL) and fuzzes its own OpenAPI document, every check.
    reports = tmp_path / "contract"
    result = project.run("make", "contract", f"CONTRACT_DIR={reports}", timeout=900)
    # Two runs, anonymous then signed in (ci/contract.py): every case of both passed (a warning,
    # such as "validation mismatch", is printed but is not a failure), the second the larger.
    summary = result.stdout[-4000:]
    generated = re.findall(r"(\d+) generated, (\d+) passed", result.stdout)
    assert len(generated) == 2, summary
    assert all(int(cases) == int(passed) for cases, passed in generated), summary
    assert int(generated[-1][0]) >= 300
    assert "failed" not in result.stdout.lower().replace("0 failed", ""), summary
    assert summary.rstrip().endswith(f"server log {reports / 'server.log'}")
    junit = ElementTree.parse(reports / "junit.xml").getroot()  # noqa: S314 (written by our run)
    assert junit.get("failures") == junit.get("errors") == "0"
    assert int(junit.get("tests", "0")) >= 7  # every operation, and the stateful run
    # Stopped by SIGTERM after a drained shutdown (contract.py fails on any other exit).
    assert "Application shutdown complete." in (reports / "server.log").read_text()
    print(summary)


def test_sigterm_drains_and_exits_cleanly(project: GeneratedProject, tmp_path: Path) -> None:
    # As a container runs it: uvicorn itself receives SIGTERM (exec-form entrypoint, PID 1).
    project.run("make", "migrate")
    port = free_port()
    command = [
        str(project.path / ".venv" / "bin" / "uvicorn"),
        f"{project.package}.main:app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-config",
        "log-config.json",
        "--no-access-log",
        "--timeout-graceful-shutdown",
        "20",
    ]
    with serve(project, command, port=port, log_path=tmp_path / "server.log") as running:
        assert running.client.get("/health/ready").status_code == 200
        exit_code = running.stop(signal.SIGTERM)
    # After a graceful shutdown uvicorn re-raises the signal, so the exit status says what stopped
    # it; anything else (a crash, SIGKILL after the grace period) fails here.
    assert exit_code in (0, -signal.SIGTERM)
    events = [line["event"] for line in running.log_lines()]
    assert "Application shutdown complete." in events
    assert events.index("shutdown") > events.index("startup")
    assert any(event.startswith("Finished server process") for event in events)


LOG_KEYS = ("event", "level", "timestamp", "logger")


def assert_one_log_shape(lines: list[dict[str, Any]]) -> None:
    for line in lines:
        assert tuple(line)[:4] == LOG_KEYS, line


def test_every_line_of_a_run_is_json_with_a_logger(
    project: GeneratedProject, tmp_path: Path
) -> None:
    # `make run` from its first line to its last: start-up, requests (success, 404, docs), SIGTERM.
    project.run("make", "--silent", "migrate")
    port = free_port()
    log_path = tmp_path / "run.log"
    with serve(
        project, ["make", "--silent", "run", f"PORT={port}"], port=port, log_path=log_path
    ) as running:
        assert running.client.get("/health/ready").status_code == 200
        assert running.client.get("/no/such/path").status_code == 404
        assert running.client.get("/docs").status_code == 200
        secret = f"Bearer {uuid.uuid4().hex}"
        assert running.client.get("/health/live", headers={"Authorization": secret}).is_success
        running.stop(signal.SIGTERM)  # to the process group: make, uv and the server
    lines = running.log_lines()  # a line that is not JSON fails here
    assert_one_log_shape(lines)
    loggers = {line["event"]: line["logger"] for line in lines}
    assert loggers["startup"] == loggers["shutdown"] == "lifecycle"
    assert loggers["request"] == "access"
    assert loggers["Application shutdown complete."] == "uvicorn.error"
    assert lines[0]["event"].startswith("Started server process")
    assert lines[-1]["event"].startswith("Finished server process")
    assert {"/docs", "<unmatched>"} <= {line.get("route") for line in lines}
    assert secret not in log_path.read_text()


def test_an_import_error_is_said_in_json_too(project: GeneratedProject, tmp_path: Path) -> None:
    # The server's lines before the app is imported: log-config.json makes them JSON as well.
    uvicorn = str(project.path / ".venv" / "bin" / "uvicorn")
    result = project.attempt(
        uvicorn, "no_such_module:app", "--log-config", "log-config.json", timeout=60
    )
    assert result.returncode != 0
    (line,) = [json.loads(text) for text in (result.stdout + result.stderr).splitlines()]
    assert line["logger"] == "uvicorn.error"
    assert "no_such_module" in line["event"]


def test_an_invalid_setting_is_said_in_json(project: GeneratedProject) -> None:
    result = project.attempt(
        "make", "--silent", "run", "PORT=1", timeout=60, env={"LOG_LEVEL": "LOUD"}
    )
    assert result.returncode != 0
    output = [text for text in result.stdout.splitlines() if text.strip()]
    (line,) = [json.loads(text) for text in output]
    assert line["logger"] == "settings"
    assert "log_level" in line["event"]


def test_migrate_logs_json_lines_with_a_logger(project: GeneratedProject) -> None:
    # --silent: make's own echo of the command is not the service's output.
    result = project.run("make", "--silent", "migrate")
    lines = [json.loads(text) for text in result.stdout.splitlines() if text.strip()]
    assert lines
    assert_one_log_shape(lines)
    assert all(line["logger"].startswith("alembic") for line in lines[:-1])
    # The last line is the command's own: where the schema is (src/<package>/migrate.py).
    assert lines[-1]["logger"] == "migrate"
    assert result.stderr.strip() == ""
