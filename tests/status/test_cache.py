"""The status list cache (vcred.status.cache): bounded, TTL-capped, one load per miss."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

from tests.status.support import (
    ISSUER,
    LIST_URL,
    NOW,
)
from vcred.status import (
    Bitstring,
    StatusList,
    StatusListCache,
)


def status_list(url: str, *, ttl: timedelta | None = None) -> StatusList:
    return StatusList(
        url=url,
        issuer=ISSUER,
        purposes=("revocation",),
        bits=Bitstring(bytes(16)),
        ttl=ttl,
    )


def test_cache_is_lru_bounded() -> None:
    cache = StatusListCache(max_entries=2)
    for name in ("a", "b"):
        cache.put(status_list(f"https://x.example/{name}"), fetched_at=NOW)
    assert cache.get("https://x.example/a", now=NOW) is not None  # a is now the most recent
    cache.put(status_list("https://x.example/c"), fetched_at=NOW)
    assert len(cache) == 2
    assert cache.get_stale("https://x.example/b", now=NOW) is None
    assert cache.get("https://x.example/a", now=NOW) is not None
    cache.invalidate("https://x.example/a")
    assert cache.get_stale("https://x.example/a", now=NOW) is None


def test_cache_max_ttl_bounds_a_long_ttl() -> None:
    cache = StatusListCache(max_ttl=timedelta(hours=1))
    cached = cache.put(status_list("https://x.example/a", ttl=timedelta(days=7)), fetched_at=NOW)
    assert cached.fresh_until == NOW + timedelta(hours=1)
    zero = cache.put(status_list("https://x.example/b", ttl=timedelta(0)), fetched_at=NOW)
    assert not zero.is_fresh(NOW)  # ttl 0: fetch every time


def test_concurrent_misses_load_a_list_once() -> None:
    cache = StatusListCache()
    loads = []
    gate = threading.Barrier(8)

    def load() -> StatusList:
        loads.append(1)
        time.sleep(0.05)
        return status_list(LIST_URL)

    def worker() -> None:
        gate.wait()
        cache.get_or_load(LIST_URL, load, now=NOW)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(loads) == 1
