"""Officer sessions that end: server-side, in each service's database (SQLite and
PostgreSQL), for the issuer's officer pages and the verifier's history.

The attack class: a session cookie that outlives the session — copied (a shared computer, a
proxy log, malware) and replayed after sign-out or after the officer walked away; a forged
or guessed one; one planted before sign-in (fixation); the old signed cookie that named the
officer. Each must lead to the sign-in page (302), never to the pages, never to a 5xx.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from issuer_app import IssuerConfig
from issuer_app import create_app as create_issuer_app
from tests.issuer.conftest import BACKENDS, Clock, dispose, make_config, table_prefix
from tests.issuer.conftest import PG_URL as ISSUER_PG_URL
from tests.verifier.conftest import NOW, MakeApp, csrf_of
from vcred.errors import UsageError
from vcred_service.officers import OfficerAccounts, OfficerSessions
from vcred_service.signin import COOKIE_SUFFIX
from verifier_app import VerifierConfig

PASSWORD = "a long officer password"


@dataclass
class Service:
    """One service under test, its clock, a page behind the sign-in, its accounts."""

    name: str
    app: Flask
    clock: Clock
    protected: str
    accounts: OfficerAccounts
    sessions: OfficerSessions
    add_officer: Callable[[str], None]

    @property
    def cookie(self) -> str:
        return str(self.app.config["SESSION_COOKIE_NAME"]) + COOKIE_SUFFIX

    def sign_in(self, name: str = "ana", client: FlaskClient | None = None) -> FlaskClient:
        if self.accounts.row(name) is None:
            self.add_officer(name)
        client = client or self.app.test_client()
        token = csrf_of(client.get("/login").get_data(as_text=True))
        answer = client.post(
            "/login", data={"name": name, "password": PASSWORD, "csrf_token": token}
        )
        assert answer.status_code == 302, answer.get_data(as_text=True)
        return client

    def session_id(self, client: FlaskClient) -> str:
        cookie = client.get_cookie(self.cookie)
        assert cookie is not None, "no session cookie"
        return cookie.value

    def opens(self, client: FlaskClient) -> bool:
        """Whether ``client`` sees the protected page (else it must be sent to sign in)."""
        answer = client.get(self.protected)
        assert answer.status_code in (200, 302), answer.status_code
        if answer.status_code == 302:
            assert answer.headers["Location"].startswith("/login?next=")
        return answer.status_code == 200

    def sign_out(self, client: FlaskClient) -> None:
        page = client.get(self.protected).get_data(as_text=True)
        assert client.post("/logout", data={"csrf_token": csrf_of(page)}).status_code == 302


def _copy(service: Service, client: FlaskClient) -> FlaskClient:
    """Another browser holding a copy of ``client``'s session cookie (nothing else)."""
    thief = service.app.test_client()
    thief.set_cookie(service.cookie, service.session_id(client))
    return thief


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(params=["issuer", "verifier"])
def service(
    request: pytest.FixtureRequest, backend: str, tmp_path: Path, make_app: MakeApp
) -> Iterator[Service]:
    clock = Clock(NOW)
    if request.param == "issuer":
        app = create_issuer_app(make_config(tmp_path / "issuer", backend, clock=clock))
        issuer = app.extensions["vcred_issuer"]
        yield Service(
            "issuer",
            app,
            clock,
            "/officer/credentials",
            issuer.officers,
            issuer.sessions,
            lambda name: issuer.add_officer(name, PASSWORD, actor="test"),
        )
        dispose(app, drop=backend == "postgres")
        return
    options: dict[str, object] = {"clock": clock}
    if backend == "postgres":
        options |= {"database_url": ISSUER_PG_URL, "table_prefix": table_prefix()}
    app = make_app(**options)
    verifier = app.extensions["vcred_verifier"]
    yield Service(
        "verifier",
        app,
        clock,
        "/recent",
        verifier.officers,
        verifier.sessions,
        lambda name: verifier.add_officer(name, PASSWORD),
    )
    if backend == "postgres":
        verifier.storage.drop()


def test_a_copied_cookie_is_refused_after_sign_out(service: Service) -> None:
    officer = service.sign_in()
    thief = _copy(service, officer)
    assert service.opens(thief)  # the copy works while the session lives…
    service.sign_out(officer)
    assert not service.opens(thief)  # …and not a moment after
    assert not service.opens(officer)
    assert not service.opens(thief)  # nor on a second try


