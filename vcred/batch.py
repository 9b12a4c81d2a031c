"""Verifying many credentials on every core: :func:`verify_many`.

Signature checks are CPU-bound and hold the GIL, so a batch is spread over one forked
worker per core while the caller's process collects. Workers inherit the caller's configured
:class:`Verifier` (clock, resolver, trust list, caches) through fork, without pickling it;
chunks of the batch are handed out from a shared counter, so a slower worker simply takes
fewer. Only the results cross process boundaries, pickled as plain tuples (see
``VerificationResult.__reduce__``). Where fork is unavailable, the batch runs in this process.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import queue
from collections.abc import Sequence
from typing import Any

from vcred.verifier import VerificationResult, Verifier

# Small batches are not worth starting processes for.
MIN_PARALLEL_BATCH = 64
_CHUNK = 64
_RESULT_WAIT = 5.0  # seconds between checks that the workers are still alive


def verify_many(
    credentials: Sequence[Any],
    *,
    verifier: Verifier | None = None,
    processes: int | None = None,
) -> list[VerificationResult]:
    """Verify every credential, in order, on ``processes`` cores (default: all of them).

    Never raises for a bad credential; each result says what failed. A worker that dies
    (killed, out of memory) costs time, not results: its chunks are verified here.
    """
    chosen = verifier or Verifier()
    count = processes or os.cpu_count() or 1
    if count <= 1 or len(credentials) < MIN_PARALLEL_BATCH or not _can_fork():
        return [chosen.verify(item) for item in credentials]
    context = multiprocessing.get_context("fork")
    chunks = -(-len(credentials) // _CHUNK)
    counter = context.Value("q", 0)
    answers: Any = context.Queue()
    workers = [
        context.Process(
            target=_work,
            args=(chosen, credentials, chunks, counter, answers),
            daemon=True,
        )
        for _ in range(count)
    ]
    # Objects that exist now are inherited by every worker: keep the workers' collector off
    # them, or its first pass touches every page and copy-on-write copies the whole heap.
    gc.freeze()
    try:
        for worker in workers:
            worker.start()
    finally:
        gc.unfreeze()
    results: list[VerificationResult | None] = [None] * len(credentials)
    done: set[int] = set()
    while len(done) < chunks:
        try:
            chunk, verified = answers.get(timeout=_RESULT_WAIT)
        except queue.Empty:
            if any(worker.is_alive() for worker in workers):
                continue
            break  # every worker is gone: what they did not send is verified below
        _fill(results, chunk, verified)
        done.add(chunk)
    for chunk in set(range(chunks)) - done:
        _fill(results, chunk, [chosen.verify(item) for item in _slice(credentials, chunk)])
    for worker in workers:
        worker.join(timeout=_RESULT_WAIT)
        if worker.is_alive():
            worker.terminate()
    return [result for result in results if result is not None]


def _work(
    verifier: Verifier, credentials: Sequence[Any], chunks: int, counter: Any, answers: Any
) -> None:
    """A worker: take chunks until none is left, send back each chunk's results."""
    while (chunk := _take(counter, chunks)) is not None:
        answers.put((chunk, [verifier.verify(item) for item in _slice(credentials, chunk)]))
    answers.close()
    answers.join_thread()


def _take(counter: Any, chunks: int) -> int | None:
    with counter.get_lock():
        chunk = int(counter.value)
        if chunk >= chunks:
            return None
        counter.value = chunk + 1
    return chunk


def _slice(credentials: Sequence[Any], chunk: int) -> Sequence[Any]:
    return credentials[chunk * _CHUNK : (chunk + 1) * _CHUNK]


def _fill(
    results: list[VerificationResult | None], chunk: int, verified: list[VerificationResult]
) -> None:
    results[chunk * _CHUNK : chunk * _CHUNK + len(verified)] = verified


def _can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()
