"""Structure rules of the Verifiable Credentials Data Model (v2.0, and reading v1.1).

https://www.w3.org/TR/vc-data-model-2.0/#basic-concepts — each rule raises a
:class:`~vcred.errors.MalformedError` with the JSON Pointer of the offending member. These
checks are shape-only; signatures, time windows and status are checked elsewhere.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Mapping
from datetime import datetime
from functools import lru_cache
from typing import Any, Final, Literal
from urllib.parse import unquote_to_bytes

from vcred.errors import DigestMismatchError, MalformedError, UnsupportedError
from vcred.multibase import multibase_decode

V2_CONTEXT: Final = "https://www.w3.org/ns/credentials/v2"
V1_CONTEXT: Final = "https://www.w3.org/2018/credentials/v1"
DATA_INTEGRITY_V2_CONTEXT: Final = "https://w3id.org/security/data-integrity/v2"

Version = Literal["2.0", "1.1"]

# Media types an EnvelopedVerifiableCredential may carry: VC-JOSE-COSE §3.1.1 and §3.2.1, an
# unsecured credential, and an IETF SD-JWT VC (draft-ietf-oauth-sd-jwt-vc, dc+sd-jwt).
_ENVELOPED_MEDIA_TYPES: Final = frozenset(
    {
        "application/vc+jwt",
        "application/vc+sd-jwt",
        "application/dc+sd-jwt",
        "application/vc",
        "application/vc+cose",
    }
)

# ... and an EnvelopedVerifiablePresentation (VCDM 2.0 §4.13.2): a vp+jwt or vp+cose, or an
# SD-JWT with its key-binding JWT (RFC 9901 §4.3).
ENVELOPED_PRESENTATION_MEDIA_TYPES: Final = frozenset(
    {"application/vp+jwt", "application/vp+cose", "application/vc+sd-jwt", "application/dc+sd-jwt"}
)

# Binary media types: their data: URL is base64 (VC-JOSE-COSE §3.3.1) and carries bytes.
BINARY_MEDIA_TYPES: Final = frozenset({"application/vc+cose", "application/vp+cose"})
#: How such bytes start: a tagged COSE_Sign1 is tag 18 (one byte) and an array of four
#: (RFC 9052 §4.2). Format detection and vcred.cose use it.
COSE_SIGN1_PREFIX: Final = b"\xd2\x84"

# RFC 3986 §3.1 scheme, then anything without whitespace: "URL" in VCDM 2.0 means an absolute URL.
_URL: Final = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[^\s]+")
# XML Schema 1.1 dateTimeStamp: a dateTime with a mandatory time zone offset.
_DATE_TIME_STAMP: Final = re.compile(
    r"-?(?:[1-9][0-9]{3,}|0[0-9]{3})-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])"
    r"T(?:(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]+)?|24:00:00(?:\.0+)?)"
    r"(?:Z|[+-](?:(?:0[0-9]|1[0-3]):[0-5][0-9]|14:00))"
)
# VC 1.1 allowed a dateTime whose zone is optional; we still require one to compare times.
_TYPED_OBJECT_PROPERTIES: Final = (
    "credentialStatus",
    "credentialSchema",
    "evidence",
    "termsOfUse",
    "refreshService",
)
_ID_REQUIRED: Final = frozenset({"credentialSchema"})
_DIGEST_SRI: Final = re.compile(r"(sha256|sha384|sha512)-([A-Za-z0-9+/]+={0,2})")
_SRI_HASH: Final = {"sha256": hashlib.sha256, "sha384": hashlib.sha384, "sha512": hashlib.sha512}
_MULTIHASH: Final = {
    0x12: (hashlib.sha256, 32),
    0x20: (hashlib.sha384, 48),
    0x13: (hashlib.sha512, 64),
}


def is_url(value: object) -> bool:
    return isinstance(value, str) and _URL.fullmatch(value) is not None


def parse_datetime(value: object, *, pointer: str) -> datetime:
    """Parse an XSD dateTimeStamp into an aware datetime. Raises MalformedError."""
    if not isinstance(value, str):
        raise MalformedError("must be an XML Schema dateTimeStamp string", pointer=pointer)
    parsed = _parse_date_time_stamp(value)
    if isinstance(parsed, str):
        raise MalformedError(parsed, pointer=pointer)
    return parsed


@lru_cache(maxsize=4096)
def _parse_date_time_stamp(value: str) -> datetime | str:
    """The datetime, or the reason it is not one (cached: credentials repeat their dates)."""
    if not _DATE_TIME_STAMP.fullmatch(value):
        return "must be an XML Schema dateTimeStamp (e.g. 2026-01-01T00:00:00Z)"
    if "T24:00:00" in value:
        return "24:00:00 is not supported; use 00:00:00 of the next day"
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        return f"invalid date-time: {exc}"


def context_version(document: Mapping[str, Any], *, pointer: str = "") -> Version:
    """Check ``@context`` and tell which data model version the document follows.

    VCDM 2.0 §4.3: an ordered set whose first item is the v2 URL; further items are URLs or
    objects. A v1.1 document starts with the 2018 URL instead.
    """
    context = document.get("@context")
    where = f"{pointer}/@context"
    if context is None:
        raise MalformedError("@context is required", pointer=where)
    items = [context] if isinstance(context, str) else context
    if not isinstance(items, list) or not items:
        raise MalformedError("@context must be an ordered set (a JSON array)", pointer=where)
    first = items[0]
    if first == V2_CONTEXT:
        version: Version = "2.0"
    elif first == V1_CONTEXT:
        version = "1.1"
    else:
        raise MalformedError(f"the first @context item must be {V2_CONTEXT}", pointer=f"{where}/0")
    for i, item in enumerate(items[1:], start=1):
        if isinstance(item, str):
            if not is_url(item):
                raise MalformedError(
                    "a @context item must be a URL or an object", pointer=f"{where}/{i}"
                )
        elif not isinstance(item, dict):
            raise MalformedError(
                "a @context item must be a URL or an object", pointer=f"{where}/{i}"
            )
    return version


def types_of(document: Mapping[str, Any], *, pointer: str = "") -> list[str]:
    """The ``type`` values (a string or an array of strings). Raises MalformedError."""
    value = document.get("type")
    where = f"{pointer}/type"
    if value is None:
        raise MalformedError("type is required", pointer=where)
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not values:
        raise MalformedError("type must be a string or a non-empty array of strings", pointer=where)
    for i, item in enumerate(values):
        if not isinstance(item, str) or not item:
            raise MalformedError("each type must be a non-empty string", pointer=f"{where}/{i}")
    return values


def issuer_id(credential: Mapping[str, Any]) -> str:
    """The issuer's id (``issuer`` is a URL or an object whose ``id`` is a URL)."""
    issuer = credential.get("issuer")
    if isinstance(issuer, dict):
        issuer = issuer.get("id")
    if not isinstance(issuer, str):
        raise MalformedError("issuer must be a URL or an object with an id", pointer="/issuer")
    return issuer


