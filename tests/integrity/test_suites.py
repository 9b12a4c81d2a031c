"""Each cryptosuite step against the W3C test vectors, byte for byte.

For every suite (eddsa-rdfc-2022, eddsa-jcs-2022, ecdsa-rdfc-2019 P-256/P-384, ecdsa-jcs-2019
P-256/P-384) and both inputs (the alumni credential, and the employment authorization document
where the spec has one): canonical document, canonical proof configuration, the two hashes and
their concatenation, the signature (hex and base58btc), and the signed document.
"""

from __future__ import annotations

import copy
import hashlib
from typing import Any

import pytest

from tests.integrity.vectors import SuiteVector, suite_vectors, vector_loader
from vcred.errors import ContextError, CryptographicError
from vcred.integrity import add_proof
from vcred.integrity.suites import (
    HASH_FOR,
    configure_proof,
    create_proof,
    hash_data,
    serialize_proof,
    transform,
    verify_proof,
    verify_signature,
)
from vcred.issuing import signer_for
from vcred.keys import LocalSigner
from vcred.model import parse_datetime
from vcred.multibase import multibase_encode

# The employment authorization document uses the citizenship context: vector_loader() has it.
LOADER = vector_loader()


def _ids(vector: SuiteVector) -> str:
    return vector.name


VECTORS = list(suite_vectors())
EDDSA = [v for v in VECTORS if v.suite.family == "eddsa"]
ECDSA = [v for v in VECTORS if v.suite.family == "ecdsa"]


def signer(vector: SuiteVector) -> LocalSigner:
    return signer_for(vector.key)


def options(vector: SuiteVector) -> dict[str, Any]:
    """The proof options (the vector's proof configuration)."""
    config: dict[str, Any] = vector.json("proofConfig")
    return config


def test_every_suite_and_input_is_covered() -> None:
    assert sorted(v.name for v in VECTORS) == [
        "ecdsa-jcs-2019-p256",
        "ecdsa-jcs-2019-p384",
        "ecdsa-rdfc-2019-p256",
        "ecdsa-rdfc-2019-p256/employ",
        "ecdsa-rdfc-2019-p384",
        "ecdsa-rdfc-2019-p384/employ",
        "eddsa-jcs-2022",
        "eddsa-rdfc-2022",
        "eddsa-rdfc-2022/employ",
    ]


def test_the_signer_is_the_vectors_verification_method() -> None:
    for vector in VECTORS:
        assert signer(vector).key_id == options(vector)["verificationMethod"]


@pytest.mark.parametrize("vector", VECTORS, ids=_ids)
def test_transformation_gives_the_canonical_document(vector: SuiteVector) -> None:
    canonical = transform(
        vector.suite, vector.unsigned, options(vector), kind=vector.key.kind, loader=LOADER
    )
    assert canonical == vector.text("canonDoc")


@pytest.mark.parametrize("vector", VECTORS, ids=_ids)
def test_proof_configuration_gives_the_canonical_proof_options(vector: SuiteVector) -> None:
    config = {k: v for k, v in options(vector).items() if k != "@context"}
    if vector.suite.transformation == "jcs":  # Create Proof step 2 copies the @context
        config["@context"] = vector.unsigned["@context"]
    canonical = configure_proof(
        vector.suite, vector.unsigned, config, kind=vector.key.kind, loader=LOADER
    )
    assert canonical == vector.text("proofCanon")


@pytest.mark.parametrize("vector", VECTORS, ids=_ids)
def test_hashing_gives_proof_hash_then_document_hash(vector: SuiteVector) -> None:
    data = hash_data(vector.text("canonDoc"), vector.text("proofCanon"), kind=vector.key.kind)
    size = hashlib.new(HASH_FOR[vector.key.kind]).digest_size
    assert data[:size] == vector.hex("proofHash")
    assert data[size:] == vector.hex("docHash")
    assert data == vector.hex("combinedHash")


