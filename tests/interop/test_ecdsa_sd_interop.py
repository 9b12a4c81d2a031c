"""ecdsa-sd-2023 against @digitalbazaar/ecdsa-sd-2023-cryptosuite, in both directions.

- Ours → theirs: credentials we sign and derive verify in their verifier; their holder code
  derives from our base proofs, and what it derives verifies in both.
- Theirs → ours: base proofs they sign derive in ours and the result verifies in both; what
  their holder code derives verifies in ours.
- The "done when" of issue 12: a derived ExportBillingAttestation that hides the invoice
  amounts verifies in vcred and in the npm cryptosuite. (Their code cannot sign or derive a
  credential with an ``@list`` container such as the attestation's line items — it gives the
  list object an ``@id``, which JSON-LD forbids — but it verifies what we derive.)

Two node runs: the first signs a base proof and derives from it on their side, the second
verifies and derives what we made from both sides' base proofs.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.interop.node import run_peer
from vcred import Verifier, derive, issue
from vcred.customs import samples
from vcred.did import did_key
from vcred.keys import KeyPair

pytestmark = [pytest.mark.interop, pytest.mark.xdist_group("ecdsa-sd-interop")]  # two node runs

PEER = "ecdsa_sd_peer.mjs"
EXAMPLES = "https://www.w3.org/ns/credentials/examples/v2"
VERIFIER = Verifier()
SELECTIVE = ["/validFrom", "/credentialSubject/programme/tier", "/evidence/1/name"]


def certificate(issuer: str) -> dict[str, Any]:
    """A credential with blank nodes at three levels and an array of objects."""
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2", EXAMPLES],
        "type": ["VerifiableCredential", "AEOCertificateCredential"],
        "issuer": issuer,
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {
            "name": "Harbour Lights Trading",
            "country": "NL",
            "programme": {"name": "EU AEO", "tier": "AEOF", "since": "2021-04-01"},
        },
        "evidence": [
            {"type": ["Evidence"], "name": "site visit", "date": "2025-10-01"},
            {"type": ["Evidence"], "name": "audit", "date": "2025-11-02"},
        ],
    }


def billing(name: str, key: KeyPair) -> dict[str, Any]:
    document = samples.export_billing_attestation(name)
    document["issuer"] = did_key(key.public)
    return document


@pytest.fixture(scope="module")
def ours() -> dict[str, Any]:
    key = KeyPair.generate("p256")
    base = issue(
        certificate(did_key(key.public)),
        key,
        format="ecdsa-sd-2023",
        mandatory_pointers=["/issuer", "/credentialSubject/name"],
    )
    billing_base = issue(billing("de-to-us", key), key, format="ecdsa-sd-2023")
    assert isinstance(base, dict) and isinstance(billing_base, dict)
    return {
        "key": key,
        "base": base,
        "derived": derive(base, SELECTIVE),
        "billing": derive(billing_base),  # mandatory: all but the amounts
        "billing_total": derive(
            issue(billing("jp-to-us", key), key, format="ecdsa-sd-2023"),
            ["/credentialSubject/invoice/totalAmount"],
        ),
    }


@pytest.fixture(scope="module")
def theirs() -> dict[str, Any]:
    key = KeyPair.generate("p256")
    request = {
        "credential": certificate(did_key(key.public)),
        "secretKeyMultibase": key.secret_multikey(),
        "publicKeyMultibase": key.public.multikey(),
    }
    task = {"action": "sign", **request, "mandatoryPointers": ["/issuer"]}
    (signed,) = run_peer(PEER, {"tasks": [{**task, "selectivePointers": SELECTIVE}]})["results"]
    assert "derived" in signed, signed
    return {"key": key, "base": signed["document"], "derived": signed["derived"]}


@pytest.fixture(scope="module")
def answers(ours: dict[str, Any], theirs: dict[str, Any]) -> dict[str, Any]:
    """One node run: verify our derived credentials, derive from both sides' base proofs."""
    tampered = copy.deepcopy(ours["billing"])
    tampered["credentialSubject"]["lineItems"][0]["quantity"] = "3"
    cases: dict[str, dict[str, Any]] = {
        "our derived": {"action": "verify", "document": ours["derived"]},
        "our billing": {"action": "verify", "document": ours["billing"]},
        "our billing with its total": {"action": "verify", "document": ours["billing_total"]},
        "our tampered billing": {"action": "verify", "document": tampered},
        "our base": {"action": "verify", "document": ours["base"]},
        "they derive ours": {
            "action": "derive",
            "document": ours["base"],
            "selectivePointers": SELECTIVE,
            "verify": True,
        },
        "we derive theirs": {
            "action": "verify",
            "document": derive(theirs["base"], SELECTIVE),
        },
    }
    results = run_peer(PEER, {"tasks": list(cases.values())})["results"]
    return dict(zip(cases, results, strict=True))


