"""What the verifier keeps: issued challenges and a short history of verifications.

SQLite in the data folder by default, PostgreSQL through ``DATABASE_URL`` so that several
workers or machines share one set of challenges. Consuming a challenge is one atomic
``UPDATE … WHERE used_at IS NULL AND expires_at > now``: of two concurrent uses (two threads,
two processes, two machines) exactly one succeeds, and a replay always fails.

Challenges are stored as their SHA-256 digest; the history keeps a verdict and a few
identifying fields, never a credential. The officers who may read the history, their
sessions (:mod:`vcred_service.officers`) and the UI's cookie secret live here too.
"""

from __future__ import annotations

import atexit
import hashlib
import logging
import re
import secrets
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Final, Literal, TypeVar

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, IntegrityError, SQLAlchemyError

from vcred.status.listcred import format_moment
from vcred_service.audit_chain import AuditChain
from vcred_service.bootstrap import bootstrap_lock
from vcred_service.db import LocalStorageError, as_utc, driver_insert, make_engine
from vcred_service.oauth_clients import client_table
from vcred_service.officers import officer_table, session_table
from verifier_app.history_spool import HistorySpool, Sealing, SpoolFile
from verifier_app.oid4vp_store import transaction_table
from verifier_app.recognitions import Recognitions
from verifier_app.status_versions import StatusListVersions
from verifier_app.trust_history import TrustListHistory

CHALLENGE_BYTES: Final = 24  # 192 bits: unguessable, and short enough to type
FLUSH_SECONDS: Final = 2.0  # how stale the shared history page may be
#: How long closing waits for a history write under way (a pool timeout is 30 s).
CLOSE_WAIT_SECONDS: Final = 60.0
#: Buffered entries past which a verification writes them itself (the database is slow or
#: down: the buffer does not grow without bound, and nothing buffered is dropped).
MAX_PENDING: Final = 20_000
#: The spool's folder in the service's data folder (verifier_app.history_spool).
HISTORY_SPOOL: Final = "history-spool"
_log = logging.getLogger("verifier_app")
_TEXT: Final = 512
_SURROGATE: Final = re.compile("[\ud800-\udfff]")
#: The columns of a history row the verifier writes (``id`` is the database's).
_HISTORY: Final = ("at", "kind", "channel", "verified", "format", "issuer", "subject", "codes")

ChallengeOutcome = Literal["ok", "unknown", "used", "expired"]


@dataclass(frozen=True, slots=True, kw_only=True)
class IssuedChallenge:
    challenge: str
    expires_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class HistoryEntry:
    """One verification as the history keeps it (no credential, no personal data beyond the
    trader's name as the credential states it)."""

    at: datetime
    kind: str
    channel: str
    verified: bool
    format: str | None = None
    issuer: str | None = None
    subject: str | None = None
    codes: tuple[str, ...] = ()
    #: What was verified, as ``sha256-<base64>`` of what was sent (audit chain only).
    target: str | None = None
    #: The id of the receipt given for it (audit chain only).
    receipt: str | None = None
    #: The past moment it was verified as of (``options.asOf``; audit chain only).
    as_of: datetime | None = None
    #: The checks run, when a request asked for fewer than all (audit chain only).
    checks: tuple[str, ...] | None = None


#: A buffered entry and its number in this process's spool (verifier_app.history_spool).
_Numbered = tuple[int, HistoryEntry]
_T = TypeVar("_T")
#: What a write calls with the sealed audit entries of the entries it must seal, before its
#: commit (:meth:`Storage.record_sealed`).
_Seal = Callable[[Sequence[dict[str, Any]]], object]


def _digest(challenge: str) -> str:
    return hashlib.sha256(challenge.encode("utf-8")).hexdigest()


def _clip(value: str | None) -> str | None:
    # U+0000 comes from the credential (an issuer, a subject name): PostgreSQL text cannot
    # hold it, and a hostile credential must not turn its verification into a 500; nor can
    # UTF-8 hold a lone surrogate (a JSON "\ud800" escape), which no database takes either
    if value is None:
        return None
    clipped = value[:_TEXT].replace("\x00", "\ufffd")
    return clipped if clipped.isascii() else _SURROGATE.sub("\ufffd", clipped)


