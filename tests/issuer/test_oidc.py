"""Officers signing in through the agency's OpenID Connect provider, tested against an
independent provider on loopback: panva's ``oidc-provider`` (tests/interop/oidc_provider.mjs,
authorization code flow with PKCE required), driven with a requests session through its
login and consent pages.

The refusals each have a test: a wrong or replayed state, a callback nobody started, a wrong
nonce, an id_token that is expired, forged (another key, ``alg: none``, HMAC with the client
secret, a flipped signature byte) or for another client, an account that does not exist, an
email the provider has not verified, an answer from another issuer."""

from __future__ import annotations

import json
import re
import select
import shutil
import subprocess
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urljoin, urlsplit

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from joserfc import jwt
from joserfc.jwk import OctKey, RSAKey

from issuer_app import issuer_of
from tests.httpserver import LocalServer, local_server
from tests.interop.node import HERE as INTEROP
from tests.issuer.conftest import PUBLIC_URL, Clock
from tests.issuer.test_ui import PASSWORD, csrf_of
from vcred.errors import UsageError
from vcred.net import DEFAULT_MAX_BYTES
from vcred_service.oidc import (
    OidcClient,
    OidcRefusedError,
    OidcSettings,
    Pending,
    provider_fetcher,
)

CLIENT_ID = "vcred-issuer"
CLIENT_SECRET = "a test client secret, long enough for HS256"  # not a secret: a test value
CALLBACK = f"{PUBLIC_URL}/login/oidc/callback"
ACCOUNTS = {
    "ana": {"email": "ana@customs.example", "email_verified": True, "groups": ["supervisors"]},
    "eve": {"email": "eve@elsewhere.example", "email_verified": True, "groups": []},
    "uma": {"email": "uma@customs.example", "email_verified": False, "groups": []},
}
OFFICER = "ana@customs.example"


@dataclass(frozen=True)
class Provider:
    issuer: str


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    with oidc_provider([CALLBACK]) as running:
        yield running


