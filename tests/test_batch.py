"""verify_many: same answers as one-by-one, in order, bad ones included."""

from __future__ import annotations

import dataclasses
import json
import multiprocessing
import os
import pickle
import struct
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import pytest

from tests.conftest import NOW, credential
from vcred import Verifier, did_key, issue, verify_many
from vcred.did.web import did_web_document, did_web_url
from vcred.issuing import signer_for
from vcred.keys import KeyPair
from vcred.net import DEFAULT_MAX_BYTES
from vcred.status import status_list_credential_for
from vcred.testing import MemoryIndexStore, StaticFetcher
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
    from vcred import batch

    def dying(
        verifier: Any, credentials: Any, chunks: int, counter: Any, answers: Any, progress: Any
    ) -> None:
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


# --- forking from a process whose other threads hold locks --------------------------------
# A lock another thread holds at the moment of a fork stays held forever in the child. A
# service forks its batch workers from a gunicorn worker running a history flusher, a status
# refresher and fetches in progress: a worker must still answer, and verify_many must end.

_HANG = 20.0  # seconds after which verify_many counts as hung (a passing run takes < 2 s)
LIST_URL = "https://customs.example/status/1"
WEB_ISSUER = "did:web:customs.example"


def _finishes(call: Callable[[], list[VerificationResult]]) -> list[VerificationResult]:
    """``call()``'s answer, run in another thread (so the one that holds locks is not the
    forking one); fails the test when it hangs, after terminating the forked workers so that
    the call ends by itself once the test lets its locks go."""
    answers: list[list[VerificationResult]] = []
    thread = threading.Thread(
        target=lambda: answers.append(call()), name="vcred-test-batch", daemon=True
    )
    thread.start()
    thread.join(_HANG)
    if thread.is_alive():
        for child in multiprocessing.active_children():
            child.terminate()
        pytest.fail(f"verify_many hung: no answer within {_HANG} s")
    return answers[0]


def _assert_complete_and_in_order(*, processes: int) -> None:
    """verify_many of 300 credentials ends and gives each one's own result, in order."""
    key = KeyPair.generate()
    tokens = [str(issue(credential(id=f"urn:uuid:{i:032x}"), key)) for i in range(300)]
    verifier = Verifier(clock=lambda: NOW)
    results = _finishes(lambda: verify_many(tokens, verifier=verifier, processes=processes))
    assert results == [verifier.verify(token) for token in tokens]


