"""vc+jwt verify and issue against their floors (issue 10, first two rows)."""

from __future__ import annotations

import base64
import json

from nacl.bindings import crypto_sign, crypto_sign_open, crypto_sign_seed_keypair

from bench.harness import Row, interleaved
from bench.samples import aeo_credential
from vcred import Verifier, issue
from vcred.keys import KeyPair


def rows() -> list[Row]:
    key = KeyPair.generate("ed25519")
    credential = aeo_credential()
    token = str(issue(credential, key))
    header_b64, payload_b64, signature_b64 = token.split(".")
    signing_input = f"{header_b64}.{payload_b64}".encode()
    # the floors call libsodium directly, the primitive vcred.keys signs and verifies with
    raw_public = key.public.raw
    _, raw_secret = crypto_sign_seed_keypair(key.secret())
    verifier = Verifier(checks=("proof", "issuer", "validity", "status", "schema"))
    payload = json.loads(base64.urlsafe_b64decode(payload_b64 + "=="))

    def verify_floor() -> None:
        crypto_sign_open(base64.urlsafe_b64decode(signature_b64 + "==") + signing_input, raw_public)
        json.loads(base64.urlsafe_b64decode(payload_b64 + "=="))

    def verify_ours() -> None:
        if not verifier.verify(token).verified:
            raise RuntimeError("benchmark credential did not verify")

    header = {"alg": "EdDSA", "kid": "k", "typ": "vc+jwt", "cty": "vc"}

    def issue_floor() -> None:
        head = base64.urlsafe_b64encode(json.dumps(header, separators=(",", ":")).encode()).rstrip(
            b"="
        )
        body = base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).rstrip(
            b"="
        )
        base64.urlsafe_b64encode(crypto_sign(head + b"." + body, raw_secret)[:64])

    def issue_ours() -> None:
        issue(payload, key)

    timings = interleaved(
        {
            "verify_floor": verify_floor,
            "verify": verify_ours,
            "issue_floor": issue_floor,
            "issue": issue_ours,
        }
    )
    return [
        Row(
            "vc+jwt verify (EdDSA, did:key, no status fetch)",
            timings["verify"],
            "raw Ed25519 verify (libsodium) + json parse + base64url decode",
            timings["verify_floor"],
            "≤ 1.2 × floor",
            timings["verify"] <= 1.2 * timings["verify_floor"],
        ),
        Row(
            "vc+jwt issue (EdDSA)",
            timings["issue"],
            "raw Ed25519 sign (libsodium) + serialization",
            timings["issue_floor"],
            "≤ 1.3 × floor",
            timings["issue"] <= 1.3 * timings["issue_floor"],
        ),
    ]
