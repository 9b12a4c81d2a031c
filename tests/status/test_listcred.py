"""Bitstring Status List v1.0 §2.2: BitstringStatusListCredential (vcred.status.listcred)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.status.support import (
    ISSUER,
    LIST_URL,
    NOW,
    SPEC_EXAMPLE_ENCODED_LIST,
    status_list_credential,
)
from vcred.errors import (
    MalformedError,
)
from vcred.status import (
    build_status_list_credential,
    decode_bitstring,
    parse_status_list_credential,
)

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
        # exactly: two versions signed within one second are told apart (§13.19)
        "validFrom": "2021-04-05T14:27:40.123456Z",
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
