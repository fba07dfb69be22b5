"""`make smoke`, `make load` and `make contract` against the service as each option set serves it.

On every set: smoke passes against the service; `make contract` runs in test_generated_project.py
and `make load` in test_workflow_steps.py, as ci.yml's load job runs it. The load passing here and
the failing cases depend on no option, so they run on the default set only: a closed port, a
server without the security headers, a remote load target, an SLO the real service cannot meet,
and a seeded server error for the contract.
"""

import csv
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from .conftest import on_the_default_set
from .environment import free_port
from .project import GeneratedProject, RunningService

pytestmark = pytest.mark.slow

# Short and light: enough requests for a p95 on a CI machine with 2 cores, in seconds.
SHORT_LOAD = ("LOAD_DURATION=6s", "LOAD_USERS=4", "LOAD_SPAWN_RATE=4")
# How often serve_forever looks for shutdown(): its default 0.5 s would end every server late.
POLL_SECONDS = 0.01


def make(
    project: GeneratedProject, *arguments: str
) -> tuple[subprocess.CompletedProcess[str], float]:
    """`make --silent ...` in the project, failing or not; with how long it took."""
    started = time.monotonic()
    result = project.attempt("make", "--silent", *arguments)
    return result, time.monotonic() - started


def own_lines(stderr: str) -> list[str]:
    """What the target said on stderr, without make's own `make: *** ... Error 1`."""
    return [line for line in stderr.splitlines() if line.strip() and not line.startswith("make:")]


def aggregated(stats_csv: Path) -> dict[str, str]:
    with stats_csv.open(newline="") as handle:
        (row,) = [row for row in csv.DictReader(handle) if row["Name"] == "Aggregated"]
    return row


def test_smoke_passes_against_the_service(
    project: GeneratedProject, service: RunningService
) -> None:
    result = project.run("make", "--silent", "smoke", f"URL={service.url}")
    assert result.stdout.startswith(f"smoke: passed {service.url} in "), result.stdout
    if project.answers["auth"] == "none":
        assert "security headers, request id, ready, items list" in result.stdout
        return
    # Credentials required: anonymously the items list must be refused; signed in, it is read.
    assert result.stdout.rstrip().endswith("ready, anonymous items list refused"), result.stdout
    signed_in = {"SMOKE_AUTHORIZATION": service.client.headers["authorization"]}
    result = project.run("make", "--silent", "smoke", f"URL={service.url}", env=signed_in)
    assert "ready, anonymous items list refused, items list" in result.stdout, result.stdout


# On the default set: on every set, test_workflow_steps.py runs `make load` as ci.yml's job does.
@on_the_default_set
def test_load_passes_the_gate_against_the_service(
    project: GeneratedProject, service: RunningService, tmp_path: Path
) -> None:
    result = project.run(
        "make", "--silent", "load", f"URL={service.url}", f"LOAD_DIR={tmp_path}", *SHORT_LOAD
    )
    assert "load: passed: " in result.stdout, result.stdout[-3000:]
    totals = aggregated(tmp_path / "load_stats.csv")
    assert int(totals["Request Count"]) > 50
    assert int(totals["Failure Count"]) == 0
    # Reads and writes of the example API, not only the health probes.
    with (tmp_path / "load_stats.csv").open(newline="") as handle:
        names = {row["Name"] for row in csv.DictReader(handle)}
    assert {"/api/v1/items", "/api/v1/items/{item_id}", "/health/ready"} <= names


@on_the_default_set
def test_smoke_against_a_closed_port_fails_in_seconds_in_one_line(
    project: GeneratedProject,
) -> None:
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    result, seconds = make(project, "smoke", f"URL={url}")
    assert result.returncode != 0
    assert seconds < 10
    (line,) = own_lines(result.stderr)
    assert line.startswith(f"smoke: FAILED: {url}: GET /health/live: "), line
    assert "did not answer" in line


class WithoutSecurityHeaders(BaseHTTPRequestHandler):
    """Answers every check as the service does, except that no security header is sent."""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("x-request-id", self.headers.get("x-request-id", "none"))
        self.end_headers()
        self.wfile.write(b'{"status": "ok", "items": []}')

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def served_without_security_headers() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), WithoutSecurityHeaders)
    thread = threading.Thread(target=server.serve_forever, args=(POLL_SECONDS,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@on_the_default_set
def test_smoke_fails_against_a_server_without_the_security_headers(
    project: GeneratedProject,
) -> None:
    with served_without_security_headers() as url:
        result, _ = make(project, "smoke", f"URL={url}")
    assert result.returncode != 0
    (line,) = own_lines(result.stderr)
    # Plain HTTP: HSTS is not expected there (the service sends it over HTTPS only).
    assert "security headers missing: content-security-policy, x-content-type-options" in line


@on_the_default_set
def test_load_refuses_a_remote_url_and_runs_nothing(
    project: GeneratedProject, tmp_path: Path
) -> None:
    results = tmp_path / "load"
    result, seconds = make(project, "load", "URL=https://example.com", f"LOAD_DIR={results}")
    assert result.returncode != 0
    (line,) = own_lines(result.stderr)
    assert line.startswith("load: refusing https://example.com: not a loopback address"), line
    assert "LOAD_ALLOW_REMOTE=1" in line
    assert "Locust" not in result.stdout + result.stderr
    assert not results.exists()
    assert seconds < 10


@on_the_default_set
def test_load_fails_when_the_service_misses_the_slo(
    project: GeneratedProject, service: RunningService, tmp_path: Path
) -> None:
    # No real request answers in 0 ms: the same run as above, judged against an impossible SLO.
    result, _ = make(
        project, "load", f"URL={service.url}", f"LOAD_DIR={tmp_path}", "LOAD_P95_MS=0", *SHORT_LOAD
    )
    assert result.returncode != 0
    (line,) = [line for line in own_lines(result.stderr) if line.startswith("load: ")]
    assert "is above the SLO of 0 ms" in line, line
    assert int(aggregated(tmp_path / "load_stats.csv")["Request Count"]) > 0


SEEDED_APP = '''"""The service's app with one more operation, which always fails: a 500 to find."""

from {package}.main import app


@app.get("/seeded/error")
async def seeded_error() -> dict[str, str]:
    raise RuntimeError("seeded server error")
'''


@on_the_default_set
def test_contract_fails_on_a_seeded_server_error(project: GeneratedProject, tmp_path: Path) -> None:
    # The same `make contract`, serving a module outside the project (PYTHONPATH) that adds a
    # failing operation to the real app: the project itself stays as it is.
    (tmp_path / "seeded_app.py").write_text(SEEDED_APP.format(package=project.package))
    serve = f"-m {project.package} seeded_app:app --log-config log-config.json --no-access-log"
    result = subprocess.run(
        [
            "make",
            "--silent",
            "contract",
            f"SERVE={serve}",
            "CONTRACT_EXAMPLES=5",
            "CONTRACT_PHASES=fuzzing",  # the seeded error needs no more: seconds, not half a minute
            f"CONTRACT_DIR={tmp_path / 'contract'}",
        ],
        cwd=project.path,
        env={**project.service_env(), "PYTHONPATH": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode != 0, result.stdout[-3000:]
    assert "GET /seeded/error" in result.stdout
    assert "Server error" in result.stdout, result.stdout[-3000:]
    (line,) = own_lines(result.stderr)
    assert line.startswith("contract: FAILED: schemathesis found issues"), line
