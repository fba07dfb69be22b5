"""Rate limiting as each option set serves it (`make run`): the draft's fields and the 429.

Bounded: every anonymous request here names its own client in X-Forwarded-For, which the served
project honours from 127.0.0.1 (its default trusted proxy), and every signed-in one is a new admin,
so no other test's traffic shares these quotas and they start full. The 429 comes from the path
with a quota of 3 (project.py: RATE_LIMITS), not from the shared default, which the load tests
need raised.
"""

import re
import uuid

import httpx
import pytest

from .project import RATE_LIMITED_PATH, RATE_LIMITS, GeneratedProject, RunningService

DEFAULT_QUOTA = int(RATE_LIMITS["RATE_LIMIT_DEFAULT"].split("/")[0])


def new_client() -> dict[str, str]:
    """A client address no other request used (the benchmarking range 198.18/15, at random)."""
    suffix = uuid.uuid4().int
    return {"X-Forwarded-For": f"198.18.{suffix % 256}.{suffix // 256 % 256}"}


# Counted under the default policy, answered 404 whoever asks: no route has this path.
COUNTED_PATH = "/harness/counted"


def test_the_default_policy_counts_down_per_client(service: RunningService) -> None:
    client = new_client()
    fields = [
        (response.status_code, response.headers["ratelimit-policy"], response.headers["ratelimit"])
        for response in (service.anonymous.get(COUNTED_PATH, headers=client) for _ in range(2))
    ]
    policy = f'"default";q={DEFAULT_QUOTA};w=60'
    assert fields == [
        (404, policy, f'"default";r={DEFAULT_QUOTA - 1};t=60'),
        (404, policy, f'"default";r={DEFAULT_QUOTA - 2};t=60'),
    ]
    # Another client's quota is its own, full.
    other = service.anonymous.get(COUNTED_PATH, headers=new_client())
    assert other.headers["ratelimit"] == f'"default";r={DEFAULT_QUOTA - 1};t=60'


def test_a_signed_in_caller_keeps_one_quota_across_addresses(
    project: GeneratedProject, service: RunningService
) -> None:
    if project.answers["auth"] == "none":
        pytest.skip("auth = none: no caller is signed in, every quota is per address")
    with httpx.Client(base_url=service.url, headers=project.admin_headers(service.url)) as admin:
        remaining = [
            admin.get("/api/v1/items", headers=new_client()).headers["ratelimit"] for _ in range(2)
        ]
    # One quota, whatever the address: the second request has one fewer left. Not counted from
    # the top: with auth = oidc the provider's admin is a subject other tests signed in as too.
    counts = [int(re.fullmatch(r'"default";r=(\d+);t=\d+', header)[1]) for header in remaining]
    assert counts[1] == counts[0] - 1 < DEFAULT_QUOTA, remaining


def test_past_a_quota_the_answer_is_a_429_problem(service: RunningService) -> None:
    client = new_client()
    # The limiter counts before routing: this path has no route (404), but a quota of its own.
    answered = [service.anonymous.get(RATE_LIMITED_PATH, headers=client) for _ in range(4)]
    assert [response.status_code for response in answered] == [404, 404, 404, 429]
    assert [response.headers["ratelimit"] for response in answered] == [
        f'"{RATE_LIMITED_PATH}";r={remaining};t=60' for remaining in (2, 1, 0, 0)
    ]
    refused = answered[-1]
    assert refused.headers["ratelimit-policy"] == f'"{RATE_LIMITED_PATH}";q=3;w=60'
    assert refused.headers["retry-after"] == "60"
    assert refused.headers["content-type"] == "application/problem+json"
    problem = refused.json()
    assert (problem["status"], problem["title"]) == (429, "Too Many Requests")
    assert problem["request_id"] == refused.headers["x-request-id"]


def test_probes_and_metrics_carry_no_rate_limit(service: RunningService) -> None:
    for path in ("/health/live", "/health/ready", "/metrics"):
        response = service.anonymous.get(path, headers=new_client())
        assert response.status_code == 200, path
        assert "ratelimit" not in response.headers, path