def validate_credential(credential: Any, *, pointer: str = "") -> Version:
    """Check a credential (without its securing mechanism) against VCDM 2.0 §4 (or v1.1).

    Returns the data model version. Raises MalformedError at the first rule broken.
    """
    if not isinstance(credential, dict):
        raise MalformedError("a credential must be a JSON object", pointer=pointer or "/")
    version = context_version(credential, pointer=pointer)
    _check_id(credential, pointer)
    if "VerifiableCredential" not in types_of(credential, pointer=pointer):
        raise MalformedError("type must include VerifiableCredential", pointer=f"{pointer}/type")
    _check_issuer(credential, pointer)
    _check_subjects(credential.get("credentialSubject"), f"{pointer}/credentialSubject")
    _check_validity(credential, version, pointer)
    for name in ("name", "description"):
        if name in credential:
            _check_language_value(credential[name], f"{pointer}/{name}")
    for name in _TYPED_OBJECT_PROPERTIES:
        if name in credential:
            _check_typed_objects(
                credential[name], f"{pointer}/{name}", id_required=name in _ID_REQUIRED
            )
    if "relatedResource" in credential:
        _check_related_resources(credential["relatedResource"], f"{pointer}/relatedResource")
    if "proof" in credential:
        _check_proof_shape(credential["proof"], f"{pointer}/proof")
    return version


