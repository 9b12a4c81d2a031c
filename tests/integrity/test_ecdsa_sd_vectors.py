"""ecdsa-sd-2023 against the W3C test vectors, every intermediate value, byte for byte.

../shared/vectors/w3c/ecdsa/ecdsa-sd-2023/{employ,prc}: the base proof (with the vectors'
HMAC key and proof-scoped key from SDKeyMaterial.json, and RFC 6979 deterministic ECDSA as the
vectors were made), the derived proof, and the verifier's data. The only values compared up to
renaming are the skolem URNs and blank node labels made from a random UUID (derivedAllGroupData):
they are random by design.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from tests.integrity.vectors import W3C, read_json, vector_loader
from vcred import jsonld
from vcred.integrity import ecdsa_sd, proof_options
from vcred.integrity.selective import (
    create_hmac_id_label_map_function,
    json_pointer_to_paths,
    label_replacement_canonicalize_json_ld,
)
from vcred.integrity.suites import ECDSA_SD_2023
from vcred.keys import KeyPair, LocalSigner
from vcred.model import parse_datetime
from vcred.multibase import multibase_encode

LOADER = vector_loader()
SD = W3C / "ecdsa" / "ecdsa-sd-2023"


@dataclass(frozen=True, slots=True)
class SdVector:
    name: str
    folder: Path
    mandatory_pointers: list[str]
    selective_pointers: list[str]

    def json(self, name: str) -> Any:
        return read_json(self.folder / f"{name}.json")

    def text(self, name: str) -> str:
        return (self.folder / name).read_text(encoding="utf-8")

    @property
    def signed_base(self) -> dict[str, Any]:
        signed: dict[str, Any] = self.json("addSignedSDBase")
        return signed

    @property
    def unsigned(self) -> dict[str, Any]:
        """The input document: the signed base without its proof.

        For ``employ`` that is employmentAuth.json; prCredUnsigned.json differs from what
        the ``prc`` vectors signed (its description was edited), so both read it from here.
        """
        return {k: v for k, v in self.signed_base.items() if k != "proof"}

    @property
    def options(self) -> dict[str, Any]:
        config: dict[str, Any] = self.json("addProofConfig")
        return {k: v for k, v in config.items() if k != "@context"}


VECTORS = [
    SdVector(
        "employ",
        SD / "employ",
        read_json(W3C / "ecdsa/employMandatory.json"),
        read_json(W3C / "ecdsa/employSelective.json"),
    ),
    SdVector(
        "prc",
        SD / "prc",
        read_json(W3C / "ecdsa/prCredMandatory.json"),
        read_json(W3C / "ecdsa/prCredSelective.json"),
    ),
]
IDS = [v.name for v in VECTORS]
parametrize = pytest.mark.parametrize("vector", VECTORS, ids=IDS)


@cache
def _material() -> tuple[KeyPair, KeyPair, bytes]:
    material = read_json(SD / "SDKeyMaterial.json")
    base = KeyPair.from_multikey(material["baseKeyPair"]["secretKeyMultibase"])
    scoped = KeyPair.from_multikey(material["proofKeyPair"]["secretKeyMultibase"])
    assert base.public.multikey() == material["baseKeyPair"]["publicKeyMultibase"]
    assert scoped.public.multikey() == material["proofKeyPair"]["publicKeyMultibase"]
    return base, scoped, bytes.fromhex(material["hmacKeyString"])


def _signer(vector: SdVector) -> LocalSigner:
    base, _, _ = _material()
    return LocalSigner(base, vector.options["verificationMethod"], deterministic=True)


def _map(value: dict[str, Any]) -> dict[Any, Any]:
    """A vector's serialized JavaScript Map ({"dataType": "Map", "value": [[k, v], ...]})."""
    assert value["dataType"] == "Map"
    return dict(value["value"])


@cache
def _transformed(name: str) -> ecdsa_sd.TransformedData:
    vector = next(v for v in VECTORS if v.name == name)
    _, _, hmac_key = _material()
    return ecdsa_sd.transform_base_proof(
        vector.unsigned,
        vector.options,
        mandatory_pointers=vector.mandatory_pointers,
        hmac_key=hmac_key,
        loader=LOADER,
    )


