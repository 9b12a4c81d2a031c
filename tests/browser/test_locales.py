"""Each officer language in Chromium: the verifier's verdict pages (valid and suspended), the
issuer's forms and credential page. Screenshots go to the test's temporary folder
(``screenshots/``) for a person to look at; the assertions read translated text and
``<html lang>``."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from issuer_app import create_app as create_issuer
from issuer_app import issuer_of
from tests.httpserver import local_server
from tests.issuer.conftest import dispose, make_config
from tests.verifier.conftest import DOMAIN, NOW, US_HOST, Agency
from vcred import did_key, issue
from vcred.keys import KeyPair
from vcred.trust import build_trust_list
from vcred_service.i18n import LOCALES, translations
from vcred_service.runner import serving
from verifier_app import VerifierConfig
from verifier_app import create_app as create_verifier

pytestmark = pytest.mark.browser

PASSWORD = "a long officer password"
AGENCY = "U.S. Customs and Border Protection (test)"

#: Written out, not looked up: the catalogs could be wrong in the same way as the lookup.
VERDICT = {
    "en": ("VERIFIED", "NOT VERIFIED"),
    "de": ("VERIFIZIERT", "NICHT VERIFIZIERT"),
    "fr": ("VÉRIFIÉ", "NON VÉRIFIÉ"),
    "es": ("VERIFICADO", "NO VERIFICADO"),
    "ja": ("検証済み", "検証失敗"),
}
SUSPENDED = {
    "en": "The issuer has suspended this credential.",
    "de": "Die Ausstellungsstelle hat diesen Nachweis ausgesetzt.",
    "fr": "L'émetteur a suspendu cette attestation.",
    "es": "El emisor ha suspendido esta credencial.",
    "ja": "発行者はこの証明書を一時停止しています。",
}
AEO_TITLE = {
    "en": "Issue an AEO certificate",
    "de": "AEO-Bewilligung ausstellen",
    "fr": "Émettre un certificat OEA",
    "es": "Emitir un certificado OEA",
    "ja": "AEO 認定証を発行",
}
#: 2029-05-31: the AEO form's default end of validity (3 × 365 days from the test clock)
VALID_UNTIL = {
    "en": "May 31, 2029",
    "de": "31.05.2029",
    "fr": "31 mai 2029",
    "es": "31 may 2029",
    "ja": "2029/05/31",
}


@pytest.fixture(autouse=True)
def _fresh_cookies(browser: Any) -> Iterator[None]:
    """The browser is shared by the session: a language chosen here must not outlive the test."""
    browser.clear_cookies()
    yield
    browser.clear_cookies()


def _(locale: str, message: str) -> str:
    return str(translations(locale).ugettext(message))


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("screenshots")


def _shoot(page: Any, folder: Path, name: str) -> None:
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000  # a rendered page, not a blank one


@dataclass
class Verifier:
    url: str
    agency: Agency


@pytest.fixture
def verifier(tmp_path: Path) -> Iterator[Verifier]:
    """A verifier of its own for each test: its status list cache starts empty."""
    folder = tmp_path
    eu = KeyPair.generate()
    unsigned = build_trust_list(
        [
            {
                "issuer": f"did:web:{US_HOST}",
                "name": AGENCY,
                "programme": "US-CTPAT",
                "country": "US",
                "acceptedCredentialTypes": ["AEOCertificateCredential"],
            }
        ],
        issuer=did_key(eu.public),
        programme="EU-AEO",
        authority_country="DE",
        authority_name="Zoll (browser test)",
        valid_from=datetime(2026, 1, 1, tzinfo=UTC),
        valid_until=datetime(2027, 1, 1, tzinfo=UTC),
    )
    trust = folder / "trust.jwt"
    trust.write_text(str(issue(unsigned, eu)))
    with local_server() as us_server:
        agency = Agency(us_server)
        app = create_verifier(
            VerifierConfig(
                data_dir=folder / "data",
                trust_list=trust,
                trust_issuer=did_key(eu.public),
                domain=DOMAIN,
                host_map={US_HOST: us_server.origin},
                clock=lambda: NOW,
                rate_per_second=0,
            )
        )
        with serving(app) as server:
            yield Verifier(f"http://127.0.0.1:{server.server_port}", agency)
        app.extensions["vcred_verifier"].close()


def _verify(page: Any, url: str, token: str) -> None:
    page.goto(url + "/")
    page.fill("#credential", token)
    with page.expect_navigation():
        page.click("#verify-paste")


@pytest.mark.parametrize("locale", LOCALES)
def test_verdict_pages(page: Any, verifier: Verifier, screenshots: Path, locale: str) -> None:
    # the browser's language decides (no choice made): Accept-Language as a browser sends it
    page.set_extra_http_headers({"Accept-Language": f"{locale};q=1, en;q=0.5"})
    agency = verifier.agency
    token = agency.issue(agency.aeo_certificate())
    suspended = agency.aeo_certificate()
    suspended_token = agency.issue(suspended)
    agency.set(suspended, "suspended")  # before the verifier reads (and caches) the list

    _verify(page, verifier.url, token)
    assert page.locator("html").get_attribute("lang") == locale
    assert page.locator("#verdict").inner_text().strip() == VERDICT[locale][0]
    assert AGENCY in page.locator("#headline").inner_text()
    assert page.locator("#benefits li").count() == 4
    assert page.locator("#trader-name").inner_text() == "Example Prairie Gadgets, Inc."
    roles = page.locator("#roles").inner_text()
    assert roles == ", ".join(_(locale, r) for r in ("Importer", "Exporter"))
    _shoot(page, screenshots, f"{locale}-verdict-valid")

    _verify(page, verifier.url, suspended_token)
    assert page.locator("#verdict").inner_text().strip() == VERDICT[locale][1]
    assert page.locator("#headline").inner_text().strip() == SUSPENDED[locale]
    assert page.locator("#problems li[data-code=SUSPENDED]").count() == 1  # the code unchanged
    trust = page.locator("#trust")
    assert trust.locator(".pass").count() == 0 and page.locator("#benefits").count() == 0
    assert AGENCY in trust.locator("#listed").inner_text()
    _shoot(page, screenshots, f"{locale}-verdict-suspended")


@pytest.fixture
def issuer_url(tmp_path: Path) -> Iterator[str]:
    app = create_issuer(make_config(tmp_path, "sqlite", public_url="http://127.0.0.1"))
    issuer_of(app).add_officer("ana", PASSWORD, actor="test")
    try:
        with serving(app) as server:
            yield f"http://127.0.0.1:{server.server_port}"
    finally:
        dispose(app, drop=False)


@pytest.mark.parametrize("locale", LOCALES)
def test_issuer_forms_and_credential_page(
    page: Any, issuer_url: str, screenshots: Path, locale: str
) -> None:
    # an English browser; the officer picks the language in the header (remembered)
    page.set_extra_http_headers({"Accept-Language": "en"})
    page.goto(f"{issuer_url}/login")
    if locale != "en":
        with page.expect_navigation():
            page.click(f"#languages a[hreflang={locale}]")
    assert page.locator("html").get_attribute("lang") == locale
    assert page.locator("#languages [aria-current]").get_attribute("lang") == locale
    page.fill("#name", "ana")
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.click("form.card button[type=submit]")

    page.goto(f"{issuer_url}/officer/issue/aeo")
    assert page.locator("html").get_attribute("lang") == locale
    assert page.locator("h1").inner_text() == AEO_TITLE[locale]
    example = page.locator("#identifiers").get_attribute("placeholder")
    assert example == _(locale, "e.g. %(example)s") % {"example": "CTPAT 48120"}
    jwt = page.locator("#format option[value='vc+jwt']").inner_text()
    assert jwt == f"{_(locale, 'Signed JSON Web Token')} (vc+jwt)"
    _shoot(page, screenshots, f"{locale}-form-aeo")

    page.fill("#legalName", "Example Prairie Gadgets, Inc.")
    page.fill("#identifiers", "CTPAT 48120\nUS-EIN 98-7654321")
    page.select_option("#tier", "TIER3")
    page.check("input[name=tradeRoles][value=importer]")
    page.fill("#certifiedSince", "2016-05-10")
    page.click("#aeo-form button[type=submit]")
    page.wait_for_url(re.compile(r".*/officer/credentials/[0-9a-f]{32}$"))
    assert page.locator(".flash.ok").inner_text() == _(locale, "Credential issued.")
    assert page.locator("#kind").inner_text() == _(locale, "AEO certificate")
    assert page.locator("#status").inner_text() == _(locale, "active")
    assert page.locator("#valid").inner_text().endswith(VALID_UNTIL[locale])
    assert page.locator("#roles").inner_text() == _(locale, "Importer")
    assert page.locator("#history tbody tr").first.locator("td").first.inner_text() == "1"
    _shoot(page, screenshots, f"{locale}-credential")

    page.goto(f"{issuer_url}/officer/issue/billing")
    assert page.locator("#currency").input_value() == "USD"  # a US agency's defaults
    assert page.locator("#declarationScheme").input_value() == "ITN"
    _shoot(page, screenshots, f"{locale}-form-billing")
