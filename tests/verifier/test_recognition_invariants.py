"""The recognition path reviewed as invariants (docs/security.md §13.32): what a border system
is told "recognised" rests only on what the issuers the trust list makes competent signed, in
force at the asked moment; a certificate shown in another format is the same recognition; a
second trader claiming an identifier does not steer the answer for it. On SQLite and
PostgreSQL."""

from __future__ import annotations

import dataclasses
import json
import secrets
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, update

from tests.verifier.conftest import NOW, US_DID, Agency, MakeApp, eu_trust_list
from tests.verifier.test_oid4vp import Clock
from tests.verifier.test_recognitions import (
    MID,
    ask,
    backend,
    certificate,
    clock,
    make,
    present_oid4vp,
    recognitions_made,
    trader,
)
from vcred import did_key, issue, present
from vcred.customs.builders import build_aeo_certificate
from vcred.customs.samples import TRADERS
from vcred.errors import MalformedError
from vcred.keys import KeyPair
from vcred.sdjwt import present as present_sd_jwt
from verifier_app import recognitions as recognitions_module
from verifier_app.recognitions import Recognitions, parse_moment

__all__ = ["backend", "clock", "make", "trader"]  # the fixtures, as test_recognitions takes them


@pytest.fixture(scope="module")
def jp_agency() -> KeyPair:
    return KeyPair.generate("ed25519")


@pytest.fixture
def two_partners(make: MakeApp, tmp_path: Path, jp_agency: KeyPair) -> Flask:
    """An EU verifier whose trust list recognises the US agency (US-CTPAT) and a Japanese one
    (JP-AEO)."""
    eu = KeyPair.generate("ed25519")
    japan = {
        "issuer": did_key(jp_agency.public),
        "name": "Japan Customs (test)",
        "programme": "JP-AEO",
        "country": "JP",
        "acceptedCredentialTypes": ["AEOCertificateCredential"],
    }
    unsigned = eu_trust_list(did_key(eu.public), japan)
    path = tmp_path / "two-partners.jwt"
    path.write_text(str(issue(unsigned, eu)))
    return make(recognition_refresh=timedelta(0), trust_list=path, trust_issuer=did_key(eu.public))


def jp_certificate(jp_agency: KeyPair, holder: KeyPair, *extra: dict[str, str]) -> Any:
    """A JP-AEO certificate of another trader (Rei Precision), stating ``extra`` identifiers
    beside its own, signed by the Japanese agency."""
    subject = json.loads(json.dumps(TRADERS["jp-rei"]))
    subject["id"] = did_key(holder.public)
    subject["identifier"] = [*subject["identifier"], *extra]
    document = build_aeo_certificate(
        subject,
        issuer=did_key(jp_agency.public),
        valid_from=datetime(2026, 1, 1, tzinfo=UTC),
        valid_until=datetime(2029, 1, 1, tzinfo=UTC),
    )
    return str(issue(document, jp_agency))


def presented(app: Flask, credential: Any, holder: KeyPair) -> list[str]:
    """The recognitions a presentation of ``credential`` over the VC API makes."""
    return recognitions_made(
        app, lambda c, d: str(present([credential], holder, challenge=c, domain=d))
    )


# -- an identifier claimed by a trader of another partner -----------------------------------------


def test_a_second_trader_claiming_an_identifier_does_not_lift_its_owners_suspension(
    two_partners: Flask, agency: Agency, trader: KeyPair, jp_agency: KeyPair, clock: Clock
) -> None:
    """The US trader's manufacturer ID is also stated on a certificate the Japanese agency
    signed for another trader. The US agency suspends its trader: the query by that ID
    answered "recognised" (the Japanese trader's recognition holds), so a suspension at home
    did not end the recognition abroad, and an identifier the owner's agency did not sign for
    that trader steered the answer."""
    app = two_partners
    document = certificate(agency, trader)
    present_oid4vp(app, agency, trader, document)
    other = KeyPair.generate("p256")
    presented(app, jp_certificate(jp_agency, other, {"scheme": "US-MID", "value": MID}), other)
    agency.set(document, "suspended")
    clock.now = NOW + timedelta(minutes=10)  # past the status list's cache time
    app.extensions["vcred_verifier"].refresh_recognitions()
    body = ask(app, scheme="US-MID", id=MID).get_json()
    assert (body["recognised"], body["reason"]) == (False, "IDENTIFIER_CONTESTED")
    # the US trader's own identifiers name it alone: its suspension is told
    own = ask(app, scheme="CTPAT", id="48120").get_json()
    assert (own["recognised"], own["reason"]) == (False, "SUSPENDED_BY_HOME_AGENCY")
    # the Japanese trader's own identifiers are not contested
    assert ask(app, scheme="JP-CN", id="7310001234567").get_json()["recognised"] is True


