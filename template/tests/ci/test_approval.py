"""`make approval-required`: the deploy goes ahead only when GitHub says someone must approve it.

GitHub's REST API is a small standard-library server on 127.0.0.1 that answers with the JSON
GET /repos/{owner}/{repo}/environments/{name} returns, and records what each request asked for.
"""

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest

from ci import approval

from ..served import free_port
from .fake_http import serving

TOKEN = "ghs_test-token"  # made up: what the fake API expects to receive
PATH = "/repos/acme/service/environments/production"
USER = {"type": "User", "reviewer": {"login": "octocat", "id": 1, "type": "User"}}
TEAM = {"type": "Team", "reviewer": {"id": 1, "slug": "justice-league", "name": "Justice League"}}
WAIT_TIMER = {"id": 3736, "node_id": "MDQ6R2F0ZTM3MzY=", "type": "wait_timer", "wait_timer": 30}
BRANCH_POLICY = {"id": 3756, "node_id": "MDQ6R2F0ZTM3NTY=", "type": "branch_policy"}


def environment(*rules: dict[str, Any]) -> dict[str, Any]:
    """What GitHub answers for the environment `production`, with these protection rules."""
    return {
        "id": 161088068,
        "node_id": "MDExOkVudmlyb25tZW50MTYxMDg4MDY4",
        "name": "production",
        "url": "https://api.github.com/repos/acme/service/environments/production",
        "html_url": "https://github.com/acme/service/deployments/activity_log?environments_filter=production",
        "created_at": "2026-11-23T22:00:40Z",
        "updated_at": "2026-11-23T22:00:40Z",
        "protection_rules": list(rules),
        "deployment_branch_policy": {"protected_branches": False, "custom_branch_policies": True},
    }


def reviewers_rule(*reviewers: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": 3755,
        "node_id": "MDQ6R2F0ZTM3NTU=",
        "prevent_self_review": False,
        "type": "required_reviewers",
        "reviewers": list(reviewers),
    }


@dataclass
class Asked:
    path: str
    authorization: str
    accept: str


@dataclass
class FakeGitHub:
    api_url: str
    asked: list[Asked] = field(default_factory=list)


@contextmanager
def serve_github(status: int, answer: object, delay: float = 0.0) -> Iterator[FakeGitHub]:
    """Answers every GET with status and answer (as JSON, or as is when it is bytes)."""
    github = FakeGitHub(api_url="")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            asked = Asked(self.path, self.headers["authorization"], self.headers["accept"])
            github.asked.append(asked)
            body = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
            time.sleep(delay)
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass  # keep the test output quiet

    with serving(Handler) as url:
        github.api_url = url
        yield github


@pytest.fixture
def on_a_runner(monkeypatch: pytest.MonkeyPatch) -> None:
    """What GitHub sets on its runners, and the token the workflow step passes."""
    monkeypatch.setenv("GITHUB_REPOSITORY", "acme/service")
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)


def check(monkeypatch: pytest.MonkeyPatch, status: int, answer: object) -> int:
    with serve_github(status, answer) as github:
        monkeypatch.setenv("GITHUB_API_URL", github.api_url)
        code = approval.main(["--environment", "production"])
    # Every answer came from the one request a real run makes, with the token.
    assert github.asked == [Asked(PATH, f"Bearer {TOKEN}", "application/vnd.github+json")]
    return code


