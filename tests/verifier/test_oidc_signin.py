"""The verifier's officers (who read the history) signing in through the agency's OpenID
Connect provider, against panva's oidc-provider on loopback (the flow and its refusals are
tested in depth for the issuer: tests/issuer/test_oidc.py; both use vcred_service.oidc)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from tests.issuer.test_oidc import (
    CALLBACK,
    CLIENT_ID,
    CLIENT_SECRET,
    OFFICER,
    Provider,
    at_provider,
    callback,
    provider,  # noqa: F401 - the module's provider fixture
    start,
)
from tests.verifier.conftest import MakeApp
from vcred.errors import UsageError
from vcred_service.oidc import OidcSettings
from verifier_app import VerifierConfig

PASSWORD = "a long officer password"


@pytest.fixture
def app(make_app: MakeApp, provider: Provider) -> Flask:  # noqa: F811 - the fixture above
    settings = OidcSettings(
        issuer=provider.issuer, client_id=CLIENT_ID, client_secret=CLIENT_SECRET
    )
    # the provider stamps its tokens with the real time: the service reads the same
    made = make_app(oidc=settings, oidc_redirect_uri=CALLBACK, clock=lambda: datetime.now(UTC))
    made.extensions["vcred_verifier"].add_officer(OFFICER, PASSWORD)
    return made


def test_an_officer_reads_the_history_after_signing_in_at_the_provider(app: Flask) -> None:
    client = app.test_client()
    assert 'id="oidc-sign-in"' in client.get("/login").get_data(as_text=True)
    answer = callback(client, at_provider(start(client, "/recent"), "ana"))
    assert answer.status_code == 302 and answer.headers["Location"] == "/recent"
    assert client.get("/recent").status_code == 200


def test_an_unknown_officer_is_refused(app: Flask) -> None:
    client = app.test_client()
    answer = callback(client, at_provider(start(client, "/recent"), "eve"))
    assert answer.status_code == 403
    assert "no officer account" in answer.get_data(as_text=True)
    assert client.get("/recent").status_code == 302


def test_a_wrong_state_is_refused(app: Flask) -> None:
    client = app.test_client()
    args = at_provider(start(client, "/recent"), "ana")
    assert callback(client, {**args, "state": "forged"}).status_code == 400
    assert client.get("/recent").status_code == 302


def test_provider_settings_from_env(tmp_path: Path) -> None:
    env: dict[str, Any] = {
        "VCRED_VERIFIER_DATA_DIR": str(tmp_path),
        "VCRED_VERIFIER_OIDC_ISSUER": "https://login.customs.example",
        "VCRED_VERIFIER_OIDC_CLIENT_ID": "vcred-verifier",
        "VCRED_VERIFIER_OIDC_CLIENT_SECRET": "a test client secret",
        "VCRED_VERIFIER_OIDC_CLAIM": "sub",
        "VCRED_VERIFIER_OIDC_REDIRECT_URI": "https://verifier.customs.example/login/oidc/callback",
    }
    config = VerifierConfig.from_env(env)
    assert config.oidc is not None and config.oidc.claim == "sub"
    assert "a test client secret" not in repr(config)
    with pytest.raises(UsageError, match="go together"):
        VerifierConfig.from_env({**env, "VCRED_VERIFIER_OIDC_CLIENT_SECRET": ""})
    with pytest.raises(UsageError, match="redirect URI"):
        VerifierConfig.from_env({**env, "VCRED_VERIFIER_OIDC_REDIRECT_URI": ""})
    # was: alone, the claim (or the scopes) was accepted and ignored
    for name in ("VCRED_VERIFIER_OIDC_CLAIM", "VCRED_VERIFIER_OIDC_SCOPES"):
        alone = {"VCRED_VERIFIER_DATA_DIR": str(tmp_path), name: "sub"}
        with pytest.raises(UsageError, match="go together"):
            VerifierConfig.from_env(alone)
