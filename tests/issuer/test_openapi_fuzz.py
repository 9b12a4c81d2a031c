"""What `schemathesis run --checks all` checks (tests/issuer/schemathesis.toml), in process:
no 5xx, every status, content type and header documented, every body valid against its
schema — under generated requests, valid and invalid."""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings

from tests.issuer.conftest import ApiClient, auth, credential


def test_every_operation_conforms_under_fuzzing(make_app: Any) -> None:
    app = make_app("sqlite", insecure_no_auth=True)
    # a list to fetch and publish, so those operations get past 404 now and then
    issued = ApiClient(app).issue(credential(), auth(app)).get_json()
    assert "verifiableCredential" in issued
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    labels = []
    for result in schema.get_all_operations():
        operation = result.ok()
        labels.append(operation.label)

        @given(case=operation.as_strategy())
        @settings(
            max_examples=15,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def conforms(case: Any) -> None:
            # a schema-valid credential may still break a rule JSON Schema cannot say
            case.call_and_validate(excluded_checks=[schemathesis.checks.positive_data_acceptance])

        conforms()
    # (schemathesis leaves out the document's own GET /openapi.json)
    assert sorted(labels) == [
        "GET /.well-known/did.json",
        "GET /health",
        "GET /status/{signer}/{listId}",
        "POST /credentials/derive",
        "POST /credentials/issue",
        "POST /credentials/status",
        "POST /status/{signer}/{listId}/publish",
    ]
