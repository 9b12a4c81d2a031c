"""Verifying many credentials on every core: :func:`verify_many`.

Signature checks are CPU-bound and hold the GIL, so a batch is spread over worker processes.
Workers are forked from the caller, so they inherit its configured :class:`Verifier` (clock,
resolver, trust list, caches) without pickling it; only the credentials and the results
cross process boundaries. Where fork is unavailable, the batch runs in this process.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Sequence
from typing import Any

from vcred.verifier import VerificationResult, Verifier

# Small batches are not worth starting processes for.
MIN_PARALLEL_BATCH = 64

_worker_verifier: Verifier | None = None


def _verify_chunk(chunk: Sequence[Any]) -> list[VerificationResult]:
    verifier = _worker_verifier
    if verifier is None:  # pragma: no cover - only if a worker was started without fork
        verifier = Verifier()
    return [verifier.verify(item) for item in chunk]


def verify_many(
    credentials: Sequence[Any],
    *,
    verifier: Verifier | None = None,
    processes: int | None = None,
) -> list[VerificationResult]:
    """Verify every credential, in order, using ``processes`` worker processes (default: all
    cores). Never raises for a bad credential; each result says what failed.
    """
    global _worker_verifier
    chosen = verifier or Verifier()
    count = processes or os.cpu_count() or 1
    if count <= 1 or len(credentials) < MIN_PARALLEL_BATCH or not _can_fork():
        return [chosen.verify(item) for item in credentials]
    # Few, large chunks: each task's pickling and scheduling cost is paid per chunk.
    size = max(1, -(-len(credentials) // (count * 4)))
    chunks = [credentials[i : i + size] for i in range(0, len(credentials), size)]
    _worker_verifier = chosen
    try:
        context = multiprocessing.get_context("fork")
        with context.Pool(count) as pool:
            parts = pool.map(_verify_chunk, chunks, chunksize=1)
    finally:
        _worker_verifier = None
    return [result for part in parts for result in part]


def _can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()
