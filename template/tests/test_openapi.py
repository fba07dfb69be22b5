"""The OpenAPI document promises problem documents for every error it lists."""

from typing import Any

from fastapi.testclient import TestClient


def test_every_error_response_is_documented_as_a_problem(client: TestClient) -> None:
    document: dict[str, Any] = client.get("/openapi.json").json()
    error_responses = [
        response
        for operations in document["paths"].values()
        for operation in operations.values()
        for status, response in operation["responses"].items()
        if status[0] in "45"
    ]
    assert len(error_responses) > 10
    for response in error_responses:
        assert response["content"] == {
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
        }
    assert "HTTPValidationError" not in document["components"]["schemas"]
    assert "/metrics" not in document["paths"]


def test_every_counted_operation_documents_the_429_and_its_retry_after(client: TestClient) -> None:
    document: dict[str, Any] = client.get("/openapi.json").json()
    documented = {
        (path, method): "429" in operation["responses"]
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
    }
    assert documented[("/health/ready", "get")] is False  # probes are never rate limited
    assert documented[("/api/v1/items", "post")] is True
    counted = [key for key, has_429 in documented.items() if not key[0].startswith("/health/")]
    assert all(documented[key] for key in counted)
    too_many = document["paths"]["/api/v1/items"]["get"]["responses"]["429"]
    assert too_many["headers"]["Retry-After"]["schema"] == {"type": "integer", "minimum": 1}
