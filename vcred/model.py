"""Structure rules of the Verifiable Credentials Data Model (v2.0, and reading v1.1).

https://www.w3.org/TR/vc-data-model-2.0/#basic-concepts — each rule raises a
:class:`~vcred.errors.MalformedError` with the JSON Pointer of the offending member. These
checks are shape-only; signatures, time windows and status are checked elsewhere.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import math
import re
import sys
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, Final, Literal

from vcred import urls
from vcred._pointer import child as child_pointer
from vcred.errors import DigestMismatchError, MalformedError, UnsupportedError
from vcred.multibase import multibase_decode

V2_CONTEXT: Final = "https://www.w3.org/ns/credentials/v2"
V1_CONTEXT: Final = "https://www.w3.org/2018/credentials/v1"
DATA_INTEGRITY_V2_CONTEXT: Final = "https://w3id.org/security/data-integrity/v2"

Version = Literal["2.0", "1.1"]

# Media types an EnvelopedVerifiableCredential may carry: VC-JOSE-COSE §3.1.1 and §3.2.1, an
# unsecured credential, and an IETF SD-JWT VC (draft-ietf-oauth-sd-jwt-vc, dc+sd-jwt). A plain
# application/jwt (RFC 7519 §10.3.1, what the VCDM 2.0 test suite envelopes) is a vc+jwt: the
# media type is an unsigned hint, the token's signed typ header decides (vcred.jose).
_ENVELOPED_MEDIA_TYPES: Final = frozenset(
    {
        "application/vc+jwt",
        "application/jwt",
        "application/vc+sd-jwt",
        "application/dc+sd-jwt",
        "application/vc",
        "application/vc+cose",
    }
)

# ... and an EnvelopedVerifiablePresentation (VCDM 2.0 §4.13.2): a vp+jwt (or application/jwt)
# or vp+cose, or an SD-JWT with its key-binding JWT (RFC 9901 §4.3). Others (vp+sd-jwt) are
# UNSUPPORTED until a proof stage for them is registered.
ENVELOPED_PRESENTATION_MEDIA_TYPES: Final = frozenset(
    {
        "application/vp+jwt",
        "application/jwt",
        "application/vp+cose",
        "application/vc+sd-jwt",
        "application/dc+sd-jwt",
    }
)

# Binary media types: their data: URL is base64 (VC-JOSE-COSE §3.3.1) and carries bytes.
BINARY_MEDIA_TYPES: Final = frozenset({"application/vc+cose", "application/vp+cose"})
#: How such bytes start: a tagged COSE_Sign1 is tag 18 (one byte) and an array of four
#: (RFC 9052 §4.2). Format detection and vcred.cose use it.
COSE_SIGN1_PREFIX: Final = b"\xd2\x84"

# XML Schema 1.1 dateTimeStamp: a dateTime with a mandatory time zone offset, -14:00..+14:00
# (timezoneFrag; the regular expression of VCDM 2.0 §4.9).
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
#: multihash code → (hash name, digest length): sha2-256, sha2-384, sha2-512
_MULTIHASH: Final = {0x12: ("sha256", 32), 0x20: ("sha384", 48), 0x13: ("sha512", 64)}
#: The longest digestMultibase read: a code, a length and a SHA-512 digest (a longer value is
#: refused before it is decoded: base58btc decoding grows faster than its input).
_MULTIHASH_MAX_BYTES: Final = 2 + 64
Digest = tuple[str, bytes, str]
"""A stated digest: (hashlib name, digest bytes, JSON Pointer of the value)."""


#: Whether a value is an absolute URL ("URL" in VCDM 2.0), read by :mod:`vcred.urls` (the
#: function itself: the data-model rules ask it several times per verification).
is_url: Final = urls.is_url


def parse_datetime(value: object, *, pointer: str, in_utc: bool = False) -> datetime:
    """Parse an XSD dateTimeStamp into an aware datetime: the one reader of every
    dateTimeStamp (credentials, status and trust lists, ``options.asOf``, ``?timestamp=``).
    Raises MalformedError for anything else — an offset beyond ±14:00 (XML Schema's
    ``timezoneFrag``) included. ``in_utc``: also for a stamp no UTC datetime holds (its offset
    carries it past the year 1 or 9999), where the moment is taken in UTC.

    https://www.w3.org/TR/xmlschema11-2/#dateTimeStamp
    """
    if not isinstance(value, str):
        raise MalformedError("must be an XML Schema dateTimeStamp string", pointer=pointer)
    parsed = _parse_date_time_stamp(value)
    if isinstance(parsed, str):
        raise MalformedError(parsed, pointer=pointer)
    if in_utc:
        try:
            parsed.astimezone(UTC)
        except OverflowError as exc:
            raise MalformedError(
                "no UTC date-time: its offset carries it past the year 1 or 9999", pointer=pointer
            ) from exc
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
    if context is None:
        raise MalformedError("@context is required", pointer=f"{pointer}/@context")
    items = [context] if isinstance(context, str) else context
    if not isinstance(items, list) or not items:
        raise MalformedError(
            "@context must be an ordered set (a JSON array)", pointer=f"{pointer}/@context"
        )
    first = items[0]
    if first == V2_CONTEXT:
        version: Version = "2.0"
    elif first == V1_CONTEXT:
        version = "1.1"
    else:
        raise MalformedError(
            f"the first @context item must be {V2_CONTEXT}", pointer=f"{pointer}/@context/0"
        )
    for i in range(1, len(items)):
        item = items[i]
        if not (is_url(item) if isinstance(item, str) else isinstance(item, dict)):
            raise MalformedError(
                "a @context item must be a URL or an object", pointer=f"{pointer}/@context/{i}"
            )
    return version


def types_of(document: Mapping[str, Any], *, pointer: str = "") -> list[str]:
    """The ``type`` values (a string or an array of strings). Raises MalformedError."""
    value = document.get("type")
    if value is None:
        raise MalformedError("type is required", pointer=f"{pointer}/type")
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not values:
        raise MalformedError(
            "type must be a string or a non-empty array of strings", pointer=f"{pointer}/type"
        )
    for i, item in enumerate(values):
        if not isinstance(item, str) or not item:
            raise MalformedError(
                "each type must be a non-empty string", pointer=f"{pointer}/type/{i}"
            )
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
    _check_subjects(credential.get("credentialSubject"), pointer)
    _check_validity(credential, version, pointer)
    for name in ("name", "description"):
        if name in credential:
            _check_language_value(credential[name], pointer, name)
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

    Raises MalformedError with the pointer of the first container past the limit. Every
    verification walks its input once without pointers; only a refusal walks it again.
    """
    if _carried_by_json(value, limit)[1] < 0:  # or another fault: not this check's
        _locate_depth(value, limit, pointer)


