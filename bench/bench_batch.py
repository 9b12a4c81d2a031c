"""verify_many on 10,000 credentials: every core against one (issue 10)."""

from __future__ import annotations

import os
import time

from bench.harness import Row
from bench.samples import aeo_credential
from vcred import Verifier, issue, verify_many
from vcred.keys import KeyPair

BATCH = 10_000


def rows() -> list[Row]:
    key = KeyPair.generate("ed25519")
    tokens = [
        str(issue({**aeo_credential(), "id": f"urn:uuid:{i:032x}"}, key)) for i in range(BATCH)
    ]
    verifier = Verifier(checks=("proof", "issuer", "validity"))
    verify_many(tokens[:500], verifier=verifier)  # warm the caches before forking
    started = time.perf_counter()
    one = verify_many(tokens, verifier=verifier, processes=1)
    single = time.perf_counter() - started
    started = time.perf_counter()
    every = verify_many(tokens, verifier=verifier)
    parallel = time.perf_counter() - started
    if not all(r.verified for r in one + every):
        raise RuntimeError("benchmark credentials did not verify")
    cores = os.cpu_count() or 1
    speedup = single / parallel
    return [
        Row(
            f"verify_many 10,000 vc+jwt on {cores} cores (per credential)",
            parallel / BATCH * 1e6,
            "the same batch on one core (per credential)",
            single / BATCH * 1e6,
            "≥ 1.8 × rate",
            speedup >= 1.8,
            note=f"speed-up {speedup:.2f}× ({BATCH / parallel:,.0f}/s vs {BATCH / single:,.0f}/s)",
        )
    ]
