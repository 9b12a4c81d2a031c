"""Bitstring Status List v1.0 §3.2: the status check, offline mode, what a list URL returns
(vcred.status.check)."""

from __future__ import annotations

import base64
import json
import zlib
from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.status.support import (
    ISSUER,
    LIST_URL,
    MESSAGE_ENTRY,
    MESSAGE_URL,
    MESSAGES,
    NOW,
    SPEC_EXAMPLE_CREDENTIAL,
    SUSPENSION_URL,
    DictFetcher,
    FakeSecurer,
    credential_with,
    publish,
    revocation_entry,
    status_list_credential,
    suspension_entry,
)
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
    MutableBitstring,
    StatusChecker,
    StatusListCache,
    as_of_url,
    check_status,
    parse_fetched,
)

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


@pytest.mark.parametrize(
    "own_status",
    [
        # its own revocation entry, on a list that says it is revoked
        {"credentialStatus": revocation_entry(7, url="https://example.com/credentials/status/9")},
        # a status this checker cannot read at all (IETF Token Status List)
        {"status": {"status_list": {"idx": 7, "uri": "https://example.com/tsl/1"}}},
    ],
    ids=["credentialStatus", "status-claim"],
)
def test_a_list_stating_a_status_of_its_own_is_refused(
    checker: StatusChecker, fetcher: DictFetcher, securer: FakeSecurer, own_status: dict[str, Any]
) -> None:
    # a list's own status is never checked (a list answering for lists would recurse): a list
    # its issuer may have revoked is not believed on the word of a check that did not look
    fetcher.documents["https://example.com/credentials/status/9"] = securer.secure(
        status_list_credential(url="https://example.com/credentials/status/9", set_bits={7: 1})
    )
    fetcher.documents[LIST_URL] = securer.secure({**status_list_credential(), **own_status})
    (entry,) = checker.check(credential_with(revocation_entry()), now=NOW).entries
    assert isinstance(entry.error, StatusVerificationError)
    assert "a status of its own" in entry.error.message
    assert entry.error.pointer == "/credentialStatus/statusListCredential"
    assert checker.cache.get(LIST_URL, now=NOW) is None


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


def test_as_of_a_moment_a_list_without_valid_from_answers_nothing(
    securer: FakeSecurer, fetcher: DictFetcher
) -> None:
    # an issuer that ignores ?timestamp= answers with its current list; stating no validFrom,
    # it cannot say it was the version in force then (a suspension lifted since would read as
    # never made): not established, as a version that came into force after the moment is
    moment = NOW - timedelta(days=3)
    checker = StatusChecker(
        fetcher=fetcher, verify_list=securer.verify, as_of=moment, clock=lambda: NOW
    )
    current = status_list_credential(url=SUSPENSION_URL, purpose="suspension")
    del current["validFrom"]
    fetcher.documents[as_of_url(SUSPENSION_URL, moment)] = securer.secure(current)
    (entry,) = checker.check(credential_with(suspension_entry()), now=moment).entries
    assert isinstance(entry.error, StatusVerificationError), entry
    assert "validFrom" in entry.error.message
    # one that states its validFrom before the moment was the version in force then
    dated = status_list_credential(url=SUSPENSION_URL, purpose="suspension", valid_from=moment)
    fetcher.documents[as_of_url(SUSPENSION_URL, moment)] = securer.secure(dated)
    checker.cache.clear()
    assert checker.check(credential_with(suspension_entry()), now=moment).ok


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


@pytest.mark.parametrize("number", [b"NaN", b"Infinity", b"-Infinity"])
def test_a_list_with_nan_or_infinity_is_a_parsing_error(number: bytes) -> None:
    """The one strict JSON parser: a status list reads NaN as every other input does."""
    with pytest.raises(ParsingError, match="not valid JSON"):
        parse_fetched(b'{"ttl": ' + number + b"}")


def test_a_list_with_a_number_past_a_double_is_malformed() -> None:
    with pytest.raises(MalformedError) as refused:
        parse_fetched(b'{"credentialSubject": {"ttl": 1e400}}')
    assert refused.value.pointer == "/credentialSubject/ttl"
