"""Verifying many credentials on every core: :func:`verify_many`.

Signature checks are CPU-bound and hold the GIL, so a batch is spread over one forked
worker per core while the caller's process collects. Workers inherit the caller's configured
:class:`Verifier` (clock, resolver, trust list, caches) through fork, without pickling it;
chunks of the batch are handed out from a shared counter, so a slower worker simply takes
fewer. Where fork is unavailable, the batch runs in this process.

Forking a process that runs other threads (a service's history flusher, its refreshers, a
fetch in progress) copies their locks as they are, held ones included: a worker that takes
one held at the fork waits forever. Two layers keep that from hanging a batch. Every
long-lived vcred object a verification locks (status-list cache, did:web cache, context
loader, trust feed) gets new locks in each forked child (:mod:`vcred._forksafe`). Whatever
else blocks a worker for good, the collector stops waiting after :data:`STALL_SECONDS`
in which no worker verified a credential (each counts them, in shared memory: a chunk of
slow fetches may take longer than that, and is not stuck), terminates the workers and
verifies what they did not answer itself, as it does for a worker that dies.

Each worker answers through a pipe of its own, whose write end only it holds: a worker that
dies, even halfway through writing an answer, ends its pipe, and the collector verifies what
it did not send whole (on one shared queue, half an answer would block the collector for good).
Only it, across concurrent calls too: fork copies every descriptor, so the pipes of all calls
in progress are registered (:class:`_OpenEnds`), created and forked from under one lock, and
each worker closes every registered end but its own write end before it works. Otherwise a
worker of another call (a threaded service verifying two batches at once) would keep a dead
worker's pipe open until it exited itself, and the collector would wait for it.

Fork, not forkserver or spawn: a worker started afresh would need the Verifier pickled, which
it cannot be (a lambda clock, caches holding locks), and would start with empty caches,
fetching every DID document and status list again; it measured slower too
(docs/performance.md, "Batches").

Only the results cross process boundaries, and compactly: the collecting process shares the
cores with the workers, so every microsecond it spends per result is taken from them. A
result travels as a tuple of plain values with its credential as JSON text (one string, not
a tree of objects to pickle and rebuild); the collector builds the result around that text
and decodes it only when ``result.credential`` is first read.
"""

from __future__ import annotations

import gc
import json
import multiprocessing
import os
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import fields
from multiprocessing.connection import Connection, wait
from multiprocessing.context import BaseContext
from typing import Any, Final, cast

from vcred._forksafe import renew_locks_in_children
from vcred.verifier import Check, VerificationResult, Verifier, not_a_credential

# Small batches are not worth starting processes for.
MIN_PARALLEL_BATCH = 64
_CHUNK = 64
_RESULT_WAIT = 5.0  # seconds between checks that the workers are still alive
#: Seconds in which no worker verified a credential, workers alive, after which they count as
#: stuck: they are stopped and what they did not answer is verified in the calling process. A
#: credential takes microseconds; one that fetches, at most its verifier's ``time_budget``
#: (10 s by default) for its fetches. A verifier given a longer budget may meet this bound
#: with a slow enough network: that costs time (its chunks verified again here), not results.
STALL_SECONDS = 60.0