def test_signing_out_ends_that_session_only(service: Service) -> None:
    desk, laptop = service.sign_in(), service.sign_in()
    assert service.session_id(desk) != service.session_id(laptop)
    service.sign_out(desk)
    assert service.opens(laptop) and not service.opens(desk)


def test_a_session_ends_after_the_idle_timeout(service: Service) -> None:
    officer = service.sign_in()
    thief = _copy(service, officer)
    idle = service.sessions.idle
    for _ in range(4):  # each request keeps it alive for another idle period
        service.clock.advance(seconds=idle.total_seconds() - 60)
        assert service.opens(officer)
    service.clock.advance(seconds=idle.total_seconds())
    assert not service.opens(thief)
    assert not service.opens(officer)


def test_a_session_ends_at_its_lifetime_however_active(service: Service) -> None:
    officer = service.sign_in()
    started = service.clock.now
    step = service.sessions.idle / 2
    while service.clock.now + step < started + service.sessions.lifetime:
        service.clock.advance(seconds=step.total_seconds())
        assert service.opens(officer)
    service.clock.now = started + service.sessions.lifetime
    assert not service.opens(officer)


def test_forged_and_guessed_session_ids_open_nothing(service: Service) -> None:
    genuine = service.sign_in()
    session_id = service.session_id(genuine)
    digest = hashlib.sha256(session_id.encode()).hexdigest()
    flask_cookie = genuine.get_cookie(str(service.app.config["SESSION_COOKIE_NAME"]))
    assert flask_cookie is not None
    forged = [
        secrets.token_urlsafe(32),  # well-formed, never issued
        digest,  # the row's key, read from a database dump
        session_id[:-1] + ("A" if session_id[-1] != "A" else "B"),
        session_id.upper(),
        session_id + "x",
        "",
        "x",
        "' OR '1'='1",
        "%00",
        "é" * 40,
        "A" * 4000,
        flask_cookie.value,  # the signed cookie in the session cookie's place
    ]
    for value in forged:
        browser = service.app.test_client()
        browser.set_cookie(service.cookie, value)
        assert not service.opens(browser), value[:40]
    assert service.opens(genuine)


def test_the_session_id_is_stored_only_as_its_digest(service: Service) -> None:
    session_id = service.session_id(service.sign_in())
    with service.sessions.engine.connect() as conn:
        rows = conn.execute(select(service.sessions.table)).mappings().all()
    assert [row["id_digest"] for row in rows] == [hashlib.sha256(session_id.encode()).hexdigest()]
    assert all(session_id not in str(value) for row in rows for value in row.values())
    assert rows[0]["officer"] == "ana"


def test_a_cookie_planted_before_sign_in_is_not_adopted(service: Service) -> None:
    planted = secrets.token_urlsafe(32)
    victim = service.app.test_client()
    victim.set_cookie(service.cookie, planted)
    service.sign_in(client=victim)
    assert service.session_id(victim) != planted
    attacker = service.app.test_client()
    attacker.set_cookie(service.cookie, planted)
    assert not service.opens(attacker)


def test_the_signed_cookie_naming_an_officer_no_longer_signs_in(service: Service) -> None:
    """What the issuer trusted before: Flask's signed cookie with {"officer": name}."""
    service.add_officer("ana")
    browser = service.app.test_client()
    with browser.session_transaction() as session:
        session["officer"] = "ana"
        session["csrf"] = "known"
    assert not service.opens(browser)


def test_a_disabled_officer_is_signed_out_everywhere(service: Service) -> None:
    desk, laptop = service.sign_in(), service.sign_in()
    table = service.accounts.table
    with service.accounts.engine.begin() as conn:
        conn.execute(update(table).where(table.c.name == "ana").values(disabled=True))
    assert not service.opens(desk) and not service.opens(laptop)
    with service.sessions.engine.connect() as conn:
        assert conn.execute(select(service.sessions.table)).first() is None


def test_ended_sessions_are_purged_at_the_next_sign_in(service: Service) -> None:
    for _ in range(3):
        service.sign_in()
    service.clock.advance(seconds=service.sessions.lifetime.total_seconds())
    service.sign_in("ben")
    with service.sessions.engine.connect() as conn:
        officers = conn.execute(select(service.sessions.table.c.officer)).scalars().all()
    assert officers == ["ben"]


