"""Recognition abroad: a trader's accepted AEO certificate (OpenID4VP, or the VC API challenge
path) leaves a recognition; border systems query it by any of the trader's identifiers; the
refresher notices a suspension at home; officers see the requests and note decisions. On
SQLite and PostgreSQL (two verifier apps sharing one database)."""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import update
from sqlalchemy.exc import OperationalError

from tests.httpserver import LocalServer
from tests.verifier import test_oauth, test_oid4vp
from tests.verifier.conftest import (
    LIST_BASE,
    NOW,
    US_DID,
    US_HOST,
    Agency,
    MakeApp,
    csrf_of,
    returned_while_held,
    signed_in,
)
from tests.verifier.test_oauth import clients_of, token_for
from tests.verifier.test_oid4vp import Clock, open_request, outcome, wallet_answer
from tests.verifier.test_openapi import Contract
from vcred import did_key, issue, present
from vcred.cli import main
from vcred.customs.identifiers import construct_mid
from vcred.did import did_web_document
from vcred.errors import UsageError
from vcred.issuing import signer_for
from vcred.keys import KeyPair
from vcred.sdjwt import present as present_sd_jwt
from vcred.status import set_credential_status, status_list_credential_for
from vcred.trust import PinnedKey, TrustList
from vcred_service.oauth import OAuthConfig
from verifier_app import recognitions as recognitions_module
from verifier_app.recognitions import Checked, Recognition, Recognitions
from verifier_app.service import REFRESH_LEASE

# the fixtures of the OpenID4VP and OAuth tests: apps on SQLite and PostgreSQL, a trader's key
backend, clock, make, trader = (
    test_oid4vp.backend,
    test_oid4vp.clock,
    test_oid4vp.make,
    test_oid4vp.trader,
)
as_key, oauth_config = test_oauth.as_key, test_oauth.oauth_config

MID = construct_mid(
    country="US", name="Example Prairie Gadgets, Inc.", street="100 Sample Avenue", city="Omaha"
)


def certificate(agency: Agency, trader: KeyPair, **options: Any) -> dict[str, Any]:
    document = agency.aeo_certificate(holder=did_key(trader.public), **options)
    document["credentialSubject"]["identifier"].append({"scheme": "US-MID", "value": MID})
    return document


def present_oid4vp(app: Flask, agency: Agency, trader: KeyPair, document: dict[str, Any]) -> str:
    """The trader's wallet answers the verifier's request; the recognition's id."""
    held = str(agency.issue(document, fmt="vc+sd-jwt", holder=trader))
    opened = open_request(app)
    form, response_uri = wallet_answer(app, opened, [held], trader)
    answer = app.test_client().post(response_uri, data=form)
    assert answer.status_code == 200, answer.get_json()["problemDetails"]
    (presented,) = outcome(app, opened)["result"]["presentations"]["aeo_sd_jwt"]
    (recognition,) = presented["recognitions"]
    return str(recognition)


def ask(app: Flask, **params: str) -> Any:
    return app.test_client().get("/recognitions?" + urlencode(params))


def recognitions_made(app: Flask, presentation: Callable[[str, str], Any]) -> list[str]:
    """The recognitions a presentation over the VC API's challenge path makes
    (``presentation(challenge, domain)``: what the trader sends)."""
    service = app.extensions["vcred_verifier"]
    challenge = service.issue_challenge().challenge
    answer = app.test_client().post(
        "/presentations/verify",
        json={
            "verifiablePresentation": presentation(challenge, service.config.domain),
            "options": {"challenge": challenge, "domain": service.config.domain},
        },
    )
    assert answer.status_code == 200, answer.get_json()
    return list(answer.get_json()["recognitions"])


@pytest.fixture
def app(make: MakeApp) -> Flask:
    return make(recognition_refresh=timedelta(0))


def test_a_presentation_makes_a_recognition_the_border_can_query(
    app: Flask, agency: Agency, trader: KeyPair
) -> None:
    made = present_oid4vp(app, agency, trader, certificate(agency, trader))
    answer = ask(app, scheme="US-MID", id=MID, at="2026-12-01")
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["recognised"] is True
    assert (body["programme"], body["level"]) == ("US-CTPAT", "TIER3")
    assert body["arrangement"]["id"] == "urn:vcred:mra:eu-aeo:us-ctpat"
    assert "until" not in body["arrangement"]  # in force without an end: the credential's
    assert body["validUntil"] == "2029-01-01T00:00:00Z"
    assert "PRIORITY_PROCESSING" in [b["code"] for b in body["benefits"]]
    evidence = body["evidence"]
    assert evidence["recognition"] == made
    assert evidence["credentialDigest"].startswith("sha256-")
    assert evidence["lastStatusCheck"]["result"] == "active"
    assert [e["statusPurpose"] for e in evidence["statusEntries"]] == ["revocation", "suspension"]
    # every identifier of the certificate finds it
    for scheme, value in (("CTPAT", "48120"), ("US-EIN", "98-7654321"), ("SVI", "US7Q4K2M9T")):
        assert ask(app, scheme=scheme, id=value).get_json()["recognised"] is True


def test_an_unknown_party_is_not_found(app: Flask) -> None:
    body = ask(app, scheme="EORI", id="DE123456789012345").get_json()
    assert (body["recognised"], body["reason"]) == (False, "NOT_FOUND")


def test_past_the_credential_it_is_expired_and_before_it_not_yet_valid(
    app: Flask, agency: Agency, trader: KeyPair
) -> None:
    present_oid4vp(app, agency, trader, certificate(agency, trader))
    late = ask(app, scheme="US-MID", id=MID, at="2029-06-01").get_json()
    assert (late["recognised"], late["reason"]) == (False, "EXPIRED")
    early = ask(app, scheme="US-MID", id=MID, at="2025-06-01").get_json()
    assert (early["recognised"], early["reason"]) == (False, "NOT_YET_VALID")