def verify_many(
    credentials: Sequence[Any],
    *,
    verifier: Verifier | None = None,
    processes: int | None = None,
) -> list[VerificationResult]:
    """Verify every credential, in order, on ``processes`` cores (default: all of them).

    Never raises for a bad credential, nor for an item that is none (a number, null: its
    result fails, MALFORMED); each result says what failed. A worker that cannot
    be started, dies (killed, out of memory) or verifies nothing for :data:`STALL_SECONDS`
    costs time, not results: the chunks it did not answer are verified here.
    """
    chosen = verifier or Verifier()
    count = processes or os.cpu_count() or 1
    if count <= 1 or len(credentials) < MIN_PARALLEL_BATCH or not _can_fork():
        return [_verify_one(chosen, item) for item in credentials]
    context = multiprocessing.get_context("fork")
    chunks = -(-len(credentials) // _CHUNK)
    counter = context.Value("q", 0)
    progress = [context.RawValue("q", 0) for _ in range(count)]
    readers: list[Connection] = []
    writers: list[Connection] = []
    results: list[VerificationResult | None] = [None] * len(credentials)
    try:
        with _OPEN_ENDS.lock:
            for _ in range(count):
                reader, writer = _OPEN_ENDS.pipe(context)
                readers.append(reader)
                writers.append(writer)
            workers = [
                context.Process(
                    target=_start_worker,
                    args=(writer, chosen, credentials, chunks, counter, counted),
                    daemon=True,
                )
                for writer, counted in zip(writers, progress, strict=True)
            ]
            # Objects that exist now are inherited by every worker: keep the workers'
            # collector off them, or its first pass touches every page and copy-on-write
            # copies the whole heap.
            gc.freeze()
            try:
                started = _start(workers)
            finally:
                gc.unfreeze()
                # each worker's pipe ends when that worker does, even mid-answer (at once for
                # one that never started)
                _OPEN_ENDS.close(writers)
        done = _collect(results, readers, chunks, progress)
    finally:
        with _OPEN_ENDS.lock:
            _OPEN_ENDS.close(readers + writers)
    _stop(started, stuck=len(done) < chunks)
    for chunk in set(range(chunks)) - done:
        _fill(results, chunk, [_verify_one(chosen, item) for item in _slice(credentials, chunk)])
    return [result for result in results if result is not None]


def _verify_one(verifier: Verifier, item: Any) -> VerificationResult:
    """An item's result; one no format reads (a number, null) fails alone, MALFORMED."""
    return not_a_credential(item) or verifier.verify(item)


def _start(
    workers: Sequence[multiprocessing.process.BaseProcess],
) -> list[multiprocessing.process.BaseProcess]:
    """Start the workers while the system gives processes; those started. One that cannot
    be (EAGAIN, ENOMEM) is like one that died: the others, or this process, do its share."""
    started = []
    for worker in workers:
        try:
            worker.start()
        except OSError:
            break
        started.append(worker)
    return started


def _collect(
    results: list[VerificationResult | None],
    readers: Sequence[Connection],
    chunks: int,
    progress: Sequence[Any],
) -> set[int]:
    """Fill in the chunks the workers answer (one pipe each) until all are, every pipe has
    ended, or none verified a credential for :data:`STALL_SECONDS` (``progress``: each one's
    count; a worker blocked for good); the chunks filled in."""
    checks_seen: dict[tuple[Any, ...], Check] = {}
    done: set[int] = set()
    open_readers = list(readers)
    last_progress, progressed = time.monotonic(), 0
    while open_readers and len(done) < chunks:
        ready = cast(list[Connection], wait(open_readers, timeout=_RESULT_WAIT))
        if not ready:
            counted = sum(count.value for count in progress)
            if counted != progressed:
                last_progress, progressed = time.monotonic(), counted
            elif time.monotonic() - last_progress >= STALL_SECONDS:
                break
        for reader in ready:
            try:
                chunk, verified = reader.recv()
            except (EOFError, OSError):
                # the worker is gone (done, or killed, maybe halfway through an answer):
                # what it did not send whole is verified here
                open_readers.remove(reader)
                continue
            _fill_compact(results, chunk, verified, checks_seen)
            done.add(chunk)
            last_progress = time.monotonic()
    return done


def _stop(workers: Sequence[multiprocessing.process.BaseProcess], *, stuck: bool) -> None:
    """End the workers: given time to exit when they are done, terminated when ``stuck``
    (not answering) or when they overstay; either way their answers are no longer read."""
    for worker in workers:
        if not stuck:
            worker.join(timeout=_RESULT_WAIT)
        if worker.is_alive():
            worker.terminate()
            worker.join(timeout=_RESULT_WAIT)


def _start_worker(
    answers: Connection,
    verifier: Verifier,
    credentials: Sequence[Any],
    chunks: int,
    counter: Any,
    progress: Any,
) -> None:
    """A worker's first step: keep the write end of its own pipe only, of every batch pipe
    open at the fork (a pipe ends when the one process holding its write end does), then work."""
    _OPEN_ENDS.close_all_but(answers)
    _work(verifier, credentials, chunks, counter, answers, progress)


class _OpenEnds:
    """Both ends of every batch pipe open in this process, whichever call made it.

    Fork copies every descriptor: a worker closes what this names, but its own write end, when
    it starts. The name must be true at each fork, so that pipes are made and registered,
    workers forked, and ends closed and unregistered, all under :attr:`lock` (a pipe made while
    another call forked would be in its worker unnamed; an end closed but still named could
    have its number reused by then, and the worker would close what is not a pipe).
    """

    def __init__(self) -> None:
        self._ends: set[Connection] = set()
        renew_locks_in_children(self)

    def _new_locks(self) -> None:
        # here and in every forked child (vcred._forksafe): a worker is forked holding it
        self.lock = threading.Lock()

    def pipe(self, context: BaseContext) -> tuple[Connection, Connection]:
        """A new pipe (reader, writer), registered; under :attr:`lock`."""
        reader, writer = context.Pipe(duplex=False)
        self._ends.update((reader, writer))
        return reader, writer

    def close(self, ends: Sequence[Connection]) -> None:
        """Close ``ends`` and forget them; under :attr:`lock`."""
        for end in ends:
            self._ends.discard(end)
            end.close()

    def close_all_but(self, own: Connection) -> None:
        """Close every registered end but ``own`` (in a worker, the one thread there is)."""
        self.close([end for end in self._ends if end is not own])


_OPEN_ENDS: Final = _OpenEnds()


def _work(
    verifier: Verifier,
    credentials: Sequence[Any],
    chunks: int,
    counter: Any,
    answers: Connection,
    progress: Any,
) -> None:
    """A worker: take chunks until none is left, send back each chunk's results. Counts each
    credential verified in ``progress`` (its own): the collector's sign that it is not stuck."""
    while (chunk := _take(counter, chunks)) is not None:
        verified = []
        for item in _slice(credentials, chunk):
            verified.append(_compact(_verify_one(verifier, item)))
            progress.value += 1
        answers.send((chunk, verified))
    answers.close()


_Compact = tuple[Any, ...]
#: Marks a credential not decoded yet (a result's credential slot holds it until first read).
_PENDING: Final = object()
# the dataclass's own storage for ``credential`` (a slot), under the lazy property below
_CREDENTIAL_SLOT: Final = VerificationResult.__dict__["credential"]


def _compact(result: VerificationResult) -> _Compact:
    """``result`` as plain values, its credential as JSON text (a worker's side)."""
    credential = result.credential
    text = None if credential is None else json.dumps(credential, separators=(",", ":"))
    checks = tuple((check.name, check.passed, check.detail) for check in result.checks)
    return (
        result.verified,
        result.format,
        checks,
        result.errors,
        result.warnings,
        text,
        result.issuer,
        result.method,
        result.trust,
        result.status,
        result.disclosed,
        result.confirmation,
        result.validity,
    )


class _LazyResult(VerificationResult):
    """A result whose credential is decoded from its JSON text when first read."""

    __slots__ = ("_credential_json",)
    _credential_json: str

    @property
    def credential(self) -> Mapping[str, Any] | None:
        value = _CREDENTIAL_SLOT.__get__(self, VerificationResult)
        if value is _PENDING:
            value = json.loads(self._credential_json)
            _CREDENTIAL_SLOT.__set__(self, value)
        return cast(Mapping[str, Any] | None, value)

    @credential.setter
    def credential(self, value: Mapping[str, Any] | None) -> None:
        # only the dataclass's __init__ sets it (through object.__setattr__): it stays frozen
        _CREDENTIAL_SLOT.__set__(self, value)

    def _plain(self) -> VerificationResult:
        return VerificationResult(**{f.name: getattr(self, f.name) for f in fields(self)})

    # the dataclass's own methods compare and show results of exactly its class
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, VerificationResult):
            return NotImplemented
        return self._plain() == (other._plain() if isinstance(other, _LazyResult) else other)

    __hash__ = VerificationResult.__hash__

    def __repr__(self) -> str:
        return repr(self._plain())


