"""OAuth 2.0 access tokens against panva/jose: tokens it mints as an external authorization
server open the issuer's VC API, and it verifies the built-in token endpoint's tokens as an
independent resource server would (RFC 9068)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from issuer_app import create_app, issuer_of
from tests.interop.node import run_peer
from tests.issuer.conftest import PUBLIC_URL, Clock, credential, dispose, make_config
from vcred_service.oauth import OAuthConfig, TrustedIssuer
from vcred_service.oauth_clients import OAuthClients

pytestmark = pytest.mark.interop

AS = "https://as.customs.example"


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def make_app(tmp_path: Path, clock: Clock) -> Iterator[Callable[..., Flask]]:
    """Issuer apps on SQLite with an OAuth configuration."""
    made: list[Flask] = []

    def make(oauth: OAuthConfig) -> Flask:
        app = create_app(
            make_config(tmp_path / f"data{len(made)}", "sqlite", clock=clock, oauth=oauth)
        )
        made.append(app)
        return app

    yield make
    for app in made:
        dispose(app, drop=False)


def claims(clock: Clock, **extra: Any) -> dict[str, Any]:
    now = int(clock.now.timestamp())
    return {
        "iss": AS,
        "sub": "broker-7",
        "aud": PUBLIC_URL,
        "client_id": "broker-7",
        "scope": "issue",
        "iat": now,
        "exp": now + 300,
        "jti": "jose-1",
        **extra,
    }


def app_trusting(make_app: Callable[..., Flask], tmp_path: Path, jwks: dict[str, Any]) -> Flask:
    path = tmp_path / "jose-jwks.json"
    path.write_text(json.dumps(jwks))
    config = OAuthConfig(audience=PUBLIC_URL, issuers=(TrustedIssuer(issuer=AS, jwks=str(path)),))
    return make_app(config)


@pytest.mark.parametrize("alg", ["EdDSA", "ES256", "ES384"])
def test_a_token_jose_mints_opens_the_vc_api(
    make_app: Callable[..., Flask], tmp_path: Path, clock: Clock, alg: str
) -> None:
    minted = run_peer(
        "oauth_peer.mjs", {"action": "mint", "alg": alg, "kid": "as-1", "claims": claims(clock)}
    )
    app = app_trusting(make_app, tmp_path, minted["jwks"])
    answer = app.test_client().post(
        "/credentials/issue",
        json={"credential": credential()},
        headers={"Authorization": f"Bearer {minted['token']}"},
    )
    assert answer.status_code == 201, answer.get_json()


def test_a_token_jose_mints_for_another_audience_is_refused(
    make_app: Callable[..., Flask], tmp_path: Path, clock: Clock
) -> None:
    minted = run_peer(
        "oauth_peer.mjs",
        {
            "action": "mint",
            "alg": "ES256",
            "kid": "as-1",
            "claims": claims(clock, aud="https://else.example"),
        },
    )
    app = app_trusting(make_app, tmp_path, minted["jwks"])
    answer = app.test_client().post(
        "/credentials/issue",
        json={"credential": credential()},
        headers={"Authorization": f"Bearer {minted['token']}"},
    )
    assert answer.status_code == 401
    assert answer.get_json()["code"] == "INVALID_DOMAIN"


def test_jose_verifies_the_token_endpoints_tokens(
    make_app: Callable[..., Flask], clock: Clock
) -> None:
    app = make_app(OAuthConfig(audience=PUBLIC_URL, token_endpoint=True))
    issuer = issuer_of(app)
    made = OAuthClients(issuer.store.engine, prefix=issuer.config.table_prefix).register(
        ["status"], label="jose", created="t"
    )
    http = app.test_client()
    token = http.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": made.client_id,
            "client_secret": made.secret,
        },
    ).get_json()["access_token"]
    jwks = http.get("/oauth/jwks.json").get_json()
    answer = run_peer(
        "oauth_peer.mjs",
        {
            "action": "verify",
            "token": token,
            "jwks": jwks,
            "issuer": PUBLIC_URL,
            "audience": PUBLIC_URL,
            "now": clock.now.timestamp(),
        },
    )
    assert answer["verified"], answer
    assert answer["header"]["typ"] == "at+jwt"
    assert (answer["payload"]["client_id"], answer["payload"]["scope"]) == (
        made.client_id,
        "status",
    )
    wrong = run_peer(
        "oauth_peer.mjs",
        {
            "action": "verify",
            "token": token,
            "jwks": jwks,
            "issuer": PUBLIC_URL,
            "audience": "https://else.example",
            "now": clock.now.timestamp(),
        },
    )
    assert not wrong["verified"]
    assert wrong["error"] == "ERR_JWT_CLAIM_VALIDATION_FAILED"