# -- ours → theirs ---------------------------------------------------------------------------


def test_they_verify_what_we_derive(answers: dict[str, Any]) -> None:
    assert answers["our derived"] == {"verified": True, "error": None}


def test_done_when_a_billing_attestation_without_amounts_verifies_in_both(
    ours: dict[str, Any], answers: dict[str, Any]
) -> None:
    subject = ours["billing"]["credentialSubject"]
    assert "totalAmount" not in subject["invoice"]
    assert all("unitPrice" not in i and "amount" not in i for i in subject["lineItems"])
    assert VERIFIER.verify(ours["billing"]).verified
    assert answers["our billing"] == {"verified": True, "error": None}


def test_they_verify_a_billing_attestation_that_reveals_its_total(
    ours: dict[str, Any], answers: dict[str, Any]
) -> None:
    assert "totalAmount" in ours["billing_total"]["credentialSubject"]["invoice"]
    assert VERIFIER.verify(ours["billing_total"]).verified
    assert answers["our billing with its total"] == {"verified": True, "error": None}


def test_they_refuse_a_tampered_derived_credential(answers: dict[str, Any]) -> None:
    assert answers["our tampered billing"]["verified"] is False


def test_they_refuse_our_base_proof_as_we_do(ours: dict[str, Any], answers: dict[str, Any]) -> None:
    assert answers["our base"]["verified"] is False
    assert VERIFIER.verify(ours["base"]).codes == ("INVALID_PROOF",)


def test_they_derive_from_our_base_proof_and_both_verify(
    ours: dict[str, Any], answers: dict[str, Any]
) -> None:
    answer = answers["they derive ours"]
    assert answer["verified"] is True, answer
    # their holder code reveals exactly what ours does, with the same proof value
    assert answer["document"] == ours["derived"]
    result = VERIFIER.verify(answer["document"])
    assert result.verified, result.errors


# -- theirs → ours -----------------------------------------------------------------------------


def test_we_verify_what_they_derive(theirs: dict[str, Any]) -> None:
    result = VERIFIER.verify(theirs["derived"])
    assert result.verified, result.errors
    assert result.issuer == did_key(theirs["key"].public)


def test_we_derive_from_their_base_proof_and_both_verify(
    theirs: dict[str, Any], answers: dict[str, Any]
) -> None:
    derived = derive(theirs["base"], SELECTIVE)
    assert derived == theirs["derived"]
    assert VERIFIER.verify(derived).verified
    assert answers["we derive theirs"] == {"verified": True, "error": None}


def test_their_base_proof_is_refused_by_our_verifier(theirs: dict[str, Any]) -> None:
    assert VERIFIER.verify(theirs["base"]).codes == ("INVALID_PROOF",)


def test_a_tampered_credential_of_theirs_fails_in_ours(theirs: dict[str, Any]) -> None:
    tampered = copy.deepcopy(theirs["derived"])
    tampered["credentialSubject"]["programme"]["tier"] = "AEOC"
    assert VERIFIER.verify(tampered).codes == ("INVALID_SIGNATURE",)
