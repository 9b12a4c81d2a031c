"""The ecdsa-sd-2023 cryptosuite: base proofs, derived proofs, verification of derived proofs.

Data Integrity ECDSA Cryptosuites v1.0 §3.5 (ecdsa-sd-2023 functions) and §3.6 (the suite's
algorithms), https://www.w3.org/TR/vc-di-ecdsa/#ecdsa-sd-2023, over the selective disclosure
primitives of §3.4 in :mod:`vcred.integrity.selective`. One function per spec step.

- The **issuer** makes a *base proof* (:func:`create_base_proof`): the document's canonical
  statements get HMAC-keyed blank node labels; the statements the mandatory pointers select
  are hashed together, every other statement is signed on its own with a proof-scoped P-256
  key, and the issuer's key signs proofHash ‖ proof-scoped public key ‖ mandatoryHash. The base
  proof carries the HMAC key: it is for the holder only.
- The **holder** derives (:func:`derive`) a credential that reveals the mandatory statements
  and those its selective pointers select, with a *derived proof*: the base signature, the
  proof-scoped public key, the signatures of the revealed non-mandatory statements, the map
  from the verifier's canonical labels to the HMAC labels, and which revealed statements are
  mandatory.
- The **verifier** checks a derived proof (:func:`verify_derived_proof`) against the issuer's
  key. A base proof is refused there: it is not meant to be shown to verifiers.

Proof values are ``u`` + base64url-no-pad of a three-byte header (0xd9 0x5d 0x00 base,
0xd9 0x5d 0x01 derived) and an untagged CBOR array (RFC 8949).
"""

from __future__ import annotations

import copy
import hashlib
import io
import itertools
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import cbor2

from vcred.errors import (
    CryptographicError,
    InvalidProofError,
    MalformedError,
    ParsingError,
    UsageError,
    VcredError,
)
from vcred.integrity.selective import (
    Grouped,
    canonicalize_and_group,
    check_pointers,
    check_selection_signed,
    create_hmac_id_label_map_function,
    create_label_map_function,
    hash_mandatory_nquads,
    label_replacement_canonicalize_json_ld,
    select_json_ld,
)
from vcred.integrity.suites import ECDSA_SD_2023, PROOF_TYPE, check_key, configure_proof
from vcred.jsonld import ContextLoader
from vcred.keys import KeyPair, PublicKey, Signer
from vcred.multibase import b64url_decode, b64url_encode
from vcred.rdfc import canonicalize

NAME: Final = ECDSA_SD_2023.name
BASE_HEADER: Final = b"\xd9\x5d\x00"
DERIVED_HEADER: Final = b"\xd9\x5d\x01"
#: RFC 2104 via ECDSA §3.6.2 step 1: the HMAC key is as long as the SHA-256 digest.
HMAC_KEY_BYTES: Final = 32
SIGNATURE_BYTES: Final = 64
#: the proof-scoped key as multicodec bytes: 0x80 0x24 (p256-pub) ‖ compressed point.
PUBLIC_KEY_BYTES: Final = 35
_P256_PUB: Final = b"\x80\x24"


