"""``BitstringStatusListCredential``: build one (issuer) and read one (verifier) (§2.2).

https://www.w3.org/TR/vc-bitstring-status-list/#bitstringstatuslistcredential

The verifier also reads the lists that preceded it, ``StatusList2021Credential`` and
``RevocationList2020Credential`` (never built here, docs/legacy.md): the same GZIP bitstring,
base64url without the multibase prefix, one bit per entry.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from vcred.errors import MalformedError, UsageError
from vcred.model import parse_datetime
from vcred.status.codec import (
    DEFAULT_MAX_BITSTRING_BYTES,
    MAX_STATUS_SIZE,
    MIN_ENTRIES,
    Bitstring,
    MutableBitstring,
    decode_bitstring,
    encode_bitstring,
)
from vcred.status.entry import (
    ENTRY_TYPE,
    REVOCATION_LIST_2020_STATUS,
    STATUS_LIST_2021_ENTRY,
)

VC_V2_CONTEXT: Final = "https://www.w3.org/ns/credentials/v2"
LIST_CREDENTIAL_TYPE: Final = "BitstringStatusListCredential"
LIST_SUBJECT_TYPE: Final = "BitstringStatusList"
#: Largest ``ttl`` we read: the largest integer JSON carries exactly (RFC 7493 §2.2), some
#: 285,000 years. Larger values are refused, not clamped; a verifier caps the TTL anyway.
MAX_TTL_MS: Final = 2**53 - 1
#: List credential type → (its subject's type, the entry type it answers, its fixed purpose).
_LIST_KINDS: Final[dict[str, tuple[str, str, str | None]]] = {
    LIST_CREDENTIAL_TYPE: (LIST_SUBJECT_TYPE, ENTRY_TYPE, None),
    "StatusList2021Credential": ("StatusList2021", STATUS_LIST_2021_ENTRY, None),
    "RevocationList2020Credential": (
        "RevocationList2020",
        REVOCATION_LIST_2020_STATUS,
        "revocation",
    ),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class StatusList:
    """A verified status list credential, reduced to what status checks need."""

    url: str
    issuer: str
    purposes: tuple[str, ...]
    bits: Bitstring
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    #: ``credentialSubject.ttl``: how long to use it before fetching again (§2.2).
    ttl: timedelta | None = None
    #: ``credentialSubject.statusSize`` when the list states one (drafts before April 2024 did;
    #: the entry states it now), which must then be the entry's.
    status_size: int | None = None
    #: The entry type this list answers (a legacy list answers only its own entries).
    entry_type: str = ENTRY_TYPE
    #: (JWK thumbprint, signing time) of each key whose proof verified, as ``verify_list``
    #: reported them (:class:`vcred.status.VerifiedList`): held with the list, so a checker
    #: that pins keys judges them on every read, whoever fetched it into a shared cache.
    signing_keys: tuple[tuple[str, datetime | None], ...] = ()


def format_datetime(moment: datetime) -> str:
    """An XML Schema dateTimeStamp in UTC, to the second (``2025-05-15T12:00:00Z``)."""
    if moment.tzinfo is None:
        raise UsageError("datetimes must be timezone-aware")
    utc = moment.astimezone(UTC)
    # strftime writes the year 999 as "999": no dateTimeStamp, and it sorts after "2026"
    return f"{utc.year:04d}" + utc.strftime("-%m-%dT%H:%M:%SZ")


def format_moment(moment: datetime) -> str:
    """``moment`` as an XML Schema dateTimeStamp in UTC, exactly: to the second, or to the
    microsecond when it has a fraction. A moment is stated as it was — to the second only,
    ``12:00:00.7`` reads as ``12:00:00``, a moment at which something that came into force at
    ``12:00:00.5`` was not in force yet (and two versions signed within one second had one
    date)."""
    stamp = format_datetime(moment)
    if moment.microsecond == 0:
        return stamp
    return f"{stamp[:-1]}.{moment.microsecond:06d}Z"


def issuer_id(credential: Mapping[str, Any], *, pointer: str = "/issuer") -> str:
    """The issuer's identifier: ``issuer`` itself or its ``id`` (VCDM 2.0 §4.7)."""
    issuer = credential.get("issuer")
    if isinstance(issuer, Mapping):
        issuer = issuer.get("id")
        pointer += "/id"
    if not isinstance(issuer, str) or not issuer:
        raise MalformedError("issuer must be a URL or an object with an id", pointer=pointer)
    return issuer


