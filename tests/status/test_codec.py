"""Bitstring Status List v1.0 §3.3, §3.4, §7.1: the bitstring and its encodedList
(vcred.status.codec)."""

from __future__ import annotations

import base64
import gzip
import io
import zlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.status.support import (
    SPEC_EXAMPLE_ENCODED_LIST,
)
from vcred.errors import (
    ParsingError,
    StatusListLengthError,
    StatusRangeError,
    StatusUnavailableError,
    UsageError,
)
from vcred.status import (
    MIN_ENTRIES,
    Bitstring,
    MutableBitstring,
    decode_bitstring,
    encode_bitstring,
)

# --- the bitstring (§3.3, §3.4, §7.1) ------------------------------------------------------


def test_spec_example_encoded_list_is_16kb_of_zeros() -> None:
    bits = decode_bitstring(SPEC_EXAMPLE_ENCODED_LIST)
    assert bits.data == bytes(16 * 1024)
    assert bits.entry_count() == MIN_ENTRIES
    assert bits.bit(0) == 0
    assert bits.bit(MIN_ENTRIES - 1) == 0


def test_index_zero_is_the_leftmost_bit_of_the_first_byte() -> None:
    # §7.1: "the first (zeroth) index refers to the left-most bit of the bitstring array"
    bits = MutableBitstring(MIN_ENTRIES)
    bits.set(0, 1)
    bits.set(9, 1)
    bits.set(MIN_ENTRIES - 1, 1)
    data = bits.freeze().data
    assert data[0] == 0b1000_0000
    assert data[1] == 0b0100_0000
    assert data[-1] == 0b0000_0001
    decoded = decode_bitstring(bits.encode())
    assert [decoded.bit(i) for i in (0, 1, 8, 9, MIN_ENTRIES - 2, MIN_ENTRIES - 1)] == [
        1,
        0,
        0,
        1,
        0,
        1,
    ]


def test_spec_index_94567_reads_byte_11820_bit_7() -> None:
    data = bytearray(16 * 1024)
    data[94567 // 8] = 1 << (7 - 94567 % 8)
    bits = Bitstring(bytes(data))
    assert bits.bit(94567) == 1
    assert sum(bits.bit(i) for i in range(94560, 94575)) == 1


def test_encoded_list_is_multibase_base64url_of_gzip() -> None:
    encoded = MutableBitstring().encode()
    assert encoded.startswith("uH4sI")  # 'u' + base64url of the GZIP magic 1f 8b 08
    assert "=" not in encoded
    assert "+" not in encoded
    assert "/" not in encoded
    raw = base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4))
    assert gzip.decompress(raw) == bytes(16 * 1024)  # any GZIP reader can expand it


def test_encoding_is_deterministic() -> None:
    bits = MutableBitstring()
    bits.set(42, 1)
    assert bits.encode() == bits.encode() == encode_bitstring(bits.freeze())


def test_lists_written_by_other_gzip_writers_decode() -> None:
    data = bytearray(16 * 1024)
    data[5] = 0xFF
    out = io.BytesIO()
    with gzip.GzipFile(filename="list.bin", mode="wb", fileobj=out, mtime=1_700_000_000) as f:
        f.write(bytes(data))  # FNAME header and a real mtime, as a gzip(1) would write
    encoded = "u" + base64.urlsafe_b64encode(out.getvalue()).rstrip(b"=").decode()
    assert decode_bitstring(encoded).data == bytes(data)


def test_multi_member_gzip_decodes() -> None:
    half = bytes(8 * 1024)
    raw = gzip.compress(half, mtime=0) + gzip.compress(b"\x80" + half[1:], mtime=0)
    bits = decode_bitstring("u" + base64.urlsafe_b64encode(raw).rstrip(b"=").decode())
    assert len(bits.data) == 16 * 1024
    assert bits.bit(8 * 1024 * 8) == 1


@given(st.sets(st.integers(min_value=0, max_value=MIN_ENTRIES - 1), max_size=200))
def test_round_trip(indexes: set[int]) -> None:
    bits = MutableBitstring()
    for index in indexes:
        bits.set(index, 1)
    decoded = decode_bitstring(bits.encode())
    assert decoded == bits.freeze()
    assert {i for i in range(MIN_ENTRIES) if decoded.bit(i)} == indexes


