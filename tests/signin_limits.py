"""The per-account sign-in limit, the same on both services: guesses spread over addresses are
held per account, the officer's own browser (its device cookie) keeps a limit of its own."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient

from vcred_service.signin import ACCOUNT_FAILURES, DEVICE_COOKIE_SUFFIX

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _sign_in(client: FlaskClient, name: str, password: str, address: str) -> int:
    page = client.get("/login").get_data(as_text=True)
    match = _CSRF.search(page)
    assert match, "no CSRF token in the login page"
    form = {"name": name, "password": password, "csrf_token": match.group(1)}
    return client.post("/login", data=form, environ_base={"REMOTE_ADDR": address}).status_code


def check_the_account_limit(app: Flask, name: str, other: str, password: str) -> None:
    """``name`` and ``other`` are officers of ``app`` with ``password``."""
    device = str(app.config["SESSION_COOKIE_NAME"]) + DEVICE_COOKIE_SUFFIX
    officer = app.test_client()  # the officer's own browser, signed in once before
    assert _sign_in(officer, name, password, "192.0.2.1") == 302
    assert officer.get_cookie(device) is not None
    attacker = app.test_client()
    _, burst = ACCOUNT_FAILURES
    guesses = [_sign_in(attacker, name, f"guess {n}", f"203.0.113.{n}") for n in range(burst + 1)]
    assert guesses == [200] * burst + [429]  # each from an address of its own
    assert _sign_in(attacker, name, password, "198.51.100.7") == 429  # held: guess or officer
    assert _sign_in(attacker, other, password, "203.0.113.1") == 302  # another account
    # the officer's browser has a limit of its own: not held
    assert _sign_in(officer, name, password, "192.0.2.9") == 302
    # a device cookie forged is none
    forged = app.test_client()
    cookie = officer.get_cookie(device)
    assert cookie is not None
    forged.set_cookie(device, "x" + cookie.value)
    assert _sign_in(forged, name, password, "192.0.2.10") == 429
    # nor is another account's (the other officer's browser, asking for this account)
    elsewhere = app.test_client()
    assert _sign_in(elsewhere, other, password, "192.0.2.11") == 302
    assert _sign_in(elsewhere, name, password, "192.0.2.11") == 429
