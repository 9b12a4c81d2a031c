"""Hostile ``encodedList`` values in status lists the issuer really signed (docs/security.md
§13.5): decoding stays linear in the input and bounded in its output, and every list that is
not one complete GZIP stream of a few members in ``u`` multibase is refused with a status
code (never an exception), through the library and through the verifier service."""

from __future__ import annotations

import functools
import gzip
import random
import zlib
from collections.abc import Callable
from typing import Any, NamedTuple

import base58
import pytest

from tests.hardening.status_lists import (
    credential_on,
    library_verifier,
    multibase_u,
    presented,
    publish_list,
    service_codes,
)
from tests.verifier.conftest import DOMAIN, NOW, Agency, MakeApp
from vcred import did_key
from vcred.errors import MalformedError, ParsingError, StatusUnavailableError, error_class
from vcred.keys import KeyPair
from vcred.status import (
    DEFAULT_MAX_BITSTRING_BYTES,
    MIN_ENTRIES,
    decode_bitstring,
    parse_status_list_credential,
)
from vcred.status import codec as status_codec
from vcred.status.codec import MAX_GZIP_MEMBERS

#: 16 KB of random status bits (varied enough that its base64url uses ``-`` and ``_``)
BITS = random.Random(15).randbytes(MIN_ENTRIES // 8)
ZEROS = bytes(MIN_ENTRIES // 8)
#: empty GZIP members (20 bytes each) filling what one fetch may bring (4 MiB of JSON)
MANY_EMPTY = 140_000
DI = "eddsa-rdfc-2022"


def gz(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


def members(data: bytes, count: int) -> bytes:
    """``data`` as ``count`` concatenated GZIP members (RFC 1952 §2.2)."""
    step = -(-len(data) // count)
    return b"".join(gz(data[i : i + step]) for i in range(0, len(data), step))


@functools.cache
def bomb(size: int) -> bytes:
    return zlib.compress(bytes(size), 9, 31)


def legit() -> str:
    return multibase_u(gz(BITS))


def swapped_alphabet() -> str:
    encoded = legit()
    assert "-" in encoded and "_" in encoded
    return encoded.replace("-", "+").replace("_", "/")


class Case(NamedTuple):
    make: Callable[[], Any]  # the encodedList
    code: str  # what it is refused with
    about_encoding: bool = True  # the refusal names encodedList (not the decoded length)
    fmt: str = "vc+jwt"  # how the list is signed: Data Integrity for lists past a JWS's 1 MiB


HOSTILE: dict[str, Case] = {
    # many members: each one an inflater and a copy of the rest (quadratic before), in a list
    # of the largest size a verifier fetches
    "140k-empty-members": Case(
        lambda: multibase_u(gz(b"") * MANY_EMPTY), "STATUS_VERIFICATION", fmt=DI
    ),
    "130k-one-byte-members": Case(
        lambda: multibase_u(gz(b"\0") * 130_000), "STATUS_VERIFICATION", fmt=DI
    ),
    "25k-empty-members-in-a-jws": Case(
        lambda: multibase_u(gz(b"") * 25_000), "STATUS_VERIFICATION"
    ),
    "valid-list-in-5-members": Case(lambda: multibase_u(members(BITS, 5)), "STATUS_VERIFICATION"),
    "valid-list-then-empty-members": Case(
        lambda: multibase_u(gz(BITS) + gz(b"") * MAX_GZIP_MEMBERS), "STATUS_VERIFICATION"
    ),
    # trailing bytes after the last member
    "trailing-garbage": Case(lambda: multibase_u(gz(BITS) + b"garbage"), "STATUS_VERIFICATION"),
    "trailing-zeros": Case(lambda: multibase_u(gz(BITS) + bytes(1024)), "STATUS_VERIFICATION"),
    "trailing-gzip-magic": Case(lambda: multibase_u(gz(BITS) + b"\x1f\x8b"), "STATUS_VERIFICATION"),
    # inflating past the cap, in one member or spread over several
    "gzip-bomb-64MiB": Case(lambda: multibase_u(bomb(64 << 20)), "STATUS_LIST_LENGTH"),
    "bomb-over-4-members": Case(
        lambda: multibase_u(bomb(5 << 20) * MAX_GZIP_MEMBERS), "STATUS_LIST_LENGTH"
    ),
    # nested GZIP is inflated once: what comes out is a few bytes of GZIP, not a list
    "nested-gzip": Case(lambda: multibase_u(gz(gz(ZEROS))), "STATUS_LIST_LENGTH", False),
    "one-empty-member": Case(lambda: multibase_u(gz(b"")), "STATUS_LIST_LENGTH", False),
    # other compressed framings
    "zlib": Case(lambda: multibase_u(zlib.compress(BITS)), "STATUS_VERIFICATION"),
    "raw-deflate": Case(lambda: multibase_u(zlib.compress(BITS, 9, -15)), "STATUS_VERIFICATION"),
    "uncompressed": Case(lambda: multibase_u(BITS), "STATUS_VERIFICATION"),
    # truncated streams
    "truncated-trailer": Case(lambda: multibase_u(gz(BITS)[:-4]), "STATUS_VERIFICATION"),
    "truncated-header": Case(lambda: multibase_u(gz(BITS)[:6]), "STATUS_VERIFICATION"),
    "second-member-truncated": Case(
        lambda: multibase_u(gz(BITS) + gz(b"\0")[:-3]), "STATUS_VERIFICATION"
    ),
    # multibase: only ``u`` (unpadded base64url, strict)
    "no-prefix": Case(lambda: legit()[1:], "STATUS_VERIFICATION"),
    "z-base58btc": Case(lambda: "z" + base58.b58encode(gz(BITS)).decode(), "STATUS_VERIFICATION"),
    "m-base64-padded": Case(lambda: "M" + legit()[1:] + "==", "STATUS_VERIFICATION"),
    "f-base16": Case(lambda: "f" + gz(BITS).hex(), "STATUS_VERIFICATION"),
    "U-upper-case-prefix": Case(lambda: "U" + legit()[1:], "STATUS_VERIFICATION"),
    "u-padded": Case(lambda: multibase_u(gz(BITS)[:-1]) + "=", "STATUS_VERIFICATION"),
    "u-standard-alphabet": Case(swapped_alphabet, "STATUS_VERIFICATION"),
    "u-with-a-newline": Case(lambda: legit()[:40] + "\n" + legit()[40:], "STATUS_VERIFICATION"),
    "u-only": Case(lambda: "u", "STATUS_VERIFICATION"),
    # not a string at all
    "a-number": Case(lambda: 12345, "STATUS_VERIFICATION"),
    "an-array": Case(lambda: [legit()], "STATUS_VERIFICATION"),
    "null": Case(lambda: None, "STATUS_VERIFICATION"),
}


def test_the_valid_list_of_these_tests_verifies(agency: Agency, make_app: MakeApp) -> None:
    token = credential_on(agency, publish_list(agency, encodedList=legit()))
    result = library_verifier(agency).verify(token)
    assert result.verified, result.errors
    assert service_codes(make_app().test_client(), token) == (200, [])


@pytest.mark.parametrize("count", range(1, MAX_GZIP_MEMBERS + 1))
def test_a_list_of_up_to_the_member_cap_decodes(count: int) -> None:
    assert decode_bitstring(multibase_u(members(BITS, count))).data == BITS


@pytest.mark.parametrize("case", HOSTILE, ids=str)
def test_hostile_encoded_lists_are_refused_by_the_library(agency: Agency, case: str) -> None:
    make, code, about_encoding, fmt = HOSTILE[case]
    token = credential_on(agency, publish_list(agency, fmt, encodedList=make()))
    result = library_verifier(agency).verify(token)
    assert not result.verified
    assert result.codes == (code,), result.errors
    (problem,) = result.errors
    assert problem.path == "/credentialStatus/statusListCredential"
    assert issubclass(error_class(code), StatusUnavailableError)
    if about_encoding:
        assert "encodedList" in problem.message


@pytest.mark.parametrize("case", HOSTILE, ids=str)
def test_hostile_encoded_lists_are_refused_by_the_verifier_service(
    agency: Agency, make_app: MakeApp, case: str
) -> None:
    make, code, _, fmt = HOSTILE[case]
    token = credential_on(agency, publish_list(agency, fmt, encodedList=make()))
    assert service_codes(make_app().test_client(), token) == (400, [code])


@pytest.mark.parametrize("case", ["140k-empty-members", "gzip-bomb-64MiB", "z-base58btc"])
def test_hostile_encoded_lists_are_refused_inside_a_presentation(agency: Agency, case: str) -> None:
    make, code, _, fmt = HOSTILE[case]
    holder = KeyPair.generate("ed25519")
    list_url = publish_list(agency, fmt, encodedList=make())
    token = credential_on(agency, list_url, holder=did_key(holder.public))
    vp, challenge = presented(token, holder, now=NOW)
    result = library_verifier(agency).verify_presentation(vp, challenge=challenge, domain=DOMAIN)
    assert not result.verified
    (inner,) = result.credentials
    assert inner.codes == (code,), inner.errors


def _list_credential(encoded: object) -> dict[str, Any]:
    return {
        "id": "https://x.example/1",
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": "did:example:issuer",
        "credentialSubject": {
            "type": "BitstringStatusList",
            "statusPurpose": "revocation",
            "encodedList": encoded,
        },
    }


@pytest.mark.parametrize(
    "case", [name for name, case in HOSTILE.items() if case.code == "STATUS_VERIFICATION"]
)
def test_hostile_encodings_are_malformed_at_encoded_list(case: str) -> None:
    make = HOSTILE[case].make
    with pytest.raises(MalformedError) as info:
        parse_status_list_credential(_list_credential(make()), url="https://x.example/1")
    assert info.value.pointer == "/credentialSubject/encodedList"
    # a string that is no GZIP stream in ``u`` multibase cannot be parsed; anything else is
    # not even a string
    expected = "PARSING_ERROR" if isinstance(make(), str) else "MALFORMED"
    assert info.value.code == expected


def test_nested_gzip_is_inflated_once() -> None:
    # an issuer that compressed twice publishes the inner stream's bytes as its bits: they
    # are read as bits (too few: STATUS_LIST_LENGTH above), never inflated a second time
    inner = gz(BITS)
    assert decode_bitstring(multibase_u(gz(inner))).data == inner


class _Work:
    """Counts what the decoder asks of zlib: inflaters, bytes in, bytes out."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.inflaters = 0
        self.bytes_in = 0
        self.bytes_out = 0
        real = zlib.decompressobj
        work = self

        class Inflater:
            def __init__(self, wbits: int) -> None:
                work.inflaters += 1
                self._inner = real(wbits)

            def decompress(self, data: bytes, max_length: int = 0) -> bytes:
                work.bytes_in += len(data)
                out = self._inner.decompress(data, max_length)
                work.bytes_out += len(out)
                return out

            def __getattr__(self, name: str) -> Any:
                return getattr(self._inner, name)

        monkeypatch.setattr(status_codec.zlib, "decompressobj", Inflater)


@pytest.mark.parametrize("count", [MAX_GZIP_MEMBERS + 1, 1_000, MANY_EMPTY])
def test_decoding_work_does_not_grow_with_the_number_of_members(
    monkeypatch: pytest.MonkeyPatch, count: int
) -> None:
    raw = gz(b"") * count
    work = _Work(monkeypatch)
    with pytest.raises(ParsingError, match="GZIP members"):
        decode_bitstring(multibase_u(raw))
    # refused after the cap: never one inflater per member, never more than the cap's worth
    # of passes over the input (quadratic before: 100,000 inflaters, each over the rest)
    assert work.inflaters == MAX_GZIP_MEMBERS
    assert work.bytes_in <= MAX_GZIP_MEMBERS * len(raw)


@pytest.mark.parametrize("parts", [1, 2, MAX_GZIP_MEMBERS])
def test_a_bomb_inflates_at_most_the_cap_however_it_is_split(
    monkeypatch: pytest.MonkeyPatch, parts: int
) -> None:
    work = _Work(monkeypatch)
    with pytest.raises(StatusUnavailableError) as info:
        decode_bitstring(multibase_u(bomb(5 << 20) * parts), max_bytes=4 << 20)
    assert info.value.code == "STATUS_LIST_LENGTH"
    assert work.bytes_out <= (4 << 20) + 1
    assert work.inflaters == 1  # the first member is already past the cap


def test_the_default_cap_inflates_at_most_16_mib(monkeypatch: pytest.MonkeyPatch) -> None:
    work = _Work(monkeypatch)
    with pytest.raises(StatusUnavailableError):
        decode_bitstring(multibase_u(bomb(64 << 20)))
    assert work.bytes_out == DEFAULT_MAX_BITSTRING_BYTES + 1
