"""A verifier's cache of status lists by URL, honouring ``ttl`` and ``validUntil``.

https://www.w3.org/TR/vc-bitstring-status-list/#verifier-caching — verifiers SHOULD cache
lists (fewer fetches also tell the issuer less about who is being checked). ``ttl`` (§2.2) says
how long a list may be used before fetching again; ``validUntil`` bounds it.

Time is always an argument (``now``), so tests and offline tools control the clock.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from vcred._forksafe import renew_locks_in_children
from vcred.errors import UsageError
from vcred.status.listcred import StatusList
from vcred.status.versions import ListVersions, MemoryListVersions

_STRIPES: Final = 64  # per-URL load locks, striped so the table never grows


@dataclass(frozen=True, slots=True, kw_only=True)
class CachedList:
    """A status list with when it was fetched and until when it counts as fresh."""

    status_list: StatusList
    fetched_at: datetime
    fresh_until: datetime

    def age(self, now: datetime) -> timedelta:
        return now - self.fetched_at

    def is_fresh(self, now: datetime, *, max_age: timedelta | None = None) -> bool:
        """Within its TTL at ``now`` and, with ``max_age``, fetched at most that long ago."""
        return now < self.fresh_until and (max_age is None or now - self.fetched_at <= max_age)


class StatusListCache:
    """Thread-safe LRU cache of verified status lists, keyed by ``statusListCredential`` URL.

    A list is fresh for its ``ttl`` (``default_ttl`` when it states none, never more than
    ``max_ttl``) and never past its ``validUntil``. ``get`` returns fresh lists only (and,
    with ``max_age``, none fetched longer ago); ``get_stale`` returns whatever is held, with
    its age, for offline use: the caller bounds that age (``StatusChecker.max_age``).

    ``versions``: the newest version of each list accepted, which no older one replaces
    (:mod:`vcred.status.versions`): this process's own unless one shared by several is given.
    It outlives the lists held here (evicted, cleared).
    """

    def __init__(
        self,
        *,
        max_entries: int = 1024,
        default_ttl: timedelta = timedelta(minutes=5),
        max_ttl: timedelta = timedelta(days=1),
        versions: ListVersions | None = None,
    ) -> None:
        if max_entries < 1:
            raise UsageError("max_entries must be at least 1")
        if default_ttl < timedelta(0) or max_ttl < timedelta(0):
            raise UsageError("cache lifetimes must not be negative")
        self.max_entries = max_entries
        self.default_ttl = default_ttl
        self.max_ttl = max_ttl
        self.versions: ListVersions = MemoryListVersions() if versions is None else versions
        self._entries: OrderedDict[str, CachedList] = OrderedDict()
        self._past: StatusListCache | None = None
        renew_locks_in_children(self)

    def _new_locks(self) -> None:
        # here and in every forked child (vcred._forksafe): a load lock is held for a whole
        # fetch, so a fork during one would leave it held forever in the child
        self._lock = threading.Lock()
        self._load_locks = tuple(threading.Lock() for _ in range(_STRIPES))

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def get(
        self, url: str, *, now: datetime, max_age: timedelta | None = None
    ) -> CachedList | None:
        """The cached list for ``url`` if it is still fresh at ``now``, else None."""
        with self._lock:
            cached = self._entries.get(url)
            if cached is None:
                return None
            self._entries.move_to_end(url)
        return cached if cached.is_fresh(now, max_age=max_age) else None

    def get_stale(self, url: str, *, now: datetime) -> tuple[CachedList, timedelta] | None:
        """The cached list for ``url`` however old, with its age at ``now`` (offline mode)."""
        with self._lock:
            cached = self._entries.get(url)
        return None if cached is None else (cached, now - cached.fetched_at)

    def put(self, status_list: StatusList, *, fetched_at: datetime) -> CachedList:
        """Hold ``status_list`` (under its URL), fetched at ``fetched_at``."""
        ttl = self.default_ttl if status_list.ttl is None else status_list.ttl
        fresh_until = fetched_at + min(ttl, self.max_ttl)
        if status_list.valid_until is not None:
            fresh_until = min(fresh_until, status_list.valid_until)
        cached = CachedList(status_list=status_list, fetched_at=fetched_at, fresh_until=fresh_until)
        with self._lock:
            self._entries[status_list.url] = cached
            self._entries.move_to_end(status_list.url)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return cached

    def get_or_load(
        self,
        url: str,
        load: Callable[[], StatusList],
        *,
        now: datetime,
        max_age: timedelta | None = None,
    ) -> CachedList:
        """The fresh cached list, or ``load()`` it; concurrent callers for one URL load once.

        ``max_age``: a list fetched longer ago is loaded again even within its TTL. Whatever
        ``load`` raises propagates and nothing is cached.
        """
        cached = self.get(url, now=now, max_age=max_age)
        if cached is not None:
            return cached
        with self._load_locks[hash(url) % _STRIPES]:
            # another thread may have loaded it meanwhile
            cached = self.get(url, now=now, max_age=max_age)
            if cached is not None:
                return cached
            status_list = load()
            if status_list.url != url:
                raise UsageError("load() returned the list of another URL")
            return self.put(status_list, fetched_at=now)

    def past(self) -> StatusListCache:
        """Where lists as of past moments are held (:func:`vcred.status.as_of_url`): apart,
        in a quarter of this cache's room. Every moment a caller names is one more list: held
        here, however many, they never push out the current lists — nor the versions a
        rollback is told by (``StatusChecker``)."""
        with self._lock:
            if self._past is None:
                self._past = StatusListCache(
                    max_entries=max(1, self.max_entries // 4),
                    default_ttl=self.default_ttl,
                    max_ttl=self.max_ttl,
                )
            return self._past

    def invalidate(self, url: str) -> None:
        with self._lock:
            self._entries.pop(url, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            past = self._past
        if past is not None:
            past.clear()
