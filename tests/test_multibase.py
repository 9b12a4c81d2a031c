from __future__ import annotations

import contextlib

import base58
import pytest
from hypothesis import given
from hypothesis import strategies as st

from vcred.errors import ParsingError
from vcred.multibase import (
    b64url_decode,
    b64url_encode,
    multibase_decode,
    multibase_encode,
    varint_decode,
    varint_encode,
)


@given(st.binary(max_size=200))
def test_base64url_round_trip(data: bytes) -> None:
    assert b64url_decode(b64url_encode(data)) == data


@given(st.binary(min_size=1, max_size=200), st.sampled_from(["z", "u"]))
def test_multibase_round_trip(data: bytes, base: str) -> None:
    if base == "z" and data.startswith(b"\x00"):
        data = b"\x01" + data
    assert multibase_decode(multibase_encode(data, base)) == data


@pytest.mark.parametrize("text", ["YQ==", "YQ=", "Y Q", "Y+/Q", "Y+Qa", "Y/Qa", "YQa=", "Y", "YR"])
def test_padded_or_non_canonical_base64url_is_refused(text: str) -> None:
    with pytest.raises(ParsingError):
        b64url_decode(text)


@given(st.text(max_size=50))
def test_base64url_decoder_raises_only_parsing_errors(text: str) -> None:
    with contextlib.suppress(ParsingError):
        b64url_decode(text)


@pytest.mark.parametrize("text", ["", "z", "m" + "YQ", "z0OIl", "f00"])
def test_bad_multibase_is_refused(text: str) -> None:
    with pytest.raises(ParsingError):
        multibase_decode(text)


@given(st.integers(min_value=0, max_value=2**63 - 1))
def test_varint_round_trip(value: int) -> None:
    encoded = varint_encode(value)
    assert varint_decode(encoded + b"\xff") == (value, len(encoded))


def test_varint_must_be_minimal_and_terminated() -> None:
    with pytest.raises(ParsingError):
        varint_decode(b"\x80\x00")
    with pytest.raises(ParsingError):
        varint_decode(b"\x80\x80")


@given(st.text(alphabet="123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz", min_size=1))
def test_base58btc_decoding_is_the_base58_librarys(body: str) -> None:
    assert multibase_decode("z" + body) == base58.b58decode(body)


@pytest.mark.parametrize("length", [1, 2, 87, 88, 89, 255, 256, 257, 600])
def test_base58btc_decoding_of_every_length_is_the_base58_librarys(length: int) -> None:
    # the digits are merged in rounds of slots doubling in width: lengths around a power of
    # two, and past the 256 digits whose masks are kept, take other paths
    alphabet = base58.BITCOIN_ALPHABET.decode()
    for start in range(3):
        body = "".join(alphabet[(start + 7 * i) % 58] for i in range(length))
        for leading in ("", "1", "111"):
            assert multibase_decode("z" + leading + body) == base58.b58decode(leading + body)