@cache
def _disclosure(name: str) -> ecdsa_sd.DisclosureData:
    vector = next(v for v in VECTORS if v.name == name)
    signed = vector.signed_base
    return ecdsa_sd.create_disclosure_data(
        {k: v for k, v in signed.items() if k != "proof"},
        signed["proof"],
        vector.selective_pointers,
        loader=LOADER,
    )


def _reveal(vector: SdVector) -> dict[str, Any]:
    document: dict[str, Any] = vector.json("derivedRevealDocument")
    return document


def _verify_data(vector: SdVector) -> ecdsa_sd.VerifyData:
    document = _reveal(vector)
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    return ecdsa_sd.create_verify_data(unsecured, document["proof"], loader=LOADER)


def test_the_employ_input_is_employment_auth() -> None:
    assert VECTORS[0].unsigned == read_json(W3C / "ecdsa/employmentAuth.json")


# -- base proof ------------------------------------------------------------------------------


@parametrize
def test_base_document_canonical_form(vector: SdVector) -> None:
    dataset = jsonld.canonical_dataset(vector.unsigned, loader=LOADER)
    assert list(dataset.lines) == vector.json("addBaseDocCanon")


@parametrize
def test_base_document_hmac_canonical_form(vector: SdVector) -> None:
    _, _, hmac_key = _material()
    nquads, _ = label_replacement_canonicalize_json_ld(
        vector.unsigned, create_hmac_id_label_map_function(hmac_key), loader=LOADER
    )
    assert nquads == vector.json("addBaseDocHMACCanon")


@parametrize
def test_base_transformation(vector: SdVector) -> None:
    expected = vector.json("addBaseTransform")
    transformed = _transformed(vector.name)
    assert list(transformed.mandatory_pointers) == expected["mandatoryPointers"]
    assert transformed.mandatory == _map(expected["mandatory"])
    assert transformed.non_mandatory == _map(expected["nonMandatory"])
    assert transformed.hmac_key.hex().upper() == expected["hmacKeyString"]


@parametrize
def test_pointer_values(vector: SdVector) -> None:
    def resolve(document: Any, pointer: str) -> Any:
        for path in json_pointer_to_paths(pointer):
            document = document[path]
        return document

    expected = [
        {"pointer": pointer, "value": resolve(vector.unsigned, pointer)}
        for pointer in vector.mandatory_pointers
    ]
    assert expected == vector.json("addPointerValues")


@parametrize
def test_proof_configuration(vector: SdVector) -> None:
    expected = vector.json("addProofConfig")
    options = proof_options(
        ECDSA_SD_2023,
        expected["verificationMethod"],
        created=parse_datetime(expected["created"], pointer="/created"),
    )
    assert {**options, "@context": vector.unsigned["@context"]} == expected
    canonical = ecdsa_sd.configure_base_proof(options, vector.unsigned, loader=LOADER)
    assert canonical.decode() == vector.text("addProofConfigCanon.txt")


@parametrize
def test_base_hash_data(vector: SdVector) -> None:
    canonical = ecdsa_sd.configure_base_proof(vector.options, vector.unsigned, loader=LOADER)
    hashed = ecdsa_sd.hash_base_proof(_transformed(vector.name), canonical)
    expected = vector.json("addHashData")
    assert hashed.proof_hash.hex() == expected["proofHash"]
    assert hashed.mandatory_hash.hex() == expected["mandatoryHash"]


@parametrize
def test_raw_base_signature_info(vector: SdVector) -> None:
    """The vectors' ECDSA signatures are RFC 6979 deterministic: they are reproduced."""
    _, scoped, _ = _material()
    canonical = ecdsa_sd.configure_base_proof(vector.options, vector.unsigned, loader=LOADER)
    hashed = ecdsa_sd.hash_base_proof(_transformed(vector.name), canonical)
    value = ecdsa_sd.serialize_base_proof(
        hashed, _signer(vector), proof_key=scoped, deterministic=True
    )
    parsed = ecdsa_sd.parse_base_proof_value(value)
    expected = vector.json("addRawBaseSignatureInfo")
    assert parsed.base_signature.hex() == expected["baseSignature"]
    assert multibase_encode(parsed.public_key, "z") == expected["publicKey"]
    assert [s.hex() for s in parsed.signatures] == expected["signatures"]
    assert list(parsed.mandatory_pointers) == expected["mandatoryPointers"]


