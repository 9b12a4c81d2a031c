"""The newest version of each status list a verifier has accepted: its memory against rollback.

Every version an issuer signed still verifies (a list need not state ``validUntil``), so
whoever serves a list's URL — a stale cache, a mirror, the web host — could answer with one
signed before a revocation. A version is told by its ``validFrom``; a verifier remembers, per
URL, the newest it accepted (and a digest of what it said), and refuses an older one that says
something else (:func:`vcred.status.check.refuse_older`).

The memory must outlive the cache's copy of the list (evicted, or never held by this process):
:class:`MemoryListVersions` keeps it for one process; a service with several workers or
machines gives every :class:`~vcred.status.cache.StatusListCache` one shared memory (the
verifier service keeps it in its database), so that a version one worker accepted is the floor
for all of them.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from vcred._forksafe import renew_locks_in_children
from vcred.errors import UsageError
from vcred.status.listcred import StatusList


@dataclass(frozen=True, slots=True)
class ListVersion:
    """One version of a status list: when it took effect, and a digest of what it says (its
    bits and purposes: two signatures of one content are one version)."""

    valid_from: datetime | None
    digest: str

    @classmethod
    def of(cls, status_list: StatusList) -> ListVersion:
        said = hashlib.sha256()
        said.update(status_list.bits.data)
        for purpose in status_list.purposes:
            said.update(b"\0" + purpose.encode())
        return cls(valid_from=status_list.valid_from, digest=said.hexdigest())


class ListVersions(Protocol):
    """Where a verifier remembers the newest version of each status list it accepted."""

    def advance(self, url: str, version: ListVersion) -> ListVersion | None:
        """Record ``version`` of the list at ``url`` unless a newer one (a later
        ``validFrom``) is recorded; the newest recorded once it is done (None when neither
        states a ``validFrom``). Atomic: concurrent callers never lower what is recorded.

        Raises StatusUnavailableError when the memory cannot be read or written (a status
        answer then rests on nothing: fail closed)."""
        ...

    def newest(self, url: str) -> ListVersion | None:
        """The newest version recorded of the list at ``url``, recording nothing (None:
        none). Raises StatusUnavailableError as :meth:`advance` does."""
        ...


class MemoryListVersions:
    """A process's memory of list versions: thread-safe, the ``max_entries`` most recently
    used URLs (a few hundred bytes each; far more than a status cache holds lists)."""

    def __init__(self, *, max_entries: int = 65536) -> None:
        if max_entries < 1:
            raise UsageError("max_entries must be at least 1")
        self.max_entries = max_entries
        self._newest: OrderedDict[str, ListVersion] = OrderedDict()
        renew_locks_in_children(self)

    def _new_locks(self) -> None:
        self._lock = threading.Lock()

    def advance(self, url: str, version: ListVersion) -> ListVersion | None:
        with self._lock:
            held = self._newest.get(url)
            if version.valid_from is not None and (
                held is None or held.valid_from is None or held.valid_from < version.valid_from
            ):
                held = self._newest[url] = version
            if held is not None:
                self._newest.move_to_end(url)
                while len(self._newest) > self.max_entries:
                    self._newest.popitem(last=False)
            return held

    def newest(self, url: str) -> ListVersion | None:
        with self._lock:
            return self._newest.get(url)

    def __len__(self) -> int:
        with self._lock:
            return len(self._newest)
