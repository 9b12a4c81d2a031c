"""SD-JWT against @sd-jwt/core (OpenWallet Foundation): it verifies ours, we verify its."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import NOW, billing_attestation
from tests.interop.node import run_peer
from vcred import Verifier, issue, sdjwt
from vcred.did import did_key
from vcred.did.key import did_key_method_id
from vcred.keys import JWS_ALG_FOR, KeyPair
from vcred.multibase import b64url_encode
from vcred.sdjwt import SdJwtParts

pytestmark = pytest.mark.interop

AT = Verifier(clock=lambda: NOW)
SHOWN = [
    "/credentialSubject/lineItems/*/hsCode",  # always visible: adds nothing
    "/credentialSubject/lineItems/0/unitPrice",
]


def peer_verify(token: str, issuer: KeyPair, **expected: str) -> Any:
    return run_peer(
        "sdjwt_peer.mjs",
        {
            "action": "verify",
            "token": token,
            "issuerJwk": issuer.public.jwk(),
            "alg": JWS_ALG_FOR[issuer.kind],
            "now": int(NOW.timestamp()),
            **expected,
        },
    )


@pytest.mark.parametrize("kind", ["ed25519", "p256", "p384"])
def test_sd_jwt_core_verifies_our_presentation_and_its_claims(kind: str) -> None:
    agency, trader = KeyPair.generate(kind), KeyPair.generate("p256")
    token = str(
        issue(billing_attestation(), agency, format="vc+sd-jwt", holder=trader.public, now=NOW)
    )
    presented = sdjwt.present(token, trader, disclose=SHOWN, nonce="c-9", aud="jp", now=NOW)
    answer = peer_verify(presented, agency, nonce="c-9", aud="jp")
    assert answer["verified"], answer
    assert answer["header"]["typ"] == "vc+sd-jwt"
    assert answer["kb"]["header"]["typ"] == "kb+jwt"
    assert answer["kb"]["payload"]["sd_hash"] == sdjwt.digest(sdjwt.parse(presented).sd_jwt)
    ours = AT.verify_presentation(presented, challenge="c-9", domain="jp").credentials[0]
    theirs = {k: v for k, v in answer["payload"].items() if k != "cnf"}
    assert theirs == ours.credential
    items = theirs["credentialSubject"]["lineItems"]
    assert items[0]["unitPrice"] == "250.00" and "amount" not in items[0]
    assert (
        "unitPrice" not in items[1] and "totalAmount" not in theirs["credentialSubject"]["invoice"]
    )


def test_sd_jwt_core_verifies_our_recursive_and_array_disclosures() -> None:
    agency, trader = KeyPair.generate(), KeyPair.generate()
    paths = [
        "/credentialSubject/invoice",
        "/credentialSubject/invoice/totalAmount",
        "/credentialSubject/lineItems/1",
    ]
    token = str(
        issue(
            billing_attestation(),
            agency,
            format="vc+sd-jwt",
            disclosable=paths,
            holder=trader,
            now=NOW,
        )
    )
    full = peer_verify(token, agency)
    assert full["verified"], full
    assert {
        k: v for k, v in full["payload"].items() if k not in ("cnf", "iat")
    } == billing_attestation(issuer=did_key(agency.public))
    presented = sdjwt.present(
        token,
        trader,
        disclose=["/credentialSubject/invoice/totalAmount"],
        nonce="n",
        aud="a",
        now=NOW,
    )
    answer = peer_verify(presented, agency, nonce="n", aud="a")
    assert answer["verified"], answer
    subject = answer["payload"]["credentialSubject"]
    assert subject["invoice"]["totalAmount"] == "48250.00" and len(subject["lineItems"]) == 1


def test_sd_jwt_core_rejects_what_we_reject() -> None:
    agency, trader = KeyPair.generate(), KeyPair.generate()
    token = str(issue(billing_attestation(), agency, format="vc+sd-jwt", holder=trader, now=NOW))
    presented = sdjwt.present(token, trader, disclose=SHOWN, nonce="n", aud="a", now=NOW)
    parts = sdjwt.parse(presented)
    removed = str(SdJwtParts(parts.jwt, (), parts.kb_jwt))  # sd_hash no longer matches
    assert not peer_verify(removed, agency, nonce="n", aud="a")["verified"]
    assert not peer_verify(presented, agency, nonce="other", aud="a")["verified"]
    thief = KeyPair.generate()
    forged = sdjwt.present(
        str(issue(billing_attestation(), agency, format="vc+sd-jwt", holder=thief, now=NOW)),
        thief,
        nonce="n",
        aud="a",
        now=NOW,
    )
    swapped = sdjwt.parse(presented).sd_jwt + str(sdjwt.parse(forged).kb_jwt)
    assert not peer_verify(swapped, agency, nonce="n", aud="a")["verified"]
    assert "INVALID_SIGNATURE" in AT.verify_presentation(swapped, challenge="n", domain="a").codes


@pytest.mark.parametrize("kind", ["ed25519", "p256"])
def test_we_verify_an_sd_jwt_core_presentation(kind: str) -> None:
    agency, trader = KeyPair.generate(kind), KeyPair.generate("p256")
    claims = {
        **billing_attestation(issuer=did_key(agency.public)),
        "cnf": {"jwk": trader.public.jwk()},
    }
    frame = {
        "credentialSubject": {
            "invoice": {"_sd": ["totalAmount"], "_sd_decoy": 2},
            "lineItems": {
                "_sd": [1],
                "_sd_decoy": 1,
                "0": {"_sd": ["unitPrice", "amount"], "_sd_decoy": 1},
                "1": {"_sd": ["unitPrice", "amount"]},
            },
            "_sd": ["exporter"],
        }
    }
    presentation = {
        "credentialSubject": {"lineItems": {"0": {"unitPrice": True}}, "exporter": True}
    }
    answer = run_peer(
        "sdjwt_peer.mjs",
        {
            "action": "issue",
            "claims": claims,
            "frame": frame,
            "issuerJwk": agency.private_jwk(),
            "alg": JWS_ALG_FOR[agency.kind],
            "kid": did_key_method_id(agency.public),
            "holderJwk": trader.private_jwk(),
            "holderAlg": "ES256",
            "presentation": presentation,
            "nonce": "c-7",
            "aud": "customs.jp.example",
            "iat": int(NOW.timestamp()),
        },
    )
    full = AT.verify(answer["issued"])
    assert full.verified, full.errors
    assert full.credential == billing_attestation(issuer=did_key(agency.public))
    result = AT.verify_presentation(
        answer["presented"], challenge="c-7", domain="customs.jp.example"
    )
    assert result.verified, result.errors
    assert result.holder is not None and result.holder.startswith("did:jwk:")
    (vc,) = result.credentials
    assert sorted(vc.disclosed) == [
        "/credentialSubject/exporter",
        "/credentialSubject/lineItems/0/unitPrice",
    ]
    subject = dict(vc.credential["credentialSubject"]) if vc.credential else {}
    assert [set(item) & {"unitPrice", "amount"} for item in subject["lineItems"]] == [{"unitPrice"}]
    assert "totalAmount" not in subject["invoice"]
    replayed = AT.verify_presentation(
        answer["presented"], challenge="c-8", domain="customs.jp.example"
    )
    assert replayed.codes == ("INVALID_CHALLENGE",)


def test_we_reject_an_sd_jwt_core_disclosure_we_alter() -> None:
    agency, trader = KeyPair.generate(), KeyPair.generate()
    claims = {
        **billing_attestation(issuer=did_key(agency.public)),
        "cnf": {"jwk": trader.public.jwk()},
    }
    answer = run_peer(
        "sdjwt_peer.mjs",
        {
            "action": "issue",
            "claims": claims,
            "frame": {"credentialSubject": {"invoice": {"_sd": ["totalAmount"]}}},
            "issuerJwk": agency.private_jwk(),
            "alg": "EdDSA",
            "kid": did_key_method_id(agency.public),
            "holderJwk": trader.private_jwk(),
            "holderAlg": "EdDSA",
            "presentation": {"credentialSubject": {"invoice": {"totalAmount": True}}},
            "nonce": "n",
            "aud": "a",
            "iat": int(NOW.timestamp()),
        },
    )
    parts = sdjwt.parse(answer["presented"])
    salt = sdjwt.decode_disclosure(parts.disclosures[0]).salt
    altered = b64url_encode(json.dumps([salt, "totalAmount", "1.00"]).encode())
    tampered = str(SdJwtParts(parts.jwt, (altered,), parts.kb_jwt))
    result = AT.verify_presentation(tampered, challenge="n", domain="a")
    assert not result.verified and result.errors[0].code == "DIGEST_MISMATCH"