@contextmanager
def oidc_provider(redirect_uris: list[str]) -> Iterator[Provider]:
    """panva's oidc-provider on a free loopback port, with this client and ACCOUNTS."""
    if shutil.which("node") is None or not (INTEROP / "node_modules" / "oidc-provider").is_dir():
        pytest.fail("node and tests/interop/node_modules (oidc-provider) are required: make test")
    settings = {
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "redirect_uris": redirect_uris,
        "accounts": ACCOUNTS,
    }
    for _ in range(_PROVIDER_STARTS):
        process = subprocess.Popen(
            ["node", str(INTEROP / "oidc_provider.mjs"), json.dumps(settings)],
            cwd=INTEROP,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert process.stdout is not None and process.stdin is not None
        # a node that never says it listens (seen once: asleep before listening) would hold
        # the test run for ever: it is stopped and started again
        if select.select([process.stdout], [], [], _PROVIDER_START_SECONDS)[0]:
            break
        process.kill()
        process.wait()
        process.stdin.close()
        process.stdout.close()
    else:
        pytest.fail(f"the OIDC provider did not start in {_PROVIDER_STARTS} tries")
    try:
        yield Provider(issuer=json.loads(process.stdout.readline())["issuer"])
    finally:
        process.stdin.close()
        process.wait(timeout=10)
        process.stdout.close()


_PROVIDER_STARTS = 3
_PROVIDER_START_SECONDS = 30.0


@pytest.fixture(autouse=True)
def _wall_clock(clock: Clock) -> None:
    """The provider stamps its tokens with the real time: the service reads the same."""
    clock.now = datetime.now(UTC)


def oidc_app(make_app: Callable[..., Flask], provider: Provider, **overrides: Any) -> Flask:
    app = make_app(
        "sqlite",
        oidc_issuer=provider.issuer,
        oidc_client_id=CLIENT_ID,
        oidc_client_secret=CLIENT_SECRET,
        **overrides,
    )
    issuer_of(app).add_officer(OFFICER, PASSWORD, actor="test")
    return app


@pytest.fixture
def app(make_app: Callable[..., Flask], provider: Provider) -> Flask:
    return oidc_app(make_app, provider)


def at_provider(url: str, login: str) -> dict[str, str]:
    """Sign in as ``login`` and consent at the provider; the query it sends back."""
    http = requests.Session()
    response = http.get(url, allow_redirects=False, timeout=10)
    for _ in range(12):
        if response.status_code in (302, 303):
            location = urljoin(response.url, response.headers["Location"])
            if location.startswith(CALLBACK):
                return dict(parse_qsl(urlsplit(location).query))
            response = http.get(location, allow_redirects=False, timeout=10)
            continue
        assert response.status_code == 200, response.text[:500]
        form = re.search(r'<form[^>]*action="([^"]+)"', response.text)
        assert form, response.text[:500]
        data = dict(
            re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', response.text)
        )
        if 'name="login"' in response.text:
            data.update(login=login, password="whatever the dev login takes")
        response = http.post(
            urljoin(response.url, form.group(1)), data=data, allow_redirects=False, timeout=10
        )
    raise AssertionError("the provider never sent the officer back")


def start(client: FlaskClient, next_path: str = "/officer/credentials") -> str:
    answer = client.get(f"/login/oidc?next={next_path}")
    assert answer.status_code == 302
    return str(answer.headers["Location"])


def callback(client: FlaskClient, args: dict[str, str]) -> Any:
    return client.get("/login/oidc/callback", query_string=args)


def cookie_name(app: Flask) -> str:
    return str(app.config["SESSION_COOKIE_NAME"]) + "_officer"


# -- signing in ------------------------------------------------------------------------------


def test_an_officer_signs_in_through_the_provider(app: Flask) -> None:
    client = app.test_client()
    login = client.get("/login").get_data(as_text=True)
    assert 'id="oidc-sign-in"' in login  # beside the password form, which stays
    url = start(client, "/officer/issue/aeo")
    query = dict(parse_qsl(urlsplit(url).query))
    assert url.startswith(issuer_of(app).config.oidc_issuer or "")
    assert query["response_type"] == "code" and query["client_id"] == CLIENT_ID
    assert query["code_challenge_method"] == "S256" and len(query["code_challenge"]) == 43
    assert query["state"] and query["nonce"] and query["redirect_uri"] == CALLBACK
    assert "openid" in query["scope"].split()

    answer = callback(client, at_provider(url, "ana"))
    assert answer.status_code == 302 and answer.headers["Location"] == "/officer/issue/aeo"
    assert client.get_cookie(cookie_name(app)) is not None
    assert client.get("/officer/issue/aeo").status_code == 200  # the account's role: officer
    assert client.get("/officer/approvals").status_code == 403
    (live,) = issuer_of(app).sessions.live()
    assert live.officer == OFFICER

    # a server-side session like any other: signing out ends it
    html = client.get("/officer/credentials").get_data(as_text=True)
    client.post("/logout", data={"csrf_token": csrf_of(html)})
    assert issuer_of(app).sessions.live() == []


def test_the_groups_claim_gives_the_role(
    make_app: Callable[..., Flask], provider: Provider
) -> None:
    app = oidc_app(
        make_app,
        provider,
        oidc_scopes="openid email groups",  # the groups claim comes with its scope
        oidc_groups_claim="groups",
        oidc_group_roles=("supervisors=supervisor", "admins=administrator"),
    )
    client = app.test_client()
    url = start(client)
    answer = callback(client, at_provider(url, "ana"))
    assert answer.status_code == 302, answer.get_data(as_text=True)
    assert issuer_of(app).roles.role(OFFICER) == "supervisor"
    assert client.get("/officer/approvals").status_code == 200
    changed = [e for e in issuer_of(app).store.audit_entries() if e["action"] == "officer-role"]
    assert changed[-1]["actor"] == "oidc" and changed[-1]["details"]["after"] == "supervisor"


# -- refusals --------------------------------------------------------------------------------


def refused(answer: Any, status: int, words: str, app: Flask, client: FlaskClient) -> None:
    assert answer.status_code == status, answer.get_data(as_text=True)[:500]
    assert words in answer.get_data(as_text=True)
    assert client.get_cookie(cookie_name(app)) is None
    assert issuer_of(app).sessions.live() == []


def test_a_wrong_state_is_refused(app: Flask) -> None:
    client = app.test_client()
    args = at_provider(start(client), "ana")
    forged = {**args, "state": args["state"][:-2] + "xx"}
    refused(callback(client, forged), 400, "not started here", app, client)
    # the flow was used up by that attempt: the right state no longer opens it either
    refused(callback(client, args), 400, "not started here", app, client)


def test_a_callback_nobody_started_is_refused(app: Flask) -> None:
    starter = app.test_client()
    args = at_provider(start(starter), "ana")
    stranger = app.test_client()  # another browser: no pending flow in its session
    refused(callback(stranger, args), 400, "not started here", app, stranger)


def test_a_refused_callback_page_does_not_repeat_the_authorization_code(app: Flask) -> None:
    # the page's language links led back to the page itself, query included: the provider's
    # code and state stood in the HTML (for a proxy's log, a screenshot, the next Referer)
    starter = app.test_client()
    args = at_provider(start(starter), "ana")
    stranger = app.test_client()
    answer = callback(stranger, args)
    assert answer.status_code == 400
    page = answer.get_data(as_text=True)
    assert args["code"] not in page
    assert args["state"] not in page
    assert 'href="/_language/' in page  # the picker is still there, leading home


def test_the_providers_refusal_is_shown_capped_and_sanitized(app: Flask) -> None:
    # RFC 6749 §4.1.2.1: the provider sends the officer back with error (and a description)
    # instead of a code; its words were shown without their description, unsanitized
    client = app.test_client()
    args = at_provider(start(client), "ana")
    denied = {
        "state": args["state"],
        "error": "access_denied\u0007",
        "error_description": "the officer said no\n" + "x" * 5000,
    }
    answer = callback(client, denied)
    refused(answer, 403, "the identity provider refused", app, client)
    page = answer.get_data(as_text=True)
    assert "access_denied?: the officer said no?" in page  # outside §5.2's characters: ?
    assert "x" * 200 in page and "x" * 400 not in page


def test_an_answer_from_another_issuer_is_refused(app: Flask) -> None:
    client = app.test_client()
    args = at_provider(start(client), "ana")
    refused(callback(client, {**args, "iss": "https://evil.example"}), 400, "another", app, client)


def test_a_wrong_nonce_is_refused(app: Flask) -> None:
    client = app.test_client()
    url = start(client)
    with client.session_transaction() as session:
        session["vcred_oidc"] = {**session["vcred_oidc"], "nonce": "not the nonce that was sent"}
    refused(callback(client, at_provider(url, "ana")), 403, "does not verify", app, client)


def test_an_unknown_officer_is_refused(app: Flask) -> None:
    client = app.test_client()
    answer = callback(client, at_provider(start(client), "eve"))
    refused(answer, 403, "no officer account", app, client)


def test_a_disabled_officer_is_refused(app: Flask) -> None:
    from sqlalchemy import update

    store = issuer_of(app).store
    with store.engine.begin() as conn:
        conn.execute(update(store.t.officers).values(disabled=True))
    client = app.test_client()
    refused(callback(client, at_provider(start(client), "ana")), 403, "no officer", app, client)


def test_an_unverified_email_is_refused(app: Flask) -> None:
    issuer_of(app).add_officer("uma@customs.example", PASSWORD, actor="test")
    client = app.test_client()
    answer = callback(client, at_provider(start(client), "uma"))
    refused(answer, 403, "not verified this email", app, client)


def test_no_mapped_group_is_refused(make_app: Callable[..., Flask], provider: Provider) -> None:
    app = oidc_app(
        make_app,
        provider,
        oidc_scopes="openid email groups",
        oidc_groups_claim="groups",
        oidc_group_roles=("admins=administrator",),
    )
    client = app.test_client()
    url = start(client)
    refused(callback(client, at_provider(url, "ana")), 403, "grants a role", app, client)


# -- the id_token, checked by the client itself ---------------------------------------------


@pytest.fixture
def genuine(provider: Provider) -> tuple[OidcClient, str, Pending]:
    """A client, and an id_token the provider really issued for it."""
    client = relying_party(provider)
    url, pending = client.begin("/")
    token = client.exchange(pending, at_provider(url, "ana"))
    return client, str(token["id_token"]), pending


def relying_party(
    provider: Provider, clock: Callable[[], datetime] | None = None, client_id: str = CLIENT_ID
) -> OidcClient:
    settings = OidcSettings(
        issuer=provider.issuer, client_id=client_id, client_secret=CLIENT_SECRET
    )
    return OidcClient(settings, redirect_uri=CALLBACK, clock=clock or (lambda: datetime.now(UTC)))


def test_the_genuine_id_token_verifies(genuine: tuple[OidcClient, str, Pending]) -> None:
    client, id_token, pending = genuine
    claims = client.verify_id_token(id_token, nonce=pending.nonce)
    assert claims["email"] == OFFICER and claims["aud"] == CLIENT_ID


def test_an_expired_id_token_is_refused(
    genuine: tuple[OidcClient, str, Pending], provider: Provider
) -> None:
    _, id_token, pending = genuine
    later = relying_party(provider, clock=lambda: datetime.now(UTC) + timedelta(hours=2))
    with pytest.raises(OidcRefusedError) as refused:
        later.verify_id_token(id_token, nonce=pending.nonce)
    assert refused.value.code == "OIDC_ID_TOKEN"


def test_an_id_token_for_another_client_is_refused(
    genuine: tuple[OidcClient, str, Pending], provider: Provider
) -> None:
    _, id_token, pending = genuine
    with pytest.raises(OidcRefusedError, match="does not verify"):
        relying_party(provider, client_id="another-client").verify_id_token(
            id_token, nonce=pending.nonce
        )


def test_a_replayed_id_token_with_another_nonce_is_refused(
    genuine: tuple[OidcClient, str, Pending],
) -> None:
    client, id_token, _ = genuine
    with pytest.raises(OidcRefusedError, match="does not verify"):
        client.verify_id_token(id_token, nonce="the nonce of another sign-in")


def _forged_claims(provider: Provider, nonce: str) -> dict[str, Any]:
    now = int(datetime.now(UTC).timestamp())
    return {
        "iss": provider.issuer,
        "sub": "ana",
        "aud": CLIENT_ID,
        "exp": now + 600,
        "iat": now,
        "nonce": nonce,
        "email": OFFICER,
        "email_verified": True,
    }


def test_an_id_token_signed_with_another_key_is_refused(
    genuine: tuple[OidcClient, str, Pending], provider: Provider
) -> None:
    client, _, pending = genuine
    mine = RSAKey.generate_key(2048, parameters={"kid": "provider-rs256"})
    forged = jwt.encode(
        {"alg": "RS256", "kid": "provider-rs256"}, _forged_claims(provider, pending.nonce), mine
    )
    with pytest.raises(OidcRefusedError, match="does not verify"):
        client.verify_id_token(forged, nonce=pending.nonce)


def test_an_id_token_with_alg_none_or_hmac_is_refused(
    genuine: tuple[OidcClient, str, Pending], provider: Provider
) -> None:
    client, _, pending = genuine
    claims = _forged_claims(provider, pending.nonce)
    secret = OctKey.import_key(CLIENT_SECRET.encode())
    hmac_token = jwt.encode({"alg": "HS256"}, claims, secret)
    header, payload, _ = hmac_token.split(".")
    none_token = ".".join(
        [
            "eyJhbGciOiJub25lIn0",  # {"alg":"none"}
            payload,
            "",
        ]
    )
    for forged in (hmac_token, none_token, f"{header}.{payload}."):
        with pytest.raises(OidcRefusedError, match="does not verify"):
            client.verify_id_token(forged, nonce=pending.nonce)


def test_an_id_token_with_a_flipped_signature_byte_is_refused(
    genuine: tuple[OidcClient, str, Pending],
) -> None:
    client, id_token, pending = genuine
    head, body, signature = id_token.split(".")
    flipped = signature[:10] + ("A" if signature[10] != "A" else "B") + signature[11:]
    with pytest.raises(OidcRefusedError, match="does not verify"):
        client.verify_id_token(f"{head}.{body}.{flipped}", nonce=pending.nonce)


# -- settings --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"issuer": "http://idp.example"}, "must be an https URL"),
        ({"algorithms": ("RS256", "HS256")}, "asymmetric"),
        ({"scopes": "email"}, "must include openid"),
        ({"claim": "name"}, "email or sub"),
        ({"group_roles": ("admins=administrator",)}, "need the groups claim"),
        ({"groups_claim": "groups", "group_roles": ("admins=root",)}, "unknown role"),
    ],
)
def test_unsafe_provider_settings_are_refused(changes: dict[str, Any], message: str) -> None:
    values: dict[str, Any] = {
        "issuer": "https://idp.example",
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        **changes,
    }
    with pytest.raises(UsageError, match=message):
        OidcSettings(**values)


