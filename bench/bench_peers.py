"""Issue 21's rows against node peers, in the same run: SD-JWT+KB verify against
``@sd-jwt/core`` and RDFC-1.0 from N-Quads against ``rdf-canonize`` (bench/node_peers.mjs).

Each side is timed warm in its own process over the same input, in alternating rounds (ours,
then a short node run, four times; medians), so that the machine's drift hits both alike.
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.harness import Row, measure, quick
from bench.samples import aeo_credential
from vcred import Verifier, sdjwt
from vcred.did import did_key
from vcred.jsonld import to_nquads
from vcred.keys import KeyPair
from vcred.rdfc import canonicalize_nquads

NODE_SCRIPT = Path(__file__).with_name("node_peers.mjs")
NONCE, AUD = "n-0S6_WzA2Mj", "https://verifier.customs.example"
#: selectively disclosable claims of the SD-JWT row; the presentation reveals the first two
DISCLOSABLE = [
    "/credentialSubject/legalName",
    "/credentialSubject/address",
    "/credentialSubject/identifiers",
]


#: alternating rounds of each row (quick mode: 1)
ROUNDS = 4


def node_median(request: dict[str, Any], *, seconds: float) -> tuple[float, Any] | None:
    """The node peer's median µs per call over ``seconds`` and its output, or None without
    node."""
    if shutil.which("node") is None or not (NODE_SCRIPT.parent / "node_modules").exists():
        return None
    completed = subprocess.run(
        ["node", str(NODE_SCRIPT)],
        input=json.dumps({**request, "seconds": seconds}),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    answer = json.loads(completed.stdout)
    return float(answer["median_us"]), answer["output"]


def alternating(
    ours: Callable[[], object], request: dict[str, Any]
) -> tuple[float, tuple[float, Any] | None]:
    """Our median µs per call and the node peer's (with its output), measured in turns."""
    rounds, seconds = (1, 0.5) if quick() else (ROUNDS, 0.75)
    ours_us: list[float] = []
    peer_us: list[float] = []
    output: Any = None
    for _ in range(rounds):
        ours_us.append(measure(ours, batches=5 if quick() else 3))
        peer = node_median(request, seconds=seconds)
        if peer is not None:
            peer_us.append(peer[0])
            output = peer[1]
    if not peer_us:
        return statistics.median(ours_us), None
    return statistics.median(ours_us), (statistics.median(peer_us), output)


def _sd_jwt_row() -> Row:
    issuer, holder = KeyPair.generate("ed25519"), KeyPair.generate("ed25519")
    credential = {**aeo_credential(), "issuer": did_key(issuer.public)}
    token = sdjwt.issue(credential, issuer, holder=holder, disclosable=DISCLOSABLE)
    presented = sdjwt.present(token, holder, disclose=DISCLOSABLE[:2], nonce=NONCE, aud=AUD)
    lookup = Verifier().method_lookup

    def ours() -> None:
        verified = sdjwt.verify(presented, lookup=lookup)
        if verified.key_binding is None:
            raise RuntimeError("the presentation lost its key binding")
        sdjwt.check_key_binding(verified.key_binding, now=datetime.now(UTC), nonce=NONCE, aud=AUD)

    ours_us, peer = alternating(
        ours,
        {
            "action": "sd-jwt-kb",
            "token": presented,
            "issuerJwk": issuer.public.jwk(),
            "nonce": NONCE,
            "aud": AUD,
        },
    )
    return _peer_row(
        "SD-JWT+KB verify (EdDSA issuer and holder, 2 of 3 claims disclosed)",
        ours_us,
        "@sd-jwt/core 0.19 verifying it in node (same machine, same run)",
        peer,
        "≤ 1.0 × node",
        1.0,
    )


def _rdfc_row() -> Row:
    key = KeyPair.generate("ed25519")
    nquads = to_nquads({**aeo_credential(), "issuer": did_key(key.public)})
    expected = canonicalize_nquads(nquads).nquads
    ours_us, peer = alternating(
        lambda: canonicalize_nquads(nquads).nquads, {"action": "rdfc-nquads", "nquads": nquads}
    )
    if peer is not None and peer[1] != expected:
        raise RuntimeError("rdf-canonize and vcred.rdfc disagree on the canonical form")
    lines = nquads.count("\n")
    return _peer_row(
        f"RDFC-1.0 from N-Quads ({lines} quads, parse + canonicalize + serialize)",
        ours_us,
        "rdf-canonize 5 (node) on the same N-Quads text",
        peer,
        "≤ 1.5 × node",
        1.5,
    )


def _peer_row(
    name: str, ours_us: float, baseline: str, peer: tuple[float, Any] | None, target: str, at: float
) -> Row:
    if peer is None:
        return Row(
            name, ours_us, baseline, None, target, None, "node peer unavailable: `make node`"
        )
    return Row(name, ours_us, baseline, peer[0], target, ours_us <= at * peer[0])


def rows() -> list[Row]:
    return [_sd_jwt_row(), _rdfc_row()]
