"""Data Integrity: sign and verify per cryptosuite, with canonicalization broken out.

Run ``python bench/bench_integrity.py [--rounds N]``; it prints a table of medians (ms):

- ``sign`` / ``verify``: a whole proof (:func:`vcred.integrity.add_proof` /
  :func:`vcred.integrity.verify_document`, did:key resolution included), warm caches;
- ``canon``: the transformation and the proof configuration alone (RDFC-1.0 or JCS), and its
  share of ``verify``;
- ``cold`` / ``warm``: canonicalizing a credential with a fresh context loader, then a second,
  different credential with the same ``@context`` on that loader — which must not load or
  process any context again (checked, not just timed);
- then ecdsa-sd-2023 (P-256): ``sign`` a base proof (issuer/validity mandatory), ``derive``
  a credential revealing two subject claims, ``verify`` it — and the same for the sample
  ExportBillingAttestation with its amounts hidden.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from vcred.customs import samples
from vcred.integrity import SUITES, add_base_proof, add_proof, derive, verify_document
from vcred.integrity.formats import default_mandatory_pointers
from vcred.integrity.suites import Cryptosuite, configure_proof, transform
from vcred.issuing import signer_for
from vcred.jsonld import ContextLoader
from vcred.keys import KeyKind, KeyPair
from vcred.verifier import Verifier

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
CASES: list[tuple[str, KeyKind]] = [
    ("eddsa-rdfc-2022", "ed25519"),
    ("eddsa-jcs-2022", "ed25519"),
    ("ecdsa-rdfc-2019", "p256"),
    ("ecdsa-rdfc-2019", "p384"),
    ("ecdsa-jcs-2019", "p256"),
    ("ecdsa-jcs-2019", "p384"),
]


def aeo_credential(n: int, issuer: str) -> dict[str, Any]:
    """An AEO-certificate-shaped credential; ``n`` varies the values, not the shape."""
    return {
        "@context": [
            "https://www.w3.org/ns/credentials/v2",
            "https://www.w3.org/ns/credentials/examples/v2",
        ],
        "id": f"urn:uuid:0d2b8f4e-3f5a-4bd6-9a7c-{n:012d}",
        "type": ["VerifiableCredential", "AEOCertificateCredential"],
        "issuer": issuer,
        "validFrom": "2026-01-01T00:00:00Z",
        "validUntil": "2027-01-01T00:00:00Z",
        "credentialSubject": {
            "id": f"did:example:trader-{n}",
            "legalName": f"Harbour Lights Trading {n}",
            "country": "NL",
            "identifiers": [
                {"scheme": "EORI", "value": f"NL{n:09d}"},
                {"scheme": "CTPAT", "value": f"{n:08d}"},
            ],
            "certification": {
                "programme": "EU AEO",
                "tier": "AEOF",
                "tradeRoles": ["importer", "exporter"],
                "certifiedSince": "2019-03-01",
            },
        },
    }


class CountingLoader(ContextLoader):
    """A context loader that counts the context documents it hands out."""

    def __init__(self) -> None:
        super().__init__()
        self.loads = 0

    def load(self, url: str) -> dict[str, Any]:
        self.loads += 1
        return super().load(url)


def median_ms(run: Callable[[], object], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def canonicalize(suite: Cryptosuite, secured: dict[str, Any], kind: KeyKind, loader: Any) -> None:
    proof = secured["proof"]
    options = {k: v for k, v in proof.items() if k != "proofValue"}
    document = {k: v for k, v in secured.items() if k != "proof"}
    transform(suite, document, options, kind=kind, loader=loader)
    configure_proof(suite, document, options, kind=kind, loader=loader)


def bench_case(name: str, kind: KeyKind, rounds: int) -> dict[str, Any]:
    suite = SUITES[name]
    signer = signer_for(KeyPair.generate(kind))
    issuer = signer.key_id.split("#")[0]
    lookup = Verifier().method_lookup
    credential = aeo_credential(1, issuer)
    secured = add_proof(credential, signer, suite=suite, created=NOW)
    other = add_proof(aeo_credential(2, issuer), signer, suite=suite, created=NOW)

    def sign() -> object:
        return add_proof(credential, signer, suite=suite, created=NOW)

    def verify() -> object:
        return verify_document(secured, purpose="assertionMethod", lookup=lookup, now=NOW)

    warm_loader = CountingLoader()
    canonicalize(suite, secured, kind, warm_loader)
    row: dict[str, Any] = {
        "suite": f"{name} ({kind})",
        "sign": median_ms(sign, rounds),
        "verify": median_ms(verify, rounds),
        "canon": median_ms(lambda: canonicalize(suite, other, kind, warm_loader), rounds),
    }
    row["share"] = row["canon"] / row["verify"]

    cold_loads: list[int] = []

    def cold() -> None:
        loader = CountingLoader()
        canonicalize(suite, secured, kind, loader)
        cold_loads.append(loader.loads)

    row["cold"] = median_ms(cold, rounds)
    loader = CountingLoader()
    canonicalize(suite, secured, kind, loader)
    before = (loader.loads, len(loader.processed))
    row["warm"] = median_ms(lambda: canonicalize(suite, other, kind, loader), rounds)
    after = (loader.loads, len(loader.processed))
    if suite.transformation == "rdfc" and after != before:
        raise SystemExit(f"{name}: a second credential of the same shape processed contexts again")
    row["contexts"] = f"{max(cold_loads)}/{after[0] - before[0]}"
    return row


def bench_selective(
    name: str, credential: dict[str, Any], signer: Any, selective: list[str], rounds: int
) -> None:
    """ecdsa-sd-2023: base proof, derivation, verification of the derived credential."""
    mandatory = default_mandatory_pointers(credential)
    lookup = Verifier().method_lookup
    base = add_base_proof(credential, signer, mandatory_pointers=mandatory, created=NOW)
    derived = derive(base, selective)

    def sign() -> object:
        return add_base_proof(credential, signer, mandatory_pointers=mandatory, created=NOW)

    def verify() -> object:
        return verify_document(derived, purpose="assertionMethod", lookup=lookup, now=NOW)

    sign_ms = median_ms(sign, rounds)
    derive_ms = median_ms(lambda: derive(base, selective), rounds)
    verify_ms = median_ms(verify, rounds)
    print(f"{name:<26}{sign_ms:>10.2f}{derive_ms:>10.2f}{verify_ms:>10.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=50)
    rounds = parser.parse_args().rounds
    header = ("suite", "sign", "verify", "canon", "share", "cold", "warm", "ctx loads c/w")
    print(f"medians of {rounds} rounds, ms — Python {sys.version.split()[0]}")
    print(
        f"{header[0]:<26}"
        + "".join(f"{h:>10}" for h in header[1:5])
        + "".join(f"{h:>10}" for h in header[5:7])
        + f"{header[7]:>15}"
    )
    for name, kind in CASES:
        row = bench_case(name, kind, rounds)
        print(
            f"{row['suite']:<26}{row['sign']:>10.2f}{row['verify']:>10.2f}{row['canon']:>10.2f}"
            f"{row['share']:>10.0%}{row['cold']:>10.2f}{row['warm']:>10.2f}{row['contexts']:>15}"
        )
    print()
    print(
        f"{'ecdsa-sd-2023 (p256)':<26}" + "".join(f"{h:>10}" for h in ("sign", "derive", "verify"))
    )
    signer = signer_for(KeyPair.generate("p256"))
    issuer = signer.key_id.split("#")[0]
    subject = ["/credentialSubject/country", "/credentialSubject/certification/tier"]
    bench_selective("AEO certificate", aeo_credential(1, issuer), signer, subject, rounds)
    billing = {**samples.export_billing_attestation("de-to-us"), "issuer": issuer}
    bench_selective("billing, amounts hidden", billing, signer, [], rounds)


if __name__ == "__main__":
    main()