def _expand(values: _Compact, checks_seen: dict[tuple[Any, ...], Check]) -> VerificationResult:
    """The result a worker sent as :func:`_compact` (the collector's side). ``checks_seen``:
    the checks already built in this batch — immutable, so results that passed the same check
    the same way share one (a batch repeats a few issuers' checks many times)."""
    verified, fmt, checks, errors, warnings, text, *rest = values
    issuer, method, trust, status, disclosed, confirmation, validity = rest
    built = []
    for key in checks:
        check = checks_seen.get(key)
        if check is None:
            check = checks_seen[key] = Check(name=key[0], passed=key[1], detail=key[2])
        built.append(check)
    values_of: dict[str, Any] = {
        "verified": verified,
        "format": fmt,
        "checks": tuple(built),
        "errors": errors,
        "warnings": warnings,
        "issuer": issuer,
        "method": method,
        "trust": trust,
        "status": status,
        "disclosed": disclosed,
        "confirmation": confirmation,
        "validity": validity,
    }
    if text is None:
        return VerificationResult(credential=None, **values_of)
    result = _LazyResult(credential=cast(Mapping[str, Any], _PENDING), **values_of)
    object.__setattr__(result, "_credential_json", text)
    return result


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


def _fill_compact(
    results: list[VerificationResult | None],
    chunk: int,
    sent: list[_Compact],
    checks_seen: dict[tuple[Any, ...], Check],
) -> None:
    _fill(results, chunk, [_expand(values, checks_seen) for values in sent])


def _can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()
