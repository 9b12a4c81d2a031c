"""The credential page an officer can read, and forms that suggest the agency's own examples."""

from __future__ import annotations

import re
from collections.abc import Callable
from html import unescape

import pytest
from flask import Flask
from flask.testing import FlaskClient

from issuer_app.examples import form_examples
from tests.issuer.conftest import Clock, verifier
from tests.issuer.test_ui import aeo_form, csrf_of, logged_in
from vcred import cose
from vcred.customs.identifiers import check_identifier, mrn_check


def _issue(app: Flask, **changes: object) -> tuple[FlaskClient, str]:
    client = logged_in(app)
    token = csrf_of(client.get("/officer/issue/aeo").text)
    answer = client.post("/officer/issue/aeo", data={**aeo_form(**changes), "csrf_token": token})
    assert answer.status_code == 302, answer.text
    return client, answer.headers["Location"]


def _section(html: str, name: str) -> str:
    match = re.search(rf'<section class="card" id="{name}">(.*?)</section>', html, re.S)
    assert match, f"no #{name} section"
    return unescape(match.group(1))


def test_the_page_says_what_was_certified_for_whom_and_until_when(sqlite_app: Flask) -> None:
    client, path = _issue(sqlite_app)
    html = client.get(path).text
    certified = _section(html, "certified")
    assert "Example Prairie Gadgets, Inc." in certified
    assert "Tier 3 — validated" in certified and "(TIER3)" in certified
    assert "Importer, Exporter" in certified
    assert "CTPAT 48120" in certified and "US-EIN 98-7654321" in certified
    assert "Jun 1, 2026 – Jun 1, 2029" in certified  # valid from – until, in the locale's form
    assert 'id="kind">AEO certificate<' in html
    assert "(no id)" not in html and "Subject" not in certified
    # the technical ids are folded away, and no status list URL is a link
    assert re.search(r'<details id="technical">.*Digest \(SHA-256\)', html, re.S)
    assert 'href="https://' not in html


def test_the_history_is_numbered_per_credential(sqlite_app: Flask) -> None:
    client, path = _issue(sqlite_app)
    html = client.get(path).text
    token = csrf_of(html)
    client.post(f"{path}/status", data={"action": "suspend", "csrf_token": token})
    html = client.get(path).text
    rows = re.findall(r'<tr data-action="([^"]+)"><td>(\d+)</td>', html)
    assert rows == [("issue", "1"), ("status-suspended", "2")]
    history = _section(html, "history")
    assert "Issued" in history and "Suspended" in history


def test_the_file_to_hand_to_the_trader(sqlite_app: Flask, clock: Clock) -> None:
    client, path = _issue(sqlite_app)
    html = client.get(path).text
    assert f'href="{path}/file"' in html
    answer = client.get(f"{path}/file")
    assert answer.status_code == 200
    assert answer.mimetype == "application/vc+jwt"
    assert answer.headers["Content-Disposition"].endswith('.jwt"')
    assert verifier(sqlite_app, clock).verify(answer.text).verified
    assert sqlite_app.test_client().get(f"{path}/file").status_code == 302  # needs sign-in


def test_a_cose_credential_file_is_its_bytes(make_app: Callable[..., Flask], clock: Clock) -> None:
    app = make_app("sqlite", formats=("vc+jwt", "vc+cose"))
    client, path = _issue(app, format="vc+cose")
    answer = client.get(f"{path}/file")
    assert answer.mimetype == "application/vc+cose"
    assert cose.unverified_payload(answer.data)["type"][-1] == "AEOCertificateCredential"
    html = client.get(path).text
    assert "Example Prairie Gadgets, Inc." in _section(html, "certified")


def test_a_us_agency_suggests_us_examples_and_dollars(sqlite_app: Flask) -> None:
    client = logged_in(sqlite_app)
    aeo = unescape(client.get("/officer/issue/aeo").text)
    assert 'placeholder="e.g. CTPAT 48120"' in aeo
    assert "DE4711" not in aeo and "EORI" not in aeo
    billing = unescape(client.get("/officer/issue/billing").text)
    assert 'name="currency" type="text" value="USD"' in billing
    assert 'placeholder="e.g. X20260415123456"' in billing
    assert '<option value="ITN" selected>' in billing
    assert "26DE" not in billing and "EUR" not in billing and "DE004851" not in billing