def build_status_list_credential(
    *,
    list_url: str,
    issuer: str | Mapping[str, Any],
    purpose: str | Sequence[str],
    bitstring: Bitstring | MutableBitstring | bytes,
    valid_from: datetime,
    valid_until: datetime | None = None,
    ttl: timedelta | None = None,
    status_size: int = 1,
    min_entries: int = MIN_ENTRIES,
) -> dict[str, Any]:
    """An unsigned ``BitstringStatusListCredential`` (VCDM 2.0) ready to be secured (§3.1).

    https://www.w3.org/TR/vc-bitstring-status-list/#generate-algorithm

    The v2 context alone defines every status term. ``credentialSubject.id`` is
    ``list_url#list``. ``status_size`` is how many bits an entry takes in ``bitstring``; it is
    not stated on the list, nor are status messages: each ``BitstringStatusListEntry`` states
    its ``statusSize`` and ``statusMessage``, committed to at issuance (§2.1; the v2 context
    defines neither term on ``BitstringStatusList``, so a Data Integrity proof could not
    cover them there). Raises UsageError for a list shorter than ``min_entries`` entries or a
    validity period that ends before it starts.
    """
    if valid_until is not None and valid_until <= valid_from:
        raise UsageError("validUntil must be after validFrom")
    if isinstance(bitstring, MutableBitstring):
        if bitstring.status_size != status_size:
            raise UsageError("the bitstring's statusSize differs from status_size")
        bitstring = bitstring.freeze()
    purposes = [purpose] if isinstance(purpose, str) else list(purpose)
    if not purposes or not all(isinstance(p, str) and p for p in purposes):
        raise UsageError("purpose must be one or more non-empty strings")
    subject: dict[str, Any] = {
        "id": f"{list_url}#list",
        "type": LIST_SUBJECT_TYPE,
        "statusPurpose": purposes[0] if len(purposes) == 1 else purposes,
        "encodedList": encode_bitstring(
            bitstring, status_size=status_size, min_entries=min_entries
        ),
    }
    if ttl is not None:
        if not timedelta(0) <= ttl <= timedelta(milliseconds=MAX_TTL_MS):
            raise UsageError(f"ttl must be from 0 to {MAX_TTL_MS} ms")
        subject["ttl"] = int(ttl / timedelta(milliseconds=1))
    credential: dict[str, Any] = {
        "@context": [VC_V2_CONTEXT],
        "id": list_url,
        "type": ["VerifiableCredential", LIST_CREDENTIAL_TYPE],
        "issuer": dict(issuer) if isinstance(issuer, Mapping) else issuer,
        # to the microsecond when signed within a second: versions signed within one second
        # (a suspension lifted at once) are each told by their own validFrom
        "validFrom": format_moment(valid_from),
    }
    if valid_until is not None:
        credential["validUntil"] = format_moment(valid_until)
    credential["credentialSubject"] = subject
    return credential


