"""Secrets never reach the log or the audit chain, on success or refusal: officer passwords,
session cookies and CSRF tokens, OAuth client secrets and access tokens, OpenID4VCI
pre-authorized codes, tx codes and access tokens. Every logger is captured at DEBUG."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from issuer_app import create_app, issuer_of
from tests.issuer.conftest import PUBLIC_URL, Clock, make_config
from tests.issuer.test_oauth import BUILTIN, basic, register
from tests.issuer.test_ui import PASSWORD, csrf_of
from tests.oid4vci_helpers import offer
from vcred.keys import KeyPair
from vcred.oid4vci import GRANT_PRE_AUTHORIZED, proof_jwt

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def make_issuer(tmp_path: Path, clock: Clock) -> Iterator[Callable[..., Flask]]:
    made: list[Flask] = []

    def make(**overrides: Any) -> Flask:
        app = create_app(
            make_config(tmp_path / f"i{len(made)}", "sqlite", clock=clock, **overrides)
        )
        app.config["TESTING"] = True
        made.append(app)
        return app

    yield make
    for app in made:
        issuer_of(app).close()


def recorded(app: Flask, caplog: pytest.LogCaptureFixture) -> str:
    """Everything the service wrote down: its log and its audit chain."""
    return caplog.text + json.dumps(list(issuer_of(app).store.audit_entries()), default=str)


def assert_absent(text: str, **secrets: str) -> None:
    for name, secret in secrets.items():
        assert secret and secret not in text, f"the {name} is in the log or the audit chain"


def test_an_officer_sign_in_logs_neither_password_nor_session(
    make_issuer: Callable[..., Flask], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    app = make_issuer()
    issuer_of(app).add_officer("ana", PASSWORD, role="supervisor", actor="test")
    client = app.test_client()
    token = csrf_of(client.get("/login").get_data(as_text=True))
    wrong = "a wrong password that is long"
    refused = client.post("/login", data={"name": "ana", "password": wrong, "csrf_token": token})
    assert refused.status_code in (200, 400, 401, 403)
    answer = client.post("/login", data={"name": "ana", "password": PASSWORD, "csrf_token": token})
    assert answer.status_code == 302
    cookie = answer.headers["Set-Cookie"].split(";", 1)[0].split("=", 1)[1]
    client.post("/logout", data={"csrf_token": token})
    text = recorded(app, caplog)
    assert "ana" in text  # the sign-in is audited: what was written down was read
    assert_absent(text, password=PASSWORD, wrong_password=wrong, cookie=cookie, csrf=token)


def test_oauth_client_credentials_log_neither_secret_nor_token(
    make_issuer: Callable[..., Flask], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    app = make_issuer(oauth=BUILTIN)
    made = register(app)
    http = app.test_client()
    form = {"grant_type": "client_credentials"}
    wrong = http.post("/oauth/token", data=form, headers=basic(made.client_id, made.secret + "x"))
    assert wrong.status_code == 401
    in_body = http.post(
        "/oauth/token",
        data={**form, "client_id": made.client_id, "client_secret": made.secret[:-1]},
        headers=FORM,
    )
    assert in_body.status_code == 401
    granted = http.post("/oauth/token", data=form, headers=basic(made.client_id, made.secret))
    assert granted.status_code == 200
    access = granted.get_json()["access_token"]
    refused = http.post(
        "/credentials/issue", json={}, headers={"Authorization": f"Bearer {access}x"}
    )
    assert refused.status_code == 401
    assert_absent(
        recorded(app, caplog),
        secret=made.secret,
        secret_prefix=made.secret[:-1],
        access_token=access.rsplit(".", 1)[-1],
    )


def test_openid4vci_logs_neither_codes_nor_tokens(
    make_issuer: Callable[..., Flask], clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    app = make_issuer()
    made = offer(app, "billing", "vc+sd-jwt")
    http = app.test_client()
    code = http.get(made.offer_uri.removeprefix(PUBLIC_URL)).json["grants"][GRANT_PRE_AUTHORIZED][
        "pre-authorized_code"
    ]
    form = {"grant_type": GRANT_PRE_AUTHORIZED, "pre-authorized_code": code}
    wrong_tx = "918273" if made.tx_code != "918273" else "918274"
    assert (
        http.post("/oid4vci/token", data={**form, "tx_code": wrong_tx}, headers=FORM).status_code
        == 400
    )
    granted = http.post("/oid4vci/token", data={**form, "tx_code": made.tx_code}, headers=FORM)
    assert granted.status_code == 200
    access = granted.json["access_token"]
    replayed = http.post("/oid4vci/token", data={**form, "tx_code": made.tx_code}, headers=FORM)
    assert replayed.status_code == 400
    c_nonce = http.post("/oid4vci/nonce").json["c_nonce"]
    proof = proof_jwt(KeyPair.generate("p256"), audience=PUBLIC_URL, nonce=c_nonce, now=clock())
    body = {"credential_configuration_id": made.configuration, "proofs": {"jwt": [proof]}}
    wrong = http.post(
        "/oid4vci/credential", json=body, headers={"Authorization": "Bearer x" + access}
    )
    assert wrong.status_code in (400, 401)
    answer = http.post(
        "/oid4vci/credential", json=body, headers={"Authorization": f"Bearer {access}"}
    )
    assert answer.status_code == 200, answer.json
    text = recorded(app, caplog)
    assert made.offer_id in text  # the offer's steps are audited
    assert_absent(text, code=code, tx_code=made.tx_code, wrong_tx=wrong_tx, access_token=access)


def test_an_unreachable_rate_limit_redis_logs_no_password(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The warning that Redis cannot be reached names where, never the password in the URL
    (``redis://:PASSWORD@host`` is how redis-py takes one)."""
    from vcred_service.ratelimit import make_limiter

    secret = "s3cret-redis-passphrase"
    url = f"redis://limits:{secret}@127.0.0.1:1/0?password={secret}"
    limiter = make_limiter(0.001, 2, url=url, deployment=("secrets-test",), name="x")
    with caplog.at_level(logging.DEBUG):
        limiter.allow("a")
    assert "cannot be reached" in caplog.text
    assert "127.0.0.1:1" in caplog.text
    assert_absent(caplog.text, redis_password=secret)
