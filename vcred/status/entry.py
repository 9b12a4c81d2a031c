"""``BitstringStatusListEntry``: the ``credentialStatus`` object (Bitstring Status List §2.1).

https://www.w3.org/TR/vc-bitstring-status-list/#bitstringstatuslistentry

Credentials already in the wild also carry the two entry types that preceded it, read here into
the same :class:`BitstringStatusListEntry` (one bit per entry) and checked the same way; they
are never issued (docs/legacy.md):

- ``StatusList2021Entry``: ``statusPurpose``, ``statusListIndex``, ``statusListCredential``;
- ``RevocationList2020Status``: ``revocationListIndex``, ``revocationListCredential``; the
  purpose is revocation.

https://www.w3.org/community/reports/credentials/CG-FINAL-vc-status-list-2021-20230102/ ·
https://w3c-ccg.github.io/vc-status-rl-2020/
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from vcred.errors import MalformedError, UsageError
from vcred.status.codec import MAX_STATUS_SIZE
from vcred.urls import is_url, parse_url

ENTRY_TYPE: Final = "BitstringStatusListEntry"
STATUS_LIST_2021_ENTRY: Final = "StatusList2021Entry"
REVOCATION_LIST_2020_STATUS: Final = "RevocationList2020Status"
#: Entry type → (its index member, its list member); the legacy types are read, never issued.
_LEGACY_MEMBERS: Final = {
    STATUS_LIST_2021_ENTRY: ("statusListIndex", "statusListCredential"),
    REVOCATION_LIST_2020_STATUS: ("revocationListIndex", "revocationListCredential"),
}
ENTRY_TYPES: Final = frozenset({ENTRY_TYPE, *_LEGACY_MEMBERS})
#: §2.1: the purposes with a defined meaning; any other string is allowed and reported as is.
PURPOSES: Final = ("refresh", "revocation", "suspension", "message")
#: §2.1: once set, these cannot be cleared.
IRREVERSIBLE_PURPOSES: Final = frozenset({"revocation", "refresh"})
#: §2.1: the message of a status value that is "not defined … but may be defined in the future".
UNDEFINED_MESSAGE: Final = "undefined"

_INDEX: Final = re.compile(r"[0-9]{1,20}")  # base-10; 20 digits is past any list we accept
_HEX_STATUS: Final = re.compile(r"0x[0-9a-fA-F]{1,16}")


@dataclass(frozen=True, slots=True, kw_only=True)
class StatusMessage:
    """One element of ``statusMessage``: a status value and its (developer-facing) message."""

    status: int
    message: str

    def to_json(self) -> dict[str, str]:
        return {"status": hex(self.status), "message": self.message}


@dataclass(frozen=True, slots=True, kw_only=True)
class BitstringStatusListEntry:
    """A validated ``BitstringStatusListEntry``.

    ``index`` is ``statusListIndex`` as an integer; ``list_url`` is ``statusListCredential``.
    ``entry_type`` is the ``type`` it was read from: a legacy entry must be answered by a list
    of its own kind (:data:`ENTRY_TYPES`).
    """

    purpose: str
    index: int
    list_url: str
    status_size: int = 1
    status_messages: tuple[StatusMessage, ...] = ()
    status_reference: tuple[str, ...] = ()
    id: str | None = None
    entry_type: str = ENTRY_TYPE

    def __post_init__(self) -> None:
        # Built by an issuer: refuse what parse() would refuse, so we never issue it.
        _check_entry(self, pointer="", error=_EntryRuleError)

    @classmethod
    def parse(cls, value: object, *, pointer: str = "") -> BitstringStatusListEntry:
        """Parse and validate a ``credentialStatus`` object of this type (§2.1).

        https://www.w3.org/TR/vc-bitstring-status-list/#bitstringstatuslistentry

        Raises MalformedError (MALFORMED_VALUE_ERROR, §3) with a JSON Pointer to the fault.
        """
        if not isinstance(value, Mapping):
            raise MalformedError("a status entry must be an object", pointer=pointer)
        if not is_bitstring_entry(value):
            raise MalformedError(f"type must be {ENTRY_TYPE}", pointer=f"{pointer}/type")
        purpose = value.get("statusPurpose")
        if not isinstance(purpose, str) or not purpose:
            raise MalformedError(
                "statusPurpose must be a non-empty string", pointer=f"{pointer}/statusPurpose"
            )
        raw_index = value.get("statusListIndex")
        if not isinstance(raw_index, str) or not _INDEX.fullmatch(raw_index):
            raise MalformedError(
                "statusListIndex must be a non-negative integer written as a base-10 string",
                pointer=f"{pointer}/statusListIndex",
            )
        list_url = parse_url(
            value.get("statusListCredential"),
            pointer=f"{pointer}/statusListCredential",
            what="statusListCredential",
        ).text
        entry_id = value.get("id")
        if entry_id is not None:
            entry_id = parse_url(entry_id, pointer=f"{pointer}/id", what="id").text
        size = value.get("statusSize", 1)
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise MalformedError(
                "statusSize must be an integer greater than zero", pointer=f"{pointer}/statusSize"
            )
        if size > MAX_STATUS_SIZE:
            raise MalformedError(
                f"statusSize above {MAX_STATUS_SIZE} is not supported",
                pointer=f"{pointer}/statusSize",
            )
        messages = _parse_messages(value.get("statusMessage"), pointer=f"{pointer}/statusMessage")
        references = _parse_references(
            value.get("statusReference"), pointer=f"{pointer}/statusReference"
        )
        try:
            return cls(
                purpose=purpose,
                index=int(raw_index),
                list_url=list_url,
                status_size=size,
                status_messages=messages,
                status_reference=references,
                id=entry_id,
            )
        except _EntryRuleError as exc:
            raise MalformedError(exc.message, pointer=pointer + (exc.pointer or "")) from None

    def message_for(self, value: int) -> str | None:
        """The message for a status value: from ``statusMessage``, else "set"/"unset" (§2.1)."""
        for item in self.status_messages:
            if item.status == value:
                return item.message
        if not self.status_messages and self.status_size == 1:
            return "set" if value else "unset"
        return None

    def to_json(self) -> dict[str, Any]:
        """The ``credentialStatus`` object an issuer puts in a credential.

        Raises UsageError for a legacy entry: those are read, never issued.
        """
        if self.entry_type != ENTRY_TYPE:
            raise UsageError(f"{self.entry_type} entries are read, never issued; use {ENTRY_TYPE}")
        out: dict[str, Any] = {}
        if self.id is not None:
            out["id"] = self.id
        out["type"] = ENTRY_TYPE
        out["statusPurpose"] = self.purpose
        out["statusListIndex"] = str(self.index)
        out["statusListCredential"] = self.list_url
        if self.status_size != 1:
            out["statusSize"] = self.status_size
        if self.status_messages:
            out["statusMessage"] = [m.to_json() for m in self.status_messages]
        if len(self.status_reference) == 1:
            out["statusReference"] = self.status_reference[0]
        elif self.status_reference:
            out["statusReference"] = list(self.status_reference)
        return out


def parse_entry(value: object, *, pointer: str = "") -> BitstringStatusListEntry:
    """Parse a ``credentialStatus`` object of any type the status check reads.

    A ``BitstringStatusListEntry`` as :meth:`BitstringStatusListEntry.parse`; a legacy one
    (``StatusList2021Entry``, ``RevocationList2020Status``) into the same shape, one bit per
    entry. Raises MalformedError with a JSON Pointer to the fault.
    """
    if not isinstance(value, Mapping):
        raise MalformedError("a status entry must be an object", pointer=pointer)
    kind = entry_type(value, pointer=pointer)
    if kind == ENTRY_TYPE:
        return BitstringStatusListEntry.parse(value, pointer=pointer)
    index_member, list_member = _LEGACY_MEMBERS[kind]
    if kind == REVOCATION_LIST_2020_STATUS:
        purpose: object = "revocation"  # the one purpose of a revocation list
    else:
        purpose = value.get("statusPurpose")
    if not isinstance(purpose, str) or not purpose:
        raise MalformedError(
            "statusPurpose must be a non-empty string", pointer=f"{pointer}/statusPurpose"
        )
    raw_index = value.get(index_member)
    if not isinstance(raw_index, str) or not _INDEX.fullmatch(raw_index):
        raise MalformedError(
            f"{index_member} must be a non-negative integer written as a base-10 string",
            pointer=f"{pointer}/{index_member}",
        )
    list_url = parse_url(
        value.get(list_member), pointer=f"{pointer}/{list_member}", what=list_member
    ).text
    entry_id = value.get("id")
    if entry_id is not None:
        entry_id = parse_url(entry_id, pointer=f"{pointer}/id", what="id").text
    try:
        return BitstringStatusListEntry(
            purpose=purpose, index=int(raw_index), list_url=list_url, id=entry_id, entry_type=kind
        )
    except _EntryRuleError as exc:
        raise MalformedError(exc.message, pointer=pointer + (exc.pointer or "")) from None


def entry_type(value: Mapping[str, Any], *, pointer: str = "") -> str:
    """The one status entry type (:data:`ENTRY_TYPES`) a ``credentialStatus`` object declares.

    Raises MalformedError when it declares none of them, or more than one.
    """
    kind = value.get("type")
    declared = [kind] if isinstance(kind, str) else kind if isinstance(kind, list) else []
    known = {item for item in declared if isinstance(item, str) and item in ENTRY_TYPES}
    if len(known) != 1:
        raise MalformedError(
            "type must be one of " + ", ".join(sorted(ENTRY_TYPES)), pointer=f"{pointer}/type"
        )
    return known.pop()


def is_status_entry(value: Mapping[str, Any]) -> bool:
    """Whether a ``credentialStatus`` object declares a type the status check reads."""
    kind = value.get("type")
    if isinstance(kind, str):
        return kind in ENTRY_TYPES
    return isinstance(kind, list) and any(isinstance(k, str) and k in ENTRY_TYPES for k in kind)


def is_bitstring_entry(value: Mapping[str, Any]) -> bool:
    """Whether a ``credentialStatus`` object declares the type ``BitstringStatusListEntry``."""
    kind = value.get("type")
    if isinstance(kind, str):
        return kind == ENTRY_TYPE
    return isinstance(kind, list) and ENTRY_TYPE in kind


def status_entries(credential: Mapping[str, Any]) -> tuple[list[tuple[str, Any]], list[str]]:
    """The ``credentialStatus`` objects of a credential with their JSON Pointers.

    Returns (the entries the status check reads — :data:`ENTRY_TYPES` — as (pointer, raw
    object), notes about entries of other types, which are ignored). Raises MalformedError
    when ``credentialStatus`` is neither an object nor an array of objects.
    """
    status = credential.get("credentialStatus")
    if status is None:
        return [], []
    if isinstance(status, Mapping):
        items: list[tuple[str, Any]] = [("/credentialStatus", status)]
    elif isinstance(status, list):
        items = [(f"/credentialStatus/{i}", item) for i, item in enumerate(status)]
    else:
        raise MalformedError(
            "credentialStatus must be an object or an array", pointer="/credentialStatus"
        )
    entries: list[tuple[str, Any]] = []
    notes: list[str] = []
    for pointer, item in items:
        if not isinstance(item, Mapping):
            raise MalformedError("a credentialStatus entry must be an object", pointer=pointer)
        if is_status_entry(item):
            entries.append((pointer, item))
        else:
            notes.append(f"{pointer}: status type {item.get('type')!r} is not checked (ignored)")
    return entries, notes


def _parse_messages(value: object, *, pointer: str) -> tuple[StatusMessage, ...]:
    """A ``statusMessage`` array; () when absent. Raises MalformedError at the faulty element;
    how many there must be is checked by ``_check_messages``, once ``statusSize`` is known."""
    if value is None:
        return ()
    if not isinstance(value, list):
        raise MalformedError("statusMessage must be an array", pointer=pointer)
    messages: list[StatusMessage] = []
    for i, item in enumerate(value):
        where = f"{pointer}/{i}"
        if not isinstance(item, Mapping):
            raise MalformedError("a statusMessage element must be an object", pointer=where)
        status = parse_hex_status(item.get("status"), pointer=f"{where}/status")
        message = item.get("message")
        if not isinstance(message, str):
            raise MalformedError("message must be a string", pointer=f"{where}/message")
        messages.append(StatusMessage(status=status, message=message))
    return tuple(messages)


def parse_hex_status(value: object, *, pointer: str) -> int:
    """A status value written as ``statusMessage`` writes it: hexadecimal, prefixed with 0x."""
    if not isinstance(value, str) or not _HEX_STATUS.fullmatch(value):
        raise MalformedError(
            "status must be a hexadecimal string prefixed with 0x", pointer=pointer
        )
    return int(value, 16)


def _parse_references(value: object, *, pointer: str) -> tuple[str, ...]:
    if value is None:
        return ()
    items = value if isinstance(value, list) else [value]
    for i, item in enumerate(items):
        if not is_url(item):
            where = f"{pointer}/{i}" if isinstance(value, list) else pointer
            raise MalformedError("statusReference must be a URL or an array of URLs", pointer=where)
    return tuple(items)


class _EntryRuleError(UsageError):
    """A cross-member rule broken; parse() reports it as MalformedError at the same place."""


def _check_entry(entry: BitstringStatusListEntry, *, pointer: str, error: type[UsageError]) -> None:
    """The rules that tie the members together (§2.1), for parsed and for built entries."""
    if entry.entry_type not in ENTRY_TYPES:
        raise error(f"unknown status entry type {entry.entry_type!r}", pointer=f"{pointer}/type")
    if entry.entry_type != ENTRY_TYPE and (entry.status_size != 1 or entry.status_messages):
        raise error(f"a {entry.entry_type} has one bit per entry", pointer=f"{pointer}/type")
    if entry.index < 0:
        raise error("statusListIndex must not be negative", pointer=f"{pointer}/statusListIndex")
    if not 1 <= entry.status_size <= MAX_STATUS_SIZE:
        raise error(
            f"statusSize must be between 1 and {MAX_STATUS_SIZE}", pointer=f"{pointer}/statusSize"
        )
    if entry.id is not None and entry.id == entry.list_url:
        raise error("id must not be the URL of the status list", pointer=f"{pointer}/id")
    if entry.status_size > 1 and not entry.status_messages:
        raise error(
            "statusMessage is required when statusSize is greater than 1",
            pointer=f"{pointer}/statusMessage",
        )
    _check_messages(
        entry.status_messages,
        entry.status_size,
        pointer=f"{pointer}/statusMessage",
        error=error,
    )


def _check_messages(
    messages: tuple[StatusMessage, ...],
    status_size: int,
    *,
    pointer: str,
    error: type[UsageError],
) -> None:
    """§2.1: present messages number 2**statusSize, one per possible value, none repeated."""
    if not messages:
        return
    possible = 1 << status_size
    if len(messages) != possible:
        raise error(
            f"statusMessage must have {possible} elements for statusSize {status_size}",
            pointer=pointer,
        )
    seen: set[int] = set()
    for i, item in enumerate(messages):
        if item.status >= possible or item.status in seen:
            raise error(
                f"status {hex(item.status)} is out of range or repeated",
                pointer=f"{pointer}/{i}/status",
            )
        seen.add(item.status)