def test_an_incomplete_provider_configuration_is_refused(
    make_app: Callable[..., Flask],
) -> None:
    with pytest.raises(UsageError, match="the issuer, the client id and the client secret"):
        make_app("sqlite", oidc_issuer="https://idp.example", oidc_client_id=CLIENT_ID)


def test_without_a_provider_there_is_no_provider_sign_in(sqlite_app: Flask) -> None:
    client = sqlite_app.test_client()
    assert 'id="oidc-sign-in"' not in client.get("/login").get_data(as_text=True)
    assert client.get("/login/oidc").status_code == 404
    assert client.get("/login/oidc/callback?state=x&code=y").status_code == 404


def test_an_account_without_a_password_signs_in_only_through_the_provider(
    make_app: Callable[..., Flask], provider: Provider
) -> None:
    app = make_app(
        "sqlite",
        oidc_issuer=provider.issuer,
        oidc_client_id=CLIENT_ID,
        oidc_client_secret=CLIENT_SECRET,
    )
    issuer_of(app).add_officer(OFFICER, None, actor="test")
    client = app.test_client()
    for guess in ("!", "", PASSWORD):
        token = csrf_of(client.get("/login").get_data(as_text=True))
        answer = client.post(
            "/login", data={"name": OFFICER, "password": guess, "csrf_token": token}
        )
        assert answer.status_code == 200 and "wrong password" in answer.get_data(as_text=True)
    assert callback(client, at_provider(start(client), "ana")).status_code == 302
    assert client.get("/officer/credentials").status_code == 200


