"""The services under attack: bursts, SSRF through did:web, hostile DID hosts, secured
credentials sent to the issuer, secrets in logs. Every answer is a 4xx problem, never a 5xx."""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from issuer_app import create_app as create_issuer_app
from issuer_app import issuer_of
from issuer_app.api import API_LIMITER, AUTH_LIMITER
from tests.hardening.corpus import base_credential
from tests.httpserver import LocalServer, local_server
from tests.issuer.conftest import credential, make_config
from tests.verifier.conftest import NOW, Agency, MakeApp
from vcred import did_key, issue
from vcred.jose import sign_compact
from vcred.keys import KeyPair, LocalSigner
from vcred.multibase import b64url_encode
from vcred.net import GuardedFetcher
from verifier_app.app import LIMITER

BURST = 10_000


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def codes(response: Any) -> list[str]:
    body = response.get_json()
    return [p["code"] for p in body.get("problemDetails", [])] + (
        [body["code"]] if "code" in body else []
    )


def did_web_token(did: str) -> str:
    """A credential 'issued' by ``did`` (the attacker's key: it never gets that far)."""
    signer = LocalSigner(key=KeyPair.generate(), key_id=f"{did}#key-1")
    return sign_compact(base_credential(did), signer, typ="vc+jwt", cty="vc")


# -- rate limits ---------------------------------------------------------------------------------


def test_a_burst_of_10000_verifications_is_limited_then_a_valid_request_is_answered(
    make_app: MakeApp, agency: Agency
) -> None:
    app = make_app(rate_per_second=5, rate_burst=30)
    clock = FakeClock()
    app.extensions[LIMITER].clock = clock
    client = app.test_client()
    token = agency.issue(agency.aeo_certificate())
    # the limit is counted before the body is read: the burst costs no verification
    statuses = Counter(
        client.post("/credentials/verify", json={}).status_code for _ in range(BURST)
    )
    assert statuses == {400: 30, 429: BURST - 30}
    limited = client.post("/credentials/verify", json={"verifiableCredential": token})
    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "1"
    assert limited.mimetype == "application/problem+json"
    clock.now += 1.0  # five tokens back
    answered = client.post("/credentials/verify", json={"verifiableCredential": token})
    assert answered.status_code == 200, answered.get_json()


def test_a_burst_of_10000_bad_tokens_at_the_issuer_is_limited_then_answered_again(
    issuer_app: Flask,
) -> None:
    clock = FakeClock()
    issuer_app.extensions[AUTH_LIMITER].clock = clock
    client = issuer_app.test_client()
    bad = {"Authorization": "Bearer vci_0000000000000000_guessed"}
    body = {"credential": credential()}
    statuses = Counter(
        client.post("/credentials/issue", json=body, headers=bad).status_code for _ in range(BURST)
    )
    # past 20 failures the address gets 429 before any token is looked up
    assert statuses == {401: 20, 429: BURST - 20}
    token = issuer_of(issuer_app).create_token(("issue",), actor="t").token
    good = {"Authorization": f"Bearer {token}"}
    assert client.post("/credentials/issue", json=body, headers=good).status_code == 429
    elsewhere = client.post(
        "/credentials/issue",
        json={"credential": credential()},
        headers=good,
        environ_base={"REMOTE_ADDR": "10.9.8.7"},
    )
    assert elsewhere.status_code == 201  # another address is not affected
    clock.now += 1.0  # one failure forgiven per second
    answered = client.post("/credentials/issue", json={"credential": credential()}, headers=good)
    assert answered.status_code == 201, answered.get_json()
    assert client.post("/credentials/issue", json=body, headers=bad).status_code == 401


