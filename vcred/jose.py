"""Compact JWS and the VC-JOSE-COSE media types ``application/vc+jwt`` and ``vp+jwt``.

https://www.w3.org/TR/vc-jose-cose/#securing-with-jose · RFC 7515 (JWS) · RFC 8725 (JWT BCP).

The verifier chooses the key and therefore the algorithm: the key comes from the issuer's (or
holder's) DID document, never from the token, and the header's ``alg`` must be the one that key
implies. Headers that would let a token bring its own key (``jwk``, ``jku``, ``x5u``, ``x5c``),
unknown ``crit`` extensions, unencoded payloads (``b64``), nested JWTs, duplicate member names
and typ confusion are refused.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from math import isfinite
from typing import TYPE_CHECKING, Any, Final

from vcred._json import loads_strict as loads_strict  # its former home: keep the name
from vcred._json import names_at_most_once
from vcred.did.document import (
    VerificationMethod,
    controller_of,
    is_did,
    is_https_url,
)
from vcred.errors import (
    CryptographicError,
    MalformedError,
    ParsingError,
    UnknownKeyError,
    UnsupportedError,
    VcredError,
)
from vcred.formats import Format, registry, timed_presenter
from vcred.keys import JWS_ALG_FOR, KIND_FOR_JWS_ALG, PublicKey, Signer
from vcred.model import JSON_LEAVES, MAX_DEPTH, check_text
from vcred.multibase import b64url_decode, b64url_encode

if TYPE_CHECKING:  # types only: the pipeline imports this module
    from vcred.verifier import ProofState, Verifier

VC_JWT: Final = "vc+jwt"
VP_JWT: Final = "vp+jwt"
_KEY_CARRYING_HEADERS: Final = ("jwk", "jku", "x5u", "x5c")
#: every header member refused outright: those, unencoded payloads and critical extensions
_REFUSED_HEADERS: Final = frozenset({*_KEY_CARRYING_HEADERS, "b64", "crit"})
_MAX_TOKEN_LENGTH: Final = 1024 * 1024
#: Protected headers up to this length are parsed once (each issuer key signs with one
#: header); longer ones, which only a hostile token holds, are parsed every time.
_CACHED_HEADER_LENGTH: Final = 1024
#: 0001-01-01T00:00:00Z … 9999-12-31T23:59:59Z: what a datetime (and a four-digit year) holds.
_MIN_NUMERIC_DATE: Final = -62135596800
_END_NUMERIC_DATE: Final = 253402300800
#: a tuple, not ``int | float``: that union is built anew at every call
_NUMBER: Final = (int, float)

MethodLookup = Callable[[str, str], VerificationMethod]
"""(method id, relationship) → a method its DID authorises; raises UnknownKeyError etc."""


@dataclass(frozen=True, slots=True, kw_only=True)
class VerifiedJws:
    """A JWS whose signature verified with ``method``'s key."""

    header: Mapping[str, Any]
    payload: Mapping[str, Any]
    method: VerificationMethod
    #: at most one object of ``payload`` has an ``@context`` member (as in UnverifiedJws)
    one_context: bool = False
    #: The token's own time claims (nbf, exp, iat) when ``payload`` is not the token's
    #: payload but the credential or presentation rebuilt from it (VC-JWT 1.1); else None.
    time_claims: Mapping[str, Any] | None = None


#: One encoder for every call (``json.dumps`` with options builds a new one each time).
_COMPACT_ENCODER: Final = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def compact_json(value: Mapping[str, Any]) -> bytes:
    """UTF-8 JSON without whitespace: the payload bytes of vc+jwt and vc+cose.

    Raises MalformedError, with its pointer, for a value holding a lone surrogate: the UTF-8
    encoding is the check (RFC 7493 §2.1), so nothing walks the value for one beforehand.
    """
    text = _COMPACT_ENCODER.encode(value)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        check_text(value)  # raises MalformedError with the pointer of the first one
        # one the walk does not reach (in a tuple, say): refused all the same, unlocated
        raise MalformedError(
            "the document holds a lone surrogate: not Unicode text (I-JSON, RFC 7493 §2.1)"
        ) from exc