@parametrize
def test_signed_base_document(vector: SdVector) -> None:
    _, scoped, hmac_key = _material()
    proof = ecdsa_sd.create_base_proof(
        vector.unsigned,
        vector.options,
        _signer(vector),
        mandatory_pointers=vector.mandatory_pointers,
        loader=LOADER,
        hmac_key=hmac_key,
        proof_key=scoped,
        deterministic=True,
    )
    assert {**vector.unsigned, "proof": proof} == vector.signed_base
    assert proof["proofValue"] == vector.signed_base["proof"]["proofValue"]


@parametrize
def test_base_proof_value_round_trips(vector: SdVector) -> None:
    value = vector.signed_base["proof"]["proofValue"]
    assert ecdsa_sd.serialize_base_proof_value(ecdsa_sd.parse_base_proof_value(value)) == value


# -- derived proof -----------------------------------------------------------------------------


@parametrize
def test_recovered_base_data(vector: SdVector) -> None:
    parsed = ecdsa_sd.parse_base_proof_value(vector.signed_base["proof"]["proofValue"])
    expected = vector.json("derivedRecoveredBaseData")
    assert parsed.base_signature.hex() == expected["baseSignature"]
    assert multibase_encode(parsed.public_key, "z") == expected["proofPublicKey"]
    assert parsed.hmac_key.hex() == expected["hmacKey"]
    assert [s.hex() for s in parsed.signatures] == expected["signatures"]
    assert list(parsed.mandatory_pointers) == expected["mandatoryPointers"]


@parametrize
def test_group_indexes(vector: SdVector) -> None:
    groups = _disclosure(vector.name).grouped.groups
    expected = vector.json("derivedGroupIndexes")
    assert list(groups["combined"].matching) == expected["combinedIndexes"]
    assert list(groups["mandatory"].matching) == expected["mandatoryIndexes"]
    assert list(groups["mandatory"].non_matching) == expected["nonMandatoryIndexes"]
    assert list(groups["selective"].matching) == expected["selectiveIndexes"]


@parametrize
def test_all_group_data(vector: SdVector) -> None:
    grouped = _disclosure(vector.name).grouped
    expected = vector.json("derivedAllGroupData")
    assert list(grouped.nquads) == expected["nquads"]
    for name, group in grouped.groups.items():
        assert group.matching == _map(expected["groups"][name]["matching"])
        assert group.non_matching == _map(expected["groups"][name]["nonMatching"])
    # The skolem labels come from a random UUID: equal once both sides use the HMAC labels.
    theirs = _map(expected["labelMap"])
    assert sorted(grouped.label_map.values()) == sorted(theirs.values())
    ours_by_hmac = {v: k for k, v in grouped.label_map.items()}
    for name, group in grouped.groups.items():
        relabelled = {
            _relabel(nq, {k: ours_by_hmac[v] for k, v in theirs.items()})
            for nq in expected["groups"][name]["deskolemizedNQuads"]
        }
        assert relabelled == {jsonld_line(q) for q in group.deskolemized}
    assert _normalized_skolem(grouped.skolemized.expanded, grouped.skolemized.urn_scheme) == (
        _normalized_skolem(expected["skolemized"]["expanded"], "bnid:")
    )
    assert _normalized_skolem(grouped.skolemized.compact, grouped.skolemized.urn_scheme) == (
        _normalized_skolem(expected["skolemized"]["compact"], "bnid:")
    )


def jsonld_line(quad: tuple[str, str, str, str]) -> str:
    from vcred.rdfc import serialize_quad

    return serialize_quad(quad)


def _relabel(line: str, labels: dict[str, str]) -> str:
    for old, new in labels.items():
        line = line.replace(f"_:{old} ", f"_:{new} ")
    return line


