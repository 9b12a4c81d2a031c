"""Bitstring Status List lists against an independent bitstring (Digital Bazaar's
``@digitalbazaar/bitstring``, the one behind ``@digitalbazaar/vc-status-list``), both
directions, for 1-, 2- and 3-bit entries (§2.1 ``statusSize``, §3.3, §3.4)."""

from __future__ import annotations

import random

import pytest

from tests.interop.node import run_peer
from vcred.status import MIN_ENTRIES, MutableBitstring, decode_bitstring

SIZES = [1, 2, 3]


def random_values(status_size: int, count: int, seed: int) -> dict[int, int]:
    draw = random.Random(seed)
    indexes = [*draw.sample(range(MIN_ENTRIES), count), 0, MIN_ENTRIES - 1]
    return {index: draw.randrange(1, 1 << status_size) for index in indexes}


@pytest.mark.parametrize("status_size", SIZES)
def test_the_peer_reads_the_lists_we_write(status_size: int) -> None:
    values = random_values(status_size, 40, seed=status_size)
    bits = MutableBitstring(MIN_ENTRIES, status_size=status_size)
    for index, value in values.items():
        bits.set(index, value)
    zeros = [i for i in range(1, 60) if i not in values]
    read = run_peer(
        "status_peer.mjs",
        {
            "action": "read",
            "encodedList": bits.encode(),
            "statusSize": status_size,
            "indexes": [*values, *zeros],
        },
    )
    assert read["values"] == [*values.values(), *[0] * len(zeros)]
    assert read["length"] == MIN_ENTRIES * status_size


@pytest.mark.parametrize("status_size", SIZES)
def test_we_read_the_lists_the_peer_writes(status_size: int) -> None:
    values = random_values(status_size, 40, seed=10 + status_size)
    written = run_peer(
        "status_peer.mjs",
        {
            "action": "write",
            "entries": MIN_ENTRIES,
            "statusSize": status_size,
            "values": {str(i): v for i, v in values.items()},
        },
    )
    bits = decode_bitstring(written["encodedList"])
    assert bits.entry_count(status_size) == MIN_ENTRIES
    assert {i: bits.value(i, status_size) for i in values} == values
    set_anywhere = sum(bits.value(i, status_size) != 0 for i in range(MIN_ENTRIES))
    assert set_anywhere == len(values)