def test_a_second_trader_claiming_an_identifier_contests_it_while_both_hold(
    two_partners: Flask, agency: Agency, trader: KeyPair, jp_agency: KeyPair
) -> None:
    """Both recognitions hold: the answer named whichever was newest (the other trader, its
    programme and level) as "recognised" for the first trader's identifier."""
    app = two_partners
    present_oid4vp(app, agency, trader, certificate(agency, trader))
    other = KeyPair.generate("p256")
    (rival,) = presented(
        app, jp_certificate(jp_agency, other, {"scheme": "US-MID", "value": MID}), other
    )
    body = ask(app, scheme="US-MID", id=MID).get_json()
    assert (body["recognised"], body["reason"]) == (False, "IDENTIFIER_CONTESTED")
    # an officer refusing the rival does not settle it: its agency still states the
    # identifier (the contest ends when that certificate is revoked or ends, or the partner
    # leaves the list)
    service = app.extensions["vcred_verifier"]
    service.storage.recognitions.decide(
        rival, decision="refused", officer="otto", note="not its MID", now=NOW
    )
    again = ask(app, scheme="US-MID", id=MID).get_json()
    assert (again["recognised"], again["reason"]) == (False, "IDENTIFIER_CONTESTED")


def test_a_claim_by_an_issuer_no_longer_trusted_contests_nothing(
    two_partners: Flask, agency: Agency, trader: KeyPair, jp_agency: KeyPair
) -> None:
    """A rival whose agency the trust list held now no longer recognises (dropped), or whose
    certificate is not valid at the asked moment, is no claim: the owner is recognised."""
    app = two_partners
    present_oid4vp(app, agency, trader, certificate(agency, trader))
    other = KeyPair.generate("p256")
    presented(app, jp_certificate(jp_agency, other, {"scheme": "US-MID", "value": MID}), other)
    service = app.extensions["vcred_verifier"]
    held = service.trust
    us_only = [e for e in held.entries if e.issuer == US_DID]
    service.trust = dataclasses.replace(held, entries=tuple(us_only))
    try:
        assert ask(app, scheme="US-MID", id=MID).get_json()["recognised"] is True
    finally:
        service.trust = held


# -- one certificate, several formats -------------------------------------------------------------

FORMATS = ("vc+jwt", "vc+sd-jwt", "eddsa-rdfc-2022")


def secured(agency: Agency, document: dict[str, Any], fmt: str, holder: KeyPair) -> Any:
    options: dict[str, Any] = {"holder": holder} if fmt == "vc+sd-jwt" else {}
    if fmt == "eddsa-rdfc-2022":
        options["now"] = NOW
    return agency.issue(document, fmt=fmt, **options)


def shown(app: Flask, credential: Any, fmt: str, holder: KeyPair) -> list[str]:
    """The recognitions ``credential`` (secured as ``fmt``) makes, presented over the VC API."""
    if fmt == "vc+sd-jwt":
        return recognitions_made(
            app, lambda c, d: present_sd_jwt(str(credential), holder, nonce=c, aud=d, now=NOW)
        )
    return presented(app, credential if fmt == "eddsa-rdfc-2022" else str(credential), holder)


@pytest.fixture
def app(make: MakeApp) -> Flask:
    return make(recognition_refresh=timedelta(0))


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
    database=None,
)
@given(formats=st.lists(st.sampled_from(FORMATS), min_size=2, max_size=3))
def test_one_certificate_in_several_formats_is_one_recognition(
    app: Flask, agency: Agency, trader: KeyPair, formats: list[str]
) -> None:
    """The home agency secures one certificate (one id, one set of status entries) in several
    formats — a JWT for one system, Data Integrity for another. Each was a recognition of its
    own (they are named by what their signature covers): an officer refusing the one listed
    left the other "recognised" at the border."""
    document = certificate(agency, trader)
    made = {
        recognition
        for fmt in formats
        for recognition in shown(app, secured(agency, document, fmt, trader), fmt, trader)
    }
    assert len(made) == 1, formats
    (recognition,) = made
    recognitions = app.extensions["vcred_verifier"].storage.recognitions
    actions = [e.action for e in recognitions.history(recognition)]
    assert actions == ["recognised"] + ["presented"] * (len(formats) - 1)


