"""Linked Data Proofs that predate Data Integrity 1.0: verified, never made.

Credentials issued by earlier trade pilots carry these proof types; they still verify, but
vcred does not issue them (their signatures are not bound to a cryptosuite name, and each
suite lives on as a Data Integrity cryptosuite: eddsa-rdfc-2022, ecdsa-rdfc-2019).

- ``Ed25519Signature2018`` — a detached JWS (RFC 7797, ``b64: false``, ``crit: ["b64"]``,
  EdDSA) in ``jws``. https://w3c-ccg.github.io/lds-ed25519-2018/
- ``Ed25519Signature2020`` — the raw Ed25519 signature, multibase base58btc, in
  ``proofValue``. https://w3c-ccg.github.io/lds-ed25519-2020/
- ``JsonWebSignature2020`` — a detached JWS in ``jws``, EdDSA / ES256 / ES384 as the key
  says. https://w3c-ccg.github.io/lds-jws2020/

All three sign the same data, Linked Data Signatures' "create verify data"
(https://w3c-ccg.github.io/ld-proofs/#create-verify-hash-algorithm, as ``jsonld-signatures``
does it): SHA-256 of the URDNA2015 (= RDFC-1.0 with SHA-256) canonical proof options — the
proof without its signature, under the document's ``@context`` — followed by SHA-256 of the
canonical document without its proof. As for Data Integrity, the verifier resolves the key
through the proof's verification method and the key names the algorithm.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

from vcred._json import loads_strict
from vcred.errors import CryptographicError, InvalidProofError, MalformedError, VcredError
from vcred.integrity.suites import canonical_nquads, decode_proof_value
from vcred.jsonld import ContextLoader
from vcred.keys import JWS_ALG_FOR, KeyKind, PublicKey
from vcred.multibase import b64url_decode

Signature = Literal["jws", "proofValue"]

#: Members that carry a signature in Linked Data Signatures; none of them is signed itself.
_SIGNATURE_MEMBERS: Final = ("jws", "proofValue", "signatureValue")
#: RFC 7797 §3, §6: the only header a detached, unencoded JWS of these suites carries.
_JWS_HEADER_MEMBERS: Final = frozenset({"alg", "b64", "crit"})


@dataclass(frozen=True, slots=True)
class LegacySuite:
    """A pre-Data-Integrity proof type: its name, where its signature is, and its keys.

    ``transformation`` and ``selective`` let a legacy proof stand wherever a verified Data
    Integrity proof's suite is read (every legacy suite signs the whole RDF dataset).
    """

    name: str
    signature: Signature
    key_kinds: frozenset[KeyKind]
    transformation: Literal["rdfc"] = "rdfc"
    selective: bool = False


ED25519_SIGNATURE_2018: Final = LegacySuite(
    "Ed25519Signature2018",  # defined by credentials/v1 and suites/ed25519-2018/v1
    "jws",
    frozenset({"ed25519"}),
)
ED25519_SIGNATURE_2020: Final = LegacySuite(
    "Ed25519Signature2020",  # defined by suites/ed25519-2020/v1
    "proofValue",
    frozenset({"ed25519"}),
)
JSON_WEB_SIGNATURE_2020: Final = LegacySuite(
    "JsonWebSignature2020",  # defined by suites/jws-2020/v1
    "jws",
    frozenset({"ed25519", "p256", "p384"}),
)
#: Proof type → suite. Verification only: issuing refuses every name here.
LEGACY_SUITES: Final[dict[str, LegacySuite]] = {
    suite.name: suite
    for suite in (ED25519_SIGNATURE_2018, ED25519_SIGNATURE_2020, JSON_WEB_SIGNATURE_2020)
}


def legacy_suite(proof_type: object) -> LegacySuite | None:
    """The legacy suite of a proof ``type``, or None for any other type."""
    return LEGACY_SUITES.get(proof_type) if isinstance(proof_type, str) else None


def check_legacy_shape(suite: LegacySuite, proof: Mapping[str, Any], *, pointer: str) -> None:
    """The members only a legacy proof has rules for (the shared ones are checked by the caller).

    The signature is in the one member the suite names; a second signature member would be
    left out of the signed proof options, so it is refused rather than ignored. A proof with
    its own ``@context`` or a ``cryptosuite`` is not a proof of these suites. Raises
    InvalidProofError.
    """
    for name in _SIGNATURE_MEMBERS:
        if name != suite.signature and name in proof:
            raise InvalidProofError(
                f"a {suite.name} proof carries its signature in {suite.signature}, not {name}",
                pointer=f"{pointer}/{name}",
            )
    if not isinstance(proof.get(suite.signature), str):
        raise InvalidProofError(
            f"the proof has no {suite.signature}", pointer=f"{pointer}/{suite.signature}"
        )
    for name in ("@context", "cryptosuite"):
        if name in proof:
            raise InvalidProofError(
                f"a {suite.name} proof has no {name}", pointer=f"{pointer}/{name}"
            )


def check_key(suite: LegacySuite, key: PublicKey, *, pointer: str) -> None:
    """The key must be of a type the suite signs with. Raises InvalidProofError."""
    if key.kind not in suite.key_kinds:
        wanted = " or ".join(sorted(k.upper() for k in suite.key_kinds))
        raise InvalidProofError(
            f"{suite.name} needs a {wanted} key; the verification method's key is "
            f"{key.kind.upper()}",
            pointer=f"{pointer}/verificationMethod",
        )


def create_verify_data(
    document: Mapping[str, Any],
    proof: Mapping[str, Any],
    *,
    loader: ContextLoader | None = None,
) -> bytes:
    """Linked Data Signatures' verify data: SHA-256(c14n options) ‖ SHA-256(c14n document).

    https://w3c-ccg.github.io/ld-proofs/#create-verify-hash-algorithm — the options are the
    proof without its signature members, under the document's ``@context``; ``document`` is
    the secured document without ``proof``. Canonicalization is URDNA2015, which RDFC-1.0
    (SHA-256) is. Raises ContextError / MalformedError when either cannot be canonicalized.
    """
    options = {k: v for k, v in proof.items() if k not in _SIGNATURE_MEMBERS}
    if "@context" in document:
        options["@context"] = document["@context"]
    canonical_options = canonical_nquads(options, hash_name="sha256", loader=loader)
    canonical_document = canonical_nquads(document, hash_name="sha256", loader=loader)
    return hashlib.sha256(canonical_options).digest() + hashlib.sha256(canonical_document).digest()


def verify_legacy_proof(
    suite: LegacySuite,
    document: Mapping[str, Any],
    proof: Mapping[str, Any],
    key: PublicKey,
    *,
    pointer: str = "/proof",
    loader: ContextLoader | None = None,
) -> None:
    """Verify one legacy proof over ``document`` (the secured document without ``proof``).

    The signature is decoded before anything is canonicalized. Raises InvalidProofError for
    a malformed proof or a key the suite does not sign with, CryptographicError when the
    signature does not verify, ContextError / MalformedError from canonicalization.
    """
    check_legacy_shape(suite, proof, pointer=pointer)
    check_key(suite, key, pointer=pointer)
    where = f"{pointer}/{suite.signature}"
    if suite.signature == "proofValue":
        signature = decode_proof_value(proof["proofValue"], kind=key.kind, pointer=pointer)
        prefix = b""
    else:
        prefix, signature = detached_jws(proof["jws"], key=key, pointer=where)
    try:
        data = create_verify_data(document, proof, loader=loader)
    except VcredError as error:
        if error.pointer and not error.pointer.startswith("/@context"):
            error.pointer = pointer + error.pointer
        raise
    if not key.verify(signature, prefix + data):
        raise CryptographicError(f"the {suite.name} signature does not verify", pointer=where)


def detached_jws(value: str, *, key: PublicKey, pointer: str) -> tuple[bytes, bytes]:
    """Read a detached, unencoded-payload JWS: (signing input before the payload, signature).

    RFC 7797 §3 and §5.2 (https://www.rfc-editor.org/rfc/rfc7797): ``<header>..<signature>``;
    the signing input is ``ASCII(header) ‖ '.' ‖ payload``. The header must be exactly
    ``{"alg", "b64": false, "crit": ["b64"]}`` with the algorithm of the key the verifier
    resolved (RFC 8725 §3.1: never the header's word alone); no ``kid``, ``jwk`` or other
    member that could steer which key is used. Raises InvalidProofError.
    """
    header_b64, dot, rest = value.partition(".")
    payload_b64, dot2, signature_b64 = rest.partition(".")
    if not (dot and dot2) or payload_b64 or "." in signature_b64:
        raise InvalidProofError(
            "jws must be a detached JWS: <header>..<signature>", pointer=pointer
        )
    try:
        header = loads_strict(b64url_decode(header_b64, pointer=pointer), what="JWS header")
        signature = b64url_decode(signature_b64, pointer=pointer)
    except MalformedError as exc:
        raise InvalidProofError(f"jws is malformed: {exc.message}", pointer=pointer) from exc
    if not isinstance(header, dict) or set(header) != _JWS_HEADER_MEMBERS:
        raise InvalidProofError(
            'the jws header must be exactly {"alg", "b64": false, "crit": ["b64"]}',
            pointer=pointer,
        )
    if header["b64"] is not False or header["crit"] != ["b64"]:
        raise InvalidProofError(
            'the jws must have an unencoded payload ("b64": false, "crit": ["b64"])',
            pointer=pointer,
        )
    expected = JWS_ALG_FOR[key.kind]
    if header["alg"] != expected:
        raise InvalidProofError(
            f"the jws algorithm is {str(header['alg'])[:20]!r}; the key signs {expected}",
            pointer=pointer,
        )
    return header_b64.encode("ascii") + b".", signature