def parse_status_list_credential(
    credential: Mapping[str, Any], *, url: str, max_bytes: int = DEFAULT_MAX_BITSTRING_BYTES
) -> StatusList:
    """Read a *verified* status list credential fetched from ``url`` (§2.2, §3.2 steps 4–8).

    https://www.w3.org/TR/vc-bitstring-status-list/#validate-algorithm

    Checks the types, that its ``id`` is ``url`` (§2.2: a list must not be replayed under
    another list's URL), and expands ``encodedList``. A ``StatusList2021Credential`` or
    ``RevocationList2020Credential`` is read the same way (a VC 1.1 list's ``issuanceDate`` /
    ``expirationDate`` bound it as ``validFrom`` / ``validUntil`` do). Raises MalformedError
    for a structural fault and StatusListLengthError when the list expands past ``max_bytes``.
    """
    types = credential.get("type")
    kinds = (
        [t for t in types if isinstance(t, str) and t in _LIST_KINDS]
        if isinstance(types, list)
        else []
    )
    if len(kinds) != 1:
        raise MalformedError(
            "type must include exactly one of " + ", ".join(sorted(_LIST_KINDS)), pointer="/type"
        )
    subject_type, entry_type, fixed_purpose = _LIST_KINDS[kinds[0]]
    # §2.2: the list's id MUST be the entry's statusListCredential — the signature binds the
    # list to its URL, so a list naming none cannot be replayed at another list's URL
    if credential.get("id") != url:
        raise MalformedError(
            f"the status list credential's id is not the URL it was fetched from ({url})",
            pointer="/id",
        )
    subject = credential.get("credentialSubject")
    if not isinstance(subject, Mapping):
        raise MalformedError(
            f"credentialSubject must be one {subject_type} object",
            pointer="/credentialSubject",
        )
    kind = subject.get("type")
    if kind != subject_type and not (isinstance(kind, list) and subject_type in kind):
        raise MalformedError(
            f"credentialSubject.type must be {subject_type}", pointer="/credentialSubject/type"
        )
    purposes = (
        (fixed_purpose,) if fixed_purpose is not None else _purposes(subject.get("statusPurpose"))
    )
    ttl_ms = _optional_int(subject, "ttl", low=0, high=MAX_TTL_MS, what="ttl (milliseconds)")
    size = _optional_int(subject, "statusSize", low=1, high=MAX_STATUS_SIZE, what="statusSize")
    encoded = subject.get("encodedList")
    if not isinstance(encoded, str):
        raise MalformedError(
            "encodedList must be a string", pointer="/credentialSubject/encodedList"
        )
    if entry_type != ENTRY_TYPE:
        # the legacy lists are base64url without a multibase prefix; the codec reads 'u' + it.
        # Any text that already starts with 'u' stays one character longer: never ambiguous.
        encoded = "u" + encoded
    bits = decode_bitstring(encoded, max_bytes=max_bytes, pointer="/credentialSubject/encodedList")
    return StatusList(
        url=url,
        issuer=issuer_id(credential),
        purposes=purposes,
        bits=bits,
        valid_from=_optional_datetime(credential, "validFrom", "issuanceDate"),
        valid_until=_optional_datetime(credential, "validUntil", "expirationDate"),
        ttl=None if ttl_ms is None else timedelta(milliseconds=ttl_ms),
        status_size=size,
        entry_type=entry_type,
    )


def _optional_int(
    subject: Mapping[str, Any], name: str, *, low: int, high: int, what: str
) -> int | None:
    """``credentialSubject.<name>`` as an integer in [low, high], or None when absent.

    Bounded before it becomes a duration or a size: a ttl of 10**400 ms is no timedelta.
    """
    value = subject.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise MalformedError(
            f"{what} must be an integer from {low} to {high}",
            pointer=f"/credentialSubject/{name}",
        )
    return value


def _purposes(value: object) -> tuple[str, ...]:
    # §2.2: "one or more strings"
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(p, str) and p for p in items):
        raise MalformedError(
            "statusPurpose must be one or more non-empty strings",
            pointer="/credentialSubject/statusPurpose",
        )
    return tuple(items)


def _optional_datetime(credential: Mapping[str, Any], *names: str) -> datetime | None:
    """The first of ``names`` the credential has (VCDM 2.0's name, then VC 1.1's), or None."""
    for name in names:
        if name in credential:
            return parse_datetime(credential[name], pointer=f"/{name}", in_utc=True)
    return None