@pytest.mark.usefixtures("on_a_runner")
def test_required_reviewers_let_the_deploy_go_ahead(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    answer = environment(WAIT_TIMER, reviewers_rule(USER, TEAM), BRANCH_POLICY)
    assert check(monkeypatch, 200, answer) == 0
    said = "approval: production deploys only after a required reviewer approves"
    assert capsys.readouterr().out == f"{said} (octocat, justice-league)\n"


@pytest.mark.usefixtures("on_a_runner")
@pytest.mark.parametrize(
    "rules",
    [
        pytest.param((), id="no protection rules"),
        pytest.param((WAIT_TIMER, BRANCH_POLICY), id="rules but no reviewers rule"),
        pytest.param((reviewers_rule(),), id="a reviewers rule with nobody in it"),
    ],
)
def test_without_a_required_reviewer_the_deploy_stops(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    rules: tuple[dict[str, Any], ...],
) -> None:
    assert check(monkeypatch, 200, environment(*rules)) == 1
    (line,) = capsys.readouterr().out.splitlines()
    assert line == (
        "::error::the production environment has no required reviewers, so its deploys would need"
        " no approval: add them in Settings > Environments > production > Required reviewers"
        " (docs/ci-cd.md)"
    )


@pytest.mark.usefixtures("on_a_runner")
@pytest.mark.parametrize(
    ("status", "message", "said"),
    [
        (404, "Not Found", "404 Not Found (no such environment or repository: create"),
        (
            403,
            "Resource not accessible by integration",
            "403 Forbidden (the job's token needs `permissions: actions: read`)",
        ),
    ],
)
def test_an_environment_github_will_not_show_stops_the_deploy(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    status: int,
    message: str,
    said: str,
) -> None:
    # GitHub's error document for a missing environment, or for a token without the permission.
    answer = {"message": message, "documentation_url": "https://docs.github.com/rest"}
    assert check(monkeypatch, status, answer) == 1
    (line,) = capsys.readouterr().out.splitlines()
    prefix = "::error::approval: could not read the production environment: 127.0.0.1 answered"
    assert line.startswith(f"{prefix} {said}")


@pytest.mark.usefixtures("on_a_runner")
@pytest.mark.parametrize(
    ("answer", "said"),
    [
        (b"<html>proxy error</html>", "something that is not JSON"),
        ([], "JSON that is not an environment"),
    ],
)
def test_an_answer_that_is_not_an_environment_stops_the_deploy(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], answer: object, said: str
) -> None:
    assert check(monkeypatch, 200, answer) == 1
    assert capsys.readouterr().out.endswith(f": 127.0.0.1 answered {said}\n")


@pytest.mark.usefixtures("on_a_runner")
def test_an_api_that_hangs_stops_the_deploy_after_the_timeout(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(approval, "TIMEOUT", 0.3)
    with serve_github(200, environment(reviewers_rule(USER)), delay=1.0) as github:
        monkeypatch.setenv("GITHUB_API_URL", github.api_url)
        started = time.monotonic()
        assert approval.main(["--environment", "production"]) == 1
        assert time.monotonic() - started < 1.0
    assert capsys.readouterr().out.endswith(": 127.0.0.1 did not answer within 0.3 s\n")


@pytest.mark.usefixtures("on_a_runner")
def test_an_api_that_does_not_answer_stops_the_deploy_in_seconds(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GITHUB_API_URL", f"http://127.0.0.1:{free_port()}")
    started = time.monotonic()
    assert approval.main(["--environment", "production"]) == 1
    assert time.monotonic() - started < 5
    (line,) = capsys.readouterr().out.splitlines()
    assert line.startswith(
        "::error::approval: could not read the production environment: 127.0.0.1 did not answer: "
    )


@pytest.mark.parametrize("missing", ["GITHUB_REPOSITORY", "GITHUB_TOKEN"])
@pytest.mark.usefixtures("on_a_runner")
def test_without_a_repository_or_a_token_it_stops(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], missing: str
) -> None:
    monkeypatch.setenv(missing, "")  # an unset value reaches a step as an empty variable
    assert approval.main(["--environment", "production"]) == 1
    expected = "::error::approval: GITHUB_REPOSITORY and GITHUB_TOKEN must both be set\n"
    assert capsys.readouterr().out == expected


@pytest.mark.usefixtures("on_a_runner")
def test_an_api_url_that_is_not_http_is_refused(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GITHUB_API_URL", "file:///etc")
    assert approval.main(["--environment", "production"]) == 1
    assert capsys.readouterr().out.endswith(": GITHUB_API_URL is not an http(s):// URL\n")
