"""The verifier service verifies credentials secured with the legacy suites (docs/legacy.md)."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from tests.integrity.test_legacy_suites import CASES, signed
from tests.verifier.test_credentials import codes, verify


@pytest.mark.parametrize(("suite", "kind"), CASES)
def test_a_legacy_credential_passes_the_proof_check_and_a_tampered_one_is_400(
    client: FlaskClient, suite: str, kind: str
) -> None:
    document = signed(suite, kind)
    _, body = verify(client, document)
    assert body["format"] == "data-integrity"
    proof = [c for c in body["checks"] if c["check"] == "proof"]
    assert proof and proof[0]["passed"] is True, body
    assert not {"INVALID_SIGNATURE", "INVALID_PROOF", "UNSUPPORTED"} & set(codes(body))
    document["credentialSubject"]["legalName"] = "Somebody Else Ltd"
    status, body = verify(client, document)
    assert status == 400
    assert codes(body) == ["INVALID_SIGNATURE"]