def validate_presentation(presentation: Any, *, pointer: str = "") -> Version:
    """Check a presentation's structure (VCDM 2.0 §4.13); embedded credentials are not opened.

    ``verifiableCredential`` items must be objects: secured credentials with a proof, or
    EnvelopedVerifiableCredential objects whose id is a ``data:`` URL.
    """
    if not isinstance(presentation, dict):
        raise MalformedError("a presentation must be a JSON object", pointer=pointer or "/")
    version = context_version(presentation, pointer=pointer)
    _check_id(presentation, pointer)
    if "VerifiablePresentation" not in types_of(presentation, pointer=pointer):
        raise MalformedError("type must include VerifiablePresentation", pointer=f"{pointer}/type")
    if "holder" in presentation:
        holder = presentation["holder"]
        holder_id = holder.get("id") if isinstance(holder, dict) else holder
        if not is_url(holder_id):
            raise MalformedError(
                "holder must be a URL or an object with a URL id", pointer=f"{pointer}/holder"
            )
    for i, item in enumerate(as_list(presentation.get("verifiableCredential", []))):
        where = f"{pointer}/verifiableCredential/{i}"
        if not isinstance(item, dict):
            raise MalformedError("each verifiableCredential must be an object", pointer=where)
        if is_enveloped(item):
            enveloped_payload(item, pointer=where)
    if "proof" in presentation:
        _check_proof_shape(presentation["proof"], f"{pointer}/proof")
    return version


#: How deep a JSON document we verify may nest (objects and arrays). Credentials need about
#: ten levels; the JSON-LD, JCS and copying steps after this are recursive, and a document
#: nested hundreds deep would hit the interpreter's recursion limit in one of them.
MAX_DEPTH: Final = 64


def check_depth(value: Any, *, limit: int = MAX_DEPTH, pointer: str = "") -> None:
    """Refuse a JSON value nesting objects and arrays deeper than ``limit`` (iteratively).

    Raises MalformedError with the pointer of the first container past the limit.
    """
    stack: list[tuple[Any, int, str]] = [(value, 1, pointer)]
    while stack:
        item, depth, where = stack.pop()
        if isinstance(item, dict):
            children: Any = ((str(k), v) for k, v in item.items())
        elif isinstance(item, list):
            children = ((str(i), v) for i, v in enumerate(item))
        else:
            continue
        if depth > limit:
            raise MalformedError(f"nested deeper than {limit} levels", pointer=where or "/")
        for name, child in children:
            if isinstance(child, dict | list):
                escaped = name.replace("~", "~0").replace("/", "~1")
                stack.append((child, depth + 1, f"{where}/{escaped}"))


def as_list(value: Any) -> list[Any]:
    """A JSON-LD set as a list: a single value becomes a one-item list."""
    return value if isinstance(value, list) else [value]


def is_enveloped(document: Mapping[str, Any], kind: str = "EnvelopedVerifiableCredential") -> bool:
    """Whether ``document`` has the type ``kind`` (an enveloped credential by default)."""
    types = document.get("type")
    return types == kind or (isinstance(types, list) and kind in types)


