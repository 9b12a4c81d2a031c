"""Project Wycheproof signature vectors through vcred's verifier (issue 2, item 8).

The vectors are read in place from ../shared/vectors/wycheproof when that folder is present
(the shared folder of this workplace does not carry them today, and they are not copied into
the project): Ed25519 (``eddsa_verify_schema``) and ECDSA in the raw r‖s form JWS and Data
Integrity use (``ecdsa_p1363_verify_schema``) for P-256/SHA-256 and P-384/SHA-384.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import VECTORS
from vcred.errors import VcredError
from vcred.keys import PublicKey

FOLDER = VECTORS / "wycheproof"
# (schema, curve, hash) → our key kind; other combinations are not algorithms we use
KINDS = {
    ("eddsa_verify_schema", "edwards25519", None): "ed25519",
    ("ecdsa_p1363_verify_schema", "secp256r1", "SHA-256"): "p256",
    ("ecdsa_p1363_verify_schema", "secp384r1", "SHA-384"): "p384",
}


def _cases(folder: Path = FOLDER) -> list[Any]:
    cases = []
    for path in sorted(folder.glob("**/*.json")) if folder.is_dir() else []:
        data = json.loads(path.read_text())
        schema = str(data.get("schema", "")).removesuffix(".json").removesuffix("_v1")
        for group in data.get("testGroups", []):
            key = group.get("publicKey", {})
            kind = KINDS.get((schema, key.get("curve"), group.get("sha")))
            if kind is None:
                continue
            raw = bytes.fromhex(key["pk"] if kind == "ed25519" else key["uncompressed"])
            for test in group["tests"]:
                cases.append(pytest.param(kind, raw, test, id=f"{path.stem}-{test['tcId']}"))
    return cases


CASES = _cases()


def check_vector(kind: str, raw_key: bytes, test: dict[str, Any]) -> None:
    try:
        key = PublicKey.from_raw(kind, raw_key)
    except VcredError:
        # we refuse some keys outright (small-order Ed25519 points, off-curve EC points):
        # then no signature under them may be valid
        assert test["result"] != "valid", test
        return
    accepted = key.verify(bytes.fromhex(test["sig"]), bytes.fromhex(test["msg"]))
    if test["result"] == "valid":
        assert accepted, test
    elif test["result"] == "invalid":
        assert not accepted, test
    # "acceptable": either answer is allowed (e.g. ECDSA high-S, which JWS does not forbid)


if CASES:

    @pytest.mark.parametrize(("kind", "raw_key", "test"), CASES)
    def test_wycheproof_vector(kind: str, raw_key: bytes, test: dict[str, Any]) -> None:
        check_vector(kind, raw_key, test)


def test_the_vector_folder_is_reported() -> None:
    """Says plainly whether the Wycheproof vectors ran (they are not copied into the project)."""
    if not CASES:
        pytest.skip(
            f"no Wycheproof vectors at {Path(FOLDER)}: the edge cases are covered by "
            "tests/test_keys.py (small-order keys, S ≥ L, r or s = 0, DER, high-S)"
        )
    assert len(CASES) > 100


def test_the_loader_reads_both_schemas(tmp_path: Path) -> None:
    # RFC 8032 §7.1 test 1 in Wycheproof's layout, plus the same signature made invalid
    vector = {
        "schema": "eddsa_verify_schema_v1.json",
        "testGroups": [
            {
                "publicKey": {
                    "curve": "edwards25519",
                    "pk": "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
                },
                "tests": [
                    {"tcId": 1, "msg": "", "result": "valid", "sig": RFC8032_SIG},
                    {"tcId": 2, "msg": "00", "result": "invalid", "sig": RFC8032_SIG},
                ],
            }
        ],
    }
    (tmp_path / "ed25519_test.json").write_text(json.dumps(vector))
    cases = _cases(tmp_path)
    assert [case.id for case in cases] == ["ed25519_test-1", "ed25519_test-2"]
    for case in cases:
        check_vector(*case.values)


RFC8032_SIG = (
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"  # R
    "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"  # S
)