def test_sign_out_needs_the_csrf_token(service: Service) -> None:
    officer = service.sign_in()
    refused = officer.post("/logout", data={})
    assert refused.status_code == 400
    assert refused.get_json()["code"] == "CSRF"
    assert service.opens(officer)  # a cross-site form cannot sign an officer out either


def test_the_session_cookie_is_httponly_lax_and_secure_behind_https(
    service: Service,
) -> None:
    service.add_officer("ana")
    https = service.name == "issuer"  # the issuer's public URL is https; the verifier's request
    browser = service.app.test_client()
    base = {} if https else {"base_url": "https://verify.example"}
    token = csrf_of(browser.get("/login", **base).get_data(as_text=True))
    answer = browser.post(
        "/login", data={"name": "ana", "password": PASSWORD, "csrf_token": token}, **base
    )
    (cookie,) = [c for c in answer.headers.getlist("Set-Cookie") if c.startswith(service.cookie)]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie
    assert (
        "Expires" not in cookie and "Max-Age" not in cookie
    )  # the server ends it, not the browser


def test_sign_in_failures_are_answered_not_crashed(service: Service) -> None:
    service.add_officer("ana")
    browser = service.app.test_client()
    token = csrf_of(browser.get("/login").get_data(as_text=True))
    for name, password in [
        ("ana", "wrong password"),
        ("nobody", PASSWORD),
        ("ana\x00", PASSWORD),
        ("a" * 10_000, PASSWORD),
        ("ana", "p" * 100_000),
        ("<script>", "x"),
        ("", ""),
    ]:
        answer = browser.post(
            "/login", data={"name": name, "password": password, "csrf_token": token}
        )
        assert answer.status_code in (200, 429), (name[:20], answer.status_code)
        assert service.cookie not in (answer.headers.get("Set-Cookie") or "")
    assert not service.opens(browser)


def test_a_session_of_one_service_opens_nothing_in_another(
    service: Service, tmp_path: Path
) -> None:
    officer = service.sign_in()
    other = create_issuer_app(make_config(tmp_path / "other", "sqlite", clock=service.clock))
    try:
        browser = other.test_client()
        cookie = str(other.config["SESSION_COOKIE_NAME"]) + COOKIE_SUFFIX
        browser.set_cookie(cookie, service.session_id(officer))
        answer = browser.get("/officer/credentials")
        assert answer.status_code == 302
    finally:
        dispose(other, drop=False)


def test_the_idle_timeout_and_lifetime_are_configurable(tmp_path: Path) -> None:
    issuer = IssuerConfig.from_env(
        {"VCRED_ISSUER_SESSION_IDLE_TIMEOUT": "60", "VCRED_ISSUER_SESSION_LIFETIME": "3600"},
        data_dir=tmp_path,
        passphrase="x" * 20,
    )
    assert (issuer.session_idle_timeout, issuer.session_lifetime) == (
        timedelta(minutes=1),
        timedelta(hours=1),
    )
    verifier = VerifierConfig.from_env(
        {"VCRED_VERIFIER_SESSION_IDLE_TIMEOUT": "90", "VCRED_VERIFIER_SESSION_LIFETIME": "600"}
    )
    assert (verifier.session_idle_timeout, verifier.session_lifetime) == (
        timedelta(seconds=90),
        timedelta(minutes=10),
    )
    with pytest.raises(UsageError):
        VerifierConfig(session_idle_timeout=timedelta(0))
    with pytest.raises(UsageError):
        IssuerConfig(data_dir=tmp_path, passphrase="x" * 20, session_lifetime=timedelta(-1))


def test_sign_in_never_sends_the_officer_off_site(service: Service) -> None:
    service.add_officer("ana")
    home = "/officer/credentials" if service.name == "issuer" else "/recent"
    for number, target in enumerate(
        [
            "//evil.example/",
            "https://evil.example/",
            "/\\evil.example",
            "\\\\evil.example",
            "/%0d%0aSet-Cookie:x=y",
            "javascript:alert(1)",
            "evil.example",
        ]
    ):
        browser = service.app.test_client()
        browser.environ_base["REMOTE_ADDR"] = f"192.0.2.{number}"  # each within its login budget
        token = csrf_of(browser.get("/login").get_data(as_text=True))
        form = {"name": "ana", "password": PASSWORD, "csrf_token": token, "next": target}
        answer = browser.post("/login", data=form)
        location = answer.headers["Location"]
        assert location == home or (location.startswith("/") and "evil" not in location), target