def test_a_german_agency_suggests_eori_mrn_and_euros(make_app: Callable[..., Flask]) -> None:
    app = make_app("sqlite", programme="EU-AEO", country="DE")
    billing = unescape(logged_in(app).get("/officer/issue/billing").text)
    assert 'value="EUR"' in billing and 'placeholder="e.g. EORI DE4711000000815"' in billing
    assert 'placeholder="e.g. 26DE5B7C3A1F9E2D06"' in billing


@pytest.mark.parametrize(
    "country", ["US", "GB", "JP", "CA", "KR", "MX", "SG", "CN", "NZ", "DE", "FR", "NL"]
)
def test_the_examples_pass_their_schemes_checks(country: str) -> None:
    # an example that its own scheme refuses would teach the officer a wrong number: each is
    # read as the form reads it (SCHEME VALUE) and checked as the credential's builder checks it
    examples = form_examples(country)
    if examples.declaration_scheme == "MRN":
        assert mrn_check(examples.declaration)
    scheme, _, value = examples.identifier.partition(" ")
    assert check_identifier({"scheme": scheme, "value": value}, "/identifier") == {
        "scheme": scheme,
        "value": value,
    }


def test_examples_follow_the_country() -> None:
    assert form_examples("JP").currency == "JPY"
    assert form_examples("FR").identifier.startswith("EORI FR")
    assert form_examples(None).identifier == "" and form_examples(None).currency == ""


def test_the_format_list_names_and_explains_each_format(sqlite_app: Flask) -> None:
    html = unescape(logged_in(sqlite_app).get("/officer/issue/aeo").text)
    assert ">Signed JSON Web Token (vc+jwt)</option>" in html
    assert "Selective disclosure JWT (vc+sd-jwt)" in html
    guide = re.search(r'<dl class="hint" id="format-guide">(.*?)</dl>', html, re.S)
    assert guide and "fits a QR code" in guide.group(1)


def test_the_forms_in_german(sqlite_app: Flask) -> None:
    client = logged_in(sqlite_app)
    client.get("/_language/de")
    html = unescape(client.get("/officer/issue/aeo").text)
    assert '<html lang="de">' in html
    assert "<h1>AEO-Bewilligung ausstellen</h1>" in html
    assert 'placeholder="z. B. CTPAT 48120"' in html
    assert "Signiertes JSON Web Token (vc+jwt)" in html and "Einführer" in html


@pytest.mark.parametrize("fmt", ["vc+sd-jwt", "eddsa-rdfc-2022", "ecdsa-sd-2023"])
def test_every_format_is_read_back_for_the_page(sqlite_app: Flask, fmt: str) -> None:
    client, path = _issue(sqlite_app, format=fmt)
    certified = _section(client.get(path).text, "certified")
    assert "Example Prairie Gadgets, Inc." in certified and "CTPAT 48120" in certified
    suffix = ".sd-jwt" if fmt == "vc+sd-jwt" else ".json"
    assert client.get(f"{path}/file").headers["Content-Disposition"].endswith(f'{suffix}"')


def test_a_refused_status_change_is_explained_in_the_officers_language(
    sqlite_app: Flask,
) -> None:
    client, path = _issue(sqlite_app)
    token = csrf_of(client.get(path).text)
    client.post(f"{path}/status", data={"action": "revoke", "csrf_token": token})
    client.get("/_language/es")
    answer = client.post(f"{path}/status", data={"action": "reinstate", "csrf_token": token})
    html = unescape(client.get(answer.headers["Location"]).text)
    assert 'class="flash error"' in html
    assert "una credencial revocada sigue revocada" in html


def test_a_refused_field_says_what_it_accepts_in_the_officers_language(
    sqlite_app: Flask,
) -> None:
    client = logged_in(sqlite_app)
    client.get("/_language/de")
    token = csrf_of(client.get("/officer/issue/aeo").text)
    answer = client.post(
        "/officer/issue/aeo", data={**aeo_form(certifiedSince="2027-01-01"), "csrf_token": token}
    )
    error = re.search(r'id="certifiedSince-error" role="alert">([^<]*)<', answer.text)
    assert error is not None
    text = unescape(error.group(1))
    assert text.startswith("Ein Datum, nicht nach dem Beginn der Gültigkeit. (")
    assert "certifiedSince is after validFrom" in text  # the builder's detail kept after it
    # the language picker of the refused form comes back to the form
    assert "/_language/fr?next=/officer/issue/aeo" in answer.text