def test_a_suspension_at_home_ends_the_recognition_after_a_refresh(
    app: Flask, agency: Agency, trader: KeyPair, clock: Clock
) -> None:
    document = certificate(agency, trader)
    present_oid4vp(app, agency, trader, document)
    agency.set(document, "suspended")
    clock.now = NOW + timedelta(minutes=10)  # past the status list's cache time
    service = app.extensions["vcred_verifier"]
    report = service.refresh_recognitions()
    assert report.checked == 1 and len(report.changed) == 1
    body = ask(app, scheme="US-MID", id=MID).get_json()
    assert (body["recognised"], body["reason"]) == (False, "SUSPENDED_BY_HOME_AGENCY")
    assert body["evidence"]["lastStatusCheck"]["result"] == "suspended"
    agency.set(document, "active")  # lifted at home: recognised again at the next round
    clock.now = NOW + timedelta(minutes=20)
    service.refresh_recognitions()
    assert ask(app, scheme="US-MID", id=MID).get_json()["recognised"] is True


def test_a_revocation_at_home_is_final(
    app: Flask, agency: Agency, trader: KeyPair, clock: Clock
) -> None:
    document = certificate(agency, trader)
    present_oid4vp(app, agency, trader, document)
    agency.set(document, "revoked")
    clock.now = NOW + timedelta(minutes=10)
    app.extensions["vcred_verifier"].refresh_recognitions()
    body = ask(app, scheme="CTPAT", id="48120").get_json()
    assert (body["recognised"], body["reason"]) == (False, "REVOKED")


def test_a_status_not_checked_within_the_bound_is_unknown(
    app: Flask, agency: Agency, trader: KeyPair, clock: Clock
) -> None:
    present_oid4vp(app, agency, trader, certificate(agency, trader))
    clock.now = NOW + timedelta(hours=25)  # status_max_age is 24 h; no refresh ran
    body = ask(app, scheme="US-MID", id=MID, at="2026-06-02").get_json()
    assert (body["recognised"], body["reason"]) == (False, "STATUS_UNKNOWN")


def test_outside_the_arrangement_it_is_not_in_force(
    app: Flask, agency: Agency, trader: KeyPair
) -> None:
    present_oid4vp(app, agency, trader, certificate(agency, trader))
    body = ask(app, scheme="US-MID", id=MID, at="2000-01-01").get_json()
    # before the certificate too: the earlier reason (NOT_YET_VALID) is the one told
    assert body["reason"] == "NOT_YET_VALID"
    service = app.extensions["vcred_verifier"]
    (found,) = service.storage.recognitions.latest()
    arrangement = found.arrangement
    assert found.reason_at(
        NOW.replace(year=int(arrangement["since"][:4]) - 1),
        now=NOW,
        max_age=timedelta(days=1),
        trust=service.trust,
    ) in ("ARRANGEMENT_NOT_IN_FORCE", "NOT_YET_VALID")


def test_the_same_certificate_presented_twice_is_one_recognition(
    app: Flask, agency: Agency, trader: KeyPair
) -> None:
    document = certificate(agency, trader)
    held = str(agency.issue(document, fmt="vc+jwt"))
    service = app.extensions["vcred_verifier"]
    made = set()
    for _ in range(2):
        made.update(
            recognitions_made(app, lambda c, d: str(present([held], trader, challenge=c, domain=d)))
        )
    assert len(made) == 1
    history = service.storage.recognitions.history(made.pop())
    assert [e.action for e in history] == ["recognised", "presented"]


def test_a_refused_certificate_rewritten_in_other_json_is_still_refused(
    app: Flask, agency: Agency, trader: KeyPair
) -> None:
    """An RDFC proof signs the RDF dataset, not the JSON: the trader can write the same
    certificate in other JSON (its types in another order) and the proof still verifies. The
    recognition was found by the digest of that JSON, so the rewritten certificate made a new
    recognition and the border was answered "recognised" after an officer had refused it."""
    document = certificate(agency, trader)
    held = agency.issue(document, fmt="eddsa-rdfc-2022", now=NOW)
    service = app.extensions["vcred_verifier"]

    def presented(credential: dict[str, Any]) -> list[str]:
        return recognitions_made(
            app, lambda c, d: str(present([credential], trader, challenge=c, domain=d))
        )

    (made,) = presented(held)
    service.storage.recognitions.decide(
        made, decision="refused", officer="otto", note="false declaration", now=NOW
    )
    rewritten = {**held, "type": list(reversed(held["type"]))}
    assert presented(rewritten) == [made]
    body = ask(app, scheme="US-MID", id=MID).get_json()
    assert (body["recognised"], body["reason"]) == (False, "REFUSED_BY_OFFICER")


def test_a_refused_certificate_shown_with_other_disclosures_is_still_refused(
    app: Flask, agency: Agency, trader: KeyPair
) -> None:
    """The holder of an SD-JWT chooses which disclosures to show: the recognition was found
    by the digest of the claims shown, so the same certificate with one disclosure fewer
    made a new recognition, "recognised" at the border after an officer had refused it."""
    document = certificate(agency, trader)
    held = str(
        agency.issue(
            document,
            fmt="vc+sd-jwt",
            holder=trader,
            disclosable=["/credentialSubject/address"],
        )
    )
    service = app.extensions["vcred_verifier"]

    def presented(disclose: list[str]) -> list[str]:
        return recognitions_made(
            app,
            lambda c, d: present_sd_jwt(held, trader, disclose=disclose, nonce=c, aud=d, now=NOW),
        )

    (made,) = presented(["/credentialSubject/address"])
    service.storage.recognitions.decide(
        made, decision="refused", officer="otto", note="false declaration", now=NOW
    )
    assert presented([]) == [made]
    body = ask(app, scheme="US-MID", id=MID).get_json()
    assert (body["recognised"], body["reason"]) == (False, "REFUSED_BY_OFFICER")


