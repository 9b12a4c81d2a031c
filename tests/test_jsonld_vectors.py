"""The W3C cryptosuite test vectors, expanded and canonicalized.

1. Every JSON-LD document under ``../shared/vectors/w3c`` canonicalizes to exactly the same
   N-Quads with our contexts as with the published ones.
2. For the RDFC suites, the canonical documents equal the vectors' ``canonDoc*.txt`` /
   ``proofCanon*.txt`` byte for byte; for ecdsa-sd-2023, the base document's canonical quads
   and their HMAC relabelling equal ``addBaseDocCanon.json`` / ``addBaseDocHMACCanon.json``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import VECTORS as SHARED_VECTORS
from tests.conftest import require_shared
from tests.test_contexts import published_loader
from vcred import rdfc
from vcred.jsonld import ContextLoader, canonical_dataset, canonicalize_document, expand

VECTORS = require_shared(SHARED_VECTORS) / "w3c"
DATA = Path(__file__).parent / "data"
CITIZENSHIP = "https://w3id.org/citizenship/v4rc1"


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _with_citizenship(loader: ContextLoader) -> ContextLoader:
    content = (DATA / "citizenship-v4rc1-subset.jsonld").read_bytes()
    loader.register(CITIZENSHIP, content, sha256=hashlib.sha256(content).hexdigest())
    return loader


@cache
def ours() -> ContextLoader:
    return _with_citizenship(ContextLoader())


@cache
def published() -> ContextLoader:
    loader = published_loader()
    if CITIZENSHIP not in loader:
        _with_citizenship(loader)
    return loader


def jsonld_documents() -> list[Path]:
    """Every vector file that is a JSON-LD document (a JSON object with @context)."""
    found = []
    for path in sorted(VECTORS.rglob("*.json")):
        document = read_json(path)
        if isinstance(document, dict) and "@context" in document:
            found.append(path)
    return found


def _id(path: Path) -> str:
    return str(path.relative_to(VECTORS))


DOCUMENTS = jsonld_documents()


def test_the_vectors_are_there() -> None:
    assert len(DOCUMENTS) >= 40


@pytest.mark.parametrize("path", DOCUMENTS, ids=_id)
def test_same_canonical_nquads_with_our_contexts_and_published_ones(path: Path) -> None:
    document = read_json(path)
    expected = canonicalize_document(document, loader=published())
    assert canonicalize_document(document, loader=ours()) == expected
    assert expected  # something was signed
    assert expand(document, loader=ours()) == expand(document, loader=published())


# (folder, signed document, proof configuration, canonical document, canonical proof config)
RDFC_SUITES = [
    (
        "eddsa/eddsa-rdfc-2022",
        "signedDataInt.json",
        "proofConfigDataInt.json",
        "canonDocDataInt.txt",
        "proofCanonDataInt.txt",
    ),
    (
        "eddsa/eddsa-rdfc-2022/employ",
        "signedDataInt.json",
        "proofConfigDataInt.json",
        "canonDocDataInt.txt",
        "proofCanonDataInt.txt",
    ),
    (
        "eddsa/Ed25519Signature2020",
        "signedEdSig.json",
        "proofConfigEdSig.json",
        "canonDocEdSig.txt",
        "proofCanonEdSig.txt",
    ),
    (
        "ecdsa/ecdsa-rdfc-2019-p256",
        "signedECDSAP256.json",
        "proofConfigECDSAP256.json",
        "canonDocECDSAP256.txt",
        "proofCanonECDSAP256.txt",
    ),
    (
        "ecdsa/ecdsa-rdfc-2019-p256/employ",
        "signedECDSAP256.json",
        "proofConfigECDSAP256.json",
        "canonDocECDSAP256.txt",
        "proofCanonECDSAP256.txt",
    ),
    (
        "ecdsa/ecdsa-rdfc-2019-p384",
        "signedECDSAP384.json",
        "proofConfigECDSAP384.json",
        "canonDocECDSAP384.txt",
        "proofCanonECDSAP384.txt",
    ),
    (
        "ecdsa/ecdsa-rdfc-2019-p384/employ",
        "signedECDSAP384.json",
        "proofConfigECDSAP384.json",
        "canonDocECDSAP384.txt",
        "proofCanonECDSAP384.txt",
    ),
]
RDFC_SUITES = [suite for suite in RDFC_SUITES if (VECTORS / suite[0] / suite[3]).exists()]


def hash_for(folder: str) -> str:
    """ecdsa-rdfc-2019 canonicalizes with SHA-384 when the key is P-384 (as Digital Bazaar does)."""
    return "sha384" if "p384" in folder else "sha256"


@pytest.mark.parametrize(
    ("folder", "signed", "config", "canon_doc", "canon_proof"),
    RDFC_SUITES,
    ids=[s[0] for s in RDFC_SUITES],
)
def test_canonical_document_matches_vector(
    folder: str, signed: str, config: str, canon_doc: str, canon_proof: str
) -> None:
    directory = VECTORS / folder
    document = read_json(directory / signed)
    del document["proof"]
    canonical = canonicalize_document(document, loader=ours(), hash_algorithm=hash_for(folder))
    assert canonical == (directory / canon_doc).read_text(encoding="utf-8")


def test_p384_employ_vector_needs_the_sha384_rdfc_hash() -> None:
    """Same dataset as the P-256 one; only the RDFC hash (SHA-384) gives its blank-node labels."""
    p384 = (VECTORS / "ecdsa/ecdsa-rdfc-2019-p384/employ/canonDocECDSAP384.txt").read_text()
    p256 = (VECTORS / "ecdsa/ecdsa-rdfc-2019-p256/employ/canonDocECDSAP256.txt").read_text()
    assert p384 != p256
    assert rdfc.canonicalize_nquads(p384).nquads == p256
    assert rdfc.canonicalize_nquads(p256, hash_algorithm="sha384").nquads == p384


@pytest.mark.parametrize(
    ("folder", "signed", "config", "canon_doc", "canon_proof"),
    RDFC_SUITES,
    ids=[s[0] for s in RDFC_SUITES],
)
def test_canonical_proof_configuration_matches_vector(
    folder: str, signed: str, config: str, canon_doc: str, canon_proof: str
) -> None:
    directory = VECTORS / folder
    expected = (directory / canon_proof).read_text(encoding="utf-8")
    assert canonicalize_document(read_json(directory / config), loader=ours()) == expected


SD_FOLDERS = [p.name for p in sorted((VECTORS / "ecdsa" / "ecdsa-sd-2023").glob("*")) if p.is_dir()]


def _hmac_label(key: bytes, canonical_id: str) -> str:
    digest = hmac.new(key, canonical_id.encode(), hashlib.sha256).digest()
    return "u" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@pytest.mark.parametrize("folder", SD_FOLDERS)
def test_ecdsa_sd_base_document_canonical_quads_and_hmac_relabelling(folder: str) -> None:
    directory = VECTORS / "ecdsa" / "ecdsa-sd-2023" / folder
    document = read_json(directory / "addSignedSDBase.json")
    del document["proof"]
    dataset = canonical_dataset(document, loader=ours())
    assert list(dataset.lines) == read_json(directory / "addBaseDocCanon.json")
    key = bytes.fromhex(
        read_json(VECTORS / "ecdsa" / "ecdsa-sd-2023" / "SDKeyMaterial.json")["hmacKeyString"]
    )
    labels = {canonical: _hmac_label(key, canonical) for canonical in dataset.issued.values()}
    assert rdfc.relabel(dataset.lines, labels) == read_json(directory / "addBaseDocHMACCanon.json")


@pytest.mark.parametrize("folder", SD_FOLDERS)
def test_ecdsa_sd_proof_configuration_canonical_form(folder: str) -> None:
    directory = VECTORS / "ecdsa" / "ecdsa-sd-2023" / folder
    expected = (directory / "addProofConfigCanon.txt").read_text(encoding="utf-8")
    assert (
        canonicalize_document(read_json(directory / "addProofConfig.json"), loader=ours())
        == expected
    )
