"""Seed inputs: one valid example per target, so the fuzzer starts from real structure."""

from __future__ import annotations

import json
from pathlib import Path

from vcred import derive, did_jwk, did_key, issue, sdjwt
from vcred.customs.samples import EXPORTS, aeo_certificate, export_billing_attestation
from vcred.keys import KeyPair
from vcred.multibase import b64url_decode
from vcred.status import MutableBitstring


def seeds(name: str) -> list[bytes]:
    key = KeyPair.generate()
    credential = aeo_certificate("us-prairie")
    credential["issuer"] = did_key(key.public)
    token = str(issue(credential, key))
    billing = export_billing_attestation(next(iter(EXPORTS)))
    billing["issuer"] = did_key(key.public)
    sd = str(issue(billing, key, format="vc+sd-jwt"))
    p256 = KeyPair.generate("p256")
    billing_sd = {**billing, "issuer": did_key(p256.public)}
    base = issue(billing_sd, p256, format="ecdsa-sd-2023")
    assert isinstance(base, dict)
    derived = derive(base, ["/credentialSubject/invoice/totalAmount"])
    proof_values = [b64url_decode(d["proof"]["proofValue"][1:]) for d in (base, derived)]
    holder = KeyPair.generate()
    holder_sd = str(issue(billing, key, format="vc+sd-jwt", holder=holder.public))
    presented = sdjwt.present(
        holder_sd,
        holder,
        disclose=["/credentialSubject/invoice/totalAmount"],
        nonce="n-0S6_WzA2Mj",
        aud="verifier.example",
    )
    cose_credential = issue(credential, key, format="vc+cose")
    assert isinstance(cose_credential, bytes)
    bits = MutableBitstring()
    bits.set(7, 1)
    by_target = {
        "jwt": [token.encode()],
        "sd-jwt": [sd.encode()],
        "cose": [cose_credential[len(b"\xd2\x84") :]],  # the target adds the prefix back
        "multibase": [key.public.multikey().encode()],
        "did": [did_key(key.public)[8:].encode(), did_jwk(key.public)[8:].encode()],
        "status-list": [bits.encode().encode()],
        "json-ld": [json.dumps(credential).encode()],
        "sd-proof-value": proof_values,
        "verify": [token.encode(), sd.encode(), json.dumps(credential).encode()],
        "sd-jwt-presentation": [presented.encode()],
        "service-request": [json.dumps({"verifiableCredential": token}).encode(), b"{}"],
        "url": [
            b"https://us-customs.example:8443/status/1?x=y#f",
            b"https://[2001:db8::1]/x",
            b"did:web:us-customs.example%3A8443:agency",
            b"data:application/vc+jwt;base64,YS5iLmM=",
        ],
    }
    return by_target[name]


def write_seeds(name: str, corpus: Path) -> None:
    corpus.mkdir(parents=True, exist_ok=True)
    for i, seed in enumerate(seeds(name)):
        path = corpus / f"seed-{i}"
        if not path.exists():
            path.write_bytes(seed)
