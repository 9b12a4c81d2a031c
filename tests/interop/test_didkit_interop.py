"""VC-JWT 1.1 tokens as Spruce's didkit issues them (no typ header, NumericDates as floats,
VCDM 1.1 §6.3.1 / RFC 7519 §2): we verify what didkit signs."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from tests.conftest import NOW
from tests.interop.node import HERE
from vcred import Verifier, jose
from vcred.did import did_key
from vcred.keys import KeyPair

pytestmark = pytest.mark.interop


def didkit_tokens(requests: list[dict[str, Any]]) -> list[str]:
    completed = subprocess.run(
        [sys.executable, str(HERE / "didkit_peer.py")],
        input=json.dumps({"requests": requests}),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if completed.returncode != 0:
        raise AssertionError(f"didkit_peer.py failed: {completed.stderr[-2000:]}")
    tokens: list[str] = json.loads(completed.stdout)["tokens"]
    return tokens


@pytest.mark.parametrize("kind", ["ed25519", "p256"])
def test_we_verify_a_vc_jwt_didkit_signed(kind: str) -> None:
    key = KeyPair.generate(kind)
    issuer = did_key(key.public)
    credential = {
        "@context": ["https://www.w3.org/2018/credentials/v1"],
        "type": ["VerifiableCredential"],
        "issuer": issuer,
        "issuanceDate": "2026-01-01T00:00:00.125Z",
        "expirationDate": "2027-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:trader"},
    }
    (token,) = didkit_tokens([{"credential": credential, "jwk": key.private_jwk()}])
    header, payload = jose.unverified_header(token), jose.unverified_payload(token)
    assert "typ" not in header  # what made us refuse didkit's tokens
    assert isinstance(payload["nbf"], float) and isinstance(payload["exp"], float)
    result = Verifier(clock=lambda: NOW).verify(token)
    assert result.verified, result.errors
    assert result.issuer == issuer
    assert result.credential is not None
    assert result.credential["issuanceDate"] == "2026-01-01T00:00:00.125Z"
    head, body, signature = token.split(".")
    flipped = signature[:-4] + ("AAAA" if not signature.endswith("AAAA") else "BBBB")
    assert not Verifier(clock=lambda: NOW).verify(f"{head}.{body}.{flipped}").verified