def test_a_refusal_holds_for_the_certificate_in_every_format(
    app: Flask, agency: Agency, trader: KeyPair
) -> None:
    document = certificate(agency, trader)
    jwt = secured(agency, document, "vc+jwt", trader)
    (made,) = shown(app, jwt, "vc+jwt", trader)
    rdfc = secured(agency, document, "eddsa-rdfc-2022", trader)
    assert shown(app, rdfc, "eddsa-rdfc-2022", trader) == [made]
    service = app.extensions["vcred_verifier"]
    service.storage.recognitions.decide(
        made, decision="refused", officer="otto", note="false declaration", now=NOW
    )
    body = ask(app, scheme="US-MID", id=MID).get_json()
    assert (body["recognised"], body["reason"]) == (False, "REFUSED_BY_OFFICER")


def test_a_suspension_seen_in_another_format_ends_the_recognition_at_once(
    app: Flask, agency: Agency, trader: KeyPair, clock: Clock
) -> None:
    """A presentation that fails on the suspension it reads notes it on the recognition the
    certificate made — also when it shows the certificate in another format than the one
    that made it (§13.24 found it by digest only)."""
    document = certificate(agency, trader)
    (made,) = shown(app, secured(agency, document, "vc+jwt", trader), "vc+jwt", trader)
    agency.set(document, "suspended")
    clock.now = NOW + timedelta(minutes=10)
    service = app.extensions["vcred_verifier"]
    challenge = service.issue_challenge().challenge
    rdfc = secured(agency, document, "eddsa-rdfc-2022", trader)
    vp = present([rdfc], trader, challenge=challenge, domain=service.config.domain)
    refused = app.test_client().post(
        "/presentations/verify",
        json={
            "verifiablePresentation": vp,
            "options": {"challenge": challenge, "domain": service.config.domain},
        },
    )
    assert refused.get_json()["verified"] is False
    body = ask(app, scheme="US-MID", id=MID).get_json()
    assert (body["recognised"], body["reason"]) == (False, "SUSPENDED_BY_HOME_AGENCY")
    assert [e.action for e in service.storage.recognitions.history(made)][-1] == "presented"


# -- the asked moment -----------------------------------------------------------------------------


def test_before_it_was_made_a_recognition_does_not_hold(
    app: Flask, agency: Agency, trader: KeyPair, clock: Clock
) -> None:
    """The trader's certificate is valid from January; suspended at home in March and
    reinstated in May, it is presented in June. Asked about April, the answer was
    "recognised": the status then was never checked here (only June's), nor was any benefit
    requested — the answer stood on an input not established at the asked moment."""
    document = certificate(agency, trader)
    clock.now = NOW  # 2026-06-01T12:00Z
    present_oid4vp(app, agency, trader, document)
    for at in ("2026-04-15", "2026-06-01", "2026-06-01T11:59:59Z", "2026-06-01T13:59:59+02:00"):
        body = ask(app, scheme="US-MID", id=MID, at=at).get_json()
        assert (body["recognised"], body["reason"]) == (False, "NOT_YET_RECOGNISED"), at
    for at in ("2026-06-01T12:00:00Z", "2026-06-02", "2026-12-01"):
        assert ask(app, scheme="US-MID", id=MID, at=at).get_json()["recognised"] is True, at
    # the earlier reasons are told first: before the certificate, it is not yet valid
    early = ask(app, scheme="US-MID", id=MID, at="2025-12-31").get_json()
    assert early["reason"] == "NOT_YET_VALID"


@settings(max_examples=40, deadline=None, database=None)
@given(day=st.dates(min_value=date(1, 1, 8), max_value=date(9999, 12, 24)))
def test_a_date_is_read_only_in_its_one_form(day: date) -> None:
    """``at`` is an XML Schema date (2026-12-01) or a dateTimeStamp. A ten-character ISO week
    date (2026-W01-1: 2025-12-29) was read by ``date.fromisoformat`` as that day; it is
    refused as any other form is, and the date form reads the day it writes."""
    year, week, weekday = day.isocalendar()
    week_form = f"{year:04d}-W{week:02d}-{weekday}"
    with pytest.raises(MalformedError) as refused:
        parse_moment(week_form, pointer="/at", now=NOW)
    assert refused.value.pointer == "/at"
    assert parse_moment(day.isoformat(), pointer="/at", now=NOW) == datetime.combine(
        day, time(), tzinfo=UTC
    )


