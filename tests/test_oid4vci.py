"""vcred.oid4vci: offer URLs (§4.1.3) and the JWT proof of possession (Appendix F), without
a service: each refusal named."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from vcred import jose
from vcred.did.jwk import did_jwk
from vcred.did.key import did_key, did_key_method_id
from vcred.keys import KeyPair
from vcred.multibase import b64url_encode
from vcred.oid4vci import (
    PROOF_TYP,
    CredentialOffer,
    ProtocolError,
    offer_url,
    parse_offer,
    parse_offer_url,
    proof_jwt,
    verify_proof,
)

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
AUD = "https://customs.example"
OFFER = CredentialOffer(
    credential_issuer=AUD,
    configuration_ids=("AEOCertificateCredential_jwt_vc_json",),
    pre_authorized_code="code-1",
    tx_code={"input_mode": "numeric", "length": 6},
)


def check(token: str, **kw: Any) -> Any:
    options: dict[str, Any] = {"audience": AUD, "now": NOW, "nonce_valid": lambda n: n == "n1"}
    return verify_proof(token, **(options | kw))


def signed(key: KeyPair, header: dict[str, Any], payload: dict[str, Any]) -> str:
    signing_input = (
        b64url_encode(jose.compact_json(header)) + "." + b64url_encode(jose.compact_json(payload))
    )
    return signing_input + "." + b64url_encode(key.sign(signing_input.encode()))


def test_offer_url_by_reference_and_by_value_round_trip() -> None:
    by_reference = offer_url(offer_uri=AUD + "/oid4vci/offers/abc")
    assert parse_offer_url(by_reference) == (AUD + "/oid4vci/offers/abc", None)
    by_value = offer_url(offer=OFFER)
    assert parse_offer_url(by_value) == (None, OFFER)


def test_offer_url_with_both_or_neither_is_refused() -> None:
    with pytest.raises(ProtocolError):
        parse_offer_url("openid-credential-offer://?credential_offer_uri=a&credential_offer=%7B%7D")
    with pytest.raises(ProtocolError):
        parse_offer_url("openid-credential-offer://")
    with pytest.raises(ProtocolError):
        offer_url(offer_uri="x", offer=OFFER)


@pytest.mark.parametrize(
    "url",
    [
        "openid-credential-offer://[?credential_offer_uri=x",  # urlsplit: ValueError
        "openid-credential-offer://?credential_offer=" + "[" * 30_000 + "]" * 30_000,
        # two issuers: json.loads kept the last (I-JSON, RFC 7493 §2.3: names are unique)
        offer_url(offer=OFFER).replace(
            "%7B", "%7B%22credential_issuer%22%3A%22https%3A%2F%2Fx%22%2C", 1
        ),
    ],
    ids=["invalid-ipv6-host", "nested-past-recursion", "duplicate-member"],
)
def test_an_offer_url_no_wallet_could_read_is_a_protocol_error(url: str) -> None:
    # a wallet reads a scanned link: ValueError (an invalid IPv6 host) and RecursionError
    # (JSON nested past the parser's recursion) escaped parse_offer_url
    with pytest.raises(ProtocolError) as refused:
        parse_offer_url(url)
    assert refused.value.error == "invalid_request"


def test_offer_without_pre_authorized_code_is_refused() -> None:
    document = OFFER.to_json()
    document["grants"] = {"authorization_code": {"issuer_state": "s"}}
    with pytest.raises(ProtocolError, match="pre-authorized"):
        parse_offer(document)


@pytest.mark.parametrize("kind", ["p256", "ed25519", "p384"])
def test_proof_with_jwk_names_the_holder_as_did_jwk(kind: str) -> None:
    key = KeyPair.generate(kind)
    found = check(proof_jwt(key, audience=AUD, nonce="n1", now=NOW))
    assert found.key == key.public
    assert found.holder == did_jwk(key.public)


def test_proof_with_a_did_key_kid() -> None:
    key = KeyPair.generate("ed25519")
    found = check(proof_jwt(key, audience=AUD, nonce="n1", now=NOW, use_kid=True))
    assert (found.holder, found.method_id) == (did_key(key.public), did_key_method_id(key.public))


def test_proof_signed_by_another_key_than_its_jwk_is_refused() -> None:
    key, other = KeyPair.generate("p256"), KeyPair.generate("p256")
    header = {"alg": "ES256", "typ": PROOF_TYP, "jwk": key.public.jwk()}
    forged = signed(other, header, {"aud": AUD, "iat": int(NOW.timestamp()), "nonce": "n1"})
    with pytest.raises(ProtocolError) as caught:
        check(forged)
    assert caught.value.error == "invalid_proof"


def test_proof_jwk_carrying_a_private_key_is_refused() -> None:
    key = KeyPair.generate("p256")
    header = {"alg": "ES256", "typ": PROOF_TYP, "jwk": key.private_jwk()}
    token = signed(key, header, {"aud": AUD, "iat": int(NOW.timestamp()), "nonce": "n1"})
    with pytest.raises(ProtocolError, match="private"):
        check(token)


def test_proof_kid_naming_a_did_web_is_refused() -> None:
    """No key from the network while verifying a proof: did:web would be fetched."""
    key = KeyPair.generate("p256")
    header = {"alg": "ES256", "typ": PROOF_TYP, "kid": "did:web:attacker.example#key-1"}
    token = signed(key, header, {"aud": AUD, "iat": int(NOW.timestamp()), "nonce": "n1"})
    with pytest.raises(ProtocolError, match="did:key or did:jwk"):
        check(token)


@pytest.mark.parametrize(
    ("header_change", "claims_change", "reason"),
    [
        # F.1: kid MUST NOT be present with jwk; here it names another key than the jwk
        ({"kid": "OTHER"}, {}, "exactly one of jwk or kid"),
        ({"crit": ["exp"]}, {}, "crit"),  # RFC 7515 §4.1.11: an extension we do not know
        ({"alg": "EdDSA"}, {}, "does not match"),  # the alg of another key type
        ({}, {"aud": [AUD, "https://other-issuer.example"]}, "aud"),  # a token for two
        ({}, {"aud": "https://other-issuer.example"}, "aud"),
        ({}, {"iat": None}, "iat"),
    ],
)
def test_proof_headers_and_claims_the_spec_rules_out_are_refused(
    header_change: dict[str, Any], claims_change: dict[str, Any], reason: str
) -> None:
    key, other = KeyPair.generate("p256"), KeyPair.generate("ed25519")
    header = {"alg": "ES256", "typ": PROOF_TYP, "jwk": key.public.jwk()}
    if header_change.get("kid") == "OTHER":
        header_change = {"kid": did_key_method_id(other.public)}
    claims = {"aud": AUD, "iat": int(NOW.timestamp()), "nonce": "n1"} | claims_change
    claims = {name: value for name, value in claims.items() if value is not None}
    with pytest.raises(ProtocolError, match=reason) as caught:
        check(signed(key, header | header_change, claims))
    assert caught.value.error == "invalid_proof"


@pytest.mark.parametrize(
    ("when", "reason"),
    [(NOW + timedelta(minutes=5), "future"), (NOW - timedelta(minutes=10), "too old")],
)
def test_proof_out_of_its_time_is_refused(when: datetime, reason: str) -> None:
    token = proof_jwt(KeyPair.generate("p256"), audience=AUD, nonce="n1", now=when)
    with pytest.raises(ProtocolError, match=reason):
        check(token)


def test_a_proof_naming_a_client_is_held_to_the_client_the_token_was_issued_to() -> None:
    # F.1: iss is the client_id of the Client; omitted after anonymous pre-authorized access
    key = KeyPair.generate("p256")
    named = proof_jwt(key, audience=AUD, nonce="n1", now=NOW, client_id="wallet-a")
    with pytest.raises(ProtocolError, match="anonymous") as anonymous:
        check(named)  # no client_valid: the token was obtained without a client_id
    assert (anonymous.value.error, anonymous.value.pointer) == ("invalid_proof", "/iss")
    with pytest.raises(ProtocolError, match="not the client") as other:
        check(named, client_valid=lambda c: c == "wallet-b")
    assert other.value.pointer == "/iss"
    assert check(named, client_valid=lambda c: c == "wallet-a").key == key.public
    # iss is optional: a proof without one stands for any client
    check(proof_jwt(key, audience=AUD, nonce="n1", now=NOW), client_valid=lambda c: False)


def test_proof_with_an_unknown_nonce_asks_for_a_new_one() -> None:
    token = proof_jwt(KeyPair.generate("p256"), audience=AUD, nonce="stale", now=NOW)
    with pytest.raises(ProtocolError) as caught:
        check(token)
    assert caught.value.error == "invalid_nonce"


def test_unsigned_proof_is_refused() -> None:
    key = KeyPair.generate("p256")
    header = {"alg": "none", "typ": PROOF_TYP, "jwk": key.public.jwk()}
    payload = {"aud": AUD, "iat": int(NOW.timestamp()), "nonce": "n1"}
    token = (
        b64url_encode(jose.compact_json(header)) + "." + b64url_encode(jose.compact_json(payload))
    ) + "."
    with pytest.raises(ProtocolError) as caught:
        check(token)
    assert caught.value.error == "invalid_proof"


def test_a_proof_that_is_not_a_jwt_is_refused() -> None:
    for junk in ("", "a.b", 42, None):
        with pytest.raises(ProtocolError) as caught:
            check(junk)
        assert caught.value.error == "invalid_proof"
