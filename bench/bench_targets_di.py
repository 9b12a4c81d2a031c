"""Data Integrity rows of the issue-10 table: eddsa-jcs-2022 against vc+jwt on the same
credential, and eddsa-rdfc-2022 (warm contexts) against @digitalbazaar/vc in node.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from bench.harness import Row, interleaved
from bench.samples import aeo_credential
from vcred import Verifier, issue
from vcred.keys import KeyPair

NODE_SCRIPT = Path(__file__).with_name("node_rdfc_verify.mjs")
CHECKS = ("proof", "issuer", "validity", "status", "schema")


def _node_median_us(credential: dict[str, object], seconds: float = 4.0) -> float | None:
    if shutil.which("node") is None or not (NODE_SCRIPT.parent / "node_modules").exists():
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
    for secured in (jwt, jcs, rdfc):  # warm: contexts processed, key resolved
        if not verifier.verify(secured).verified:
            raise RuntimeError("benchmark credential did not verify")
    timings = interleaved(
        {
            "jwt": lambda: verifier.verify(jwt),
            "jcs": lambda: verifier.verify(jcs),
            "rdfc": lambda: verifier.verify(rdfc),
        }
    )
    node_us = _node_median_us(rdfc)
    size = len(json.dumps(rdfc))
    return [
        Row(
            "eddsa-jcs-2022 verify",
            timings["jcs"],
            "vc+jwt verify of the same credential",
            timings["jwt"],
            "≤ 2 × vc+jwt",
            timings["jcs"] <= 2 * timings["jwt"],
        ),
        Row(
            f"eddsa-rdfc-2022 verify ({size / 1024:.1f} KB, contexts seen before)",
            timings["rdfc"],
            "@digitalbazaar/vc 7 verifying it in node 20, warm",
            node_us,
            "< node",
            None if node_us is None else timings["rdfc"] < node_us,
            note="" if node_us is not None else "node peer unavailable: run `make node`",
        ),
    ]
