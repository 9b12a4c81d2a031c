"""vc+jwt against panva/jose: it verifies ours, we verify its (EdDSA, ES256, ES384, ES512)."""

from __future__ import annotations

import pytest

from tests.conftest import credential
from tests.interop.node import run_peer
from vcred import Verifier, issue
from vcred.did import did_key
from vcred.did.key import did_key_method_id
from vcred.keys import JWS_ALG_FOR, KeyPair

pytestmark = pytest.mark.interop


@pytest.mark.parametrize("kind", ["ed25519", "p256", "p384", "p521"])
def test_jose_verifies_our_vc_jwt(kind: str) -> None:
    key = KeyPair.generate(kind)
    token = issue(credential(), key)
    answer = run_peer(
        "jose_peer.mjs",
        {"action": "verify", "token": token, "jwk": key.public.jwk(), "alg": JWS_ALG_FOR[key.kind]},
    )
    assert answer["verified"], answer
    assert answer["header"]["typ"] == "vc+jwt"
    assert answer["payload"]["issuer"] == did_key(key.public)


def test_jose_rejects_our_tampered_token() -> None:
    key = KeyPair.generate()
    token = str(issue(credential(), key))
    tampered = token[:-6] + ("A" if token[-6] != "A" else "B") + token[-5:]
    answer = run_peer(
        "jose_peer.mjs",
        {"action": "verify", "token": tampered, "jwk": key.public.jwk(), "alg": "EdDSA"},
    )
    assert not answer["verified"]


@pytest.mark.parametrize("kind", ["ed25519", "p256", "p384", "p521"])
def test_we_verify_a_vc_jwt_jose_signed(kind: str) -> None:
    key = KeyPair.generate(kind)
    payload = credential(issuer=did_key(key.public))
    answer = run_peer(
        "jose_peer.mjs",
        {
            "action": "sign",
            "jwk": key.private_jwk(),
            "alg": JWS_ALG_FOR[key.kind],
            "kid": did_key_method_id(key.public),
            "payload": payload,
        },
    )
    result = Verifier().verify(answer["token"])
    assert result.verified, result.errors
    assert (
        result.credential is not None
        and result.credential["credentialSubject"] == payload["credentialSubject"]
    )
