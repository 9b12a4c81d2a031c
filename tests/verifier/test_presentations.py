"""POST /challenges and /presentations/verify: single-use challenges, our domain, each format."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.verifier.conftest import DOMAIN, NOW, Agency, MakeApp, tamper
from vcred import did_key, present, present_sd_jwt
from vcred.keys import KeyPair


@pytest.fixture(scope="module")
def trader() -> KeyPair:
    return KeyPair.generate("p256")


@pytest.fixture
def credential(agency: Agency, trader: KeyPair) -> str:
    token: str = agency.issue(agency.aeo_certificate(holder=did_key(trader.public)))
    return token


def challenge(client: FlaskClient) -> str:
    response = client.post("/challenges")
    assert response.status_code == 201
    body = response.get_json()
    assert set(body) == {"challenge", "domain", "expiresAt"}
    assert body["domain"] == DOMAIN
    value: str = body["challenge"]
    return value


def verify(client: FlaskClient, presentation: Any, **options: Any) -> tuple[int, dict[str, Any]]:
    response = client.post(
        "/presentations/verify",
        json={"verifiablePresentation": presentation, "options": options},
    )
    assert response.mimetype == "application/json", response.get_data(as_text=True)
    return response.status_code, response.get_json()


def codes(body: dict[str, Any]) -> list[str]:
    return [problem["code"] for problem in body.get("problemDetails", [])]


def test_challenges_are_fresh_and_expire(client: FlaskClient) -> None:
    first = client.post("/challenges").get_json()
    second = client.post("/challenges").get_json()
    assert first["challenge"] != second["challenge"]
    assert len(first["challenge"]) >= 32
    assert first["expiresAt"] == "2026-06-01T12:05:00Z"


def test_a_vp_jwt_with_our_challenge_and_domain_is_verified(
    client: FlaskClient, credential: str, trader: KeyPair
) -> None:
    nonce = challenge(client)
    vp = present([credential], trader, challenge=nonce, domain=DOMAIN, now=NOW)
    status, body = verify(client, vp, challenge=nonce, domain=DOMAIN)
    assert status == 200, body
    assert body["verified"] is True and "problemDetails" not in body
    assert body["holder"] == did_key(trader.public)
    assert {c["check"]: c["passed"] for c in body["checks"]}["challenge"] is True
    (inner,) = body["credentials"]
    assert inner["verified"] is True
    assert inner["trust"]["mra"]["id"] == "urn:vcred:mra:eu-aeo:us-ctpat"
    assert inner["credential"]["subject"]["name"] == "Example Prairie Gadgets, Inc."


@pytest.mark.parametrize("returned", [True, False])
def test_return_presentation_returns_the_presentation_verified(
    client: FlaskClient, credential: str, trader: KeyPair, returned: bool
) -> None:
    nonce = challenge(client)
    vp = present([credential], trader, challenge=nonce, domain=DOMAIN, now=NOW)
    status, body = verify(client, vp, challenge=nonce, domain=DOMAIN, returnPresentation=returned)
    assert status == 200, body
    # VC API: true MUST return it, false or absent MUST NOT
    assert body.get("verifiablePresentation") == (vp if returned else None)


def test_an_enveloped_presentation_is_opened(
    client: FlaskClient, credential: str, trader: KeyPair
) -> None:
    nonce = challenge(client)
    vp = present([credential], trader, challenge=nonce, domain=DOMAIN, now=NOW)
    enveloped = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": "EnvelopedVerifiablePresentation",
        "id": f"data:application/vp+jwt,{vp}",
    }
    status, body = verify(client, enveloped, challenge=nonce)
    assert status == 200, body
    assert body["format"] == "vp+jwt"


def test_a_data_integrity_presentation_is_verified(
    client: FlaskClient, agency: Agency, trader: KeyPair
) -> None:
    held = agency.issue(
        agency.aeo_certificate(holder=did_key(trader.public)), fmt="eddsa-rdfc-2022", now=NOW
    )
    nonce = challenge(client)
    vp = present([held], trader, challenge=nonce, domain=DOMAIN, format="ecdsa-rdfc-2019", now=NOW)
    assert isinstance(vp, dict) and vp["proof"]["challenge"] == nonce
    status, body = verify(client, vp, challenge=nonce, domain=DOMAIN)
    assert status == 200, body
    assert body["format"] == "data-integrity"
    assert body["credentials"][0]["format"] == "data-integrity"


def test_an_sd_jwt_with_key_binding_is_a_presentation(
    client: FlaskClient, agency: Agency, trader: KeyPair
) -> None:
    holder = did_key(trader.public)
    token = agency.issue(
        agency.aeo_certificate(holder=holder),
        fmt="vc+sd-jwt",
        holder=holder,
        disclosable=["/credentialSubject/address"],
    )
    nonce = challenge(client)
    kb = present_sd_jwt(token, trader, disclose=[], nonce=nonce, aud=DOMAIN, now=NOW)
    status, body = verify(client, kb, challenge=nonce, domain=DOMAIN)
    assert status == 200, body
    assert body["format"] == "vc+sd-jwt"
    assert body["holder"] == holder
    assert body["credentials"][0]["trust"]["trusted"] is True
    # the key binding names the challenge: another one is refused
    other = challenge(client)
    status, body = verify(client, kb, challenge=other)
    assert status == 400 and "INVALID_CHALLENGE" in codes(body)


def test_a_reused_challenge_is_refused(
    client: FlaskClient, credential: str, trader: KeyPair
) -> None:
    nonce = challenge(client)
    vp = present([credential], trader, challenge=nonce, domain=DOMAIN, now=NOW)
    assert verify(client, vp, challenge=nonce)[0] == 200
    status, body = verify(client, vp, challenge=nonce)
    assert status == 400
    assert codes(body) == ["INVALID_CHALLENGE"]
    assert "already been used" in body["problemDetails"][0]["detail"]
    assert body["problemDetails"][0]["type"] == "https://w3id.org/security#INVALID_CHALLENGE_ERROR"
    assert {c["check"]: c["passed"] for c in body["checks"]}["challenge"] is False


def test_an_unknown_challenge_is_refused(
    client: FlaskClient, credential: str, trader: KeyPair
) -> None:
    vp = present([credential], trader, challenge="made-up", domain=DOMAIN, now=NOW)
    status, body = verify(client, vp, challenge="made-up")
    assert status == 400
    assert codes(body) == ["INVALID_CHALLENGE"]
    assert "not issued by this verifier" in body["problemDetails"][0]["detail"]


def test_an_expired_challenge_is_refused(
    make_app: MakeApp, credential: str, trader: KeyPair
) -> None:
    now = [NOW]
    client = make_app(clock=lambda: now[0], challenge_ttl=timedelta(seconds=30)).test_client()
    nonce = challenge(client)
    now[0] += timedelta(seconds=31)
    vp = present([credential], trader, challenge=nonce, domain=DOMAIN, now=now[0])
    status, body = verify(client, vp, challenge=nonce)
    assert status == 400
    assert codes(body) == ["INVALID_CHALLENGE"]
    assert "expired" in body["problemDetails"][0]["detail"]


def test_a_presentation_without_a_challenge_is_refused(
    client: FlaskClient, credential: str, trader: KeyPair
) -> None:
    vp = present([credential], trader, domain=DOMAIN, now=NOW)
    status, body = verify(client, vp)
    assert status == 400
    assert codes(body) == ["INVALID_CHALLENGE"]


def test_a_presentation_for_another_domain_is_refused(
    client: FlaskClient, credential: str, trader: KeyPair
) -> None:
    nonce = challenge(client)
    vp = present([credential], trader, challenge=nonce, domain="jp-customs.example", now=NOW)
    status, body = verify(client, vp, challenge=nonce)
    assert status == 400
    assert codes(body) == ["INVALID_DOMAIN"]
    assert body["problemDetails"][0]["type"] == "https://w3id.org/security#INVALID_DOMAIN_ERROR"


def test_asking_for_another_domain_is_refused(
    client: FlaskClient, credential: str, trader: KeyPair
) -> None:
    nonce = challenge(client)
    vp = present([credential], trader, challenge=nonce, domain=DOMAIN, now=NOW)
    status, body = verify(client, vp, challenge=nonce, domain="jp-customs.example")
    assert status == 400
    assert codes(body) == ["INVALID_DOMAIN"]
    assert "this verifier's domain is verifier.eu-customs.example" in str(body)


def test_a_bad_credential_inside_fails_the_presentation(
    client: FlaskClient, credential: str, trader: KeyPair
) -> None:
    nonce = challenge(client)
    vp = present([tamper(credential)], trader, challenge=nonce, domain=DOMAIN, now=NOW)
    status, body = verify(client, vp, challenge=nonce)
    assert status == 400
    assert "INVALID_SIGNATURE" in codes(body)
    assert body["credentials"][0]["verified"] is False
    pointers = [p.get("pointer", "") for p in body["problemDetails"]]
    assert any(p.startswith("/verifiableCredential/0") for p in pointers)


def test_too_many_credentials_are_refused(
    make_app: MakeApp, credential: str, trader: KeyPair
) -> None:
    client = make_app(max_presented_credentials=2).test_client()
    nonce = challenge(client)
    vp = present([credential] * 3, trader, challenge=nonce, domain=DOMAIN, now=NOW)
    status, body = verify(client, vp, challenge=nonce)
    assert status == 400
    assert codes(body) == ["MALFORMED"]
    assert body["problemDetails"][0]["pointer"] == "/verifiableCredential"
    assert "at most 2 credentials" in body["problemDetails"][0]["detail"]
    assert body["credentials"] == []


def test_a_tampered_presentation_is_refused(
    client: FlaskClient, credential: str, trader: KeyPair
) -> None:
    nonce = challenge(client)
    vp = present([credential], trader, challenge=nonce, domain=DOMAIN, now=NOW)
    status, body = verify(client, tamper(str(vp)), challenge=nonce)
    assert status == 400
    assert "INVALID_SIGNATURE" in codes(body)


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"challenge": 5}, "options.challenge"),
        ({"domain": ["a"]}, "options.domain"),
        ({"returnPresentation": "yes"}, "options.returnPresentation"),
    ],
)
def test_options_of_the_wrong_type_are_400_problems(
    client: FlaskClient, options: dict[str, Any], words: str
) -> None:
    response = client.post(
        "/presentations/verify", json={"verifiablePresentation": "a.b.c", "options": options}
    )
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert words in response.get_json()["detail"]


def test_presentations_are_recorded(make_app: MakeApp, credential: str, trader: KeyPair) -> None:
    app = make_app()
    client = app.test_client()
    nonce = challenge(client)
    vp = present([credential], trader, challenge=nonce, domain=DOMAIN, now=NOW)
    verify(client, vp, challenge=nonce)
    (entry,) = app.extensions["vcred_verifier"].storage.recent()
    assert (entry.kind, entry.verified, entry.format) == ("presentation", True, "vp+jwt")
    assert entry.subject == "Example Prairie Gadgets, Inc."