class _FirstFetchWaits:
    """A fetcher whose first fetch waits until ``release`` (a slow network); later ones,
    and every one in a process forked after it began, answer at once."""

    def __init__(self, inner: StaticFetcher) -> None:
        self.inner = inner
        self.started = threading.Event()
        self.release = threading.Event()
        self._first = True

    def fetch(self, url: str, *, accept: str, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
        if self._first:
            self._first = False
            self.started.set()
            self.release.wait()
        return self.inner.fetch(url, accept=accept, max_bytes=max_bytes)


def _with_status(key: KeyPair, fetcher: StaticFetcher) -> str:
    """A credential with a revocation entry in a list published through ``fetcher``."""
    store = MemoryIndexStore()
    allocation = store.allocate("revocation")
    issuer = did_key(key.public)
    unsigned = status_list_credential_for(
        store, allocation.list_id, list_url=LIST_URL, issuer=issuer, valid_from=NOW
    )
    fetcher.publish(LIST_URL, str(issue(unsigned, key)))
    entry = allocation.entry(LIST_URL).to_json()
    return str(issue(credential(credentialStatus=[entry]), key))


def test_a_status_list_fetch_in_progress_in_another_thread_does_not_hang_the_workers() -> None:
    key = KeyPair.generate()
    fetcher = _FirstFetchWaits(StaticFetcher())
    token = _with_status(key, fetcher.inner)
    verifier = Verifier(fetcher=fetcher, clock=lambda: NOW)
    # the refresher's fetch of the list: it holds the cache's load lock of LIST_URL meanwhile
    refresher = threading.Thread(
        target=verifier.verify, args=(token,), name="vcred-test-refresh", daemon=True
    )
    refresher.start()
    assert fetcher.started.wait(_HANG)
    try:
        results = _finishes(lambda: verify_many([token] * 100, verifier=verifier, processes=2))
    finally:
        fetcher.release.set()
        refresher.join()
    assert results[0].verified, results[0].errors
    assert results[0].status[0].value == 0
    assert results == [verifier.verify(token)] * 100


def test_the_did_resolvers_lock_held_by_another_thread_does_not_hang_the_workers() -> None:
    key = KeyPair.generate()
    fetcher = StaticFetcher()
    fetcher.publish(did_web_url(WEB_ISSUER), json.dumps(did_web_document(WEB_ISSUER, [key.public])))
    signer = signer_for(key, did=WEB_ISSUER)
    tokens = [
        str(issue(credential(issuer=WEB_ISSUER, id=f"urn:uuid:{i:032x}"), signer))
        for i in range(100)
    ]
    verifier = Verifier(fetcher=fetcher, clock=lambda: NOW)
    expected = [verifier.verify(token) for token in tokens]  # the document is cached now
    assert all(result.verified for result in expected), expected[0].errors
    with verifier._resolver._web_cache._lock:  # held by this thread; the fork is another's
        results = _finishes(lambda: verify_many(tokens, verifier=verifier, processes=2))
    assert results == expected


def _first_chunk_goes_wrong(
    monkeypatch: pytest.MonkeyPatch,
    wrong: Callable[[Any], None],
    *,
    of: Sequence[Any] | None = None,
) -> None:
    """Workers that work as usual, except that the one taking the first chunk (of the batch
    ``of`` only, when given) does ``wrong(answers)`` with it (its pipe) instead of answering."""
    from vcred import batch

    working = batch._work

    def work(
        verifier: Any, credentials: Any, chunks: int, counter: Any, answers: Any, progress: Any
    ) -> None:
        if (of is None or credentials is of) and batch._take(counter, chunks) == 0:
            wrong(answers)
        working(verifier, credentials, chunks, counter, answers, progress)

    monkeypatch.setattr(batch, "_work", work)


def test_a_worker_that_never_answers_is_stopped_and_its_chunks_verified_here(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from vcred import batch

    # deadlocked for a reason no lock renewal reaches
    _first_chunk_goes_wrong(monkeypatch, lambda _: threading.Event().wait())
    monkeypatch.setattr(batch, "_RESULT_WAIT", 0.1)
    monkeypatch.setattr(batch, "STALL_SECONDS", 1.0)
    _assert_complete_and_in_order(processes=2)
    assert not multiprocessing.active_children()


def test_a_worker_killed_halfway_through_an_answer_costs_time_not_results(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def killed_while_answering(answers: Any) -> None:
        # an answer's length, then less than a tenth of a block of it: the rest never comes
        os.write(answers.fileno(), struct.pack("!i", 1 << 20) + b"\x80\x04\x95")
        os._exit(1)

    _first_chunk_goes_wrong(monkeypatch, killed_while_answering)
    _assert_complete_and_in_order(processes=2)


def test_a_chunk_slower_than_the_stall_bound_is_not_taken_for_stuck(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each credential takes a while (slow status-list fetches), a whole chunk longer than
    STALL_SECONDS: the workers are verifying, so they are left to finish, and the calling
    process verifies none of the batch again."""
    from vcred import batch

    monkeypatch.setattr(batch, "_RESULT_WAIT", 0.1)
    monkeypatch.setattr(batch, "STALL_SECONDS", 0.5)  # a chunk takes 64 x 0.03 s here
    verify = Verifier.verify
    here = os.getpid()
    verified_here: list[Any] = []

    def slowly(self: Verifier, secured: Any) -> VerificationResult:
        time.sleep(0.03)
        if os.getpid() == here:
            verified_here.append(secured)
        return verify(self, secured)

    key = KeyPair.generate()
    tokens = [str(issue(credential(id=f"urn:uuid:{i:032x}"), key)) for i in range(128)]
    verifier = Verifier(clock=lambda: NOW)
    expected = [verifier.verify(token) for token in tokens]
    monkeypatch.setattr(Verifier, "verify", slowly)
    results = _finishes(lambda: verify_many(tokens, verifier=verifier, processes=2))
    assert not verified_here, "the workers were taken for stuck"
    assert results == expected


@pytest.mark.parametrize("refused_from", [0, 1], ids=["no-worker", "second-worker"])
def test_workers_the_system_cannot_start_cost_time_not_results(
    monkeypatch: pytest.MonkeyPatch, refused_from: int
) -> None:
    process = multiprocessing.get_context("fork").Process
    start = process.start
    starts: list[int] = []

    def start_while_allowed(self: Any) -> None:
        starts.append(1)
        if len(starts) > refused_from:
            raise BlockingIOError(11, "Resource temporarily unavailable")  # EAGAIN
        start(self)

    monkeypatch.setattr(process, "start", start_while_allowed)
    _assert_complete_and_in_order(processes=3)
    assert not multiprocessing.active_children()


def test_a_dead_worker_is_seen_at_once_while_another_batch_is_forked_and_working(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two batches at once in one process (a threaded service): the second forks its workers
    while the first is starting its own, and its first chunk's worker then works for long.
    The first batch's dead worker must still end its pipe at once, not when the other
    batch's workers exit (fork copies every descriptor) nor after STALL_SECONDS."""
    from vcred import batch

    monkeypatch.setattr(batch, "STALL_SECONDS", 600.0)  # only a pipe's end can be prompt
    key = KeyPair.generate()
    first = [str(issue(credential(id=f"urn:uuid:{i:032x}"), key)) for i in range(300)]
    second = [str(issue(credential(id=f"urn:uuid:{i + 300:032x}"), key)) for i in range(200)]
    held = multiprocessing.get_context("fork").Event()  # the second batch's slow worker
    _first_chunk_goes_wrong(monkeypatch, lambda _: os._exit(1), of=first)
    _first_chunk_goes_wrong(monkeypatch, lambda _: held.wait(_HANG), of=second)
    first_starting, second_started = threading.Event(), threading.Event()
    start = batch._start

    def start_interleaved(workers: Any) -> Any:
        if first_starting.is_set():
            started = start(workers)
            second_started.set()
            return started
        first_starting.set()
        started = start(workers)
        second_started.wait(1.0)  # the other call may fork now, while this one starts
        return started

    monkeypatch.setattr(batch, "_start", start_interleaved)
    verifier = Verifier(clock=lambda: NOW)
    answers: dict[str, list[VerificationResult]] = {}
    calls = [
        threading.Thread(
            target=lambda name=name, batch_of=items: answers.update(
                {name: verify_many(batch_of, verifier=verifier, processes=2)}
            ),
            name=f"vcred-test-batch-{name}",
            daemon=True,
        )
        for name, items in (("first", first), ("second", second))
    ]
    calls[0].start()
    assert first_starting.wait(_HANG)
    calls[1].start()
    try:
        calls[0].join(_HANG / 2)
        assert "first" in answers, "the dead worker's pipe stayed open in the other batch"
        assert not held.is_set() and calls[1].is_alive()  # its slow worker was still working
    finally:
        held.set()
        for call in calls:
            call.join(_HANG)
    assert answers["first"] == [verifier.verify(token) for token in first]
    assert answers["second"] == [verifier.verify(token) for token in second]
    assert not multiprocessing.active_children()


@pytest.mark.parametrize("processes", [1, 2])
def test_an_item_that_is_no_credential_or_not_unicode_fails_alone(processes: int) -> None:
    # verify_many never raises for a bad item: a number raised UsageError (verify()'s word for
    # misuse), a lone surrogate UnicodeEncodeError from RDF canonicalization, and the whole
    # batch was lost
    key = KeyPair.generate()
    good = issue(credential(), key, format="eddsa-rdfc-2022", created=NOW)
    assert isinstance(good, dict)
    surrogate = json.loads(json.dumps(good))
    surrogate["credentialSubject"]["name"] = "\ud800"
    items: list[Any] = [good] * 70 + [5, surrogate, None]
    results = verify_many(items, verifier=Verifier(clock=lambda: NOW), processes=processes)
    assert len(results) == len(items)
    assert all(r.verified for r in results[:70])
    assert [r.codes for r in results[70:]] == [("MALFORMED",)] * 3
    assert results[71].errors[0].path == "/credentialSubject/name"