def test_the_issuer_api_rate_limit_is_off_by_default_and_configurable(tmp_path: Path) -> None:
    default = create_issuer_app(make_config(tmp_path / "a", "sqlite"))
    limited = create_issuer_app(make_config(tmp_path / "b", "sqlite", api_rate=2, api_burst=3))
    try:
        assert API_LIMITER not in default.extensions
        clock = FakeClock()
        limited.extensions[API_LIMITER].clock = clock
        client = limited.test_client()
        token = issuer_of(limited).create_token(("issue",), actor="t").token
        headers = {"Authorization": f"Bearer {token}"}
        answers = [
            client.post("/credentials/issue", json={"credential": credential()}, headers=headers)
            for _ in range(5)
        ]
        assert [a.status_code for a in answers] == [201, 201, 201, 429, 429]
        assert answers[-1].headers["Retry-After"] == "1"
        clock.now += 0.5
        retried = client.post(
            "/credentials/issue", json={"credential": credential()}, headers=headers
        )
        assert retried.status_code == 201
    finally:
        issuer_of(default).close()
        issuer_of(limited).close()


# -- SSRF through did:web ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "host",
    ["localhost", "127.0.0.1", "10.0.0.1", "172.16.0.1", "192.168.1.1", "169.254.169.254"],
)
def test_did_web_to_a_private_address_through_the_verifier_is_a_clean_400(
    make_app: MakeApp, host: str, connections: list[tuple[str, int]]
) -> None:
    client = make_app().test_client()
    response = client.post(
        "/credentials/verify", json={"verifiableCredential": did_web_token(f"did:web:{host}")}
    )
    assert response.status_code == 400
    assert "FETCH_REFUSED" in codes(response)
    assert connections == []  # refused before any connection


def test_did_web_whose_dns_answer_is_private_through_the_verifier_is_a_clean_400(
    make_app: MakeApp,
    monkeypatch: pytest.MonkeyPatch,
    connections: list[tuple[str, int]],
) -> None:
    looked_up: list[str] = []

    def private_answer(host: str, port: int, *args: Any, **kwargs: Any) -> list[Any]:
        looked_up.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.20.30.40", port))]

    monkeypatch.setattr(socket, "getaddrinfo", private_answer)
    client = make_app().test_client()
    token = did_web_token("did:web:innocent-looking.example")
    response = client.post("/credentials/verify", json={"verifiableCredential": token})
    assert response.status_code == 400
    assert "FETCH_REFUSED" in codes(response)
    assert looked_up == ["innocent-looking.example"]
    assert connections == []


@pytest.fixture
def hostile_host() -> Iterator[LocalServer]:
    with local_server() as server:
        yield server


def _verify_via(make_app: MakeApp, server: LocalServer, **fetcher: Any) -> Any:
    app = make_app(host_map={"hostile.example": server.origin})
    service = app.extensions["vcred_verifier"]
    service.resolver.fetcher = GuardedFetcher(
        host_map={"hostile.example": server.origin}, **fetcher
    )
    token = did_web_token("did:web:hostile.example")
    return app.test_client().post("/credentials/verify", json={"verifiableCredential": token})


def test_did_web_redirect_through_the_verifier_is_a_clean_400(
    make_app: MakeApp, hostile_host: LocalServer
) -> None:
    hostile_host.serve("/.well-known/did.json", b"", status=302, Location="http://169.254.169.254/")
    response = _verify_via(make_app, hostile_host)
    assert response.status_code == 400
    assert "FETCH_REFUSED" in codes(response)
    assert hostile_host.hits == ["/.well-known/did.json"]


def test_did_web_oversized_answer_through_the_verifier_is_a_clean_400(
    make_app: MakeApp, hostile_host: LocalServer
) -> None:
    hostile_host.serve("/.well-known/did.json", b" " * (200 * 1024))
    response = _verify_via(make_app, hostile_host)
    assert response.status_code == 400
    assert "FETCH_REFUSED" in codes(response)


