"""Test doubles for vcred's plug points.

Small, in-memory, deterministic when asked to be; never for production use.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial

from vcred.errors import FetchRefusedError, ResolutionError, UnreachableError, UsageError
from vcred.net import DEFAULT_MAX_BYTES
from vcred.status import MIN_ENTRIES, Allocation, MutableBitstring, StatusListInfo, pick_free_index
from vcred.status.index import (
    RandBelow,
    check_allocation_args,
    check_capacity,
    check_status_change,
)


@dataclass(slots=True)
class _MemoryList:
    list_id: str
    purpose: str
    status_size: int
    capacity: int
    values: dict[int, int] = field(default_factory=dict)
    full: bool = False
    version: int = 0

    def info(self) -> StatusListInfo:
        return StatusListInfo(
            list_id=self.list_id,
            purpose=self.purpose,
            status_size=self.status_size,
            capacity=self.capacity,
            allocated=len(self.values),
            full=self.full,
            version=self.version,
        )


class MemoryIndexStore:
    """An in-memory, thread-safe :class:`vcred.status.IndexStore`.

    ``randbelow`` and ``new_list_id`` make allocation reproducible in tests; ``capacity`` may be
    set below the spec's minimum to exercise roll-over (lists that small must not be published).
    """

    def __init__(
        self,
        *,
        capacity: int = MIN_ENTRIES,
        randbelow: RandBelow = secrets.randbelow,
        new_list_id: Callable[[], str] = lambda: secrets.token_urlsafe(9),
    ) -> None:
        check_capacity(capacity)
        self.capacity = capacity
        self._randbelow = randbelow
        self._new_list_id = new_list_id
        self._lists: dict[str, _MemoryList] = {}
        self._open: dict[tuple[str, int], _MemoryList] = {}
        self._owners: dict[str, list[Allocation]] = {}
        self._lock = threading.Lock()

    def allocate(
        self, purpose: str, *, status_size: int = 1, credential_id: str | None = None
    ) -> Allocation:
        check_allocation_args(purpose, status_size)
        with self._lock:
            while True:
                current = self._open_list(purpose, status_size)
                index = pick_free_index(
                    current.capacity,
                    take=partial(_take, current),
                    free=partial(_free, current),
                    randbelow=self._randbelow,
                )
                if index is None:
                    current.full = True  # roll over to a new list
                    continue
                allocation = Allocation(
                    list_id=current.list_id,
                    index=index,
                    purpose=purpose,
                    status_size=status_size,
                )
                if credential_id is not None:
                    self._owners.setdefault(credential_id, []).append(allocation)
                return allocation

    def set_status(self, list_id: str, index: int, value: int) -> None:
        with self._lock:
            status_list = self._list(list_id)
            current = _allocated_value(status_list, index)
            check_status_change(status_list.purpose, status_list.status_size, current, value)
            if value != current:
                status_list.values[index] = value
                status_list.version += 1

    def get_status(self, list_id: str, index: int) -> int:
        with self._lock:
            return _allocated_value(self._list(list_id), index)

    def bitstring(self, list_id: str) -> bytes:
        with self._lock:
            status_list = self._list(list_id)
            bits = MutableBitstring(status_list.capacity, status_size=status_list.status_size)
            for index, value in status_list.values.items():
                if value:
                    bits.set(index, value)
        return bits.freeze().data

    def list_info(self, list_id: str) -> StatusListInfo:
        with self._lock:
            return self._list(list_id).info()

    def lists(self, purpose: str | None = None) -> Sequence[StatusListInfo]:
        with self._lock:
            return [lst.info() for lst in self._lists.values() if purpose in (None, lst.purpose)]

    def allocations(self, credential_id: str) -> Sequence[Allocation]:
        with self._lock:
            return list(self._owners.get(credential_id, ()))

    def _open_list(self, purpose: str, status_size: int) -> _MemoryList:
        current = self._open.get((purpose, status_size))
        if current is None or current.full:
            list_id = self._new_list_id()
            if list_id in self._lists:
                raise UsageError(f"new_list_id returned an existing id {list_id!r}")
            current = _MemoryList(list_id, purpose, status_size, self.capacity)
            self._lists[list_id] = current
            self._open[(purpose, status_size)] = current
        return current

    def _list(self, list_id: str) -> _MemoryList:
        status_list = self._lists.get(list_id)
        if status_list is None:
            raise UsageError(f"no status list {list_id!r}")
        return status_list


def _take(status_list: _MemoryList, index: int) -> bool:
    if index in status_list.values:
        return False
    status_list.values[index] = 0
    return True


def _free(status_list: _MemoryList) -> list[int]:
    used = status_list.values
    return [i for i in range(status_list.capacity) if i not in used]


def _allocated_value(status_list: _MemoryList, index: int) -> int:
    value = status_list.values.get(index)
    if value is None:
        raise UsageError(f"index {index} of status list {status_list.list_id!r} is not allocated")
    return value


@dataclass(slots=True)
class StaticFetcher:
    """A :class:`vcred.net.Fetcher` over a dict of URL → body, for tests and offline demos.

    ``offline = True`` makes every fetch fail as a network outage would; ``hits`` records the
    URLs fetched, so tests can tell a cache hit from a fetch.
    """

    documents: dict[str, bytes] = field(default_factory=dict)
    offline: bool = False
    hits: list[str] = field(default_factory=list)

    def publish(self, url: str, body: str | bytes) -> None:
        self.documents[url] = body.encode() if isinstance(body, str) else body

    def fetch(self, url: str, *, accept: str, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
        if self.offline:
            raise UnreachableError(f"network unavailable: cannot fetch {url}")
        self.hits.append(url)
        body = self.documents.get(url)
        if body is None:
            raise ResolutionError(f"GET {url} answered 404")
        if len(body) > max_bytes:
            raise FetchRefusedError(f"response larger than {max_bytes} bytes")
        return body
