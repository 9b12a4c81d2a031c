"""Canonicalization timings: first (cold) vs warm, ours vs pyld, for the eddsa-rdfc-2022 vector.

Run: ``.venv/bin/python bench/bench_jsonld.py [--repeat N]``. Prints milliseconds per call.
The warm numbers are what a verifier pays per credential once its contexts are cached; a
verification canonicalizes the document and the proof configuration.
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pyld import jsonld as pyld_jsonld

from vcred.jsonld import ContextLoader, canonicalize_document

VECTOR = (
    Path(__file__).parents[1] / ".." / "shared" / "vectors" / "w3c" / "eddsa" / "eddsa-rdfc-2022"
)


def _inputs() -> tuple[dict[str, Any], dict[str, Any], str]:
    signed = json.loads((VECTOR / "signedDataInt.json").read_text())
    proof = signed.pop("proof")
    config = {key: value for key, value in proof.items() if key != "proofValue"}
    config["@context"] = signed["@context"]
    return signed, config, (VECTOR / "canonDocDataInt.txt").read_text()


def _per_call_ms(function: Callable[[], object], repeat: int) -> float:
    rounds = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(repeat):
            function()
        rounds.append((time.perf_counter() - start) / repeat * 1000)
    return statistics.median(rounds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=500)
    args = parser.parse_args()
    document, config, expected = _inputs()
    size = len(json.dumps(document | {"proof": config}))

    loader = ContextLoader()
    start = time.perf_counter()
    first = canonicalize_document(document, loader=loader)
    cold = (time.perf_counter() - start) * 1000
    if first != expected:
        raise SystemExit("canonical form differs from the vector")
    warm = _per_call_ms(lambda: canonicalize_document(document, loader=loader), args.repeat)
    both = _per_call_ms(
        lambda: (
            canonicalize_document(document, loader=loader),
            canonicalize_document(config, loader=loader),
        ),
        args.repeat,
    )

    reference = ContextLoader()
    options = {
        **reference.pyld_options(),
        "algorithm": "URDNA2015",
        "format": "application/n-quads",
    }

    def pyld_canonize() -> object:
        return pyld_jsonld.normalize(copy.deepcopy(document), options)

    start = time.perf_counter()
    pyld_canonize()
    pyld_cold = (time.perf_counter() - start) * 1000
    pyld_warm = _per_call_ms(pyld_canonize, max(args.repeat // 5, 20))

    print(f"eddsa-rdfc-2022 vector credential ({size} bytes with its proof)")
    print(f"  vcred  first call (contexts loaded + processed)   {cold:8.3f} ms")
    print(f"  vcred  warm, document                              {warm:8.3f} ms")
    print(f"  vcred  warm, document + proof configuration        {both:8.3f} ms")
    print(f"  pyld   first call                                  {pyld_cold:8.3f} ms")
    print(f"  pyld   warm, document                              {pyld_warm:8.3f} ms")
    print(f"  speed-up over pyld (warm document)                 {pyld_warm / warm:8.1f} x")


if __name__ == "__main__":
    main()
