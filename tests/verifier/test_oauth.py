"""OAuth 2.0 on the verifier's VC API: open without it (DESIGN §6); with it, verification calls
need an access token with the ``verify`` scope (RFC 9068, RFC 6750), on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask

from tests.verifier.conftest import NOW, PG_URL, MakeApp
from vcred.cli import main
from vcred.errors import UsageError
from vcred.jose import sign_compact
from vcred.keys import KeyPair, LocalSigner
from vcred_service.oauth import OAuthConfig, TrustedIssuer
from vcred_service.oauth_clients import NewClient, OAuthClients
from verifier_app import VerifierConfig

AUDIENCE = "https://verifier.eu-customs.example"
AS = "https://as.eu-customs.example"


@pytest.fixture(scope="module")
def as_key() -> KeyPair:
    return KeyPair.generate("ed25519")


@pytest.fixture
def oauth_config(tmp_path: Path, as_key: KeyPair) -> OAuthConfig:
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps({"keys": [{**as_key.public.jwk(), "kid": "k"}]}))
    return OAuthConfig(
        audience=AUDIENCE, token_endpoint=True, issuers=(TrustedIssuer(issuer=AS, jwks=str(jwks)),)
    )


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def oauth_app(
    request: pytest.FixtureRequest, make_app: MakeApp, oauth_config: OAuthConfig
) -> Iterator[Flask]:
    options: dict[str, Any] = {"oauth": oauth_config}
    if request.param == "postgres":
        options.update(database_url=PG_URL, table_prefix=f"v{secrets.token_hex(5)}_")
    app = make_app(**options)
    yield app
    if request.param == "postgres":
        clients_of(app).drop()
        app.extensions["vcred_verifier"].storage.drop()


def clients_of(app: Flask) -> OAuthClients:
    storage = app.extensions["vcred_verifier"].storage
    return OAuthClients(storage.engine, prefix=storage.prefix)


def token_for(app: Flask, made: NewClient) -> str:
    answer = app.test_client().post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": made.client_id,
            "client_secret": made.secret,
        },
    )
    assert answer.status_code == 200, answer.get_json()
    return str(answer.get_json()["access_token"])


def as_token(key: KeyPair, **claims: Any) -> str:
    now = int(NOW.timestamp())
    payload = {
        "iss": AS,
        "sub": "border-system",
        "aud": AUDIENCE,
        "client_id": "border-system",
        "scope": "verify",
        "iat": now,
        "exp": now + 300,
        "jti": secrets.token_hex(4),
        **claims,
    }
    return sign_compact(payload, LocalSigner(key, key_id="k"), typ="at+jwt")


def challenge(app: Flask, token: str | None) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return app.test_client().post("/challenges", headers=headers)


def test_without_oauth_the_vc_api_stays_open(app: Flask) -> None:
    assert app.test_client().post("/challenges").status_code == 201
    assert app.test_client().post("/oauth/token").status_code == 404


def test_a_token_with_verify_opens_the_vc_api(oauth_app: Flask) -> None:
    made = clients_of(oauth_app).register(["verify"], label="border", created="t")
    answer = challenge(oauth_app, token_for(oauth_app, made))
    assert answer.status_code == 201
    assert answer.get_json()["domain"] == "verifier.eu-customs.example"


def test_no_token_is_refused_with_a_challenge(oauth_app: Flask) -> None:
    answer = challenge(oauth_app, None)
    assert answer.status_code == 401
    assert answer.mimetype == "application/problem+json"
    header = answer.headers["WWW-Authenticate"]
    assert header.startswith('Bearer realm="vcred-verifier"')
    assert 'scope="verify"' in header
    assert f'resource_metadata="{AUDIENCE}/.well-known/oauth-protected-resource"' in header
    verify = oauth_app.test_client().post("/credentials/verify", json={"verifiableCredential": {}})
    assert verify.status_code == 401


def test_health_and_the_api_description_stay_public(oauth_app: Flask) -> None:
    assert oauth_app.test_client().get("/health").status_code == 200
    assert oauth_app.test_client().get("/openapi.json").status_code == 200


def test_external_token_opens_the_vc_api(oauth_app: Flask, as_key: KeyPair) -> None:
    assert challenge(oauth_app, as_token(as_key)).status_code == 201


def test_wrong_scope_is_refused(oauth_app: Flask, as_key: KeyPair) -> None:
    answer = challenge(oauth_app, as_token(as_key, scope="issue status"))
    assert answer.status_code == 403
    assert 'error="insufficient_scope"' in answer.headers["WWW-Authenticate"]
    assert answer.get_json()["code"] == "INSUFFICIENT_SCOPE"


def test_wrong_audience_is_refused(oauth_app: Flask, as_key: KeyPair) -> None:
    answer = challenge(oauth_app, as_token(as_key, aud="https://issuer.us-customs.example"))
    assert answer.status_code == 401
    assert 'error="invalid_token"' in answer.headers["WWW-Authenticate"]
    assert answer.get_json()["code"] == "INVALID_DOMAIN"


def test_expired_token_is_refused(oauth_app: Flask, as_key: KeyPair) -> None:
    answer = challenge(oauth_app, as_token(as_key, exp=int(NOW.timestamp()) - 60))
    assert answer.status_code == 401
    assert answer.get_json()["code"] == "EXPIRED"


def test_unknown_client_and_bad_secret_are_refused(oauth_app: Flask) -> None:
    made = clients_of(oauth_app).register(["verify"], label="border", created="t")
    http = oauth_app.test_client()
    for client_id, secret in (("vcc_00000000000000ff", made.secret), (made.client_id, "guess")):
        answer = http.post(
            "/oauth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": client_id,
                "client_secret": secret,
            },
        )
        assert answer.status_code == 401
        assert answer.get_json()["error"] == "invalid_client"


def test_cli_registers_a_verifier_client(oauth_app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    storage = oauth_app.extensions["vcred_verifier"].storage
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("VCRED_VERIFIER_TABLE_PREFIX", storage.prefix)
    args = ["--data-dir", str(oauth_app.extensions["vcred_verifier"].config.data_dir)]
    if storage.url.startswith("postgresql"):
        args += ["--database-url", storage.url]
    made = CliRunner().invoke(main, ["verifier", "client", "create", *args])
    assert made.exit_code == 0, made.output
    lines = dict(line.split("=", 1) for line in made.stdout.splitlines() if "=" in line)
    client = NewClient(
        client_id=lines["client_id"], secret=lines["client_secret"], scopes=("verify",)
    )
    assert challenge(oauth_app, token_for(oauth_app, client)).status_code == 201
    refused = CliRunner().invoke(main, ["verifier", "client", "create", "--scope", "issue", *args])
    assert refused.exit_code == 2
    assert "unknown scope 'issue'" in refused.stderr


def test_config_from_env_needs_the_audience(tmp_path: Path) -> None:
    env = {"VCRED_VERIFIER_DATA_DIR": str(tmp_path), "VCRED_VERIFIER_OAUTH_TOKEN_ENDPOINT": "1"}
    with pytest.raises(UsageError, match="VCRED_VERIFIER_OAUTH_AUDIENCE"):
        VerifierConfig.from_env(env)
    env["VCRED_VERIFIER_OAUTH_AUDIENCE"] = AUDIENCE
    config = VerifierConfig.from_env(env)
    assert config.oauth is not None and config.oauth.audience == AUDIENCE


#: The documented operations that stay public with OAuth configured: health, this document,
#: and the wallet's two OpenID4VP calls (bound by the request's nonce and state instead).
PUBLIC_OPERATIONS = {
    ("/health", "get"),
    ("/oid4vp/requests/{transaction}/object", "get"),
    ("/oid4vp/responses/{transaction}", "post"),
    ("/openapi.json", "get"),
}


def test_the_api_description_says_which_calls_need_a_token(oauth_app: Flask) -> None:
    document = oauth_app.test_client().get("/openapi.json").get_json()
    scheme = document["components"]["securitySchemes"]["oauth"]
    assert (scheme["type"], scheme["scheme"], scheme["bearerFormat"]) == ("http", "bearer", "JWT")
    assert f"{AUDIENCE}/oauth/token" in scheme["description"]
    for path, method, scope in (
        ("/credentials/verify", "post", "verify"),
        ("/credentials/verify-batch", "post", "verify"),
        ("/presentations/verify", "post", "verify"),
        ("/challenges", "post", "verify"),
        ("/oid4vp/requests", "post", "verify"),
        ("/oid4vp/requests/{transaction}", "get", "verify"),
        ("/recognitions", "get", "recognitions"),
        ("/recognitions/query", "post", "recognitions"),
    ):
        operation = document["paths"][path][method]
        # OpenAPI 3.1 §4.8.30: a non-OAuth2 scheme's array may name the roles (our scopes)
        assert operation["security"] == [{"oauth": [scope]}]
        assert {"401", "403"} <= set(operation["responses"])
    assert "security" not in document["paths"]["/health"]["get"]


def test_every_documented_call_but_the_public_ones_needs_a_token(oauth_app: Flask) -> None:
    # was: POST /credentials/verify-batch verified (and signed receipts) for anyone
    client = oauth_app.test_client()
    document = client.get("/openapi.json").get_json()
    operations = [
        (path, method, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
    ]
    for path, method, operation in operations:
        if (path, method) in PUBLIC_OPERATIONS:
            assert "security" not in operation, path
            continue
        assert "security" in operation, f"{method.upper()} {path} says no token is needed"
        url = path.replace("{transaction}", "unknown")
        answer = client.open(url, method=method.upper(), json={})
        assert answer.status_code == 401, f"{method.upper()} {path}: {answer.status_code}"
        assert answer.headers["WWW-Authenticate"].startswith("Bearer ")


def test_offline_a_jwks_url_is_refused(tmp_path: Path) -> None:
    fetched = OAuthConfig(
        audience=AUDIENCE, issuers=(TrustedIssuer(issuer=AS, jwks=f"{AS}/jwks.json"),)
    )
    with pytest.raises(UsageError, match="offline"):
        VerifierConfig(data_dir=tmp_path, offline=True, oauth=fetched)