def _locate_depth(value: Any, limit: int, pointer: str) -> None:
    stack: list[tuple[Any, int, str]] = [(value, 1, pointer)]
    while stack:
        item, depth, where = stack.pop()
        if isinstance(item, dict):
            children: Any = ((_member_name(k), v) for k, v in item.items())
        elif isinstance(item, list):
            children = ((str(i), v) for i, v in enumerate(item))
        else:
            continue
        if depth > limit:
            raise MalformedError(f"nested deeper than {limit} levels", pointer=where or "/")
        for name, child in children:
            if isinstance(child, dict | list):
                stack.append((child, depth + 1, child_pointer(where, name)))


def _member_name(name: Any) -> str:
    """A member name as a pointer step; one that is no string by its type (str() of an int
    past 4300 digits raises ValueError)."""
    return name if isinstance(name, str) else f"<{type(name).__name__}>"


#: The largest magnitude a JSON number may have: what an IEEE 754 double holds (RFC 8259 §6,
#: I-JSON RFC 7493 §2.2). Past it a number becomes ``inf`` or an OverflowError as soon as
#: anything turns it into a float (JSON-LD literals, JCS, NumericDates).
MAX_JSON_NUMBER: Final = sys.float_info.max


def number_in_range(value: Any) -> bool:
    """Whether a JSON number is one a double holds: finite, at most ±MAX_JSON_NUMBER.

    Anything that is not a number (booleans included) is in range.
    """
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return abs(value) <= MAX_JSON_NUMBER  # an exact comparison, never converted
    return True


