"""A JWK that says it is not for verifying signatures does not verify one (RFC 7517 §4.2–4.4).

A JWK may restrict itself: ``use`` (``sig`` or ``enc``), ``key_ops`` (``verify``, ``encrypt``,
…) and ``alg``. The attack: a holder binding (``cnf``), an OpenID4VCI key proof or a DID
document's method whose JWK is marked for encryption, or for another algorithm, is taken as a
signing key all the same — the JWK's own statement of what it is for, read by nobody. Every
place a JWK is taken to verify signatures goes through ``PublicKey.from_signing_jwk``.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import NOW, billing_attestation, credential
from vcred import Verifier, did_key, issue, present, sdjwt
from vcred.did.document import DidDocument
from vcred.did.jwk import did_jwk, resolve_did_jwk
from vcred.errors import MalformedError
from vcred.keys import KeyPair, PublicKey, check_signing_jwk, load_public_key
from vcred_service.oauth import parse_jwks

AT = Verifier(clock=lambda: NOW)
KEY = KeyPair.generate("ed25519")
KINDS = ("ed25519", "p256", "p384")

#: Restrictions that still let a key verify its own kind's signatures.
ALLOWING: list[dict[str, Any]] = [
    {},
    {"use": "sig"},
    {"key_ops": ["verify"]},
    {"key_ops": ["sign", "verify"]},
    {"use": "sig", "key_ops": ["verify"]},
]
#: Restrictions that forbid it.
REFUSING: list[dict[str, Any]] = [
    {"use": "enc"},
    {"use": "SIG"},
    {"use": ["sig"]},
    {"use": None},
    {"key_ops": ["encrypt"]},
    {"key_ops": ["sign"]},
    {"key_ops": []},
    {"key_ops": "verify"},
    {"key_ops": [1]},
    {"alg": "RS256"},
    {"alg": "HS256"},
    {"alg": "none"},
    {"alg": None},
    {"use": "sig", "key_ops": ["deriveKey"]},
]


def restricted(key: KeyPair, members: dict[str, Any]) -> dict[str, Any]:
    return {**key.public.jwk(), **members}


@pytest.mark.parametrize("kind", KINDS)
def test_a_jwk_is_taken_to_verify_only_as_its_members_allow(kind: str) -> None:
    key = KeyPair.generate(kind)
    own_alg = {"alg": key.public.jws_alg}
    for members in [*ALLOWING, own_alg, {**own_alg, "use": "sig"}]:
        assert PublicKey.from_signing_jwk(restricted(key, members)) == key.public
    for members in REFUSING:
        with pytest.raises(MalformedError):
            PublicKey.from_signing_jwk(restricted(key, members))
        # the key itself is still read (a did:jwk of an encryption key is one)
        assert PublicKey.from_jwk(restricted(key, members)) == key.public


def test_an_alg_of_another_curve_is_refused_and_ed25519_is_eddsa() -> None:
    ed, p256 = KeyPair.generate("ed25519"), KeyPair.generate("p256")
    assert PublicKey.from_signing_jwk(restricted(ed, {"alg": "Ed25519"})) == ed.public  # RFC 9864
    for key, alg in [(ed, "ES256"), (p256, "EdDSA"), (p256, "ES384"), (p256, "Ed25519")]:
        with pytest.raises(MalformedError, match=r"RFC 7517 §4\.4"):
            PublicKey.from_signing_jwk(restricted(key, {"alg": alg}))


@given(
    use=st.one_of(st.none(), st.text(max_size=8), st.integers()),
    ops=st.lists(st.sampled_from(["sign", "verify", "encrypt", "wrapKey", "x"]), max_size=4),
)
def test_any_use_or_key_ops_verifies_exactly_when_they_say_so(use: Any, ops: list[str]) -> None:
    key = KEY
    jwk = restricted(key, {"use": use, "key_ops": ops})
    allowed = use == "sig" and "verify" in ops
    try:
        check_signing_jwk(jwk, key.public)
    except MalformedError:
        assert not allowed
    else:
        assert allowed


# -- where a JWK verifies: cnf, the OpenID4VCI proof, DID documents, key files, JWKS ----------


@pytest.mark.parametrize("members", [{"use": "enc"}, {"key_ops": ["encrypt"]}, {"alg": "ES256"}])
def test_a_vc_jwt_bound_to_an_encryption_jwk_binds_nobody(members: dict[str, Any]) -> None:
    agency, trader = KeyPair.generate("ed25519"), KeyPair.generate("ed25519")
    subject = {"id": did_key(trader.public), "name": "Harbour Lights"}

    def presented(cnf_members: dict[str, Any]) -> Any:
        cnf = {"jwk": restricted(trader, cnf_members)}
        vc = issue(credential(credentialSubject=subject, cnf=cnf), agency)
        return AT.verify_presentation(present([vc], trader, challenge="c", now=NOW), challenge="c")

    assert presented({"use": "sig"}).verified
    refused = presented(members)
    assert not refused.verified
    assert refused.codes == ("HOLDER_MISMATCH",)


@pytest.mark.parametrize("members", [{"use": "enc"}, {"key_ops": ["encrypt"]}, {"alg": "ES256"}])
def test_an_sd_jwt_bound_to_an_encryption_jwk_presents_nothing(
    members: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    agency, trader = KeyPair.generate("ed25519"), KeyPair.generate("ed25519")
    monkeypatch.setattr(
        sdjwt, "_confirmation", lambda holder, resolver: {"jwk": {**holder.jwk(), **members}}
    )
    token = str(issue(billing_attestation(), agency, format="vc+sd-jwt", holder=trader.public))
    monkeypatch.undo()
    with pytest.raises(MalformedError, match="cnf"):  # the holder's side refuses it too
        sdjwt.present(token, trader, nonce="n", aud="a", now=NOW)
    monkeypatch.setattr(sdjwt, "_cnf_key", lambda payload: trader.public)  # a holder who would
    shown = sdjwt.present(token, trader, nonce="n", aud="a", now=NOW)
    monkeypatch.undo()
    result = AT.verify_presentation(shown, challenge="n", domain="a")
    assert not result.verified
    assert any(error.path.endswith("/cnf/jwk") for error in result.errors), result.errors


@pytest.mark.parametrize("members", [{"use": "enc"}, {"key_ops": ["encrypt"]}, {"alg": "ES384"}])
def test_an_openid4vci_key_proof_by_an_encryption_jwk_is_invalid(members: dict[str, Any]) -> None:
    from tests.test_oid4vci import AUD, PROOF_TYP, check, signed
    from vcred.oid4vci import ProtocolError

    key = KeyPair.generate("p256")
    claims = {"aud": AUD, "iat": int(NOW.timestamp()), "nonce": "n1"}
    header = {"alg": "ES256", "typ": PROOF_TYP, "jwk": restricted(key, {"use": "sig"})}
    assert check(signed(key, header, claims)).key == key.public
    header = {"alg": "ES256", "typ": PROOF_TYP, "jwk": restricted(key, members)}
    with pytest.raises(ProtocolError) as caught:
        check(signed(key, header, claims))
    assert caught.value.error == "invalid_proof"


@pytest.mark.parametrize("members", [{"use": "enc"}, {"key_ops": ["encrypt"]}, {"alg": "ES256"}])
def test_a_did_document_method_whose_jwk_is_for_encryption_verifies_nothing(
    members: dict[str, Any],
) -> None:
    key = KeyPair.generate("ed25519")
    did = "did:web:agency.example"

    def document(jwk: dict[str, Any]) -> DidDocument:
        return DidDocument.parse(
            {
                "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/jwk/v1"],
                "id": did,
                "verificationMethod": [
                    {"id": f"{did}#k", "type": "JsonWebKey", "controller": did, "publicKeyJwk": jwk}
                ],
                "assertionMethod": [f"{did}#k"],
            },
            expected_id=did,
        )

    assert document(restricted(key, {"use": "sig"})).methods[f"{did}#k"].public_key == key.public
    assert f"{did}#k" not in document(restricted(key, members)).methods


def test_a_did_jwk_of_a_key_for_another_alg_has_no_signing_relationship() -> None:
    key = KeyPair.generate("p256")
    plain = resolve_did_jwk(did_jwk(key.public))
    assert plain.document["assertionMethod"]
    for members, relationships in [
        ({"alg": "ES384"}, set()),
        ({"key_ops": ["encrypt"]}, set()),
        ({"use": "enc"}, {"keyAgreement"}),
    ]:
        jwk = restricted(key, members)
        did = "did:jwk:" + base64.urlsafe_b64encode(json.dumps(jwk).encode()).decode().rstrip("=")
        document = resolve_did_jwk(did).document
        named = {
            name
            for name in ("authentication", "assertionMethod", "keyAgreement")
            if name in document
        }
        assert named == relationships, members


def test_a_public_key_file_for_encryption_is_refused_with_its_reason() -> None:
    key = KeyPair.generate("ed25519")
    assert load_public_key(json.dumps(restricted(key, {"use": "sig"}))) == key.public
    with pytest.raises(MalformedError, match="not for signatures"):
        load_public_key(json.dumps(restricted(key, {"use": "enc"})))
    with pytest.raises(MalformedError, match="key_ops"):
        load_public_key(json.dumps({"publicKeyJwk": restricted(key, {"key_ops": ["encrypt"]})}))


def test_a_jwks_entry_for_encryption_is_left_out() -> None:
    signing, other = KeyPair.generate("p256"), KeyPair.generate("p256")
    jwks = {
        "keys": [
            {**restricted(signing, {"use": "sig", "key_ops": ["verify"]}), "kid": "s"},
            {**restricted(other, {"key_ops": ["encrypt"]}), "kid": "e1"},
            {**restricted(other, {"use": "enc"}), "kid": "e2"},
            {**restricted(other, {"alg": "ES384"}), "kid": "e3"},
        ]
    }
    assert parse_jwks(json.dumps(jwks).encode(), source="the test") == {"s": signing.public}
