"""vcred._forksafe: the locks a forked child finds held are new and unheld there."""

from __future__ import annotations

import gc
import os
import threading
from collections.abc import Callable, Sequence

import pytest

from tests.conftest import NOW
from vcred import _forksafe
from vcred.did import Resolver
from vcred.jsonld import ContextLoader
from vcred.status.cache import StatusListCache
from vcred.status.versions import MemoryListVersions
from vcred.testing import StaticFetcher
from vcred.trust import TrustAnchor
from vcred.trustfeed import TrustListFeed

_Locks = Callable[[], Sequence[threading.Lock]]


def _status_cache() -> _Locks:
    cache = StatusListCache()
    return lambda: [cache._lock, *cache._load_locks]


def _list_versions() -> _Locks:
    versions = MemoryListVersions()
    return lambda: [versions._lock]


def _resolver() -> _Locks:
    resolver = Resolver()
    return lambda: [resolver._web_cache._lock]


def _context_loader() -> _Locks:
    loader = ContextLoader()
    return lambda: [loader._lock]


def _trust_feed() -> _Locks:
    feed = TrustListFeed(
        anchor=TrustAnchor(did="did:web:us.example"),
        urls=["https://us.example/trust"],
        fetcher=StaticFetcher(),
        clock=lambda: NOW,
    )
    return lambda: [feed._lock]


def _free_in_a_forked_child(locks: _Locks) -> bool:
    """Whether a child forked now can take every one of ``locks()`` (it answers by its exit
    code; a lock still held makes it wait a second, then give up)."""
    pid = os.fork()
    if pid == 0:
        os._exit(0 if all(lock.acquire(timeout=1) for lock in locks()) else 1)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) == 0


@pytest.mark.parametrize(
    "owner", [_status_cache, _list_versions, _resolver, _context_loader, _trust_feed]
)
def test_locks_held_in_the_parent_are_free_in_a_forked_child(owner: Callable[[], _Locks]) -> None:
    locks = owner()
    held = locks()
    for lock in held:
        lock.acquire()
    try:
        assert _free_in_a_forked_child(locks)
        assert all(lock.locked() for lock in held)  # the parent's own are untouched
    finally:
        for lock in held:
            lock.release()


def test_the_registry_keeps_no_object_alive() -> None:
    gc.collect()  # earlier tests' garbage, which would leave the registry meanwhile
    before = len(_forksafe._OWNERS)
    cache = StatusListCache()
    assert len(_forksafe._OWNERS) == before + 2  # the cache and its memory of versions
    del cache
    gc.collect()
    assert len(_forksafe._OWNERS) == before
