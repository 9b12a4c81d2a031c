"""COSE_Sign1 and the VC-JOSE-COSE media types ``application/vc+cose`` and ``vp+cose``.

https://www.w3.org/TR/vc-jose-cose/#securing-with-cose · RFC 9052 (COSE) · RFC 9596 (typ) ·
RFC 9597 (CWT claims in COSE headers) · RFC 9864 (fully specified algorithms).

A credential (or presentation) secured with COSE is a tagged COSE_Sign1 whose payload is the
credential's JSON. As for ``vc+jwt`` (:mod:`vcred.jose`), the verifier chooses the key and
therefore the algorithm: ``kid`` names a method of the issuer's (holder's) DID, resolved through
the verifier's resolver, and ``alg`` must be one the resolved key implies. Everything the
verifier reads (``alg``, ``kid``, ``typ``, content type, CWT claims) must be in the protected
header. Refused: untagged or other COSE messages, detached payloads, headers that bring their
own key (``x5chain``, ``kcwt`` …), critical headers, duplicate map keys, indefinite lengths,
CBOR tags inside the message, trailing bytes and messages over 1 MiB. Unknown other header
parameters are ignored (VC-JOSE-COSE §3.3.3).

A presentation is bound to the verifier's challenge and domain through CWT claims in its
protected header: ``cnonce`` (39, the challenge's UTF-8 bytes) and ``aud`` (3), with ``iat``
and ``exp`` bounding its lifetime — as ``nonce``, ``aud``, ``iat`` and ``exp`` do for vp+jwt.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

import cbor2

from vcred import jose, model
from vcred.did.document import VerificationMethod
from vcred.errors import (
    CryptographicError,
    MalformedError,
    ParsingError,
    UnknownKeyError,
    UnsupportedError,
    UsageError,
)
from vcred.formats import Format, registry, timed_presenter
from vcred.keys import KIND_FOR_JWS_ALG, KeyKind, Signer
from vcred.verifier import ProofState, Verifier

VC_COSE: Final = "vc+cose"
VP_COSE: Final = "vp+cose"
VC_MEDIA_TYPE: Final = "application/vc+cose"
VP_MEDIA_TYPE: Final = "application/vp+cose"
MAX_COSE_BYTES: Final = 1024 * 1024
COSE_SIGN1_TAG: Final = 18
#: Tag 18 in its one-byte (preferred) encoding, then an array of four (RFC 9052 §4.2).
TAGGED_SIGN1_PREFIX: Final = model.COSE_SIGN1_PREFIX

# Header parameter labels (RFC 9052 §3.1, RFC 9596 §2, RFC 9597 §2).
ALG: Final = 1
CRIT: Final = 2
CONTENT_TYPE: Final = 3
KID: Final = 4
CWT_CLAIMS: Final = 15
TYP: Final = 16
#: Read by the verifier, so they must be signed: in the protected header only.
_PROTECTED_ONLY: Final = (ALG, CRIT, CONTENT_TYPE, KID, CWT_CLAIMS, TYP)
#: Headers that would let a message bring its own key: kcwt, kccs (RFC 9528), x5bag, x5chain,
#: x5t, x5u (RFC 9360). Keys come from the issuer's DID.
_KEY_CARRYING: Final = (13, 14, 32, 33, 34, 35)

# CWT claim keys (RFC 8392 §4, RFC 9200 §5.3.1 for cnonce).
CWT_ISS: Final = 1
CWT_AUD: Final = 3
CWT_EXP: Final = 4
CWT_NBF: Final = 5
CWT_IAT: Final = 6
CWT_CNONCE: Final = 39
_TIME_CLAIMS: Final = {CWT_NBF: "nbf", CWT_EXP: "exp", CWT_IAT: "iat"}

#: The algorithm our signatures carry for each key type (RFC 9053 §2.1, §2.2).
COSE_ALG_FOR: Final[dict[KeyKind, int]] = {
    "ed25519": -8,
    "p256": -7,
    "p384": -35,
    "p521": -36,
}
#: What a verifier accepts for a resolved key: the polymorphic identifiers above and their
#: fully specified replacements (RFC 9864 §2.1, §2.2: ESP256 -9, ESP384 -51, ESP512 -52,
#: Ed25519 -19).
ACCEPTED_ALGS_FOR: Final[dict[KeyKind, frozenset[int]]] = {
    "ed25519": frozenset({-8, -19}),
    "p256": frozenset({-7, -9}),
    "p384": frozenset({-35, -51}),
    "p521": frozenset({-36, -52}),
}
_ACCEPTED_ALGS: Final = frozenset[int]().union(*ACCEPTED_ALGS_FOR.values())

# The media types before the 2024 Candidate Recommendation (application/vc+ld+json+cose …) are
# still read, as vcred.jose reads vc+ld+json+jwt (VC-JOSE-COSE, Revision History).
_VC_TYPS: Final = frozenset({VC_MEDIA_TYPE, "application/vc+ld+json+cose"})
_VC_CONTENT_TYPES: Final = frozenset({None, "application/vc", "application/vc+ld+json"})
_VP_TYPS: Final = frozenset({VP_MEDIA_TYPE, "application/vp+ld+json+cose"})
_VP_CONTENT_TYPES: Final = frozenset({None, "application/vp", "application/vp+ld+json"})

#: The tags cbor2 would otherwise decode itself (dates, bignums, shared values that can make a
#: cycle, string references …); every other tag reaches the tag hook. None is accepted.
#: (tests/test_cose.py::test_no_cbor_tag_is_decoded finds any new one).
_BUILTIN_TAGS: Final = (
    *(0, 1, 2, 3, 4, 5, 25, 28, 29, 30, 35, 36, 37, 52, 54, 100),
    *(256, 258, 260, 261, 1004, 43000, 55799),
)
_MAX_CBOR_DEPTH: Final = 8


def _refuse_tag(value: Any, immutable: bool) -> Any:
    raise cbor2.CBORDecodeError("CBOR tags are not accepted inside a COSE_Sign1")


_NO_TAGS: Final = dict.fromkeys(_BUILTIN_TAGS, _refuse_tag)


def loads_strict(data: bytes | bytearray | memoryview, *, what: str, pointer: str) -> Any:
    """Decode one CBOR data item, refusing what RFC 9052 §3 / RFC 8949 §5.6 make invalid.

    Duplicate map keys, indefinite lengths, tags, nesting deeper than 8 and bytes after the
    item raise ParsingError, as does ``data`` that is not bytes-like.
    """
    if isinstance(data, bytearray | memoryview):
        data = bytes(data)
    elif not isinstance(data, bytes):  # a refusal, not the TypeError of io.BytesIO / cbor2
        raise ParsingError(f"{what} is not CBOR: a {type(data).__name__}", pointer=pointer)
    stream = io.BytesIO(data)
    try:
        decoder = cbor2.CBORDecoder(
            stream,
            tag_hook=_refuse_tag,
            semantic_decoders=_NO_TAGS,
            allow_indefinite=False,
            allow_duplicate_keys=False,
            max_depth=_MAX_CBOR_DEPTH,
        )
        value = decoder.decode()
    except (cbor2.CBORError, ValueError, TypeError, RecursionError, MemoryError) as exc:
        raise ParsingError(f"{what} is not valid CBOR: {exc}", pointer=pointer) from exc
    if stream.tell() != len(data):
        raise ParsingError(f"{what} has bytes after its CBOR data item", pointer=pointer)
    return value


def _sig_structure(protected: bytes, payload: bytes) -> bytes:
    """The bytes a COSE_Sign1 signature covers (RFC 9052 §4.4), with no external AAD."""
    return cbor2.dumps(["Signature1", protected, b"", payload])


# --- COSE_Sign1 ------------------------------------------------------------------------------


def sign1(
    payload: bytes, signer: Signer, *, typ: str, content_type: str, claims: Mapping[int, Any]
) -> bytes:
    """A tagged COSE_Sign1 over ``payload``; every header parameter is protected.

    ``kid`` is the signer's method id (a byte string, RFC 9052 §3.1); ``alg`` follows from
    the signer's key; ``claims`` (CWT claims, RFC 9597) are left out when empty. Raises
    UsageError for a signer whose algorithm is not EdDSA, ES256, ES384 or ES512.
    """
    kind = KIND_FOR_JWS_ALG.get(signer.algorithm)
    if kind is None:
        raise UsageError(f"cannot sign COSE with the algorithm {signer.algorithm!r}")
    header: dict[int, Any] = {
        ALG: COSE_ALG_FOR[kind],
        CONTENT_TYPE: content_type,
        KID: signer.key_id.encode("utf-8"),
        TYP: typ,
    }
    if claims:
        header[CWT_CLAIMS] = dict(claims)
    protected = cbor2.dumps(header, canonical=True)
    signature = signer.sign(_sig_structure(protected, payload))
    return cbor2.dumps(cbor2.CBORTag(COSE_SIGN1_TAG, [protected, {}, payload, signature]))


@dataclass(frozen=True, slots=True)
class UnverifiedSign1:
    """A COSE_Sign1 decoded, NOT verified: its headers, payload and signature."""

    protected: dict[Any, Any]
    protected_bytes: bytes
    unprotected: dict[Any, Any]
    payload: bytes
    signature: bytes


def parse_unverified(data: bytes) -> UnverifiedSign1:
    """Decode a tagged COSE_Sign1, NOT verifying anything (RFC 9052 §4.2).

    Raises ParsingError for anything but a tagged COSE_Sign1 of at most 1 MiB with a
    protected header map, an unprotected header map, a payload and a signature;
    UnsupportedError for a detached payload.
    """
    if not isinstance(data, bytes) or len(data) > MAX_COSE_BYTES:
        raise ParsingError("a COSE_Sign1 must be at most 1 MiB of bytes")
    if not data.startswith(TAGGED_SIGN1_PREFIX):
        # RFC 9052 §2: without the tag nothing says which COSE message this is; VC-JOSE-COSE
        # §3.3 examples and every peer we know send tag 18.
        raise ParsingError("not a tagged COSE_Sign1 (tag 18, an array of four)", pointer="")
    message = loads_strict(data[1:], what="the COSE_Sign1", pointer="")
    if not isinstance(message, list) or len(message) != 4:  # pragma: no cover - prefix checked
        raise ParsingError("a COSE_Sign1 is an array of four", pointer="")
    protected_bytes, unprotected, payload, signature = message
    if not isinstance(protected_bytes, bytes):
        raise ParsingError("the protected header must be a byte string", pointer="/protected")
    if not isinstance(unprotected, dict):
        raise ParsingError("the unprotected header must be a map", pointer="/unprotected")
    if payload is None:
        raise UnsupportedError("detached payloads are not accepted", pointer="/payload")
    if not isinstance(payload, bytes):
        raise ParsingError("the payload must be a byte string", pointer="/payload")
    if not isinstance(signature, bytes):
        raise CryptographicError("the signature must be a byte string", pointer="/signature")
    protected: Any = {}
    if protected_bytes:  # RFC 9052 §3: an empty protected header is the empty byte string
        protected = loads_strict(protected_bytes, what="the protected header", pointer="/protected")
        if not isinstance(protected, dict):
            raise ParsingError("the protected header must be a map", pointer="/protected")
    for bucket, name in ((protected, "protected"), (unprotected, "unprotected")):
        if not all(_is_label(label) for label in bucket):
            raise ParsingError("header labels are integers or text strings", pointer=f"/{name}")
    return UnverifiedSign1(protected, protected_bytes, unprotected, payload, signature)


def unverified_payload(data: bytes) -> dict[str, Any]:
    """The JSON payload of a COSE_Sign1, NOT verified. Raises ParsingError / UnsupportedError."""
    return _json_object(parse_unverified(data).payload)


def _json_object(payload: bytes) -> dict[str, Any]:
    # the depth a document may nest in every format (the CBOR message's own: _MAX_CBOR_DEPTH)
    document = jose.loads_strict(payload, what="the COSE payload", max_depth=model.MAX_DEPTH)
    if not isinstance(document, dict):
        raise ParsingError("the COSE payload must be a JSON object", pointer="/payload")
    return document


def check_headers(
    message: UnverifiedSign1,
    *,
    typs: frozenset[str],
    content_types: frozenset[str | None],
) -> int:
    """Apply the header rules; return the (not yet key-checked) ``alg``.

    Raises MalformedError / UnsupportedError (RFC 9052 §3: a label in both buckets is an
    error; §3.1: critical headers must be understood — we understand none).
    """
    protected, unprotected = message.protected, message.unprotected
    for label in sorted(protected.keys() & unprotected.keys(), key=str)[:1]:
        raise MalformedError(
            f"header parameter {label!r} is both protected and unprotected",
            pointer=f"/unprotected/{label}",
        )
    for label in _KEY_CARRYING:
        for bucket, name in ((protected, "protected"), (unprotected, "unprotected")):
            if label in bucket:
                raise MalformedError(
                    f"header parameter {label} carries a key: keys come from the DID",
                    pointer=f"/{name}/{label}",
                )
    for label in _PROTECTED_ONLY:
        if label in unprotected:
            raise MalformedError(
                f"header parameter {label} must be protected", pointer=f"/unprotected/{label}"
            )
    if CRIT in protected:
        raise UnsupportedError("no critical header parameter is understood", pointer="/protected/2")
    alg = protected.get(ALG)
    if isinstance(alg, bool) or not isinstance(alg, int) or alg not in _ACCEPTED_ALGS:
        # covers a missing alg, every MAC, RSA and unknown algorithm
        raise UnsupportedError(
            f"COSE alg {str(alg)[:40]!r} is not accepted", pointer="/protected/1"
        )
    typ = protected.get(TYP)
    if not isinstance(typ, str) or typ not in typs:
        raise MalformedError(
            f"typ must be {' or '.join(sorted(typs))}, not {str(typ)[:60]!r}",
            pointer="/protected/16",
        )
    content_type = protected.get(CONTENT_TYPE)
    if not (content_type is None or isinstance(content_type, str)) or (
        content_type not in content_types
    ):
        raise MalformedError(
            f"content type {str(content_type)[:60]!r} is not accepted", pointer="/protected/3"
        )
    claims = protected.get(CWT_CLAIMS, {})
    if not isinstance(claims, dict):
        raise MalformedError("CWT claims must be a map", pointer="/protected/15")
    if not all(_is_label(key) for key in claims):  # RFC 8392 §4: Claim Key is int / tstr
        raise MalformedError("CWT claim keys are integers or text strings", pointer="/protected/15")
    return alg


def _is_label(key: object) -> bool:
    """A COSE header label or CWT claim key: an integer or a text string. Python reads
    ``true`` as 1 and ``4.0`` as 4, where other decoders see other keys (RFC 9052 §3)."""
    return isinstance(key, int | str) and not isinstance(key, bool)


def verify_sign1(
    data: bytes,
    *,
    typs: frozenset[str],
    content_types: frozenset[str | None],
    controller: Callable[[Mapping[str, Any]], str],
    lookup: jose.MethodLookup,
    relationship: str,
) -> VerifiedCose:
    """Verify a COSE_Sign1 with a JSON payload whose key must belong to ``controller(payload)``.

    Raises ParsingError / MalformedError / UnsupportedError / UnknownKeyError /
    CryptographicError; returns the verified protected header, payload and method otherwise.
    """
    message = parse_unverified(data)
    alg = check_headers(message, typs=typs, content_types=content_types)
    payload = _json_object(message.payload)
    method = lookup(_method_id(message.protected.get(KID), controller(payload)), relationship)
    # RFC 9052 §8 / RFC 8725 §3.1: the algorithm follows from the key we resolved.
    if alg not in ACCEPTED_ALGS_FOR[method.public_key.kind]:
        raise CryptographicError(
            f"alg {alg} does not match the {method.public_key.kind} key of {method.id}",
            pointer="/protected/1",
        )
    signed = _sig_structure(message.protected_bytes, message.payload)
    if not method.public_key.verify(message.signature, signed):
        raise CryptographicError("the COSE_Sign1 signature does not verify", pointer="/signature")
    return VerifiedCose(
        header=message.protected,
        payload=payload,
        claims=message.protected.get(CWT_CLAIMS, {}),
        method=method,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class VerifiedCose:
    """A COSE_Sign1 whose signature verified with ``method``'s key."""

    header: Mapping[Any, Any]
    payload: Mapping[str, Any]
    claims: Mapping[Any, Any]
    method: VerificationMethod