def check_numbers(value: Any, *, pointer: str = "") -> None:
    """Refuse a JSON value holding a number no double can hold (``1e400``, ``10**400``, NaN).

    Raises MalformedError with the pointer of the first such number, in document order.
    Every verification walks its input once without pointers; only a refusal walks it again.
    """
    if _carried_by_json(value, sys.maxsize)[1] < 0:  # or a lone surrogate: not this check's
        _locate_number(value, pointer)


def _locate_number(value: Any, pointer: str) -> None:
    _locate(value, pointer, _number_fault)


def _number_fault(item: Any) -> str | None:
    if number_in_range(item):
        return None
    return (
        "a number out of range: JSON numbers must be finite doubles "
        f"(at most {MAX_JSON_NUMBER:.3e} in magnitude)"
    )


def _locate(value: Any, pointer: str, fault: Callable[[Any], str | None]) -> None:
    """Raise MalformedError at the first value, in document order, of which ``fault`` tells
    a fault (an object is asked before its members: its member names are its own)."""
    stack: list[tuple[Any, str]] = [(value, pointer)]
    while stack:
        item, where = stack.pop()
        problem = fault(item)
        if problem is not None:
            raise MalformedError(problem, pointer=where or "/")
        if isinstance(item, dict):
            children: list[tuple[str, Any]] = [(_member_name(k), v) for k, v in item.items()]
        elif isinstance(item, list):
            children = [(str(i), v) for i, v in enumerate(item)]
        else:
            continue
        for name, child in reversed(children):
            stack.append((child, child_pointer(where, name)))


#: A surrogate code point: half of a UTF-16 pair, never a character. A Python string holds one
#: alone (JSON's ``\ud800`` escape decodes to it); UTF-8 cannot carry it.
_SURROGATE: Final = re.compile("[\ud800-\udfff]")


def is_unicode(text: str) -> bool:
    """Whether ``text`` is Unicode text: no lone surrogate (I-JSON, RFC 7493 §2.1; RFC 8259
    §8.2). ASCII is told by one call; only other text is searched."""
    return text.isascii() or _SURROGATE.search(text) is None


def check_text(value: Any, *, pointer: str = "") -> None:
    """Refuse a JSON value holding a member name or string that is not Unicode text.

    A lone surrogate is not I-JSON (RFC 7493 §2.1): no UTF-8 carries it, so hashing, signing
    or answering it would fail. Raises MalformedError with the pointer of the first such
    string in document order (for a member name: the object holding it). Most values are
    walked once, without pointers.
    """
    if _carried_by_json(value, sys.maxsize)[1] < 0:  # or a number out of range: not ours
        _locate_text(value, pointer)


def _locate_text(value: Any, pointer: str) -> None:
    _locate(value, pointer, _text_fault)


def _text_fault(item: Any) -> str | None:
    if isinstance(item, str) and not is_unicode(item):
        return _NOT_UNICODE.format("a string")
    if isinstance(item, dict) and not all(
        is_unicode(name) for name in item if isinstance(name, str)
    ):
        return _NOT_UNICODE.format("a member name")
    return None


_NOT_UNICODE: Final = "{} holds a lone surrogate: not Unicode text (I-JSON, RFC 7493 §2.1)"


def check_json(value: Any, *, limit: int = MAX_DEPTH, pointer: str = "") -> int:
    """Refuse a JSON object or array handed over as Python values that no JSON text could
    carry: :func:`check_depth`, :func:`check_numbers` and :func:`check_text` in one walk, and
    any member name that is no string or value that is no JSON value (a tuple, bytes, a
    Decimal …: JSON-LD and JCS would fail on them with TypeError, not refuse them).

    Raises MalformedError as the first of those checks that refuses it would. The walk has
    no pointers: only a refusal walks again, to locate the offender. Returns how many objects
    of ``value`` have an ``@context`` member, told by the same walk: when only the top level
    has one, reading the contexts needs no walk of its own.
    """
    return checked_copy(value, limit=limit, pointer=pointer, copy=False)[1]


