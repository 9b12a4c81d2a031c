"""The issuer's officer UI in headless Chromium: log in, issue an AEO certificate from the form,
find it in the list, open its page with the QR code, suspend it; logins and CSRF enforced."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from issuer_app import create_app, issuer_of
from tests.issuer.conftest import dispose, make_config
from vcred_service.runner import serving

pytestmark = pytest.mark.browser

PASSWORD = "a long officer password"


@pytest.fixture
def base_url(tmp_path: Path, browser: Any) -> Iterator[str]:
    browser.clear_cookies()
    # http: the session cookie is Secure only behind an https public URL
    app = create_app(make_config(tmp_path, "sqlite", public_url="http://127.0.0.1"))
    issuer_of(app).add_officer("ana", PASSWORD, role="supervisor", actor="test")
    try:
        with serving(app) as server:
            yield f"http://127.0.0.1:{server.server_port}"
    finally:
        dispose(app, drop=False)


def test_issue_find_open_and_suspend_an_aeo_certificate(page: Any, base_url: str) -> None:
    page.goto(f"{base_url}/officer/credentials")
    assert "/login" in page.url  # not logged in: sent to the login page
    page.fill("#name", "ana")
    page.fill("#password", PASSWORD)
    with page.expect_navigation():  # logged in before the next page is asked for
        page.click("button:has-text('Log in')")
    page.wait_for_url(re.compile(r".*/officer/credentials$"))

    page.click("header >> text=Issue AEO certificate")
    page.fill("#legalName", "Beispiel Prairie Gadgets, Inc.")
    page.fill("#traderId", "did:web:prairie-gadgets.example")
    page.fill("#identifiers", "CTPAT 48120\nUS-EIN 98-7654321")
    page.select_option("#tier", "TIER2")
    page.check("input[name=tradeRoles][value=importer]")
    page.check("input[name=tradeRoles][value=carrier]")
    page.fill("#certifiedSince", "2021-03-15")
    page.click("button:has-text('Issue')")
    page.wait_for_url(re.compile(r".*/officer/credentials/[0-9a-f]{32}$"))
    assert page.locator(".flash.ok").inner_text() == "Credential issued."
    assert page.locator("#status").inner_text() == "active"

    page.click("header >> text=Credentials")
    row = page.locator("#credentials tbody tr", has_text="Beispiel Prairie Gadgets, Inc.")
    row.first.wait_for()  # count() does not wait for the list page
    assert row.count() == 1
    assert "AEO certificate" in row.inner_text()  # the type by its name, not its IRI term
    row.locator("a").click()
    page.wait_for_url(re.compile(r".*/officer/credentials/[0-9a-f]{32}$"))
    qr = page.locator("#qr svg")
    assert qr.is_visible()
    assert qr.bounding_box()["width"] > 100

    page.once("dialog", lambda dialog: dialog.accept())
    page.click("button:has-text('Suspend')")
    page.wait_for_selector(".flash.ok")
    assert page.locator("#status").inner_text() == "suspended"
    assert page.locator(".flash.ok").inner_text() == "The credential was suspended."
    assert page.locator("button:has-text('Reinstate')").is_visible()

    # declining the confirmation changes nothing
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.click("button:has-text('Revoke')")
    assert page.locator("#status").inner_text() == "suspended"


def test_form_errors_show_next_to_their_fields(page: Any, base_url: str) -> None:
    page.goto(f"{base_url}/login")
    page.fill("#name", "ana")
    page.fill("#password", PASSWORD)
    with page.expect_navigation():  # logged in before the next page is asked for
        page.click("button:has-text('Log in')")
    page.goto(f"{base_url}/officer/issue/aeo")
    page.fill("#legalName", "Example Trader")
    page.fill("#identifiers", "EORI not-an-eori")
    page.select_option("#tier", "TIER1")
    page.check("input[name=tradeRoles][value=exporter]")
    page.fill("#certifiedSince", "2020-01-01")
    page.click("button:has-text('Issue')")
    error = page.locator("#identifiers-error")
    error.wait_for(state="visible")  # is_visible() alone would not wait for the answer
    assert error.is_visible()
    assert page.locator("#legalName").input_value() == "Example Trader"


def test_a_post_without_the_csrf_token_is_refused(page: Any, base_url: str) -> None:
    page.goto(f"{base_url}/login")
    page.fill("#name", "ana")
    page.fill("#password", PASSWORD)
    with page.expect_navigation():  # logged in before the next page is asked for
        page.click("button:has-text('Log in')")
    page.wait_for_url(re.compile(r".*/officer/credentials$"))
    # the session cookie goes along (same browser context), the CSRF token does not
    answer = page.request.post(
        f"{base_url}/officer/issue/aeo", form={"legalName": "Forged Trader Ltd"}
    )
    assert answer.status == 400
    assert answer.json()["code"] == "CSRF"
    page.goto(f"{base_url}/officer/credentials")
    assert "Forged Trader" not in page.content()
