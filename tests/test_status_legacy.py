"""StatusList2021 and RevocationList2020: read with BitstringStatusList's guarantees (issue 18).

Status List 2021 (https://www.w3.org/community/reports/credentials/CG-FINAL-vc-status-list-2021-20230102/)
and Revocation List 2020 (https://w3c-ccg.github.io/vc-status-rl-2020/): a GZIP bitstring,
base64url without a multibase prefix, one bit per entry, at least 16 KB. The list must be
issued by the credential's issuer, verify through the pipeline, answer entries of its own
kind and purpose, and hold the index. Lists and credentials here are VC 1.1 documents secured
with eddsa-rdfc-2022; tests/interop signs them with the legacy suites.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from vcred import Verifier, did_key, issue
from vcred.errors import MalformedError, UsageError
from vcred.keys import KeyPair
from vcred.status import MIN_ENTRIES, MutableBitstring, encode_bitstring
from vcred.status.entry import parse_entry
from vcred.testing import StaticFetcher

V1 = "https://www.w3.org/2018/credentials/v1"
SL2021 = "https://w3id.org/vc/status-list/2021/v1"
RL2020 = "https://w3id.org/vc-revocation-list-2020/v1"
STATUS_V1 = "https://www.w3.org/ns/credentials/status/v1"
BASE = "https://pilot.customs.example/status/"
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
REVOKED, CLEAR = 41, 42


def sl2021_entry(index: int = CLEAR, *, purpose: str = "revocation", url: str = "sl") -> dict:
    return {
        "id": f"{BASE}{url}#{index}",
        "type": "StatusList2021Entry",
        "statusPurpose": purpose,
        "statusListIndex": str(index),
        "statusListCredential": BASE + url,
    }


def rl2020_entry(index: int = CLEAR, *, url: str = "rl") -> dict:
    return {
        "id": f"{BASE}{url}#{index}",
        "type": "RevocationList2020Status",
        "revocationListIndex": str(index),
        "revocationListCredential": BASE + url,
    }


def legacy_encoded(*, entries: int = MIN_ENTRIES, revoked: tuple[int, ...] = (REVOKED,)) -> str:
    bits = MutableBitstring(entries)
    for index in revoked:
        bits.set(index, 1)
    # the legacy lists: the same GZIP, base64url without Bitstring Status List's 'u' prefix
    return encode_bitstring(bits.freeze(), min_entries=1)[1:]


class Pilot:
    """A trade pilot's issuer: VC 1.1 credentials and legacy lists, published on a fetcher."""

    def __init__(self) -> None:
        self.key = KeyPair.generate()
        self.did = did_key(self.key.public)
        self.fetcher = StaticFetcher()
        self.verifier = Verifier(fetcher=self.fetcher, clock=lambda: NOW)

    def publish(
        self,
        url: str,
        list_type: str,
        *,
        signer: KeyPair | None = None,
        expires: str | None = None,
        **subject: Any,
    ) -> None:
        context = SL2021 if list_type == "StatusList2021" else RL2020
        if list_type == "BitstringStatusList":
            context = STATUS_V1
        document = {
            "@context": [V1, context],
            "id": BASE + url,
            "type": ["VerifiableCredential", f"{list_type}Credential"],
            "issuer": did_key((signer or self.key).public),
            "issuanceDate": "2026-01-01T00:00:00Z",
            "credentialSubject": {
                "id": f"{BASE}{url}#list",
                "type": list_type,
                "encodedList": legacy_encoded(),
                **subject,
            },
        }
        if expires is not None:
            document["expirationDate"] = expires
        secured = issue(document, signer or self.key, format="eddsa-rdfc-2022", now=NOW)
        self.fetcher.publish(BASE + url, json.dumps(secured))

    def credential(self, status: dict) -> dict[str, Any]:
        context = SL2021 if status["type"] == "StatusList2021Entry" else RL2020
        document = {
            "@context": [V1, context],
            "type": ["VerifiableCredential"],
            "issuer": self.did,
            "issuanceDate": "2026-01-01T00:00:00Z",
            "credentialSubject": {"id": "did:example:trader"},
            "credentialStatus": status,
        }
        return issue(document, self.key, format="eddsa-rdfc-2022", now=NOW)  # type: ignore[return-value]

    def codes(self, status: dict) -> tuple[str, ...]:
        return self.verifier.verify(self.credential(status)).codes


@pytest.fixture
def pilot() -> Pilot:
    return Pilot()


# -- reading entries ---------------------------------------------------------------------------


def test_a_status_list_2021_entry_reads_like_a_one_bit_entry() -> None:
    entry = parse_entry(sl2021_entry(7, purpose="suspension"), pointer="/credentialStatus")
    assert (entry.entry_type, entry.purpose, entry.index, entry.status_size) == (
        "StatusList2021Entry",
        "suspension",
        7,
        1,
    )
    assert entry.list_url == BASE + "sl"


def test_a_revocation_list_2020_status_is_for_revocation() -> None:
    entry = parse_entry(rl2020_entry(7))
    assert (entry.entry_type, entry.purpose, entry.index) == (
        "RevocationList2020Status",
        "revocation",
        7,
    )