def sign_compact(
    payload: Mapping[str, Any], signer: Signer, *, typ: str, cty: str | None = None
) -> str:
    """Sign ``payload`` as a compact JWS with ``signer``'s algorithm and key id."""
    signing_input = (
        _encoded_header(signer.algorithm, signer.key_id, typ, cty)
        + "."
        + b64url_encode(compact_json(payload))
    )
    return signing_input + "." + b64url_encode(signer.sign(signing_input.encode("ascii")))


@lru_cache(maxsize=1024)
def _encoded_header(alg: str, kid: str, typ: str, cty: str | None) -> str:
    """The base64url protected header: one per signer and media type, encoded once."""
    header = {"alg": alg, "kid": kid, "typ": typ}
    if cty is not None:
        header["cty"] = cty
    return b64url_encode(compact_json(header))


def split_compact(token: str) -> tuple[str, str, str]:
    """The three base64url parts of a compact JWS. Raises ParsingError."""
    if not isinstance(token, str) or len(token) > _MAX_TOKEN_LENGTH:
        raise ParsingError("a compact JWS must be a string of at most 1 MiB")
    dots = two_dots(token)
    if dots is None:
        raise ParsingError("a compact JWS has three dot-separated parts")
    first, last = dots
    return token[:first], token[first + 1 : last], token[last + 1 :]


def two_dots(text: str) -> tuple[int, int] | None:
    """Where the two dots of a ``text`` with exactly two are, else None (also for a non-str).

    Three searches (memchr) rather than ``str.count`` or ``str.split``, which compare every
    character of a token of a few KB one at a time.
    """
    if not isinstance(text, str):  # bytes and the rest: no compact serialization
        return None
    first, last = text.find("."), text.rfind(".")
    if 0 <= first < last and text.find(".", first + 1) == last:
        return first, last
    return None


@dataclass(frozen=True, slots=True)
class UnverifiedJws:
    """A compact JWS split and parsed, NOT verified: header, payload and the signed bytes."""

    header: dict[str, Any]
    payload: dict[str, Any]
    signing_input: bytes
    signature_b64: str
    #: At most one object of ``payload`` has an ``@context`` member (told from its JSON text:
    #: :func:`vcred._json.names_at_most_once`), so the context stage may read the top's alone.
    one_context: bool = False


def parse_unverified(token: str) -> UnverifiedJws:
    """Split a compact JWS and parse its header and payload, NOT verifying anything.

    Raises ParsingError unless both are JSON objects (strict: no duplicate members).
    """
    header_b64, payload_b64, signature_b64 = split_compact(token)
    header = _parse_header(header_b64)
    payload, one_context = _parse_payload(payload_b64)
    signing_input = token[: len(header_b64) + 1 + len(payload_b64)].encode("ascii")
    return UnverifiedJws(header, payload, signing_input, signature_b64, one_context)


def _parse_payload(payload_b64: str) -> tuple[dict[str, Any], bool]:
    """The payload, parsed strictly, and whether at most one of its objects has an
    ``@context`` member. Raises ParsingError."""
    text = b64url_decode(payload_b64, pointer="/payload")
    # one depth for a document in every format (a VC-JWT, an SD-JWT's issuer-signed part, a
    # VP-JWT, a COSE payload, a Data Integrity document): model.MAX_DEPTH
    payload = loads_strict(text, what="JWS payload", max_depth=MAX_DEPTH)
    if not isinstance(payload, dict):
        raise ParsingError("the JWS payload must be a JSON object")
    return payload, names_at_most_once(text, b"@context")


def unverified_header(token: str) -> dict[str, Any]:
    """The protected header of a compact JWS, NOT verified. Raises ParsingError."""
    return _parse_header(split_compact(token)[0])


def _parse_header(header_b64: str) -> dict[str, Any]:
    """A protected header, parsed strictly (a new dict each time). Raises ParsingError.

    Tokens repeat their headers (one per signing key): a header whose members are all plain
    values is parsed once (``_header_items``); any other is parsed every time.
    """
    if len(header_b64) <= _CACHED_HEADER_LENGTH:
        items = _header_items(header_b64)
        if items is not None:
            return dict(items)
    return _read_header(header_b64)


@lru_cache(maxsize=1024)
def _header_items(header_b64: str) -> tuple[tuple[str, Any], ...] | None:
    """The members of a header holding plain values only (None for any other header)."""
    header = _read_header(header_b64)
    if all(type(value) in JSON_LEAVES for value in header.values()):
        return tuple(header.items())
    return None


