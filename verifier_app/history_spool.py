"""A verifier worker's journal of the verifications it answered but has not yet written.

The history and the audit chain are written every few seconds, off the request path
(:mod:`verifier_app.storage`); until then a verification lives in the worker's memory and in
its journal, ``<folder>/<pid>-<random>.jsonl``, appended to with one ``os.write`` per
verification before it is answered. The owner holds an exclusive ``flock`` on its file for
its whole life; the kernel releases it when the process dies, however it dies (SIGKILL, out
of memory). A file whose lock can be taken is an orphan: another worker (or the next start)
writes what it had not written (:meth:`verifier_app.storage.Storage.replay_orphans`) and
deletes it.

One JSON line per record:

- ``{"n": 7, "e": [[…], …]}``: entries numbered 7, 8, … (one line per ``record_all`` call;
  each entry as its storage writes it, :func:`verifier_app.storage._spooled`);
- ``{"sealing": [[7, 9]], "seq": 41, "hash": "…"}``: a write of entries 7 and 8 was sealed
  and is committing; if the chain holds entry ``seq`` with ``hash``, it committed;
- ``{"done": [[7, 9]]}``: entries 7 and 8 are written.

Numbers are given as half-open ranges. A kill in the middle of a write can leave a torn
last line: it is skipped (that entry's answer had not been sent). The page cache outlives a
killed process but not a power loss: without an ``fsync`` per verification, the last
seconds' entries are lost when the machine itself goes down.
"""

from __future__ import annotations

import errno
import fcntl
import json
import logging
import os
import secrets
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from vcred._json import compact_encoder

_log = logging.getLogger("verifier_app")
SUFFIX: Final = ".jsonl"
#: Compact JSON, ASCII: a lone surrogate (a credential's "\ud800") stays an escape, as JSON
#: reads it; one encoder made once, with no cycle check (a record is lists of plain values,
#: on the request path).
_ENCODE: Final = compact_encoder(ensure_ascii=True)


def ranges(numbers: Iterable[int]) -> list[list[int]]:
    """``numbers`` as half-open ``[first, end)`` runs of consecutive numbers, in their order."""
    runs: list[list[int]] = []
    for number in numbers:
        if runs and runs[-1][1] == number:
            runs[-1][1] = number + 1
        else:
            runs.append([number, number + 1])
    return runs


def _numbers(runs: Any) -> frozenset[int]:
    """The numbers of :func:`ranges`' runs (ValueError/TypeError for anything else)."""
    return frozenset(number for first, end in runs for number in range(int(first), int(end)))


@dataclass(frozen=True, slots=True)
class Sealing:
    """A write of the entries ``numbers`` whose commit the chain knows about: committed if
    entry ``seq`` has ``hash``."""

    seq: int
    hash: str
    numbers: frozenset[int]


@dataclass(slots=True)
class Journal:
    """What a spool file says: its entries (number → record, in order), which are written,
    and the writes whose outcome is to be asked of the chain."""

    entries: dict[int, Any] = field(default_factory=dict)
    done: set[int] = field(default_factory=set)
    sealings: list[Sealing] = field(default_factory=list)

    def unwritten(self) -> list[tuple[int, Any]]:
        return [(n, record) for n, record in self.entries.items() if n not in self.done]


