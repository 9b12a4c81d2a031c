"""OpenAPI pieces both services describe the same way: the problem details every error path
answers with (vcred_service.problems), as a schema and as a response."""

from __future__ import annotations

from typing import Any, Final

from vcred_service.problems import PROBLEM_JSON

#: What vcred_service.problems answers for every refused request (RFC 9457).
PROBLEM_SCHEMA: Final[dict[str, Any]] = {
    "type": "object",
    "description": "Problem details (RFC 9457); pointers are JSON Pointers into the request",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string", "description": "a stable vcred error code"},
        "pointer": {"type": "string"},
        "errors": {
            "description": "every schema violation, each with its pointer",
            "type": "array",
            "items": {
                "type": "object",
                "required": ["detail", "pointer"],
                "properties": {"detail": {"type": "string"}, "pointer": {"type": "string"}},
            },
        },
        "retry_after": {"type": "integer"},
    },
}


def problem_response(
    description: str, *, schema_ref: str, headers: dict[str, Any] | None = None
) -> dict[str, Any]:
    """An OpenAPI response answered with problem details (``schema_ref`` names the schema)."""
    response: dict[str, Any] = {
        "description": description,
        "content": {PROBLEM_JSON: {"schema": {"$ref": schema_ref}}},
    }
    if headers:
        response["headers"] = headers
    return response
