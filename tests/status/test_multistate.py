"""Multi-state status: ``statusSize`` > 1, ``statusMessage``, ``statusReference`` (issue 18).

https://www.w3.org/TR/vc-bitstring-status-list/#bitstringstatuslistentry (§2.1) and the
validate algorithm's step 14 (§3.2): the verifier reports what the value read means.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.conftest import credential
from tests.status.support import (
    MESSAGE_ENTRY,
    MESSAGE_URL,
    MESSAGES,
    NOW,
    DictFetcher,
    FakeSecurer,
    credential_with,
    status_list_credential,
)
from vcred import Verifier, did_key, issue
from vcred.errors import (
    MalformedError,
    StatusMessageError,
    StatusRangeError,
    UsageError,
)
from vcred.keys import KeyPair
from vcred.status import (
    MAX_STATUS_SIZE,
    BitstringStatusListEntry,
    MutableBitstring,
    StatusChecker,
    StatusMessage,
    build_status_list_credential,
    parse_status_list_credential,
    set_status_value,
    status_list_credential_for,
)
from vcred.testing import MemoryIndexStore, StaticFetcher

#: A customs clearance state: 2 bits, four meanings.
CLEARANCE = ("cleared", "under review", "held for inspection", "undefined")
REFERENCE = "https://customs.example/status-dictionary"
ENTRIES = 524_288  # 128 KB of 2-bit entries: 131,072 entries, the herd-privacy minimum … × 4


def messages(texts: tuple[str, ...] = CLEARANCE) -> list[dict[str, str]]:
    return [{"status": hex(i), "message": text} for i, text in enumerate(texts)]


def message_list(
    *,
    status_size: int = 2,
    set_bits: dict[int, int] | None = None,
    list_messages: list[dict[str, str]] | None = None,
    entries: int = ENTRIES,
) -> dict[str, Any]:
    """A ``message`` list credential; ``list_messages`` put on its subject as given."""
    document = status_list_credential(
        url=MESSAGE_URL,
        purpose="message",
        status_size=status_size,
        set_bits=set_bits,
        entries=entries,
    )
    if list_messages is not None:
        document["credentialSubject"]["statusMessage"] = list_messages
    return document


def message_entry(index: int = 7, **change: Any) -> dict[str, Any]:
    entry = {
        "id": f"{MESSAGE_URL}#{index}",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "message",
        "statusListIndex": str(index),
        "statusSize": 2,
        "statusListCredential": MESSAGE_URL,
        "statusMessage": messages(),
        "statusReference": REFERENCE,
    }
    entry.update(change)
    return {k: v for k, v in entry.items() if v is not None}


def serve(fetcher: DictFetcher, securer: FakeSecurer, document: dict[str, Any]) -> None:
    fetcher.documents[document["id"]] = securer.secure(document)


# --- the verifier reads and reports each value's message ------------------------------------


@pytest.mark.parametrize("status_size", [2, 3])
def test_every_value_reads_back_with_its_message(
    status_size: int, checker: StatusChecker, fetcher: DictFetcher, securer: FakeSecurer
) -> None:
    texts = tuple(f"state {i}" for i in range(1 << status_size))
    values = {10 + i: i for i in range(len(texts))}
    serve(fetcher, securer, message_list(status_size=status_size, set_bits=values))
    for index, value in values.items():
        entry = message_entry(index, statusSize=status_size, statusMessage=messages(texts))
        (status,) = checker.check(credential_with(entry), now=NOW).entries
        assert (status.value, status.message, status.error) == (value, texts[value], None)
        assert status.valid is (value == 0)  # §3.2 step 13


def test_a_message_value_is_reported_not_failed(
    checker: StatusChecker, fetcher: DictFetcher, securer: FakeSecurer
) -> None:
    serve(fetcher, securer, message_list(set_bits={7: 1}))
    report = checker.check(credential_with(message_entry(7)), now=NOW)
    assert report.ok  # "under review" is information for the officer, not a failure
    (entry,) = report.entries
    assert entry.as_dict()["message"] == "under review"
    assert entry.as_dict()["statusReference"] == [REFERENCE]
    assert entry.as_dict()["statusSize"] == 2


def test_a_value_whose_message_is_undefined_fails_closed(
    checker: StatusChecker, fetcher: DictFetcher, securer: FakeSecurer
) -> None:
    serve(fetcher, securer, message_list(set_bits={7: 3}))
    report = checker.check(credential_with(message_entry(7)), now=NOW)
    assert not report.ok
    (entry,) = report.entries
    assert isinstance(entry.error, StatusMessageError)
    assert entry.error.code == "STATUS_MESSAGE_UNDEFINED"
    assert entry.error.pointer == "/credentialStatus/statusMessage/3"
    assert entry.message is None


def test_only_the_entry_says_what_a_value_means(
    checker: StatusChecker, fetcher: DictFetcher, securer: FakeSecurer
) -> None:
    # §2.1 (since April 2024): messages are committed to at issuance, in the credential; a
    # list that claims other meanings later (as drafts had lists do) does not change them
    swapped = messages(("cleared", "released", "under review", "held for inspection"))
    serve(fetcher, securer, message_list(set_bits={7: 1, 8: 3}, list_messages=swapped))
    (status,) = checker.check(credential_with(message_entry(7)), now=NOW).entries
    assert (status.value, status.message, status.error) == (1, "under review", None)
    (status,) = checker.check(credential_with(message_entry(8)), now=NOW).entries
    assert isinstance(status.error, StatusMessageError)  # "undefined" stays undefined


def test_a_one_bit_message_entry_without_messages_reads_set_and_unset(
    checker: StatusChecker, fetcher: DictFetcher, securer: FakeSecurer
) -> None:
    serve(fetcher, securer, message_list(status_size=1, set_bits={7: 1}))
    entry = message_entry(7, statusSize=None, statusMessage=None)
    (status,) = checker.check(credential_with(entry), now=NOW).entries
    assert (status.value, status.message, status.error) == (1, "set", None)


@pytest.mark.parametrize("purpose", ["Revocation", "revoked", "withdrawal"])
def test_a_set_bit_of_a_purpose_nobody_defined_fails_closed(
    purpose: str, checker: StatusChecker, fetcher: DictFetcher, securer: FakeSecurer
) -> None:
    # §2.1 lets an issuer name any purpose; one this verifier does not know, whose entry
    # gives no message, leaves a set bit without a meaning ("set"): it verified as valid
    document = status_list_credential(url=MESSAGE_URL, purpose=purpose, set_bits={7: 1})
    serve(fetcher, securer, document)
    entry = message_entry(7, statusPurpose=purpose, statusSize=None, statusMessage=None)
    (status,) = checker.check(credential_with(entry), now=NOW).entries
    assert isinstance(status.error, StatusMessageError), status
    assert status.error.pointer == "/credentialStatus/statusPurpose"
    unset = message_entry(8, statusPurpose=purpose, statusSize=None, statusMessage=None)
    (clear,) = checker.check(credential_with(unset), now=NOW).entries
    assert (clear.value, clear.error) == (0, None)  # an unset bit says nothing happened
    # the entry defining what its values mean is enough
    defined = message_entry(
        7, statusPurpose=purpose, statusSize=None, statusMessage=messages(("ok", "on hold"))
    )
    (status,) = checker.check(credential_with(defined), now=NOW).entries
    assert (status.value, status.message, status.error) == (1, "on hold", None)


def test_index_times_size_past_the_list_is_a_range_error(
    checker: StatusChecker, fetcher: DictFetcher, securer: FakeSecurer
) -> None:
    serve(fetcher, securer, message_list())
    last = ENTRIES - 1
    assert checker.check(credential_with(message_entry(last)), now=NOW).ok
    (status,) = checker.check(credential_with(message_entry(ENTRIES)), now=NOW).entries
    assert isinstance(status.error, StatusRangeError)
    assert status.error.pointer == "/credentialStatus/statusListIndex"


# --- malformed entries: MALFORMED with a pointer, never an exception of another kind ---------


@pytest.mark.parametrize(
    ("change", "pointer"),
    [
        ({"statusSize": MAX_STATUS_SIZE + 1}, "/statusSize"),
        ({"statusSize": 2**70}, "/statusSize"),
        ({"statusSize": 1.5}, "/statusSize"),
        ({"statusSize": 3}, "/statusMessage"),  # 4 messages for 8 values
        ({"statusMessage": messages()[:3]}, "/statusMessage"),
        ({"statusMessage": [*messages(), {"status": "0x4", "message": "x"}]}, "/statusMessage"),
        (
            {"statusMessage": [{"status": "0xZZ", "message": "x"}, *messages()[1:]]},
            "/statusMessage/0/status",
        ),
        (
            {"statusMessage": [{"status": "0x", "message": "x"}, *messages()[1:]]},
            "/statusMessage/0/status",
        ),
        (
            {"statusMessage": [{"status": "3", "message": "x"}, *messages()[1:]]},
            "/statusMessage/0/status",
        ),
        (
            {"statusMessage": [{"status": 0, "message": "x"}, *messages()[1:]]},
            "/statusMessage/0/status",
        ),
        (
            {"statusMessage": [{"status": "0x" + "0" * 17, "message": "x"}]},
            "/statusMessage/0/status",
        ),
        (
            {"statusMessage": [*messages()[:3], {"status": "0x4", "message": "x"}]},
            "/statusMessage/3/status",
        ),
        ({"statusMessage": [{"message": "x"}, *messages()[1:]]}, "/statusMessage/0/status"),
        ({"statusMessage": [{"status": "0x0"}, *messages()[1:]]}, "/statusMessage/0/message"),
        ({"statusMessage": [None, *messages()[1:]]}, "/statusMessage/0"),
        ({"statusReference": "not a url"}, "/statusReference"),
        ({"statusReference": [REFERENCE, {"id": REFERENCE}]}, "/statusReference/1"),
    ],
)
def test_malformed_multi_state_entries_say_where(change: dict[str, Any], pointer: str) -> None:
    with pytest.raises(MalformedError) as info:
        BitstringStatusListEntry.parse(message_entry(**change), pointer="/credentialStatus")
    assert info.value.pointer == "/credentialStatus" + pointer
    assert info.value.code == "MALFORMED"


def test_additional_members_of_a_message_are_allowed() -> None:
    # §2.1: each element "MAY contain additional properties"
    extended = [{**m, "label": {"en": m["message"]}} for m in messages()]
    entry = BitstringStatusListEntry.parse(message_entry(statusMessage=extended))
    assert entry.message_for(2) == "held for inspection"


def test_status_reference_may_be_a_url_or_urls() -> None:
    one = BitstringStatusListEntry.parse(message_entry())
    two = BitstringStatusListEntry.parse(message_entry(statusReference=[REFERENCE, MESSAGE_URL]))
    assert one.status_reference == (REFERENCE,)
    assert two.status_reference == (REFERENCE, MESSAGE_URL)
    assert one.to_json()["statusReference"] == REFERENCE
    assert two.to_json()["statusReference"] == [REFERENCE, MESSAGE_URL]


def test_a_malformed_multi_state_entry_does_not_make_verify_raise() -> None:
    key = KeyPair.generate()
    document = credential(credentialStatus=message_entry(statusSize=MAX_STATUS_SIZE + 1))
    result = Verifier(fetcher=StaticFetcher()).verify(issue(document, key))
    assert not result.verified
    assert result.errors[0].path == "/credentialStatus/statusSize"


# --- list credentials (§2.2) ------------------------------------------------------------------


def test_a_multi_bit_list_states_neither_size_nor_messages() -> None:
    # the entries carry them (§2.1); the v2 context defines neither on BitstringStatusList,
    # so a Data Integrity proof in safe mode could not cover them there
    key = KeyPair.generate()
    document = build_status_list_credential(
        list_url=MESSAGE_URL,
        issuer=did_key(key.public),
        purpose="message",
        bitstring=MutableBitstring(131_072, status_size=2),
        valid_from=NOW,
        status_size=2,
    )
    assert set(document["credentialSubject"]) == {"id", "type", "statusPurpose", "encodedList"}
    secured = issue(document, key, format="eddsa-rdfc-2022")
    assert isinstance(secured, dict) and secured["proof"]["cryptosuite"] == "eddsa-rdfc-2022"
    parsed = parse_status_list_credential(document, url=MESSAGE_URL)
    assert parsed.status_size is None
    assert parsed.bits.entry_count(2) == 131_072


def test_spec_example_entry_checks_against_a_list() -> None:
    fetcher, securer = DictFetcher(), FakeSecurer()
    serve(fetcher, securer, message_list(set_bits={492847: 1}))
    checker = StatusChecker(fetcher=fetcher, verify_list=securer.verify)
    (status,) = checker.check(credential_with(MESSAGE_ENTRY), now=NOW).entries
    assert (status.value, status.message) == (1, MESSAGES[1]["message"])


# --- end to end: issue, set a message value, verify ------------------------------------------


def test_issue_set_and_verify_a_message_status() -> None:
    key, fetcher, store = KeyPair.generate(), StaticFetcher(), MemoryIndexStore()
    issuer, base = did_key(key.public), "https://customs.example/status/"
    t0 = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
    place = store.allocate("message", status_size=2, credential_id="urn:uuid:aeo-9")
    found = [StatusMessage(status=i, message=text) for i, text in enumerate(CLEARANCE)]
    entry = place.entry(base + place.list_id, status_messages=found).to_json()
    vc = issue(credential(id="urn:uuid:aeo-9", credentialStatus=entry), key)

    def publish() -> None:
        unsigned = status_list_credential_for(
            store,
            place.list_id,
            list_url=base + place.list_id,
            issuer=issuer,
            valid_from=t0 - timedelta(days=1),
            ttl=timedelta(minutes=5),
        )
        fetcher.publish(base + place.list_id, str(issue(unsigned, key)))

    publish()
    now = [t0]
    verifier = Verifier(fetcher=fetcher, clock=lambda: now[0])
    assert [s.message for s in verifier.verify(vc).status] == ["cleared"]
    set_status_value(store, "urn:uuid:aeo-9", "message", 1)
    publish()
    now[0] += timedelta(minutes=6)
    result = verifier.verify(vc)
    assert result.verified, result.errors
    assert [(s.value, s.message) for s in result.status] == [(1, "under review")]
    set_status_value(store, "urn:uuid:aeo-9", "message", 3)
    publish()
    now[0] += timedelta(minutes=6)
    assert verifier.verify(vc).codes == ("STATUS_MESSAGE_UNDEFINED",)
    with pytest.raises(UsageError):
        set_status_value(store, "urn:uuid:aeo-9", "message", 4)  # 2 bits hold 0 … 3
    with pytest.raises(UsageError):
        set_status_value(store, "urn:uuid:aeo-9", "revocation", 1)  # no such entry
