"""What `schemathesis run --checks all` checks (tests/issuer/schemathesis.toml), in process:
no 5xx, every status, content type and header documented, every body valid against its
schema — under generated requests, valid and invalid."""

from __future__ import annotations

from typing import Any

from tests.issuer.conftest import ApiClient, auth, credential
from tests.service.openapi_fuzz import fuzz_every_operation


def test_every_operation_conforms_under_fuzzing(make_app: Any) -> None:
    app = make_app("sqlite", insecure_no_auth=True)
    # a list to fetch and publish, so those operations get past 404 now and then
    issued = ApiClient(app).issue(credential(), auth(app)).get_json()
    assert "verifiableCredential" in issued
    labels = fuzz_every_operation(app, examples=15)
    assert labels == [
        "GET /.well-known/did.json",
        "GET /health",
        "GET /status/{signer}/{listId}",
        "GET /trust-lists/current",
        "GET /trust-lists/{sequenceNumber}",
        "POST /credentials/derive",
        "POST /credentials/issue",
        "POST /credentials/status",
        "POST /oid4vci/offers",
        "POST /status/{signer}/{listId}/publish",
        "POST /trust-lists/issue",
    ]
