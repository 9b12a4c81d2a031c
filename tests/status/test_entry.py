"""Bitstring Status List v1.0 §2.1: BitstringStatusListEntry (vcred.status.entry)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.status.support import (
    LIST_URL,
    MESSAGE_ENTRY,
    MESSAGE_URL,
    MESSAGES,
    SPEC_EXAMPLE_CREDENTIAL,
    SUSPENSION_URL,
    credential_with,
    revocation_entry,
)
from vcred.errors import (
    MalformedError,
    UsageError,
)
from vcred.status import (
    BitstringStatusListEntry,
    StatusMessage,
    status_entries,
)

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