@pytest.mark.parametrize(
    ("entry", "pointer"),
    [
        ({**sl2021_entry(), "statusListIndex": 7}, "/credentialStatus/statusListIndex"),
        ({**sl2021_entry(), "statusListIndex": "-1"}, "/credentialStatus/statusListIndex"),
        ({**sl2021_entry(), "statusListIndex": "1e3"}, "/credentialStatus/statusListIndex"),
        (
            {**rl2020_entry(), "revocationListIndex": "0x10"},
            "/credentialStatus/revocationListIndex",
        ),
        (
            {**rl2020_entry(), "revocationListCredential": 5},
            "/credentialStatus/revocationListCredential",
        ),
        (
            {k: v for k, v in sl2021_entry().items() if k != "statusPurpose"},
            "/credentialStatus/statusPurpose",
        ),
        (
            {**sl2021_entry(), "type": ["StatusList2021Entry", "BitstringStatusListEntry"]},
            "/credentialStatus/type",
        ),
    ],
)
def test_a_malformed_legacy_entry_is_located(entry: dict, pointer: str) -> None:
    with pytest.raises(MalformedError) as info:
        parse_entry(entry, pointer="/credentialStatus")
    assert info.value.pointer == pointer


def test_legacy_entries_are_never_issued() -> None:
    with pytest.raises(UsageError, match="never issued"):
        parse_entry(sl2021_entry()).to_json()


# -- the status check ---------------------------------------------------------------------------


@pytest.mark.parametrize("list_type", ["StatusList2021", "RevocationList2020"])
def test_a_legacy_list_says_revoked_and_clear(pilot: Pilot, list_type: str) -> None:
    if list_type == "StatusList2021":
        pilot.publish("sl", list_type, statusPurpose="revocation")
        revoked, clear = sl2021_entry(REVOKED), sl2021_entry(CLEAR)
    else:
        pilot.publish("rl", list_type)
        revoked, clear = rl2020_entry(REVOKED), rl2020_entry(CLEAR)
    assert pilot.codes(revoked) == ("REVOKED",)
    result = pilot.verifier.verify(pilot.credential(clear))
    assert result.verified, result.errors
    assert [(s.purpose, s.index, s.value) for s in result.status] == [("revocation", CLEAR, 0)]


def test_a_status_list_2021_suspension(pilot: Pilot) -> None:
    pilot.publish("sl", "StatusList2021", statusPurpose="suspension")
    assert pilot.codes(sl2021_entry(REVOKED, purpose="suspension")) == ("SUSPENDED",)


def test_a_list_for_another_purpose_does_not_answer(pilot: Pilot) -> None:
    pilot.publish("sl", "StatusList2021", statusPurpose="suspension")
    assert pilot.codes(sl2021_entry(CLEAR, purpose="revocation")) == ("STATUS_VERIFICATION",)


@pytest.mark.parametrize(
    ("entry", "list_type", "subject"),
    [
        (sl2021_entry(url="x"), "BitstringStatusList", {"statusPurpose": "revocation"}),
        (sl2021_entry(url="x"), "RevocationList2020", {}),
        (rl2020_entry(url="x"), "StatusList2021", {"statusPurpose": "revocation"}),
    ],
)
def test_a_list_of_another_kind_does_not_answer(
    pilot: Pilot, entry: dict, list_type: str, subject: dict
) -> None:
    if list_type == "BitstringStatusList":
        subject["encodedList"] = "u" + legacy_encoded()
    pilot.publish("x", list_type, **subject)
    assert pilot.codes(entry) == ("STATUS_VERIFICATION",)


def test_a_legacy_list_from_another_issuer_is_not_believed(pilot: Pilot) -> None:
    pilot.publish("sl", "StatusList2021", signer=KeyPair.generate(), statusPurpose="revocation")
    assert pilot.codes(sl2021_entry(CLEAR)) == ("STATUS_VERIFICATION",)


def test_a_legacy_list_must_be_long_enough_and_hold_the_index(pilot: Pilot) -> None:
    pilot.publish("sl", "StatusList2021", statusPurpose="revocation")
    assert pilot.codes(sl2021_entry(MIN_ENTRIES)) == ("STATUS_RANGE",)
    pilot.publish(
        "short",
        "StatusList2021",
        statusPurpose="revocation",
        encodedList=legacy_encoded(entries=64),
    )
    assert pilot.codes(sl2021_entry(CLEAR, url="short")) == ("STATUS_LIST_LENGTH",)


def test_a_multibase_prefixed_list_is_not_a_legacy_list(pilot: Pilot) -> None:
    """A legacy encodedList is plain base64url; the 'u' of Bitstring Status List is not read."""
    pilot.publish(
        "sl", "StatusList2021", statusPurpose="revocation", encodedList="u" + legacy_encoded()
    )
    assert pilot.codes(sl2021_entry(CLEAR)) == ("STATUS_VERIFICATION",)


def test_an_expired_vc_1_1_list_is_not_believed(pilot: Pilot) -> None:
    pilot.publish(
        "sl", "StatusList2021", expires="2026-02-01T00:00:00Z", statusPurpose="revocation"
    )
    assert pilot.codes(sl2021_entry(CLEAR)) == ("STATUS_VERIFICATION",)


def test_a_list_changed_after_signing_is_not_believed(pilot: Pilot) -> None:
    pilot.publish("sl", "StatusList2021", statusPurpose="revocation")
    stored = json.loads(pilot.fetcher.documents[BASE + "sl"])
    stored["credentialSubject"]["encodedList"] = legacy_encoded(revoked=())
    pilot.fetcher.publish(BASE + "sl", json.dumps(stored))
    assert pilot.codes(sl2021_entry(REVOKED)) == ("STATUS_VERIFICATION",)
