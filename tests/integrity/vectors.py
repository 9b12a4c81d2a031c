"""Tiny loaders for ../shared/vectors/w3c (the EdDSA and ECDSA cryptosuite test vectors)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from tests.conftest import ROOT, VECTORS, require_shared
from vcred.integrity.suites import SUITES, Cryptosuite
from vcred.jsonld import ContextLoader
from vcred.keys import KeyPair

W3C = VECTORS / "w3c"
CITIZENSHIP = "https://w3id.org/citizenship/v4rc1"


@cache
def vector_loader() -> ContextLoader:
    """Our contexts plus the test-only stand-in for the citizenship context (tests/data).

    The ``employ`` vectors use https://w3id.org/citizenship/v4rc1, which vcred does not
    bundle; without it they fail with INVALID_CONTEXT, as any unknown context does.
    """
    loader = ContextLoader()
    content = (ROOT / "tests/data/citizenship-v4rc1-subset.jsonld").read_bytes()
    loader.register(CITIZENSHIP, content, sha256=hashlib.sha256(content).hexdigest())
    return loader


def read_json(path: Path) -> Any:
    if path.is_relative_to(VECTORS):
        require_shared(VECTORS)
    return json.loads(path.read_text(encoding="utf-8"))


@dataclass(frozen=True, slots=True)
class SuiteVector:
    """One folder of step-by-step values for one suite and one input document."""

    name: str  # e.g. "ecdsa-rdfc-2019-p384/employ"
    folder: Path
    suite: Cryptosuite
    key: KeyPair
    unsigned: dict[str, Any]

    def _one(self, prefix: str) -> Path:
        (path,) = self.folder.glob(f"{prefix}*")
        return path

    def text(self, prefix: str) -> bytes:
        return self._one(prefix).read_bytes()

    def hex(self, prefix: str) -> bytes:
        return bytes.fromhex(self._one(prefix).read_text().strip())

    def json(self, prefix: str) -> Any:
        return read_json(self._one(prefix))

    @property
    def employ(self) -> bool:
        return self.folder.name == "employ"


def _key(path: Path) -> KeyPair:
    data = read_json(path)
    return KeyPair.from_multikey(data.get("secretKeyMultibase") or data["privateKeyMultibase"])


@cache
def suite_vectors() -> tuple[SuiteVector, ...]:
    require_shared(VECTORS)
    found = []
    for family, keys in (("eddsa", {"": "keyPair.json"}), ("ecdsa", None)):
        for folder in sorted((W3C / family).glob("*-20*")):
            if folder.name == "ecdsa-sd-2023":  # selective disclosure: another issue
                continue
            suite_name = folder.name.removesuffix("-p256").removesuffix("-p384")
            curve = folder.name[len(suite_name) + 1 :]
            key_file = keys[""] if keys else f"{curve}KeyPair.json"
            for case in (folder, folder / "employ"):
                if not case.is_dir():
                    continue
                unsigned = "employmentAuth.json" if case.name == "employ" else "unsigned.json"
                found.append(
                    SuiteVector(
                        name=str(case.relative_to(W3C / family)),
                        folder=case,
                        suite=SUITES[suite_name],
                        key=_key(W3C / family / key_file),
                        unsigned=read_json(W3C / family / unsigned),
                    )
                )
    return tuple(found)


def signed_documents() -> list[Path]:
    """Every signed document of the eddsa and ecdsa suites, proof sets and chains included.

    Not Ed25519Signature2020 (a legacy suite we do not implement), not ecdsa-sd-2023 (selective
    disclosure, another issue), and not proofChainTempDoc*.json: those are the intermediate
    inputs of a chain, whose previousProof names proofs they do not carry.
    """
    if not W3C.is_dir():
        return []  # the tests parametrized over them are skipped (an empty parameter set)
    paths = [
        *W3C.glob("eddsa/eddsa-*/**/signed*.json"),
        *W3C.glob("ecdsa/ecdsa-*-2019-*/**/signed*.json"),
        *W3C.glob("eddsa/proof-set-chain/signed*.json"),
    ]
    return sorted(paths)
