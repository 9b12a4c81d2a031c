"""verify_many: same answers as one-by-one, in order, bad ones included."""

from __future__ import annotations

import dataclasses
import pickle
from typing import Any

import pytest

from tests.conftest import NOW, credential
from vcred import Verifier, issue, verify_many
from vcred.keys import KeyPair
from vcred.verifier import VerificationResult


def test_verify_many_matches_sequential_results_in_order() -> None:
    key = KeyPair.generate()
    good = str(issue(credential(), key))
    bad = good[:-6] + ("A" if good[-6] != "A" else "B") + good[-5:]
    items = [good if i % 7 else bad for i in range(150)] + ["garbage", {"no": "proof"}]
    verifier = Verifier(clock=lambda: NOW)
    results = verify_many(items, verifier=verifier, processes=2)
    assert [r.verified for r in results] == [verifier.verify(i).verified for i in items]
    assert results[0].codes == ("INVALID_SIGNATURE",)
    assert results[1].verified
    assert results[-2].codes == ("PARSING_ERROR",)


def test_workers_use_the_callers_verifier_configuration() -> None:
    key = KeyPair.generate()
    token = str(issue(credential(validUntil="2026-02-01T00:00:00Z"), key))
    results = verify_many([token] * 100, verifier=Verifier(clock=lambda: NOW), processes=2)
    assert {r.codes for r in results} == {("EXPIRED",)}


def test_small_batches_run_in_process() -> None:
    key = KeyPair.generate()
    assert all(r.verified for r in verify_many([issue(credential(), key)] * 3))


def test_a_worker_that_dies_costs_time_not_results(monkeypatch: Any) -> None:
    import os

    from vcred import batch

    def dying(verifier: Any, credentials: Any, chunks: int, counter: Any, answers: Any) -> None:
        batch._take(counter, chunks)  # takes a chunk, then is killed before answering
        os._exit(1)

    monkeypatch.setattr(batch, "_work", dying)
    monkeypatch.setattr(batch, "_RESULT_WAIT", 0.1)
    key = KeyPair.generate()
    tokens = [str(issue(credential(id=f"urn:uuid:{i:032x}"), key)) for i in range(300)]
    results = verify_many(tokens, verifier=Verifier(clock=lambda: NOW), processes=2)
    assert len(results) == 300
    assert all(r.verified for r in results)
    assert [r.credential["id"] for r in results if r.credential] == [
        f"urn:uuid:{i:032x}" for i in range(300)
    ]


def test_results_from_workers_equal_the_sequential_ones_field_by_field() -> None:
    key = KeyPair.generate()
    good = str(issue(credential(), key))
    bad = good[:-6] + ("A" if good[-6] != "A" else "B") + good[-5:]
    items = [good, bad, "garbage"] * 30
    verifier = Verifier(clock=lambda: NOW)
    sequential = [verifier.verify(item) for item in items]
    assert verify_many(items, verifier=verifier, processes=2) == sequential
    assert sequential == verify_many(items, verifier=verifier, processes=2)


def test_a_workers_credential_is_decoded_only_when_read() -> None:
    from vcred import batch

    key = KeyPair.generate()
    tokens = [str(issue(credential(id=f"urn:uuid:{i:032x}"), key)) for i in range(100)]
    results = verify_many(tokens, verifier=Verifier(clock=lambda: NOW), processes=2)
    first = results[0]
    assert batch._CREDENTIAL_SLOT.__get__(first, VerificationResult) is batch._PENDING
    assert first.credential is not None and first.credential["id"] == f"urn:uuid:{0:032x}"
    assert batch._CREDENTIAL_SLOT.__get__(first, VerificationResult) is first.credential


def test_a_workers_result_behaves_as_a_verification_result() -> None:
    key = KeyPair.generate()
    tokens = [str(issue(credential(id=f"urn:uuid:{i:032x}"), key)) for i in range(100)]
    verifier = Verifier(clock=lambda: NOW)
    result = verify_many(tokens, verifier=verifier, processes=2)[5]
    expected = verifier.verify(tokens[5])
    assert isinstance(result, VerificationResult)
    assert repr(result) == repr(expected)
    assert pickle.loads(pickle.dumps(result)) == expected  # noqa: S301 (our own bytes)
    changed = dataclasses.replace(result, verified=False)
    assert not changed.verified and changed.credential == expected.credential
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.credential = {}  # type: ignore[misc]
    assert result.to_dict() == expected.to_dict()