def test_one_million_entry_list_round_trips() -> None:
    # its decode time is a target of bench/bench_status.py, not an assertion here
    entries = 1_048_576
    bits = MutableBitstring(entries)
    marked = list(range(3, entries, 9973))
    for index in marked:
        bits.set(index, 1)
    decoded = decode_bitstring(bits.encode())
    assert decoded.entry_count() == entries
    assert all(decoded.bit(i) == 1 for i in marked)
    assert decoded.bit(4) == 0


@pytest.mark.parametrize(("size", "values"), [(2, [0, 1, 2, 3]), (3, [5, 7, 0, 6, 1]), (8, [255])])
def test_multi_bit_entries_round_trip(size: int, values: list[int]) -> None:
    bits = MutableBitstring(MIN_ENTRIES, status_size=size)
    indexes = [0, 1, 2, 7, MIN_ENTRIES - 1]
    for index, value in zip(indexes, values, strict=False):
        bits.set(index, value)
    decoded = decode_bitstring(bits.encode())
    for index, value in zip(indexes, values, strict=False):
        assert decoded.value(index, size) == value
        assert bits.get(index) == value
    assert decoded.entry_count(size) == MIN_ENTRIES


def test_status_size_two_packs_entries_big_endian() -> None:
    bits = MutableBitstring(MIN_ENTRIES, status_size=2)
    bits.set(0, 0b10)
    bits.set(3, 0b01)
    assert bits.freeze().data[0] == 0b10_00_00_01


def test_a_list_below_the_minimum_is_not_encoded() -> None:
    with pytest.raises(UsageError):
        encode_bitstring(bytes(16 * 1024 - 1))
    with pytest.raises(UsageError):  # 131,072 two-bit entries need 32 KB
        encode_bitstring(bytes(16 * 1024), status_size=2)


def test_gzip_bomb_is_stopped_at_the_cap() -> None:
    bomb = zlib.compress(bytes(64 * 1024 * 1024), 9, 31)  # 64 MiB of zeros in ~64 KB
    encoded = "u" + base64.urlsafe_b64encode(bomb).rstrip(b"=").decode()
    with pytest.raises(StatusListLengthError) as info:
        decode_bitstring(encoded)  # default cap: 16 MiB, so at most 16 MiB is inflated
    assert info.value.code == "STATUS_LIST_LENGTH"
    assert info.value.problem_type.endswith("#STATUS_LIST_LENGTH_ERROR")
    assert isinstance(info.value, StatusUnavailableError)
    with pytest.raises(StatusListLengthError):
        decode_bitstring(MutableBitstring().encode(), max_bytes=16 * 1024 - 1)
    assert len(decode_bitstring(MutableBitstring().encode(), max_bytes=16 * 1024).data) == 16384


def _u(raw: bytes) -> str:
    return "u" + base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@pytest.mark.parametrize(
    "encoded",
    [
        pytest.param(SPEC_EXAMPLE_ENCODED_LIST[1:], id="no-multibase-prefix"),
        pytest.param("z" + SPEC_EXAMPLE_ENCODED_LIST[1:], id="base58-multibase"),
        pytest.param(SPEC_EXAMPLE_ENCODED_LIST + "=", id="padded"),
        pytest.param(SPEC_EXAMPLE_ENCODED_LIST[:-8], id="truncated-gzip"),
        pytest.param(_u(zlib.compress(bytes(16384))), id="zlib-not-gzip"),
        pytest.param(_u(gzip.compress(bytes(16384), mtime=0) + b"junk"), id="trailing-junk"),
        pytest.param("u", id="u-only"),
        pytest.param("", id="empty"),
    ],
)
def test_malformed_encoded_lists_are_parsing_errors(encoded: str) -> None:
    with pytest.raises(ParsingError):
        decode_bitstring(encoded, pointer="/credentialSubject/encodedList")


def test_lookups_outside_the_list_are_range_errors() -> None:
    bits = decode_bitstring(SPEC_EXAMPLE_ENCODED_LIST)
    for index in (-1, MIN_ENTRIES, 10**30):
        with pytest.raises(StatusRangeError):
            bits.bit(index)
    with pytest.raises(StatusRangeError):
        bits.value(MIN_ENTRIES // 2, 2)
    assert bits.value(MIN_ENTRIES // 2 - 1, 2) == 0


def test_mutable_bitstring_refuses_values_that_do_not_fit() -> None:
    bits = MutableBitstring(MIN_ENTRIES, status_size=2)
    with pytest.raises(UsageError):
        bits.set(0, 4)
    with pytest.raises(UsageError):
        bits.set(MIN_ENTRIES, 1)
    with pytest.raises(UsageError):
        MutableBitstring(status_size=0)
