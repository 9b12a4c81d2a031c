"""The verifier service and COSE: enveloped vc+cose credentials, vp+cose presentations bound
to our challenge and domain, and broken COSE answered with 4xx problem details, never 5xx."""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.verifier.conftest import DOMAIN, NOW, Agency, MakeApp
from vcred import did_key, issue, jose, present
from vcred.keys import KeyPair
from vcred.multibase import b64url_encode
from vcred.presentation import envelope


@pytest.fixture(scope="module")
def trader() -> KeyPair:
    return KeyPair.generate("ed25519")


def post(client: FlaskClient, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    response = client.post(path, json=body)
    assert response.mimetype == "application/json", response.get_data(as_text=True)
    return response.status_code, response.get_json()


def codes(body: dict[str, Any]) -> list[str]:
    return [problem["code"] for problem in body.get("problemDetails", [])]


def cose_credential(agency: Agency, trader: KeyPair) -> bytes:
    secured = agency.issue(agency.aeo_certificate(holder=did_key(trader.public)), fmt="vc+cose")
    assert isinstance(secured, bytes)
    return secured


def challenge(client: FlaskClient) -> str:
    value: str = client.post("/challenges").get_json()["challenge"]
    return value


def test_an_enveloped_vc_cose_is_verified_with_trust_and_status(
    client: FlaskClient, agency: Agency, trader: KeyPair
) -> None:
    status, body = post(
        client,
        "/credentials/verify",
        {"verifiableCredential": envelope(cose_credential(agency, trader))},
    )
    assert status == 200, body
    assert body["verified"] is True and body["format"] == "vc+cose"
    assert all(c["passed"] is True for c in body["checks"])
    assert body["trust"]["trusted"] is True
    assert [s["purpose"] for s in body["status"]] == ["revocation", "suspension"]


def test_a_tampered_vc_cose_is_an_invalid_signature(
    client: FlaskClient, agency: Agency, trader: KeyPair
) -> None:
    data = bytearray(cose_credential(agency, trader))
    data[-1] ^= 1
    status, body = post(
        client, "/credentials/verify", {"verifiableCredential": envelope(bytes(data))}
    )
    assert status == 400
    assert body["verified"] is False and codes(body) == ["INVALID_SIGNATURE"]


@pytest.mark.parametrize(
    "url",
    [
        "data:application/vc+cose;base64,0oQ=",  # tag 18, array of four, then nothing
        "data:application/vc+cose;base64,****",
        "data:application/vc+cose,0oRDoQEmoEA",  # not base64: VC-JOSE-COSE §3.3.1
        "data:application/vc+cose;base64," + base64.b64encode(b"\xd2\x84" + b"\xff" * 64).decode(),
    ],
)
def test_broken_cose_is_a_problem_not_a_crash(client: FlaskClient, url: str) -> None:
    enveloped = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": "EnvelopedVerifiableCredential",
        "id": url,
    }
    status, body = post(client, "/credentials/verify", {"verifiableCredential": enveloped})
    assert 400 <= status < 500, body
    assert body["verified"] is False and codes(body)


def test_a_vp_cose_with_our_challenge_and_domain_is_verified(
    client: FlaskClient, agency: Agency, trader: KeyPair
) -> None:
    nonce = challenge(client)
    vp = present(
        [cose_credential(agency, trader)],
        trader,
        challenge=nonce,
        domain=DOMAIN,
        format="vp+cose",
        now=NOW,
    )
    assert isinstance(vp, bytes)
    enveloped = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": "EnvelopedVerifiablePresentation",
        "id": "data:application/vp+cose;base64," + base64.b64encode(vp).decode(),
    }
    status, body = post(
        client,
        "/presentations/verify",
        {"verifiablePresentation": enveloped, "options": {"challenge": nonce, "domain": DOMAIN}},
    )
    assert status == 200, body
    assert body["verified"] is True and body["format"] == "vp+cose"
    assert body["holder"] == did_key(trader.public)
    assert [c["format"] for c in body["credentials"]] == ["vc+cose"]


def test_a_vp_cose_for_another_domain_is_refused(
    client: FlaskClient, agency: Agency, trader: KeyPair
) -> None:
    nonce = challenge(client)
    vp = present(
        [cose_credential(agency, trader)],
        trader,
        challenge=nonce,
        domain="https://elsewhere.example",
        format="vp+cose",
        now=NOW,
    )
    assert isinstance(vp, bytes)
    status, body = post(
        client,
        "/presentations/verify",
        {"verifiablePresentation": b64url_encode(vp), "options": {"challenge": nonce}},
    )
    assert status == 400, body
    assert "INVALID_DOMAIN" in codes(body)


def test_an_officer_uploads_a_binary_vc_cose_file(
    client: FlaskClient, agency: Agency, trader: KeyPair
) -> None:
    data = {"file": (io.BytesIO(cose_credential(agency, trader)), "credential.cose")}
    response = client.post("/verify", data=data, content_type="multipart/form-data")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'class="verdict ok"' in html and "From: uploaded file" in html


def test_an_officer_pastes_a_base64url_vc_cose(
    client: FlaskClient, agency: Agency, trader: KeyPair
) -> None:
    pasted = b64url_encode(cose_credential(agency, trader))
    response = client.post("/verify", data={"credential": pasted})
    assert 'class="verdict ok"' in response.get_data(as_text=True)


def test_a_trust_list_secured_as_vc_cose_is_loaded(
    make_app: MakeApp, trust_list_file: Path, eu_key: KeyPair, agency: Agency, trader: KeyPair
) -> None:
    # the same list, secured as vc+cose and stored as base64url text, under its trust anchor
    listed = jose.unverified_payload(trust_list_file.read_text().strip())
    for claim in ("iss", "jti", "nbf", "exp", "iat"):
        listed.pop(claim, None)
    secured = issue(listed, eu_key, format="vc+cose")
    assert isinstance(secured, bytes)
    path = trust_list_file.with_name("eu-trust-list.cose.txt")
    path.write_text(b64url_encode(secured))
    issuer = listed["issuer"]
    anchor = str(issuer["id"] if isinstance(issuer, dict) else issuer)
    client = make_app(trust_list=path, trust_issuer=anchor).test_client()
    status, body = post(
        client,
        "/credentials/verify",
        {"verifiableCredential": envelope(cose_credential(agency, trader))},
    )
    assert status == 200, body
    assert body["trust"]["trusted"] is True
