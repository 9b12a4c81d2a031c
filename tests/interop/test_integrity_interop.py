"""Data Integrity against @digitalbazaar/vc: it verifies what we sign, we verify what it signs.

eddsa-rdfc-2022 (Ed25519) and ecdsa-rdfc-2019 (P-256 and P-384). Each direction is one node
run over a batch of documents. The credentials have several blank nodes (no credential id, a
subject without id, two evidence entries), so RDFC-1.0's blank node labelling — with SHA-384
for P-384 keys — has to agree on both sides.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.integrity.vectors import W3C, read_json
from tests.interop.node import run_peer
from vcred import Verifier, issue
from vcred.did import did_key
from vcred.keys import KeyPair

pytestmark = pytest.mark.interop

EXAMPLES_CONTEXT = "https://www.w3.org/ns/credentials/examples/v2"
CASES = [("ed25519", "eddsa-rdfc-2022"), ("p256", "ecdsa-rdfc-2019"), ("p384", "ecdsa-rdfc-2019")]
NOW = Verifier().clock()


@pytest.fixture(scope="module")
def keys() -> dict[str, KeyPair]:
    return {kind: KeyPair.generate(kind) for kind, _ in CASES}


def blank_node_credential(issuer: str | None = None) -> dict[str, Any]:
    """A credential whose nodes are all blank but the issuer (labels decided by hashing)."""
    document: dict[str, Any] = {
        "@context": ["https://www.w3.org/ns/credentials/v2", EXAMPLES_CONTEXT],
        "type": ["VerifiableCredential", "AEOCertificateCredential"],
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {
            "name": "Harbour Lights Trading",
            "programme": {"name": "EU AEO", "tier": "AEOF"},
        },
        "evidence": [
            {"type": ["Evidence"], "name": "site visit", "date": "2025-10-01"},
            {"type": ["Evidence"], "name": "audit", "date": "2025-11-02"},
        ],
    }
    if issuer is not None:
        document["issuer"] = issuer
    return document


def test_digital_bazaar_verifies_what_we_sign(keys: dict[str, KeyPair]) -> None:
    signed = [
        issue(blank_node_credential(), keys[kind], format=suite, now=NOW) for kind, suite in CASES
    ]
    tampered = copy.deepcopy(signed[0])
    tampered["credentialSubject"]["name"] = "Someone Else"
    answer = run_peer("integrity_peer.mjs", {"action": "verify", "documents": [*signed, tampered]})
    results = answer["results"]
    assert [r["verified"] for r in results[:-1]] == [True] * len(CASES), results
    assert results[-1]["verified"] is False


def test_we_verify_what_digital_bazaar_signs(keys: dict[str, KeyPair]) -> None:
    requests = [
        {
            "credential": blank_node_credential(did_key(keys[kind].public)),
            "secretKeyMultibase": keys[kind].secret_multikey(),
            "publicKeyMultibase": keys[kind].public.multikey(),
            "cryptosuite": suite,
        }
        for kind, suite in CASES
    ]
    answer = run_peer("integrity_peer.mjs", {"action": "sign", "requests": requests})
    verifier = Verifier()
    for (kind, suite), document in zip(CASES, answer["documents"], strict=True):
        assert document["proof"]["cryptosuite"] == suite
        result = verifier.verify(document)
        assert result.verified, (kind, result.errors)
        assert result.issuer == did_key(keys[kind].public)
        document["evidence"][1]["name"] = "no audit"
        assert verifier.verify(document).codes == ("INVALID_SIGNATURE",)


def test_digital_bazaar_verifies_the_w3c_rdfc_vectors() -> None:
    # A check of the peer itself: the spec's own signed documents pass there too.
    documents = [
        read_json(W3C / "eddsa/eddsa-rdfc-2022/signedDataInt.json"),
        read_json(W3C / "ecdsa/ecdsa-rdfc-2019-p256/signedECDSAP256.json"),
        read_json(W3C / "ecdsa/ecdsa-rdfc-2019-p384/signedECDSAP384.json"),
    ]
    answer = run_peer("integrity_peer.mjs", {"action": "verify", "documents": documents})
    # The vectors' issuer is not the controller of their did:key: the issuer purpose fails
    # there after the signature verified, as our issuer check does.
    for result in answer["results"]:
        assert result["error"] == (
            "Credential issuer must match the verification method controller."
        ), answer


def direction_credential(issuer: str | None = None) -> dict[str, Any]:
    """Names and descriptions with a base direction, as the VCDM 2.0 suite sends them."""
    document = blank_node_credential(issuer)
    document["name"] = {"@value": "شهادة المشغل الاقتصادي", "@language": "ar", "@direction": "rtl"}
    document["description"] = [
        {"@value": "Authorised Economic Operator", "@language": "en", "@direction": "ltr"},
        {"@value": "AEO", "@direction": "ltr"},
    ]
    return document


def test_digital_bazaar_verifies_our_base_direction_credentials(keys: dict[str, KeyPair]) -> None:
    signed = [
        issue(direction_credential(), keys[kind], format=suite, now=NOW) for kind, suite in CASES
    ]
    tampered = copy.deepcopy(signed[0])
    tampered["name"]["@direction"] = "ltr"  # the direction is signed, not decoration
    answer = run_peer("integrity_peer.mjs", {"action": "verify", "documents": [*signed, tampered]})
    results = answer["results"]
    assert [r["verified"] for r in results[:-1]] == [True] * len(CASES), results
    assert results[-1]["verified"] is False


def test_we_verify_base_direction_credentials_digital_bazaar_signs(
    keys: dict[str, KeyPair],
) -> None:
    requests = [
        {
            "credential": direction_credential(did_key(keys[kind].public)),
            "secretKeyMultibase": keys[kind].secret_multikey(),
            "publicKeyMultibase": keys[kind].public.multikey(),
            "cryptosuite": suite,
        }
        for kind, suite in CASES
    ]
    answer = run_peer("integrity_peer.mjs", {"action": "sign", "requests": requests})
    verifier = Verifier()
    for (kind, suite), document in zip(CASES, answer["documents"], strict=True):
        result = verifier.verify(document)
        assert result.verified, (kind, suite, result.errors)
        document["name"]["@direction"] = "ltr"
        assert verifier.verify(document).codes == ("INVALID_SIGNATURE",)