class Storage:
    """Challenges and verification history over one SQLAlchemy engine.

    ``prefix`` names the tables (``<prefix>challenges``, ``<prefix>verifications``) so that
    several services, or test runs, can share a database. ``spool``: the folder where
    verifications wait, journaled, until they are written (:mod:`verifier_app.history_spool`;
    the service's ``<data dir>/history-spool``): a killed process loses none of them. Without
    it they wait in memory only.
    """

    def __init__(
        self,
        url: str,
        *,
        prefix: str = "verifier_",
        history_size: int = 1000,
        spool: Path | None = None,
    ) -> None:
        self.url = url
        self.prefix = prefix
        self.history_size = history_size
        # every buffered entry goes to the audit chain (never trimmed), so none is dropped
        # here; past MAX_PENDING a verification waits for the write instead (back-pressure)
        self._pending: list[_Numbered] = []
        self._numbered = 0  # entries buffered so far: the next one's number
        self._writing = 0  # writes of buffered entries under way
        self._pending_lock = threading.Lock()
        # writes whose commit's answer was lost: the chain says whether they committed
        self._unconfirmed: list[Sealing] = []
        # one folder per database and prefix: a spooled entry is written where it belonged
        self.spool = HistorySpool(spool / _spool_name(url, prefix)) if spool is not None else None
        self._wake = threading.Event()
        self._flusher: threading.Thread | None = None
        self._closed = False
        atexit.register(self.flush)
        # SQLite as the issuer has it (WAL, busy timeout, BEGIN IMMEDIATE); the history flusher
        # is a thread of its own
        options: dict[str, Any] = {}
        if url.startswith("sqlite"):
            options["connect_args"] = {"check_same_thread": False}
        self.engine: Engine = make_engine(url, **options)
        self.metadata = MetaData()
        self.challenges = Table(
            f"{prefix}challenges",
            self.metadata,
            Column("digest", String(64), primary_key=True),
            Column("created_at", DateTime(timezone=True), nullable=False),
            Column("expires_at", DateTime(timezone=True), nullable=False, index=True),
            Column("used_at", DateTime(timezone=True), nullable=True),
        )
        self.verifications = Table(
            f"{prefix}verifications",
            self.metadata,
            Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
            Column("at", DateTime(timezone=True), nullable=False),
            Column("kind", String(16), nullable=False),
            Column("channel", String(8), nullable=False),
            Column("verified", Boolean, nullable=False),
            Column("format", String(32)),
            Column("issuer", String(_TEXT)),
            Column("subject", String(_TEXT)),
            Column("codes", String(_TEXT), nullable=False, default=""),
        )
        # who may read the history (vcred_service.officers), and the secret of the forms' cookie
        self.officers = officer_table(self.metadata, prefix)
        self.sessions = session_table(self.metadata, prefix)
        # OAuth clients and OpenID4VP transactions (their own modules use them; declared here
        # so that drop() removes them with the rest)
        client_table(self.metadata, prefix)
        transaction_table(self.metadata, prefix)
        self.meta = Table(
            f"{prefix}meta",
            self.metadata,
            Column("name", String(64), primary_key=True),
            Column("value", String(_TEXT), nullable=False),
        )
        #: SQLite: the history page's rows as the driver takes them (None: SQLAlchemy's)
        self._insert_history = driver_insert(self.verifications, _HISTORY, self.engine.dialect)
        # what accepted AEO certificates leave behind (verifier_app.recognitions)
        self.recognitions = Recognitions(self.engine, self.metadata, prefix)
        # every verification, kept whole and chained: the history above is trimmed
        self.audit = AuditChain(self.engine, self.metadata, prefix)
        # every trust list accepted, for verifying as of a past moment
        self.trust_lists = TrustListHistory(self.engine, self.metadata, prefix)
        # the newest version of each status list accepted: the floor of every worker's cache
        self.status_versions = StatusListVersions(self.engine, self.metadata, prefix)

    def create(self) -> None:
        """Create the tables and the session secret if they do not exist: under the
        first-start lock, so that workers starting at once do it once."""
        with bootstrap_lock(self.engine, f"verifier:{self.prefix}"):
            self.metadata.create_all(self.engine)
            self.session_secret()
            self.audit.start()
        self.replay_orphans()

    def session_secret(self) -> str:
        """The key of the UI's signed cookie, made once per database and shared by every
        worker (a form served by one is accepted by another)."""
        table = self.meta
        query = select(table.c.value).where(table.c.name == "session_secret")
        with self.engine.connect() as connection:
            found = connection.execute(query).scalar_one_or_none()
        if found is not None:
            return str(found)
        try:
            with self.engine.begin() as connection:
                connection.execute(
                    insert(table).values(name="session_secret", value=secrets.token_hex(32))
                )
        except IntegrityError:
            pass  # another worker made it first: use that one
        with self.engine.connect() as connection:
            return str(connection.execute(query).scalar_one())

    def drop(self) -> None:
        """Drop this storage's tables (tests and uninstalling). Dropped after it was closed,
        the storage leaves no connection open again."""
        self.metadata.drop_all(self.engine)
        if self._closed:
            self.engine.dispose()

    def close(self) -> None:
        """Write what is buffered and close the engine. A write the flusher has under way is
        waited for first (up to :data:`CLOSE_WAIT_SECONDS`): closed under it, its pooled
        connection would go back to the discarded pool, open, for the garbage collector."""
        self._closed = True
        self._wake.set()
        flusher = self._flusher
        if flusher is not None and flusher is not threading.current_thread():
            flusher.join(CLOSE_WAIT_SECONDS)
        try:
            self.flush()
        finally:
            if self.spool is not None:
                with self._pending_lock:
                    # what could not be written stays journaled, no longer this storage's:
                    # the next start (or another worker) writes it
                    self.spool.close(remove=not self._pending and not self._unconfirmed)
                    self._pending, self._unconfirmed = [], []
            self.engine.dispose()
            # flushed: nothing left for the exit to write (and the storage need not live on)
            atexit.unregister(self.flush)

    def ping(self) -> bool:
        try:
            with self.engine.connect() as connection:
                connection.execute(select(1))
        except DBAPIError:
            return False
        return True

    # -- challenges ------------------------------------------------------------------------

    def issue_challenge(self, *, now: datetime, ttl: timedelta) -> IssuedChallenge:
        """A fresh single-use challenge, stored until ``now + ttl``; old ones are pruned."""
        challenge = secrets.token_urlsafe(CHALLENGE_BYTES)
        expires_at = now + ttl
        table = self.challenges
        with self.engine.begin() as connection:
            connection.execute(
                insert(table).values(
                    digest=_digest(challenge), created_at=now, expires_at=expires_at
                )
            )
            # a challenge past its expiry can never be used again: forget it (kept a while
            # so that a late attempt is told "expired" rather than "unknown")
            connection.execute(delete(table).where(table.c.expires_at < now - ttl))
        return IssuedChallenge(challenge=challenge, expires_at=expires_at)

    def consume_challenge(self, challenge: str, *, now: datetime) -> ChallengeOutcome:
        """Use ``challenge`` up: ``ok`` exactly once, then ``used``; or why it cannot be."""
        table = self.challenges
        digest = _digest(challenge)
        with self.engine.begin() as connection:
            consumed = connection.execute(
                update(table)
                .where(
                    table.c.digest == digest,
                    table.c.used_at.is_(None),
                    table.c.expires_at > now,
                )
                .values(used_at=now)
            )
            if consumed.rowcount == 1:
                return "ok"
            row = connection.execute(
                select(table.c.used_at).where(table.c.digest == digest)
            ).first()
        if row is None:
            return "unknown"
        return "used" if row.used_at is not None else "expired"

    # -- history ---------------------------------------------------------------------------

    def record(self, entry: HistoryEntry) -> None:
        """Add one verification to the history and the audit chain (written in batches, off
        the request path): :meth:`record_all` of one entry."""
        self.record_all((entry,))

    def record_all(self, entries: Sequence[HistoryEntry]) -> None:
        """Add verifications, in order, to the history and the audit chain.

        A verification must not wait for the database: entries are buffered — and journaled
        in the spool, one file append, before this returns — and written by a background
        thread every ``FLUSH_SECONDS``, in one transaction (the audit chain keeps every entry;
        the history is trimmed to ``history_size``). A process killed before the write leaves
        them in its spool file, which the next start (or another worker) writes
        (:meth:`replay_orphans`); a failed write keeps its entries buffered for the next one.
        A call that would bring the buffer to ``MAX_PENDING`` writes it, its own entries last,
        itself; a database that cannot take them fails the call (DBAPIError, a 503) with its
        own entries not buffered: a verification whose answer is refused is not recorded
        (unless the write did commit and only its answer was lost: then it is recorded,
        once). Raises LocalStorageError (a 503) when the spool cannot be written (the disk full):
        then its entries are not recorded.
        """
        with self._pending_lock:
            backlog = len(self._pending) + len(entries) >= MAX_PENDING
        if backlog:
            self._write_pending(*entries)
            return
        with self._pending_lock:
            first = self._numbered
            if self.spool is not None:
                try:
                    self.spool.own().append_entries(first, [_spooled(entry) for entry in entries])
                except OSError as exc:  # not journaled, so not recorded: not to be answered
                    raise LocalStorageError(f"the history spool: {exc}") from exc
            self._numbered += len(entries)
            self._pending.extend(enumerate(entries, start=first))
            if self._flusher is None or not self._flusher.is_alive():
                self._flusher = threading.Thread(
                    target=self._flush_periodically, name="vcred-history-flush", daemon=True
                )
                self._flusher.start()

    def record_sealed(
        self, entries: Sequence[HistoryEntry], seal: Callable[[Sequence[dict[str, Any]]], _T]
    ) -> _T:
        """Add verifications now (with whatever is buffered, written first) and ``seal`` their
        sealed audit entries, in order, inside the same transaction, before its commit; what
        ``seal`` returned. A receipt names its entry and the entry names the receipt: signed
        there, a receipt exists exactly when the entries naming it are written. When ``seal``
        raises, nothing of the write is committed (the buffered entries stay buffered, for
        the next write) and it is raised; so does a failed write (DBAPIError), its receipts
        then never answered."""
        sealed: list[_T] = []
        self._write_pending(*entries, seal=lambda audit: sealed.append(seal(audit)))
        return sealed[0]

    def flush(self) -> None:
        """Write the buffered history entries now."""
        self._write_pending()

    def replay_orphans(self) -> int:
        """Write what dead processes' spool files hold and they had not written, each file's
        entries in order, then delete the file; how many entries were written. A write that
        fails leaves its file for the next replay (logged, never raised: a start goes on)."""
        if self.spool is None:
            return 0
        replayed = 0
        for orphan in self.spool.orphans():
            try:
                replayed += self._replay(orphan)
            except (SQLAlchemyError, OSError):
                _log.exception("the verifications journaled in %s are not written", orphan.path)
        return replayed

    def _replay(self, orphan: SpoolFile) -> int:
        """Write an orphan's unwritten entries (asking the chain about its writes whose
        outcome is unknown: none is written twice), then delete it."""
        journal = orphan.read()
        entries = [
            (number, entry)
            for number, record in journal.unwritten()
            if (entry := _from_spool(record, orphan.path)) is not None
        ]
        written = 0
        if entries:
            numbers = {number for number, _ in entries}
            # the dead process's writes (or a replayer's, killed too) that may have committed
            unconfirmed = [sealing for sealing in journal.sealings if sealing.numbers & numbers]
            sealed = self._write(entries, (), unconfirmed=unconfirmed, sealed=[], spool=orphan)
            written = len(sealed)
            _log.warning(
                "%d verifications journaled in %s by a process that ended before writing them "
                "are written now (%d were written already)",
                written,
                orphan.path.name,
                len(entries) - written,
            )
        orphan.remove()
        return written

    def _write_pending(
        self, *also: HistoryEntry, seal: _Seal | None = None
    ) -> list[dict[str, Any]]:
        """Write the buffered entries, then ``also`` (``seal``: called with the sealed audit
        entries of ``also`` before the commit); the sealed audit entries. When the write
        fails, the buffered ones are put back in front of any buffered since (and raised);
        if it failed once its entries were sealed, whether its commit happened anyway is
        asked before they are written again (:data:`_unconfirmed`): none is written twice."""
        with self._pending_lock:
            if not self._pending and not also:
                return []  # (an unconfirmed write's entries are buffered again with it)
            own = self.spool.own() if self.spool is not None and self._pending else None
            entries, self._pending = self._pending, []
            unconfirmed, self._unconfirmed = self._unconfirmed, []
            self._writing += 1
        sealed: list[dict[str, Any]] = []
        try:
            written = self._write(
                entries, also, unconfirmed=unconfirmed, sealed=sealed, spool=own, seal=seal
            )
        except BaseException:
            with self._pending_lock:
                self._writing -= 1
                self._pending[:0] = entries
                self._unconfirmed[:0] = unconfirmed
                if sealed and entries:
                    last = sealed[-1]
                    numbers = frozenset(number for number, _ in entries)
                    self._unconfirmed.append(Sealing(last["seq"], last["hash"], numbers))
            raise
        with self._pending_lock:
            self._writing -= 1
            if own is not None:
                self._mark_written(own, entries)
        return written

    def _mark_written(self, own: SpoolFile, entries: Sequence[_Numbered]) -> None:
        """Tell this process's spool that ``entries`` are written (under the pending lock).
        Only a shortcut: a replay would find them written in the chain (the write's sealing
        was journaled before its commit), so a spool that cannot take it fails nothing."""
        try:
            if not self._pending and not self._unconfirmed and not self._writing:
                own.clear()  # everything journaled is written
            else:
                own.done(number for number, _ in entries)
        except OSError:
            _log.exception("the verification history's spool could not be written")

    def _write(
        self,
        buffered: Sequence[_Numbered],
        also: Sequence[HistoryEntry],
        *,
        unconfirmed: Sequence[Sealing],
        sealed: list[dict[str, Any]],
        spool: SpoolFile | None,
        seal: _Seal | None = None,
    ) -> list[dict[str, Any]]:
        """Insert the ``buffered`` entries no earlier write (``unconfirmed``) wrote, then
        ``also``, into the history and append each to the audit chain, in one transaction;
        the sealed audit entries (also put in ``sealed`` as soon as they are sealed). ``seal``
        is given those of ``also`` before the commit; when it raises, the transaction rolls
        back. The ``spool`` the buffered ones are journaled in is told of the write before its
        commit (a process killed meanwhile leaves the chain to say whether it committed)."""
        table = self.verifications
        with self.engine.begin() as connection:
            written = {
                number
                for earlier in unconfirmed
                if self.audit.holds(connection, earlier.seq, earlier.hash)
                for number in earlier.numbers
            }
            entries = [entry for number, entry in buffered if number not in written] + [*also]
            if not entries:
                return []
            # the chain first: its head is locked until the commit, so that concurrent
            # flushes (workers, machines) append one after the other
            sealed[:] = self.audit.append_all(
                connection,
                [
                    {
                        "at": _stamp(entry.at),
                        "actor": entry.channel,
                        "action": f"verify-{entry.kind}",
                        "target": entry.target,
                        "details": _audit_details(entry),
                    }
                    for entry in entries
                ],
            )
            # the history page keeps the latest history_size: older rows would be trimmed below
            rows = [
                {
                    "at": entry.at,
                    "kind": entry.kind,
                    "channel": entry.channel,
                    "verified": entry.verified,
                    "format": _clip(entry.format),
                    "issuer": _clip(entry.issuer),
                    "subject": _clip(entry.subject),
                    "codes": _clip(",".join(entry.codes)) or "",
                }
                for entry in entries[-self.history_size :]
            ]
            if self._insert_history is None:
                connection.execute(insert(table), rows)
            else:
                self._insert_history.execute(connection, rows)
            newest = select(func.max(table.c.id)).scalar_subquery()
            connection.execute(delete(table).where(table.c.id <= newest - self.history_size))
            if seal is not None:
                try:
                    seal(sealed[len(sealed) - len(also) :])
                except BaseException:
                    sealed.clear()  # rolled back, surely: nothing to ask the chain about
                    raise
            if spool is not None and buffered:
                last = sealed[-1]
                spool.sealing((number for number, _ in buffered), last["seq"], last["hash"])
        return sealed

    def _flush_periodically(self) -> None:
        while not self._closed:
            self._wake.wait(FLUSH_SECONDS)
            self._wake.clear()
            try:
                self.flush()
                self.replay_orphans()  # a worker that died and was not replaced
            except SQLAlchemyError:  # a pool timeout too: the thread lives on
                _log.exception("the verification history could not be written")
            except OSError:  # the spool's folder (the disk full): tried again next time
                _log.exception("the verification history's spool could not be written")

    def recent(self, limit: int = 100) -> Sequence[HistoryEntry]:
        """The latest verifications, newest first (this worker's buffered ones included)."""
        self.flush()
        table = self.verifications
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(table).order_by(table.c.id.desc()).limit(limit)
            ).fetchall()
        return [
            HistoryEntry(
                at=as_utc(row.at),
                kind=row.kind,
                channel=row.channel,
                verified=bool(row.verified),
                format=row.format,
                issuer=row.issuer,
                subject=row.subject,
                codes=tuple(code for code in row.codes.split(",") if code),
            )
            for row in rows
        ]


