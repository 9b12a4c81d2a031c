"""Data Integrity rows: eddsa-jcs-2022 against vc+jwt on the same credential (≤ 1.8 ×,
issue 21), eddsa-rdfc-2022 (warm contexts) against a raw Ed25519 verify of its signature
(≤ 3.5 ×, issue 21) and against @digitalbazaar/vc in node (issue 10).

The raw verify is libsodium's, the primitive vcred.keys verifies with, so the ratio measures
our code and not a change of backend; an info row puts it beside OpenSSL's on the same bytes.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from nacl.bindings import crypto_sign_open

from bench.harness import Row, interleaved, quick
from bench.samples import aeo_credential
from vcred import Verifier, issue
from vcred.keys import KeyPair

NODE_SCRIPT = Path(__file__).with_name("node_rdfc_verify.mjs")
#: the published contexts its document loader (tests/interop/loader.mjs) serves, read in place
SHARED_CONTEXTS = (
    Path(os.environ.get("VCRED_SHARED") or Path(__file__).resolve().parents[2] / "shared")
    / "contexts"
)
CHECKS = ("proof", "issuer", "validity", "status", "schema")


def _node_median_us(credential: dict[str, object], seconds: float = 4.0) -> float | None:
    if shutil.which("node") is None or not (NODE_SCRIPT.parent / "node_modules").exists():
        return None
    if not SHARED_CONTEXTS.is_dir():
        return None
    completed = subprocess.run(
        ["node", str(NODE_SCRIPT)],
        input=json.dumps({"credential": credential, "seconds": seconds}),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return float(json.loads(completed.stdout)["median_us"])


def rows() -> list[Row]:
    key = KeyPair.generate("ed25519")
    credential = aeo_credential()
    jwt = str(issue(credential, key))
    jcs = issue(credential, key, format="eddsa-jcs-2022")
    rdfc = issue(credential, key, format="eddsa-rdfc-2022")
    assert isinstance(rdfc, dict)
    verifier = Verifier(checks=CHECKS)
    # the floor: Ed25519 over the 64 bytes eddsa-rdfc-2022 signs (two SHA-256 digests)
    signed_bytes = bytes(range(64))
    signature = key.sign(signed_bytes)
    openssl_public = Ed25519PublicKey.from_public_bytes(key.public.raw)

    def raw_verify() -> None:
        crypto_sign_open(signature + signed_bytes, key.public.raw)

    def openssl_verify() -> None:
        openssl_public.verify(signature, signed_bytes)

    for secured in (jwt, jcs, rdfc):  # warm: contexts processed, key resolved
        if not verifier.verify(secured).verified:
            raise RuntimeError("benchmark credential did not verify")
    timings = interleaved(
        {
            "jwt": lambda: verifier.verify(jwt),
            "jcs": lambda: verifier.verify(jcs),
            "rdfc": lambda: verifier.verify(rdfc),
            "raw": raw_verify,
            "openssl": openssl_verify,
        }
    )
    node_us = _node_median_us(rdfc, seconds=0.5 if quick() else 4.0)
    size = len(json.dumps(rdfc))
    return [
        Row(
            "eddsa-jcs-2022 verify",
            timings["jcs"],
            "vc+jwt verify of the same credential",
            timings["jwt"],
            "≤ 1.8 × vc+jwt",
            timings["jcs"] <= 1.8 * timings["jwt"],
        ),
        Row(
            f"eddsa-rdfc-2022 verify ({size / 1024:.1f} KB, contexts seen before)",
            timings["rdfc"],
            "raw Ed25519 verify of a 64-byte message (libsodium)",
            timings["raw"],
            "≤ 3.5 × raw",
            timings["rdfc"] <= 3.5 * timings["raw"],
        ),
        Row(
            f"eddsa-rdfc-2022 verify ({size / 1024:.1f} KB, contexts seen before)",
            timings["rdfc"],
            "@digitalbazaar/vc 7 verifying it in node 20, warm",
            node_us,
            "< node",
            None if node_us is None else timings["rdfc"] < node_us,
            note=""
            if node_us is not None
            else f"node peer unavailable: it needs node (`make node`) and {SHARED_CONTEXTS}",
        ),
        Row(
            "raw Ed25519 verify: libsodium / OpenSSL",
            timings["raw"],
            "OpenSSL (cryptography) verifying the same 64 bytes",
            timings["openssl"],
            note="info: the floor above is libsodium's, as vcred.keys verifies with it",
        ),
    ]