@pytest.mark.parametrize("vector", EDDSA, ids=_ids)
def test_eddsa_serialization_is_the_vectors_signature(vector: SuiteVector) -> None:
    signature = serialize_proof(vector.suite, vector.hex("combinedHash"), signer(vector))
    assert signature == vector.hex("sigHex")
    assert multibase_encode(signature, "z") == vector.text("sigBTC58").decode().strip()


@pytest.mark.parametrize("vector", ECDSA, ids=_ids)
def test_ecdsa_serialization_is_raw_r_s_that_verifies(vector: SuiteVector) -> None:
    data = vector.hex("combinedHash")
    signature = serialize_proof(vector.suite, data, signer(vector))
    assert len(signature) == {"p256": 64, "p384": 96}[vector.key.kind]  # r‖s, never DER
    assert verify_signature(data, signature, vector.key.public)
    assert multibase_encode(vector.hex("sigHex"), "z") == vector.text("sigBTC58").decode().strip()


@pytest.mark.parametrize("vector", VECTORS, ids=_ids)
def test_the_vectors_signature_verifies_over_the_hash_data(vector: SuiteVector) -> None:
    data = vector.hex("combinedHash")
    assert verify_signature(data, vector.hex("sigHex"), vector.key.public)
    changed = bytes([data[0] ^ 1]) + data[1:]
    assert not verify_signature(changed, vector.hex("sigHex"), vector.key.public)


@pytest.mark.parametrize("vector", VECTORS, ids=_ids)
def test_create_proof_matches_the_signed_document(vector: SuiteVector) -> None:
    expected = vector.json("signed")
    config = {k: v for k, v in options(vector).items() if k != "@context"}
    proof = create_proof(vector.suite, vector.unsigned, config, signer(vector), loader=LOADER)
    if vector.suite.family == "eddsa":  # deterministic: the very same proof
        assert proof == expected["proof"]
    else:  # ECDSA signs with a random nonce: all the same but the signature
        assert {**proof, "proofValue": None} == {**expected["proof"], "proofValue": None}
        verify_proof(vector.suite, vector.unsigned, proof, vector.key.public, loader=LOADER)


@pytest.mark.parametrize("vector", EDDSA, ids=_ids)
def test_add_proof_reproduces_the_signed_eddsa_document(vector: SuiteVector) -> None:
    expected = vector.json("signed")
    created = parse_datetime(expected["proof"]["created"], pointer="/created")
    secured = add_proof(
        vector.unsigned, signer(vector), suite=vector.suite, created=created, loader=LOADER
    )
    assert secured == expected


@pytest.mark.parametrize("vector", VECTORS, ids=_ids)
def test_the_signed_document_verifies(vector: SuiteVector) -> None:
    signed = vector.json("signed")
    unsecured = {k: v for k, v in signed.items() if k != "proof"}
    verified = verify_proof(
        vector.suite, unsecured, signed["proof"], vector.key.public, loader=LOADER
    )
    assert verified == unsecured


@pytest.mark.parametrize("vector", VECTORS, ids=_ids)
def test_a_changed_value_does_not_verify(vector: SuiteVector) -> None:
    signed = vector.json("signed")
    unsecured = copy.deepcopy({k: v for k, v in signed.items() if k != "proof"})
    unsecured["credentialSubject"]["familyName" if vector.employ else "alumniOf"] = "Forged"
    with pytest.raises(CryptographicError, match="does not verify"):
        verify_proof(vector.suite, unsecured, signed["proof"], vector.key.public, loader=LOADER)


@pytest.mark.parametrize("vector", [v for v in VECTORS if v.employ], ids=_ids)
def test_without_the_citizenship_context_the_employ_vectors_fail_cleanly(
    vector: SuiteVector,
) -> None:
    with pytest.raises(ContextError, match="citizenship"):
        transform(vector.suite, vector.unsigned, options(vector), kind=vector.key.kind)