def _spool_name(url: str, prefix: str) -> str:
    """The spool folder's name for one database and prefix (its password left out: a
    changed password finds the same folder)."""
    where = make_url(url).render_as_string(hide_password=True)
    return hashlib.sha256(f"{where}\n{prefix}".encode()).hexdigest()[:16]


def _spooled(entry: HistoryEntry) -> list[Any]:
    """An entry as its spool journals it, on the request path: its fields in order, a JSON
    array (read back by :func:`_from_spool`)."""
    return [
        entry.at.isoformat(),
        entry.kind,
        entry.channel,
        entry.verified,
        entry.format,
        entry.issuer,
        entry.subject,
        entry.codes,
        entry.target,
        entry.receipt,
        None if entry.as_of is None else entry.as_of.isoformat(),
        entry.checks,
    ]


def _from_spool(record: Any, path: Path) -> HistoryEntry | None:
    """A journaled entry (:func:`_spooled`); None, logged, for one that is not."""
    try:
        if not isinstance(record, list):
            raise TypeError("not an array")
        # a spool written before as_of and checks were journaled holds ten fields
        at, kind, channel, verified, fmt, issuer, subject, codes, target, receipt, *rest = record
        if len(rest) > 2:
            raise ValueError("too many fields")
        as_of, checks = [*rest, None, None][:2]
        return HistoryEntry(
            at=as_utc(datetime.fromisoformat(at)),
            kind=str(kind),
            channel=str(channel),
            verified=verified is True,
            format=_optional_text(fmt),
            issuer=_optional_text(issuer),
            subject=_optional_text(subject),
            codes=tuple(str(code) for code in codes),
            target=_optional_text(target),
            receipt=_optional_text(receipt),
            as_of=None if as_of is None else as_utc(datetime.fromisoformat(as_of)),
            checks=None if checks is None else tuple(str(name) for name in checks),
        )
    except (TypeError, ValueError):
        _log.warning("%s: an entry that is not a verification, skipped: %.200r", path, record)
        return None


def _optional_text(value: Any) -> str | None:
    if value is not None and not isinstance(value, str):
        raise TypeError("not a string")
    return value


def _stamp(moment: datetime) -> str:
    return as_utc(moment).isoformat().replace("+00:00", "Z")


def _audit_details(entry: HistoryEntry) -> dict[str, Any]:
    """What the chain keeps of a verification: the verdict and where it came from."""
    details: dict[str, Any] = {
        "verified": entry.verified,
        "format": _clip(entry.format),
        "issuer": _clip(entry.issuer),
        "subject": _clip(entry.subject),
        "codes": list(entry.codes),
    }
    if entry.receipt is not None:
        details["receipt"] = entry.receipt
    if entry.as_of is not None:  # decided as of then, not at ``at``: read the verdict so
        details["asOf"] = format_moment(entry.as_of)
    if entry.checks is not None:  # a verdict on these checks only
        details["checks"] = list(entry.checks)
    return details