def test_a_certificate_presented_again_after_a_suspension_ends_its_recognition_at_once(
    app: Flask, agency: Agency, trader: KeyPair, clock: Clock
) -> None:
    """Presented again, a certificate's status is checked again — also when what the check
    finds (suspended at home) makes the presentation fail: the recognition held on as active
    until the refresher's next round (never, with the refresher off and no cron job)."""
    document = certificate(agency, trader)
    held = str(agency.issue(document, fmt="vc+jwt"))
    service = app.extensions["vcred_verifier"]

    def presented() -> Any:
        challenge = service.issue_challenge().challenge
        vp = present([held], trader, challenge=challenge, domain=service.config.domain)
        return app.test_client().post(
            "/presentations/verify",
            json={
                "verifiablePresentation": str(vp),
                "options": {"challenge": challenge, "domain": service.config.domain},
            },
        )

    (made,) = presented().get_json()["recognitions"]
    agency.set(document, "suspended")
    clock.now = NOW + timedelta(minutes=10)  # past the status list's cache time
    refused = presented().get_json()
    assert refused["verified"] is False and "recognitions" not in refused
    body = ask(app, scheme="US-MID", id=MID).get_json()
    assert (body["recognised"], body["reason"]) == (False, "SUSPENDED_BY_HOME_AGENCY")
    history = service.storage.recognitions.history(made)
    assert [e.action for e in history] == ["recognised", "presented"]
    assert history[-1].detail.startswith("suspended")


def test_a_wallet_answering_again_after_a_suspension_ends_its_recognition_at_once(
    app: Flask, agency: Agency, trader: KeyPair
) -> None:
    """The same over OpenID4VP: the refused answer's status check is noted."""
    document = certificate(agency, trader)
    held = str(agency.issue(document, fmt="vc+sd-jwt", holder=trader))
    opened = open_request(app)
    form, response_uri = wallet_answer(app, opened, [held], trader)
    assert app.test_client().post(response_uri, data=form).status_code == 200
    agency.set(document, "suspended")
    cache = app.extensions["vcred_verifier"].verifier.status_cache
    cache.clear()  # the list fetched again (the wallet's clock stays put: the clock does too)
    opened = open_request(app)
    form, response_uri = wallet_answer(app, opened, [held], trader)
    app.test_client().post(response_uri, data=form)
    assert outcome(app, opened)["result"]["verified"] is False
    body = ask(app, scheme="US-MID", id=MID).get_json()
    assert (body["recognised"], body["reason"]) == (False, "SUSPENDED_BY_HOME_AGENCY")


def test_a_credential_of_an_untrusted_issuer_makes_no_recognition(
    make: MakeApp, agency: Agency, trader: KeyPair
) -> None:
    app = make(trust_list=None, trust_issuer=None, recognition_refresh=timedelta(0))
    held = str(agency.issue(certificate(agency, trader), fmt="vc+sd-jwt", holder=trader))
    opened = open_request(app)
    form, response_uri = wallet_answer(app, opened, [held], trader)
    assert app.test_client().post(response_uri, data=form).status_code == 200
    (presented,) = outcome(app, opened)["result"]["presentations"]["aeo_sd_jwt"]
    assert "recognitions" not in presented
    assert ask(app, scheme="US-MID", id=MID).get_json()["reason"] == "NOT_FOUND"


def test_a_batch_query_answers_each_party(app: Flask, agency: Agency, trader: KeyPair) -> None:
    present_oid4vp(app, agency, trader, certificate(agency, trader))
    answer = app.test_client().post(
        "/recognitions/query",
        json={
            "at": "2026-12-01",
            "parties": [
                {"scheme": "US-MID", "id": MID},
                {"scheme": "EORI", "id": "DE123456789012345"},
                {"scheme": "CTPAT", "id": "48120", "at": "2030-01-01"},
            ],
        },
    )
    assert answer.status_code == 200
    results = answer.get_json()["results"]
    assert [r["recognised"] for r in results] == [True, False, False]
    assert [r.get("reason") for r in results] == [None, "NOT_FOUND", "EXPIRED"]


@pytest.mark.parametrize(
    ("params", "code", "pointer"),
    [
        ({"scheme": "NO-SUCH", "id": "1"}, "UNKNOWN_SCHEME", "/scheme"),
        ({"scheme": "EORI", "id": "not an eori"}, "MALFORMED", "/id"),
        ({"scheme": "EORI"}, "MALFORMED", "/id"),
        ({"id": "DE123456789012345"}, "MALFORMED", "/scheme"),
        ({"scheme": "EORI", "id": "DE123456789012345", "at": "1 Dec"}, "MALFORMED", "/at"),
        (
            {"scheme": "EORI", "id": "DE123456789012345", "at": "2026-12-01T00:00"},
            "MALFORMED",
            "/at",
        ),
        # an offset beyond ±14:00 is no dateTimeStamp (docs/security.md §13.19)
        (
            {"scheme": "EORI", "id": "DE123456789012345", "at": "2026-12-01T00:00:00+23:59"},
            "MALFORMED",
            "/at",
        ),
        # nor a moment before the year 1 once in UTC (an OverflowError: a 500)
        (
            {"scheme": "EORI", "id": "DE123456789012345", "at": "0001-01-01T00:00:00+14:00"},
            "MALFORMED",
            "/at",
        ),
    ],
)
def test_a_malformed_query_is_refused(
    app: Flask, params: dict[str, str], code: str, pointer: str
) -> None:
    answer = ask(app, **params)
    assert answer.status_code == 400
    body = answer.get_json()
    assert (body["code"], body["pointer"]) == (code, pointer)


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({}, "/parties"),
        ({"parties": []}, "/parties"),
        ({"parties": ["x"]}, "/parties/0"),
        ({"parties": [{"scheme": "NO-SUCH", "id": "1"}]}, "/parties/0/scheme"),
        ({"parties": [{"scheme": "EORI", "id": "DE123456789012345", "at": 5}]}, "/parties/0/at"),
    ],
)
def test_a_malformed_batch_query_is_refused(app: Flask, body: dict[str, Any], pointer: str) -> None:
    answer = app.test_client().post("/recognitions/query", json=body)
    assert answer.status_code == 400
    assert answer.get_json()["pointer"] == pointer