def test_a_refusal_holds_for_a_form_of_the_certificate_recognised_at_the_same_moment(
    app: Flask, agency: Agency, trader: KeyPair, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two forms of one certificate presented at once to two processes: each looks for the
    other's recognition before either is written, and two are made. An officer refuses one;
    the query must not answer "recognised" through the other."""
    document = certificate(agency, trader)
    (made,) = shown(app, secured(agency, document, "vc+jwt", trader), "vc+jwt", trader)
    # the second process did not see the first's recognition yet
    monkeypatch.setattr(Recognitions, "_by_status", lambda self, issuer, entries, **_: None)
    rdfc = secured(agency, document, "eddsa-rdfc-2022", trader)
    (twin,) = shown(app, rdfc, "eddsa-rdfc-2022", trader)
    assert twin != made
    recognitions = app.extensions["vcred_verifier"].storage.recognitions
    for refused in (made, twin):  # whichever the officer refuses
        with recognitions.engine.begin() as conn:
            conn.execute(
                update(recognitions.table)
                .where(recognitions.table.c.id.in_([made, twin]))
                .values(decision=None)
            )
        recognitions.decide(refused, decision="refused", officer="otto", note="", now=NOW)
        body = ask(app, scheme="US-MID", id=MID).get_json()
        assert (body["recognised"], body["reason"]) == (False, "REFUSED_BY_OFFICER"), refused


# -- pinned: what already held --------------------------------------------------------------------


def test_an_identifier_the_issuer_did_not_sign_finds_nothing(
    app: Flask, agency: Agency, trader: KeyPair
) -> None:
    """Pinned: an identifier added to a signed certificate (Data Integrity: a statement the
    dataset signed does not hold) fails its proof, makes no recognition, and the query by
    it finds none; the certificate as signed is recognised by its own identifiers only."""
    document = certificate(agency, trader)
    held = secured(agency, document, "eddsa-rdfc-2022", trader)
    forged = json.loads(json.dumps(held))
    forged["credentialSubject"]["identifier"].append(
        {"scheme": "EORI", "value": "DE123456789012345"}
    )
    service = app.extensions["vcred_verifier"]
    challenge = service.issue_challenge().challenge
    vp = present([forged], trader, challenge=challenge, domain=service.config.domain)
    answer = app.test_client().post(
        "/presentations/verify",
        json={
            "verifiablePresentation": vp,
            "options": {"challenge": challenge, "domain": service.config.domain},
        },
    )
    assert answer.get_json()["verified"] is False and "recognitions" not in answer.get_json()
    assert ask(app, scheme="EORI", id="DE123456789012345").get_json()["reason"] == "NOT_FOUND"
    assert shown(app, held, "eddsa-rdfc-2022", trader)
    assert ask(app, scheme="EORI", id="DE123456789012345").get_json()["reason"] == "NOT_FOUND"
    assert ask(app, scheme="US-MID", id=MID).get_json()["recognised"] is True


def test_a_status_list_that_cannot_be_read_keeps_the_last_status_until_the_bound(
    app: Flask, agency: Agency, trader: KeyPair, clock: Clock
) -> None:
    """Pinned: the refresher reading no list (junk served) keeps the last status and its
    time — the error reported — and past the freshness bound the answer is STATUS_UNKNOWN,
    whatever the status was; never "active" from a list not read."""
    document = certificate(agency, trader)
    present_oid4vp(app, agency, trader, document)
    paths = [p for p in agency.server.routes if p.startswith("/status/")]
    service = app.extensions["vcred_verifier"]
    try:
        for path in paths:
            agency.server.serve(path, b"not a status list")
        clock.now = NOW + timedelta(minutes=10)
        report = service.refresh_recognitions()
        assert report.errors and not report.changed
        assert ask(app, scheme="US-MID", id=MID).get_json()["recognised"] is True  # 10 min old
        clock.now = NOW + timedelta(hours=24, minutes=1)
        assert service.refresh_recognitions().errors
        body = ask(app, scheme="US-MID", id=MID).get_json()
        assert (body["recognised"], body["reason"]) == (False, "STATUS_UNKNOWN")
        assert body["evidence"]["lastStatusCheck"]["at"] == "2026-06-01T12:00:00Z"
    finally:
        agency.publish()
    clock.now = NOW + timedelta(hours=24, minutes=2)
    assert not service.refresh_recognitions().errors
    assert ask(app, scheme="US-MID", id=MID).get_json()["recognised"] is True


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
    database=None,
)
@given(
    url=st.text(min_size=1, max_size=40).map(lambda t: "https://status.example/" + t),
    index=st.one_of(st.integers(0, 2**40), st.integers(0, 2**40).map(str), st.text(max_size=8)),
    as_number=st.booleans(),
)
def test_the_status_entries_narrowing_never_misses_a_certificate(
    app: Flask, url: str, index: int | str, as_number: bool
) -> None:
    """The database narrows the lookup by the text of the stored entries (LIKE, escaped):
    whatever a list URL holds (``%``, ``_``, ``\\``, quotes, text beyond ASCII) and however
    the index is written (a number, a string), the recognition naming that entry is found."""
    recognitions = app.extensions["vcred_verifier"].storage.recognitions
    issuer = "did:web:issuer.example:" + secrets.token_hex(4)
    stored = {"statusPurpose": "suspension", "statusListCredential": url, "statusListIndex": index}
    asked = dict(stored)
    if as_number and isinstance(index, str) and index.isascii() and index.isdigit():
        asked["statusListIndex"] = int(index)  # the other form of the same index
    recognition_id = "rec-" + secrets.token_hex(6)
    with recognitions.engine.begin() as conn:
        conn.execute(
            insert(recognitions.table).values(
                id=recognition_id,
                digest="sha256-" + secrets.token_hex(20),
                created=NOW,
                channel="test",
                issuer=issuer,
                programme="US-CTPAT",
                arrangement="{}",
                benefits="[]",
                status_entries=json.dumps([stored]),
                status="active",
            )
        )
    found = recognitions._by_status(issuer, [asked])
    assert found is not None and found.id == recognition_id
    assert recognitions._by_status(issuer, [{**asked, "statusListCredential": url + "x"}]) is None


@pytest.mark.parametrize("own", [None, ""])
def test_a_party_whose_at_is_null_is_asked_at_the_querys_moment(
    app: Flask, agency: Agency, trader: KeyPair, own: str | None
) -> None:
    """A serializer writes an absent optional member as null. A party with ``"at": null``
    was answered as of now, not at the batch's moment: asked about 2029-06-01 (past the
    certificate), the answer was "recognised" (now)."""
    present_oid4vp(app, agency, trader, certificate(agency, trader))
    answer = app.test_client().post(
        "/recognitions/query",
        json={"at": "2029-06-01", "parties": [{"scheme": "US-MID", "id": MID, "at": own}]},
    )
    (result,) = answer.get_json()["results"]
    assert (result["at"], result["recognised"], result["reason"]) == (
        "2029-06-01T00:00:00Z",
        False,
        "EXPIRED",
    )


def test_a_malformed_batch_moment_is_named_at_its_own_pointer(app: Flask) -> None:
    """The query's own ``at`` was reported at the first party's pointer."""
    for at in ("1 Dec", 7):
        answer = app.test_client().post(
            "/recognitions/query",
            json={"at": at, "parties": [{"scheme": "EORI", "id": "DE123456789012345"}]},
        )
        assert answer.status_code == 400
        assert answer.get_json()["pointer"] == "/at", answer.get_json()


def test_a_renewal_given_the_status_index_of_the_certificate_it_replaces_is_recognised(
    app: Flask, agency: Agency, trader: KeyPair
) -> None:
    """An issuer may give a renewed certificate (another window) the status entries of the
    one it replaces: that is not another form of the same certificate, and its recognition
    must not end with the old one's window."""
    old = certificate(agency, trader, valid_until=datetime(2027, 1, 1, tzinfo=UTC))
    (first,) = shown(app, secured(agency, old, "vc+jwt", trader), "vc+jwt", trader)
    renewed = {**old, "id": "urn:uuid:renewed", "validUntil": "2030-01-01T00:00:00Z"}
    (second,) = shown(app, secured(agency, renewed, "vc+jwt", trader), "vc+jwt", trader)
    assert second != first
    assert ask(app, scheme="US-MID", id=MID, at="2028-06-01").get_json()["recognised"] is True


def around(limit: int) -> st.SearchStrategy[str]:
    """Text up to a little past ``limit`` characters, often near it."""
    near = st.integers(limit - 2, limit + 8).flatmap(
        lambda n: st.text(st.characters(codec="utf-8"), min_size=n, max_size=n)
    )
    return st.one_of(st.text(min_size=1, max_size=10), near)


@settings(max_examples=100, deadline=None, database=None)
@given(st.lists(st.fixed_dictionaries({"scheme": around(64), "value": around(128)}), max_size=4))
def test_a_recognition_keeps_identifiers_exactly_as_stated(stated: list[dict[str, str]]) -> None:
    """Kept identifiers were cut to their columns (64, 128 characters): a prefix of a long
    identifier — which a registry scheme allowing long values lets a query name — found the
    certificate that stated the longer one."""
    kept = recognitions_module._identifiers(stated)
    assert set(kept) <= {(i["scheme"], i["value"]) for i in stated}
    assert all(len(s) <= 64 and len(v) <= 128 for s, v in kept)
