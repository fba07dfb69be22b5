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
