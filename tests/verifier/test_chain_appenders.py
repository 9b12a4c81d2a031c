"""Several workers appending the verifier's audit chain at once keep one valid chain.

Each worker (here a :class:`Storage` of its own, with its own engine and connections, as a
process or a machine has) writes its buffered verifications in one transaction under the
chain head's lock; whatever the interleaving, the chain that results verifies from its first
entry to its head, and holds every verification once (SQLite and PostgreSQL).
"""

from __future__ import annotations

import threading
from datetime import timedelta

from tests.verifier.conftest import NOW
from vcred.audit import parse_lines, to_line, verify_chain
from verifier_app.storage import HistoryEntry, Storage

WORKERS = 3
EACH = 40


def _entry(worker: int, i: int) -> HistoryEntry:
    return HistoryEntry(
        at=NOW + timedelta(seconds=i), kind="credential", channel="api", verified=i % 3 != 0,
        subject=f"worker {worker} #{i}",
    )  # fmt: skip


def test_workers_appending_at_once_keep_one_chain(url: str, prefix: str) -> None:
    workers = [Storage(url, prefix=prefix) for _ in range(WORKERS)]
    for storage in workers:
        storage.create()
    start = threading.Barrier(WORKERS)
    failures: list[BaseException] = []

    def append(number: int) -> None:
        storage = workers[number]
        try:
            start.wait()
            for i in range(EACH):
                storage.record(_entry(number, i))
                if i % 4 == 3:  # writes of a few entries, interleaved with the others'
                    storage.flush()
            storage.flush()
        except BaseException as exc:  # reported below
            failures.append(exc)

    threads = [threading.Thread(target=append, args=(n,)) for n in range(WORKERS)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not failures, failures
        head_seq, head = workers[0].audit.head()
        entries = list(workers[0].audit.entries())
        report = verify_chain(entries, expect_head=head)
        assert report.intact, report.as_dict()
        assert head_seq == len(entries) == WORKERS * EACH
        subjects = [entry["details"]["subject"] for entry in entries]
        assert sorted(subjects) == sorted(
            f"worker {w} #{i}" for w in range(WORKERS) for i in range(EACH)
        )
        # each worker's verifications stay in the order it made them
        for w in range(WORKERS):
            mine = [s for s in subjects if s.startswith(f"worker {w} ")]
            assert mine == [f"worker {w} #{i}" for i in range(EACH)]
        # and the export of that chain verifies as the command reads it
        exported = "".join(to_line(entry) + "\n" for entry in entries)
        assert verify_chain(parse_lines(exported), expect_head=head).intact
    finally:
        workers[0].drop()
        for storage in workers:
            storage.close()