def _read_header(header_b64: str) -> dict[str, Any]:
    header = loads_strict(
        b64url_decode(header_b64, pointer="/header"), what="JWS header", pointer="/header"
    )
    if not isinstance(header, dict):
        raise ParsingError("the JWS header must be a JSON object")
    return header


def unverified_payload(token: str) -> dict[str, Any]:
    """The payload of a compact JWS, NOT verified. Raises ParsingError."""
    return parse_unverified(token).payload


def verify_compact(
    token: str | UnverifiedJws,
    *,
    typs: frozenset[str | None],
    ctys: frozenset[str | None],
    controller: Callable[[Mapping[str, Any]], str],
    lookup: MethodLookup,
    relationship: str,
) -> VerifiedJws:
    """Verify a compact JWS whose key must belong to ``controller(payload)``.

    Raises ParsingError / MalformedError / UnsupportedError / UnknownKeyError /
    CryptographicError; returns the verified header and payload otherwise.
    """
    jws = parse_unverified(token) if isinstance(token, str) else token
    header, payload = jws.header, jws.payload
    _check_header(header, typs=typs, ctys=ctys)
    try:
        signature = b64url_decode(jws.signature_b64, pointer="/signature")
    except ParsingError as exc:  # a signature that is not even well-encoded is an invalid one
        raise CryptographicError(
            f"the JWS signature is {exc.message}", pointer="/signature"
        ) from exc
    did = controller(payload)
    try:
        method = lookup(_method_id(header.get("kid"), did), relationship)
    except VcredError as error:  # a DID that cannot be resolved: the kid named it
        if error.pointer is None:
            error.pointer = "/header/kid"
        raise
    # RFC 8725 §3.1: the algorithm follows from the key we resolved, not from the token.
    expected_alg = JWS_ALG_FOR[method.public_key.kind]
    if header["alg"] != expected_alg:
        raise CryptographicError(
            f"alg {header['alg']} does not match the {method.public_key.kind} key of {method.id}",
            pointer="/header/alg",
        )
    if not method.public_key.verify(signature, jws.signing_input):
        raise CryptographicError("the JWS signature does not verify", pointer="/signature")
    return VerifiedJws(header=header, payload=payload, method=method, one_context=jws.one_context)


def _check_header(
    header: Mapping[str, Any], *, typs: frozenset[str | None], ctys: frozenset[str | None]
) -> None:
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in KIND_FOR_JWS_ALG:
        # covers "none", every HMAC (HS*) and RSA alg: we only accept EdDSA, ES256, ES384
        raise UnsupportedError(f"JWS alg {str(alg)[:40]!r} is not accepted", pointer="/header/alg")
    if not _REFUSED_HEADERS.isdisjoint(header):  # one look for the common case: none of them
        for name in _KEY_CARRYING_HEADERS:
            if name in header:
                raise MalformedError(
                    f"the {name} header is refused: keys come from the issuer's DID",
                    pointer=f"/header/{name}",
                )
        if "b64" in header:
            raise UnsupportedError(
                "unencoded payloads (b64) are not accepted", pointer="/header/b64"
            )
        raise UnsupportedError("no critical header extension is understood", pointer="/header/crit")
    typ, cty = header.get("typ"), header.get("cty")
    if not (typ is None or isinstance(typ, str)) or typ not in typs:
        named = sorted(str(t) for t in typs if t is not None)
        raise MalformedError(
            f"typ must be {' or '.join(named)}, not {str(header.get('typ'))[:40]!r}",
            pointer="/header/typ",
        )
    if not (cty is None or isinstance(cty, str)) or cty not in ctys:
        raise MalformedError(
            f"cty {str(header.get('cty'))[:40]!r} is not accepted (nested JWTs are refused)",
            pointer="/header/cty",
        )


def _method_id(kid: Any, did: str) -> str:
    """The absolute method id named by ``kid``; it must belong to ``did`` (a DID, or the https
    URL of an issuer whose key the verifier holds)."""
    if kid is None:
        raise UnknownKeyError("the JWS header has no kid", pointer="/header/kid")
    if not isinstance(kid, str):
        raise MalformedError("kid must be a string", pointer="/header/kid")
    return method_id_for_kid(kid, did, pointer="/header/kid")


