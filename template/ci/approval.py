"""`make approval-required ENV=production`: refuse to deploy to an environment nobody must approve.

A GitHub environment waits for approval only when its settings name required reviewers, and a
setting is not a file: without it, deploy.yml's production job would deploy at once. So that job
asks GitHub's REST API first (GET /repos/{owner}/{repo}/environments/{name}) and stops unless the
environment's `protection_rules` hold a `required_reviewers` rule with at least one reviewer.
With reviewers, GitHub started the job only after one of them approved it.

Anything but that answer fails, in one `::error::` line (GitHub Actions shows it on the run):
no reviewers, an environment GitHub does not know (404), a token that may not read it (403), an
API that does not answer within TIMEOUT. A check that cannot ask must never let the deploy pass.
GITHUB_API_URL and GITHUB_REPOSITORY are set on every runner; the token (GITHUB_TOKEN, with
`actions: read`) comes through the step's `env:`. The standard library only: nothing to install.
"""

import argparse
import json
import os
import sys
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import quote, urlsplit

TIMEOUT = 10.0  # seconds, for connecting and for the answer
SETTING = "Settings > Environments > {environment} > Required reviewers (docs/ci-cd.md)"
# What GitHub's refusals mean here (a repository the token cannot see is a 404 too).
HINTS = {
    403: " (the job's token needs `permissions: actions: read`)",
    404: " (no such environment or repository: create the environment, docs/ci-cd.md)",
}


class ApprovalError(Exception):
    """One line saying why the deploy may not go ahead."""


def environment_url(api_url: str, repository: str, environment: str) -> str:
    return f"{api_url.rstrip('/')}/repos/{repository}/environments/{quote(environment, safe='')}"


def fetch_environment(url: str, token: str) -> dict[str, Any]:
    """The environment as GitHub's REST API describes it."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ApprovalError("GITHUB_API_URL is not an http(s):// URL")
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked above
        url,
        headers={
            "Accept": "application/vnd.github+json",
            "Authorization": f"Bearer {token}",
            "X-GitHub-Api-Version": "2022-11-28",
        },
    )
    try:
        # http(s) only, checked above: ruff's S310 and bandit's B310.
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310 # nosec B310
            body = response.read()
    except urllib.error.HTTPError as error:
        hint = HINTS.get(error.code, "")
        raise ApprovalError(
            f"{parts.hostname} answered {error.code} {error.reason}{hint}"
        ) from None
    except TimeoutError:
        raise ApprovalError(f"{parts.hostname} did not answer within {TIMEOUT:g} s") from None
    except OSError as error:  # refused, unreachable, unknown name, TLS
        reason = getattr(error, "reason", error)
        raise ApprovalError(f"{parts.hostname} did not answer: {reason}") from None
    try:
        described = json.loads(body)
    except ValueError:
        raise ApprovalError(f"{parts.hostname} answered something that is not JSON") from None
    if not isinstance(described, dict):
        raise ApprovalError(f"{parts.hostname} answered JSON that is not an environment")
    return described


def required_reviewers(environment: dict[str, Any]) -> list[dict[str, Any]]:
    """The reviewers of the environment's `required_reviewers` rules (none: no approval)."""
    rules = environment.get("protection_rules") or []
    return [
        reviewer
        for rule in rules
        if isinstance(rule, dict) and rule.get("type") == "required_reviewers"
        for reviewer in rule.get("reviewers") or []
    ]


def reviewer_name(reviewer: dict[str, Any]) -> str:
    """A user's login, a team's slug (GitHub's `reviewer` object of either `type`)."""
    who = reviewer.get("reviewer") or {}
    return str(who.get("login") or who.get("slug") or reviewer.get("type"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ci.approval", description=__doc__)
    parser.add_argument(
        "--environment", required=True, help="the GitHub environment, e.g. production"
    )
    environment = parser.parse_args(argv).environment
    setting = SETTING.format(environment=environment)
    repository = os.environ.get("GITHUB_REPOSITORY", "").strip()
    token = os.environ.get("GITHUB_TOKEN", "").strip()
    api_url = os.environ.get("GITHUB_API_URL", "").strip() or "https://api.github.com"
    if not repository or not token:
        print("::error::approval: GITHUB_REPOSITORY and GITHUB_TOKEN must both be set")
        return 1
    try:
        described = fetch_environment(environment_url(api_url, repository, environment), token)
    except ApprovalError as error:
        print(f"::error::approval: could not read the {environment} environment: {error}")
        return 1
    reviewers = required_reviewers(described)
    if not reviewers:
        print(
            f"::error::the {environment} environment has no required reviewers, so its deploys "
            f"would need no approval: add them in {setting}"
        )
        return 1
    names = ", ".join(reviewer_name(reviewer) for reviewer in reviewers)
    print(f"approval: {environment} deploys only after a required reviewer approves ({names})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
