"""`make notify`: the JSON a chat webhook receives, and what happens without one or when it is down.

The webhook is a small standard-library server on 127.0.0.1 that records what was POSTed to it.
"""

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler

import pytest

from ci import notify

from ..served import free_port
from .fake_http import serving

GITHUB_RUN = {
    "GITHUB_SERVER_URL": "https://github.com",
    "GITHUB_REPOSITORY": "acme/service",
    "GITHUB_RUN_ID": "4242",
}
DIGEST = "sha256:" + "a" * 64


@dataclass
class Received:
    method: str
    path: str
    content_type: str
    body: bytes


@dataclass
class Webhook:
    url: str
    received: list[Received] = field(default_factory=list)


@contextmanager
def serve_webhook(status: int = 200, delay: float = 0.0) -> Iterator[Webhook]:
    webhook = Webhook(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["content-length"]))
            received = Received("POST", self.path, self.headers["content-type"], body)
            webhook.received.append(received)
            time.sleep(delay)
            self.send_response(status)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: object) -> None:
            pass  # keep the test output quiet

    with serving(Handler) as url:
        webhook.url = f"{url}/hooks/T000/SECRET"
        yield webhook


@pytest.fixture
def outside_github(monkeypatch: pytest.MonkeyPatch) -> None:
    """The test's own environment may be a GitHub run: start from none of its variables."""
    for name in (*GITHUB_RUN, "CHAT_WEBHOOK_URL"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.usefixtures("outside_github")
def test_posts_the_status_the_message_and_the_run_link(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, value in GITHUB_RUN.items():
        monkeypatch.setenv(name, value)
    with serve_webhook() as webhook:
        monkeypatch.setenv("CHAT_WEBHOOK_URL", webhook.url)
        code = notify.main(["--status", "success", "--message", f"deploy to staging of {DIGEST}"])
    assert code == 0, capsys.readouterr().err
    (received,) = webhook.received
    assert (received.method, received.path) == ("POST", "/hooks/T000/SECRET")
    assert received.content_type == "application/json"
    text = f"deploy to staging of {DIGEST} succeeded: https://github.com/acme/service/actions/runs/4242"
    assert json.loads(received.body) == {"text": text}
    assert capsys.readouterr().out == f"notify: sent: {text}\n"


@pytest.mark.usefixtures("outside_github")
@pytest.mark.parametrize(
    ("status", "said"), [("failure", "FAILED"), ("cancelled", "was cancelled")]
)
def test_says_a_failure_and_outside_github_has_no_link(
    monkeypatch: pytest.MonkeyPatch, status: str, said: str
) -> None:
    with serve_webhook() as webhook:
        monkeypatch.setenv("CHAT_WEBHOOK_URL", webhook.url)
        assert notify.main(["--status", status, "--message", "ci on main"]) == 0
    (received,) = webhook.received
    assert json.loads(received.body) == {"text": f"ci on main {said}"}


@pytest.mark.usefixtures("outside_github")
@pytest.mark.parametrize("value", ["", "  "])
def test_without_a_webhook_it_says_so_and_succeeds(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], value: str
) -> None:
    # An unset secret reaches a workflow step as an empty variable.
    monkeypatch.setenv("CHAT_WEBHOOK_URL", value)
    assert notify.main(["--status", "failure", "--message", "ci on main"]) == 0
    output = capsys.readouterr().out
    assert output.startswith("notify: CHAT_WEBHOOK_URL is not set, so no chat message was sent")


@pytest.mark.usefixtures("outside_github")
def test_an_unreachable_webhook_fails_at_once_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CHAT_WEBHOOK_URL", f"http://127.0.0.1:{free_port()}/hooks/SECRET")
    started = time.monotonic()
    assert notify.main(["--status", "failure", "--message", "ci on main"]) == 1
    assert time.monotonic() - started < 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("notify: FAILED: 127.0.0.1 did not answer: ")
    assert "SECRET" not in line  # the URL's path is the secret: only its host is said


@pytest.mark.usefixtures("outside_github")
def test_a_webhook_that_hangs_fails_after_the_timeout(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(notify, "TIMEOUT", 0.3)
    with serve_webhook(delay=1.0) as webhook:
        monkeypatch.setenv("CHAT_WEBHOOK_URL", webhook.url)
        started = time.monotonic()
        assert notify.main(["--status", "success", "--message", "deploy"]) == 1
        assert time.monotonic() - started < 1.0
        error = capsys.readouterr().err
    assert error == "notify: FAILED: 127.0.0.1 did not answer within 0.3 s\n"


@pytest.mark.usefixtures("outside_github")
def test_a_refused_message_fails_with_the_answer(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with serve_webhook(status=404) as webhook:
        monkeypatch.setenv("CHAT_WEBHOOK_URL", webhook.url)
        assert notify.main(["--status", "success", "--message", "deploy"]) == 1
    assert capsys.readouterr().err == "notify: FAILED: 127.0.0.1 answered 404 Not Found\n"


@pytest.mark.usefixtures("outside_github")
@pytest.mark.parametrize("url", ["ftp://chat.example.com/hook", "hooks.slack.com/services/X"])
def test_a_webhook_url_that_is_not_http_is_refused(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], url: str
) -> None:
    monkeypatch.setenv("CHAT_WEBHOOK_URL", url)
    assert notify.main(["--status", "success", "--message", "deploy"]) == 1
    assert capsys.readouterr().err == "notify: FAILED: CHAT_WEBHOOK_URL is not an http(s):// URL\n"


def test_an_unknown_status_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as refused:
        notify.main(["--status", "", "--message", "deploy"])
    assert refused.value.code == 2
    assert "invalid choice: ''" in capsys.readouterr().err
