"""Trust lists with a lifecycle: sequence, successor digest, pinned keys, refresh over HTTP."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import vcred
from tests.httpserver import LocalServer, local_server
from vcred.customs.samples import aeo_certificate
from vcred.did.web import did_web_document
from vcred.errors import MalformedError, TrustListSequenceError, UntrustedIssuerError, UsageError
from vcred.issuing import signer_for
from vcred.keys import KeyPair
from vcred.net import GuardedFetcher
from vcred.testing import StaticFetcher
from vcred.trust import TrustAnchor, TrustList, build_trust_list, list_digest
from vcred.trustfeed import MAX_WALK, TrustListFeed, _check_floor, check_succession, describe, diff

T0 = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
ROTATION = T0 + timedelta(days=3)
EU = "did:web:eu-partner.example"
EU_DOC_URL = "https://eu-partner.example/.well-known/did.json"
US_KEY = KeyPair.generate("ed25519")
US = vcred.did_key(US_KEY.public)
ATTACKER = KeyPair.generate("ed25519")
K1 = KeyPair.generate("ed25519")
K2 = KeyPair.generate("ed25519")


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def entry(*pins: dict[str, str]) -> dict[str, Any]:
    return {
        "issuer": EU,
        "programme": "EU-AEO",
        "country": "DE",
        "acceptedCredentialTypes": ["AEOCertificateCredential"],
        "pinnedKeys": list(pins),
    }


def pin(key: KeyPair, start: datetime, end: datetime | None = None) -> dict[str, str]:
    found = {"jwkThumbprint": key.public.thumbprint(), "notBefore": start.isoformat()}
    if end is not None:
        found["notAfter"] = end.isoformat()
    return found


def signed_list(
    sequence: int,
    *pins: dict[str, str],
    previous: str | None = None,
    key: KeyPair = US_KEY,
    valid_from: datetime = T0,
    days: int = 7,
) -> str:
    credential = build_trust_list(
        [entry(*pins)],
        issuer=vcred.did_key(key.public),
        programme="US-CTPAT",
        valid_from=valid_from,
        valid_until=valid_from + timedelta(days=30),
        credential_id=f"urn:example:us-trust-list:{sequence}",
        sequence=sequence,
        next_update=valid_from + timedelta(days=days),
        replaces=(sequence - 1, list_digest(previous)) if previous else None,
    )
    return str(vcred.issue(credential, key, now=valid_from))


def eu_certificate(key: KeyPair, at: datetime) -> str:
    credential = aeo_certificate("de-beispiel")
    credential["issuer"] = EU
    credential["validFrom"] = at.isoformat().replace("+00:00", "Z")
    return str(vcred.issue(credential, signer_for(key, did=EU), now=at))


@pytest.fixture
def server() -> Iterator[LocalServer]:
    with local_server() as found:
        yield found


@pytest.fixture
def did_documents() -> StaticFetcher:
    fetcher = StaticFetcher()
    fetcher.publish(EU_DOC_URL, json.dumps(did_web_document(EU, [K1.public])))
    return fetcher


def feed_for(server: LocalServer, clock: Clock, **options: Any) -> TrustListFeed:
    return TrustListFeed(
        anchor=TrustAnchor(did=US),
        urls=[f"{server.origin}/trust-lists/current"],
        # the SSRF-guarded fetcher; the test server is on 127.0.0.1, allowed here only
        fetcher=GuardedFetcher(allow_private=True),
        clock=clock,
        **options,
    )


def verify_under(feed: TrustListFeed, clock: Clock, fetcher: StaticFetcher, token: str) -> Any:
    # what the verifier service does on each request: the feed's list of the moment
    verifier = vcred.Verifier(fetcher=fetcher, clock=clock)
    return dataclasses.replace(verifier, trust=feed.current).verify(token)


def test_refresh_over_http_picks_up_a_rotated_key_and_refuses_a_rollback(
    server: LocalServer, did_documents: StaticFetcher
) -> None:
    clock = Clock()
    first = signed_list(1, pin(K1, T0 - timedelta(days=365)))
    server.serve("/trust-lists/current", first.encode(), Content_Type="application/vc+jwt")
    feed = feed_for(server, clock)
    report = feed.refresh()
    assert report.sequence == 1 and report.changed and not report.errors

    before = verify_under(feed, clock, did_documents, eu_certificate(K1, T0))
    assert before.verified, before.errors
    assert before.trust.trust_list == "urn:example:us-trust-list:1"
    assert before.trust.sequence == 1
    assert before.to_dict()["trust"]["trustList"] == {
        "id": "urn:example:us-trust-list:1",
        "sequenceNumber": 1,
    }

    # the partner rotates: K2 current, K1 retired (still verifies what it signed)
    clock.now = ROTATION
    did_documents.publish(
        EU_DOC_URL, json.dumps(did_web_document(EU, [K2.public], retired=[K1.public]))
    )
    rotated = eu_certificate(K2, ROTATION)
    refused = verify_under(feed, clock, did_documents, rotated)
    assert not refused.verified
    assert refused.codes == ("UNTRUSTED_ISSUER",)
    assert "is not pinned" in refused.trust.reason

    # the agency publishes list 2: K1 until the rotation, K2 from it
    second = signed_list(
        2,
        pin(K1, T0 - timedelta(days=365), ROTATION),
        pin(K2, ROTATION),
        previous=first,
        valid_from=ROTATION,
    )
    server.serve("/trust-lists/current", second.encode(), Content_Type="application/vc+jwt")
    assert not feed.due()  # nextUpdate is days away: refreshed on demand
    report = feed.refresh(force=True)
    assert report.sequence == 2 and report.changed and not report.errors
    after = verify_under(feed, clock, did_documents, rotated)
    assert after.verified, after.errors
    assert after.trust.sequence == 2
    # K1 signed inside its window (its iat, not the time of verification): still trusted
    clock.now = ROTATION + timedelta(hours=1)
    assert verify_under(feed, clock, did_documents, eu_certificate(K1, T0)).verified
    late = verify_under(feed, clock, did_documents, eu_certificate(K1, clock.now))
    assert not late.verified and "is not pinned" in late.trust.reason

    # a rolled-back list (sequence 1 again) is refused; list 2 stays
    server.serve("/trust-lists/current", first.encode(), Content_Type="application/vc+jwt")
    report = feed.refresh(force=True)
    assert report.sequence == 2 and not report.changed
    assert "TRUST_LIST_SEQUENCE" in report.errors[0]
    assert feed.current is not None and feed.current.sequence == 2


def test_a_list_signed_by_another_key_than_the_anchor_is_refused(server: LocalServer) -> None:
    clock = Clock()
    forged = signed_list(5, pin(K1, T0), key=ATTACKER)
    server.serve("/trust-lists/current", forged.encode())
    feed = feed_for(server, clock)
    report = feed.refresh()
    assert feed.current is None
    assert report.errors and "UNTRUSTED_ISSUER" in report.errors[0]


def test_refresh_is_due_before_next_update_and_waits_after_a_failure(
    server: LocalServer,
) -> None:
    clock = Clock()
    server.serve("/trust-lists/current", signed_list(1, pin(K1, T0), days=2).encode())
    feed = feed_for(server, clock, refresh_before=timedelta(hours=6), retry=timedelta(minutes=5))
    feed.refresh()
    assert not feed.due()
    clock.now = T0 + timedelta(days=2) - timedelta(hours=6)
    assert feed.due()
    server.serve("/trust-lists/current", b"gone", status=503)
    report = feed.refresh()
    assert report.errors and report.sequence == 1
    assert not feed.due()  # retry later
    clock.now += timedelta(minutes=5)
    assert feed.due()


def test_past_next_update_and_grace_nobody_is_trusted(
    server: LocalServer, did_documents: StaticFetcher
) -> None:
    clock = Clock()
    server.serve("/trust-lists/current", signed_list(1, pin(K1, T0), days=2).encode())
    feed = feed_for(server, clock, grace=timedelta(hours=1))
    feed.refresh()
    token = eu_certificate(K1, T0)
    clock.now = T0 + timedelta(days=2, minutes=59)
    assert verify_under(feed, clock, did_documents, token).verified
    clock.now = T0 + timedelta(days=2, hours=1, seconds=1)
    stale = verify_under(feed, clock, did_documents, token)
    assert not stale.verified
    assert "was due to be replaced" in stale.trust.reason
    assert stale.trust.sequence == 1


def test_a_signing_time_after_now_does_not_open_a_pinned_key_early(
    server: LocalServer,
) -> None:
    # K2 is pinned from the rotation on; a credential it signs today claiming to be signed
    # after the rotation (a JWT iat nothing bounds) was trusted today: a signing time not
    # yet come is no time the key could have signed at, and the key is judged at now
    clock = Clock()
    server.serve("/trust-lists/current", signed_list(1, pin(K1, T0), pin(K2, ROTATION)).encode())
    feed = feed_for(server, clock)
    feed.refresh()
    fetcher = StaticFetcher()
    fetcher.publish(EU_DOC_URL, json.dumps(did_web_document(EU, [K1.public, K2.public])))
    clock.now = T0 + timedelta(hours=1)
    credential = aeo_certificate("de-beispiel")
    credential["issuer"] = EU
    credential["validFrom"] = T0.isoformat().replace("+00:00", "Z")
    early = str(vcred.issue(credential, signer_for(K2, did=EU), now=ROTATION + timedelta(days=1)))
    result = verify_under(feed, clock, fetcher, early)
    assert not result.verified
    assert not result.trust.trusted and "is not pinned" in result.trust.reason
    clock.now = ROTATION + timedelta(days=1, hours=1)  # once its window opened, trusted
    assert verify_under(feed, clock, fetcher, early).verified


def loaded(sequence: int, *, digest: str, replaces: tuple[int, str] | None = None) -> TrustList:
    return TrustList(
        issuer=US,
        authority="CBP",
        country="US",
        programme="US-CTPAT",
        entries=(),
        sequence=sequence,
        digest=digest,
        replaces=replaces,
    )


D1 = "sha256-" + "A" * 43 + "="
D2 = "sha256-" + "B" * 43 + "="
D3 = "sha256-" + "C" * 43 + "="
D4 = "sha256-" + "D" * 43 + "="


def test_same_sequence_with_other_content_is_a_fork() -> None:
    with pytest.raises(TrustListSequenceError, match="fork"):
        check_succession(loaded(3, digest=D1), loaded(3, digest=D2))
    check_succession(loaded(3, digest=D1), loaded(3, digest=D1))
    with pytest.raises(TrustListSequenceError, match="fork"):  # content not known
        check_succession(
            loaded(3, digest=D1), dataclasses.replace(loaded(3, digest=D1), digest=None)
        )


def test_a_successor_naming_another_predecessor_is_a_fork() -> None:
    with pytest.raises(TrustListSequenceError, match="fork") as caught:
        check_succession(loaded(3, digest=D1), loaded(4, digest=D2, replaces=(3, D2)))
    assert caught.value.pointer == "/credentialSubject/replaces"
    check_succession(loaded(3, digest=D1), loaded(4, digest=D2, replaces=(3, D1)))


def test_a_successor_that_does_not_name_its_predecessor_is_refused() -> None:
    # Attack: a list numbered after the held one, signed by the anchor's key, that names no
    # predecessor (built without --previous, or by a process that never saw the held list)
    # was taken: nothing showed it descends from the list held. The held list stays.
    with pytest.raises(TrustListSequenceError, match="does not name the list it replaces") as c:
        check_succession(loaded(3, digest=D1), loaded(4, digest=D2))
    assert c.value.pointer == "/credentialSubject/replaces"
    assert D1 in c.value.message  # what it should have named
    with pytest.raises(TrustListSequenceError, match="does not name"):
        check_succession(loaded(3, digest=D1), loaded(9, digest=D2))  # skipping, as well
    check_succession(None, loaded(4, digest=D2))  # the first list ever loaded: nothing held


def test_a_successor_that_skips_lists_is_taken_only_through_the_lists_in_between() -> None:
    # Attack: held 3; list 6 names a list 5 that was never published — a branch that never
    # contained list 3 (signed by the anchor's key: a second tool, a restored backup). It was
    # taken ("the lists in between were missed, not forged"): nothing showed it descends
    # from the list held. Now the lists in between must link it to the held one.
    with pytest.raises(TrustListSequenceError, match="has not seen") as caught:
        check_succession(loaded(3, digest=D1), loaded(6, digest=D2, replaces=(5, D4)))
    assert caught.value.pointer == "/credentialSubject/replaces"
    four = loaded(4, digest=D3, replaces=(3, D1))
    five = loaded(5, digest=D4, replaces=(4, D3))
    six = loaded(6, digest=D2, replaces=(5, D4))
    check_succession(loaded(3, digest=D1), six, between=[four, five])
    # a link missing, a list in between of a branch (naming another list 3, or list 4 of
    # other content), or out of order: refused
    with pytest.raises(TrustListSequenceError, match="has not seen"):
        check_succession(loaded(3, digest=D1), six, between=[five])
    with pytest.raises(TrustListSequenceError, match="fork"):
        check_succession(
            loaded(3, digest=D1), six, between=[loaded(4, digest=D3, replaces=(3, D2)), five]
        )
    with pytest.raises(TrustListSequenceError, match="fork"):
        check_succession(
            loaded(3, digest=D1), six, between=[four, loaded(5, digest=D4, replaces=(4, D1))]
        )
    with pytest.raises(TrustListSequenceError):
        check_succession(loaded(3, digest=D1), six, between=[five, four])
    unknown = dataclasses.replace(five, digest=None)  # of unknown content: links nothing
    with pytest.raises(TrustListSequenceError, match="unknown content"):
        check_succession(loaded(3, digest=D1), six, between=[four, unknown])
    # the floor of an earlier run is linked the same way
    _check_floor((3, D1), six, [four, five])
    with pytest.raises(TrustListSequenceError, match="has not seen"):
        _check_floor((3, D1), six)


def test_a_successor_may_not_skip_past_the_one_held() -> None:
    # list 6 replacing list 2 left list 3 out: a branch beside the held list
    with pytest.raises(TrustListSequenceError, match="fork") as caught:
        check_succession(loaded(3, digest=D1), loaded(6, digest=D2, replaces=(2, D1)))
    assert caught.value.pointer == "/credentialSubject/replaces"
    # naming the held number with another digest, however far ahead: a fork
    with pytest.raises(TrustListSequenceError, match="fork"):
        check_succession(loaded(3, digest=D1), loaded(6, digest=D2, replaces=(3, D2)))
    # a list cannot replace itself or a later one (a builder other than vcred's)
    with pytest.raises(TrustListSequenceError) as caught:
        check_succession(loaded(3, digest=D1), loaded(6, digest=D2, replaces=(6, D1)))
    assert caught.value.pointer == "/credentialSubject/replaces/sequenceNumber"


def test_a_list_without_a_sequence_cannot_replace_one_with_it() -> None:
    unsequenced = dataclasses.replace(loaded(1, digest=D2), sequence=None)
    with pytest.raises(TrustListSequenceError):
        check_succession(loaded(3, digest=D1), unsequenced)


def test_a_rollback_is_refused() -> None:
    with pytest.raises(TrustListSequenceError, match="rollback") as caught:
        check_succession(loaded(3, digest=D1), loaded(2, digest=D2))
    assert isinstance(caught.value, UntrustedIssuerError)


def test_show_and_diff() -> None:
    first = signed_list(1, pin(K1, T0))
    second = signed_list(2, pin(K1, T0, ROTATION), pin(K2, ROTATION), previous=first)
    old = vcred.trust.load_signed_trust_list(first, now=T0, anchor=US)
    new = vcred.trust.load_signed_trust_list(second, now=T0, anchor=US)
    shown = describe(new)
    assert shown["sequenceNumber"] == 2
    assert shown["replaces"] == {"sequenceNumber": 1, "digest": list_digest(first)}
    assert shown["digest"] == list_digest(second)
    changes = diff(old, new)
    assert changes["sequenceNumber"] == {"from": 1, "to": 2}
    assert list(changes["changed"][EU]) == ["pinnedKeys"]
    assert changes["added"] == [] and changes["removed"] == []


def test_lifecycle_members_are_checked_when_built() -> None:
    options: dict[str, Any] = {
        "issuer": US,
        "programme": "US-CTPAT",
        "valid_from": T0,
        "valid_until": T0 + timedelta(days=30),
    }
    with pytest.raises(MalformedError) as caught:
        build_trust_list([entry(pin(K1, T0))], sequence=0, **options)
    assert caught.value.pointer == "/credentialSubject/sequenceNumber"
    with pytest.raises(MalformedError) as caught:
        build_trust_list(
            [entry(pin(K1, T0))], sequence=2, next_update=T0 + timedelta(days=31), **options
        )
    assert caught.value.pointer == "/credentialSubject/nextUpdate"
    with pytest.raises(MalformedError) as caught:
        build_trust_list([entry(pin(K1, T0))], sequence=2, replaces=(2, D1), **options)
    assert caught.value.pointer == "/credentialSubject/replaces/sequenceNumber"
    with pytest.raises(MalformedError) as caught:
        build_trust_list(
            [entry({"jwkThumbprint": "short", "notBefore": T0.isoformat()})], **options
        )
    assert (
        caught.value.pointer == "/credentialSubject/recognisedIssuers/0/pinnedKeys/0/jwkThumbprint"
    )


def test_a_feed_needs_a_url() -> None:
    with pytest.raises(UsageError):
        TrustListFeed(anchor=TrustAnchor(did=US), urls=[], fetcher=StaticFetcher(), clock=Clock())


def test_a_floor_from_a_list_no_longer_held_refuses_what_it_had_replaced(
    server: LocalServer,
) -> None:
    # A verifier restarting after its trust-list key was rotated cannot hold again the list
    # it had accepted (signed by the removed key); the feed used to start empty and take
    # whatever its URLs answered — list 1, which list 3 had replaced. The kept list's number
    # and digest now stay a floor until a list succeeds it.
    clock = Clock()
    first = signed_list(1, pin(K1, T0))
    second = signed_list(2, pin(K1, T0), previous=first)
    third = signed_list(3, pin(K1, T0), previous=second)
    feed = feed_for(server, clock)
    feed.hold_floor(3, list_digest(third))  # list 3 as kept
    for older in (first, second):
        server.serve("/trust-lists/current", older.encode(), Content_Type="application/vc+jwt")
        report = feed.refresh(force=True)
        assert feed.current is None
        assert "TRUST_LIST_SEQUENCE" in report.errors[0] and "rollback" in report.errors[0]
    forked = signed_list(3, pin(K2, T0), previous=second)  # another list 3
    server.serve("/trust-lists/current", forked.encode(), Content_Type="application/vc+jwt")
    report = feed.refresh(force=True)
    assert feed.current is None and "fork" in report.errors[0]
    # what follows the other list 3, or names no predecessor, does not succeed the kept one
    for stray in (signed_list(4, pin(K1, T0), previous=forked), signed_list(4, pin(K1, T0))):
        server.serve("/trust-lists/current", stray.encode(), Content_Type="application/vc+jwt")
        report = feed.refresh(force=True)
        assert feed.current is None and "TRUST_LIST_SEQUENCE" in report.errors[0]
        assert "fork" in report.errors[0] or "does not name" in report.errors[0]
    fourth = signed_list(4, pin(K1, T0), previous=third)
    server.serve("/trust-lists/current", fourth.encode(), Content_Type="application/vc+jwt")
    assert feed.refresh(force=True).sequence == 4 and feed.current is not None
    server.serve("/trust-lists/current", third.encode(), Content_Type="application/vc+jwt")
    assert "rollback" in feed.refresh(force=True).errors[0]  # the list held bounds it now
    with pytest.raises(UsageError):
        feed.hold_floor(9, D1)


# -- a list that skips numbers: the lists in between, fetched by number ------------------------


def publish_chain(server: LocalServer, last: int, *, current: int | None = None) -> list[str]:
    """Lists 1..``last``, each naming the one before, served by number at
    ``/trust-lists/<n>`` (as the issuer service serves them) and list ``current`` (default:
    the last) at ``/trust-lists/current``; the lists, list n at index n - 1."""
    lists: list[str] = []
    for number in range(1, last + 1):
        lists.append(signed_list(number, pin(K1, T0), previous=lists[-1] if lists else None))
        server.serve(
            f"/trust-lists/{number}", lists[-1].encode(), Content_Type="application/vc+jwt"
        )
    shown = lists[(current or last) - 1]
    server.serve("/trust-lists/current", shown.encode(), Content_Type="application/vc+jwt")
    return lists


def holding_list_one(server: LocalServer, clock: Clock) -> tuple[TrustListFeed, list[str]]:
    lists = publish_chain(server, 1)
    feed = feed_for(server, clock)
    assert feed.refresh().sequence == 1
    return feed, lists


def test_a_list_that_skips_numbers_is_linked_through_the_lists_fetched_by_number(
    server: LocalServer,
) -> None:
    clock = Clock()
    feed, _ = holding_list_one(server, clock)
    lists = publish_chain(server, 5)  # 2, 3 and 4 published while this verifier did not look
    server.hits.clear()
    report = feed.refresh(force=True)
    assert report.sequence == 5 and report.changed and not report.errors, report.errors
    assert feed.current is not None and feed.current.digest == list_digest(lists[4])
    # each list in between fetched once, through the feed's fetcher, newest first
    assert server.hits == [
        "/trust-lists/current",
        "/trust-lists/4",
        "/trust-lists/3",
        "/trust-lists/2",
    ]
    # the next one names the held list: nothing more is fetched
    sixth = signed_list(6, pin(K1, T0), previous=lists[4])
    server.serve("/trust-lists/current", sixth.encode(), Content_Type="application/vc+jwt")
    server.hits.clear()
    assert feed.refresh(force=True).sequence == 6
    assert server.hits == ["/trust-lists/current"]


def test_a_list_naming_a_predecessor_never_published_is_refused(server: LocalServer) -> None:
    # Attack: list 1 held; list 5, signed by the anchor's key, names a list 4 that was never
    # published (a branch that never contained list 1). It was taken: list 4 "was missed".
    clock = Clock()
    feed, lists = holding_list_one(server, clock)
    phantom = signed_list(4, pin(K2, T0), previous=lists[0])  # never served: its digest only
    stray = signed_list(5, pin(K2, T0), previous=phantom)
    server.serve("/trust-lists/current", stray.encode(), Content_Type="application/vc+jwt")
    report = feed.refresh(force=True)
    assert feed.current is not None and feed.current.sequence == 1  # the list held stays
    assert report.sequence == 1 and not report.changed
    (error,) = report.errors
    assert "TRUST_LIST_SEQUENCE" in error and "/trust-lists/4" in error and "404" in error
    # served after all, list 4 of that branch names list 3, which was never published: refused
    # the same way; a list 4 naming the held list, but another list 4 than the one list 5
    # names (another digest), is not taken for it
    server.serve("/trust-lists/4", phantom.encode(), Content_Type="application/vc+jwt")
    assert feed.refresh(force=True).sequence == 1 and feed.current.sequence == 1
    other = signed_list(4, pin(K1, T0), previous=lists[0])
    server.serve("/trust-lists/4", other.encode(), Content_Type="application/vc+jwt")
    (error,) = feed.refresh(force=True).errors
    assert "another list than the one list 5 names" in error
    assert feed.current.sequence == 1


def test_a_list_in_between_must_verify_under_the_anchor(server: LocalServer) -> None:
    # the anchor's key named a list 2 that another key signed: the walk does not take it
    clock = Clock()
    feed, lists = holding_list_one(server, clock)
    foreign = signed_list(2, pin(K2, T0), previous=lists[0], key=ATTACKER)
    third = signed_list(3, pin(K1, T0), previous=foreign)
    server.serve("/trust-lists/2", foreign.encode(), Content_Type="application/vc+jwt")
    server.serve("/trust-lists/current", third.encode(), Content_Type="application/vc+jwt")
    (error,) = feed.refresh(force=True).errors
    assert "TRUST_LIST_SEQUENCE" in error and "UNTRUSTED_ISSUER" in error
    assert feed.current is not None and feed.current.sequence == 1


def test_a_walk_longer_than_its_bound_is_refused(server: LocalServer) -> None:
    clock = Clock()
    feed, _ = holding_list_one(server, clock)
    publish_chain(server, MAX_WALK + 3)  # MAX_WALK + 1 lists between list 1 and the last
    server.hits.clear()
    (error,) = feed.refresh(force=True).errors
    assert "TRUST_LIST_SEQUENCE" in error and f"more than {MAX_WALK} lists" in error
    assert feed.current is not None and feed.current.sequence == 1
    assert len(server.hits) == 1 + MAX_WALK  # the list, then MAX_WALK lists, no more
    # MAX_WALK lists between: linked
    publish_chain(server, MAX_WALK + 3, current=MAX_WALK + 2)
    assert feed.refresh(force=True).sequence == MAX_WALK + 2


def test_a_fetch_failing_in_the_middle_refuses_the_list_and_the_held_one_stays(
    server: LocalServer,
) -> None:
    clock = Clock()
    feed, _ = holding_list_one(server, clock)
    lists = publish_chain(server, 5)
    for status, body in ((500, b"down"), (200, b"\xff\xfe"), (200, b"not a list")):
        server.serve("/trust-lists/3", body, status=status)
        report = feed.refresh(force=True)
        (error,) = report.errors
        assert "TRUST_LIST_SEQUENCE" in error and "/trust-lists/3" in error, error
        assert feed.current is not None and feed.current.sequence == 1
        assert report.sequence == 1 and not report.changed
    server.serve("/trust-lists/3", lists[2].encode(), Content_Type="application/vc+jwt")
    assert feed.refresh(force=True).sequence == 5


def test_a_list_in_between_need_not_be_in_force_now(server: LocalServer) -> None:
    # lists 2 and 3 expired before list 4 was fetched: each was in force when the next one
    # replaced it, which is what it is verified as of
    clock = Clock()
    feed, lists = holding_list_one(server, clock)
    second = signed_list(2, pin(K1, T0), previous=lists[0])  # until T0 + 30 days
    third = signed_list(3, pin(K1, T0), previous=second, valid_from=T0 + timedelta(days=6))
    fourth = signed_list(4, pin(K1, T0), previous=third, valid_from=T0 + timedelta(days=33))
    later = T0 + timedelta(days=40)  # past list 3's validUntil (T0 + 36 days)
    server.serve("/trust-lists/2", second.encode(), Content_Type="application/vc+jwt")
    server.serve("/trust-lists/3", third.encode(), Content_Type="application/vc+jwt")
    server.serve("/trust-lists/current", fourth.encode(), Content_Type="application/vc+jwt")
    clock.now = later + timedelta(hours=1)
    report = feed.refresh(force=True)
    assert report.sequence == 4, report.errors


def test_a_floor_is_walked_back_to_as_the_list_held_is(server: LocalServer) -> None:
    # a restart that could not hold its kept list 2 again keeps its number and digest as a
    # floor: list 5 is taken only through lists 3 and 4, which link it to list 2
    clock = Clock()
    lists = publish_chain(server, 5)
    feed = feed_for(server, clock)
    feed.hold_floor(2, list_digest(lists[1]))
    server.serve("/trust-lists/4", b"gone", status=404)
    (error,) = feed.refresh(force=True).errors
    assert "TRUST_LIST_SEQUENCE" in error and "/trust-lists/4" in error
    assert feed.current is None
    server.serve("/trust-lists/4", lists[3].encode(), Content_Type="application/vc+jwt")
    assert feed.refresh(force=True).sequence == 5