def test_did_web_slow_loris_through_the_verifier_is_a_clean_400(
    make_app: MakeApp, hostile_host: LocalServer
) -> None:
    released = threading.Event()
    hostile_host.trickle["/.well-known/did.json"] = ("body", released)
    safety = threading.Timer(10.0, released.set)
    safety.start()
    try:
        response = _verify_via(make_app, hostile_host, deadline=0.3)
        assert not released.is_set()  # answered while the host was still trickling
    finally:
        released.set()
        safety.cancel()
    assert response.status_code == 400
    assert "DID_RESOLUTION" in codes(response)


def test_did_web_document_nested_past_the_recursion_limit_through_the_verifier_is_400(
    make_app: MakeApp, hostile_host: LocalServer
) -> None:
    hostile_host.serve("/.well-known/did.json", b"[" * 5000 + b"]" * 5000)
    response = _verify_via(make_app, hostile_host)
    assert response.status_code == 400
    assert "DID_RESOLUTION" in codes(response)


# -- the issuer is not a verifier ---------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["vc+jwt", "vc+sd-jwt", "eddsa-rdfc-2022"])
def test_a_secured_credential_sent_to_the_issuer_is_a_clean_400(
    issuer_app: Flask, fmt: str
) -> None:
    # typ confusion at the issuer: whatever is already secured is not a credential to sign
    key = KeyPair.generate()
    secured = issue(base_credential(None), key, format=fmt, now=NOW)
    token = issuer_of(issuer_app).create_token(("issue",), actor="t").token
    response = issuer_app.test_client().post(
        "/credentials/issue",
        json={"credential": secured},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 400, response.get_json()
    assert response.mimetype == "application/problem+json"


# -- lone surrogates: not I-JSON (RFC 7493 §2.1), refused where JSON comes in ----------------


def _self_signed(payload: dict[str, Any], typ: str) -> str:
    """A token signed by a key of the sender's own (any did:key may sign), the payload written
    by json.dumps: a lone surrogate as the escape \\ud800."""
    key = KeyPair.generate("ed25519")
    did = did_key(key.public)
    header = {"alg": "EdDSA", "kid": f"{did}#{did[8:]}", "typ": typ}
    signing_input = f"{b64url_encode(json.dumps(header).encode())}." + b64url_encode(
        json.dumps({**payload, "issuer": did} if typ == "vc+jwt" else payload).encode()
    )
    return f"{signing_input}.{b64url_encode(key.sign(signing_input.encode()))}"


def _post(client: FlaskClient, path: str, body: Any) -> Any:
    # ensure_ascii: the lone surrogate travels as the escape \ud800, in valid UTF-8
    return client.post(path, data=json.dumps(body), content_type="application/json")


@pytest.mark.parametrize("route", ["/credentials/verify", "/credentials/verify-batch"])
def test_a_data_integrity_credential_holding_a_lone_surrogate_is_a_400_not_a_500(
    make_app: MakeApp, route: str
) -> None:
    # RDF canonicalization hashed it as UTF-8 and raised UnicodeEncodeError: a 500
    key = KeyPair.generate("ed25519")
    secured = issue(base_credential(did_key(key.public)), key, format="eddsa-rdfc-2022", now=NOW)
    assert isinstance(secured, dict)
    secured["credentialSubject"]["name"] = "\ud800"
    if route.endswith("batch"):
        body: dict[str, Any] = {"verifiableCredentials": [secured]}
        where = "/verifiableCredentials/0/credentialSubject/name"
    else:
        body, where = (
            {"verifiableCredential": secured},
            "/verifiableCredential/credentialSubject/name",
        )
    response = _post(make_app().test_client(), route, body)
    if route.endswith("batch"):
        # the item is not I-JSON: that item fails alone (the others would be verified)
        assert response.status_code == 200, response.get_data(as_text=True)
        (refused,) = response.get_json()["results"]
        assert refused["verified"] is False
        (problem,) = refused["problemDetails"]
    else:
        # the request body itself is not I-JSON: refused whole, as a number no double holds is
        assert response.status_code == 400, response.get_data(as_text=True)
        problem = response.get_json()
    assert problem["code"] == "MALFORMED"
    assert problem["pointer"] == where


def test_a_self_signed_vc_jwt_holding_a_lone_surrogate_is_answered_not_a_crash(
    make_app: MakeApp,
) -> None:
    # it verified, and encoding the answer (holding the credential) as UTF-8 then raised out
    # of the WSGI application
    token = _self_signed(
        base_credential(None) | {"type": ["VerifiableCredential", "\udfff"]}, "vc+jwt"
    )
    response = _post(
        make_app().test_client(), "/credentials/verify", {"verifiableCredential": token}
    )
    assert response.status_code == 400
    assert response.get_json()["verified"] is False
    assert codes(response) == ["MALFORMED"]


@pytest.mark.parametrize("item", ["surrogate holder", 5, None])
def test_a_presentation_with_a_lone_surrogate_or_no_credential_is_answered_with_a_result(
    make_app: MakeApp, item: Any
) -> None:
    # an unsigned vp+jwt naming the holder "did:example:\ud800": a 500 (its unsigned holder
    # was echoed, and could not be encoded); one carrying [5] or [null]: a 400 USAGE problem
    # (verify()'s misuse error) with no result
    vp: dict[str, Any] = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiablePresentation"],
    }
    if item == "surrogate holder":
        vp["holder"] = "did:example:\ud800"
    else:
        vp["verifiableCredential"] = [item]
    header = b64url_encode(json.dumps({"alg": "EdDSA", "typ": "vp+jwt"}).encode())
    token = f"{header}.{b64url_encode(json.dumps(vp).encode())}.AAAA"
    client = make_app().test_client()
    for presented in (token, {**vp, "proof": {}}):
        response = _post(client, "/presentations/verify", {"verifiablePresentation": presented})
        if item == "surrogate holder" and isinstance(presented, dict):
            assert response.status_code == 400  # the request body: refused whole
            assert response.get_json()["pointer"] == "/verifiablePresentation/holder"
            continue
        assert response.status_code == 400, response.get_data(as_text=True)
        body = response.get_json()
        assert body["verified"] is False and body["holder"] is None
        assert "USAGE" not in codes(response)
        if item != "surrogate holder":
            assert any(
                p["code"] == "MALFORMED" and p.get("pointer") == "/verifiableCredential/0"
                for p in body["problemDetails"]
            )


