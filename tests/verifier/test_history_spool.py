"""The history spool (verifier_app.history_spool): what a process killed before its write had
buffered is written by the next replay, once — whoever replays, however often they are
killed themselves, and whatever the dead process had begun to write."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import logging
import multiprocessing
import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

from tests.verifier.conftest import Agency, MakeApp, created_storage
from tests.verifier.test_storage import _commit_failing_once, _entry
from vcred.audit import verify_chain
from verifier_app import history_spool
from verifier_app.history_spool import SpoolFile
from verifier_app.storage import Storage

#: Processes made by the forkserver, not forked: this one has threads.
CONTEXT = multiprocessing.get_context("forkserver")


@pytest.fixture
def spool(tmp_path: Path) -> Path:
    return tmp_path / "history-spool"


@pytest.fixture
def storage(url: str, prefix: str, spool: Path) -> Iterator[Storage]:
    with created_storage(url, prefix=prefix, spool=spool) as store:
        yield store


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _killed_after_recording(url: str, prefix: str, spool: Path, first: int, how: str) -> None:
    """A worker that answers three verifications and is killed before it writes them
    (``plain``), or once its write failed at the commit (``answer-lost``: it committed;
    ``not-committed``); ``storages``: three such workers in one process."""
    count = 3 if how == "storages" else 1
    stores = [Storage(url, prefix=prefix, spool=spool) for _ in range(count)]
    for number, store in enumerate(stores):
        start = first + 3 * number
        store.record_all([_entry(i) for i in range(start, start + 3)])
    if how in ("answer-lost", "not-committed"):
        with pytest.MonkeyPatch.context() as monkeypatch:
            _commit_failing_once(stores[0], monkeypatch, after_committing=how == "answer-lost")
            with contextlib.suppress(OperationalError):
                stores[0].flush()
    _die()


def _killed_while_replaying(url: str, prefix: str, spool: Path, when: str) -> None:
    """A worker killed while it writes an orphan: before its commit or after it (the orphan
    not yet deleted)."""
    store = Storage(url, prefix=prefix, spool=spool)
    with pytest.MonkeyPatch.context() as monkeypatch:
        if when == "before-commit":
            monkeypatch.setattr(store.engine.dialect, "do_commit", lambda _: _die())
        else:
            monkeypatch.setattr(SpoolFile, "remove", lambda _: _die())
        store.replay_orphans()


def _replay(url: str, prefix: str, spool: Path, barrier: Any) -> int:
    store = Storage(url, prefix=prefix, spool=spool)
    try:
        barrier.wait()
        return store.replay_orphans()
    finally:
        store.close()


def _run(target: Any, *args: Any) -> None:
    process = CONTEXT.Process(target=target, args=args)
    process.start()
    process.join(60)
    assert process.exitcode == -signal.SIGKILL


def _subjects(storage: Storage) -> list[str]:
    entries = list(storage.audit.entries())
    assert verify_chain(entries, expect_head=storage.audit.head()[1]).intact
    return [entry["details"]["subject"] for entry in entries]


def _files(spool: Path) -> list[Path]:
    return sorted(spool.glob("*/*.jsonl"))


def test_a_killed_process_is_written_by_the_next_start(
    storage: Storage, url: str, prefix: str, spool: Path
) -> None:
    _run(_killed_after_recording, url, prefix, spool, 0, "plain")
    assert _subjects(storage) == []  # killed before its write
    assert len(_files(spool)) == 1
    restarted = Storage(url, prefix=prefix, spool=spool)
    restarted.create()  # a start replays
    restarted.close()
    assert _subjects(storage) == ["Trader 0", "Trader 1", "Trader 2"]
    assert _files(spool) == []
    assert [entry.subject for entry in storage.recent()] == ["Trader 2", "Trader 1", "Trader 0"]


@pytest.mark.parametrize("how", ["answer-lost", "not-committed"])
def test_a_killed_process_whose_commit_answer_was_lost_is_written_once(
    storage: Storage, url: str, prefix: str, spool: Path, how: str
) -> None:
    _run(_killed_after_recording, url, prefix, spool, 0, how)
    committed = ["Trader 0", "Trader 1", "Trader 2"] if how == "answer-lost" else []
    assert _subjects(storage) == committed
    assert storage.replay_orphans() == (0 if how == "answer-lost" else 3)
    assert _subjects(storage) == ["Trader 0", "Trader 1", "Trader 2"]
    assert _files(spool) == []


@pytest.mark.parametrize("when", ["before-commit", "after-commit"])
def test_a_replayer_killed_midway_leaves_nothing_lost_or_twice(
    storage: Storage, url: str, prefix: str, spool: Path, when: str
) -> None:
    _run(_killed_after_recording, url, prefix, spool, 0, "plain")
    _run(_killed_while_replaying, url, prefix, spool, when)
    assert len(_files(spool)) == 1  # the orphan, still there
    storage.replay_orphans()
    assert _subjects(storage) == ["Trader 0", "Trader 1", "Trader 2"]
    assert _files(spool) == []


def test_processes_racing_to_replay_write_each_orphan_once(
    storage: Storage, url: str, prefix: str, spool: Path
) -> None:
    _run(_killed_after_recording, url, prefix, spool, 0, "storages")
    _run(_killed_after_recording, url, prefix, spool, 9, "storages")
    assert len(_files(spool)) == 6
    with CONTEXT.Manager() as manager:
        barrier = manager.Barrier(4)
        with CONTEXT.Pool(4) as pool:
            counts = pool.starmap(_replay, [(url, prefix, spool, barrier)] * 4)
    assert sum(counts) == 18
    assert sorted(_subjects(storage)) == sorted(f"Trader {i}" for i in range(18))
    assert _files(spool) == []


def test_a_live_process_spool_is_not_replayed(
    storage: Storage, url: str, prefix: str, spool: Path
) -> None:
    storage.record_all([_entry(0), _entry(1)])
    other = Storage(url, prefix=prefix, spool=spool)  # another worker (its own file and lock)
    try:
        assert other.replay_orphans() == 0
        assert storage.replay_orphans() == 0  # nor its own
        storage.flush()
        assert _subjects(storage) == ["Trader 0", "Trader 1"]
    finally:
        other.close()


def test_a_written_spool_is_emptied_and_removed_at_close(
    url: str, prefix: str, spool: Path
) -> None:
    store = Storage(url, prefix=prefix, spool=spool)
    store.create()
    try:
        store.record_all([_entry(0), _entry(1)])
        (own,) = _files(spool)
        assert own.stat().st_size > 0
        store.flush()
        assert own.stat().st_size == 0
        store.close()
        assert _files(spool) == []
    finally:
        store.drop()


def test_a_spool_another_database_or_prefix_left_is_not_written_here(
    storage: Storage, url: str, spool: Path
) -> None:
    _run(_killed_after_recording, url, "another_", spool, 0, "plain")
    assert storage.replay_orphans() == 0
    assert len(_files(spool)) == 1


@pytest.mark.parametrize(
    "appended",
    [
        b'{"n":3,"e":[["2026-06-01T12:00:00+00:00","cred',  # killed in the middle of a write
        b'\x00\xff\n[1]\n{"what":1}\n{"n":"x","e":[]}\n{"n":3,"e":[{"at":1},[1,2]]}\n'
        b'{"done":[[0,"y"]]}\n{"sealing":[[0,1]],"seq":"z"}\n',
    ],
    ids=["torn-last-line", "not-journal-records"],
)
def test_what_does_not_read_as_a_journal_is_skipped_and_the_start_goes_on(
    storage: Storage, url: str, prefix: str, spool: Path, appended: bytes
) -> None:
    _run(_killed_after_recording, url, prefix, spool, 0, "plain")
    (orphan,) = _files(spool)
    with orphan.open("ab") as journal:
        journal.write(appended)
    restarted = Storage(url, prefix=prefix, spool=spool)
    restarted.create()
    restarted.close()
    assert _subjects(storage) == ["Trader 0", "Trader 1", "Trader 2"]
    assert _files(spool) == []


def test_an_orphan_another_replayer_wrote_and_deleted_meanwhile_is_skipped(
    storage: Storage,
    url: str,
    prefix: str,
    spool: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # this worker opened the orphan; before it takes its lock, another writes and deletes it
    _run(_killed_after_recording, url, prefix, spool, 0, "plain")
    other = Storage(url, prefix=prefix, spool=spool)
    flock = fcntl.flock

    def late(fd: int, operation: int) -> None:
        monkeypatch.setattr(fcntl, "flock", flock)
        assert other.replay_orphans() == 3
        flock(fd, operation)  # taken: nobody holds a deleted file

    monkeypatch.setattr(fcntl, "flock", late)
    try:
        assert storage.replay_orphans() == 0
    finally:
        other.close()
    assert _subjects(storage) == ["Trader 0", "Trader 1", "Trader 2"]
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]


def test_a_verification_the_spool_cannot_take_is_a_503_and_not_recorded(
    make_app: MakeApp, agency: Agency, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app()
    client = app.test_client()
    body = {"verifiableCredential": str(agency.issue(agency.aeo_certificate()))}

    def disk_full(fd: int, data: bytes) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    with monkeypatch.context() as patched:
        patched.setattr(history_spool.os, "write", disk_full)
        refused = client.post("/credentials/verify", json=body)
    assert refused.status_code == 503
    assert refused.headers["Retry-After"] == "5"
    assert refused.mimetype == "application/problem+json"
    assert refused.get_json()["detail"] == "the service cannot record its work now; retry later"
    answered = client.post("/credentials/verify", json=body)
    assert answered.status_code == 200
    storage = app.extensions["vcred_verifier"].storage
    storage.flush()
    assert [entry["action"] for entry in storage.audit.entries()] == ["verify-credential"]
