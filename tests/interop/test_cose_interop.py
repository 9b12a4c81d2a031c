"""vc+cose / vp+cose against two independent RFC 9052 implementations — pycose (PyPI) and
@transmute/cose (npm, ECDSA only): each verifies what we sign, we verify what each signs, and a
tampered message is refused by both sides.

pycose 1.1's own ``CoseMessage.decode`` predates cbor2 6 (which decodes a tag's content as an
immutable tuple of frozendicts), so the outer CBOR item is decoded here with plain cbor2 and
handed to pycose's ``Sign1Message.from_cose_obj``; pycose parses the headers, builds the
Sig_structure and checks the signature itself.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

import cbor2
import pytest
from pycose.algorithms import EdDSA, Es256, Es384, Es512
from pycose.headers import KID, Algorithm
from pycose.keys import EC2Key, OKPKey
from pycose.keys.curves import P256, P384, P521, Ed25519
from pycose.messages import Sign1Message

from tests.conftest import NOW, credential
from tests.interop.node import run_peer
from vcred import Verifier, issue, present
from vcred.did import did_key
from vcred.did.key import did_key_method_id
from vcred.keys import KeyPair
from vcred.multibase import b64url_decode
from vcred.presentation import build_presentation

pytestmark = pytest.mark.interop

KINDS = ["ed25519", "p256", "p384", "p521"]
PYCOSE_ALG = {"ed25519": EdDSA, "p256": Es256, "p384": Es384, "p521": Es512}
AT = Verifier(clock=lambda: NOW)
DOMAIN = "https://customs.eu.example"


def pycose_key(key: KeyPair) -> Any:
    jwk = key.private_jwk()
    if key.kind == "ed25519":
        return OKPKey(crv=Ed25519, x=b64url_decode(jwk["x"]), d=b64url_decode(jwk["d"]))
    return EC2Key(
        crv={"p256": P256, "p384": P384, "p521": P521}[key.kind],
        x=b64url_decode(jwk["x"]),
        y=b64url_decode(jwk["y"]),
        d=b64url_decode(jwk["d"]),
    )


def pycose_decode(data: bytes) -> Sign1Message:
    item = cbor2.loads(data)
    assert isinstance(item, cbor2.CBORTag) and item.tag == 18  # COSE_Sign1
    parts = [dict(part) if isinstance(part, Mapping) else part for part in item.value]
    message = Sign1Message.from_cose_obj(parts, True)
    assert isinstance(message, Sign1Message)
    return message


def pycose_verifies(data: bytes, key: KeyPair) -> bool:
    message = pycose_decode(data)
    message.key = pycose_key(key)
    try:
        return bool(message.verify_signature())
    except Exception:  # any refusal by the peer counts as "not verified"
        return False


def pycose_sign(key: KeyPair, payload: Any, **headers: Any) -> bytes:
    protected: dict[Any, Any] = {
        Algorithm: PYCOSE_ALG[key.kind],
        KID: did_key_method_id(key.public).encode(),
        3: headers.pop("content_type", "application/vc"),
        16: headers.pop("typ", "application/vc+cose"),
    }
    protected.update(headers.pop("protected", {}))
    message = Sign1Message(
        phdr=protected, uhdr=headers.pop("unprotected", {}), payload=json.dumps(payload).encode()
    )
    message.key = pycose_key(key)
    return bytes(message.encode())


@pytest.mark.parametrize("kind", KINDS)
def test_pycose_verifies_our_vc_cose(kind: str) -> None:
    key = KeyPair.generate(kind)
    data = issue(credential(), key, format="vc+cose")
    assert isinstance(data, bytes)
    assert pycose_verifies(data, key)
    message = pycose_decode(data)
    assert message.phdr[Algorithm] is PYCOSE_ALG[kind]
    assert message.phdr[KID] == did_key_method_id(key.public).encode()
    assert json.loads(message.payload)["issuer"] == did_key(key.public)


@pytest.mark.parametrize("kind", KINDS)
def test_pycose_verifies_our_vp_cose(kind: str) -> None:
    holder = KeyPair.generate(kind)
    vp = present([], holder, challenge="c-1", domain=DOMAIN, format="vp+cose", now=NOW)
    assert isinstance(vp, bytes)
    assert pycose_verifies(vp, holder)
    claims = pycose_decode(vp).phdr[15]
    assert claims[39] == b"c-1" and claims[3] == DOMAIN


@pytest.mark.parametrize("kind", KINDS)
def test_pycose_rejects_our_tampered_credential(kind: str) -> None:
    key = KeyPair.generate(kind)
    data = issue(credential(), key, format="vc+cose")
    assert isinstance(data, bytes)
    tampered = data.replace(b"Harbour Lights", b"Harbour Nights", 1)
    assert tampered != data
    assert not pycose_verifies(tampered, key)
    assert not AT.verify(tampered).verified


@pytest.mark.parametrize("kind", KINDS)
def test_we_verify_a_vc_cose_pycose_signed(kind: str) -> None:
    key = KeyPair.generate(kind)
    payload = credential(issuer=did_key(key.public))
    result = AT.verify(pycose_sign(key, payload))
    assert result.verified, result.errors
    assert result.format == "vc+cose"
    assert result.credential == payload


@pytest.mark.parametrize("kind", KINDS)
def test_we_reject_a_tampered_pycose_credential(kind: str) -> None:
    key = KeyPair.generate(kind)
    data = pycose_sign(key, credential(issuer=did_key(key.public)))
    tampered = data.replace(b"Harbour Lights", b"Harbour Nights", 1)
    assert tampered != data
    assert not pycose_verifies(tampered, key)
    assert AT.verify(tampered).codes == ("INVALID_SIGNATURE",)


def test_we_verify_a_vp_cose_pycose_signed() -> None:
    holder, agency = KeyPair.generate("p256"), KeyPair.generate("ed25519")
    inner = issue(
        credential(credentialSubject={"id": did_key(holder.public)}), agency, format="vc+cose"
    )
    assert isinstance(inner, bytes)
    presentation = build_presentation([inner], holder=did_key(holder.public))
    data = pycose_sign(
        holder,
        presentation,
        typ="application/vp+cose",
        content_type="application/vp",
        protected={15: {39: b"c-7", 3: DOMAIN}},
    )
    result = AT.verify_presentation(data, challenge="c-7", domain=DOMAIN)
    assert result.verified, result.errors
    assert result.holder == did_key(holder.public)
    assert AT.verify_presentation(data, challenge="c-8", domain=DOMAIN).codes == (
        "INVALID_CHALLENGE",
    )


def test_a_kid_pycose_leaves_unprotected_is_refused() -> None:
    # pycose lets a kid travel unprotected; an unsigned kid could be swapped, so we refuse it
    key = KeyPair.generate("ed25519")
    data = pycose_sign(key, credential(issuer=did_key(key.public)))
    message = pycose_decode(data)
    unprotected_kid = Sign1Message(
        phdr={k: v for k, v in message.phdr.items() if k is not KID},
        uhdr={KID: did_key_method_id(key.public).encode()},
        payload=message.payload,
    )
    unprotected_kid.key = pycose_key(key)
    moved = bytes(unprotected_kid.encode())
    assert pycose_verifies(moved, key)
    result = AT.verify(moved)
    assert result.codes == ("MALFORMED",)
    assert result.errors[0].path == "/unprotected/4"


# -- @transmute/cose (node; an editor of VC-JOSE-COSE; ECDSA only) --------------------------------

ECDSA = {"p256": "ES256", "p384": "ES384"}


def transmute_verifies(data: bytes, key: KeyPair) -> Any:
    jwk = {**key.public.jwk(), "alg": ECDSA[key.kind]}
    message = {"action": "verify", "cose": base64.b64encode(data).decode(), "jwk": jwk}
    return run_peer("cose_peer.mjs", message)


def transmute_sign(key: KeyPair, payload: Any, **options: Any) -> bytes:
    message = {
        "action": "sign",
        "jwk": {**key.private_jwk(), "alg": ECDSA[key.kind]},
        "kid": did_key_method_id(key.public),
        "typ": "application/vc+cose",
        "contentType": "application/vc",
        "payload": payload,
        **options,
    }
    return base64.b64decode(run_peer("cose_peer.mjs", message)["cose"])


@pytest.mark.parametrize("kind", ECDSA)
def test_transmute_verifies_our_vc_cose(kind: str) -> None:
    key = KeyPair.generate(kind)
    data = issue(credential(), key, format="vc+cose")
    assert isinstance(data, bytes)
    answer = transmute_verifies(data, key)
    assert answer["verified"], answer
    assert answer["payload"]["issuer"] == did_key(key.public)


@pytest.mark.parametrize("kind", ECDSA)
def test_transmute_verifies_our_vp_cose(kind: str) -> None:
    holder = KeyPair.generate(kind)
    vp = present([], holder, challenge="c-1", domain=DOMAIN, format="vp+cose", now=NOW)
    assert isinstance(vp, bytes)
    answer = transmute_verifies(vp, holder)
    assert answer["verified"], answer
    assert answer["payload"]["holder"] == did_key(holder.public)


@pytest.mark.parametrize("kind", ECDSA)
def test_transmute_rejects_our_tampered_credential(kind: str) -> None:
    key = KeyPair.generate(kind)
    data = issue(credential(), key, format="vc+cose")
    assert isinstance(data, bytes)
    tampered = data.replace(b"Harbour Lights", b"Harbour Nights", 1)
    assert tampered != data
    assert not transmute_verifies(tampered, key)["verified"]


@pytest.mark.parametrize("kind", ECDSA)
def test_we_verify_a_vc_cose_transmute_signed(kind: str) -> None:
    key = KeyPair.generate(kind)
    payload = credential(issuer=did_key(key.public))
    data = transmute_sign(key, payload)
    assert cbor2.loads(data).tag == 18
    result = AT.verify(data)
    assert result.verified, result.errors
    assert result.credential == payload
    tampered = data.replace(b"Harbour Lights", b"Harbour Nights", 1)
    assert tampered != data
    assert AT.verify(tampered).codes == ("INVALID_SIGNATURE",)
    assert not transmute_verifies(tampered, key)["verified"]


def test_we_verify_a_vp_cose_transmute_signed() -> None:
    holder, agency = KeyPair.generate("p384"), KeyPair.generate("p256")
    inner = issue(
        credential(credentialSubject={"id": did_key(holder.public)}), agency, format="vc+cose"
    )
    assert isinstance(inner, bytes)
    data = transmute_sign(
        holder,
        build_presentation([inner], holder=did_key(holder.public)),
        typ="application/vp+cose",
        contentType="application/vp",
        challenge="c-9",
        domain=DOMAIN,
    )
    result = AT.verify_presentation(data, challenge="c-9", domain=DOMAIN)
    assert result.verified, result.errors
    assert AT.verify_presentation(data, challenge="c-9", domain="https://x.example").codes == (
        "INVALID_DOMAIN",
    )
