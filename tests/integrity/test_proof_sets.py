"""Proof sets and proof chains against eddsa/proof-set-chain (VC Data Integrity §4.3, §4.5)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.integrity.vectors import W3C, read_json
from vcred import Verifier
from vcred.errors import CryptographicError, UsageError
from vcred.integrity import EDDSA_RDFC_2022, add_proof, verify_document
from vcred.integrity.suites import verify_proof
from vcred.issuing import signer_for
from vcred.keys import KeyPair, LocalSigner
from vcred.model import parse_datetime

FOLDER = W3C / "eddsa" / "proof-set-chain"
PROOF_ONLY = Verifier(checks=("proof",))


def vector(name: str) -> Any:
    return read_json(FOLDER / name)


def signer(number: int) -> LocalSigner:
    pair = vector("multiKeyPairs.json")[f"keyPair{number}"]
    return signer_for(KeyPair.from_multikey(pair["privateKeyMultibase"]))


def add(document: dict[str, Any], number: int, config: dict[str, Any]) -> dict[str, Any]:
    """Add the proof the vector's configuration describes, signed with key ``number``."""
    assert signer(number).key_id == config["verificationMethod"]
    return add_proof(
        document,
        signer(number),
        suite=config["cryptosuite"],
        created=parse_datetime(config["created"], pointer="/created"),
        proof_id=config.get("id"),
        previous_proof=config.get("previousProof"),
    )


def test_a_proof_set_is_built_proof_by_proof() -> None:
    first = add(vector("unsigned.json"), 1, vector("proofSetConfig1.json"))
    assert first == vector("signedProofSet1.json")
    assert first["proof"] == vector("proofSetConfigSigned1.json")
    second = add(first, 2, vector("proofSetConfig2.json"))
    assert second == vector("signedProofSet2.json")
    assert second["proof"][1] == vector("proofSetConfigSigned2.json")


def test_a_proof_chain_signs_the_proofs_it_follows() -> None:
    first = add(vector("signedProofSet2.json"), 3, vector("proofChainConfig1.json"))
    assert first == vector("signedProofChain1.json")
    assert first["proof"][2] == vector("proofChainConfigSigned1.json")
    second = add(first, 4, vector("proofChainConfig2.json"))
    assert second == vector("signedProofChain2.json")
    assert second["proof"][3] == vector("proofChainConfigSigned2.json")


@pytest.mark.parametrize(
    ("temporary", "proof"),
    [
        ("proofChainTempDoc1.json", "proofChainConfigSigned1.json"),
        ("proofChainTempDoc2.json", "proofChainConfigSigned2.json"),
    ],
)
def test_a_chained_proof_covers_the_document_with_its_previous_proofs(
    temporary: str, proof: str
) -> None:
    # proofChainTempDocN: the document whose proofs are exactly the previous ones (§4.3 step 6)
    number = 3 if temporary.endswith("1.json") else 4
    document = vector(temporary)
    verify_proof(EDDSA_RDFC_2022, document, vector(proof), signer(number).public_key)
    without = {k: v for k, v in document.items() if k != "proof"}
    with pytest.raises(CryptographicError):
        verify_proof(EDDSA_RDFC_2022, without, vector(proof), signer(number).public_key)


@pytest.mark.parametrize(
    ("name", "proofs"),
    [
        ("signedProofSet1.json", 1),
        ("signedProofSet2.json", 2),
        ("signedProofChain1.json", 3),
        ("signedProofChain2.json", 4),
    ],
)
def test_sets_and_chains_verify_every_proof(name: str, proofs: int) -> None:
    result = PROOF_ONLY.verify(vector(name))
    assert result.verified, result.errors
    verified = verify_document(
        vector(name),
        purpose="assertionMethod",
        lookup=PROOF_ONLY.method_lookup,
        now=parse_datetime("2026-01-01T00:00:00Z", pointer="/"),
    )
    assert len(verified.methods) == proofs
    assert "proof" not in verified.document


def test_a_set_is_unordered() -> None:
    document = vector("signedProofChain2.json")
    document["proof"].reverse()
    assert PROOF_ONLY.verify(document).verified


def test_one_bad_proof_fails_the_whole_set() -> None:
    document = vector("signedProofSet2.json")
    document["proof"][1]["created"] = "2023-02-24T23:36:39Z"
    result = PROOF_ONLY.verify(document)
    assert result.codes == ("INVALID_SIGNATURE",)
    assert result.errors[0].path == "/proof/1/proofValue"


def test_a_chain_breaks_when_a_previous_proof_is_swapped() -> None:
    # Re-sign the first proof of the set (same key, same id, another time): it verifies on its
    # own, but the chained proof signed the original one.
    document = vector("signedProofChain1.json")
    config = {**vector("proofSetConfig1.json"), "created": "2024-01-01T00:00:00Z"}
    swapped = add(vector("unsigned.json"), 1, config)["proof"]
    document["proof"][0] = swapped
    result = PROOF_ONLY.verify(document)
    assert result.codes == ("INVALID_SIGNATURE",)
    assert result.errors[0].path == "/proof/2/proofValue"


def test_a_chain_whose_previous_proof_is_missing_does_not_verify() -> None:
    # The chain's intermediate document names previous proofs it does not carry.
    result = PROOF_ONLY.verify(vector("proofChainTempDoc2.json"))
    assert result.codes == ("INVALID_PROOF",)
    assert result.errors[0].path == "/proof/0/previousProof"


def test_a_proof_cannot_follow_itself() -> None:
    document = vector("signedProofSet1.json")
    document["proof"]["previousProof"] = document["proof"]["id"]
    result = PROOF_ONLY.verify(document)
    assert result.codes == ("INVALID_PROOF",)


def test_adding_a_proof_after_a_missing_one_is_refused() -> None:
    config = {**vector("proofChainConfig2.json")}
    with pytest.raises(UsageError, match="previousProof"):
        add(vector("signedProofSet2.json"), 4, config)


def test_adding_a_proof_leaves_the_input_alone() -> None:
    document = vector("signedProofSet1.json")
    before = copy.deepcopy(document)
    add(document, 2, vector("proofSetConfig2.json"))
    assert document == before


def test_a_document_with_more_than_16_proofs_is_refused_before_any_is_checked() -> None:
    # each proof costs a canonicalization and a DID resolution: the set is bounded up front
    from vcred.errors import MalformedError
    from vcred.integrity.proof import MAX_PROOFS

    key = KeyPair.generate()
    document = add_proof(
        {
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "type": ["VerifiableCredential"],
            "issuer": "did:example:x",
            "credentialSubject": {"name": "x"},
        },
        signer_for(key),
    )
    document["proof"] = [document["proof"]] * (MAX_PROOFS + 1)
    looked_up: list[str] = []

    def lookup(method: str, relationship: str) -> Any:
        looked_up.append(method)
        raise AssertionError("no proof may be checked")

    with pytest.raises(MalformedError, match=f"at most {MAX_PROOFS} proofs"):
        verify_document(
            document,
            purpose="assertionMethod",
            lookup=lookup,
            now=parse_datetime("2026-06-01T00:00:00Z", pointer=""),
        )
    assert looked_up == []
