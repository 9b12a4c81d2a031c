"""Issuer side: where each credential's status lives — the ``IndexStore`` plug point.

https://www.w3.org/TR/vc-bitstring-status-list/#bitstringstatuslistentry — indexes SHOULD be
assigned at random, so that an index says nothing about when a credential was issued or how
many were (§2.1, §6.1). A store hands out each (list, index) once, ever; a full list rolls over
to a new one. Implementations: ``vcred.testing.MemoryIndexStore`` (tests, one process) and
``issuer_app.store.status.SqlIndexStore`` (SQLite / PostgreSQL, many processes).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final, Literal, Protocol, runtime_checkable

from vcred.errors import UsageError
from vcred.status.codec import MAX_STATUS_SIZE, MIN_ENTRIES
from vcred.status.entry import IRREVERSIBLE_PURPOSES, BitstringStatusListEntry, StatusMessage
from vcred.status.listcred import build_status_list_credential

#: Random draws before falling back to listing the free indexes. At fill ratio f a draw
#: collides with probability f, so the fallback runs with probability f**16: about never
#: below 50 % full, and for most allocations only in a list's last few percent.
RANDOM_ATTEMPTS: Final = 16

#: A source of uniform random integers in [0, n); ``secrets.randbelow`` unless a test fixes it.
RandBelow = Callable[[int], int]


@dataclass(frozen=True, slots=True, kw_only=True)
class Allocation:
    """One credential's place in a status list."""

    list_id: str
    index: int
    purpose: str
    status_size: int = 1

    def entry(
        self,
        list_url: str,
        *,
        status_messages: Sequence[StatusMessage] = (),
        status_reference: Sequence[str] = (),
    ) -> BitstringStatusListEntry:
        """The ``credentialStatus`` entry for this place, the list being published at
        ``list_url`` (its ``id`` is ``list_url#index``, never the list URL itself, §2.1)."""
        return BitstringStatusListEntry(
            id=f"{list_url}#{self.index}",
            purpose=self.purpose,
            index=self.index,
            list_url=list_url,
            status_size=self.status_size,
            status_messages=tuple(status_messages),
            status_reference=tuple(status_reference),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class StatusListInfo:
    """What a store knows about one list; ``version`` grows with every status change."""

    list_id: str
    purpose: str
    status_size: int
    capacity: int
    allocated: int
    full: bool
    version: int


@runtime_checkable
class IndexStore(Protocol):
    """Index allocation and status values for an issuer's status lists.

    Errors: UsageError for an unknown list, an index never allocated, a value that does not
    fit ``status_size`` bits, or clearing an irreversible status (revocation, refresh).
    """

    def allocate(
        self, purpose: str, *, status_size: int = 1, credential_id: str | None = None
    ) -> Allocation:
        """A fresh random index in the open list for (purpose, status_size); never reused."""
        ...

    def set_status(self, list_id: str, index: int, value: int) -> None:
        """Set the status value of an allocated index."""
        ...

    def get_status(self, list_id: str, index: int) -> int:
        """The status value of an allocated index."""
        ...

    def bitstring(self, list_id: str) -> bytes:
        """The whole list as an expanded bitstring, ready to encode and publish."""
        ...

    def list_info(self, list_id: str) -> StatusListInfo: ...

    def lists(self, purpose: str | None = None) -> Sequence[StatusListInfo]:
        """Every list (of one purpose), oldest first."""
        ...

    def allocations(self, credential_id: str) -> Sequence[Allocation]:
        """The allocations made for a credential id (to change its status later)."""
        ...


def pick_free_index(
    capacity: int,
    *,
    take: Callable[[int], bool],
    free: Callable[[], Sequence[int]],
    randbelow: RandBelow = secrets.randbelow,
    attempts: int = RANDOM_ATTEMPTS,
) -> int | None:
    """Claim an index uniformly at random among the free ones; None when the list is full.

    ``take(i)`` atomically claims ``i`` and says whether it could (False: already taken);
    ``free()`` lists the free indexes now. Draws over the whole list first — rejection
    sampling, uniform over the free indexes — and after ``attempts`` collisions draws from
    ``free()`` instead, so a nearly full list costs one scan, not an endless loop.
    """
    for _ in range(attempts):
        index = randbelow(capacity)
        if take(index):
            return index
    for _ in range(capacity + 1):  # each failed take means another writer used one more slot
        candidates = free()
        if not candidates:
            return None
        index = candidates[randbelow(len(candidates))]
        if take(index):
            return index
    return None


def check_allocation_args(purpose: str, status_size: int) -> None:
    """The arguments every ``IndexStore.allocate`` accepts."""
    if not isinstance(purpose, str) or not purpose:
        raise UsageError("purpose must be a non-empty string")
    if isinstance(status_size, bool) or not isinstance(status_size, int):
        raise UsageError("status_size must be an integer")
    if not 1 <= status_size <= MAX_STATUS_SIZE:
        raise UsageError(f"status_size must be between 1 and {MAX_STATUS_SIZE}")


def check_status_change(purpose: str, status_size: int, current: int, value: int) -> None:
    """Whether ``current`` may become ``value``; raises UsageError if not.

    §2.1: revocation and refresh are not reversible.
    """
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 1 << status_size:
        raise UsageError(f"status value {value!r} does not fit in {status_size} bit(s)")
    if purpose in IRREVERSIBLE_PURPOSES and current and value != current:
        raise UsageError(f"a {purpose} status cannot be undone")


def check_capacity(capacity: int) -> None:
    if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 1:
        raise UsageError("a status list needs a positive capacity")


#: The statuses of the VC API's ``POST /credentials/status`` (DESIGN §6).
CredentialStatus = Literal["revoked", "suspended", "active"]


def set_credential_status(
    store: IndexStore, credential_id: str, status: CredentialStatus
) -> list[Allocation]:
    """Apply a VC API status change to every list a credential is in; the places changed.

    ``revoked`` sets its revocation entry, ``suspended`` its suspension entry, ``active``
    clears its suspension entry. Raises UsageError when the credential has no allocation for
    the purpose concerned, or for ``active`` on a revoked credential (revocation is final).
    """
    purpose = {"revoked": "revocation", "suspended": "suspension", "active": "suspension"}.get(
        status
    )
    if purpose is None:
        raise UsageError(f"unknown status {status!r}; expected revoked, suspended or active")
    if status == "active":
        revoked = [
            a
            for a in store.allocations(credential_id)
            if a.purpose == "revocation" and store.get_status(a.list_id, a.index)
        ]
        if revoked:
            raise UsageError(f"credential {credential_id!r} is revoked; that cannot be undone")
    return set_status_value(store, credential_id, purpose, 0 if status == "active" else 1)


def set_status_value(
    store: IndexStore, credential_id: str, purpose: str, value: int
) -> list[Allocation]:
    """Set a credential's status of ``purpose`` to ``value`` (a ``message`` status, §2.1).

    Raises UsageError when the credential has no entry of that purpose, or the value does
    not fit its ``statusSize`` (the store checks that, and that revocation stays final).
    """
    places = [a for a in store.allocations(credential_id) if a.purpose == purpose]
    if not places:
        raise UsageError(f"credential {credential_id!r} has no {purpose} status entry")
    for place in places:
        store.set_status(place.list_id, place.index, value)
    return places


def status_list_credential_for(
    store: IndexStore,
    list_id: str,
    *,
    list_url: str,
    issuer: str | Mapping[str, Any],
    valid_from: datetime,
    valid_until: datetime | None = None,
    ttl: timedelta | None = None,
    min_entries: int = MIN_ENTRIES,
) -> dict[str, Any]:
    """The unsigned ``BitstringStatusListCredential`` of one stored list, ready to secure.

    https://www.w3.org/TR/vc-bitstring-status-list/#generate-algorithm

    A list stored with fewer than ``min_entries`` entries (an issuer configured with a small
    capacity hands out only the first indexes) is published at ``min_entries``, the rest
    zero: the herd privacy of §6.1 comes from the published length. Raises UsageError for an
    unknown list.
    """
    info = store.list_info(list_id)
    bitstring = store.bitstring(list_id)
    needed = -(-min_entries * info.status_size // 8)
    if len(bitstring) < needed:
        bitstring = bitstring + bytes(needed - len(bitstring))
    return build_status_list_credential(
        list_url=list_url,
        issuer=issuer,
        purpose=info.purpose,
        bitstring=bitstring,
        valid_from=valid_from,
        valid_until=valid_until,
        ttl=ttl,
        status_size=info.status_size,
        min_entries=min_entries,
    )
