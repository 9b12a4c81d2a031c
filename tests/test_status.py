"""Bitstring Status List v1.0: codec, data model, list credentials, cache and the status check.

https://www.w3.org/TR/vc-bitstring-status-list/
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import hmac
import io
import json
import threading
import time
import zlib
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vcred.errors import (
    CryptographicError,
    FetchRefusedError,
    MalformedError,
    ParsingError,
    ResolutionError,
    RevokedError,
    StatusListLengthError,
    StatusRangeError,
    StatusUnavailableError,
    StatusVerificationError,
    SuspendedError,
    UnsupportedError,
    UsageError,
)
from vcred.status import (
    MIN_ENTRIES,
    STATUS_LIST_ACCEPT,
    Bitstring,
    BitstringStatusListEntry,
    MutableBitstring,
    StatusChecker,
    StatusList,
    StatusListCache,
    StatusMessage,
    build_status_list_credential,
    check_status,
    decode_bitstring,
    encode_bitstring,
    parse_fetched,
    parse_status_list_credential,
    status_entries,
)

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
ISSUER = "did:example:12345"
LIST_URL = "https://example.com/credentials/status/3"
SUSPENSION_URL = "https://example.com/credentials/status/4"

# Bitstring Status List v1.0, Example 3 (§2.2): an empty 16 KB revocation list.
SPEC_EXAMPLE_ENCODED_LIST = "uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA"

# Bitstring Status List v1.0, Example 1 (§2.1): a credential with two status entries.
SPEC_EXAMPLE_CREDENTIAL: dict[str, Any] = {
    "@context": [
        "https://www.w3.org/ns/credentials/v2",
        "https://www.w3.org/ns/credentials/examples/v2",
    ],
    "id": "https://example.com/credentials/23894672394",
    "type": ["VerifiableCredential", "EmployeeIdCredential"],
    "issuer": ISSUER,
    "validFrom": "2024-04-05T14:27:42Z",
    "credentialStatus": [
        {
            "id": "https://example.com/credentials/status/3#94567",
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": "94567",
            "statusListCredential": LIST_URL,
        },
        {
            "id": "https://example.com/credentials/status/4#23452",
            "type": "BitstringStatusListEntry",
            "statusPurpose": "suspension",
            "statusListIndex": "23452",
            "statusListCredential": SUSPENSION_URL,
        },
    ],
    "credentialSubject": {"id": "did:example:6789", "type": "Person", "employeeId": "A-123456"},
}

# Example 2 (§2.1), with the four messages a statusSize of 2 needs.
MESSAGES = [
    {"status": "0x0", "message": "pending_review"},
    {"status": "0x1", "message": "accepted"},
    {"status": "0x2", "message": "rejected"},
    {"status": "0x3", "message": "undefined"},
]
MESSAGE_URL = "https://example.com/credentials/status/8"
MESSAGE_ENTRY: dict[str, Any] = {
    "id": "https://example.com/credentials/status/8#492847",
    "type": "BitstringStatusListEntry",
    "statusPurpose": "message",
    "statusListIndex": "492847",
    "statusSize": 2,
    "statusListCredential": MESSAGE_URL,
    "statusMessage": MESSAGES,
    "statusReference": "https://example.org/status-dictionary/",
}


# --- test doubles ---------------------------------------------------------------------------


class FakeSecurer:
    """Stands in for Data Integrity / vc+jwt: an HMAC per issuer over canonical JSON.

    ``secure`` gives the JSON form, ``secure_jwt`` a compact JWS-shaped string; ``verify`` is
    the ``verify_list`` callable and accepts both, as the pipeline's verifier will.
    """

    def __init__(self) -> None:
        self._keys: dict[str, bytes] = {}
        self.seen: list[object] = []

    def _mac(self, issuer: str, body: bytes) -> str:
        key = self._keys.setdefault(issuer, hashlib.sha256(issuer.encode()).digest())
        return hmac.new(key, body, hashlib.sha256).hexdigest()

    def secure(self, credential: Mapping[str, Any]) -> dict[str, Any]:
        body = json.dumps(credential, sort_keys=True).encode()
        proof = {"type": "TestProof", "mac": self._mac(str(credential["issuer"]), body)}
        return {**credential, "proof": proof}

    def secure_jwt(self, credential: Mapping[str, Any]) -> str:
        payload = base64.urlsafe_b64encode(json.dumps(credential).encode()).rstrip(b"=")
        mac = self._mac(str(credential["issuer"]), payload).encode()
        return "eyJhbGciOiJURVNUIn0." + payload.decode() + "." + mac.decode()

    def verify(self, document: object) -> Mapping[str, Any]:
        self.seen.append(document)
        if isinstance(document, str):
            _header, payload, mac = document.split(".")
            credential = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
            if not hmac.compare_digest(mac, self._mac(credential["issuer"], payload.encode())):
                raise CryptographicError("bad signature")
            return dict(credential)
        if not isinstance(document, dict) or "proof" not in document:
            raise CryptographicError("no proof")
        credential = {k: v for k, v in document.items() if k != "proof"}
        body = json.dumps(credential, sort_keys=True).encode()
        if not hmac.compare_digest(document["proof"]["mac"], self._mac(credential["issuer"], body)):
            raise CryptographicError("bad signature")
        return credential


class DictFetcher:
    """A Fetcher over a dict of URL → document; counts fetches, records the arguments."""

    def __init__(self, documents: dict[str, object] | None = None) -> None:
        self.documents: dict[str, object] = dict(documents or {})
        self.calls: list[tuple[str, str, int]] = []
        self.refuse: set[str] = set()

    def fetch(self, url: str, *, accept: str, max_bytes: int) -> bytes:
        self.calls.append((url, accept, max_bytes))
        if url in self.refuse:
            raise FetchRefusedError(f"refused {url}")
        if url not in self.documents:
            raise ResolutionError(f"404 {url}")
        document = self.documents[url]
        if isinstance(document, bytes):
            return document
        if isinstance(document, str):
            return document.encode()
        return json.dumps(document).encode()


def status_list_credential(
    *,
    url: str = LIST_URL,
    purpose: str = "revocation",
    set_bits: dict[int, int] | None = None,
    issuer: str = ISSUER,
    entries: int = MIN_ENTRIES,
    status_size: int = 1,
    ttl: timedelta | None = timedelta(minutes=10),
    valid_from: datetime = NOW - timedelta(days=1),
    valid_until: datetime | None = NOW + timedelta(days=30),
) -> dict[str, Any]:
    bits = MutableBitstring(entries, status_size=status_size)
    for index, value in (set_bits or {}).items():
        bits.set(index, value)
    return build_status_list_credential(
        list_url=url,
        issuer=issuer,
        purpose=purpose,
        bitstring=bits,
        valid_from=valid_from,
        valid_until=valid_until,
        ttl=ttl,
        status_size=status_size,
        min_entries=min(entries, MIN_ENTRIES),
    )


def credential_with(*entries: dict[str, Any], issuer: str = ISSUER) -> dict[str, Any]:
    status: Any = entries[0] if len(entries) == 1 else list(entries)
    return {**SPEC_EXAMPLE_CREDENTIAL, "issuer": issuer, "credentialStatus": status}


def revocation_entry(index: int = 94567, url: str = LIST_URL) -> dict[str, Any]:
    return {
        "id": f"{url}#{index}",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": str(index),
        "statusListCredential": url,
    }


def suspension_entry(index: int = 23452, url: str = SUSPENSION_URL) -> dict[str, Any]:
    return {**revocation_entry(index, url), "statusPurpose": "suspension"}


@pytest.fixture
def securer() -> FakeSecurer:
    return FakeSecurer()


@pytest.fixture
def fetcher() -> DictFetcher:
    return DictFetcher()


@pytest.fixture
def checker(securer: FakeSecurer, fetcher: DictFetcher) -> StatusChecker:
    return StatusChecker(fetcher=fetcher, verify_list=securer.verify)


def publish(fetcher: DictFetcher, securer: FakeSecurer, **options: Any) -> None:
    credential = status_list_credential(**options)
    fetcher.documents[credential["id"]] = securer.secure(credential)


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


# --- BitstringStatusListEntry (§2.1) -------------------------------------------------------


def test_spec_example_entries_parse() -> None:
    raw, notes = status_entries(SPEC_EXAMPLE_CREDENTIAL)
    assert notes == []
    parsed = [BitstringStatusListEntry.parse(item, pointer=p) for p, item in raw]
    assert [(e.purpose, e.index, e.list_url) for e in parsed] == [
        ("revocation", 94567, LIST_URL),
        ("suspension", 23452, SUSPENSION_URL),
    ]
    assert [p for p, _ in raw] == ["/credentialStatus/0", "/credentialStatus/1"]
    assert parsed[0].to_json() == SPEC_EXAMPLE_CREDENTIAL["credentialStatus"][0]


def test_spec_example_message_entry_parses() -> None:
    entry = BitstringStatusListEntry.parse(MESSAGE_ENTRY)
    assert entry.status_size == 2
    assert entry.message_for(2) == "rejected"
    assert entry.status_reference == ("https://example.org/status-dictionary/",)
    assert entry.to_json() == MESSAGE_ENTRY


def test_single_bit_entries_default_to_set_and_unset() -> None:
    entry = BitstringStatusListEntry.parse(revocation_entry())
    assert (entry.message_for(0), entry.message_for(1)) == ("unset", "set")


@pytest.mark.parametrize(
    ("change", "pointer"),
    [
        ({"statusListIndex": 94567}, "/statusListIndex"),  # a number, not a string
        ({"statusListIndex": "-1"}, "/statusListIndex"),
        ({"statusListIndex": "0x10"}, "/statusListIndex"),
        ({"statusListIndex": ""}, "/statusListIndex"),
        ({"statusListIndex": "1" * 40}, "/statusListIndex"),
        ({"statusListCredential": None}, "/statusListCredential"),
        ({"statusListCredential": "not a url"}, "/statusListCredential"),
        ({"statusPurpose": ""}, "/statusPurpose"),
        ({"statusPurpose": ["revocation"]}, "/statusPurpose"),
        ({"type": "StatusList2021Entry"}, "/type"),
        ({"statusSize": 0}, "/statusSize"),
        ({"statusSize": True}, "/statusSize"),
        ({"statusSize": "2"}, "/statusSize"),
        ({"statusSize": 2}, "/statusMessage"),  # statusSize > 1 needs statusMessage
        ({"statusMessage": MESSAGES}, "/statusMessage"),  # 4 messages for 1 bit
        ({"statusMessage": [{"status": "0", "message": "x"}] * 2}, "/statusMessage/0/status"),
        ({"statusMessage": [{"status": "0x0", "message": 1}] * 2}, "/statusMessage/0/message"),
        ({"statusMessage": [{"status": "0x0", "message": "a"}] * 2}, "/statusMessage/1/status"),
        ({"statusMessage": "set"}, "/statusMessage"),
        ({"statusReference": 7}, "/statusReference"),
        ({"statusReference": ["https://a.example/", 7]}, "/statusReference/1"),
        ({"id": LIST_URL}, "/id"),  # §2.1: id MUST NOT be the URL of the status list
    ],
)
def test_malformed_entries_say_where(change: dict[str, Any], pointer: str) -> None:
    with pytest.raises(MalformedError) as info:
        BitstringStatusListEntry.parse(
            {**revocation_entry(), **change}, pointer="/credentialStatus"
        )
    assert info.value.pointer == "/credentialStatus" + pointer


def test_entries_of_other_types_are_ignored_with_a_note() -> None:
    credential = credential_with(
        # StatusList2021Entry was the example here; it is read since issue 18 (docs/legacy.md)
        {"id": "https://example.com/s#1", "type": "CredentialStatusList2017"},
        revocation_entry(),
    )
    raw, notes = status_entries(credential)
    assert [p for p, _ in raw] == ["/credentialStatus/1"]
    assert notes
    assert "CredentialStatusList2017" in notes[0]


def test_credential_status_must_be_an_object_or_array() -> None:
    with pytest.raises(MalformedError) as info:
        status_entries({"credentialStatus": "revoked"})
    assert info.value.pointer == "/credentialStatus"
    with pytest.raises(MalformedError):
        status_entries({"credentialStatus": ["revoked"]})


def test_issuers_cannot_build_invalid_entries() -> None:
    with pytest.raises(UsageError):
        BitstringStatusListEntry(purpose="message", index=1, list_url=MESSAGE_URL, status_size=2)
    entry = BitstringStatusListEntry(
        purpose="message",
        index=1,
        list_url=MESSAGE_URL,
        status_size=1,
        status_messages=(
            StatusMessage(status=0, message="ok"),
            StatusMessage(status=1, message="held"),
        ),
    )
    assert entry.to_json()["statusMessage"][1] == {"status": "0x1", "message": "held"}


# --- BitstringStatusListCredential (§2.2) ---------------------------------------------------


def test_built_list_credential_matches_the_spec_shape() -> None:
    credential = build_status_list_credential(
        list_url=LIST_URL,
        issuer=ISSUER,
        purpose="revocation",
        bitstring=bytes(16 * 1024),
        valid_from=datetime(2021, 4, 5, 14, 27, 40, 123456, tzinfo=UTC),
        ttl=timedelta(minutes=5),
    )
    assert credential == {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": LIST_URL,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": ISSUER,
        "validFrom": "2021-04-05T14:27:40Z",
        "credentialSubject": {
            "id": LIST_URL + "#list",
            "type": "BitstringStatusList",
            "statusPurpose": "revocation",
            "encodedList": credential["credentialSubject"]["encodedList"],
            "ttl": 300_000,
        },
    }
    assert decode_bitstring(credential["credentialSubject"]["encodedList"]).data == bytes(16384)


def test_list_credential_round_trips() -> None:
    credential = status_list_credential(set_bits={7: 1}, purpose="suspension")
    status_list = parse_status_list_credential(credential, url=LIST_URL)
    assert status_list.purposes == ("suspension",)
    assert status_list.issuer == ISSUER
    assert status_list.ttl == timedelta(minutes=10)
    assert status_list.valid_until == NOW + timedelta(days=30)
    assert status_list.bits.bit(7) == 1


def test_spec_example_list_credential_parses() -> None:
    credential = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": LIST_URL,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": {"id": ISSUER, "name": "Example"},
        "validFrom": "2021-04-05T14:27:40Z",
        "credentialSubject": {
            "id": "https://example.com/status/3#list",
            "type": "BitstringStatusList",
            "statusPurpose": ["revocation", "suspension"],  # §2.2: one or more strings
            "encodedList": SPEC_EXAMPLE_ENCODED_LIST,
        },
    }
    status_list = parse_status_list_credential(credential, url=LIST_URL)
    assert status_list.issuer == ISSUER
    assert status_list.purposes == ("revocation", "suspension")
    assert status_list.ttl is None


@pytest.mark.parametrize(
    ("change", "pointer"),
    [
        ({"type": ["VerifiableCredential"]}, "/type"),
        ({"id": "https://example.com/credentials/status/9"}, "/id"),  # another list's credential
        ({"validUntil": "2025-01-01"}, "/validUntil"),
        ({"validFrom": "2025-01-01T00:00:00"}, "/validFrom"),  # no offset
        ({"issuer": 7}, "/issuer"),
        ({"credentialSubject": [{}]}, "/credentialSubject"),
    ],
)
def test_malformed_list_credentials_say_where(change: dict[str, Any], pointer: str) -> None:
    credential = {**status_list_credential(), **change}
    with pytest.raises(MalformedError) as info:
        parse_status_list_credential(credential, url=LIST_URL)
    assert info.value.pointer == pointer


@pytest.mark.parametrize(
    ("change", "pointer"),
    [
        ({"type": "StatusList2021"}, "/credentialSubject/type"),
        ({"statusPurpose": []}, "/credentialSubject/statusPurpose"),
        ({"ttl": -1}, "/credentialSubject/ttl"),
        ({"ttl": "300"}, "/credentialSubject/ttl"),
        ({"statusSize": 0}, "/credentialSubject/statusSize"),
        ({"encodedList": None}, "/credentialSubject/encodedList"),
        ({"encodedList": "uAAAA"}, "/credentialSubject/encodedList"),
    ],
)
def test_malformed_list_subjects_say_where(change: dict[str, Any], pointer: str) -> None:
    credential = status_list_credential()
    credential["credentialSubject"] = {**credential["credentialSubject"], **change}
    with pytest.raises(MalformedError) as info:
        parse_status_list_credential(credential, url=LIST_URL)
    assert info.value.pointer == pointer


# --- the status check (§3.2) ---------------------------------------------------------------


def test_unrevoked_credential_passes(
    checker: StatusChecker, fetcher: DictFetcher, securer: FakeSecurer
) -> None:
    publish(fetcher, securer, set_bits={1: 1, 94568: 1})
    report = checker.check(credential_with(revocation_entry()), now=NOW)
    assert report.ok
    (entry,) = report.entries
    assert (entry.purpose, entry.index, entry.value, entry.message) == (
        "revocation",
        94567,
        0,
        "unset",
    )
    assert entry.valid
    assert entry.list_url == LIST_URL
    assert entry.pointer == "/credentialStatus"
    assert entry.fetched_at == NOW
    assert entry.age == timedelta(0)
    assert not entry.stale
    report.raise_for_status()
    assert fetcher.calls == [(LIST_URL, STATUS_LIST_ACCEPT, checker.max_fetch_bytes)]


def test_revoked_credential_is_reported(
    checker: StatusChecker, fetcher: DictFetcher, securer: FakeSecurer
) -> None:
    publish(fetcher, securer, set_bits={94567: 1})
    report = checker.check(credential_with(revocation_entry()), now=NOW)
    assert not report.ok
    (entry,) = report.entries
    assert entry.value == 1
    assert entry.message == "set"
    assert isinstance(entry.error, RevokedError)
    assert entry.error.as_dict() == {
        "code": "REVOKED",
        "message": "the credential has been revoked",
        "path": "/credentialStatus",
    }
    with pytest.raises(RevokedError):
        report.raise_for_status()
    assert entry.as_dict() == {
        "path": "/credentialStatus",
        "purpose": "revocation",
        "index": 94567,
        "statusListCredential": LIST_URL,
        "statusSize": 1,
        "value": 1,
        "message": "set",
        "valid": False,
        "fetchedAt": "2025-06-01T12:00:00Z",
        "ageSeconds": 0,
        "stale": False,
        "error": entry.error.as_dict(),
    }
    json.dumps(entry.as_dict())


def test_spec_example_credential_with_revocation_and_suspension(
    checker: StatusChecker, fetcher: DictFetcher, securer: FakeSecurer
) -> None:
    publish(fetcher, securer)
    publish(fetcher, securer, url=SUSPENSION_URL, purpose="suspension", set_bits={23452: 1})
    report = checker.check(SPEC_EXAMPLE_CREDENTIAL, now=NOW)
    revocation, suspension = report.entries
    assert revocation.error is None
    assert revocation.value == 0
    assert isinstance(suspension.error, SuspendedError)
    assert suspension.error.pointer == "/credentialStatus/1"
    with pytest.raises(SuspendedError):
        report.raise_for_status()


def test_revocation_outranks_suspension(
    checker: StatusChecker, fetcher: DictFetcher, securer: FakeSecurer
) -> None:
    publish(fetcher, securer, set_bits={94567: 1})
    publish(fetcher, securer, url=SUSPENSION_URL, purpose="suspension", set_bits={23452: 1})
    report = checker.check(SPEC_EXAMPLE_CREDENTIAL, now=NOW)
    assert [type(e) for e in report.errors] == [RevokedError, SuspendedError]
    with pytest.raises(RevokedError):
        report.raise_for_status()


def test_suspension_then_reinstatement(
    checker: StatusChecker, fetcher: DictFetcher, securer: FakeSecurer
) -> None:
    credential = credential_with(suspension_entry())
    publish(fetcher, securer, url=SUSPENSION_URL, purpose="suspension", set_bits={23452: 1})
    assert isinstance(checker.check(credential, now=NOW).entries[0].error, SuspendedError)
    # the issuer reinstates; until the list's ttl runs out the verifier keeps its copy
    publish(fetcher, securer, url=SUSPENSION_URL, purpose="suspension")
    later = NOW + timedelta(minutes=9)
    assert isinstance(checker.check(credential, now=later).entries[0].error, SuspendedError)
    after_ttl = NOW + timedelta(minutes=10)
    report = checker.check(credential, now=after_ttl)
    assert report.ok
    assert report.entries[0].fetched_at == after_ttl
    assert len(fetcher.calls) == 2


def test_ttl_is_honoured(
    checker: StatusChecker, fetcher: DictFetcher, securer: FakeSecurer
) -> None:
    publish(fetcher, securer, ttl=timedelta(seconds=30))
    credential = credential_with(revocation_entry())
    for seconds in (0, 10, 29):
        entry = checker.check(credential, now=NOW + timedelta(seconds=seconds)).entries[0]
        assert entry.fetched_at == NOW
        assert entry.age == timedelta(seconds=seconds)
    assert len(fetcher.calls) == 1
    checker.check(credential, now=NOW + timedelta(seconds=30))
    assert len(fetcher.calls) == 2


def test_without_ttl_the_cache_default_applies_and_valid_until_caps_it(
    fetcher: DictFetcher, securer: FakeSecurer
) -> None:
    cache = StatusListCache(default_ttl=timedelta(minutes=1))
    checker = StatusChecker(fetcher=fetcher, verify_list=securer.verify, cache=cache)
    credential = credential_with(revocation_entry())
    publish(fetcher, securer, ttl=None, valid_until=NOW + timedelta(seconds=20))
    checker.check(credential, now=NOW)
    cached = cache.get(LIST_URL, now=NOW)
    assert cached is not None
    assert cached.fresh_until == NOW + timedelta(seconds=20)
    publish(fetcher, securer, ttl=None, valid_until=None)
    checker.check(credential, now=NOW + timedelta(seconds=20))
    cached = cache.get(LIST_URL, now=NOW + timedelta(seconds=20))
    assert cached is not None
    assert cached.fresh_until == NOW + timedelta(seconds=20) + timedelta(minutes=1)


def test_tampered_list_is_refused(
    checker: StatusChecker, fetcher: DictFetcher, securer: FakeSecurer
) -> None:
    publish(fetcher, securer, set_bits={94567: 1})
    signed = fetcher.documents[LIST_URL]
    assert isinstance(signed, dict)
    tampered = json.loads(json.dumps(signed))
    tampered["credentialSubject"]["encodedList"] = MutableBitstring().encode()  # "unrevoke"
    fetcher.documents[LIST_URL] = tampered
    report = checker.check(credential_with(revocation_entry()), now=NOW)
    (entry,) = report.entries
    assert isinstance(entry.error, StatusVerificationError)
    assert entry.value is None
    assert entry.error.code == "STATUS_VERIFICATION"
    assert entry.error.problem_type.endswith("#STATUS_VERIFICATION_ERROR")
    assert entry.error.pointer == "/credentialStatus/statusListCredential"
    assert isinstance(entry.error.__cause__, CryptographicError)
    assert checker.cache.get(LIST_URL, now=NOW) is None  # nothing unverified is cached


def test_list_signed_by_another_issuer_is_refused(
    checker: StatusChecker, fetcher: DictFetcher, securer: FakeSecurer
) -> None:
    publish(fetcher, securer, issuer="did:example:mallory")  # a valid list, wrong issuer
    (entry,) = checker.check(credential_with(revocation_entry()), now=NOW).entries
    assert isinstance(entry.error, StatusVerificationError)
    assert "did:example:mallory" in entry.error.message


def test_list_issuer_may_be_an_object(
    checker: StatusChecker, fetcher: DictFetcher, securer: FakeSecurer
) -> None:
    publish(fetcher, securer)
    credential = credential_with(revocation_entry())
    credential["issuer"] = {"id": ISSUER, "name": "US CBP"}
    assert checker.check(credential, now=NOW).ok


def test_index_out_of_range_is_a_range_error(
    checker: StatusChecker, fetcher: DictFetcher, securer: FakeSecurer
) -> None:
    publish(fetcher, securer)
    (entry,) = checker.check(credential_with(revocation_entry(MIN_ENTRIES)), now=NOW).entries
    assert isinstance(entry.error, StatusRangeError)
    assert entry.error.pointer == "/credentialStatus/statusListIndex"
    assert entry.error.problem_type.endswith("#RANGE_ERROR")


def test_short_list_is_a_length_error(
    checker: StatusChecker, fetcher: DictFetcher, securer: FakeSecurer
) -> None:
    publish(fetcher, securer, entries=1024)
    (entry,) = checker.check(credential_with(revocation_entry(5)), now=NOW).entries
    assert isinstance(entry.error, StatusListLengthError)
    lenient = StatusChecker(fetcher=fetcher, verify_list=securer.verify, min_entries=1024)
    assert lenient.check(credential_with(revocation_entry(5)), now=NOW).ok


def test_gzip_bomb_list_is_a_length_error(fetcher: DictFetcher, securer: FakeSecurer) -> None:
    credential = status_list_credential()
    bomb = zlib.compress(bytes(4 * 1024 * 1024), 9, 31)
    encoded = "u" + base64.urlsafe_b64encode(bomb).rstrip(b"=").decode()
    credential["credentialSubject"]["encodedList"] = encoded
    fetcher.documents[LIST_URL] = securer.secure(credential)
    checker = StatusChecker(fetcher=fetcher, verify_list=securer.verify, max_list_bytes=1024 * 1024)
    (entry,) = checker.check(credential_with(revocation_entry()), now=NOW).entries
    assert isinstance(entry.error, StatusListLengthError)
    assert entry.error.pointer == "/credentialStatus/statusListCredential"


def test_purpose_mismatch_is_refused(
    checker: StatusChecker, fetcher: DictFetcher, securer: FakeSecurer
) -> None:
    publish(fetcher, securer, purpose="suspension")  # a suspension list behind a revocation entry
    (entry,) = checker.check(credential_with(revocation_entry()), now=NOW).entries
    assert isinstance(entry.error, StatusVerificationError)
    assert entry.error.pointer == "/credentialStatus/statusPurpose"


def test_list_serving_several_purposes(
    checker: StatusChecker, fetcher: DictFetcher, securer: FakeSecurer
) -> None:
    publish(fetcher, securer, purpose=["revocation", "suspension"], set_bits={5: 1})
    suspended = {**suspension_entry(5, LIST_URL)}
    report = checker.check(credential_with(revocation_entry(4), suspended), now=NOW)
    assert report.entries[0].error is None
    assert isinstance(report.entries[1].error, SuspendedError)
    assert len(fetcher.calls) == 1  # one list, fetched once


def test_status_size_two_reports_the_message(
    checker: StatusChecker, fetcher: DictFetcher, securer: FakeSecurer
) -> None:
    publish(
        fetcher,
        securer,
        url=MESSAGE_URL,
        purpose="message",
        status_size=2,
        entries=524_288,
        set_bits={492847: 2, 492848: 3},
    )
    report = checker.check(credential_with(MESSAGE_ENTRY), now=NOW)
    (entry,) = report.entries
    assert (entry.value, entry.message, entry.status_size) == (2, "rejected", 2)
    assert entry.error is None  # a message is information, not a failure
    assert not entry.valid  # §3.2 step 13: valid only when the status is 0


def test_status_size_disagreeing_with_the_list_is_refused(
    checker: StatusChecker, fetcher: DictFetcher, securer: FakeSecurer
) -> None:
    # a list that states its statusSize, as drafts before April 2024 had lists do
    listed = status_list_credential(
        url=MESSAGE_URL, purpose="message", status_size=2, entries=524_288
    )
    listed["credentialSubject"]["statusSize"] = 2
    fetcher.documents[MESSAGE_URL] = securer.secure(listed)
    one_bit = {**MESSAGE_ENTRY, "statusSize": 1, "statusMessage": MESSAGES[:2]}
    (entry,) = checker.check(credential_with(one_bit), now=NOW).entries
    assert isinstance(entry.error, StatusVerificationError)
    assert entry.error.pointer == "/credentialStatus/statusSize"


def test_expired_and_not_yet_valid_lists_are_refused(
    checker: StatusChecker, fetcher: DictFetcher, securer: FakeSecurer
) -> None:
    publish(fetcher, securer, valid_until=NOW)
    (entry,) = checker.check(credential_with(revocation_entry()), now=NOW).entries
    assert isinstance(entry.error, StatusVerificationError)
    assert "expired" in entry.error.message
    publish(fetcher, securer, valid_from=NOW + timedelta(hours=1), valid_until=None)
    checker.cache.clear()
    (entry,) = checker.check(credential_with(revocation_entry()), now=NOW).entries
    assert isinstance(entry.error, StatusVerificationError)
    assert "not valid yet" in entry.error.message


def test_unreachable_list_is_unavailable(
    checker: StatusChecker, fetcher: DictFetcher, securer: FakeSecurer
) -> None:
    (entry,) = checker.check(credential_with(revocation_entry()), now=NOW).entries
    assert type(entry.error) is StatusUnavailableError
    assert entry.error.code == "STATUS_UNAVAILABLE"
    assert entry.error.problem_type.endswith("#STATUS_RETRIEVAL_ERROR")
    assert isinstance(entry.error.__cause__, ResolutionError)
    assert entry.fetched_at is None
    assert entry.value is None


def test_refused_fetch_is_unavailable(
    checker: StatusChecker, fetcher: DictFetcher, securer: FakeSecurer
) -> None:
    publish(fetcher, securer)
    fetcher.refuse.add(LIST_URL)  # e.g. the list URL points into a private network
    (entry,) = checker.check(credential_with(revocation_entry()), now=NOW).entries
    assert type(entry.error) is StatusUnavailableError
    assert isinstance(entry.error.__cause__, FetchRefusedError)


def test_without_a_fetcher_status_fails_closed(securer: FakeSecurer) -> None:
    report = check_status(
        credential_with(revocation_entry()), fetcher=None, verify_list=securer.verify, now=NOW
    )
    assert isinstance(report.entries[0].error, StatusUnavailableError)
    with pytest.raises(StatusUnavailableError):
        report.raise_for_status()


@pytest.mark.parametrize(
    "document",
    [b"<html>not found</html>", b"\xff\xfe", b'{"a": 1, "a": 2}', b"{"],
)
def test_unreadable_lists_are_refused(
    checker: StatusChecker, fetcher: DictFetcher, document: bytes
) -> None:
    fetcher.documents[LIST_URL] = document
    (entry,) = checker.check(credential_with(revocation_entry()), now=NOW).entries
    assert isinstance(entry.error, StatusVerificationError)


def test_jwt_secured_list_is_handed_to_verify_list(
    checker: StatusChecker, fetcher: DictFetcher, securer: FakeSecurer
) -> None:
    token = securer.secure_jwt(status_list_credential(set_bits={94567: 1}))
    fetcher.documents[LIST_URL] = token
    report = checker.check(credential_with(revocation_entry()), now=NOW)
    assert isinstance(report.entries[0].error, RevokedError)
    assert securer.seen == [token]


def test_list_served_under_another_url_is_refused(
    checker: StatusChecker, fetcher: DictFetcher, securer: FakeSecurer
) -> None:
    # a validly signed list of the same issuer, replayed under the URL of another list
    other = status_list_credential(url="https://example.com/credentials/status/99")
    fetcher.documents[LIST_URL] = securer.secure(other)
    (entry,) = checker.check(credential_with(revocation_entry()), now=NOW).entries
    assert isinstance(entry.error, StatusVerificationError)


def test_credential_without_status_has_nothing_to_check(checker: StatusChecker) -> None:
    credential = {k: v for k, v in SPEC_EXAMPLE_CREDENTIAL.items() if k != "credentialStatus"}
    report = checker.check(credential, now=NOW)
    assert report.ok
    assert report.entries == ()
    assert report.notes == ()


def test_unknown_status_types_are_noted_not_failed(
    checker: StatusChecker, fetcher: DictFetcher, securer: FakeSecurer
) -> None:
    publish(fetcher, securer)
    credential = credential_with(
        revocation_entry(), {"id": "https://x.example/1", "type": "TokenStatusListEntry"}
    )
    report = checker.check(credential, now=NOW)
    assert report.ok
    assert len(report.entries) == 1
    assert report.notes == (
        "/credentialStatus/1: status type 'TokenStatusListEntry' is not checked (ignored)",
    )


def test_malformed_entry_raises_with_its_pointer(checker: StatusChecker) -> None:
    credential = credential_with(revocation_entry(), {**suspension_entry(), "statusListIndex": 7})
    with pytest.raises(MalformedError) as info:
        checker.check(credential, now=NOW)
    assert info.value.pointer == "/credentialStatus/1/statusListIndex"


def test_a_credential_cannot_make_the_verifier_fetch_many_lists(
    checker: StatusChecker, fetcher: DictFetcher
) -> None:
    entries = [revocation_entry(1, f"https://example.com/status/{i}") for i in range(9)]
    with pytest.raises(UnsupportedError):
        checker.check(credential_with(*entries), now=NOW)
    assert fetcher.calls == []


def test_naive_now_is_misuse(checker: StatusChecker) -> None:
    with pytest.raises(UsageError):
        checker.check(SPEC_EXAMPLE_CREDENTIAL, now=datetime(2025, 1, 1))


# --- offline mode and the cache -------------------------------------------------------------


def test_offline_mode_answers_from_a_stale_cache_with_its_age(
    fetcher: DictFetcher, securer: FakeSecurer
) -> None:
    cache = StatusListCache()
    online = StatusChecker(fetcher=fetcher, verify_list=securer.verify, cache=cache)
    offline = StatusChecker(fetcher=None, verify_list=securer.verify, cache=cache, offline=True)
    credential = credential_with(revocation_entry())
    (entry,) = offline.check(credential, now=NOW).entries
    assert type(entry.error) is StatusUnavailableError  # never seen: nothing to answer with
    publish(fetcher, securer, set_bits={94567: 1})
    online.check(credential, now=NOW)
    two_hours = NOW + timedelta(hours=2)
    (entry,) = offline.check(credential, now=two_hours).entries
    assert isinstance(entry.error, RevokedError)
    assert entry.stale
    assert entry.age == timedelta(hours=2)
    assert entry.fetched_at == NOW
    held = cache.get_stale(LIST_URL, now=two_hours)
    assert held is not None
    assert held[1] == timedelta(hours=2)
    assert cache.get(LIST_URL, now=two_hours) is None
    assert len(fetcher.calls) == 1


def test_offline_mode_still_refuses_an_expired_list(
    fetcher: DictFetcher, securer: FakeSecurer
) -> None:
    cache = StatusListCache()
    online = StatusChecker(fetcher=fetcher, verify_list=securer.verify, cache=cache)
    # a week's max_age, so that the list's own validUntil is what refuses it
    offline = StatusChecker(
        fetcher=None,
        verify_list=securer.verify,
        cache=cache,
        offline=True,
        max_age=timedelta(days=7),
    )
    publish(fetcher, securer, valid_until=NOW + timedelta(days=1))
    credential = credential_with(revocation_entry())
    online.check(credential, now=NOW)
    (entry,) = offline.check(credential, now=NOW + timedelta(days=2)).entries
    assert isinstance(entry.error, StatusVerificationError)
    assert entry.stale


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


def test_parse_fetched_accepts_json_and_compact_forms() -> None:
    assert parse_fetched(b'\xef\xbb\xbf {"a": 1}\n') == {"a": 1}
    assert parse_fetched(b"aGVhZA.cGF5bG9hZA.c2ln") == "aGVhZA.cGF5bG9hZA.c2ln"
    assert parse_fetched(b"aGVhZA.cGF5bG9hZA.c2ln~ZGlzYw~") == "aGVhZA.cGF5bG9hZA.c2ln~ZGlzYw~"
    with pytest.raises(ParsingError):
        parse_fetched(b"[1, 2]")


def test_a_list_nested_past_the_recursion_limit_is_a_parsing_error() -> None:
    # json.loads raises RecursionError for deep nesting, which is not a ValueError
    with pytest.raises(ParsingError, match="not valid JSON"):
        parse_fetched(b'{"a": ' + b"[" * 5000 + b"]" * 5000 + b"}")