def test_an_unreachable_provider_is_said_not_crashed(make_app: Callable[..., Flask]) -> None:
    app = make_app(
        "sqlite",
        oidc_issuer=f"http://127.0.0.1:{closed_port()}",
        oidc_client_id=CLIENT_ID,
        oidc_client_secret=CLIENT_SECRET,
    )
    answer = app.test_client().get("/login/oidc")
    assert answer.status_code == 502
    assert "cannot be reached" in answer.get_data(as_text=True)


def sign_in_against(make_app: Callable[..., Flask], discovery: Callable[[str], Any]) -> Any:
    """GET /login/oidc of an issuer whose provider on loopback answers ``discovery(origin)``."""
    with local_server() as server:
        server.routes["/.well-known/openid-configuration"] = (
            200,
            {"Content-Type": "application/json"},
            json.dumps(discovery(server.origin)).encode(),
        )
        app = make_app(
            "sqlite",
            oidc_issuer=server.origin,
            oidc_client_id=CLIENT_ID,
            oidc_client_secret=CLIENT_SECRET,
        )
        return app.test_client().get("/login/oidc")


def test_a_discovery_document_of_another_issuer_is_refused(
    make_app: Callable[..., Flask],
) -> None:
    answer = sign_in_against(
        make_app,
        lambda origin: {
            "issuer": "https://evil.example",
            "authorization_endpoint": f"{origin}/auth",
            "token_endpoint": f"{origin}/token",
            "jwks_uri": f"{origin}/jwks",
        },
    )
    assert answer.status_code == 502
    assert "names another issuer" in answer.get_data(as_text=True)


