"""OAuth 2.0 on the issuer's VC API: the built-in token endpoint (client credentials, RFC 6749
§4.4) and access tokens from an external authorization server (RFC 9068), beside API tokens.
Every refusal has its test, on SQLite and PostgreSQL where clients are stored."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from issuer_app import issuer_of
from issuer_app.hashing import ADMIN_INCLUDES, SCOPES
from tests.issuer.conftest import PASSPHRASE, PUBLIC_URL, Clock, auth, credential
from vcred.cli import main
from vcred.jose import compact_json, sign_compact
from vcred.keys import KeyPair, LocalSigner
from vcred.multibase import b64url_encode
from vcred_service.oauth import OAuthConfig, TrustedIssuer
from vcred_service.oauth_clients import NewClient, OAuthClients

AS = "https://as.customs.example"
BUILTIN = OAuthConfig(audience=PUBLIC_URL, token_endpoint=True)


def clients_of(app: Flask) -> OAuthClients:
    issuer = issuer_of(app)
    return OAuthClients(issuer.store.engine, prefix=issuer.config.table_prefix)


def register(app: Flask, *scopes: str) -> NewClient:
    return clients_of(app).register(scopes or ("issue", "status"), label="test", created="t")


def basic(client_id: str, secret: str) -> dict[str, str]:
    pair = f"{quote_plus(client_id)}:{quote_plus(secret)}".encode()
    return {"Authorization": "Basic " + base64.b64encode(pair).decode()}


def get_token(http: FlaskClient, made: NewClient, **form: str) -> Any:
    return http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", **form},
        headers=basic(made.client_id, made.secret),
    )


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def issue(http: FlaskClient, headers: dict[str, str]) -> Any:
    return http.post("/credentials/issue", json={"credential": credential()}, headers=headers)


def assert_refused(answer: Any, status: int, error: str) -> None:
    assert answer.status_code == status, answer.get_json()
    assert answer.mimetype == "application/problem+json"
    assert answer.get_json()["status"] == status
    assert f'error="{error}"' in answer.headers["WWW-Authenticate"]
    assert answer.headers["WWW-Authenticate"].startswith('Bearer realm="vcred-issuer"')


@pytest.fixture
def make_app(make_app: Callable[..., Flask]) -> Iterator[Callable[..., Flask]]:
    """The issuer apps of conftest, whose client tables are dropped after the test."""
    made: list[Flask] = []

    def make(backend: str = "sqlite", **overrides: Any) -> Flask:
        app = make_app(backend, **overrides)
        made.append(app)
        return app

    yield make
    for app in made:
        clients_of(app).drop()


@pytest.fixture
def oauth_app(make_app: Callable[..., Flask], backend: str) -> Flask:
    return make_app(backend, oauth=BUILTIN)


# -- the built-in token endpoint --------------------------------------------------------------


def test_client_secret_basic_gets_a_token_that_issues(oauth_app: Flask) -> None:
    http = oauth_app.test_client()
    made = register(oauth_app)
    answer = get_token(http, made)
    assert answer.status_code == 200
    assert answer.headers["Cache-Control"] == "no-store"
    body = answer.get_json()
    assert (body["token_type"], body["expires_in"], body["scope"]) == (
        "Bearer",
        300,
        "issue status",
    )
    issued = issue(http, bearer(body["access_token"]))
    assert issued.status_code == 201, issued.get_json()


def test_client_secret_post_gets_a_token(oauth_app: Flask) -> None:
    http = oauth_app.test_client()
    made = register(oauth_app, "status")
    answer = http.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": made.client_id,
            "client_secret": made.secret,
        },
    )
    assert answer.status_code == 200
    assert answer.get_json()["scope"] == "status"


def test_the_token_names_the_client_in_the_audit_log(oauth_app: Flask) -> None:
    http = oauth_app.test_client()
    made = register(oauth_app)
    token = get_token(http, made).get_json()["access_token"]
    assert issue(http, bearer(token)).status_code == 201
    actors = [line["actor"] for line in issuer_of(oauth_app).store.audit_entries()]
    assert f"client:{made.client_id}" in actors


def test_a_requested_subset_of_scopes_is_granted(oauth_app: Flask) -> None:
    http = oauth_app.test_client()
    made = register(oauth_app, "issue", "status")
    answer = get_token(http, made, scope="status")
    assert answer.get_json()["scope"] == "status"
    assert_refused(
        issue(http, bearer(answer.get_json()["access_token"])), 403, "insufficient_scope"
    )


def test_unknown_client_is_refused(oauth_app: Flask) -> None:
    made = NewClient(client_id="vcc_0123456789abcdef", secret="x" * 43, scopes=("issue",))
    answer = get_token(oauth_app.test_client(), made)
    assert answer.status_code == 401
    assert answer.get_json()["error"] == "invalid_client"
    assert answer.headers["WWW-Authenticate"].startswith("Basic ")


def test_bad_secret_is_refused(oauth_app: Flask) -> None:
    made = register(oauth_app)
    last = "B" if made.secret.endswith("A") else "A"  # always another secret
    wrong = NewClient(client_id=made.client_id, secret=made.secret[:-1] + last, scopes=())
    answer = get_token(oauth_app.test_client(), wrong)
    assert answer.status_code == 401
    body = answer.get_json()
    assert (body["error"], body["code"], body["status"]) == (
        "invalid_client",
        "INVALID_CLIENT",
        401,
    )
    assert made.secret not in answer.get_data(as_text=True)


def test_revoked_client_is_refused(oauth_app: Flask) -> None:
    made = register(oauth_app)
    clients_of(oauth_app).revoke(made.client_id, at="t")
    assert get_token(oauth_app.test_client(), made).get_json()["error"] == "invalid_client"


def test_a_scope_the_client_was_not_registered_with_is_refused(oauth_app: Flask) -> None:
    made = register(oauth_app, "status")
    answer = get_token(oauth_app.test_client(), made, scope="status trust-list")
    assert answer.status_code == 400
    assert answer.get_json()["error"] == "invalid_scope"


def test_another_grant_type_is_refused(sqlite_oauth_app: Flask) -> None:
    made = register(sqlite_oauth_app)
    answer = sqlite_oauth_app.test_client().post(
        "/oauth/token", data={"grant_type": "password"}, headers=basic(made.client_id, made.secret)
    )
    assert answer.status_code == 400
    assert answer.get_json()["error"] == "unsupported_grant_type"


def test_two_client_authentication_methods_are_refused(sqlite_oauth_app: Flask) -> None:
    made = register(sqlite_oauth_app)
    answer = sqlite_oauth_app.test_client().post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": made.client_id,
            "client_secret": made.secret,
        },
        headers=basic(made.client_id, made.secret),
    )
    assert answer.get_json()["error"] == "invalid_request"


def test_a_repeated_parameter_is_refused(sqlite_oauth_app: Flask) -> None:
    made = register(sqlite_oauth_app)
    answer = sqlite_oauth_app.test_client().post(
        "/oauth/token",
        data="grant_type=client_credentials&scope=issue&scope=status",
        content_type="application/x-www-form-urlencoded",
        headers=basic(made.client_id, made.secret),
    )
    assert (answer.status_code, answer.get_json()["error"]) == (400, "invalid_request")


def test_a_json_token_request_is_refused(sqlite_oauth_app: Flask) -> None:
    made = register(sqlite_oauth_app)
    answer = sqlite_oauth_app.test_client().post(
        "/oauth/token",
        json={"grant_type": "client_credentials"},
        headers=basic(made.client_id, made.secret),
    )
    assert (answer.status_code, answer.get_json()["error"]) == (400, "invalid_request")


def test_a_token_for_another_resource_is_refused(sqlite_oauth_app: Flask) -> None:
    made = register(sqlite_oauth_app)
    answer = get_token(sqlite_oauth_app.test_client(), made, resource="https://verifier.example")
    assert answer.get_json()["error"] == "invalid_target"
    assert get_token(sqlite_oauth_app.test_client(), made, resource=PUBLIC_URL).status_code == 200


def test_malformed_basic_credentials_are_refused(sqlite_oauth_app: Flask) -> None:
    http = sqlite_oauth_app.test_client()
    for value in ("Basic !!!", "Basic " + base64.b64encode(b"no-colon").decode(), "Digest x"):
        answer = http.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            headers={"Authorization": value},
        )
        assert (answer.status_code, answer.get_json()["error"]) == (401, "invalid_client")


@pytest.fixture
def sqlite_oauth_app(make_app: Callable[..., Flask]) -> Flask:
    return make_app("sqlite", oauth=BUILTIN)


# -- access tokens at the VC API --------------------------------------------------------------


def test_expired_token_is_refused(oauth_app: Flask, clock: Clock) -> None:
    http = oauth_app.test_client()
    token = get_token(http, register(oauth_app)).get_json()["access_token"]
    clock.advance(seconds=300 + 31)
    answer = issue(http, bearer(token))
    assert_refused(answer, 401, "invalid_token")
    assert answer.get_json()["code"] == "EXPIRED"


def test_wrong_scope_is_refused(oauth_app: Flask) -> None:
    http = oauth_app.test_client()
    token = get_token(http, register(oauth_app, "status")).get_json()["access_token"]
    answer = issue(http, bearer(token))
    assert_refused(answer, 403, "insufficient_scope")
    assert 'scope="issue"' in answer.headers["WWW-Authenticate"]


def test_admin_scope_includes_issue_as_for_api_tokens(sqlite_oauth_app: Flask) -> None:
    http = sqlite_oauth_app.test_client()
    token = get_token(http, register(sqlite_oauth_app, "admin")).get_json()["access_token"]
    assert issue(http, bearer(token)).status_code == 201


def test_api_tokens_keep_working_with_oauth_on(sqlite_oauth_app: Flask) -> None:
    assert issue(sqlite_oauth_app.test_client(), auth(sqlite_oauth_app, "issue")).status_code == 201


def test_a_token_of_another_issuer_app_is_refused(make_app: Callable[..., Flask]) -> None:
    """Two issuers, each with its own token endpoint: one's token is not the other's."""
    first = make_app("sqlite", oauth=BUILTIN)
    second = make_app("sqlite", oauth=BUILTIN)
    token = get_token(first.test_client(), register(first)).get_json()["access_token"]
    answer = issue(second.test_client(), bearer(token))
    assert_refused(answer, 401, "invalid_token")
    assert answer.get_json()["code"] == "UNKNOWN_KEY"  # its kid is the other key's thumbprint


@pytest.mark.postgres
def test_workers_sharing_postgresql_accept_each_others_tokens(
    make_app: Callable[..., Flask],
) -> None:
    first = make_app("postgres", oauth=BUILTIN)
    prefix = issuer_of(first).config.table_prefix
    second = make_app(
        "postgres", oauth=BUILTIN, table_prefix=prefix, data_dir=issuer_of(first).config.data_dir
    )
    made = register(first)
    token = get_token(second.test_client(), made).get_json()["access_token"]  # the client, there
    assert issue(first.test_client(), bearer(token)).status_code == 201


def test_without_oauth_a_jwt_is_an_unknown_token(make_app: Callable[..., Flask]) -> None:
    plain = make_app("sqlite")
    assert plain.test_client().post("/oauth/token").status_code == 404
    answer = issue(plain.test_client(), bearer("a.b.c"))
    assert_refused(answer, 401, "invalid_token")


# -- an external authorization server ---------------------------------------------------------


@pytest.fixture(scope="module")
def as_key() -> KeyPair:
    return KeyPair.generate("p256")


@pytest.fixture
def external_app(
    make_app: Callable[..., Flask], as_key: KeyPair, tmp_path: Path, backend: str
) -> Flask:
    jwks = tmp_path / "as-jwks.json"
    jwks.write_text(json.dumps({"keys": [{**as_key.public.jwk(), "kid": "k1"}]}))
    config = OAuthConfig(audience=PUBLIC_URL, issuers=(TrustedIssuer(issuer=AS, jwks=str(jwks)),))
    return make_app(backend, oauth=config)


def as_token(key: KeyPair, clock: Clock, **claims: Any) -> str:
    now = int(clock.now.timestamp())
    payload = {
        "iss": AS,
        "sub": "broker-7",
        "aud": PUBLIC_URL,
        "client_id": "broker-7",
        "scope": "issue",
        "iat": now,
        "exp": now + 600,
        "jti": "j-1",
        **claims,
    }
    return sign_compact(
        {k: v for k, v in payload.items() if v is not None},
        LocalSigner(key, key_id="k1"),
        typ="at+jwt",
    )


def test_a_token_of_the_external_server_issues(
    external_app: Flask, as_key: KeyPair, clock: Clock
) -> None:
    answer = issue(external_app.test_client(), bearer(as_token(as_key, clock)))
    assert answer.status_code == 201, answer.get_json()
    # it has no token endpoint of its own
    assert external_app.test_client().post("/oauth/token").status_code == 404
    metadata = external_app.test_client().get("/.well-known/oauth-protected-resource").get_json()
    assert metadata["authorization_servers"] == [AS]


def test_external_wrong_audience_is_refused(
    external_app: Flask, as_key: KeyPair, clock: Clock
) -> None:
    answer = issue(
        external_app.test_client(), bearer(as_token(as_key, clock, aud="https://other.example"))
    )
    assert_refused(answer, 401, "invalid_token")
    assert answer.get_json()["code"] == "INVALID_DOMAIN"


def test_external_unconfigured_issuer_is_refused(
    external_app: Flask, as_key: KeyPair, clock: Clock
) -> None:
    answer = issue(
        external_app.test_client(), bearer(as_token(as_key, clock, iss="https://rogue.example"))
    )
    assert_refused(answer, 401, "invalid_token")
    assert answer.get_json()["code"] == "UNTRUSTED_ISSUER"


def test_external_wrong_signature_is_refused(external_app: Flask, clock: Clock) -> None:
    answer = issue(external_app.test_client(), bearer(as_token(KeyPair.generate("p256"), clock)))
    assert_refused(answer, 401, "invalid_token")
    assert answer.get_json()["code"] == "INVALID_SIGNATURE"


def test_external_alg_none_is_refused(external_app: Flask, clock: Clock, as_key: KeyPair) -> None:
    _, payload, _ = as_token(as_key, clock).split(".")
    header = b64url_encode(compact_json({"alg": "none", "typ": "at+jwt", "kid": "k1"}))
    answer = issue(external_app.test_client(), bearer(f"{header}.{payload}."))
    assert_refused(answer, 401, "invalid_token")
    assert answer.get_json()["code"] == "UNSUPPORTED"


def test_external_expired_and_wrong_scope_are_refused(
    external_app: Flask, as_key: KeyPair, clock: Clock
) -> None:
    http = external_app.test_client()
    expired = as_token(as_key, clock, exp=int(clock.now.timestamp()) - 60)
    assert_refused(issue(http, bearer(expired)), 401, "invalid_token")
    assert_refused(
        issue(http, bearer(as_token(as_key, clock, scope="status"))), 403, "insufficient_scope"
    )


def test_repeated_bad_tokens_are_slowed_down(
    make_app: Callable[..., Flask], as_key: KeyPair, clock: Clock
) -> None:
    app = make_app("sqlite", oauth=BUILTIN, auth_failure_rate=0.001, auth_failure_burst=2)
    http = app.test_client()
    forged = as_token(as_key, clock)
    statuses = [issue(http, bearer(forged)).status_code for _ in range(3)]
    assert statuses == [401, 401, 429]


# -- metadata and the CLI ---------------------------------------------------------------------


def test_the_token_endpoint_publishes_its_metadata_and_keys(sqlite_oauth_app: Flask) -> None:
    http = sqlite_oauth_app.test_client()
    metadata = http.get("/.well-known/oauth-authorization-server").get_json()
    assert metadata["issuer"] == PUBLIC_URL
    assert metadata["token_endpoint"] == PUBLIC_URL + "/oauth/token"
    assert metadata["token_endpoint_auth_methods_supported"] == [
        "client_secret_basic",
        "client_secret_post",
    ]
    assert metadata["scopes_supported"] == ["issue", "status", "admin", "trust-list"]
    jwks = http.get("/oauth/jwks.json")
    assert jwks.mimetype == "application/jwk-set+json"
    (key,) = jwks.get_json()["keys"]
    assert (key["kty"], key["alg"], key["use"]) == ("OKP", "EdDSA", "sig")
    assert "d" not in key


def test_cli_creates_lists_and_revokes_clients(
    sqlite_oauth_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VCRED_ISSUER_PASSPHRASE", PASSPHRASE)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    data_dir = str(issuer_of(sqlite_oauth_app).config.data_dir)
    runner = CliRunner()
    made = runner.invoke(
        main,
        [
            "issuer",
            "client",
            "create",
            "--scope",
            "issue",
            "--label",
            "broker",
            "--data-dir",
            data_dir,
        ],
    )
    assert made.exit_code == 0, made.output
    lines = dict(line.split("=", 1) for line in made.stdout.splitlines() if "=" in line)
    client = NewClient(
        client_id=lines["client_id"], secret=lines["client_secret"], scopes=("issue",)
    )
    assert get_token(sqlite_oauth_app.test_client(), client).status_code == 200
    listed = runner.invoke(main, ["issuer", "client", "list", "--data-dir", data_dir])
    assert client.client_id in listed.stdout and client.secret not in listed.stdout
    revoked = runner.invoke(
        main, ["issuer", "client", "revoke", client.client_id, "--data-dir", data_dir]
    )
    assert revoked.exit_code == 0, revoked.output
    assert get_token(sqlite_oauth_app.test_client(), client).status_code == 401
    actions = [line["action"] for line in issuer_of(sqlite_oauth_app).store.audit_entries()]
    assert "client-create" in actions and "client-revoke" in actions
    unknown = runner.invoke(
        main, ["issuer", "client", "create", "--scope", "verify", "--data-dir", data_dir]
    )
    assert unknown.exit_code == 2
    assert "unknown scope 'verify'" in unknown.stderr


def test_the_api_description_names_both_token_kinds(sqlite_oauth_app: Flask) -> None:
    document = sqlite_oauth_app.test_client().get("/openapi.json").get_json()
    assert set(document["components"]["securitySchemes"]) == {"bearer", "oauth"}
    issue = document["paths"]["/credentials/issue"]["post"]
    assert issue["security"] == [{"bearer": ["issue"]}, {"oauth": ["issue"]}]


#: The documented operations anyone may call: what is published (status lists, the trust
#: list, the did:web document, this description), health, and holder derivation (it uses no
#: secret of the issuer: rate limited instead).
PUBLIC_OPERATIONS = {
    ("/credentials/derive", "post"),
    ("/status/{signer}/{listId}", "get"),
    ("/trust-lists/current", "get"),
    ("/trust-lists/{sequenceNumber}", "get"),
    ("/.well-known/did.json", "get"),
    ("/openapi.json", "get"),
    ("/health", "get"),
}
#: The API's routes left out of the description: protocols of their own, each with its own
#: credential (OpenID4VCI's pre-authorized code and access token, OAuth client credentials)
#: or none (the nonce, the offer behind its unguessable id, metadata and keys).
PROTOCOL_ROUTES = {
    "/oid4vci/token",
    "/oid4vci/nonce",
    "/oid4vci/credential",
    "/oid4vci/offers/<offer_id>",
    "/oauth/token",
    "/oauth/jwks.json",
    "/identifiers/<path:did>",
}


def operations(app: Flask) -> list[tuple[str, str, dict[str, Any]]]:
    document = app.test_client().get("/openapi.json").get_json()
    return [
        (path, method, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
    ]


def call(http: FlaskClient, path: str, method: str, headers: dict[str, str]) -> Any:
    url = path.replace("{signer}", "web").replace("{listId}", "unknown")
    return http.open(url, method=method.upper(), json={}, headers=headers)


@pytest.mark.parametrize("insecure", [False, True], ids=["tokens", "insecure-no-auth"])
def test_every_documented_call_is_held_to_the_scope_it_documents(
    make_app: Callable[..., Flask], insecure: bool
) -> None:
    # was: under --insecure-no-auth the description said POST /trust-lists/issue needs no
    # token (security: []), where it answers 401 without one
    app = make_app("sqlite", oauth=BUILTIN, insecure_no_auth=insecure, dev=insecure)
    http = app.test_client()
    for path, method, operation in operations(app):
        where = f"{method.upper()} {path}"
        if (path, method) in PUBLIC_OPERATIONS:
            assert "security" not in operation, where
            continue
        assert "security" in operation, f"{where} is neither public nor says who may call it"
        if not operation["security"]:  # --insecure-no-auth: the call is open
            assert call(http, path, method, {}).status_code not in (401, 403), where
            continue
        # each kind of token, with the same one scope
        (needed,) = {
            s for requirement in operation["security"] for v in requirement.values() for s in v
        }
        refused = call(http, path, method, {})
        assert refused.status_code == 401, f"{where} without a token: {refused.status_code}"
        assert refused.headers["WWW-Authenticate"].startswith("Bearer ")
        others = [
            s for s in SCOPES if s != needed and not (s == "admin" and needed in ADMIN_INCLUDES)
        ]
        lacking = call(http, path, method, auth(app, *others))
        assert lacking.status_code == 403, f"{where} with {others}: {lacking.status_code}"
        allowed = call(http, path, method, auth(app, needed))
        assert allowed.status_code not in (401, 403), (
            f"{where} with {needed}: {allowed.status_code}"
        )


def test_every_route_of_the_api_is_documented_or_a_protocol_of_its_own(
    sqlite_oauth_app: Flask,
) -> None:
    documented = {
        path.replace("{signer}", "<signer>")
        .replace("{listId}", "<list_id>")
        .replace("{sequenceNumber}", "<number>")
        for path, _, _ in operations(sqlite_oauth_app)
    }
    pages = ("officer.", "oid4vci_officer.", "language.", "shared.", "static")
    for rule in sqlite_oauth_app.url_map.iter_rules():
        if rule.endpoint.startswith(pages) or rule.rule.startswith("/.well-known/"):
            continue
        assert rule.rule in documented | PROTOCOL_ROUTES, f"{rule.rule} is not described"


def test_external_hs256_with_the_public_key_is_refused(
    external_app: Flask, as_key: KeyPair, clock: Clock
) -> None:
    """The public key (as published in the JWKS) used as an HMAC secret."""
    _, payload, _ = as_token(as_key, clock).split(".")
    header = b64url_encode(compact_json({"alg": "HS256", "typ": "at+jwt", "kid": "k1"}))
    secret = json.dumps({**as_key.public.jwk(), "kid": "k1"}).encode()
    mac = hmac.new(secret, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    answer = issue(external_app.test_client(), bearer(f"{header}.{payload}.{b64url_encode(mac)}"))
    assert_refused(answer, 401, "invalid_token")
    assert answer.get_json()["code"] == "UNSUPPORTED"