def checked_copy(
    value: Any, *, limit: int = MAX_DEPTH, pointer: str = "", copy: bool = True
) -> tuple[Any, int]:
    """:func:`check_json` and :func:`copy_json` of ``value`` in one walk: the copy (``value``
    itself when not ``copy``) and how many objects have an ``@context`` member.

    A verifier that copies its input before it reads any of it verifies and reports what no
    one else holds. Raises MalformedError as :func:`check_json` does.
    """
    copied, holders = _carried_by_json(value, limit, copy=copy)
    if holders < 0:
        _locate_depth(value, limit, pointer)
        _locate_number(value, pointer)
        _locate_text(value, pointer)
        _locate(value, pointer, _type_fault)
    return copied, holders


def _carried_by_json(value: Any, limit: int, *, copy: bool = False) -> tuple[Any, int]:
    """The one walk of :func:`check_json` (and of each of its checks): -1 at the first fault
    of any of their kinds, told without pointers; else how many objects have an
    ``@context`` member. With ``copy``, also what :func:`copy_json` returns (a shallow copy
    of each object and array, made as the walk reaches it), else ``value``."""
    holders = 0
    # ``value`` as the member of a list above it: a number or string on its own is checked too
    top = [value]
    stack: list[tuple[Any, int]] = [(top, 0)]
    push = stack.append
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            # its member names are strings of Unicode text, told by one join for most
            try:
                names = "".join(item)
            except TypeError:  # a name that is no string: no JSON text writes one
                return value, -1
            if not names.isascii() and _SURROGATE.search(names):
                return value, -1
            if "@context" in item:
                holders += 1
            children: Any = item.items()
        elif isinstance(item, list):
            children = enumerate(item)
        else:
            continue
        if depth > limit:
            return value, -1
        for key, child in children:
            kind = type(child)
            if kind is str:  # most leaves: ASCII, told by one call
                if not child.isascii() and _SURROGATE.search(child):
                    return value, -1
            elif kind is dict or kind is list:  # the exact types, told without isinstance
                if copy:  # the copy replaces the original in its (copied) parent
                    child = item[key] = kind(child)
                push((child, depth + 1))
            elif kind is bool or child is None:
                continue
            elif isinstance(child, str):  # a str subclass a caller built: text all the same
                if not is_unicode(child):
                    return value, -1
            elif isinstance(child, dict | list):
                if copy:  # the copy replaces the original in its (copied) parent
                    child = item[key] = dict(child) if isinstance(child, dict) else list(child)
                push((child, depth + 1))
            elif isinstance(child, float | int):
                if not number_in_range(child):
                    return value, -1
            elif child is not None:  # no JSON value (a tuple, bytes, a Decimal …)
                return value, -1
    return top[0], holders


def _type_fault(item: Any) -> str | None:
    if isinstance(item, dict):
        if not all(isinstance(name, str) for name in item):
            return "a member name that is not a string: no JSON object has one"
        return None
    if item is None or isinstance(item, str | int | float | list):
        return None
    return f"a {type(item).__name__}: not a JSON value"


#: The types of the immutable JSON leaves (walks skip them without a call or a push each).
JSON_LEAVES: Final = frozenset({str, int, float, bool, type(None)})


def copy_json(value: Any) -> Any:
    """A deep copy of a JSON value: new objects and arrays, the immutable leaves shared.

    What ``copy.deepcopy`` gives for JSON, in a fraction of its time (no memo, no dispatch);
    anything else below is handed to ``copy.deepcopy``. The value's depth must have been
    checked (:func:`check_depth`): the copy recurses.
    """
    if isinstance(value, dict):
        return {
            name: item if type(item) in JSON_LEAVES else copy_json(item)
            for name, item in value.items()
        }
    if isinstance(value, list):
        return [item if type(item) in JSON_LEAVES else copy_json(item) for item in value]
    if value is None or isinstance(value, str | int | float):
        return value
    return copy.deepcopy(value)


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
    _check_envelope_context(document, pointer)
    where = f"{pointer}/id"
    value = document.get("id")
    if not isinstance(value, str) or not value.startswith("data:"):
        raise MalformedError("an enveloped credential's id must be a data: URL", pointer=where)
    parsed = urls.parse_data_url(value, pointer=where)
    binary = parsed.media_type in BINARY_MEDIA_TYPES
    if binary and parsed.media_type in media_types:
        if parsed.parameters[-1:] != ("base64",):
            raise MalformedError(
                f"a {parsed.media_type} data: URL must be base64-encoded (VC-JOSE-COSE §3.3.1)",
                pointer=where,
            )
        return parsed.media_type, parsed.data
    if parsed.media_type not in media_types:
        raise UnsupportedError(
            f"unsupported enveloped media type {parsed.media_type!r}", pointer=where
        )
    try:
        data = parsed.data.decode("utf-8", errors="strict")
    except UnicodeDecodeError as exc:  # found by fuzzing: it escaped verify_presentation()
        raise MalformedError("the data: URL does not carry UTF-8 text", pointer=where) from exc
    return parsed.media_type, data