def test_an_oversized_discovery_document_is_refused_unread(
    make_app: Callable[..., Flask],
) -> None:
    """The provider's documents are read up to the fetch limit (vcred.net), not to the end."""
    answer = sign_in_against(
        make_app, lambda origin: {"issuer": origin, "pad": "x" * (DEFAULT_MAX_BYTES * 20)}
    )
    assert answer.status_code == 502
    assert "larger than" in answer.get_data(as_text=True)


# -- the token endpoint's answer, read within the limits of every fetch ----------------------


def serve_discovery(server: LocalServer) -> None:
    """The provider's discovery document, its endpoints at /auth, /token and /jwks."""
    server.serve(
        "/.well-known/openid-configuration",
        json.dumps(
            {
                "issuer": server.origin,
                "authorization_endpoint": f"{server.origin}/auth",
                "token_endpoint": f"{server.origin}/token",
                "jwks_uri": f"{server.origin}/jwks",
            }
        ).encode(),
        Content_Type="application/json",
    )


@contextmanager
def provider_at_loopback(make_app: Callable[..., Flask]) -> Iterator[tuple[Flask, LocalServer]]:
    """An issuer whose provider is a local server publishing its discovery document (its
    endpoints at /auth, /token and /jwks, which the test serves as it likes)."""
    with local_server() as server:
        serve_discovery(server)
        app = make_app(
            "sqlite",
            oidc_issuer=server.origin,
            oidc_client_id=CLIENT_ID,
            oidc_client_secret=CLIENT_SECRET,
        )
        yield app, server