class SpoolFile:
    """One journal file, open for appending and locked by this process (its own, or an
    orphan being written)."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd = fd

    def append_entries(self, first: int, records: Sequence[Any]) -> None:
        """Entries ``first``, ``first + 1``, … in one write (a kill tears at most this line)."""
        self._append({"n": first, "e": records})

    def sealing(self, numbers: Iterable[int], seq: int, entry_hash: str) -> None:
        self._append({"sealing": ranges(numbers), "seq": seq, "hash": entry_hash})

    def done(self, numbers: Iterable[int]) -> None:
        self._append({"done": ranges(numbers)})

    def clear(self) -> None:
        """Forget everything (all of it is written): the file stays small."""
        os.ftruncate(self._fd, 0)

    def read(self) -> Journal:
        """The journal as written; lines that do not parse (a torn last line) are skipped."""
        journal = Journal()
        for number, line in enumerate(self.path.read_bytes().split(b"\n"), start=1):
            if not line:
                continue
            try:
                _read_line(json.loads(line), journal)
            except (ValueError, TypeError, KeyError, AttributeError):
                _log.warning("%s: line %d is not a journal record, skipped", self.path, number)
        return journal

    def remove(self) -> None:
        """Delete the file, then release it (a replayer waiting on its lock finds it gone)."""
        try:
            self.path.unlink(missing_ok=True)
        finally:
            self.close()

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)  # the lock goes with it
            self._fd = -1

    def _append(self, record: Mapping[str, Any]) -> None:
        data = (_ENCODE(record) + "\n").encode("ascii")
        # O_APPEND: one write is one line, whole, at the end, whichever thread writes
        if os.write(self._fd, data) < len(data):
            # the disk full midway: end the torn line, so that the next one reads on its own
            os.write(self._fd, b"\n")
            raise OSError(errno.ENOSPC, "the history spool's line was cut short", str(self.path))


def _read_line(record: dict[str, Any], journal: Journal) -> None:
    if "e" in record:
        first = int(record["n"])
        for offset, entry in enumerate(record["e"]):
            journal.entries[first + offset] = entry
    elif "done" in record:
        journal.done |= _numbers(record["done"])
    elif "sealing" in record:
        sealing = Sealing(int(record["seq"]), str(record["hash"]), _numbers(record["sealing"]))
        journal.sealings.append(sealing)
    else:
        raise ValueError("an unknown record")


class HistorySpool:
    """The spool folder of one history (one database and table prefix): this process's
    journal file, made on first use, and the orphans of dead ones."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._own: SpoolFile | None = None

    def own(self) -> SpoolFile:
        """This process's file, locked (made on first call)."""
        if self._own is None:
            self.folder.mkdir(parents=True, exist_ok=True)
            name = f"{os.getpid()}-{secrets.token_hex(6)}"
            # made under a name no replayer looks at and locked before it gets its own: a
            # replayer never takes a new file for an orphan
            hidden = self.folder / f".{name}"
            fd = os.open(hidden, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o600)
            fcntl.flock(fd, fcntl.LOCK_EX)
            path = self.folder / f"{name}{SUFFIX}"
            hidden.rename(path)
            self._own = SpoolFile(path, fd)
        return self._own

    def close(self, *, remove: bool) -> None:
        """Release this process's file; delete it when ``remove`` (everything is written)."""
        own, self._own = self._own, None
        if own is None:
            return
        if remove:
            own.remove()
        else:
            own.close()  # an orphan now, for the next replayer

    def orphans(self) -> Iterator[SpoolFile]:
        """Each file whose owner is dead, locked by this process until the caller removes or
        closes it (it is closed when the caller moves on without doing either)."""
        try:
            paths = sorted(self.folder.glob(f"*{SUFFIX}"))
        except OSError:
            return
        own = self._own.path if self._own is not None else None
        for path in paths:
            if path == own:
                continue
            orphan = _lock_orphan(path)
            if orphan is None:
                continue
            try:
                yield orphan
            finally:
                orphan.close()


def _lock_orphan(path: Path) -> SpoolFile | None:
    """``path`` opened and locked if no process holds it and it is still that file (not
    one a replayer deleted meanwhile); else None."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND)
    except FileNotFoundError:
        return None  # replayed and deleted by another worker just now
    except OSError:
        _log.exception("the history spool %s cannot be opened", path)
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)  # its owner lives, or another worker is replaying it
        return None
    try:
        same = os.path.samestat(os.fstat(fd), path.stat())
    except FileNotFoundError:
        same = False
    if not same:
        os.close(fd)
        return None
    return SpoolFile(path, fd)