def claimed_digests(entry: Mapping[str, Any], *, pointer: str = "") -> list[Digest]:
    """Every digest a relatedResource entry states: ``(hash name, digest, pointer)``.

    VCDM 2.0 §5.3: ``digestSRI`` is an SRI hash-expression (sha256/384/512 and base64),
    ``digestMultibase`` a multibase multihash (sha2-256/384/512; a bare 32-byte value is read
    as SHA-256, as the VCDM examples use); each may be one value or a list of them.
    Raises MalformedError with the pointer of a digest that cannot be read.
    """
    found: list[Digest] = []
    for name in ("digestSRI", "digestMultibase"):
        if name not in entry:
            continue
        values = entry[name]
        for index, value in enumerate(values if isinstance(values, list) else [values]):
            where = f"{pointer}/{name}" + (f"/{index}" if isinstance(values, list) else "")
            read = _read_sri if name == "digestSRI" else _read_multihash
            found.append((*read(value, pointer=where), where))
    return found


def _read_sri(value: Any, *, pointer: str) -> tuple[str, bytes]:
    match = _DIGEST_SRI.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise MalformedError("digestSRI must be alg-base64 (sha256/384/512)", pointer=pointer)
    try:
        expected = base64.b64decode(match.group(2), validate=True)
    except ValueError as exc:
        raise MalformedError("digestSRI is not valid base64", pointer=pointer) from exc
    if len(expected) != hashlib.new(match.group(1)).digest_size:
        raise MalformedError(f"a {match.group(1)} digestSRI has the wrong length", pointer=pointer)
    return match.group(1), expected


def _read_multihash(value: Any, *, pointer: str) -> tuple[str, bytes]:
    if not isinstance(value, str):
        raise MalformedError("digestMultibase must be a string", pointer=pointer)
    digest = multibase_decode(value, pointer=pointer, max_bytes=_MULTIHASH_MAX_BYTES)
    if len(digest) >= 2 and digest[0] in _MULTIHASH and digest[1] == _MULTIHASH[digest[0]][1]:
        if len(digest) - 2 == digest[1]:
            return _MULTIHASH[digest[0]][0], digest[2:]
    elif len(digest) == 32:  # a bare SHA-256 digest, as the VCDM examples use
        return "sha256", digest
    raise MalformedError("unrecognised digestMultibase", pointer=pointer)


def _check_envelope_context(document: Mapping[str, Any], pointer: str) -> None:
    """An envelope's own ``@context`` must start with the base context, which defines its
    ``id``, ``type`` and Enveloped* terms (VCDM 2.0 §4.13.1, §4.13.2; a string is that one
    context). The envelope is not signed: nothing else of it is read."""
    contexts = document.get("@context")
    first = contexts[0] if isinstance(contexts, list) and contexts else contexts
    if first != V2_CONTEXT:
        raise MalformedError(
            f"an envelope's @context must start with {V2_CONTEXT}", pointer=f"{pointer}/@context"
        )


def check_related_resource(entry: Mapping[str, Any], content: bytes, *, pointer: str = "") -> None:
    """Check a relatedResource's digestSRI / digestMultibase against the resource's bytes.

    VCDM 2.0 §5.3. Raises DigestMismatchError if any digest present does not match.
    """
    for name, expected, where in claimed_digests(entry, pointer=pointer):
        if not hmac.compare_digest(hashlib.new(name, content).digest(), expected):
            raise DigestMismatchError(
                f"the resource does not match its {name} digest", pointer=where
            )


