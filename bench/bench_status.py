"""Benchmark of the Bitstring Status List code: ``python bench/bench_status.py``.

Prints the median time of each operation. Budgets (issue brief): decoding a 1,048,576-entry
list ≤ 20 ms; a status bit check with a warm cache (cache lookup by URL + bit read) ≤ 2 µs.
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from vcred.status import (
    MutableBitstring,
    StatusChecker,
    StatusList,
    StatusListCache,
    build_status_list_credential,
    decode_bitstring,
    encode_bitstring,
)

NOW = datetime(2025, 6, 1, tzinfo=UTC)
URL = "https://customs.example/status/rev-1"
ISSUER = "did:web:customs.example"
FILL = 0.01  # share of entries set: a list where one credential in a hundred is revoked


def median_seconds(operation: Callable[[], object], *, repeat: int, number: int = 1) -> float:
    """Median over ``repeat`` runs of the time per call, each run timing ``number`` calls."""
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            operation()
        samples.append((time.perf_counter() - start) / number)
    return statistics.median(samples)


def filled(entries: int, rng: random.Random) -> MutableBitstring:
    bits = MutableBitstring(entries)
    for index in rng.sample(range(entries), int(entries * FILL)):
        bits.set(index, 1)
    return bits


class _StaticFetcher:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def fetch(self, url: str, *, accept: str, max_bytes: int) -> bytes:
        return self.body


def main() -> int:
    rng = random.Random(1)
    rows: list[tuple[str, float, str, str]] = []
    for entries in (131_072, 1_048_576):
        bits = filled(entries, rng)
        raw = bits.freeze()
        encoded = encode_bitstring(raw)
        rows.append(
            (
                f"encode {entries:,} entries",
                median_seconds(lambda raw=raw: encode_bitstring(raw), repeat=21) * 1e3,
                "ms",
                f"{len(encoded):,} chars",
            )
        )
        decode_ms = median_seconds(lambda e=encoded: decode_bitstring(e), repeat=51) * 1e3
        budget = "budget ≤ 20 ms" if entries == 1_048_576 else ""
        rows.append((f"decode {entries:,} entries", decode_ms, "ms", budget))

    # A warm verifier: the list is in the cache, verified and expanded.
    bits = filled(131_072, rng)
    revoked = next(i for i in range(131_072) if bits.get(i))
    cache = StatusListCache()
    cache.put(
        StatusList(url=URL, issuer=ISSUER, purposes=("revocation",), bits=bits.freeze()),
        fetched_at=NOW,
    )

    def bit_check() -> int:
        cached = cache.get(URL, now=NOW)
        if cached is None:
            raise RuntimeError("cache went cold")
        return cached.status_list.bits.bit(revoked)

    check_us = median_seconds(bit_check, repeat=21, number=20_000) * 1e6
    rows.append(("status bit check, warm cache", check_us, "µs", "budget ≤ 2 µs"))

    # The whole status check of one credential (entry parsing + checks), warm cache.
    list_credential = build_status_list_credential(
        list_url=URL,
        issuer=ISSUER,
        purpose="revocation",
        bitstring=bits,
        valid_from=NOW - timedelta(days=1),
        ttl=timedelta(hours=1),
    )

    def verify_list(document: object) -> dict[str, Any]:
        return list_credential  # signatures are not what is measured here

    checker = StatusChecker(fetcher=_StaticFetcher(b"{}"), verify_list=verify_list)
    credential = {
        "issuer": ISSUER,
        "credentialStatus": {
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": str(revoked),
            "statusListCredential": URL,
        },
    }
    checker.check(credential, now=NOW)  # warm the cache
    full_us = median_seconds(lambda: checker.check(credential, now=NOW), repeat=21, number=2000)
    rows.append(("StatusChecker.check, 1 entry, warm", full_us * 1e6, "µs", ""))

    width = max(len(name) for name, *_ in rows)
    print(f"{'operation':<{width}}  {'median':>10}  unit  note")
    print(f"{'-' * width}  {'-' * 10}  ----  ----")
    for name, value, unit, note in rows:
        print(f"{name:<{width}}  {value:>10.3f}  {unit:<4}  {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
