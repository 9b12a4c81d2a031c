"""Bitstring Status List rows of the issue-10 table (absolute targets, no baseline)."""

from __future__ import annotations

import gzip
import random
from datetime import UTC, datetime, timedelta

from bench.harness import Row, measure
from vcred.errors import ParsingError
from vcred.multibase import multibase_decode, multibase_encode
from vcred.status import MutableBitstring, StatusListCache, decode_bitstring
from vcred.status.listcred import StatusList

NOW = datetime(2026, 6, 1, tzinfo=UTC)


def _filled(entries: int) -> MutableBitstring:
    rng = random.Random(7)
    bits = MutableBitstring(entries)
    for index in rng.sample(range(entries), entries // 100):  # 1 % revoked or suspended
        bits.set(index, 1)
    return bits


def rows() -> list[Row]:
    small, large = _filled(131_072), _filled(1_048_576)
    small_encoded, large_encoded = small.encode(), large.encode()
    url = "https://customs.example/status/1"
    cache = StatusListCache()
    status_list = StatusList(
        url=url,
        issuer="did:web:customs.example",
        purposes=("revocation",),
        bits=decode_bitstring(small_encoded),
        valid_from=NOW - timedelta(days=1),
        valid_until=None,
        ttl=timedelta(minutes=5),
        status_size=1,
    )
    cache.put(status_list, fetched_at=NOW)
    index = 94_567

    def check() -> int:
        cached = cache.get(url, now=NOW)
        assert cached is not None
        return cached.status_list.bits.bit(index)

    status_us = measure(check)
    decode_large_us = measure(lambda: decode_bitstring(large_encoded))
    return [
        Row(
            "status check, cached 131,072-entry list",
            status_us,
            target="≤ 2 µs",
            met=status_us <= 2.0,
        ),
        Row(
            "decode 1,048,576-entry list",
            decode_large_us,
            target="≤ 20 ms",
            met=decode_large_us <= 20_000,
        ),
        _hostile_members_row(),
        Row("decode 131,072-entry list", measure(lambda: decode_bitstring(small_encoded))),
        Row("encode 131,072-entry list", measure(small.encode)),
        Row("encode 1,048,576-entry list", measure(large.encode)),
    ]


def _hostile_members_row() -> Row:
    """A signed list of the largest fetch size made of empty GZIP members (docs/security.md
    §13.5): refused after MAX_GZIP_MEMBERS, against the floor of reading its base64url."""
    hostile = multibase_encode(gzip.compress(b"", mtime=0) * 140_000, "u")  # 3.7 MB

    def refuse() -> None:
        try:
            decode_bitstring(hostile)
        except ParsingError:
            return
        raise AssertionError("a list of 140,000 GZIP members was decoded")

    refuse_us = measure(refuse)
    return Row(
        "refuse 3.7 MB encodedList of 140,000 empty GZIP members",
        refuse_us,
        baseline="base64url-decoding the same text",
        baseline_us=measure(lambda: multibase_decode(hostile)),
        target="≤ 100 ms",
        met=refuse_us <= 100_000,
    )