def test_issuing_a_credential_holding_a_lone_surrogate_is_a_400(issuer_app: Flask) -> None:
    token = issuer_of(issuer_app).create_token(("issue",), actor="t").token
    credential = base_credential(None)
    credential["credentialSubject"]["name"] = "\ud800"
    response = issuer_app.test_client().post(
        "/credentials/issue",
        data=json.dumps({"credential": credential}),
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.get_json()["code"] == "MALFORMED"


# -- secrets never logged ----------------------------------------------------------------------


def test_tokens_credentials_and_passphrases_never_reach_the_log(
    issuer_app: Flask, make_app: MakeApp, agency: Agency, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    service = issuer_of(issuer_app)
    token = service.create_token(("issue", "status"), actor="t").token
    client: FlaskClient = issuer_app.test_client()
    issued = client.post(
        "/credentials/issue",
        json={"credential": credential()},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert issued.status_code == 201
    client.post("/credentials/issue", json={}, headers={"Authorization": "Bearer vci_x_leaked"})
    verifier = make_app().test_client()
    secured = agency.issue(agency.aeo_certificate())
    verifier.post("/credentials/verify", json={"verifiableCredential": secured})
    verifier.post("/credentials/verify", json={"verifiableCredential": secured[:-4] + "AAAA"})
    text = caplog.text
    secret = token.split("_", 2)[2]
    assert len(secret) >= 32 and secret not in text
    assert "vci_x_leaked" not in text
    assert service.config.passphrase not in text
    assert secured.split(".")[1][:40] not in text  # no credential payload either
    assert "VERIFIED" in text  # the verdicts are logged: the log was captured