def returned_with_a_code(client: FlaskClient) -> Any:
    """The callback as the provider would send the officer back: this sign-in's state, a code."""
    state = dict(parse_qsl(urlsplit(start(client)).query))["state"]
    return callback(client, {"state": state, "code": "a-code"})


def test_a_token_endpoint_sending_a_huge_body_is_refused(
    make_app: Callable[..., Flask],
) -> None:
    with provider_at_loopback(make_app) as (app, server):
        server.serve("/token", b'{"pad": "' + b"x" * (DEFAULT_MAX_BYTES * 20) + b'"}')
        client = app.test_client()
        answer = returned_with_a_code(client)
        refused(answer, 403, "did not exchange the code", app, client)
        assert "larger than" in answer.get_data(as_text=True)
        assert "/token" in server.hits


@pytest.mark.parametrize("status", [400, 401])
def test_a_token_endpoint_error_is_shown_to_the_operator(
    make_app: Callable[..., Flask], status: int
) -> None:
    """RFC 6749 §5.2: a refused exchange is a 400 (401 for the client's authentication) whose
    JSON body says why; the operator read only "answered 400" and had to ask the provider."""
    with provider_at_loopback(make_app) as (app, server):
        error = {"error": "invalid_grant", "error_description": "grant request is invalid"}
        server.serve("/token", json.dumps(error).encode(), status=status)
        client = app.test_client()
        answer = returned_with_a_code(client)
        refused(answer, 403, "did not exchange the code", app, client)
        page = answer.get_data(as_text=True)
        assert "invalid_grant" in page
        assert "grant request is invalid" in page


