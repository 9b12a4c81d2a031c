"""The four cryptosuites: eddsa-rdfc-2022, eddsa-jcs-2022, ecdsa-rdfc-2019, ecdsa-jcs-2019.

Data Integrity EdDSA Cryptosuites v1.0 (https://www.w3.org/TR/vc-di-eddsa/) §3.2 and §3.3;
Data Integrity ECDSA Cryptosuites v1.0 (https://www.w3.org/TR/vc-di-ecdsa/) §3.2 and §3.3.

The four suites share one shape and differ along two axes, so each spec step is one function
here, parameterised by the :class:`Cryptosuite` it runs for:

- the transformation: RDF Dataset Canonicalization (``rdfc``, RDFC-1.0 over the JSON-LD
  document) or the JSON Canonicalization Scheme (``jcs``, RFC 8785 over the JSON text);
- the family: EdDSA (Ed25519, SHA-256) or ECDSA (P-256 with SHA-256, P-384 with SHA-384,
  signatures raw r‖s — never DER).

The hash follows from the key, and the key from the verification method the verifier resolved:
never from the proof alone.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

import rfc8785

from vcred import jsonld
from vcred._json import compact_encoder
from vcred.errors import (
    CryptographicError,
    InvalidProofError,
    MalformedError,
    UnsupportedError,
    UsageError,
    VcredError,
)
from vcred.jsonld import ContextLoader
from vcred.keys import KeyKind, PublicKey, Signer
from vcred.multibase import multibase_decode, multibase_encode

PROOF_TYPE: Final = "DataIntegrityProof"

Transformation = Literal["rdfc", "jcs"]
Family = Literal["eddsa", "ecdsa"]

#: The hash of every step (proof configuration, document, and RDFC's own blank-node hashing):
#: ECDSA §3.2.4 "for curve P-256 one uses SHA-256 and for curve P-384 one uses SHA-384".
HASH_FOR: Final[dict[KeyKind, str]] = {"ed25519": "sha256", "p256": "sha256", "p384": "sha384"}
_SIGNATURE_BYTES: Final[dict[KeyKind, int]] = {"ed25519": 64, "p256": 64, "p384": 96}
#: the constructors of the HASH_FOR hashes: ``hashlib.new`` looks the name up on every call
_HASH_CONSTRUCTORS: Final = {"sha256": hashlib.sha256, "sha384": hashlib.sha384}


@dataclass(frozen=True, slots=True)
class Cryptosuite:
    """One Data Integrity cryptosuite: its name, transformation, family and key types.

    ``selective``: a selective disclosure suite (ecdsa-sd-2023), whose proofs are made and
    checked by :mod:`vcred.integrity.ecdsa_sd`, not by this module's Create / Verify Proof.
    """

    name: str
    family: Family
    transformation: Transformation
    key_kinds: frozenset[KeyKind]
    selective: bool = False


EDDSA_RDFC_2022: Final = Cryptosuite("eddsa-rdfc-2022", "eddsa", "rdfc", frozenset({"ed25519"}))
EDDSA_JCS_2022: Final = Cryptosuite("eddsa-jcs-2022", "eddsa", "jcs", frozenset({"ed25519"}))
ECDSA_RDFC_2019: Final = Cryptosuite(
    "ecdsa-rdfc-2019", "ecdsa", "rdfc", frozenset({"p256", "p384"})
)
ECDSA_JCS_2019: Final = Cryptosuite("ecdsa-jcs-2019", "ecdsa", "jcs", frozenset({"p256", "p384"}))
#: ECDSA §3.6: P-256 only — the proof-scoped key, the HMAC and every hash are P-256 / SHA-256
#: (https://www.w3.org/TR/vc-di-ecdsa/#ecdsa-sd-2023).
ECDSA_SD_2023: Final = Cryptosuite(
    "ecdsa-sd-2023", "ecdsa", "rdfc", frozenset({"p256"}), selective=True
)

SUITES: Final[dict[str, Cryptosuite]] = {
    suite.name: suite
    for suite in (EDDSA_RDFC_2022, EDDSA_JCS_2022, ECDSA_RDFC_2019, ECDSA_JCS_2019, ECDSA_SD_2023)
}
#: ``format="data-integrity"``: the RDFC suite of the key's family (DESIGN §4).
DEFAULT_SUITE_FOR: Final[dict[KeyKind, Cryptosuite]] = {
    "ed25519": EDDSA_RDFC_2022,
    "p256": ECDSA_RDFC_2019,
    "p384": ECDSA_RDFC_2019,
}


def cryptosuite(name: object, *, pointer: str | None = None) -> Cryptosuite:
    """The cryptosuite called ``name``. Raises UnsupportedError for any other name."""
    suite = SUITES.get(name) if isinstance(name, str) else None
    if suite is None:
        known = ", ".join(sorted(SUITES))
        raise UnsupportedError(
            f"cryptosuite {str(name)[:60]!r} is not supported; known: {known}", pointer=pointer
        )
    return suite


def check_key(suite: Cryptosuite, key: PublicKey, *, pointer: str | None = None) -> None:
    """The cryptosuite must match the key type (an Ed25519 key cannot sign ecdsa-*).

    EdDSA §2.2.1, ECDSA §2.2.1 (https://www.w3.org/TR/vc-di-ecdsa/#dataintegrityproof).
    Raises InvalidProofError.
    """
    if key.kind not in suite.key_kinds:
        wanted = " or ".join(sorted(k.upper() for k in suite.key_kinds))
        raise InvalidProofError(
            f"{suite.name} needs a {wanted} key; the verification method's key is "
            f"{key.kind.upper()}",
            pointer=pointer,
        )


# -- Transformation ------------------------------------------------------------------------------


def transform(
    suite: Cryptosuite,
    document: Mapping[str, Any],
    options: Mapping[str, Any],
    *,
    kind: KeyKind,
    loader: ContextLoader | None = None,
) -> bytes:
    """Transformation: the canonical form of the unsecured document (§3.2.3 / §3.3.3).

    https://www.w3.org/TR/vc-di-eddsa/#transformation-eddsa-rdfc-2022 ·
    https://www.w3.org/TR/vc-di-eddsa/#transformation-eddsa-jcs-2022 ·
    https://www.w3.org/TR/vc-di-ecdsa/#transformation-ecdsa-rdfc-2019 ·
    https://www.w3.org/TR/vc-di-ecdsa/#transformation-ecdsa-jcs-2019

    ``loader`` resolves the JSON-LD contexts (default: :func:`vcred.jsonld.default_loader`).
    Raises InvalidProofError (PROOF_TRANSFORMATION_ERROR) when ``options`` are not for this
    suite, MalformedError / ContextError when the document cannot be canonicalized.
    """
    return _transform(suite, document, options, kind=kind, loader=loader)[0]


def _transform(
    suite: Cryptosuite,
    document: Mapping[str, Any],
    options: Mapping[str, Any],
    *,
    kind: KeyKind,
    loader: ContextLoader | None,
) -> tuple[bytes, bool]:
    """:func:`transform`, and whether :func:`vcred.jsonld.check_read_by_terms` passes for
    ``document``, as the expansion of an RDFC transformation tells (False: not told)."""
    _check_options(suite, options, step="transformation")
    if suite.transformation == "jcs":
        return canonical_json(document), False
    return _canonical_rdf(document, kind=kind, loader=loader)


# -- Proof configuration -------------------------------------------------------------------------


def configure_proof(
    suite: Cryptosuite,
    document: Mapping[str, Any],
    options: Mapping[str, Any],
    *,
    kind: KeyKind,
    loader: ContextLoader | None = None,
) -> bytes:
    """Proof configuration: the canonical proof options (§3.2.5 / §3.3.5).

    https://www.w3.org/TR/vc-di-eddsa/#proof-configuration-eddsa-rdfc-2022 ·
    https://www.w3.org/TR/vc-di-eddsa/#proof-configuration-eddsa-jcs-2022 ·
    https://www.w3.org/TR/vc-di-ecdsa/#proof-configuration-ecdsa-rdfc-2019 ·
    https://www.w3.org/TR/vc-di-ecdsa/#proof-configuration-ecdsa-jcs-2019

    RDFC: the options take the document's ``@context`` and are canonicalized as RDF. JCS: the
    options are canonicalized as they are — Create Proof has already copied the document's
    ``@context`` into them (§3.3.1 step 2). ``options`` never holds ``proofValue``.
    """
    _check_options(suite, options, step="proof configuration")
    if "proofValue" in options:
        raise UsageError("proof options must not contain proofValue")
    config = dict(options)
    if suite.transformation == "jcs":
        return canonical_json(config)
    if "@context" in document:
        config["@context"] = document["@context"]
    else:
        config.pop("@context", None)
    # what the proof stage reads of the options (created, expires, …) must be what was signed:
    # check_read_by_terms, unless the walk that expands the options found nothing it reads
    try:
        canonical, read_by_terms = _canonical_rdf(config, kind=kind, loader=loader)
    except VcredError:
        jsonld.check_read_by_terms(config, loader=loader)  # its refusal first, as ever
        raise
    if not read_by_terms:
        jsonld.check_read_by_terms(config, loader=loader)
    return canonical


# -- Hashing ---------------------------------------------------------------------------------------


def hash_data(transformed: bytes, canonical_config: bytes, *, kind: KeyKind) -> bytes:
    """Hashing: proofConfigHash ‖ transformedDocumentHash (§3.2.4 / §3.3.4).

    https://www.w3.org/TR/vc-di-eddsa/#hashing-eddsa-rdfc-2022 ·
    https://www.w3.org/TR/vc-di-ecdsa/#hashing-ecdsa-rdfc-2019 (and the JCS sections) —
    SHA-256, or SHA-384 for a P-384 key.
    """
    digest = _HASH_CONSTRUCTORS[HASH_FOR[kind]]
    return digest(canonical_config).digest() + digest(transformed).digest()


# -- Proof serialization and verification ----------------------------------------------------------


def serialize_proof(suite: Cryptosuite, hash_data: bytes, signer: Signer) -> bytes:
    """Proof serialization: sign the hash data (§3.2.6 / §3.3.6).

    https://www.w3.org/TR/vc-di-eddsa/#proof-serialization-eddsa-rdfc-2022 ·
    https://www.w3.org/TR/vc-di-ecdsa/#proof-serialization-ecdsa-rdfc-2019 — Ed25519 (pure
    EdDSA, 64 bytes) or ECDSA with the curve's hash, r‖s (64 / 96 bytes). Raises UsageError if
    the signer's key does not fit the suite.
    """
    key = signer.public_key
    if key.kind not in suite.key_kinds:
        raise UsageError(f"{suite.name} cannot sign with a {key.kind} key")
    signature = signer.sign(hash_data)
    if len(signature) != _SIGNATURE_BYTES[key.kind]:
        raise UsageError(f"the signer returned a {len(signature)}-byte signature; raw r‖s needed")
    return signature


def verify_signature(hash_data: bytes, proof_bytes: bytes, key: PublicKey) -> bool:
    """Proof verification: check the signature over the hash data (§3.2.7 / §3.3.7).

    https://www.w3.org/TR/vc-di-eddsa/#proof-verification-eddsa-rdfc-2022 ·
    https://www.w3.org/TR/vc-di-ecdsa/#proof-verification-ecdsa-rdfc-2019
    """
    return key.verify(proof_bytes, hash_data)


# -- Create Proof and Verify Proof -----------------------------------------------------------------


def create_proof(
    suite: Cryptosuite,
    document: Mapping[str, Any],
    options: Mapping[str, Any],
    signer: Signer,
    *,
    loader: ContextLoader | None = None,
) -> dict[str, Any]:
    """Create Proof: a proof over the unsecured ``document`` (§3.2.1 / §3.3.1).

    https://www.w3.org/TR/vc-di-eddsa/#create-proof-eddsa-rdfc-2022 ·
    https://www.w3.org/TR/vc-di-eddsa/#create-proof-eddsa-jcs-2022 ·
    https://www.w3.org/TR/vc-di-ecdsa/#create-proof-ecdsa-rdfc-2019 ·
    https://www.w3.org/TR/vc-di-ecdsa/#create-proof-ecdsa-jcs-2019
    """
    _not_selective(suite)
    kind = signer.public_key.kind
    proof = copy.deepcopy(dict(options))
    if suite.transformation == "jcs" and "@context" in document:
        # §3.3.1 step 2: binds the document's contexts for proof sets and chains.
        proof["@context"] = copy.deepcopy(document["@context"])
    canonical_config = configure_proof(suite, document, proof, kind=kind, loader=loader)
    transformed = transform(suite, document, options, kind=kind, loader=loader)
    data = hash_data(transformed, canonical_config, kind=kind)
    proof["proofValue"] = multibase_encode(serialize_proof(suite, data, signer), "z")
    return proof


def verify_proof(
    suite: Cryptosuite,
    document: Mapping[str, Any],
    proof: Mapping[str, Any],
    key: PublicKey,
    *,
    pointer: str = "/proof",
    loader: ContextLoader | None = None,
) -> dict[str, Any]:
    """Verify Proof: check ``proof`` over the unsecured ``document`` (§3.2.2 / §3.3.2).

    https://www.w3.org/TR/vc-di-eddsa/#verify-proof-eddsa-rdfc-2022 ·
    https://www.w3.org/TR/vc-di-eddsa/#verify-proof-eddsa-jcs-2022 ·
    https://www.w3.org/TR/vc-di-ecdsa/#verify-proof-ecdsa-rdfc-2019 ·
    https://www.w3.org/TR/vc-di-ecdsa/#verify-proof-ecdsa-jcs-2019

    ``document`` is the secured document without this proof (with ``proof`` set to the
    previous proofs of a chain, if any). Returns the verified document — for a JCS proof
    carrying ``@context``, with exactly that ``@context``. Raises InvalidProofError for a
    malformed proof, CryptographicError when the signature does not verify.
    """
    return verify_proof_with_terms(suite, document, proof, key, pointer=pointer, loader=loader)[0]


def verify_proof_with_terms(
    suite: Cryptosuite,
    document: Mapping[str, Any],
    proof: Mapping[str, Any],
    key: PublicKey,
    *,
    pointer: str = "/proof",
    loader: ContextLoader | None = None,
) -> tuple[dict[str, Any], bool]:
    """:func:`verify_proof`, and whether :func:`vcred.jsonld.check_read_by_terms` passes for
    the document it returns, as the expansion of its RDFC transformation told (False: not
    told, or a JCS proof). Raises as :func:`verify_proof` does.
    """
    _not_selective(suite)
    check_key(suite, key, pointer=f"{pointer}/verificationMethod")
    proof_bytes = decode_proof_value(proof.get("proofValue"), kind=key.kind, pointer=pointer)
    options = dict(proof)
    del options["proofValue"]  # decode_proof_value found it
    unsecured = dict(document)
    if suite.transformation == "jcs" and "@context" in options:
        # §3.3.2 step 4: the proof signs a prefix of the document's contexts.
        if not _starts_with(document.get("@context"), options["@context"]):
            raise InvalidProofError(
                "the proof's @context is not the start of the document's @context",
                pointer=f"{pointer}/@context",
            )
        unsecured["@context"] = options["@context"]
    transformed, read_by_terms = _transform(suite, unsecured, options, kind=key.kind, loader=loader)
    try:
        canonical_config = configure_proof(suite, unsecured, options, kind=key.kind, loader=loader)
    except VcredError as error:
        # the proof configuration is its own document: say where it is in the secured one
        if error.pointer and not error.pointer.startswith("/@context"):
            error.pointer = pointer + error.pointer
        raise
    data = hash_data(transformed, canonical_config, kind=key.kind)
    if not verify_signature(data, proof_bytes, key):
        raise CryptographicError(
            f"the {suite.name} signature does not verify", pointer=f"{pointer}/proofValue"
        )
    return unsecured, read_by_terms


def decode_proof_value(value: object, *, kind: KeyKind, pointer: str = "/proof") -> bytes:
    """The signature in ``proofValue``: base58btc multibase (``z``) of the raw signature bytes.

    EdDSA §2.2.1 / ECDSA §2.2.1 (https://www.w3.org/TR/cid-1.0/#multibase-0). Raises
    InvalidProofError for a missing value, another multibase base or a wrong length.
    """
    where = f"{pointer}/proofValue"
    if not isinstance(value, str) or not value:
        raise InvalidProofError("the proof has no proofValue", pointer=where)
    if not value.startswith("z"):
        raise InvalidProofError(
            "proofValue must be a base58btc multibase value (prefix z)", pointer=where
        )
    try:
        proof_bytes = multibase_decode(value, pointer=where, max_bytes=_SIGNATURE_BYTES[kind])
    except MalformedError as exc:
        raise InvalidProofError(f"proofValue is {exc.message}", pointer=where) from exc
    if len(proof_bytes) != _SIGNATURE_BYTES[kind]:
        raise InvalidProofError(
            f"a {kind.upper()} signature is {_SIGNATURE_BYTES[kind]} bytes, not {len(proof_bytes)}",
            pointer=where,
        )
    return proof_bytes


# -- canonical forms -------------------------------------------------------------------------------


def canonical_json(value: Any) -> bytes:
    """RFC 8785 JSON Canonicalization Scheme (https://www.rfc-editor.org/rfc/rfc8785).

    Raises MalformedError for values JCS cannot represent (NaN, integers beyond 2^53 …).
    """
    if _plain_json(value):
        # No floats, keys in the Basic Multilingual Plane: JCS is json.dumps with sorted
        # keys (code point order is UTF-16 order there), no whitespace and the same escapes
        # (§3.2.2.2: the short forms, other controls as lower-case \u00xx); a lone surrogate
        # fails to encode and goes to rfc8785, which refuses it.
        text = _SORTED_JSON(value)
        with contextlib.suppress(UnicodeEncodeError):
            return text.encode("utf-8")
    try:
        return bytes(rfc8785.dumps(value))
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
        raise MalformedError(f"cannot canonicalize as JCS (RFC 8785): {exc}") from exc


#: The largest integer JCS writes exactly (RFC 8785 §3.2.2.3: an IEEE 754 double).
JCS_INT_MAX: Final = 2**53 - 1
#: json.dumps(ensure_ascii=False, separators=(",", ":"), sort_keys=True), made once: dumps with
#: options makes an encoder per call (the audit chain canonicalises every entry it seals); no
#: cycle check: the walk of :func:`_plain_json` comes first, and JSON values hold no cycle
_SORTED_JSON: Final = compact_encoder(ensure_ascii=False, sort_keys=True)


def _plain_json(value: Any) -> bool:
    """Whether ``value`` holds only objects with BMP string keys, arrays, strings, booleans,
    null and integers JCS represents exactly: what json.dumps writes as JCS does."""
    # strings, booleans and null (most members) are told by one set lookup each, unpushed
    stack = [[value]]
    while stack:
        for item in stack.pop():
            kind = type(item)
            if kind in _JCS_TEXT_LEAVES:
                continue
            if kind is dict:
                for key in item:
                    # an ASCII key (most) is in the BMP without looking at each character
                    if type(key) is not str or (not key.isascii() and max(key) > "\uffff"):
                        return False
                stack.append(item.values())
            elif kind is list:
                stack.append(item)
            elif kind is not int or not -JCS_INT_MAX <= item <= JCS_INT_MAX:
                return False
    return True


#: The leaves json.dumps writes as JCS does, whatever their value.
_JCS_TEXT_LEAVES: Final = frozenset({str, bool, type(None)})


def canonical_nquads(
    document: Mapping[str, Any], *, hash_name: str, loader: ContextLoader | None = None
) -> bytes:
    """RDFC-1.0 canonical N-Quads of a JSON-LD document (https://www.w3.org/TR/rdf-canon/).

    Offline, safe-mode JSON-LD to RDF (:func:`vcred.jsonld.to_quads`: unknown contexts and
    data expansion would drop are errors), then RDFC-1.0 with its work limits. ``hash_name``
    is RDFC-1.0's own hash algorithm: SHA-384 with P-384 keys, as ECDSA §3.2.3 asks ("a hash
    algorithm that has an appropriate security level for the curve") and as Digital Bazaar's
    ecdsa-rdfc-2019 does. Raises ContextError / MalformedError.
    """
    canonical = jsonld.canonicalize_document(document, loader=loader, hash_algorithm=hash_name)
    return canonical.encode("utf-8")


def _canonical_rdf(
    document: Mapping[str, Any], *, kind: KeyKind, loader: ContextLoader | None
) -> tuple[bytes, bool]:
    """:func:`canonical_nquads` with the hash of ``kind``, and whether
    :func:`vcred.jsonld.check_read_by_terms` passes for ``document`` (False: not told)."""
    canonical, read_by_terms = jsonld.canonicalize_read_by_terms(
        document, loader=loader, hash_algorithm=HASH_FOR[kind]
    )
    return canonical.encode("utf-8"), read_by_terms


def _not_selective(suite: Cryptosuite) -> None:
    if suite.selective:
        raise UsageError(
            f"{suite.name} proofs are made by vcred.integrity.ecdsa_sd (base proofs) and "
            "vcred.integrity.derive (derived proofs)"
        )


def _check_options(suite: Cryptosuite, options: Mapping[str, Any], *, step: str) -> None:
    # Every step re-checks type and cryptosuite (e.g. §3.2.3 step 1, §3.2.5 step 2).
    if options.get("type") != PROOF_TYPE or options.get("cryptosuite") != suite.name:
        raise InvalidProofError(
            f"{suite.name} {step}: the proof must be a {PROOF_TYPE} with cryptosuite {suite.name}"
        )


def _starts_with(context: Any, prefix: Any) -> bool:
    items = context if isinstance(context, list) else [context]
    head = prefix if isinstance(prefix, list) else [prefix]
    return len(head) <= len(items) and items[: len(head)] == head
