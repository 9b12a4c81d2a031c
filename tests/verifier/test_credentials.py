"""POST /credentials/verify: the VC API shapes, every format, every failure with its code."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.verifier.conftest import NOW, US_DID, Agency, MakeApp, tamper
from vcred import did_key, issue
from vcred.customs.builders import build_aeo_certificate
from vcred.customs.samples import TRADERS
from vcred.errors import CRYPTOGRAPHIC_SECURITY_ERROR, RANGE_ERROR, STATUS_VERIFICATION_ERROR
from vcred.keys import KeyPair
from vcred.presentation import envelope

VERIFIED_KEYS = {"verified", "format", "issuer", "checks", "warnings", "trust", "status"}


def verify(client: FlaskClient, credential: Any, **options: Any) -> tuple[int, dict[str, Any]]:
    body: dict[str, Any] = {"verifiableCredential": credential}
    if options:
        body["options"] = options
    response = client.post("/credentials/verify", json=body)
    assert response.mimetype == "application/json"
    return response.status_code, response.get_json()


def codes(body: dict[str, Any]) -> list[str]:
    return [problem["code"] for problem in body.get("problemDetails", [])]


def test_a_valid_credential_is_verified_with_every_check_and_the_mra(
    client: FlaskClient, agency: Agency
) -> None:
    status, body = verify(client, agency.issue(agency.aeo_certificate()))
    assert status == 200
    assert body["verified"] is True
    assert set(body) >= VERIFIED_KEYS and "problemDetails" not in body
    assert [c["check"] for c in body["checks"]] == [
        "proof",
        "issuer",
        "validity",
        "status",
        "schema",
        "trust",
    ]
    assert all(c["passed"] is True for c in body["checks"])
    assert body["warnings"] == []
    assert body["format"] == "vc+jwt"
    assert body["issuer"] == US_DID
    trust = body["trust"]
    assert trust["evaluated"] and trust["trusted"] and trust["issuerAuthenticated"]
    assert trust["programme"] == "US-CTPAT"
    assert trust["mra"]["id"] == "urn:vcred:mra:eu-aeo:us-ctpat"
    assert {b["code"] for b in trust["benefits"]} >= {"REDUCED_EXAMINATIONS"}
    assert [(s["purpose"], s["value"], s["stale"]) for s in body["status"]] == [
        ("revocation", 0, False),
        ("suspension", 0, False),
    ]
    assert body["status"][0]["fetchedAt"] == "2026-06-01T12:00:00Z"
    trader = body["credential"]["subject"]
    assert trader["name"] == "Example Prairie Gadgets, Inc."
    assert trader["country"] == "US"
    assert {"scheme": "CTPAT", "value": "48120"} in trader["identifiers"]
    assert body["credential"]["programme"]["tier"] == "TIER3"


def test_an_enveloped_credential_is_opened(client: FlaskClient, agency: Agency) -> None:
    token = agency.issue(agency.aeo_certificate())
    status, body = verify(client, envelope(token))
    assert status == 200, body
    assert body["format"] == "vc+jwt"


def test_an_sd_jwt_credential_is_detected_and_verified(client: FlaskClient, agency: Agency) -> None:
    token = agency.issue(
        agency.aeo_certificate(),
        fmt="vc+sd-jwt",
        disclosable=["/credentialSubject/address"],
    )
    assert "~" in token
    status, body = verify(client, token)
    assert status == 200, body
    assert body["format"] == "vc+sd-jwt"
    assert body["disclosed"] == ["/credentialSubject/address"]
    assert body["trust"]["trusted"] is True
    status, body = verify(client, envelope(token))
    assert status == 200 and body["format"] == "vc+sd-jwt"


@pytest.mark.parametrize("suite", ["eddsa-rdfc-2022", "eddsa-jcs-2022"])
def test_a_data_integrity_credential_is_verified(
    client: FlaskClient, agency: Agency, suite: str
) -> None:
    secured = agency.issue(agency.aeo_certificate(), fmt=suite, now=NOW)
    assert isinstance(secured, dict) and secured["proof"]["cryptosuite"] == suite
    status, body = verify(client, secured)
    assert status == 200, body
    assert body["format"] == "data-integrity"
    assert body["trust"]["mra"]["id"] == "urn:vcred:mra:eu-aeo:us-ctpat"
    secured["credentialSubject"]["legalName"] = "Somebody Else Ltd"
    status, body = verify(client, secured)
    assert status == 400
    assert codes(body) == ["INVALID_SIGNATURE"]


def test_a_tampered_credential_is_invalid_signature(client: FlaskClient, agency: Agency) -> None:
    status, body = verify(client, tamper(agency.issue(agency.aeo_certificate())))
    assert status == 400
    assert body["verified"] is False
    assert codes(body) == ["INVALID_SIGNATURE"]
    problem = body["problemDetails"][0]
    assert problem["type"] == CRYPTOGRAPHIC_SECURITY_ERROR
    assert problem["title"] == "Cryptographic security error"
    assert problem["detail"]
    # nothing unsigned is read: no later check runs, no trust is evaluated, no claims shown
    assert [c["check"] for c in body["checks"]] == ["proof"]
    assert body["trust"]["issuerAuthenticated"] is False
    assert body["trust"]["evaluated"] is False


def test_an_expired_credential_is_expired(client: FlaskClient, agency: Agency) -> None:
    credential = agency.aeo_certificate(valid_until=datetime(2026, 3, 1, tzinfo=UTC))
    status, body = verify(client, agency.issue(credential))
    assert status == 400
    assert codes(body) == ["EXPIRED"]
    assert body["problemDetails"][0]["type"] == RANGE_ERROR
    assert body["problemDetails"][0]["pointer"] == "/validUntil"


def test_a_suspended_credential_is_suspended(client: FlaskClient, agency: Agency) -> None:
    credential = agency.aeo_certificate()
    token = agency.issue(credential)
    agency.set(credential, "suspended")
    status, body = verify(client, token)
    assert status == 400
    assert codes(body) == ["SUSPENDED"]
    assert body["problemDetails"][0]["type"] == STATUS_VERIFICATION_ERROR
    assert body["problemDetails"][0]["pointer"] == "/credentialStatus/1"
    suspension = body["status"][1]
    assert suspension["purpose"] == "suspension" and suspension["value"] == 1


def test_a_revoked_credential_is_revoked(client: FlaskClient, agency: Agency) -> None:
    credential = agency.aeo_certificate()
    token = agency.issue(credential)
    agency.set(credential, "revoked")
    status, body = verify(client, token)
    assert status == 400
    assert codes(body) == ["REVOKED"]
    assert body["problemDetails"][0]["pointer"] == "/credentialStatus/0"


def test_an_issuer_off_the_trust_list_is_untrusted(client: FlaskClient) -> None:
    stranger = KeyPair.generate()
    credential = build_aeo_certificate(
        dict(TRADERS["us-prairie"]),
        issuer=did_key(stranger.public),
        valid_from=datetime(2026, 1, 1, tzinfo=UTC),
        valid_until=datetime(2029, 1, 1, tzinfo=UTC),
    )
    status, body = verify(client, issue(credential, stranger))
    assert status == 400
    assert codes(body) == ["UNTRUSTED_ISSUER"]
    assert body["problemDetails"][0]["pointer"] == "/issuer"
    trust = body["trust"]
    assert trust["evaluated"] is True and trust["trusted"] is False
    assert trust["issuerAuthenticated"] is True
    assert "not on the MRA trust list of Zoll (test)" in trust["reason"]


def test_without_a_trust_list_trust_is_a_warning(make_app: MakeApp, agency: Agency) -> None:
    client = make_app(trust_list=None, trust_issuer=None).test_client()
    status, body = verify(client, agency.issue(agency.aeo_certificate()))
    assert status == 200
    assert body["trust"] == {
        "evaluated": False,
        "issuerAuthenticated": True,
        "trusted": None,
        "reason": "no trust list configured: issuer trust not evaluated",
    }
    (warning,) = body["warnings"]
    assert warning["code"] == "TRUST_NOT_EVALUATED"
    assert warning["type"] == "https://vcred.dev/problems#TRUST_NOT_EVALUATED"
    assert warning["title"] == "Issuer trust not evaluated"


def test_options_checks_are_honoured(client: FlaskClient, agency: Agency) -> None:
    expired = agency.issue(agency.aeo_certificate(valid_until=datetime(2026, 3, 1, tzinfo=UTC)))
    status, body = verify(client, expired, checks=["proof"])
    assert status == 200
    assert [c["check"] for c in body["checks"]] == ["proof"]  # only what was asked for
    assert body["trust"]["evaluated"] is False
    status, body = verify(client, expired, checks=["proof", "expiration"])
    assert status == 400 and codes(body) == ["EXPIRED"]
    status, body = verify(client, expired, checks=["credentialStatus", "credentialSchema"])
    assert status == 200
    assert [c["check"] for c in body["checks"]] == ["proof", "status", "schema"]


def test_proof_cannot_be_skipped(client: FlaskClient, agency: Agency) -> None:
    status, body = verify(client, tamper(agency.issue(agency.aeo_certificate())), checks=[])
    assert status == 400 and codes(body) == ["INVALID_SIGNATURE"]


def test_unknown_checks_are_refused_with_422(client: FlaskClient, agency: Agency) -> None:
    response = client.post(
        "/credentials/verify",
        json={"verifiableCredential": "x.y.z", "options": {"checks": ["proof", "magic"]}},
    )
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert problem["code"] == "UNKNOWN_CHECK" and "magic" in problem["detail"]


@pytest.mark.parametrize(
    ("path", "member"),
    [
        ("/credentials/verify", "verifiableCredential"),
        ("/credentials/verify-batch", "verifiableCredentials"),
        ("/presentations/verify", "verifiablePresentation"),
    ],
)
@pytest.mark.parametrize("option", ["format", "challenge/x", "returnCredential"])
def test_an_option_the_verifier_does_not_use_is_refused_by_name(
    client: FlaskClient, agency: Agency, path: str, member: str, option: str
) -> None:
    token = agency.issue(agency.aeo_certificate())
    value = [token] if member == "verifiableCredentials" else token
    if member == "verifiablePresentation" and option == "challenge/x":
        option = "checks"  # a credential's option, not a presentation's
    response = client.post(path, json={member: value, "options": {option: "whatever"}})
    assert response.status_code == 400, response.get_json()
    assert response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert problem["pointer"] == "/options/" + option.replace("/", "~1")
    assert repr(option) in problem["detail"]


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({}, "verifiableCredential"),
        ({"verifiableCredential": 42}, "JSON object or a compact"),
        ({"verifiableCredential": None}, "JSON object or a compact"),
        ({"verifiableCredential": "x.y.z", "options": []}, "options must be a JSON object"),
        ({"verifiableCredential": "x.y.z", "options": {"checks": "proof"}}, "array of strings"),
    ],
)
def test_malformed_requests_are_400_problems(
    client: FlaskClient, body: dict[str, Any], words: str
) -> None:
    response = client.post("/credentials/verify", json=body)
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert words in response.get_json()["detail"]


@pytest.mark.parametrize(
    ("credential", "code"),
    [
        ("a.b.c", "PARSING_ERROR"),
        ({"@context": ["https://www.w3.org/ns/credentials/v2"]}, "MALFORMED"),
        (
            {
                "@context": ["https://www.w3.org/ns/credentials/v2"],
                "type": "EnvelopedVerifiableCredential",
                "id": "data:text/plain,hi",
            },
            "UNSUPPORTED",
        ),
    ],
)
def test_things_that_are_not_credentials_are_400_results(
    client: FlaskClient, credential: Any, code: str
) -> None:
    status, body = verify(client, credential)
    assert status == 400
    assert body["verified"] is False
    assert codes(body) == [code]
    assert body["trust"]["evaluated"] is False


def test_verifications_are_recorded_without_the_credential(
    app: Flask, agency: Agency, caplog: pytest.LogCaptureFixture
) -> None:
    client = app.test_client()
    token = agency.issue(agency.aeo_certificate())
    with caplog.at_level(logging.DEBUG):
        verify(client, token)
        verify(client, tamper(token))
    recent = app.extensions["vcred_verifier"].storage.recent()
    assert [(e.verified, e.codes, e.kind, e.channel) for e in recent] == [
        (False, ("INVALID_SIGNATURE",), "credential", "api"),
        (True, (), "credential", "api"),
    ]
    assert recent[0].subject is None and recent[0].issuer is None  # unsigned: not recorded
    assert recent[1].subject == "Example Prairie Gadgets, Inc."
    assert recent[1].issuer == US_DID
    signature = token.rsplit(".", 1)[1]
    assert not any(signature[:20] in record.getMessage() for record in caplog.records)
    data_dir = app.extensions["vcred_verifier"].config.data_dir
    stored = b"".join(path.read_bytes() for path in data_dir.glob("verifier.db*"))
    assert b"Example Prairie Gadgets" in stored  # the history is there (WAL included) …
    assert signature[:20].encode() not in stored  # … the credential is not