def _method_id(kid: Any, did: str) -> str:
    """The method ``kid`` names (RFC 9052 §3.1: a byte string, here a UTF-8 DID URL)."""
    if kid is None:
        raise UnknownKeyError("the protected header has no kid", pointer="/protected/4")
    if not isinstance(kid, bytes):
        raise MalformedError("kid must be a byte string", pointer="/protected/4")
    try:
        text = kid.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UnknownKeyError("kid is not a UTF-8 DID URL", pointer="/protected/4") from exc
    return jose.method_id_for_kid(text, did, pointer="/protected/4")


# --- credentials and presentations ---------------------------------------------------------


def issue_vc_cose(credential: Mapping[str, Any], signer: Signer) -> bytes:
    """Secure a credential as ``application/vc+cose`` (VC-JOSE-COSE §3.3.1)."""
    return sign1(
        jose.compact_json(credential),
        signer,
        typ=VC_MEDIA_TYPE,
        content_type="application/vc",
        claims={},
    )


def issue_vp_cose(
    presentation: Mapping[str, Any],
    signer: Signer,
    *,
    challenge: str | None = None,
    domain: str | None = None,
    issued_at: int | None = None,
    expires_at: int | None = None,
) -> bytes:
    """Secure a presentation as ``application/vp+cose`` (VC-JOSE-COSE §3.3.2).

    The challenge and domain travel as the CWT claims ``cnonce`` and ``aud``; ``iat`` and
    ``exp`` bound the presentation's lifetime.
    """
    claims: dict[int, Any] = {}
    if challenge is not None:
        claims[CWT_CNONCE] = challenge.encode("utf-8")
    if domain is not None:
        claims[CWT_AUD] = domain
    if issued_at is not None:
        claims[CWT_IAT] = issued_at
    if expires_at is not None:
        claims[CWT_EXP] = expires_at
    return sign1(
        jose.compact_json(presentation),
        signer,
        typ=VP_MEDIA_TYPE,
        content_type="application/vp",
        claims=claims,
    )