# -- values carried in proofs --------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class BaseProofValue:
    """The components of a base proof value (§3.5.2). ``hmac_key`` is the holder's secret."""

    base_signature: bytes
    public_key: bytes
    hmac_key: bytes = field(repr=False)
    signatures: tuple[bytes, ...]
    mandatory_pointers: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class DerivedProofValue:
    """The components of a derived proof value (§3.5.7); ``label_map`` is decompressed."""

    base_signature: bytes
    public_key: bytes
    signatures: tuple[bytes, ...]
    label_map: dict[str, str]
    mandatory_indexes: tuple[int, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class TransformedData:
    """Base Proof Transformation's result (§3.6.2): statements by absolute index."""

    mandatory_pointers: tuple[str, ...]
    mandatory: dict[int, str]
    non_mandatory: dict[int, str]
    hmac_key: bytes = field(repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class HashData:
    """Base Proof Hashing's result (§3.6.3): the transformed data and its two hashes."""

    transformed: TransformedData
    proof_hash: bytes
    mandatory_hash: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class DisclosureData:
    """createDisclosureData's result (§3.5.4), with the groups it was computed from.

    ``signature_indexes`` are the positions in the base proof's signatures of those kept.
    """

    base_signature: bytes
    public_key: bytes
    signatures: tuple[bytes, ...]
    label_map: dict[str, str]
    mandatory_indexes: tuple[int, ...]
    reveal_document: dict[str, Any]
    grouped: Grouped
    signature_indexes: tuple[int, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class VerifyData:
    """createVerifyData's result (§3.5.9), with all the label-replaced canonical N-Quads."""

    base_signature: bytes
    proof_hash: bytes
    public_key: bytes
    signatures: tuple[bytes, ...]
    non_mandatory: tuple[str, ...]
    mandatory_hash: bytes
    nquads: tuple[str, ...]


# -- §3.5 ecdsa-sd-2023 functions ---------------------------------------------------------------


def serialize_sign_data(proof_hash: bytes, public_key: bytes, mandatory_hash: bytes) -> bytes:
    """serializeSignData (§3.5.1): proofHash ‖ publicKey ‖ mandatoryHash.

    https://www.w3.org/TR/vc-di-ecdsa/#serializesigndata
    """
    return proof_hash + public_key + mandatory_hash


def serialize_base_proof_value(value: BaseProofValue) -> str:
    """serializeBaseProofValue (§3.5.2): ``u`` + base64url(0xd9 0x5d 0x00 ‖ CBOR array).

    https://www.w3.org/TR/vc-di-ecdsa/#serializebaseproofvalue — the five components, no
    CBOR tags. Raises UsageError for components of the wrong size.
    """
    _check_base_components(value)
    components = [
        value.base_signature,
        value.public_key,
        value.hmac_key,
        list(value.signatures),
        list(value.mandatory_pointers),
    ]
    return "u" + b64url_encode(BASE_HEADER + cbor2.dumps(components))


def parse_base_proof_value(proof_value: object, *, pointer: str = "/proof") -> BaseProofValue:
    """parseBaseProofValue (§3.5.3): the components of a base proof value.

    https://www.w3.org/TR/vc-di-ecdsa/#parsebaseproofvalue — raises InvalidProofError for
    anything but a ``u`` multibase value with the base header and five well-formed components
    (a derived proof included: there is nothing to derive from it).
    """
    where = f"{pointer}/proofValue"
    data = _decode_proof_value(proof_value, where=where)
    if data.startswith(DERIVED_HEADER):
        raise InvalidProofError(
            "this is a derived ecdsa-sd-2023 proof; only a base proof can be derived from",
            pointer=where,
        )
    if not data.startswith(BASE_HEADER):
        raise InvalidProofError("not an ecdsa-sd-2023 base proof value", pointer=where)
    components = _cbor_array(data[len(BASE_HEADER) :], where=where)
    base_signature, public_key, hmac_key, signatures, pointers = components
    return BaseProofValue(
        base_signature=_bytes(base_signature, SIGNATURE_BYTES, "baseSignature", where),
        public_key=_public_key_bytes(public_key, where),
        hmac_key=_bytes(hmac_key, HMAC_KEY_BYTES, "hmacKey", where),
        signatures=_signatures(signatures, where),
        mandatory_pointers=_strings(pointers, "mandatoryPointers", where),
    )


def create_disclosure_data(
    document: Mapping[str, Any],
    proof: Mapping[str, Any],
    selective_pointers: Sequence[str],
    *,
    loader: ContextLoader | None = None,
    pointer: str = "/proof",
) -> DisclosureData:
    """createDisclosureData (§3.5.4): what a derived proof reveals, from a base proof.

    https://www.w3.org/TR/vc-di-ecdsa/#createdisclosuredata — ``document`` is the unsecured
    document. Raises InvalidProofError for a malformed base proof, MalformedError for a
    pointer that is not a JSON Pointer, does not match, or selects part of an RDF list,
    UsageError when nothing at all would be disclosed.
    """
    base = parse_base_proof_value(proof.get("proofValue"), pointer=pointer)
    selective = check_pointers(selective_pointers, what="selective pointers")
    mandatory_pointers = check_pointers(base.mandatory_pointers, what="the mandatory pointers")
    if not mandatory_pointers and not selective:
        raise UsageError("nothing is selected for disclosure: give selective pointers")
    combined = (*mandatory_pointers, *selective)
    grouped = canonicalize_and_group(
        document,
        create_hmac_id_label_map_function(base.hmac_key),
        {"mandatory": mandatory_pointers, "selective": selective, "combined": combined},
        loader=loader,
    )
    mandatory, selected, combined_group = (
        grouped.groups["mandatory"],
        grouped.groups["selective"],
        grouped.groups["combined"],
    )
    check_selection_signed(combined_group, combined, what="the pointers")
    # step 7: positions of the mandatory statements among the revealed ones
    mandatory_indexes = tuple(
        relative
        for relative, absolute in enumerate(combined_group.matching)
        if absolute in mandatory.matching
    )
    # step 8: the base signatures are in the order of the non-mandatory statements
    non_mandatory = [i for i in range(len(grouped.nquads)) if i not in mandatory.matching]
    if len(non_mandatory) != len(base.signatures):
        raise InvalidProofError(
            f"the base proof has {len(base.signatures)} statement signatures, but the document "
            f"has {len(non_mandatory)} non-mandatory statements: it is not the signed document",
            pointer=f"{pointer}/proofValue",
        )
    kept = tuple(i for i, absolute in enumerate(non_mandatory) if absolute in selected.matching)
    reveal = select_json_ld(document, combined)
    if reveal is None:  # unreachable: combined is not empty
        raise UsageError("nothing is selected for disclosure")
    # steps 10-12: the labels a verifier's canonicalization of the revealed document gives
    canonical_ids = canonicalize(combined_group.deskolemized).issued
    verifier_label_map = {
        verifier_label: grouped.label_map[input_label]
        for input_label, verifier_label in canonical_ids.items()
    }
    return DisclosureData(
        base_signature=base.base_signature,
        public_key=base.public_key,
        signatures=tuple(base.signatures[i] for i in kept),
        label_map=verifier_label_map,
        mandatory_indexes=mandatory_indexes,
        reveal_document=reveal,
        grouped=grouped,
        signature_indexes=kept,
    )


def compress_label_map(label_map: Mapping[str, str]) -> dict[int, bytes]:
    """compressLabelMap (§3.5.5): ``c14nN`` → N, ``u…`` → the HMAC bytes.

    https://www.w3.org/TR/vc-di-ecdsa/#compresslabelmap — raises UsageError for labels of
    another form.
    """
    compressed: dict[int, bytes] = {}
    for key, value in label_map.items():
        if not (key.startswith("c14n") and key[4:].isdigit() and value.startswith("u")):
            raise UsageError(f"cannot compress the label map entry {key!r}: {value!r}")
        compressed[int(key[4:])] = b64url_decode(value[1:])
    return dict(sorted(compressed.items()))


def decompress_label_map(compressed: Mapping[int, bytes]) -> dict[str, str]:
    """decompressLabelMap (§3.5.6): N → ``c14nN``, bytes → ``u`` + base64url.

    https://www.w3.org/TR/vc-di-ecdsa/#decompresslabelmap
    """
    return {f"c14n{key}": "u" + b64url_encode(value) for key, value in compressed.items()}


def serialize_derived_proof_value(value: DerivedProofValue) -> str:
    """serializeDerivedProofValue (§3.5.7): ``u`` + base64url(0xd9 0x5d 0x01 ‖ CBOR array).

    https://www.w3.org/TR/vc-di-ecdsa/#serializederivedproofvalue
    """
    components = [
        value.base_signature,
        value.public_key,
        list(value.signatures),
        compress_label_map(value.label_map),
        list(value.mandatory_indexes),
    ]
    return "u" + b64url_encode(DERIVED_HEADER + cbor2.dumps(components))


def parse_derived_proof_value(proof_value: object, *, pointer: str = "/proof") -> DerivedProofValue:
    """parseDerivedProofValue (§3.5.8): the components of a derived proof value.

    https://www.w3.org/TR/vc-di-ecdsa/#parsederivedproofvalue — raises InvalidProofError
    (the spec's PROOF_VERIFICATION_ERROR) for anything else, a base proof included: a base
    proof is given to the holder only, never verified as if it were a derived one.
    """
    where = f"{pointer}/proofValue"
    data = _decode_proof_value(proof_value, where=where)
    if data.startswith(BASE_HEADER):
        raise InvalidProofError(
            "this is an ecdsa-sd-2023 base proof: it is for the holder only, who derives a "
            "credential from it to show a verifier",
            pointer=where,
        )
    if not data.startswith(DERIVED_HEADER):
        raise InvalidProofError("not an ecdsa-sd-2023 derived proof value", pointer=where)
    components = _cbor_array(data[len(DERIVED_HEADER) :], where=where)
    base_signature, public_key, signatures, compressed, indexes = components
    if not isinstance(compressed, dict) or not all(
        isinstance(k, int) and not isinstance(k, bool) and k >= 0 for k in compressed
    ):
        raise InvalidProofError(
            "the label map must map non-negative integers to byte strings", pointer=where
        )
    for label in compressed.values():
        _bytes(label, HMAC_KEY_BYTES, "a label map entry", where)
    if not isinstance(indexes, list) or not all(
        isinstance(i, int) and not isinstance(i, bool) and i >= 0 for i in indexes
    ):
        raise InvalidProofError("mandatoryIndexes must be non-negative integers", pointer=where)
    if any(b <= a for a, b in itertools.pairwise(indexes)):
        raise InvalidProofError("mandatoryIndexes must be strictly increasing", pointer=where)
    return DerivedProofValue(
        base_signature=_bytes(base_signature, SIGNATURE_BYTES, "baseSignature", where),
        public_key=_public_key_bytes(public_key, where),
        signatures=_signatures(signatures, where),
        label_map=decompress_label_map(compressed),
        mandatory_indexes=tuple(indexes),
    )


def create_verify_data(
    document: Mapping[str, Any],
    proof: Mapping[str, Any],
    *,
    loader: ContextLoader | None = None,
    pointer: str = "/proof",
) -> VerifyData:
    """createVerifyData (§3.5.9): the statements and hashes a derived proof is checked over.

    https://www.w3.org/TR/vc-di-ecdsa/#createverifydata — ``document`` is unsecured.
    Raises InvalidProofError for a malformed derived proof or one whose label map or
    mandatory indexes do not fit the document.
    """
    options = {name: value for name, value in proof.items() if name != "proofValue"}
    proof_hash = _proof_hash(document, options, loader=loader, pointer=pointer)
    derived = parse_derived_proof_value(proof.get("proofValue"), pointer=pointer)
    try:
        nquads, _ = label_replacement_canonicalize_json_ld(
            document, create_label_map_function(derived.label_map), loader=loader
        )
    except MalformedError as exc:
        if exc.pointer is not None or "label map" not in exc.message:
            raise
        raise InvalidProofError(exc.message, pointer=f"{pointer}/proofValue") from exc
    if derived.mandatory_indexes and derived.mandatory_indexes[-1] >= len(nquads):
        raise InvalidProofError(
            f"mandatory index {derived.mandatory_indexes[-1]} is past the document's "
            f"{len(nquads)} statements",
            pointer=f"{pointer}/proofValue",
        )
    wanted = set(derived.mandatory_indexes)
    mandatory = tuple(nq for index, nq in enumerate(nquads) if index in wanted)
    non_mandatory = tuple(nq for index, nq in enumerate(nquads) if index not in wanted)
    return VerifyData(
        base_signature=derived.base_signature,
        proof_hash=proof_hash,
        public_key=derived.public_key,
        signatures=derived.signatures,
        non_mandatory=non_mandatory,
        mandatory_hash=hash_mandatory_nquads(mandatory),
        nquads=tuple(nquads),
    )


# -- §3.6 the ecdsa-sd-2023 algorithms ----------------------------------------------------------


def create_base_proof(
    document: Mapping[str, Any],
    options: Mapping[str, Any],
    signer: Signer,
    *,
    mandatory_pointers: Sequence[str] = (),
    loader: ContextLoader | None = None,
    hmac_key: bytes | None = None,
    proof_key: KeyPair | None = None,
    deterministic: bool = False,
) -> dict[str, Any]:
    """Create Base Proof (§3.6.1): the issuer's proof over the unsecured ``document``.

    https://www.w3.org/TR/vc-di-ecdsa/#create-base-proof-ecdsa-sd-2023 — ``options`` are the
    proof options (type, cryptosuite, created, verificationMethod, proofPurpose …).
    ``hmac_key``, ``proof_key`` and ``deterministic`` (RFC 6979 signatures with the
    proof-scoped key) exist to reproduce test vectors; leave them alone otherwise: by default
    the HMAC key is 32 fresh random bytes and the proof-scoped key a fresh P-256 key.
    Raises MalformedError for a mandatory pointer that is not a JSON Pointer or does not match,
    UsageError for a signer whose key is not P-256.
    """
    if signer.public_key.kind not in ECDSA_SD_2023.key_kinds:
        raise UsageError(f"{NAME} signs with a P-256 key, not {signer.public_key.kind}")
    proof = copy.deepcopy(dict(options))
    canonical_config = configure_base_proof(options, document, loader=loader)
    transformed = transform_base_proof(
        document,
        options,
        mandatory_pointers=mandatory_pointers,
        hmac_key=hmac_key,
        loader=loader,
    )
    hash_data = hash_base_proof(transformed, canonical_config)
    proof["proofValue"] = serialize_base_proof(
        hash_data, signer, proof_key=proof_key, deterministic=deterministic
    )
    return proof


def transform_base_proof(
    document: Mapping[str, Any],
    options: Mapping[str, Any],
    *,
    mandatory_pointers: Sequence[str],
    hmac_key: bytes | None = None,
    loader: ContextLoader | None = None,
) -> TransformedData:
    """Base Proof Transformation (§3.6.2): HMAC-labelled statements, mandatory or not.

    https://www.w3.org/TR/vc-di-ecdsa/#base-proof-transformation-ecdsa-sd-2023 — a fresh
    32-byte HMAC key unless one is given. Raises MalformedError for a bad mandatory pointer
    (and for mandatory pointers that select part of an RDF list).
    """
    _check_options(options)
    pointers = check_pointers(mandatory_pointers, what="mandatory pointers")
    key = secrets.token_bytes(HMAC_KEY_BYTES) if hmac_key is None else hmac_key
    if len(key) != HMAC_KEY_BYTES:
        raise UsageError(f"the HMAC key is {HMAC_KEY_BYTES} bytes")
    grouped = canonicalize_and_group(
        document, create_hmac_id_label_map_function(key), {"mandatory": pointers}, loader=loader
    )
    group = grouped.groups["mandatory"]
    check_selection_signed(group, pointers, what="the mandatory pointers")
    return TransformedData(
        mandatory_pointers=pointers,
        mandatory=group.matching,
        non_mandatory=group.non_matching,
        hmac_key=key,
    )


def hash_base_proof(transformed: TransformedData, canonical_proof_config: bytes) -> HashData:
    """Base Proof Hashing (§3.6.3): proofHash and mandatoryHash (SHA-256).

    https://www.w3.org/TR/vc-di-ecdsa/#base-proof-hashing-ecdsa-sd-2023
    """
    return HashData(
        transformed=transformed,
        proof_hash=hashlib.sha256(canonical_proof_config).digest(),
        mandatory_hash=hash_mandatory_nquads(transformed.mandatory.values()),
    )


def configure_base_proof(
    options: Mapping[str, Any], document: Mapping[str, Any], *, loader: ContextLoader | None = None
) -> bytes:
    """Base Proof Configuration (§3.6.4): the canonical proof options with the document's
    ``@context``.

    https://www.w3.org/TR/vc-di-ecdsa/#base-proof-configuration-ecdsa-sd-2023 — raises
    InvalidProofError when the options are not a DataIntegrityProof of this suite.
    """
    return configure_proof(ECDSA_SD_2023, document, options, kind="p256", loader=loader)


def serialize_base_proof(
    hash_data: HashData,
    signer: Signer,
    *,
    proof_key: KeyPair | None = None,
    deterministic: bool = False,
) -> str:
    """Base Proof Serialization (§3.6.5): statement signatures, base signature, proof value.

    https://www.w3.org/TR/vc-di-ecdsa/#base-proof-serialization-ecdsa-sd-2023 — each
    non-mandatory statement is signed (ES256) with a proof-scoped P-256 key that exists only
    for this proof; the issuer signs proofHash ‖ that key ‖ mandatoryHash.
    """
    scoped = KeyPair.generate("p256") if proof_key is None else proof_key
    if scoped.kind != "p256":
        raise UsageError("the proof-scoped key is a P-256 key")
    transformed = hash_data.transformed
    signatures = tuple(
        scoped.sign(nq.encode("utf-8"), deterministic=deterministic)
        for nq in transformed.non_mandatory.values()
    )
    public_key = scoped.public.multicodec()
    to_sign = serialize_sign_data(hash_data.proof_hash, public_key, hash_data.mandatory_hash)
    base_signature = signer.sign(to_sign)
    if len(base_signature) != SIGNATURE_BYTES:
        raise UsageError(f"the signer returned a {len(base_signature)}-byte signature; r‖s needed")
    return serialize_base_proof_value(
        BaseProofValue(
            base_signature=base_signature,
            public_key=public_key,
            hmac_key=transformed.hmac_key,
            signatures=signatures,
            mandatory_pointers=transformed.mandatory_pointers,
        )
    )


def add_derived_proof(
    document: Mapping[str, Any],
    proof: Mapping[str, Any],
    selective_pointers: Sequence[str],
    *,
    loader: ContextLoader | None = None,
    pointer: str = "/proof",
) -> dict[str, Any]:
    """Add Derived Proof (§3.6.6): the selectively revealed document with its derived proof.

    https://www.w3.org/TR/vc-di-ecdsa/#add-derived-proof-ecdsa-sd-2023 — ``document`` is
    the unsecured document, ``proof`` its base proof. Raises as :func:`create_disclosure_data`.
    """
    data = create_disclosure_data(
        document, proof, selective_pointers, loader=loader, pointer=pointer
    )
    new_proof = {name: value for name, value in proof.items() if name != "@context"}
    new_proof["proofValue"] = serialize_derived_proof_value(
        DerivedProofValue(
            base_signature=data.base_signature,
            public_key=data.public_key,
            signatures=data.signatures,
            label_map=data.label_map,
            mandatory_indexes=data.mandatory_indexes,
        )
    )
    reveal = data.reveal_document
    reveal["proof"] = new_proof
    return reveal


def verify_derived_proof(
    document: Mapping[str, Any],
    proof: Mapping[str, Any],
    key: PublicKey,
    *,
    loader: ContextLoader | None = None,
    pointer: str = "/proof",
) -> dict[str, Any]:
    """Verify Derived Proof (§3.6.7): check a derived proof against the issuer's ``key``.

    https://www.w3.org/TR/vc-di-ecdsa/#verify-derived-proof-ecdsa-sd-2023 — returns the
    unsecured document. Raises InvalidProofError for a malformed proof (a base proof
    included), CryptographicError when the signature count does not match the disclosed
    statements or a signature does not verify.
    """
    check_key(ECDSA_SD_2023, key, pointer=f"{pointer}/verificationMethod")
    unsecured = {name: value for name, value in document.items() if name != "proof"}
    data = create_verify_data(unsecured, proof, loader=loader, pointer=pointer)
    where = f"{pointer}/proofValue"
    if len(data.signatures) != len(data.non_mandatory):
        raise CryptographicError(
            f"the derived proof signs {len(data.signatures)} statements, but the document has "
            f"{len(data.non_mandatory)} non-mandatory statements",
            pointer=where,
        )
    if data.public_key[:2] != _P256_PUB:
        raise InvalidProofError("the proof-scoped key must be a P-256 Multikey", pointer=where)
    try:
        scoped = PublicKey.from_multicodec(data.public_key)
    except VcredError as exc:
        raise InvalidProofError(f"the proof-scoped key: {exc.message}", pointer=where) from exc
    to_verify = serialize_sign_data(data.proof_hash, data.public_key, data.mandatory_hash)
    if not key.verify(data.base_signature, to_verify):
        raise CryptographicError(
            f"the {NAME} base signature does not verify: the mandatory statements, the proof "
            "options or the proof-scoped key were changed",
            pointer=where,
        )
    for index, (signature, nq) in enumerate(zip(data.signatures, data.non_mandatory, strict=True)):
        if not scoped.verify(signature, nq.encode("utf-8")):
            raise CryptographicError(
                f"the signature of disclosed statement {index} does not verify: {nq.strip()}",
                pointer=where,
            )
    return unsecured


# -- the holder's call ---------------------------------------------------------------------------


def derive(
    base_credential: Mapping[str, Any],
    selective_pointers: Sequence[str] = (),
    *,
    loader: ContextLoader | None = None,
) -> dict[str, Any]:
    """Derive a credential that reveals only what the pointers (and the issuer) select.

    The holder's side of ecdsa-sd-2023 (§3.6.6): ``base_credential`` is the credential as the
    issuer gave it, with its base proof; ``selective_pointers`` are JSON Pointers (RFC 6901)
    to what to reveal besides the issuer's mandatory statements. Other proofs on the
    credential are not carried over. Returns the derived credential; ``base_credential`` is
    not changed. Raises MalformedError for a pointer that is not a JSON Pointer, does not match
    the credential, points into the proof or selects part of an RDF list; InvalidProofError
    when the credential has no ecdsa-sd-2023 base proof (or more than one); UsageError when
    nothing would be disclosed.
    """
    if not isinstance(base_credential, Mapping):
        raise ParsingError("a credential must be a JSON object", pointer="")
    found = _base_proof(base_credential)
    document = {name: value for name, value in base_credential.items() if name != "proof"}
    proof_pointer, proof = found
    return add_derived_proof(
        copy.deepcopy(document),
        proof,
        selective_pointers,
        loader=loader,
        pointer=proof_pointer,
    )


def has_base_proof(document: Any) -> bool:
    """Whether ``document`` carries an ecdsa-sd-2023 base proof: the issuer's copy for the
    holder, who derives what a verifier sees (a verifier refuses it; a UI says so plainly)."""
    if not isinstance(document, Mapping):
        return False
    raw = document.get("proof")
    proofs = raw if isinstance(raw, list) else [raw]
    return any(
        isinstance(p, Mapping)
        and p.get("cryptosuite") == NAME
        # "u" + base64url of the 0xd9 0x5d 0x00 header (§3.5.2)
        and str(p.get("proofValue", "")).startswith("u2V0A")
        for p in proofs
    )


def _base_proof(credential: Mapping[str, Any]) -> tuple[str, Mapping[str, Any]]:
    raw = credential.get("proof")
    proofs = raw if isinstance(raw, list) else [raw] if raw is not None else []
    found = [
        (f"/proof/{i}" if isinstance(raw, list) else "/proof", p)
        for i, p in enumerate(proofs)
        if isinstance(p, Mapping) and p.get("cryptosuite") == NAME
    ]
    if len(found) != 1:
        what = "no" if not found else "more than one"
        raise InvalidProofError(f"the credential has {what} {NAME} proof", pointer="/proof")
    pointer, proof = found[0]
    if proof.get("type") != PROOF_TYPE:
        raise InvalidProofError(f"the proof must be a {PROOF_TYPE}", pointer=f"{pointer}/type")
    return pointer, proof


# -- helpers ---------------------------------------------------------------------------------------


def _check_options(options: Mapping[str, Any]) -> None:
    if options.get("type") != PROOF_TYPE or options.get("cryptosuite") != NAME:
        raise InvalidProofError(f"the proof must be a {PROOF_TYPE} with cryptosuite {NAME}")


def _proof_hash(
    document: Mapping[str, Any],
    options: Mapping[str, Any],
    *,
    loader: ContextLoader | None,
    pointer: str,
) -> bytes:
    try:
        canonical = configure_base_proof(options, document, loader=loader)
    except VcredError as error:
        # the proof configuration is its own document: say where it is in the secured one
        if error.pointer and not error.pointer.startswith("/@context"):
            error.pointer = pointer + error.pointer
        raise
    return hashlib.sha256(canonical).digest()


def _decode_proof_value(value: object, *, where: str) -> bytes:
    if not isinstance(value, str) or not value:
        raise InvalidProofError("the proof has no proofValue", pointer=where)
    if not value.startswith("u"):
        raise InvalidProofError(
            f"an {NAME} proofValue is base64url multibase (prefix u)", pointer=where
        )
    try:
        return b64url_decode(value[1:], pointer=where)
    except MalformedError as exc:
        raise InvalidProofError(f"proofValue is {exc.message}", pointer=where) from exc


def _cbor_array(data: bytes, *, where: str) -> list[Any]:
    stream = io.BytesIO(data)
    try:
        value = cbor2.CBORDecoder(stream).decode()
    except (cbor2.CBORDecodeError, ValueError, TypeError, RecursionError, MemoryError) as exc:
        raise InvalidProofError(f"proofValue is not valid CBOR: {exc}", pointer=where) from exc
    if stream.tell() != len(data):
        raise InvalidProofError("proofValue has bytes after its CBOR value", pointer=where)
    if not isinstance(value, list) or len(value) != 5:
        raise InvalidProofError("proofValue must be a CBOR array of five components", pointer=where)
    # One encoding per proof value, as the issuer and holder write it (RFC 8949 §4.1, preferred
    # serialization): no indefinite or over-long lengths and integers, no map key given twice
    # (a decoder keeps either value) — each would be another text of the same proof.
    if cbor2.dumps(value) != data:
        raise InvalidProofError(
            "proofValue is not CBOR in preferred serialization (definite, shortest lengths and "
            "integers; each label map key once)",
            pointer=where,
        )
    return value


def _bytes(value: Any, size: int, name: str, where: str) -> bytes:
    if not isinstance(value, bytes) or len(value) != size:
        raise InvalidProofError(f"{name} must be a {size}-byte string", pointer=where)
    return value


def _public_key_bytes(value: Any, where: str) -> bytes:
    key = _bytes(value, PUBLIC_KEY_BYTES, "publicKey", where)
    if key[:2] != _P256_PUB:
        raise InvalidProofError("publicKey must be a P-256 Multikey (0x80 0x24 …)", pointer=where)
    return key


def _signatures(value: Any, where: str) -> tuple[bytes, ...]:
    if not isinstance(value, list):
        raise InvalidProofError("signatures must be an array of byte strings", pointer=where)
    return tuple(_bytes(s, SIGNATURE_BYTES, "each signature", where) for s in value)


def _strings(value: Any, name: str, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
        raise InvalidProofError(f"{name} must be an array of strings", pointer=where)
    return tuple(value)


def _check_base_components(value: BaseProofValue) -> None:
    if len(value.base_signature) != SIGNATURE_BYTES or len(value.hmac_key) != HMAC_KEY_BYTES:
        raise UsageError("a base signature is 64 bytes and an HMAC key 32 bytes")
    if len(value.public_key) != PUBLIC_KEY_BYTES or value.public_key[:2] != _P256_PUB:
        raise UsageError("the proof-scoped public key is a 35-byte P-256 Multikey")
    if any(len(s) != SIGNATURE_BYTES for s in value.signatures):
        raise UsageError("every statement signature is 64 bytes")
