"""The officer UI through the Flask test client: login, CSRF, the issuing forms, status
buttons (the same flows in a real browser are in tests/browser/test_issuer_ui.py)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from issuer_app import issuer_of
from issuer_app.store.records import RecordQuery
from tests.issuer.conftest import Clock, credential, verifier
from tests.signin_limits import check_the_account_limit
from vcred_service.roles import Role

PASSWORD = "a long officer password"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    match = CSRF.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def logged_in(app: Flask, name: str = "ana", role: Role = "supervisor") -> FlaskClient:
    issuer_of(app).add_officer(name, PASSWORD, role=role, actor="test")
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    answer = client.post(
        "/login", data={"name": name, "password": PASSWORD, "csrf_token": csrf_of(page)}
    )
    assert answer.status_code == 302
    return client


def aeo_form(**changes: Any) -> dict[str, Any]:
    form: dict[str, Any] = {
        "legalName": "Example Prairie Gadgets, Inc.",
        "traderId": "did:web:prairie-gadgets.example",
        "country": "US",
        "streetAddress": "100 Sample Avenue",
        "addressLocality": "Omaha",
        "postalCode": "68102",
        "identifiers": "CTPAT 48120\nUS-EIN 98-7654321",
        "tier": "TIER3",
        "tradeRoles": ["importer", "exporter"],
        "certifiedSince": "2016-05-10",
        "lastValidated": "2024-06-18",
        "validFrom": "2026-06-01",
        "validUntil": "2029-06-01",
        "format": "vc+jwt",
    }
    form.update(changes)
    return form


def test_pages_need_a_login(sqlite_app: Flask) -> None:
    client = sqlite_app.test_client()
    answer = client.get("/officer/credentials?q=x")
    assert answer.status_code == 302
    assert answer.headers["Location"] == "/login?next=/officer/credentials?q%3Dx"
    assert client.get("/officer/issue/aeo").status_code == 302
    assert client.get("/").headers["Location"] == "/officer/credentials"


def test_login_sets_a_safe_session_cookie(sqlite_app: Flask) -> None:
    issuer_of(sqlite_app).add_officer("ana", PASSWORD, actor="test")
    client = sqlite_app.test_client()
    page = client.get("/login")
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    token = csrf_of(page.get_data(as_text=True))
    wrong = client.post("/login", data={"name": "ana", "password": "nope", "csrf_token": token})
    assert wrong.status_code == 200
    assert "wrong password" in wrong.get_data(as_text=True)
    answer = client.post(
        "/login",
        data={"name": "ana", "password": PASSWORD, "csrf_token": token, "next": "//evil.example"},
    )
    assert answer.headers["Location"] == "/officer/credentials"
    cookie = answer.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" in cookie  # the public URL is https
    assert client.get("/officer/credentials").status_code == 200


def test_a_post_without_the_csrf_token_is_refused(sqlite_app: Flask) -> None:
    issuer_of(sqlite_app).add_officer("ana", PASSWORD, actor="test")
    client = sqlite_app.test_client()
    client.get("/login")
    refused = client.post("/login", data={"name": "ana", "password": PASSWORD})
    assert refused.status_code == 400
    assert refused.get_json()["code"] == "CSRF"
    officer = logged_in(sqlite_app, "ben")
    assert officer.post("/officer/issue/aeo", data=aeo_form()).status_code == 400
    assert officer.post("/logout").status_code == 400
    assert issuer_of(sqlite_app).search(RecordQuery())[1] == 0


def test_logins_are_rate_limited(make_app: Any) -> None:
    app = make_app("sqlite", login_burst=2, login_rate=0.001)
    client = app.test_client()
    token = csrf_of(client.get("/login").get_data(as_text=True))
    data = {"name": "x", "password": "y", "csrf_token": token}
    assert [client.post("/login", data=data).status_code for _ in range(3)] == [200, 200, 429]


def test_wrong_passwords_for_one_account_are_limited_whatever_address_they_come_from(
    make_app: Any,
) -> None:
    app = make_app("sqlite", login_burst=1000)
    issuer_of(app).add_officer("ana", PASSWORD, actor="test")
    issuer_of(app).add_officer("otto", PASSWORD, actor="test")
    check_the_account_limit(app, "ana", "otto", PASSWORD)


def test_the_aeo_form_shows_errors_next_to_their_fields(sqlite_app: Flask) -> None:
    client = logged_in(sqlite_app)
    token = csrf_of(client.get("/officer/issue/aeo").get_data(as_text=True))
    empty = client.post(
        "/officer/issue/aeo", data={**aeo_form(legalName="", tradeRoles=[]), "csrf_token": token}
    )
    html = empty.get_data(as_text=True)
    assert empty.status_code == 200
    assert 'id="legalName-error"' in html
    assert 'id="tradeRoles-error"' in html
    # the builder's own checks, at the field they concern
    early = client.post(
        "/officer/issue/aeo",
        data={**aeo_form(certifiedSince="2027-01-01"), "csrf_token": token},
    )
    assert 'id="certifiedSince-error"' in early.get_data(as_text=True)
    bad_id = client.post(
        "/officer/issue/aeo",
        data={**aeo_form(identifiers="EORI nonsense"), "csrf_token": token},
    )
    assert 'id="identifiers-error"' in bad_id.get_data(as_text=True)
    assert "Example Prairie Gadgets" in bad_id.get_data(as_text=True)  # the form keeps its input


def test_issue_an_aeo_certificate_then_suspend_it(sqlite_app: Flask, clock: Clock) -> None:
    client = logged_in(sqlite_app)
    token = csrf_of(client.get("/officer/issue/aeo").get_data(as_text=True))
    answer = client.post("/officer/issue/aeo", data={**aeo_form(), "csrf_token": token})
    assert answer.status_code == 302
    page = client.get(answer.headers["Location"])
    html = page.get_data(as_text=True)
    assert "Credential issued." in html
    assert "<svg" in html and 'class="segno"' in html
    assert 'class="badge active"' in html
    listing = client.get("/officer/credentials?q=prairie").get_data(as_text=True)
    assert "Example Prairie Gadgets, Inc." in listing

    record_id = answer.headers["Location"].rsplit("/", 1)[1]
    row = issuer_of(sqlite_app).record(record_id)
    assert row is not None and row.main_type == "AEOCertificateCredential"
    assert verifier(sqlite_app, clock).verify(row.secured).verified

    suspended = client.post(
        f"/officer/credentials/{record_id}/status",
        data={"action": "suspend", "csrf_token": csrf_of(html)},
    )
    assert suspended.status_code == 302
    html = client.get(suspended.headers["Location"]).get_data(as_text=True)
    assert 'class="badge suspended"' in html
    assert "was suspended" in html
    assert verifier(sqlite_app, clock).verify(row.secured).codes == ("SUSPENDED",)
    assert "status-suspended" in html  # the history


def test_issue_an_export_billing_attestation(sqlite_app: Flask, clock: Clock) -> None:
    client = logged_in(sqlite_app)
    token = csrf_of(client.get("/officer/issue/billing").get_data(as_text=True))
    form = {
        "declarationScheme": "ITN",
        "declarationValue": "X20260524000123",
        "exporterName": "Example Prairie Gadgets, Inc.",
        "exporterCountry": "US",
        "consigneeName": "Kobe Rei Seimitsu K.K.",
        "consigneeCountry": "JP",
        "invoiceNumber": "INV-2026-0042",
        "invoiceDate": "2026-05-20",
        "currency": "USD",
        "totalAmount": "48250.00",
        "incoterms": "FCA",
        "lineItems": "847130 | Portable computers | 150 | C62 | 250.00 | 37500.00 | US\n"
        "852852 | Monitors | 50 | C62 | 215.00 | 10750.00 | US",
        "modeOfTransport": "1",
        "exitOffice": "2704",
        "exitCountry": "US",
        "exitDate": "2026-05-24",
        "destinationCountry": "JP",
        "validFrom": "2026-06-01",
        "format": "vc+sd-jwt",
        "csrf_token": token,
    }
    answer = client.post("/officer/issue/billing", data=form)
    assert answer.status_code == 302, answer.get_data(as_text=True)
    row = issuer_of(sqlite_app).record(answer.headers["Location"].rsplit("/", 1)[1])
    assert row is not None and row.format == "vc+sd-jwt"
    assert "~" in row.secured
    result = verifier(sqlite_app, clock).verify(row.secured)
    assert result.verified, result.errors
    bad = client.post("/officer/issue/billing", data={**form, "destinationCountry": "US"})
    assert 'id="destinationCountry-error"' in bad.get_data(as_text=True)


@pytest.mark.parametrize("action", ["suspend", "revoke"])
def test_status_buttons_follow_the_rules(sqlite_app: Flask, action: str) -> None:
    client = logged_in(sqlite_app)
    answer = issuer_of(sqlite_app).issue_credential(credential(), actor="test")
    path = f"/officer/credentials/{answer.record_id}"
    html = client.get(path).get_data(as_text=True)
    assert 'data-confirm="Revoke this credential? Revocation cannot be undone."' in html
    client.post(f"{path}/status", data={"action": action, "csrf_token": csrf_of(html)})
    html = client.get(path).get_data(as_text=True)
    buttons = set(re.findall(r'name="action" value="(\w+)"', html))
    assert buttons == ({"reinstate", "revoke"} if action == "suspend" else set())
    assert client.get("/officer/credentials/nonesuch").status_code == 404


@pytest.mark.parametrize("page", ["99999999999999999999", "\u00b2", "-3", "1e3", "9" * 5000])
def test_a_page_number_no_database_holds_is_the_first_page(app: Flask, page: str) -> None:
    """A page past a 64-bit offset made the database raise (500)."""
    client = logged_in(app)
    answer = client.get("/officer/credentials", query_string={"page": page})
    assert answer.status_code == 200


def test_nul_characters_never_reach_the_database(app: Flask) -> None:
    client = logged_in(app)
    assert client.get("/officer/credentials/%00").status_code == 404
    assert client.get("/officer/credentials?q=a%00b&type=%00&status=%00").status_code == 200
    other = app.test_client()
    token = csrf_of(other.get("/login").get_data(as_text=True))
    answer = other.post("/login", data={"name": "ana\x00", "password": "x", "csrf_token": token})
    assert answer.status_code == 200
    assert "wrong password" in answer.get_data(as_text=True)