def verify_vc_cose(data: bytes, *, lookup: jose.MethodLookup) -> VerifiedCose:
    """Verify a ``vc+cose`` credential signed with one of its issuer's assertion keys.

    A CWT ``iss`` claim, if present, must be the issuer (VC-JOSE-COSE §4.1.1).
    Raises VcredError subclasses.
    """
    verified = verify_sign1(
        data,
        typs=_VC_TYPS,
        content_types=_VC_CONTENT_TYPES,
        controller=_credential_issuer,
        lookup=lookup,
        relationship="assertionMethod",
    )
    iss = verified.claims.get(CWT_ISS)
    if iss is not None and iss != _credential_issuer(verified.payload):
        raise MalformedError(
            "the CWT iss claim contradicts the credential's issuer", pointer="/protected/15/1"
        )
    return verified


def verify_vp_cose(data: bytes, *, lookup: jose.MethodLookup) -> VerifiedCose:
    """Verify a ``vp+cose`` presentation signed with one of its holder's authentication keys."""
    return verify_sign1(
        data,
        typs=_VP_TYPS,
        content_types=_VP_CONTENT_TYPES,
        controller=_holder,
        lookup=lookup,
        relationship="authentication",
    )


def _credential_issuer(payload: Mapping[str, Any]) -> str:
    return jose.did_of(payload, "issuer", "a vc+cose issuer must be a DID or an https URL")


