"""The COSE part of the hostile corpus (vc+cose, vp+cose; docs/cose.md): each input travels
enveloped in a base64 ``data:`` URL, as a VC API client sends it, and is signed for real where
the attack needs a valid signature."""

from __future__ import annotations

import base64
import json
from typing import Any

import cbor2

from tests.verifier.conftest import NOW
from vcred import did_key, issue, present
from vcred.did.key import did_key_method_id
from vcred.keys import KeyPair

ALG = {"ed25519": -8, "p256": -7, "p384": -35}


def enveloped(data: bytes, kind: str = "Credential") -> dict[str, Any]:
    media = "vc+cose" if kind == "Credential" else "vp+cose"
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": f"EnvelopedVerifiable{kind}",
        "id": f"data:application/{media};base64," + base64.b64encode(data).decode(),
    }


def sign1(
    protected: dict[Any, Any] | bytes,
    payload: bytes | None,
    key: KeyPair,
    *,
    unprotected: dict[Any, Any] | None = None,
    tagged: bool = True,
) -> bytes:
    """A COSE_Sign1 (RFC 9052 §4.2) over its Sig_structure (§4.4), signed by ``key``."""
    head = protected if isinstance(protected, bytes) else cbor2.dumps(protected)
    to_sign = cbor2.dumps(["Signature1", head, b"", payload or b""])
    message = [head, unprotected or {}, payload, key.sign(to_sign)]
    return cbor2.dumps(cbor2.CBORTag(18, message) if tagged else message)


def cose_hostile(
    issuer: KeyPair, attacker: KeyPair, holder: KeyPair, *, challenge: str, domain: str
) -> list[tuple[str, str, Any, str]]:
    """(name, kind, value, code) for every COSE attack of the tally."""
    did = did_key(issuer.public)
    credential = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "issuer": did,
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": did_key(holder.public), "name": "Harbour Lights Trading"},
    }
    body = json.dumps(credential).encode()
    kid = did_key_method_id(issuer.public).encode()
    good = {1: ALG[issuer.kind], 4: kid, 16: "application/vc+cose"}
    no_kid = {k: v for k, v in good.items() if k != 4}
    head = cbor2.dumps(good)
    issued = issue(credential, issuer, format="vc+cose")
    assert isinstance(issued, bytes)
    vp_elsewhere = present(
        [issued], holder, challenge=challenge, domain="other.example", format="vp+cose", now=NOW
    )
    vp_replay = present(
        [issued], holder, challenge="an-old-challenge", domain=domain, format="vp+cose", now=NOW
    )
    assert isinstance(vp_elsewhere, bytes) and isinstance(vp_replay, bytes)
    cycle = b"\xd8\x1c\x81\xd8\x1d\x00"  # 28([29(0)]): a shared value that contains itself
    attacks: list[tuple[str, str, Any, str]] = [
        (
            "ES256 on an Ed25519 key",
            "credential",
            sign1({**good, 1: -7}, body, issuer),
            "INVALID_SIGNATURE",
        ),
        ("HMAC 256/256 alg", "credential", sign1({**good, 1: 5}, body, issuer), "UNSUPPORTED"),
        (
            "no alg",
            "credential",
            sign1({4: kid, 16: "application/vc+cose"}, body, issuer),
            "UNSUPPORTED",
        ),
        (
            "kid in the unprotected header",
            "credential",
            sign1(no_kid, body, issuer, unprotected={4: kid}),
            "MALFORMED",
        ),
        (
            "x5chain header",
            "credential",
            sign1({**good, 33: b"\x30\x00"}, body, issuer),
            "MALFORMED",
        ),
        ("crit header", "credential", sign1({**good, 2: [99], 99: 1}, body, issuer), "UNSUPPORTED"),
        ("detached payload", "credential", sign1(good, None, issuer), "UNSUPPORTED"),
        (
            "untagged COSE_Sign1",
            "credential",
            sign1(good, body, issuer, tagged=False),
            "PARSING_ERROR",
        ),
        (
            "duplicate protected header key",
            "credential",
            sign1(bytes([head[0] + 1]) + b"\x01\x27" + head[1:], body, issuer),
            "PARSING_ERROR",
        ),
        (
            "indefinite-length protected header",
            "credential",
            sign1(b"\xbf" + head[1:] + b"\xff", body, issuer),
            "PARSING_ERROR",
        ),
        ("bytes after the COSE_Sign1", "credential", issued + b"\x00", "PARSING_ERROR"),
        (
            "shared-value cycle in a header",
            "credential",
            sign1(b"\xa4" + head[1:] + b"\x18\x63" + cycle, body, issuer),
            "PARSING_ERROR",
        ),
        (
            "typ vp+cose as a credential",
            "credential",
            sign1({**good, 16: "application/vp+cose"}, body, issuer),
            "MALFORMED",
        ),
        (
            "kid of the attacker's DID",
            "credential",
            sign1({**good, 4: did_key_method_id(attacker.public).encode()}, body, attacker),
            "UNKNOWN_KEY",
        ),
        (
            "the issuer's kid, the attacker's signature",
            "credential",
            sign1(good, body, attacker),
            "INVALID_SIGNATURE",
        ),
        ("vp+cose for another domain", "presentation", vp_elsewhere, "INVALID_DOMAIN"),
        ("vp+cose with a replayed challenge", "presentation", vp_replay, "INVALID_CHALLENGE"),
    ]
    return [
        (
            name,
            kind,
            enveloped(data, "Credential" if kind == "credential" else "Presentation"),
            code,
        )
        for name, kind, data, code in attacks
    ]