def test_a_batch_larger_than_the_limit_is_refused(make: MakeApp) -> None:
    app = make(max_batch_size=2, recognition_refresh=timedelta(0))
    party = {"scheme": "EORI", "id": "DE123456789012345"}
    answer = app.test_client().post("/recognitions/query", json={"parties": [party] * 3})
    assert answer.status_code == 400


def test_with_oauth_the_query_needs_the_recognitions_scope(
    make: MakeApp, oauth_config: OAuthConfig
) -> None:
    app = make(oauth=oauth_config, recognition_refresh=timedelta(0))
    assert ask(app, scheme="EORI", id="DE123456789012345").status_code == 401
    clients = clients_of(app)
    border = token_for(app, clients.register(["recognitions"], label="border", created="t"))
    other = token_for(app, clients.register(["verify"], label="other", created="t"))
    query = "/recognitions?scheme=EORI&id=DE123456789012345"
    http = app.test_client()
    wrong = http.get(query, headers={"Authorization": f"Bearer {other}"})
    assert (wrong.status_code, wrong.get_json()["code"]) == (403, "INSUFFICIENT_SCOPE")
    assert 'scope="recognitions"' in wrong.headers["WWW-Authenticate"]
    batch = http.post(
        "/recognitions/query",
        json={"parties": [{"scheme": "EORI", "id": "DE123456789012345"}]},
        headers={"Authorization": f"Bearer {other}"},
    )
    assert batch.status_code == 403
    right = http.get(query, headers={"Authorization": f"Bearer {border}"})
    assert right.status_code == 200
    assert right.get_json()["reason"] == "NOT_FOUND"


def test_officers_list_the_requests_read_the_history_and_note_a_decision(
    app: Flask, agency: Agency, trader: KeyPair
) -> None:
    made = present_oid4vp(app, agency, trader, certificate(agency, trader))
    assert app.test_client().get("/benefit-requests").status_code == 302  # sign-in first
    officer = signed_in(app, "otto")
    listing = officer.get("/benefit-requests").get_data(as_text=True)
    assert "Example Prairie Gadgets, Inc." in listing and made in listing
    page = officer.get(f"/benefit-requests/{made}").get_data(as_text=True)
    assert MID in page and "TIER3" in page
    answer = officer.post(
        f"/benefit-requests/{made}/decision",
        data={"decision": "refused", "note": "false declaration", "csrf_token": csrf_of(page)},
    )
    assert answer.status_code == 303
    history = app.extensions["vcred_verifier"].storage.recognitions.history(made)
    assert [(e.actor, e.action, e.detail) for e in history][-1] == (
        "otto",
        "refused",
        "false declaration",
    )
    body = ask(app, scheme="US-MID", id=MID).get_json()
    assert (body["recognised"], body["reason"]) == (False, "REFUSED_BY_OFFICER")
    page = officer.get(f"/benefit-requests/{made}").get_data(as_text=True)
    assert "false declaration" in page
    bad = officer.post(
        f"/benefit-requests/{made}/decision",
        data={"decision": "maybe", "csrf_token": csrf_of(page)},
    )
    assert bad.status_code == 400
    assert officer.get("/benefit-requests/rec-nope").status_code == 404


def test_two_verifier_apps_share_the_recognitions(
    make: MakeApp, agency: Agency, trader: KeyPair, tmp_path: Path
) -> None:
    """Two apps on one database (PostgreSQL: the same tables; SQLite: the same file)."""
    shared = tmp_path / "shared"
    first, second = (make(recognition_refresh=timedelta(0), data_dir=shared) for _ in range(2))
    present_oid4vp(first, agency, trader, certificate(agency, trader))
    assert ask(second, scheme="US-MID", id=MID).get_json()["recognised"] is True


def test_one_refresher_holds_the_lease_at_a_time(app: Flask) -> None:
    recognitions = app.extensions["vcred_verifier"].storage.recognitions
    assert recognitions.take_lease("a", now=NOW, lease=timedelta(minutes=5))
    assert not recognitions.take_lease("b", now=NOW, lease=timedelta(minutes=5))
    assert recognitions.take_lease("a", now=NOW, lease=timedelta(minutes=5))  # its own
    assert recognitions.take_lease("b", now=NOW + timedelta(minutes=6), lease=timedelta(1))
    service = app.extensions["vcred_verifier"]
    assert service.refresh_recognitions(holder="c").checked is None  # b holds it
    recognitions.release_lease("b")
    assert service.refresh_recognitions(holder="c").checked == 0


def test_a_round_that_fails_gives_the_lease_back(
    app: Flask, agency: Agency, trader: KeyPair, monkeypatch: pytest.MonkeyPatch
) -> None:
    present_oid4vp(app, agency, trader, certificate(agency, trader))
    service = app.extensions["vcred_verifier"]
    recognitions = service.storage.recognitions

    def broken(*args: Any, **kwargs: Any) -> bool:
        raise OperationalError("UPDATE", {}, Exception("the database went away"))

    monkeypatch.setattr(recognitions, "record_check", broken)
    with pytest.raises(OperationalError):
        service.refresh_recognitions(holder="a")
    monkeypatch.undo()
    # another process's refresher need not wait for the lease to expire
    assert service.refresh_recognitions(holder="b").checked == 1


def test_a_process_that_died_holding_the_lease_holds_up_the_others_only_for_its_length(
    app: Flask, agency: Agency, trader: KeyPair, clock: Clock
) -> None:
    present_oid4vp(app, agency, trader, certificate(agency, trader))
    service = app.extensions["vcred_verifier"]
    recognitions = service.storage.recognitions
    assert service.refresh_recognitions(holder="dead").checked == 1
    # it took the lease for its next round, then was killed (nothing gives it back)
    assert recognitions.take_lease("dead", now=clock.now, lease=REFRESH_LEASE)
    assert service.refresh_recognitions(holder="alive").checked is None
    clock.now += timedelta(seconds=30)  # the documented bound (docs/recognition.md)
    assert service.refresh_recognitions(holder="alive").checked == 1


