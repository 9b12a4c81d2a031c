"""verify_many: same answers as one-by-one, in order, bad ones included."""

from __future__ import annotations

from typing import Any

from tests.conftest import NOW, credential
from vcred import Verifier, issue, verify_many
from vcred.keys import KeyPair


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