def _check_id(document: Mapping[str, Any], pointer: str) -> None:
    if "id" in document and not is_url(document["id"]):
        raise MalformedError("id must be a URL", pointer=f"{pointer}/id")


def _check_issuer(credential: Mapping[str, Any], pointer: str) -> None:
    issuer = credential.get("issuer")
    if issuer is None:
        raise MalformedError("issuer is required", pointer=f"{pointer}/issuer")
    if isinstance(issuer, dict):
        if not is_url(issuer.get("id")):
            raise MalformedError("issuer.id must be a URL", pointer=f"{pointer}/issuer/id")
        for name in ("name", "description"):
            if name in issuer:
                _check_language_value(issuer[name], f"{pointer}/issuer", name)
    elif not is_url(issuer):
        raise MalformedError(
            "issuer must be a URL or an object with a URL id", pointer=f"{pointer}/issuer"
        )


def _check_subjects(subjects: Any, pointer: str) -> None:
    """``credentialSubject`` of the credential at ``pointer``."""
    if subjects is None:
        raise MalformedError(
            "credentialSubject is required", pointer=f"{pointer}/credentialSubject"
        )
    items = as_list(subjects)
    if not items:
        raise MalformedError(
            "credentialSubject must not be empty", pointer=f"{pointer}/credentialSubject"
        )
    for i, subject in enumerate(items):
        if not isinstance(subject, dict) or not subject:
            raise MalformedError(
                "each credentialSubject must be a non-empty object",
                pointer=_item_pointer(pointer, "credentialSubject", subjects, i),
            )
        if "id" in subject and not is_url(subject["id"]):
            raise MalformedError(
                "credentialSubject.id must be a URL",
                pointer=_item_pointer(pointer, "credentialSubject", subjects, i) + "/id",
            )


def _item_pointer(pointer: str, name: str, value: Any, index: int) -> str:
    """Where item ``index`` of member ``name`` is: the member itself when it is one value."""
    return f"{pointer}/{name}/{index}" if isinstance(value, list) else f"{pointer}/{name}"


def _check_validity(credential: Mapping[str, Any], version: Version, pointer: str) -> None:
    names = ("validFrom", "validUntil") if version == "2.0" else ("issuanceDate", "expirationDate")
    start_name, end_name = names
    if version == "1.1" and start_name not in credential:
        raise MalformedError(
            "issuanceDate is required in a VC 1.1 credential", pointer=f"{pointer}/issuanceDate"
        )
    start = end = None
    if start_name in credential:
        start = _datetime_member(credential, start_name, pointer)
    if end_name in credential:
        end = _datetime_member(credential, end_name, pointer)
    if start and end and end < start:
        raise MalformedError(
            f"{end_name} must not be earlier than {start_name}", pointer=f"{pointer}/{end_name}"
        )


def _datetime_member(document: Mapping[str, Any], name: str, pointer: str) -> datetime:
    """``document[name]`` as a dateTimeStamp (``pointer`` is the document's)."""
    value = document[name]
    parsed = _parse_date_time_stamp(value) if isinstance(value, str) else None
    if isinstance(parsed, datetime):
        return parsed
    return parse_datetime(value, pointer=f"{pointer}/{name}")  # raises, saying why


def _check_language_value(value: Any, pointer: str, name: str) -> None:
    """Member ``name`` of the object at ``pointer``: a string or language value object(s)."""
    if isinstance(value, str):
        return
    for i, item in enumerate(as_list(value)):
        if isinstance(item, str):
            continue
        where = _item_pointer(pointer, name, value, i)
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
        claimed_digests(item, pointer=where)  # each digest readable


def _check_proof_shape(value: Any, pointer: str) -> None:
    for i, item in enumerate(as_list(value)):
        where = pointer if not isinstance(value, list) else f"{pointer}/{i}"
        if not isinstance(item, dict):
            raise MalformedError("a proof must be an object", pointer=where)
        types_of(item, pointer=where)
