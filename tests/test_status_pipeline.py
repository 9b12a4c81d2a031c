"""Revocation and suspension end to end: issue with status entries, change, verify (issue 4)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.conftest import credential
from vcred import Verifier, did_key, issue
from vcred.customs.samples import sample_trust_list
from vcred.keys import KeyPair
from vcred.status import set_credential_status, status_list_credential_for
from vcred.testing import MemoryIndexStore, StaticFetcher
from vcred.trust import PinnedKey, TrustList, load_trust_list

T0 = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
LIST_BASE = "https://customs.example/status/"


class Agency:
    """An issuer with an index store, publishing its lists through a StaticFetcher."""

    def __init__(self, key: KeyPair, fetcher: StaticFetcher, *, fmt: str = "vc+jwt") -> None:
        self.key, self.fetcher, self.format = key, fetcher, fmt
        self.did = did_key(key.public)
        self.store = MemoryIndexStore()

    def issue(self, credential_id: str) -> Any:
        entries = []
        for purpose in ("revocation", "suspension"):
            allocation = self.store.allocate(purpose, credential_id=credential_id)
            entries.append(allocation.entry(LIST_BASE + allocation.list_id).to_json())
        document = credential(id=credential_id, credentialStatus=entries)
        self.publish()
        return issue(document, self.key, format=self.format)

    def set(self, credential_id: str, status: str) -> None:
        set_credential_status(self.store, credential_id, status)  # type: ignore[arg-type]
        self.publish()

    def publish(self) -> None:
        for info in self.store.lists():
            unsigned = status_list_credential_for(
                self.store,
                info.list_id,
                list_url=LIST_BASE + info.list_id,
                issuer=self.did,
                valid_from=T0 - timedelta(days=1),
                ttl=timedelta(minutes=5),
            )
            self.fetcher.publish(LIST_BASE + info.list_id, str(issue(unsigned, self.key)))


@pytest.fixture
def fetcher() -> StaticFetcher:
    return StaticFetcher()


@pytest.fixture
def agency(fetcher: StaticFetcher) -> Agency:
    return Agency(KeyPair.generate(), fetcher)


def verifier_at(fetcher: StaticFetcher, moment: datetime) -> Verifier:
    return Verifier(fetcher=fetcher, clock=lambda: moment)


def test_suspend_reinstate_revoke(agency: Agency, fetcher: StaticFetcher) -> None:
    vc = agency.issue("urn:uuid:aeo-1")
    now = [T0]
    verifier = Verifier(fetcher=fetcher, clock=lambda: now[0])
    result = verifier.verify(vc)
    assert result.verified, result.errors
    assert {s.purpose: s.value for s in result.status} == {"revocation": 0, "suspension": 0}

    agency.set("urn:uuid:aeo-1", "suspended")
    now[0] += timedelta(minutes=6)  # past the list's ttl: the verifier fetches again
    assert verifier.verify(vc).codes == ("SUSPENDED",)

    agency.set("urn:uuid:aeo-1", "active")
    now[0] += timedelta(minutes=6)
    assert verifier.verify(vc).verified

    agency.set("urn:uuid:aeo-1", "revoked")
    now[0] += timedelta(minutes=6)
    result = verifier.verify(vc)
    assert result.codes == ("REVOKED",)
    assert result.errors[0].path == "/credentialStatus/0"


def test_within_ttl_the_cached_list_answers(agency: Agency, fetcher: StaticFetcher) -> None:
    vc = agency.issue("urn:uuid:aeo-2")
    verifier = verifier_at(fetcher, T0)
    verifier.verify(vc)
    fetched = len(fetcher.hits)
    agency.set("urn:uuid:aeo-2", "revoked")
    assert verifier.verify(vc).verified  # the list is cached for its ttl …
    assert len(fetcher.hits) == fetched  # … and not fetched again


def test_network_down_uses_the_stale_list_and_says_so(
    agency: Agency, fetcher: StaticFetcher
) -> None:
    vc = agency.issue("urn:uuid:aeo-3")
    now = [T0]
    verifier = Verifier(fetcher=fetcher, clock=lambda: now[0])
    assert verifier.verify(vc).verified
    fetcher.offline = True
    now[0] += timedelta(hours=2)
    result = verifier.verify(vc)
    assert result.verified
    stale = [w for w in result.warnings if w.code == "STATUS_STALE"]
    assert len(stale) == 2
    assert "7200 s" in stale[0].message
    assert all(s.stale for s in result.status)


def test_network_down_without_a_cached_list_is_status_unavailable(
    agency: Agency, fetcher: StaticFetcher
) -> None:
    vc = agency.issue("urn:uuid:aeo-4")
    fetcher.offline = True
    result = verifier_at(fetcher, T0).verify(vc)
    assert set(result.codes) == {"STATUS_UNAVAILABLE"}


def test_list_signed_by_another_issuer_is_refused(agency: Agency, fetcher: StaticFetcher) -> None:
    vc = agency.issue("urn:uuid:aeo-5")
    impostor = Agency(KeyPair.generate(), StaticFetcher())
    impostor.store = agency.store
    impostor.publish()
    fetcher.documents.update(impostor.fetcher.documents)
    result = verifier_at(fetcher, T0).verify(vc)
    assert not result.verified
    assert "STATUS_VERIFICATION" in result.codes


def test_tampered_list_is_refused(agency: Agency, fetcher: StaticFetcher) -> None:
    vc = agency.issue("urn:uuid:aeo-6")
    url = next(iter(fetcher.documents))
    token = fetcher.documents[url].decode()
    fetcher.publish(url, token[:-6] + ("A" if token[-6] != "A" else "B") + token[-5:])
    assert "STATUS_VERIFICATION" in verifier_at(fetcher, T0).verify(vc).codes


def test_without_a_fetcher_status_fails_closed(agency: Agency) -> None:
    result = Verifier(clock=lambda: T0).verify(agency.issue("urn:uuid:aeo-7"))
    assert set(result.codes) == {"STATUS_UNAVAILABLE"}


def test_status_is_checked_for_sd_jwt_too(fetcher: StaticFetcher) -> None:
    agency = Agency(KeyPair.generate(), fetcher, fmt="vc+sd-jwt")
    vc = agency.issue("urn:uuid:aeo-8")
    agency.set("urn:uuid:aeo-8", "suspended")
    assert verifier_at(fetcher, T0).verify(vc).codes == ("SUSPENDED",)


def test_status_check_can_be_turned_off(agency: Agency, fetcher: StaticFetcher) -> None:
    vc = agency.issue("urn:uuid:aeo-9")
    agency.set("urn:uuid:aeo-9", "revoked")
    verifier = dataclasses.replace(verifier_at(fetcher, T0), checks=("proof", "validity"))
    assert verifier.verify(vc).verified


def test_a_withdrawn_list_is_not_replaced_by_the_stale_copy(
    agency: Agency, fetcher: StaticFetcher
) -> None:
    vc = agency.issue("urn:uuid:aeo-10")
    now = [T0]
    verifier = Verifier(fetcher=fetcher, clock=lambda: now[0])
    assert verifier.verify(vc).verified
    fetcher.documents.clear()  # the issuer now answers 404: that is news, not an outage
    now[0] += timedelta(hours=1)
    result = verifier.verify(vc)
    assert set(result.codes) == {"STATUS_UNAVAILABLE"}
    assert not any(w.code == "STATUS_STALE" for w in result.warnings)


@pytest.mark.parametrize(
    ("ahead", "codes"),
    [(timedelta(seconds=10), ()), (timedelta(minutes=10), ("STATUS_VERIFICATION",))],
)
def test_a_list_signed_by_a_clock_slightly_ahead_is_accepted(
    agency: Agency, fetcher: StaticFetcher, ahead: timedelta, codes: tuple[str, ...]
) -> None:
    vc = agency.issue("urn:uuid:aeo-11")
    for info in agency.store.lists():  # re-sign every list as an issuer whose clock runs ahead
        unsigned = status_list_credential_for(
            agency.store,
            info.list_id,
            list_url=LIST_BASE + info.list_id,
            issuer=agency.did,
            valid_from=T0 + ahead,
        )
        fetcher.publish(LIST_BASE + info.list_id, str(issue(unsigned, agency.key)))
    assert set(verifier_at(fetcher, T0).verify(vc).codes) == set(codes)  # default skew: 60 s


def republish(agency: Agency, fmt: str, **changes: Any) -> None:
    """Re-sign every list of ``agency`` in ``fmt``; ``changes`` are members added to each list
    credential, ``disclosable`` the SD-JWT paths its issuer made disclosable."""
    disclosable = changes.pop("disclosable", None)
    for info in agency.store.lists():
        url = LIST_BASE + info.list_id
        unsigned = status_list_credential_for(
            agency.store,
            info.list_id,
            list_url=url,
            issuer=agency.did,
            valid_from=T0 - timedelta(days=1),
            ttl=timedelta(seconds=30),
        )
        options: dict[str, Any] = {"now": T0 - timedelta(days=1)}
        if disclosable is not None:
            options["disclosable"] = disclosable
        agency.fetcher.publish(
            url, str(issue({**unsigned, **changes}, agency.key, format=fmt, **options))
        )


def test_an_sd_jwt_list_disclosing_nothing_is_read(agency: Agency, fetcher: StaticFetcher) -> None:
    vc = agency.issue("urn:uuid:aeo-12")
    republish(agency, "vc+sd-jwt")
    assert verifier_at(fetcher, T0).verify(vc).verified


@pytest.mark.parametrize("withheld", [False, True], ids=["disclosed", "withheld"])
def test_an_sd_jwt_list_with_a_claim_that_may_be_withheld_is_refused(
    agency: Agency, fetcher: StaticFetcher, withheld: bool
) -> None:
    # a list has no holder: anyone serving it can drop a disclosure — its ttl (30 s), and the
    # verifier would hold the list for its own default (5 min) on a member nobody signed away
    vc = agency.issue("urn:uuid:aeo-13")
    republish(agency, "vc+sd-jwt", disclosable=["/credentialSubject/ttl"])
    if withheld:
        for url, body in list(fetcher.documents.items()):
            fetcher.publish(url, body.decode().split("~", 1)[0] + "~")
    result = verifier_at(fetcher, T0).verify(vc)
    assert set(result.codes) == {"STATUS_VERIFICATION"}
    assert "withheld" in result.errors[0].message


def test_a_list_stating_a_status_of_its_own_is_refused(
    agency: Agency, fetcher: StaticFetcher
) -> None:
    vc = agency.issue("urn:uuid:aeo-14")
    own = agency.store.allocate("revocation", credential_id="urn:uuid:the-lists")
    set_credential_status(agency.store, "urn:uuid:the-lists", "revoked")
    republish(agency, "vc+jwt", credentialStatus=own.entry(LIST_BASE + own.list_id).to_json())
    result = verifier_at(fetcher, T0).verify(vc)
    assert set(result.codes) == {"STATUS_VERIFICATION"}
    assert "a status of its own" in result.errors[0].message


def pinning(agency: Agency, *keys: PinnedKey) -> TrustList:
    """A trust list recognising ``agency`` (its DID in the sample list's first entry) and
    trusting only ``keys`` for it."""
    held = load_trust_list(sample_trust_list("US-CTPAT"), now=datetime(2025, 6, 1, tzinfo=UTC))
    first = held.entries[0]
    return dataclasses.replace(
        held,
        entries=(
            dataclasses.replace(first, issuer=agency.did, dids=frozenset(), pinned_keys=keys),
        ),
    )


@pytest.mark.parametrize(
    ("pins", "codes"),
    [
        pytest.param(
            lambda ours, other: [PinnedKey(thumbprint=ours, not_before=T0 - timedelta(days=30))],
            set(),
            id="pinned",
        ),
        pytest.param(
            lambda ours, other: [PinnedKey(thumbprint=other, not_before=T0 - timedelta(days=30))],
            {"STATUS_VERIFICATION"},
            id="another-key-pinned",
        ),
        pytest.param(
            lambda ours, other: [
                PinnedKey(
                    thumbprint=ours,
                    not_before=T0 - timedelta(days=30),
                    not_after=T0 - timedelta(days=2),
                ),
                PinnedKey(thumbprint=other, not_before=T0 - timedelta(days=2)),
            ],
            {"STATUS_VERIFICATION"},
            id="window-closed-before-the-list-was-signed",
        ),
    ],
)
def test_a_list_is_signed_with_a_key_the_trust_list_pins_for_its_issuer(
    agency: Agency, fetcher: StaticFetcher, pins: Any, codes: set[str]
) -> None:
    # a partner's key withdrawn from the trust list (compromised, rotated out) no longer
    # makes its certificates trusted; a list signed with it ("not suspended") was still
    # believed: whoever holds the key undid a suspension at home, abroad
    vc = agency.issue("urn:uuid:aeo-15")
    republish(agency, "vc+jwt")  # signed a day before T0
    other = KeyPair.generate().public.thumbprint()
    trust = pinning(agency, *pins(agency.key.public.thumbprint(), other))
    verifier = Verifier(
        fetcher=fetcher,
        clock=lambda: T0,
        trust=trust,
        checks=("proof", "issuer", "validity", "status"),  # the list's keys, not the type's
    )
    result = verifier.verify(vc)
    assert set(result.codes) == codes
    if codes:
        assert "pinned" in result.errors[0].message


def test_a_list_cached_under_another_trust_policy_is_held_to_this_ones_keys(
    agency: Agency, fetcher: StaticFetcher
) -> None:
    # verifiers made by dataclasses.replace share their status cache (the service's trust
    # refreshes, its trust-history and as-of verifiers): a list one of them admitted
    # without pinned keys — or before the trust list withdrew its key — must not answer for
    # one that pins other keys
    vc = agency.issue("urn:uuid:aeo-16")
    republish(agency, "vc+jwt")
    checks = ("proof", "issuer", "validity", "status")
    unpinned = Verifier(fetcher=fetcher, clock=lambda: T0, checks=checks)
    assert unpinned.verify(vc).verified
    other = KeyPair.generate().public.thumbprint()
    trust = pinning(agency, PinnedKey(thumbprint=other, not_before=T0 - timedelta(days=30)))
    pinned = dataclasses.replace(unpinned, trust=trust)
    result = pinned.verify(vc)
    assert set(result.codes) == {"STATUS_VERIFICATION"}
    assert "pinned" in result.errors[0].message