def enveloped_payload(
    document: Mapping[str, Any],
    *,
    pointer: str = "",
    media_types: frozenset[str] = _ENVELOPED_MEDIA_TYPES,
) -> tuple[str, str | bytes]:
    """The (media type, data) carried by an enveloped credential's (or presentation's)
    ``data:`` URL; ``media_types`` are those accepted.

    The data is text, or bytes for a binary media type (``BINARY_MEDIA_TYPES``: COSE, which
    must be base64-encoded). VCDM 2.0 §4.13; RFC 2397. Raises MalformedError /
    UnsupportedError.
    """
    value = document.get("id")
    if not isinstance(value, str) or not value.startswith("data:") or "," not in value:
        raise MalformedError(
            "an enveloped credential's id must be a data: URL", pointer=f"{pointer}/id"
        )
    header, _, data = value[5:].partition(",")
    media_type, *params = header.split(";")
    binary = media_type in BINARY_MEDIA_TYPES
    if binary and media_type not in media_types:
        raise UnsupportedError(
            f"unsupported enveloped media type {media_type!r}", pointer=f"{pointer}/id"
        )
    if binary and "base64" not in params:
        raise MalformedError(
            f"a {media_type} data: URL must be base64-encoded (VC-JOSE-COSE §3.3.1)",
            pointer=f"{pointer}/id",
        )
    if binary:
        try:
            return media_type, base64.b64decode(data, validate=True)
        except ValueError as exc:
            raise MalformedError("invalid base64 in data: URL", pointer=f"{pointer}/id") from exc
    if "base64" in params:
        try:
            data = base64.b64decode(data, validate=True).decode("utf-8")
        except ValueError as exc:
            raise MalformedError("invalid base64 in data: URL", pointer=f"{pointer}/id") from exc
    elif "%" in data:
        try:
            data = unquote_to_bytes(data).decode("utf-8", errors="strict")
        except UnicodeDecodeError as exc:  # found by fuzzing: it escaped verify_presentation()
            raise MalformedError(
                "the data: URL is not UTF-8 once percent-decoded", pointer=f"{pointer}/id"
            ) from exc
    if media_type not in media_types:
        raise UnsupportedError(
            f"unsupported enveloped media type {media_type!r}", pointer=f"{pointer}/id"
        )
    return media_type, data


def check_related_resource(entry: Mapping[str, Any], content: bytes, *, pointer: str = "") -> None:
    """Check a relatedResource's digestSRI / digestMultibase against the resource's bytes.

    VCDM 2.0 §5.3. Raises DigestMismatchError if any digest present does not match.
    """
    sri = entry.get("digestSRI")
    if sri is not None:
        match = _DIGEST_SRI.fullmatch(str(sri))
        if match is None:
            raise MalformedError(
                "digestSRI must be alg-base64 (sha256/384/512)", pointer=f"{pointer}/digestSRI"
            )
        expected = base64.b64decode(match.group(2))
        if not hmac.compare_digest(_SRI_HASH[match.group(1)](content).digest(), expected):
            raise DigestMismatchError(
                "the resource does not match its digestSRI", pointer=f"{pointer}/digestSRI"
            )
    multibase = entry.get("digestMultibase")
    if multibase is not None:
        digest = multibase_decode(str(multibase), pointer=f"{pointer}/digestMultibase")
        if len(digest) >= 2 and digest[0] in _MULTIHASH and digest[1] == _MULTIHASH[digest[0]][1]:
            expected, algorithm = digest[2:], _MULTIHASH[digest[0]][0]
        elif len(digest) == 32:  # a bare SHA-256 digest, as the VCDM examples use
            expected, algorithm = digest, hashlib.sha256
        else:
            raise MalformedError(
                "unrecognised digestMultibase", pointer=f"{pointer}/digestMultibase"
            )
        if not hmac.compare_digest(algorithm(content).digest(), expected):
            raise DigestMismatchError(
                "the resource does not match its digestMultibase",
                pointer=f"{pointer}/digestMultibase",
            )


def _check_id(document: Mapping[str, Any], pointer: str) -> None:
    if "id" in document and not is_url(document["id"]):
        raise MalformedError("id must be a URL", pointer=f"{pointer}/id")