def method_id_for_kid(kid: str, did: str, *, pointer: str) -> str:
    """The absolute method id a JOSE or COSE ``kid`` names; it must belong to ``did``.

    A relative ``#fragment`` is resolved against ``did``. Raises UnknownKeyError.
    """
    method_id = did + kid if kid.startswith("#") else kid
    try:
        owner = controller_of(method_id)
    except MalformedError:
        owner = ""
    if owner != did or not method_id.partition("#")[2]:
        raise UnknownKeyError(f"kid {kid[:200]!r} is not a key of {did}", pointer=pointer)
    return method_id


def verify_with_key(
    token: str,
    key: PublicKey,
    *,
    typs: frozenset[str | None],
    ctys: frozenset[str | None] = frozenset({None}),
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Verify a compact JWS with a key the verifier already holds; return (header, payload).

    For tokens whose key is fixed by something already verified, such as an SD-JWT key-binding
    JWT and the ``cnf`` key of its credential (RFC 9901 §4.3). The header rules are those of
    :func:`verify_compact`; ``kid`` is ignored because the key is not looked up.
    Raises ParsingError / MalformedError / UnsupportedError / CryptographicError.
    """
    header_b64, payload_b64, signature_b64 = split_compact(token)
    header = _parse_header(header_b64)
    _check_header(header, typs=typs, ctys=ctys)
    payload = _parse_payload(payload_b64)[0]
    # RFC 8725 §3.1: the algorithm follows from the key we hold, not from the token.
    if header["alg"] != JWS_ALG_FOR[key.kind]:
        raise CryptographicError(
            f"alg {header['alg']} does not match the {key.kind} key", pointer="/header/alg"
        )
    try:
        signature = b64url_decode(signature_b64, pointer="/signature")
    except ParsingError as exc:
        raise CryptographicError(
            f"the JWS signature is {exc.message}", pointer="/signature"
        ) from exc
    if not key.verify(signature, token[: len(header_b64) + 1 + len(payload_b64)].encode("ascii")):
        raise CryptographicError("the JWS signature does not verify", pointer="/signature")
    return header, payload


# --- credentials and presentations ---------------------------------------------------------

_VC_TYPS: Final[frozenset[str | None]] = frozenset({VC_JWT, "vc+ld+json+jwt"})
_VC_CTYS: Final = frozenset({None, "vc", "vc+ld+json"})
#: VC-JWT 1.1 §6.3.1: typ, *if present*, MUST be JWT (didkit and others leave it out).
_LEGACY_TYPS: Final[frozenset[str | None]] = frozenset({"JWT", None})
_VP_TYPS: Final[frozenset[str | None]] = frozenset({VP_JWT, "vp+ld+json+jwt"})
_VP_CTYS: Final = frozenset({None, "vp", "vp+ld+json"})


def issue_vc_jwt(credential: Mapping[str, Any], signer: Signer) -> str:
    """Secure a credential as ``application/vc+jwt``: the payload is the credential itself."""
    return sign_compact(credential, signer, typ=VC_JWT, cty="vc")


def issue_vp_jwt(
    presentation: Mapping[str, Any],
    signer: Signer,
    *,
    challenge: str | None = None,
    domain: str | None = None,
    issued_at: int | None = None,
    expires_at: int | None = None,
) -> str:
    """Secure a presentation as ``vp+jwt``; challenge and domain travel as nonce and aud."""
    payload = dict(presentation)
    if challenge is not None:
        payload["nonce"] = challenge
    if domain is not None:
        payload["aud"] = domain
    if issued_at is not None:
        payload["iat"] = issued_at
    if expires_at is not None:
        payload["exp"] = expires_at
    return sign_compact(payload, signer, typ=VP_JWT, cty="vp")


def is_legacy(header: Mapping[str, Any], payload: Mapping[str, Any]) -> bool:
    """A VC-JWT 1.1 token: the credential travels in the ``vc`` (or ``vp``) claim."""
    return header.get("typ") in (None, "JWT") and ("vc" in payload or "vp" in payload)


def verify_vc_jwt(token: str, *, lookup: MethodLookup) -> VerifiedJws:
    """Verify a ``vc+jwt`` (or a legacy VC-JWT 1.1) credential token.

    The key is the issuer's: ``kid`` must name a method of the issuer's DID listed under
    assertionMethod. A legacy token's payload is mapped back to a VC 1.1 credential
    (``vc`` claim; iss, jti, sub, nbf, exp per VC-JWT 1.1 §6.3.1). Raises VcredError subclasses.
    """
    jws = parse_unverified(token)
    legacy = is_legacy(jws.header, jws.payload)
    verified = verify_compact(
        jws,
        typs=_LEGACY_TYPS if legacy else _VC_TYPS,
        ctys=frozenset({None}) if legacy else _VC_CTYS,
        controller=_legacy_issuer if legacy else _credential_issuer,
        lookup=lookup,
        relationship="assertionMethod",
    )
    if legacy:
        return VerifiedJws(
            header=verified.header,
            payload=_from_legacy(verified.payload),
            method=verified.method,
            time_claims=_time_claims(verified.payload),
        )
    iss = verified.payload.get("iss")
    if iss is not None and iss != _credential_issuer(verified.payload):
        raise MalformedError("the iss claim contradicts the credential's issuer", pointer="/iss")
    return verified


def verify_vp_jwt(token: str, *, lookup: MethodLookup) -> VerifiedJws:
    """Verify a ``vp+jwt`` presentation token signed by its holder (authentication key)."""
    jws = parse_unverified(token)
    legacy = is_legacy(jws.header, jws.payload)
    verified = verify_compact(
        jws,
        typs=_LEGACY_TYPS if legacy else _VP_TYPS,
        ctys=frozenset({None}) if legacy else _VP_CTYS,
        controller=_legacy_issuer if legacy else _holder,
        lookup=lookup,
        relationship="authentication",
    )
    if not legacy:
        return verified
    mapped = {**_from_legacy(verified.payload)}
    for claim in ("nonce", "aud", "iat", "exp", "nbf"):
        if claim in verified.payload:
            mapped[claim] = verified.payload[claim]
    return VerifiedJws(header=verified.header, payload=mapped, method=verified.method)


def _credential_issuer(payload: Mapping[str, Any]) -> str:
    return did_of(payload, "issuer", "a vc+jwt issuer must be a DID or an https URL")


def _holder(payload: Mapping[str, Any]) -> str:
    return did_of(payload, "holder", "a vp+jwt holder must be a DID or an https URL")


def did_of(payload: Mapping[str, Any], member: str, refusal: str) -> str:
    """The DID (or https URL) of ``member`` (a URL, or an object with an ``id``), whose key
    signed. An https URL's key is never looked up on the web: only a verifier given that key
    (:class:`vcred.did.KeyResolver`) finds it.

    Raises UnknownKeyError (``refusal``) when it is neither.
    """
    value = payload.get(member)
    if isinstance(value, dict):
        value = value.get("id")
    if not _names_a_signer(value):
        raise UnknownKeyError(refusal, pointer=f"/{member}")
    return str(value)


def _names_a_signer(value: Any) -> bool:
    return is_did(value) or is_https_url(value)


def _legacy_issuer(payload: Mapping[str, Any]) -> str:
    iss = payload.get("iss")
    if not _names_a_signer(iss):
        raise UnknownKeyError("a VC-JWT 1.1 iss must be a DID or an https URL", pointer="/iss")
    return str(iss)


def _from_legacy(payload: Mapping[str, Any]) -> dict[str, Any]:
    """VC-JWT 1.1 §6.3.1: rebuild the credential from the vc claim and the JWT claims."""
    inner = payload.get("vc", payload.get("vp"))
    if not isinstance(inner, dict):
        raise MalformedError("the vc claim must be an object", pointer="/vc")
    credential = dict(inner)
    if not isinstance(payload.get("iss"), str):
        # VC-JWT 1.1 §6.3.1: iss is the issuer (or the holder): without it there is nobody
        raise MalformedError("a VC-JWT 1.1 token needs the iss claim", pointer="/iss")
    if "vc" in payload:
        credential["issuer"] = (
            payload["iss"]
            if not isinstance(inner.get("issuer"), dict)
            else {
                **inner["issuer"],
                "id": payload["iss"],
            }
        )
    else:
        credential["holder"] = payload["iss"]
    if "jti" in payload:
        credential["id"] = payload["jti"]
    times = {"nbf": "issuanceDate", "exp": "expirationDate"}
    for claim, name in times.items():
        if claim in payload:
            credential[name] = _numeric_date_to_xsd(payload[claim], pointer=f"/{claim}")
    if "sub" in payload and isinstance(credential.get("credentialSubject"), dict):
        credential["credentialSubject"] = {**credential["credentialSubject"], "id": payload["sub"]}
    return credential


def _time_claims(payload: Mapping[str, Any]) -> dict[str, Any]:
    """The JWT claims the validity check reads (nbf, exp) and the signing time (iat)."""
    return {k: payload[k] for k in ("nbf", "exp", "iat") if k in payload}


def numeric_date(value: Any, *, pointer: str) -> datetime:
    """A JWT NumericDate (RFC 7519 §2: seconds since the epoch, "non-integer values can be
    represented") as an aware UTC datetime.

    Raises MalformedError for a value that is not a finite number within years 1 … 9999
    (``1e400`` parses as infinity: Python's own OverflowError must not escape).
    """
    check_numeric_date(value, pointer=pointer)
    return datetime.fromtimestamp(value, tz=UTC)


def check_numeric_date(value: Any, *, pointer: str) -> None:
    """Raises MalformedError unless ``value`` is a NumericDate :func:`numeric_date` reads: for
    a caller that only checks one (the signing time ``iat``), without building the datetime."""
    if not isinstance(value, _NUMBER) or isinstance(value, bool):
        raise MalformedError(f"{pointer[1:]} must be a NumericDate", pointer=pointer)
    # an int is compared exactly (isfinite would overflow on 10**400); NaN fails every bound
    if (isinstance(value, float) and not isfinite(value)) or not (
        _MIN_NUMERIC_DATE <= value < _END_NUMERIC_DATE
    ):
        raise MalformedError(f"{pointer[1:]} is not a representable NumericDate", pointer=pointer)


def _numeric_date_to_xsd(value: Any, *, pointer: str) -> str:
    """An XML Schema dateTimeStamp; fractional seconds survive (didkit's NumericDates)."""
    moment = numeric_date(value, pointer=pointer).replace(tzinfo=None)
    if moment.microsecond:
        return moment.isoformat(timespec="microseconds").rstrip("0") + "Z"
    return moment.isoformat(timespec="seconds") + "Z"


# -- the pipeline: vc+jwt and vp+jwt in the format registry --------------------------------------


def _issue_format(credential: Mapping[str, Any], signer: Signer) -> str:
    return issue_vc_jwt(credential, signer)


def _prove(verifier: Verifier, token: Any, state: ProofState) -> None:
    """The proof stage for ``vc+jwt`` credentials (the issuer's assertionMethod key)."""
    verified = verify_vc_jwt(token, lookup=verifier.method_lookup)
    payload = dict(verified.payload)
    # a VC-JWT 1.1 token's own nbf / exp, not the dates rebuilt from them: a credential
    # date that contradicts them is then refused, as in a vc+jwt, never silently preferred
    time_claims = verified.time_claims
    state.jwt_claims = _time_claims(payload) if time_claims is None else time_claims
    state.claimed = payload
    state.one_context = verified.one_context
    state.methods = [verified.method]


def _prove_presentation(verifier: Verifier, token: Any, state: ProofState) -> tuple[Any, Any]:
    """The proof stage for ``vp+jwt``: the holder's authentication key; the signed challenge
    and domain are the ``nonce`` and ``aud`` claims."""
    verified = verify_vp_jwt(token, lookup=verifier.method_lookup)
    vp = dict(verified.payload)
    signed = vp.pop("nonce", None), vp.pop("aud", None)
    state.jwt_claims = {k: vp.pop(k) for k in ("iat", "exp", "nbf") if k in vp}
    state.methods = [verified.method]
    state.claimed = vp
    state.one_context = verified.one_context
    return signed


registry.register(Format(name=VC_JWT, issue=_issue_format, issue_checks_text=True, verify=_prove))
registry.register(
    Format(
        name=VP_JWT,
        present=timed_presenter(issue_vp_jwt),
        present_options=frozenset({"lifetime"}),
        verify_presentation=_prove_presentation,
    )
)