def test_a_token_endpoint_error_is_capped_sanitized_and_never_says_a_secret(
    make_app: Callable[..., Flask],
) -> None:
    """A provider's error text is the provider's words: it may echo what it was sent (the
    client secret, the code, the PKCE verifier), hold controls or a novel."""
    with provider_at_loopback(make_app) as (app, server):
        error = {
            "error": "invalid_client\u0007",
            "error_description": f"secret {CLIENT_SECRET!r} for code a-code\nrefused " + "x" * 5000,
        }
        server.serve("/token", json.dumps(error).encode(), status=401)
        client = app.test_client()
        answer = returned_with_a_code(client)  # the code: "a-code"
        refused(answer, 403, "did not exchange the code", app, client)
        page = answer.get_data(as_text=True)
        assert CLIENT_SECRET not in page and "code a-code" not in page
        # the newline and the bell are outside RFC 6749 §5.2's characters
        assert "invalid_client?: secret" in page and "code [redacted]?refused" in page
        assert "x" * 200 in page and "x" * 400 not in page


def test_a_token_endpoint_error_that_is_not_json_says_its_status(
    make_app: Callable[..., Flask],
) -> None:
    with provider_at_loopback(make_app) as (app, server):
        server.serve("/token", b"<html>Bad Request</html>", status=400)
        client = app.test_client()
        answer = returned_with_a_code(client)
        refused(answer, 403, "did not exchange the code", app, client)
        assert "answered 400" in answer.get_data(as_text=True)


@pytest.mark.slow  # the service's own deadline for the exchange: 10 s
def test_a_token_endpoint_dripping_bytes_is_cut_at_the_deadline(
    make_app: Callable[..., Flask],
) -> None:
    # one byte every 20 ms never trips a per-read timeout: read without a deadline for the
    # whole answer, such a provider held the officer's request (and a worker) for as long as
    # it liked. It stops on its own after two minutes; the sign-in must have ended before.
    released = threading.Event()
    safety = threading.Timer(120.0, released.set)
    safety.start()
    try:
        with provider_at_loopback(make_app) as (app, server):
            server.trickle["/token"] = ("body", released)
            client = app.test_client()
            answer = returned_with_a_code(client)
            assert not released.is_set()  # it gave up while the provider was still dripping
            refused(answer, 403, "did not exchange the code", app, client)
            assert "took longer than" in answer.get_data(as_text=True)
    finally:
        released.set()
        safety.cancel()


def test_a_dripping_discovery_document_is_cut_at_the_deadline() -> None:
    released = threading.Event()
    safety = threading.Timer(60.0, released.set)
    safety.start()
    try:
        with local_server() as server:
            server.trickle["/.well-known/openid-configuration"] = ("body", released)
            settings = OidcSettings(
                issuer=server.origin, client_id=CLIENT_ID, client_secret=CLIENT_SECRET
            )
            client = OidcClient(
                settings,
                redirect_uri=CALLBACK,
                clock=lambda: datetime.now(UTC),
                fetcher=provider_fetcher(deadline=0.5),
            )
            with pytest.raises(OidcRefusedError, match="took longer than") as caught:
                client.metadata()
            assert not released.is_set()
            assert caught.value.code == "OIDC_PROVIDER"
    finally:
        released.set()
        safety.cancel()


def closed_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])  # closed again when the block ends


def test_an_unreadable_jwks_answer_is_not_kept(clock: Clock) -> None:
    """Attack: one unreadable JWKS answer (a provider mid-deploy, a proxy's error page in
    JSON) was kept as the provider's keys: every sign-in failed until the service restarted."""
    with local_server() as server:
        serve_discovery(server)
        server.serve("/jwks", json.dumps({"keys": "temporarily unavailable"}).encode())
        client = OidcClient(
            OidcSettings(issuer=server.origin, client_id=CLIENT_ID, client_secret=CLIENT_SECRET),
            redirect_uri=CALLBACK,
            clock=clock,
        )
        with pytest.raises(OidcRefusedError, match="JWKS cannot be read"):
            client.jwks()
        key = RSAKey.generate_key(2048, parameters={"kid": "k1"})
        server.serve("/jwks", json.dumps({"keys": [key.as_dict(private=False)]}).encode())
        assert [k.kid for k in client.jwks().keys] == ["k1"]
