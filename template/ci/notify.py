"""`make notify`: one line to the team's chat, for a failed build on main and for every deployment.

Posts `{"text": "..."}` to the incoming webhook in CHAT_WEBHOOK_URL, the payload Slack, Mattermost
and Rocket.Chat accept as is (Discord at the webhook URL plus `/slack`). The message says the
status, what happened, and, inside GitHub Actions, the link to the run (GitHub sets
GITHUB_SERVER_URL, GITHUB_REPOSITORY and GITHUB_RUN_ID on its runners).

Notifications are optional: without CHAT_WEBHOOK_URL this says so and exits 0. A webhook that
does not answer fails in seconds (TIMEOUT), in one line that names its host but never the URL,
whose path is the secret. The standard library only: nothing to install.
"""

import argparse
import json
import os
import sys
import urllib.error
import urllib.request
from urllib.parse import urlsplit

TIMEOUT = 5.0  # seconds, for connecting and for the answer
STATUSES = {"success": "succeeded", "failure": "FAILED", "cancelled": "was cancelled"}


class NotifyError(Exception):
    """One line saying why the message was not delivered."""


def run_url(environment: dict[str, str]) -> str | None:
    """The GitHub Actions run this is part of, when it is one."""
    parts = [environment.get(name) for name in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY")]
    run_id = environment.get("GITHUB_RUN_ID")
    if not all(parts) or not run_id:
        return None
    return f"{parts[0]}/{parts[1]}/actions/runs/{run_id}"


def message_text(status: str, message: str, link: str | None) -> str:
    text = f"{message} {STATUSES[status]}"
    return f"{text}: {link}" if link else text


def post(webhook_url: str, text: str) -> None:
    parts = urlsplit(webhook_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise NotifyError("CHAT_WEBHOOK_URL is not an http(s):// URL")
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked above
        webhook_url,
        data=json.dumps({"text": text}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        # http(s) only, checked above: ruff's S310 and bandit's B310.
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310 # nosec B310
            response.read()
    except urllib.error.HTTPError as error:
        raise NotifyError(f"{parts.hostname} answered {error.code} {error.reason}") from None
    except TimeoutError:
        raise NotifyError(f"{parts.hostname} did not answer within {TIMEOUT:g} s") from None
    except OSError as error:  # refused, unreachable, unknown name, TLS
        reason = getattr(error, "reason", error)
        raise NotifyError(f"{parts.hostname} did not answer: {reason}") from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ci.notify", description=__doc__)
    parser.add_argument("--status", required=True, choices=sorted(STATUSES))
    parser.add_argument("--message", required=True, help="what happened, e.g. 'deploy to staging'")
    options = parser.parse_args(argv)
    webhook_url = os.environ.get("CHAT_WEBHOOK_URL", "").strip()
    if not webhook_url:
        print("notify: CHAT_WEBHOOK_URL is not set, so no chat message was sent (docs/ci-cd.md)")
        return 0
    text = message_text(options.status, options.message, run_url(dict(os.environ)))
    try:
        post(webhook_url, text)
    except NotifyError as error:
        print(f"notify: FAILED: {error}", file=sys.stderr)
        return 1
    print(f"notify: sent: {text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
