"""The attack table's credential rows against the running service (`make run`), on every option
set that authenticates: forged, tampered and missing credentials, over HTTP on loopback.

Each row is a few requests. The service's `client` is signed in as an admin (its project's own
ci/credentials.py), so a valid token is at hand to tamper with; every refusal must be a 401
problem document saying Bearer, never a 5xx, and never echo the credential. The rows that need
the service's own keys (expired, wrong issuer or audience, refresh reuse, lockout) run in each
project's own tests (tests/test_attacks_local.py, tests/test_auth_oidc.py), which `make test`
runs on every set (test_generated_project.py).
"""

import base64
import hashlib
import hmac
import json
from typing import Any

import httpx
import pytest

from .project import GeneratedProject, RunningService

pytestmark = pytest.mark.slow

ITEMS = "/api/v1/items"


@pytest.fixture(autouse=True)
def _authenticating(project: GeneratedProject) -> None:
    if project.answers["auth"] == "none":
        pytest.skip("auth = none: the gateway in front authenticates, the service checks nothing")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _token(service: RunningService) -> str:
    scheme, _, token = service.client.headers["authorization"].partition(" ")
    assert scheme == "Bearer"
    assert token.count(".") == 2, "the admin's credential is not a JWT"
    return token


def _parts(token: str) -> tuple[dict[str, Any], dict[str, Any], str]:
    header, payload, signature = token.split(".")
    return json.loads(_unb64(header)), json.loads(_unb64(payload)), signature


def _forge(header: dict[str, Any], payload: dict[str, Any], key: bytes | None) -> str:
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(payload).encode())}"
    if key is None:
        return signing_input + "."
    signature = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"


def assert_refused(response: httpx.Response, credential: str) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.headers["content-type"] == "application/problem+json"
    assert credential not in response.text


def _secured_operations(service: RunningService) -> list[tuple[str, str]]:
    document = service.client.get("/openapi.json").json()
    return [
        (method.upper(), path.replace("{item_id}", "1"))
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if operation.get("security")
    ]


def test_every_secured_operation_refuses_an_anonymous_call(service: RunningService) -> None:
    operations = _secured_operations(service)
    assert ("POST", ITEMS) in operations
    answered = {
        (method, path): service.anonymous.request(method, path).status_code
        for method, path in operations
    }
    assert {operation: status for operation, status in answered.items() if status != 401} == {}


@pytest.mark.parametrize(
    "forgery",
    ["alg none", "alg None", "tampered payload", "signature removed", "HS256 with a guessed key"],
)
def test_a_forged_token_is_refused(service: RunningService, forgery: str) -> None:
    header, payload, signature = _parts(_token(service))
    payload = {**payload, "sub": payload.get("sub", "") + "-someone-else"}
    forged = {
        "alg none": lambda: _forge({**header, "alg": "none"}, payload, None),
        "alg None": lambda: _forge({**header, "alg": "None"}, payload, None),
        "tampered payload": lambda: _forge(header, payload, None) + signature,
        "signature removed": lambda: _token(service).rsplit(".", 1)[0] + ".",
        # Not the development default: that one is guessable by design, and refused in staging.
        "HS256 with a guessed key": lambda: _forge({**header, "alg": "HS256"}, payload, b"secret"),
    }[forgery]()
    response = service.anonymous.get(ITEMS, headers={"Authorization": f"Bearer {forged}"})
    assert_refused(response, forged)
    # And the same request with the real token is served: the refusal was the forgery's.
    assert service.client.get(ITEMS).status_code == 200


@pytest.mark.parametrize(
    "credential",
    ["Bearer x", "Bearer " + "a" * 8000, "Bearer a.b.c", "Bearer ....", "Bearer \u00e9t\u00e9"],
)
def test_garbage_bearer_values_are_401s_not_errors(
    service: RunningService, credential: str
) -> None:
    # Sent as bytes: a client may put any octets in a header, not only ASCII.
    response = service.anonymous.get(ITEMS, headers={"Authorization": credential.encode()})
    assert_refused(response, credential.split(" ", 1)[1])


def test_an_unknown_api_key_is_refused(service: RunningService) -> None:
    key = "pk_unknown_" + "z" * 32
    assert_refused(service.anonymous.get(ITEMS, headers={"X-API-Key": key}), key)