def _normalized_skolem(document: Any, urn_scheme: str) -> Any:
    """The skolemized form with ``urn:<scheme>_<random>_<n>`` written ``urn:skolem:<n>``."""
    text = json.dumps(document, sort_keys=True)
    prefix = f"urn:{urn_scheme}_"
    out, start = [], 0
    while (at := text.find(prefix, start)) >= 0:
        out.append(text[start:at] + "urn:skolem:")
        start = text.index("_", at + len(prefix)) + 1
    return json.loads("".join(out) + text[start:])


@parametrize
def test_adjusted_mandatory_indexes(vector: SdVector) -> None:
    expected = vector.json("derivedAdjMandatoryIndexes")
    assert list(_disclosure(vector.name).mandatory_indexes) == expected["adjMandatoryIndexes"]


@parametrize
def test_adjusted_signatures(vector: SdVector) -> None:
    data = _disclosure(vector.name)
    expected = vector.json("derivedAdjSignatures")
    assert list(data.signature_indexes) == expected["adjSignatureIndexes"]
    assert [s.hex() for s in data.signatures] == expected["filteredSignatures"]


@parametrize
def test_disclosure_data(vector: SdVector) -> None:
    data = _disclosure(vector.name)
    expected = vector.json("derivedDisclosureData")
    assert data.base_signature.hex() == expected["baseSignature"]
    assert multibase_encode(data.public_key, "z") == expected["publicKey"]
    assert [s.hex() for s in data.signatures] == expected["signatures"]
    assert data.label_map == _map(expected["labelMap"])
    assert list(data.label_map) == [k for k, _ in expected["labelMap"]["value"]]
    assert list(data.mandatory_indexes) == expected["mandatoryIndexes"]


@parametrize
def test_unsigned_reveal_document(vector: SdVector) -> None:
    reveal = _disclosure(vector.name).reveal_document
    assert reveal == vector.json("derivedUnsignedReveal")
    assert json.dumps(reveal) == json.dumps(vector.json("derivedUnsignedReveal"))


@parametrize
def test_reveal_document(vector: SdVector) -> None:
    derived = ecdsa_sd.derive(vector.signed_base, vector.selective_pointers, loader=LOADER)
    assert derived == _reveal(vector)
    assert derived["proof"]["proofValue"] == _reveal(vector)["proof"]["proofValue"]


@parametrize
def test_derive_leaves_the_base_credential_alone(vector: SdVector) -> None:
    base = vector.signed_base
    before = copy.deepcopy(base)
    ecdsa_sd.derive(base, vector.selective_pointers, loader=LOADER)
    assert base == before


# -- verification ------------------------------------------------------------------------------


@parametrize
def test_verify_nquads(vector: SdVector) -> None:
    assert list(_verify_data(vector).nquads) == vector.json("verifyNQuads")


@parametrize
def test_verify_create_verify_data(vector: SdVector) -> None:
    data = _verify_data(vector)
    expected = vector.json("verifyCreateVerifyData")
    assert data.base_signature.hex() == expected["baseSignature"]
    assert data.proof_hash.hex() == expected["proofHash"]
    assert multibase_encode(data.public_key, "z") == expected["publicKey"]
    assert [s.hex() for s in data.signatures] == expected["signatures"]
    assert list(data.non_mandatory) == expected["nonMandatory"]
    assert data.mandatory_hash.hex() == expected["mandatoryHash"]


@parametrize
def test_verify_derived_proof_value(vector: SdVector) -> None:
    value = _reveal(vector)["proof"]["proofValue"]
    parsed = ecdsa_sd.parse_derived_proof_value(value)
    expected = vector.json("verifyDerivedProofValue")
    assert parsed.base_signature.hex() == expected["baseSignature"]
    assert multibase_encode(parsed.public_key, "z") == expected["publicKey"]
    assert [s.hex() for s in parsed.signatures] == expected["signatures"]
    assert [list(item) for item in parsed.label_map.items()] == expected["labelMap"]
    assert list(parsed.mandatory_indexes) == expected["mandatoryIndexes"]
    assert ecdsa_sd.serialize_derived_proof_value(parsed) == value


@parametrize
def test_the_derived_document_verifies(vector: SdVector) -> None:
    base, _, _ = _material()
    document = _reveal(vector)
    verified = ecdsa_sd.verify_derived_proof(
        document, document["proof"], base.public, loader=LOADER
    )
    assert verified == vector.json("derivedUnsignedReveal")
