"""A receipt says exactly what was checked (docs/security.md §13.31), pinned over the cases
a verification can end in: verified, refused for a status or for a forged signature, and
narrowed to fewer checks. For each receipt: its verdict and codes
are the answer's; the checks it lists ran (with the outcome the answer reports), and every
check a "verified" receipt does not list is named as not requested (a refusal lists the checks
run until it); the audit-chain entry it names exists, has
the hash it states and names it back; and it verifies only under the verifier's key."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask

from tests.verifier.conftest import Agency, tamper
from tests.verifier.test_receipts import receipt_claims
from vcred.cli import main
from vcred.keys import KeyPair
from vcred.verifier import CHECKS


def _revoked(agency: Agency) -> Any:
    credential = agency.aeo_certificate()
    token = agency.issue(credential)
    agency.set(credential, "revoked")
    return token


#: name → (the credential sent, the options beside ``receipt``, the verdict expected)
CASES: dict[str, tuple[Callable[[Agency], Any], dict[str, Any], bool]] = {
    "verified": (lambda a: a.issue(a.aeo_certificate()), {}, True),
    "revoked": (_revoked, {}, False),
    "forged": (lambda a: tamper(a.issue(a.aeo_certificate())), {}, False),
    "revoked, proof only": (_revoked, {"checks": ["proof"]}, True),
    "revoked, status asked": (_revoked, {"checks": ["status"]}, False),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_receipt_says_exactly_what_was_checked(
    receipt_app: Flask, agency: Agency, receipt_key: KeyPair, tmp_path: Path, case: str
) -> None:
    make, options, verdict = CASES[case]
    answer = receipt_app.test_client().post(
        "/credentials/verify",
        json={"verifiableCredential": make(agency), "options": {"receipt": True, **options}},
    )
    body = answer.get_json()
    assert body["verified"] is verdict, body
    receipt = body["receipt"]
    claims = receipt_claims(receipt)
    subject = claims["credentialSubject"]
    # the verdict and its codes, as answered (a failed verification's receipt says failed)
    assert subject["verified"] is verdict
    assert subject["errors"] == [p["code"] for p in body.get("problemDetails", [])]
    # the checks listed are those run; the others are named as not requested, none twice
    listed = [c["check"] for c in subject["checks"]]
    left_out = subject.get("checksNotRequested", [])
    assert len(set(listed)) == len(listed) and not set(listed) & set(left_out)
    assert set(listed) | set(left_out) <= set(CHECKS)
    if verdict:  # a verdict of "verified" accounts for every check: run, or not asked for
        assert set(listed) | set(left_out) == set(CHECKS)
    if "checks" in options:
        assert set(options["checks"]) <= set(listed) and left_out
    else:
        assert not left_out
    # each with the outcome the answer reports
    words = {True: "passed", False: "failed", None: "notEvaluated"}
    answered = [(c["check"], words[c["passed"]]) for c in body.get("checks", [])]
    assert [(c["check"], c["outcome"]) for c in subject["checks"]] == answered
    if verdict:
        assert all(c["outcome"] != "failed" for c in subject["checks"])
    else:
        assert subject["errors"]
    # the chain's entry it names: there, with that hash, naming this receipt and verdict
    storage = receipt_app.extensions["vcred_verifier"].storage
    storage.flush()
    named = subject["auditEntry"]
    (entry,) = [e for e in storage.audit.entries() if e["seq"] == named["seq"]]
    assert entry["hash"] == named["hash"]
    assert entry["details"]["receipt"] == claims["id"]
    assert entry["details"]["verified"] is verdict
    # it verifies under the verifier's key, and under no other
    path, key = tmp_path / "receipt.jwt", tmp_path / "key.jwk"
    path.write_text(receipt)
    key.write_text(json.dumps(receipt_key.public.jwk()))
    good = CliRunner().invoke(main, ["verify", str(path), "--key", str(key)])
    assert good.exit_code == 0, good.output
    key.write_text(json.dumps(KeyPair.generate("ed25519").public.jwk()))
    other = CliRunner().invoke(main, ["verify", str(path), "--key", str(key)])
    assert other.exit_code != 0
    assert not isinstance(other.exception, Exception) or isinstance(other.exception, SystemExit)