def test_a_long_round_renews_its_lease_and_stops_once_another_took_it(
    make: MakeApp, agency: Agency, trader: KeyPair, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make(recognition_refresh=timedelta(0))
    for _ in range(3):
        present_oid4vp(app, agency, trader, certificate(agency, trader))
    service = app.extensions["vcred_verifier"]
    recognitions = service.storage.recognitions
    elapsed = [0.0]  # seconds of the round so far: each recognition takes a third of a lease
    monkeypatch.setattr(recognitions_module, "monotonic", lambda: elapsed[0])
    real_get = recognitions.get
    seen: list[bool] = []

    def slow_get(recognition_id: str) -> Recognition | None:
        elapsed[0] += REFRESH_LEASE.total_seconds() / 2
        # another process trying meanwhile finds the lease held, well past its first length
        later = NOW + timedelta(seconds=elapsed[0])
        seen.append(recognitions.take_lease("other", now=later, lease=REFRESH_LEASE))
        return real_get(recognition_id)

    monkeypatch.setattr(recognitions, "get", slow_get)
    assert service.refresh_recognitions(holder="a").checked == 3
    assert seen == [False, False, False]  # renewed as it went: never free to take

    # a round that stalled past its lease while another took it over stops there
    elapsed[0] = 0.0
    seen.clear()

    def stalled_get(recognition_id: str) -> Recognition | None:
        elapsed[0] += REFRESH_LEASE.total_seconds() * 2
        later = NOW + timedelta(seconds=elapsed[0])
        seen.append(recognitions.take_lease("other", now=later, lease=REFRESH_LEASE))
        return real_get(recognition_id)

    monkeypatch.setattr(recognitions, "get", stalled_get)
    assert service.refresh_recognitions(holder="a").checked == 1
    assert seen == [True]
    # and it left the other's lease alone
    later = NOW + timedelta(seconds=elapsed[0])
    assert not recognitions.take_lease("third", now=later, lease=REFRESH_LEASE)


def test_the_refresher_lives_on_whatever_a_round_raises(
    make: MakeApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make(recognition_refresh=timedelta(0))
    service = app.extensions["vcred_verifier"]
    rounds: list[int] = []
    two = threading.Event()

    def round_(*args: Any, **kwargs: Any) -> Any:
        rounds.append(1)
        if len(rounds) == 1:
            raise RuntimeError("not a database error, not a vcred error")
        two.set()
        return Recognitions.refresh(service.storage.recognitions, *args, **kwargs)

    monkeypatch.setattr(service.storage.recognitions, "refresh", round_)
    every = dataclasses.replace(service.config, recognition_refresh=timedelta(milliseconds=20))
    monkeypatch.setattr(service, "config", every)
    service.start_refresher()
    try:
        assert two.wait(30), "the refresher died with its first round"
    finally:
        service._stopping.set()


def test_an_unusable_refresh_interval_is_refused(make: MakeApp) -> None:
    with pytest.raises(UsageError, match="recognition_refresh"):
        make(recognition_refresh=timedelta(seconds=-1))


def test_every_recognition_answer_matches_the_api_description(
    app: Flask, agency: Agency, trader: KeyPair
) -> None:
    contract = Contract(app)
    present_oid4vp(app, agency, trader, certificate(agency, trader))
    contract.check("/recognitions", "get", ask(app, scheme="US-MID", id=MID))
    contract.check("/recognitions", "get", ask(app, scheme="EORI", id="DE123456789012345"))
    contract.check("/recognitions", "get", ask(app, scheme="NOPE", id="1"))
    batch = app.test_client().post(
        "/recognitions/query", json={"parties": [{"scheme": "US-MID", "id": MID}]}
    )
    contract.check("/recognitions/query", "post", batch)
    contract.check(
        "/recognitions/query", "post", app.test_client().post("/recognitions/query", json={})
    )
    assert {status for _, status, _ in contract.seen} == {"200", "400"}


@pytest.mark.parametrize("host_map_by", ["environment", "option"])
def test_the_refresh_command_rechecks_for_cron(
    host_map_by: str,
    make: MakeApp,
    agency: Agency,
    trader: KeyPair,
    tmp_path: Path,
    backend: str,
    monkeypatch: pytest.MonkeyPatch,
    trust_list_file: Path,
    eu_key: KeyPair,
    us_server: LocalServer,
) -> None:
    """``vcred verifier recognitions refresh`` (cron) notices a suspension at home, with the
    host map of the service's environment or, as `vcred serve verifier` takes it, an option."""
    app = make(recognition_refresh=timedelta(0), data_dir=tmp_path / "cron")
    document = certificate(agency, trader)
    present_oid4vp(app, agency, trader, document)
    agency.set(document, "suspended")
    config = app.extensions["vcred_verifier"].config
    environ = {
        "VCRED_VERIFIER_DATA_DIR": str(tmp_path / "cron"),
        "VCRED_VERIFIER_TRUST_LIST": str(trust_list_file),
        "VCRED_VERIFIER_TRUST_ISSUER": did_key(eu_key.public),
        "VCRED_VERIFIER_DEV": "true",
        "VCRED_VERIFIER_TABLE_PREFIX": config.table_prefix,
    }
    options = []
    if host_map_by == "environment":
        environ["VCRED_VERIFIER_HOST_MAP"] = f"{US_HOST}={us_server.origin}"
    else:
        options = ["--host-map", f"{US_HOST}={us_server.origin}"]
    if config.database_url:
        environ["DATABASE_URL"] = config.database_url
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(main, ["verifier", "recognitions", "refresh", *options])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert (report["leased"], report["checked"], len(report["changed"])) == (True, 1, 1)
    body = ask(app, scheme="US-MID", id=MID).get_json()
    assert (body["recognised"], body["reason"]) == (False, "SUSPENDED_BY_HOME_AGENCY")


def test_the_refresh_command_says_in_one_line_what_is_wrong(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VCRED_VERIFIER_TRUST_ISSUER", "did:key:z6Mk")  # without a trust list
    result = CliRunner().invoke(
        main, ["verifier", "recognitions", "refresh", "--data-dir", str(tmp_path)]
    )
    assert result.exit_code == 2
    assert result.output.strip().count("\n") == 0 and "trust_list" in result.output


def test_the_apps_refresher_thread_ends_a_suspended_recognition(
    make: MakeApp, agency: Agency, trader: KeyPair, clock: Clock
) -> None:
    app = make(recognition_refresh=timedelta(milliseconds=50))
    document = certificate(agency, trader)
    present_oid4vp(app, agency, trader, document)
    agency.set(document, "suspended")
    clock.now = NOW + timedelta(minutes=10)  # past the status list's cache time
    reason = None
    for _ in range(400):  # the thread's next rounds (not a timing assertion: up to 20 s)
        reason = ask(app, scheme="US-MID", id=MID).get_json().get("reason")
        if reason == "SUSPENDED_BY_HOME_AGENCY":
            break
        threading.Event().wait(0.05)
    assert reason == "SUSPENDED_BY_HOME_AGENCY"
    history = app.extensions["vcred_verifier"].storage.recognitions.latest()[0]
    events = app.extensions["vcred_verifier"].storage.recognitions.history(history.id)
    assert events[-1].actor == "refresher"


def test_closing_waits_for_the_refreshers_round_under_way(
    make_app: MakeApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As for the history flusher (test_storage.py::test_closing_waits_for_the_history_write_
    under_way): closing the service disposed of the engine under a refresher round, whose
    pooled connection was left to the garbage collector, or opened on the closed engine."""
    service = make_app(recognition_refresh=timedelta(milliseconds=10)).extensions["vcred_verifier"]
    in_round, go_on, rounds = threading.Event(), threading.Event(), []
    refresh = service.storage.recognitions.refresh

    def held_round(*args: Any, **kwargs: Any) -> Any:
        in_round.set()
        go_on.wait(30)
        rounds.append(refresh(*args, **kwargs))
        return rounds[-1]

    monkeypatch.setattr(service.storage.recognitions, "refresh", held_round)
    assert in_round.wait(30)
    closed_under_the_round = returned_while_held(service.close, go_on)
    assert not closed_under_the_round, "close() returned while a refresher round ran"
    assert len(rounds) == 1  # the round ended; none began after closing


def _recognised(app: Flask, agency: Agency, trader: KeyPair) -> tuple[Recognitions, Recognition]:
    """The recognitions store and the one recognition a presented certificate made."""
    present_oid4vp(app, agency, trader, certificate(agency, trader))
    recognitions = app.extensions["vcred_verifier"].storage.recognitions
    (found,) = recognitions.latest()
    return recognitions, found


def test_an_older_status_observation_never_replaces_a_newer_one(
    app: Flask, agency: Agency, trader: KeyPair
) -> None:
    """Another process's cache may hold the list from before a suspension: its round must
    not bring the recognition back."""
    recognitions, found = _recognised(app, agency, trader)
    later = NOW + timedelta(minutes=10)
    suspended = Checked("suspended", "SUSPENDED: suspended", later)
    assert recognitions.record_check(found, suspended, now=later, actor="a", action="status")
    stale = Checked("active", None, later - timedelta(minutes=1))
    assert not recognitions.record_check(found, stale, now=later, actor="b", action="status")
    (found,) = recognitions.latest()
    assert (found.status, found.status_checked) == ("suspended", later)
    assert [e.actor for e in recognitions.history(found.id)] == ["oid4vp", "a"]


def test_a_revocation_seen_stays_final(app: Flask, agency: Agency, trader: KeyPair) -> None:
    """REVOKED is final: a later list of the home agency (one that cleared the bit, against
    Bitstring Status List §2.1) or a presentation of the certificate verifying again must
    not bring the recognition back."""
    recognitions, found = _recognised(app, agency, trader)
    later = NOW + timedelta(minutes=10)
    revoked = Checked("revoked", "REVOKED: revoked", later)
    assert recognitions.record_check(found, revoked, now=later, actor="a", action="status")
    cleared = Checked("active", None, later + timedelta(minutes=10))
    recognitions.record_check(found, cleared, now=cleared.observed, actor="b", action="status")
    (found,) = recognitions.latest()
    assert found.status == "revoked"
    body = ask(app, scheme="US-MID", id=MID).get_json()
    assert (body["recognised"], body["reason"]) == (False, "REVOKED")


def test_a_certificate_that_ends_by_its_jwt_exp_ends_its_recognition(
    app: Flask, agency: Agency, trader: KeyPair
) -> None:
    """The verifier takes a JWT's ``exp`` as the end of a credential's validity (VC-JOSE-COSE;
    no ``validUntil`` needed; the certificate's schema asks for one, and a credential may name
    no schema). The recognition must end there too: it lasted until the arrangement's end
    (none: for ever) because only ``validUntil`` was read."""
    document = certificate(agency, trader)
    del document["validUntil"], document["credentialSchema"]
    document["exp"] = 1830297600  # 2028-01-01T00:00:00Z
    present_oid4vp(app, agency, trader, document)
    held = ask(app, scheme="US-MID", id=MID, at="2027-12-31").get_json()
    assert held["recognised"] is True and held["validUntil"] == "2028-01-01T00:00:00Z"
    late = ask(app, scheme="US-MID", id=MID, at="2028-01-02").get_json()
    assert (late["recognised"], late["reason"]) == (False, "EXPIRED")


def test_a_partner_dropped_from_the_trust_list_is_no_longer_recognised(
    app: Flask, agency: Agency, trader: KeyPair
) -> None:
    """The trust decision was made once, when the certificate was presented; a recognition
    made then held for the certificate's life although the verifier's list later dropped the
    issuer, suspended the arrangement, or stopped deciding."""
    present_oid4vp(app, agency, trader, certificate(agency, trader))
    service = app.extensions["vcred_verifier"]
    held = service.trust
    assert ask(app, scheme="US-MID", id=MID, at="2026-12-01").get_json()["recognised"] is True
    (entry,) = held.entries
    # the arrangement suspended from October on (the list narrows its window)
    narrowed = dataclasses.replace(entry.mra, until=date(2026, 9, 30))
    service.trust = dataclasses.replace(held, entries=(dataclasses.replace(entry, mra=narrowed),))
    late = ask(app, scheme="US-MID", id=MID, at="2026-12-01").get_json()
    assert (late["recognised"], late["reason"]) == (False, "ARRANGEMENT_NOT_IN_FORCE")
    assert ask(app, scheme="US-MID", id=MID, at="2026-07-01").get_json()["recognised"] is True
    # the partner dropped
    service.trust = dataclasses.replace(held, entries=())
    dropped = ask(app, scheme="US-MID", id=MID, at="2026-07-01").get_json()
    assert (dropped["recognised"], dropped["reason"]) == (False, "ISSUER_NO_LONGER_TRUSTED")
    # a list that no longer decides (expired) vouches for no one
    service.trust = dataclasses.replace(held, valid_until=NOW - timedelta(seconds=1))
    expired = ask(app, scheme="US-MID", id=MID, at="2026-05-01").get_json()
    assert (expired["recognised"], expired["reason"]) == (False, "ISSUER_NO_LONGER_TRUSTED")
    service.trust = held
    assert ask(app, scheme="US-MID", id=MID, at="2026-12-01").get_json()["recognised"] is True


@pytest.mark.parametrize(
    "narrowed",
    [
        pytest.param(
            lambda entry: dataclasses.replace(
                entry, accepted_types=frozenset({"ExportBillingAttestation"})
            ),
            id="AEO certificates no longer accepted",
        ),
        pytest.param(
            lambda entry: dataclasses.replace(
                entry, mra=dataclasses.replace(entry.mra, recognised_tiers=frozenset({"TIER2"}))
            ),
            id="its level no longer recognised",
        ),
    ],
)
def test_a_partner_the_list_no_longer_recognises_for_this_certificate_is_not_recognised(
    app: Flask, agency: Agency, trader: KeyPair, narrowed: Any
) -> None:
    """The issuer is still on the list under the same arrangement, but the list held now no
    longer trusts it for this certificate: an AEO certificate is no longer a type it accepts
    from it, or its level (TIER3) no longer one the arrangement recognises."""
    present_oid4vp(app, agency, trader, certificate(agency, trader))
    service = app.extensions["vcred_verifier"]
    held = service.trust
    assert ask(app, scheme="US-MID", id=MID, at="2026-07-01").get_json()["recognised"] is True
    (entry,) = held.entries
    service.trust = dataclasses.replace(held, entries=(narrowed(entry),))
    try:
        answer = ask(app, scheme="US-MID", id=MID, at="2026-07-01").get_json()
        assert (answer["recognised"], answer["reason"]) == (False, "ISSUER_NO_LONGER_TRUSTED")
    finally:
        service.trust = held


def test_a_key_the_list_no_longer_pins_ends_the_recognitions_it_signed(
    app: Flask, agency: Agency, trader: KeyPair
) -> None:
    """A partner's key withdrawn (its pin removed from the list: compromised) or its window
    closed before the certificate was signed: the trust decision would now refuse the
    certificate (``TrustList`` pinned keys), but a recognition made under that key held on,
    since it re-checked the list's entry and not the key. It ends; a key rotated with its
    window still covering the signing keeps it."""
    present_oid4vp(app, agency, trader, certificate(agency, trader))
    service = app.extensions["vcred_verifier"]
    held = service.trust
    (entry,) = held.entries
    ours = agency.key.public.thumbprint()

    def pinning(*keys: PinnedKey) -> TrustList:
        return dataclasses.replace(held, entries=(dataclasses.replace(entry, pinned_keys=keys),))

    another = KeyPair.generate("ed25519").public.thumbprint()
    try:
        service.trust = pinning(PinnedKey(thumbprint=ours, not_before=NOW - timedelta(days=1)))
        assert ask(app, scheme="US-MID", id=MID, at="2026-07-01").get_json()["recognised"]
        rotated = PinnedKey(
            thumbprint=ours, not_before=NOW - timedelta(days=1), not_after=NOW + timedelta(hours=1)
        )
        service.trust = pinning(rotated, PinnedKey(thumbprint=another, not_before=NOW))
        assert ask(app, scheme="US-MID", id=MID, at="2026-07-01").get_json()["recognised"]
        for withdrawn in (
            pinning(PinnedKey(thumbprint=another, not_before=NOW - timedelta(days=1))),
            pinning(PinnedKey(thumbprint=ours, not_before=NOW + timedelta(hours=1))),
        ):
            service.trust = withdrawn
            answer = ask(app, scheme="US-MID", id=MID, at="2026-07-01").get_json()
            assert (answer["recognised"], answer["reason"]) == (False, "ISSUER_NO_LONGER_TRUSTED")
    finally:
        service.trust = held
    assert ask(app, scheme="US-MID", id=MID, at="2026-07-01").get_json()["recognised"] is True


@pytest.mark.parametrize(
    "undecided",
    [
        pytest.param(lambda held: None, id="no list held"),
        pytest.param(
            lambda held: dataclasses.replace(held, valid_from=NOW + timedelta(seconds=1)),
            id="not yet valid",
        ),
        pytest.param(
            lambda held: dataclasses.replace(held, valid_until=NOW - timedelta(seconds=1)),
            id="expired",
        ),
        pytest.param(
            lambda held: dataclasses.replace(
                held, next_update=NOW - timedelta(days=1), grace=timedelta(hours=1)
            ),
            id="past its next update and grace",
        ),
    ],
)
def test_a_held_list_that_decides_nothing_now_recognises_no_one(
    app: Flask, agency: Agency, trader: KeyPair, undecided: Any
) -> None:
    """Every way the list held now cannot establish trust (TrustList.refusal_at, or no list
    at all) ends every recognition made under it, at any moment asked about: fail closed."""
    present_oid4vp(app, agency, trader, certificate(agency, trader))
    service = app.extensions["vcred_verifier"]
    held = service.trust
    assert ask(app, scheme="US-MID", id=MID, at="2026-12-01").get_json()["recognised"] is True
    service.trust = undecided(held)
    try:
        for at in ("2026-05-01", "2026-12-01"):
            answer = ask(app, scheme="US-MID", id=MID, at=at).get_json()
            assert (answer["recognised"], answer["reason"]) == (False, "ISSUER_NO_LONGER_TRUSTED")
    finally:
        service.trust = held


def test_a_presentation_bound_to_another_relying_party_makes_no_recognition(
    make: MakeApp, agency: Agency, trader: KeyPair
) -> None:
    """With caller challenges allowed, a presentation the trader made for another relying
    party (its challenge and domain, which this verifier does not track: replayable here)
    verifies with CHALLENGE_NOT_TRACKED — it is not a benefit request to this agency, so it
    must make no recognition (it made one)."""
    app = make(allow_caller_challenges=True, recognition_refresh=timedelta(0))
    held = str(agency.issue(certificate(agency, trader)))
    vp = present([held], trader, challenge="rp-nonce-1", domain="rp.example", now=NOW)
    answer = app.test_client().post(
        "/presentations/verify",
        json={
            "verifiablePresentation": str(vp),
            "options": {"challenge": "rp-nonce-1", "domain": "rp.example"},
        },
    )
    body = answer.get_json()
    assert answer.status_code == 200, body
    assert [w["code"] for w in body["warnings"]] == ["CHALLENGE_NOT_TRACKED"]
    assert "recognitions" not in body
    assert ask(app, scheme="US-MID", id=MID).get_json()["reason"] == "NOT_FOUND"


def test_a_list_signed_with_a_key_the_trust_list_does_not_pin_lifts_no_suspension(
    app: Flask, agency: Agency, trader: KeyPair, clock: Clock
) -> None:
    """The home agency suspends; whoever holds its did:web host adds a key of their own to
    its DID document and serves the lists again, signed with it and saying "active" (newer
    than the suspension: no rollback). The trust list pins the agency's key: such a list
    answers nothing, the suspension stands abroad (it lifted it before)."""
    document = certificate(agency, trader)
    present_oid4vp(app, agency, trader, document)
    service = app.extensions["vcred_verifier"]
    held = service.trust
    (entry,) = held.entries
    ours = PinnedKey(thumbprint=agency.key.public.thumbprint(), not_before=NOW - timedelta(days=1))
    pinned = dataclasses.replace(held, entries=(dataclasses.replace(entry, pinned_keys=(ours,)),))
    service.trust = pinned
    service._verifier = dataclasses.replace(service._verifier, trust=pinned)
    agency.set(document, "suspended")
    clock.now = NOW + timedelta(minutes=10)
    service.refresh_recognitions()
    assert ask(app, scheme="US-MID", id=MID).get_json()["reason"] == "SUSPENDED_BY_HOME_AGENCY"

    intruder = KeyPair.generate("ed25519")
    did = did_web_document(US_DID, [agency.key.public, intruder.public])
    agency.server.serve("/.well-known/did.json", json.dumps(did).encode())
    set_credential_status(agency.store, document["id"], "active")  # the intruder's word only
    for info in agency.store.lists():
        unsigned = status_list_credential_for(
            agency.store,
            info.list_id,
            list_url=LIST_BASE + info.list_id,
            issuer=US_DID,
            valid_from=NOW + timedelta(minutes=15),
            ttl=timedelta(minutes=5),
        )
        token = str(issue(unsigned, signer_for(intruder, did=US_DID)))
        agency.server.serve(f"/status/{info.list_id}", token.encode())
    clock.now = NOW + timedelta(minutes=30)  # past the lists' and the DID document's cache
    report = service.refresh_recognitions()
    assert report.errors and "not pinned" in report.errors[0]
    body = ask(app, scheme="US-MID", id=MID).get_json()
    assert (body["recognised"], body["reason"]) == (False, "SUSPENDED_BY_HOME_AGENCY")


def test_a_refusal_kept_under_a_digest_of_another_kind_still_holds(
    app: Flask, agency: Agency, trader: KeyPair
) -> None:
    """Recognitions made before certificates were named by what their signature covers
    (§13.24) kept the digest of the JSON as sent: presented after the upgrade, a refused
    certificate got another name, so a recognition of its own. Its status entries, which
    belong to that one certificate, still find the refusal."""
    document = certificate(agency, trader)
    held = str(agency.issue(document, fmt="vc+jwt"))
    service = app.extensions["vcred_verifier"]
    recognitions = service.storage.recognitions

    def presented() -> list[str]:
        return recognitions_made(
            app, lambda c, d: str(present([held], trader, challenge=c, domain=d))
        )

    (made,) = presented()
    recognitions.decide(made, decision="refused", officer="otto", note="fraud", now=NOW)
    with recognitions.engine.begin() as conn:  # as kept before the upgrade
        conn.execute(
            update(recognitions.table)
            .where(recognitions.table.c.id == made)
            .values(digest="sha256-" + "0" * 43)
        )
    assert presented() == [made]
    assert [r.id for r in recognitions.latest()] == [made]
    assert [e.action for e in recognitions.history(made)][-1] == "presented"
    body = ask(app, scheme="US-MID", id=MID).get_json()
    assert (body["recognised"], body["reason"]) == (False, "REFUSED_BY_OFFICER")
