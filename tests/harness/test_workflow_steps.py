"""Workflow steps that are more than one `make` target, run for real on the generated project.

GitHub's runners are not reachable from here, so the step's own `run:` script is taken from the
rendered workflow and run with GitHub's shell options (`bash --noprofile --norc -eo pipefail`),
its `env:` given with the expressions filled in: ci.yml's load job (serve, load within the SLO,
stop) on every option set, and the deploy jobs' chat notification against a webhook on 127.0.0.1.
"""

import json
import re
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from .conftest import on_the_default_set
from .environment import free_port
from .project import GeneratedProject

# How often serve_forever looks for shutdown(): its default 0.5 s would end every server late.
POLL_SECONDS = 0.01

pytestmark = pytest.mark.slow

EXPRESSION = re.compile(r"\$\{\{\s*(.+?)\s*\}\}")
DIGEST = "sha256:" + "c" * 64


def step(project: GeneratedProject, workflow: str, job: str, name: str) -> dict[str, Any]:
    loaded = yaml.safe_load((project.path / f".github/workflows/{workflow}.yml").read_text())
    steps: list[dict[str, Any]] = loaded["jobs"][job]["steps"]
    (found,) = [item for item in steps if name in (item.get("name"), item.get("run"))]
    return found


def run_step(
    project: GeneratedProject, script: str, env: dict[str, str], timeout: float = 300
) -> tuple[int, str]:
    shell = ("bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script)
    result = project.attempt(*shell, env=env, timeout=timeout)
    return result.returncode, result.stdout + result.stderr


def filled(env: dict[str, str], values: dict[str, str]) -> dict[str, str]:
    """A step's `env:` with each ${{ expression }} replaced (an unknown one fails the test)."""
    return {
        name: EXPRESSION.sub(lambda match: values[match.group(1)], str(value))
        for name, value in env.items()
    }


def port_is_closed(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


def load_job_env(project: GeneratedProject, tmp_path: Path) -> dict[str, str]:
    loaded = yaml.safe_load((project.path / ".github/workflows/ci.yml").read_text())
    env = {name: str(value) for name, value in loaded["jobs"]["load"]["env"].items()}
    # A free port instead of 8000, a shorter run, and the runner's temporary directory.
    return {
        **env,
        "PORT": str(free_port()),
        "LOAD_DURATION": "6s",
        "LOAD_DIR": str(tmp_path / "load"),
        "RUNNER_TEMP": str(tmp_path),
    }


def test_the_load_job_serves_loads_within_the_slo_and_stops(
    project: GeneratedProject, tmp_path: Path
) -> None:
    project.run("make", "migrate")  # the job's step before this one
    env = load_job_env(project, tmp_path)
    script = step(project, "ci", "load", "Serve, load within the SLO, stop")["run"]
    code, output = run_step(project, script, env)
    assert code == 0, output[-4000:]
    assert "load: passed: " in output
    assert port_is_closed(int(env["PORT"]))  # the service was stopped
    log = (tmp_path / "service.log").read_text()
    assert '"event":"shutdown"' in log.replace(" ", "")


@on_the_default_set
def test_the_load_job_fails_with_the_gate_and_still_stops(
    project: GeneratedProject, tmp_path: Path
) -> None:
    project.run("make", "migrate")
    env = {**load_job_env(project, tmp_path), "LOAD_DURATION": "3s", "LOAD_P95_MS": "0.01"}
    script = step(project, "ci", "load", "Serve, load within the SLO, stop")["run"]
    code, output = run_step(project, script, env)
    assert code != 0
    assert "load: FAILED: p95 " in output
    assert port_is_closed(int(env["PORT"]))


@contextmanager
def webhook() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    received: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(json.loads(self.rfile.read(int(self.headers["content-length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(POLL_SECONDS,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hooks/x", received
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@on_the_default_set
@pytest.mark.parametrize(
    ("environment", "status"), [("staging", "success"), ("production", "failure")]
)
def test_each_deploy_job_tells_the_chat(
    project: GeneratedProject, environment: str, status: str
) -> None:
    notify = step(project, "deploy", environment, "Notify the chat")
    github = {
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_REPOSITORY": "acme/service",
        "GITHUB_RUN_ID": "7",
    }
    with webhook() as (url, received):
        values = {
            "secrets.CHAT_WEBHOOK_URL": url,
            "job.status": status,
            "inputs.digest": DIGEST,
            "needs.staging.outputs.digest": DIGEST,
        }
        code, output = run_step(project, notify["run"], {**filled(notify["env"], values), **github})
    assert code == 0, output
    said = {"success": "succeeded", "failure": "FAILED"}[status]
    text = f"deploy of {DIGEST} to {environment} {said}: https://github.com/acme/service/actions/runs/7"
    assert received == [{"text": text}]


@on_the_default_set
def test_without_the_secret_the_notification_says_so_and_passes(project: GeneratedProject) -> None:
    notify = step(project, "ci", "notify", "Notify the chat")
    env = filled(notify["env"], {"secrets.CHAT_WEBHOOK_URL": "", "github.sha": "0" * 40})
    code, output = run_step(project, notify["run"], env)
    assert code == 0, output
    assert "CHAT_WEBHOOK_URL is not set, so no chat message was sent" in output