def _holder(payload: Mapping[str, Any]) -> str:
    return jose.did_of(payload, "holder", "a vp+cose holder must be a DID or an https URL")


def time_claims(claims: Mapping[Any, Any]) -> dict[str, Any]:
    """The CWT nbf / exp / iat claims under their JWT names (the pipeline's validity check)."""
    return {name: claims[key] for key, name in _TIME_CLAIMS.items() if key in claims}


def _challenge(claims: Mapping[Any, Any]) -> str | None:
    """The signed challenge: the ``cnonce`` claim's UTF-8 text."""
    value = claims.get(CWT_CNONCE)
    if value is None:
        return None
    if not isinstance(value, bytes):
        raise MalformedError("the cnonce claim must be a byte string", pointer="/protected/15/39")
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedError(
            "the cnonce claim is not a UTF-8 challenge", pointer="/protected/15/39"
        ) from exc


def _audience(claims: Mapping[Any, Any]) -> str | list[str] | None:
    """The signed domain: the ``aud`` claim, a text string (RFC 8392 §3.1.3: a StringOrURI)
    or, as a JWT's ``aud`` may be, an array of them. A byte string or any other CBOR value is
    no domain: MalformedError, not a value handed on to be compared and shown."""
    value = claims.get(CWT_AUD)
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return value
    raise MalformedError(
        "the aud claim must be a text string or an array of them", pointer="/protected/15/3"
    )


# --- the pipeline ------------------------------------------------------------------------------


def _prove(verifier: Verifier, data: Any, state: ProofState) -> None:
    """The proof stage for ``vc+cose`` credentials."""
    verified = verify_vc_cose(data, lookup=verifier.method_lookup)
    state.claimed = dict(verified.payload)
    state.jwt_claims = time_claims(verified.claims)
    state.methods = [verified.method]


def _prove_presentation(verifier: Verifier, data: Any, state: ProofState) -> tuple[Any, Any]:
    """The proof stage for ``vp+cose``: returns the signed (challenge, domain)."""
    verified = verify_vp_cose(data, lookup=verifier.method_lookup)
    state.claimed = dict(verified.payload)
    state.jwt_claims = time_claims(verified.claims)
    state.methods = [verified.method]
    return _challenge(verified.claims), _audience(verified.claims)


def _issue_format(credential: Mapping[str, Any], signer: Signer) -> bytes:
    return issue_vc_cose(credential, signer)


registry.register(Format(name=VC_COSE, issue=_issue_format, verify=_prove))
registry.register(
    Format(
        name=VP_COSE,
        present=timed_presenter(issue_vp_cose),
        present_options=frozenset({"lifetime"}),
        verify_presentation=_prove_presentation,
    )
)