def _check_issuer(credential: Mapping[str, Any], pointer: str) -> None:
    issuer = credential.get("issuer")
    where = f"{pointer}/issuer"
    if issuer is None:
        raise MalformedError("issuer is required", pointer=where)
    if isinstance(issuer, dict):
        if not is_url(issuer.get("id")):
            raise MalformedError("issuer.id must be a URL", pointer=f"{where}/id")
        for name in ("name", "description"):
            if name in issuer:
                _check_language_value(issuer[name], f"{where}/{name}")
    elif not is_url(issuer):
        raise MalformedError("issuer must be a URL or an object with a URL id", pointer=where)


def _check_subjects(subjects: Any, pointer: str) -> None:
    if subjects is None:
        raise MalformedError("credentialSubject is required", pointer=pointer)
    items = as_list(subjects)
    if not items:
        raise MalformedError("credentialSubject must not be empty", pointer=pointer)
    for i, subject in enumerate(items):
        where = pointer if not isinstance(subjects, list) else f"{pointer}/{i}"
        if not isinstance(subject, dict) or not subject:
            raise MalformedError("each credentialSubject must be a non-empty object", pointer=where)
        if "id" in subject and not is_url(subject["id"]):
            raise MalformedError("credentialSubject.id must be a URL", pointer=f"{where}/id")


def _check_validity(credential: Mapping[str, Any], version: Version, pointer: str) -> None:
    names = ("validFrom", "validUntil") if version == "2.0" else ("issuanceDate", "expirationDate")
    start_name, end_name = names
    if version == "1.1" and start_name not in credential:
        raise MalformedError(
            "issuanceDate is required in a VC 1.1 credential", pointer=f"{pointer}/issuanceDate"
        )
    start = end = None
    if start_name in credential:
        start = parse_datetime(credential[start_name], pointer=f"{pointer}/{start_name}")
    if end_name in credential:
        end = parse_datetime(credential[end_name], pointer=f"{pointer}/{end_name}")
    if start and end and end < start:
        raise MalformedError(
            f"{end_name} must not be earlier than {start_name}", pointer=f"{pointer}/{end_name}"
        )


def _check_language_value(value: Any, pointer: str) -> None:
    for i, item in enumerate(as_list(value)):
        where = pointer if not isinstance(value, list) else f"{pointer}/{i}"
        if isinstance(item, str):
            continue
        if not isinstance(item, dict) or not isinstance(item.get("@value"), str):
            raise MalformedError("must be a string or a language value object", pointer=where)
        extra = set(item) - {"@value", "@language", "@direction"}
        if extra:
            raise MalformedError(
                f"unexpected members in a language value: {sorted(extra)}", pointer=where
            )


def _check_typed_objects(value: Any, pointer: str, *, id_required: bool) -> None:
    for i, item in enumerate(as_list(value)):
        where = pointer if not isinstance(value, list) else f"{pointer}/{i}"
        if not isinstance(item, dict):
            raise MalformedError("must be an object", pointer=where)
        types_of(item, pointer=where)
        if "id" in item and not is_url(item["id"]):
            raise MalformedError("id must be a URL", pointer=f"{where}/id")
        if id_required and "id" not in item:
            raise MalformedError("id is required", pointer=f"{where}/id")


def _check_related_resources(value: Any, pointer: str) -> None:
    seen: set[str] = set()
    for i, item in enumerate(as_list(value)):
        where = pointer if not isinstance(value, list) else f"{pointer}/{i}"
        if not isinstance(item, dict) or not is_url(item.get("id")):
            raise MalformedError("a related resource needs a URL id", pointer=where)
        if item["id"] in seen:
            raise MalformedError("each related resource id must be unique", pointer=f"{where}/id")
        seen.add(item["id"])
        if "digestSRI" not in item and "digestMultibase" not in item:
            raise MalformedError(
                "a related resource needs digestSRI or digestMultibase", pointer=where
            )


def _check_proof_shape(value: Any, pointer: str) -> None:
    for i, item in enumerate(as_list(value)):
        where = pointer if not isinstance(value, list) else f"{pointer}/{i}"
        if not isinstance(item, dict):
            raise MalformedError("a proof must be an object", pointer=where)
        types_of(item, pointer=where)
