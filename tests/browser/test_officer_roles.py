"""Officer accounts in headless Chromium: each role's allowed and refused actions, an
administrator ending another officer's session, the four-eyes rule with two officers in two
browsers, and a sign-in through an independent OpenID Connect provider (panva's
oidc-provider on loopback)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from issuer_app import create_app, issuer_of
from issuer_app.config import utc_now
from tests.browser.conftest import chromium
from tests.httpserver import free_port
from tests.issuer.conftest import credential, dispose, make_config
from tests.issuer.test_oidc import CLIENT_ID, CLIENT_SECRET, OFFICER, oidc_provider
from vcred_service.roles import Role
from vcred_service.runner import serving

pytestmark = pytest.mark.browser

PASSWORD = "a long officer password"
OFFICERS: dict[str, Role] = {
    "olga": "officer",
    "sam": "supervisor",
    "sue": "supervisor",
    "ada": "administrator",
}
SHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"


class Running:
    def __init__(self, app: Flask, url: str) -> None:
        self.app, self.url = app, url
        self.record_id = issuer_of(app).issue_credential(credential(), actor="test").record_id


@pytest.fixture
def make_running(tmp_path: Path) -> Iterator[Any]:
    made: list[tuple[Flask, Any]] = []

    def make(**overrides: Any) -> Running:
        port = overrides.pop("port", None) or free_port()
        url = f"http://127.0.0.1:{port}"
        # the browser's requests carry the wall clock's cookies and tokens: so does the app
        config = make_config(
            tmp_path / f"data{len(made)}", "sqlite", public_url=url, clock=utc_now, **overrides
        )
        app = create_app(config)
        for name, role in OFFICERS.items():
            issuer_of(app).add_officer(name, PASSWORD, role=role, actor="test")
        server = serving(app, port=port)
        server.__enter__()
        made.append((app, server))
        return Running(app, url)

    yield make
    for app, server in made:
        server.__exit__(None, None, None)
        dispose(app, drop=False)


def sign_in(context: Any, base: str, name: str) -> Any:
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(f"{base}/login")
    page.fill("#name", name)
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.click("button:has-text('Log in')")
    page.wait_for_url(re.compile(r".*/officer/credentials$"))
    return page


def nav(page: Any) -> set[str]:
    # the officer's pages, not the language picker beside them
    links = page.locator("header nav:not(#languages) a")
    return {text.strip() for text in links.all_inner_texts()}


def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_each_role_is_offered_and_allowed_only_its_actions(
    playwright: Any, make_running: Any
) -> None:
    running = make_running()
    base, record = running.url, f"{running.url}/officer/credentials/{running.record_id}"

    with chromium(playwright) as context:  # an officer: issues, nothing more
        page = sign_in(context, base, "olga")
        assert nav(page) == {
            "Credentials",
            "Issue AEO certificate",
            "Issue export attestation",
            "Offers",
        }
        page.goto(record)
        assert page.locator("button:has-text('Suspend')").count() == 0
        assert page.locator("button:has-text('Revoke')").count() == 0
        token = page.locator("input[name=csrf_token]").first.get_attribute("value")
        forced = page.request.post(
            f"{record}/status", form={"action": "revoke", "csrf_token": token}
        )
        assert forced.status == 403 and "does not allow" in forced.text()
        answer = page.goto(f"{base}/officer/admin")
        assert answer.status == 403
        assert "Your role (officer) does not allow this action (officers)" in page.inner_text(
            "#refused"
        )
        shot(page, "officer-refused")
        page.click("button:has-text('Log out olga')")  # ends her session on the server
        page.wait_for_url(re.compile(r".*/login$"))
    assert [s.officer for s in issuer_of(running.app).sessions.live()] == []
    assert issuer_of(running.app).record(running.record_id).status == "active"  # type: ignore[union-attr]

    with chromium(playwright) as context:  # a supervisor: suspends and revokes
        page = sign_in(context, base, "sam")
        assert "Approvals" in nav(page) and "Administration" not in nav(page)
        page.goto(record)
        page.once("dialog", lambda dialog: dialog.accept())
        page.click("button:has-text('Suspend')")
        page.wait_for_selector(".flash.ok")
        assert page.locator("#status").inner_text() == "suspended"
        assert page.goto(f"{base}/officer/trust-lists").status == 403

    with chromium(playwright) as admin, chromium(playwright) as other:
        olga = sign_in(other, base, "olga")
        page = sign_in(admin, base, "ada")
        assert {"Approvals", "Trust lists", "Administration"} <= nav(page)
        page.click("header >> text=Administration")
        page.wait_for_url(re.compile(r".*/officer/admin$"))
        row = page.locator("#officers tbody tr", has_text="olga")
        row.locator("select").select_option("supervisor")
        row.locator("button:has-text('Set')").click()
        page.wait_for_selector(".flash.ok")
        assert page.locator(".flash.ok").inner_text() == "olga is now supervisor."
        olga.reload()
        assert "Approvals" in nav(olga)  # the new role at olga's next request

        session = page.locator("#sessions tbody tr", has_text="olga")
        session.locator("button:has-text('End')").click()
        page.wait_for_selector(".flash.ok")
        assert "The session of olga was ended." in page.locator(".flash.ok").inner_text()
        shot(page, "administration")
        olga.goto(f"{base}/officer/credentials")
        assert "/login" in olga.url  # her cookie opens nothing any more


def test_four_eyes_in_two_browsers(playwright: Any, make_running: Any) -> None:
    running = make_running(four_eyes=True)
    base, record = running.url, f"{running.url}/officer/credentials/{running.record_id}"
    with chromium(playwright) as first, chromium(playwright) as second:
        sam = sign_in(first, base, "sam")
        sam.goto(record)
        sam.once("dialog", lambda dialog: dialog.accept())
        sam.click("button:has-text('Request revocation')")
        sam.wait_for_selector("#awaiting")
        assert sam.locator("#status").inner_text() == "active"
        assert sam.locator("button:has-text('Request revocation')").count() == 0
        sam.goto(f"{base}/officer/approvals")
        assert "yours: another officer decides" in sam.inner_text("#pending")
        assert sam.locator("#pending button").count() == 0

        sue = sign_in(second, base, "sue")
        sue.click("header >> text=Approvals")
        sue.wait_for_url(re.compile(r".*/officer/approvals$"))
        shot(sue, "approvals")
        sue.locator("#pending button:has-text('Approve')").click()
        sue.wait_for_selector(".flash.ok")
        assert sue.locator(".flash.ok").inner_text() == "Request approved."
        assert "approved by sue" in sue.inner_text("#decided")

        sam.goto(record)
        assert sam.locator("#status").inner_text() == "revoked"
        history = sam.inner_text("table")
        assert "approval-request" in history and "approval-grant" in history
        # the history names officers without the audit chain's "officer:" prefix
        assert "\tsam\tapproval-request" in history and "\tsue\tapproval-grant" in history


def test_an_officer_signs_in_through_the_agency_provider(
    playwright: Any, make_running: Any
) -> None:
    port = free_port()
    callback = f"http://127.0.0.1:{port}/login/oidc/callback"
    with oidc_provider([callback]) as provider:
        running = make_running(
            port=port,
            oidc_issuer=provider.issuer,
            oidc_client_id=CLIENT_ID,
            oidc_client_secret=CLIENT_SECRET,
        )
        issuer_of(running.app).add_officer(OFFICER, PASSWORD, actor="test")
        with chromium(playwright) as context:
            page = context.new_page()
            page.set_default_timeout(10_000)
            page.goto(f"{running.url}/officer/credentials")
            assert "/login" in page.url
            page.click("#oidc-sign-in")
            page.wait_for_url(re.compile(re.escape(provider.issuer) + r"/interaction/.*"))
            page.fill("input[name=login]", "ana")
            page.fill("input[name=password]", "anything the development login takes")
            page.click("button[type=submit]")
            page.wait_for_url(re.compile(re.escape(provider.issuer) + r"/interaction/.*"))
            page.click("button[type=submit]")  # consent
            page.wait_for_url(re.compile(re.escape(running.url) + r"/officer/credentials$"))
            shot(page, "oidc-signed-in")
            assert f"Log out {OFFICER} (officer)" in page.inner_text("header")
            assert "Approvals" not in nav(page)
