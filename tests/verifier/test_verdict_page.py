"""The verdict page never contradicts the verdict: every section renders from one summary
(verifier_app/summary.py), and each problem is told in an officer's sentence."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from html import unescape

from flask import Flask
from flask.testing import FlaskClient

from tests.verifier.conftest import Agency, signed_in, tamper
from vcred import did_key, issue
from vcred.customs.builders import build_aeo_certificate
from vcred.customs.samples import TRADERS
from vcred.errors import VcredError
from vcred.issuing import signer_for
from vcred.keys import KeyPair
from vcred_service.explanations import BASE_PROOF_SENTENCE, OFFICER_SENTENCES
from verifier_app.summary import verdict


def _section(html: str, section: str) -> str:
    match = re.search(rf'<section class="card[^"]*" id="{section}">(.*?)</section>', html, re.S)
    assert match, f"no #{section} section"
    return match.group(1)


def test_a_valid_credential_names_the_agency_from_the_trust_list(
    client: FlaskClient, agency: Agency
) -> None:
    html = client.post("/verify", data={"credential": agency.issue(agency.aeo_certificate())})
    page = html.get_data(as_text=True)
    assert 'class="verdict ok"' in page
    assert "signed by U.S. Customs and Border Protection (test)" in page
    assert 'id="issuer-name">U.S. Customs and Border Protection (test)<' in page
    trust = _section(page, "trust")
    assert 'class="pass"' in trust and 'id="benefits"' in trust


def test_a_suspended_credential_shows_no_trust_benefits_or_verified_claims(
    client: FlaskClient, agency: Agency
) -> None:
    credential = agency.aeo_certificate()
    token = agency.issue(credential)
    agency.set(credential, "suspended")
    page = client.post("/verify", data={"credential": token}).get_data(as_text=True)
    assert 'class="verdict bad"' in page
    assert "The issuer has suspended this credential." in page  # the officer's sentence
    trust = _section(page, "trust")
    assert 'class="pass"' not in trust  # no green "issuer trusted"
    assert 'id="benefits"' not in trust and "Fewer physical" not in page
    assert "no MRA benefits apply" in trust
    assert "U.S. Customs and Border Protection (test) is on the trust list" in trust
    checks = _section(page, "checks")  # no green trust row either: it is not applied
    assert re.search(r'data-check="trust">\s*<td>[^<]*</td>\s*<td class="skip">not applied', checks)
    trader = _section(page, "trader")
    # the signature verified, so the claims are the issuer's: shown, and labelled not valid
    assert "Example Prairie Gadgets, Inc." in trader
    assert "the credential is not valid" in trader


def test_a_tampered_credential_shows_no_claims_and_every_check(
    client: FlaskClient, agency: Agency
) -> None:
    token = tamper(agency.issue(agency.aeo_certificate()))
    page = client.post("/verify", data={"credential": token}).get_data(as_text=True)
    assert 'id="trader"' not in page
    checks = _section(page, "checks")
    for name in ("proof", "issuer", "validity", "status", "schema", "trust"):
        assert f'data-check="{name}"' in checks  # the issuer row included
    assert re.search(r'data-check="trust">\s*<td>[^<]*</td>\s*<td class="skip">', checks)
    assert OFFICER_SENTENCES["INVALID_SIGNATURE"] in page


def test_a_base_proof_from_the_officer_form_reads_as_the_traders_copy(
    client: FlaskClient,
) -> None:
    key = KeyPair.generate("p256")
    did = did_key(key.public)
    credential = build_aeo_certificate(
        TRADERS["us-prairie"],
        issuer=did,
        valid_from=datetime(2026, 1, 1, tzinfo=UTC),
        valid_until=datetime(2029, 1, 1, tzinfo=UTC),
        credential_id="urn:uuid:6a1b0e0e-1111-4c2d-9a1e-000000000001",
    )
    secured = issue(credential, signer_for(key, did=did), format="ecdsa-sd-2023")
    page = client.post("/verify", data={"credential": json.dumps(secured)})
    html = page.get_data(as_text=True)
    assert 'class="verdict bad"' in html
    headline = re.search(r'<p id="headline">(.*?)</p>', html, re.S)
    assert headline and BASE_PROOF_SENTENCE in unescape(headline.group(1))
    assert "vcred.derive" not in html
    checks = _section(html, "checks")
    assert 'data-check="issuer"' in checks
    assert not re.search(r'<td class="pass">', checks)  # nothing passed: no "trust passed"


def test_the_summary_is_the_single_source_of_trust_and_claims() -> None:
    body = {
        "verified": False,
        "issuer": "did:web:a.example",
        "checks": [
            {"check": "proof", "passed": True},
            {"check": "issuer", "passed": True},
            {"check": "status", "passed": False},
            {"check": "trust", "passed": True},
        ],
        "problemDetails": [{"code": "REVOKED", "title": "Credential revoked", "detail": "x"}],
        "trust": {"evaluated": True, "trusted": True, "benefits": [{"code": "B"}], "mra": {}},
        "credential": {"subject": {"name": "T"}},
    }
    seen = verdict(body, issuer_name={"did:web:a.example": "Agency A"}.get)
    assert seen["trust"] == "listed" and seen["benefits"] == [] and seen["mra"] is None
    trust_row = next(c for c in seen["checks"] if c["check"] == "trust")
    assert trust_row["passed"] is None and trust_row["notApplied"]
    assert seen["claims"] == {"subject": {"name": "T"}}
    assert seen["issuer"] == {"id": "did:web:a.example", "name": "Agency A"}
    assert seen["reasons"][0]["sentence"] == OFFICER_SENTENCES["REVOKED"]
    forged = {
        **body,
        "checks": [{"check": "proof", "passed": True}, {"check": "issuer", "passed": False}],
    }
    seen = verdict(forged)
    assert seen["trust"] == "impersonated" and seen["claims"] is None
    assert [c["check"] for c in seen["checks"]][:3] == ["proof", "issuer", "validity"]


def test_every_error_code_has_an_officer_sentence() -> None:
    pending: list[type[VcredError]] = [VcredError]
    codes = set()
    while pending:
        cls = pending.pop()
        codes.add(cls.code)
        pending.extend(cls.__subclasses__())
    assert codes - set(OFFICER_SENTENCES) == set()


def test_the_history_names_the_issuing_agency(app: Flask, agency: Agency) -> None:
    client = signed_in(app)
    client.post("/verify", data={"credential": agency.issue(agency.aeo_certificate())})
    html = client.get("/recent").get_data(as_text=True)
    assert "U.S. Customs and Border Protection (test)" in html
