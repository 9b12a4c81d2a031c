"""Officer accounts and their server-side sessions, stored beside each service's own tables.

Both services keep them on their SQLAlchemy engine (SQLite or PostgreSQL): the table
builders (:func:`officer_table`, :func:`session_table`) go into the service's ``MetaData``
so that its ``create_all`` makes them, and :class:`OfficerAccounts` / :class:`OfficerSessions`
read and write them.

A session is a random id (256 bits) in an HttpOnly cookie and a row keyed by the SHA-256 of
that id — the id itself is never stored, and a lookup by its digest compares nothing
secret in variable time. The row names the officer and when the session began and was last
used: past the idle timeout or the absolute lifetime the row is gone and the cookie opens
nothing, and signing out deletes the row, so a copied cookie ends with the session.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    DateTime,
    Engine,
    MetaData,
    String,
    Table,
    Text,
    delete,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.engine import Row

from vcred.errors import UsageError
from vcred_service import passwords
from vcred_service.db import as_utc

SESSION_ID_BYTES: Final = 32
#: The stored "hash" of an account without a password (no scrypt string is ever equal).
NO_PASSWORD: Final = "!"  # noqa: S105 - a marker, not a password
#: A listed session is named by the first hex digits of its id's digest: enough to tell
#: sessions apart, and nothing that opens one (the digest is not the cookie).
HANDLE_LENGTH: Final = 16


@dataclass(frozen=True, slots=True, kw_only=True)
class LiveSession:
    """A session as an administrator sees it (never its id)."""

    handle: str
    officer: str
    created: datetime
    last_seen: datetime


def officer_table(metadata: MetaData, prefix: str = "") -> Table:
    return Table(
        f"{prefix}officers",
        metadata,
        Column("name", String(100), primary_key=True),
        Column("password", Text, nullable=False),  # scrypt$N$r$p$salt$hash
        Column("created", String(32), nullable=False),
        Column("disabled", Boolean, nullable=False),
    )


def session_table(metadata: MetaData, prefix: str = "") -> Table:
    return Table(
        f"{prefix}officer_sessions",
        metadata,
        Column("id_digest", String(64), primary_key=True),  # SHA-256 of the cookie's id
        Column("officer", String(100), nullable=False, index=True),
        Column("created", DateTime(timezone=True), nullable=False),
        Column("last_seen", DateTime(timezone=True), nullable=False),
    )


class OfficerAccounts:
    """Officer accounts: scrypt-hashed passwords, looked up by name."""

    def __init__(self, engine: Engine, table: Table) -> None:
        self.engine = engine
        self.table = table

    def insert(self, conn: Connection, *, name: str, password: str | None, created: str) -> None:
        """Add an account inside the caller's transaction; ``password`` None: an account
        that signs in only through the agency's identity provider. Raises UsageError for a
        bad name, a weak password or a name already taken."""
        try:
            passwords.check_officer_name(name)
            if password is not None:
                passwords.check_password_strength(password)
        except ValueError as exc:
            raise UsageError(str(exc)) from exc
        table = self.table
        if conn.execute(select(table.c.name).where(table.c.name == name)).first():
            raise UsageError(f"there is already an officer {name!r}")
        conn.execute(
            insert(table).values(
                name=name,
                password=NO_PASSWORD if password is None else passwords.hash_password(password),
                created=created,
                disabled=False,
            )
        )

    def add(self, *, name: str, password: str | None, created: str) -> None:
        """:meth:`insert` in a transaction of its own."""
        with self.engine.begin() as conn:
            self.insert(conn, name=name, password=password, created=created)

    def row(self, name: str) -> Row[Any] | None:
        if "\x00" in name:  # PostgreSQL text cannot hold it: no account has it
            return None
        with self.engine.connect() as conn:
            return conn.execute(select(self.table).where(self.table.c.name == name)).first()

    def rows(self) -> list[Row[Any]]:
        with self.engine.connect() as conn:
            return list(conn.execute(select(self.table).order_by(self.table.c.name)))

    def check(self, name: str, password: str) -> bool:
        """Whether ``name`` is an active officer with this password (same work either way)."""
        row = self.row(name)
        # no row, a disabled account and one without a password take the same work
        stored = None
        if row is not None and not row.disabled and row.password != NO_PASSWORD:
            stored = str(row.password)
        return passwords.verify_password(password, stored)

    def active(self, name: str) -> bool:
        row = self.row(name)
        return row is not None and not row.disabled


class OfficerSessions:
    """Server-side officer sessions with an idle timeout and an absolute lifetime."""

    def __init__(
        self,
        engine: Engine,
        table: Table,
        *,
        idle: timedelta,
        lifetime: timedelta,
        clock: Callable[[], datetime],
    ) -> None:
        if idle <= timedelta(0) or lifetime <= timedelta(0):
            raise UsageError("a session's idle timeout and lifetime must be positive")
        self.engine = engine
        self.table = table
        self.idle = idle
        self.lifetime = lifetime
        self.clock = clock

    def start(self, officer: str) -> str:
        """A new session of ``officer``: its id, for the cookie (stored only as a digest).

        Sessions that have ended are forgotten on the way (each sign-in bounds the table).
        """
        session_id = secrets.token_urlsafe(SESSION_ID_BYTES)
        now = self.clock()
        table = self.table
        with self.engine.begin() as conn:
            conn.execute(delete(table).where(self._ended(now)))
            conn.execute(
                insert(table).values(
                    id_digest=_digest(session_id), officer=officer, created=now, last_seen=now
                )
            )
        return session_id

    def officer_of(self, session_id: str) -> str | None:
        """The officer of a live session (and it is marked as used now); None when the id is
        unknown, signed out, idle too long or past its lifetime (then the row is deleted)."""
        if not session_id or len(session_id) > 128:
            return None
        now = self.clock()
        table = self.table
        digest = _digest(session_id)
        with self.engine.begin() as conn:
            row = conn.execute(select(table).where(table.c.id_digest == digest)).first()
            if row is None:
                return None
            if (
                as_utc(row.last_seen) + self.idle <= now
                or as_utc(row.created) + self.lifetime <= now
            ):
                conn.execute(delete(table).where(table.c.id_digest == digest))
                return None
            conn.execute(update(table).where(table.c.id_digest == digest).values(last_seen=now))
        return str(row.officer)

    def end(self, session_id: str) -> None:
        """Sign out: the row is deleted, so the id (wherever it was copied) opens nothing."""
        with self.engine.begin() as conn:
            conn.execute(delete(self.table).where(self.table.c.id_digest == _digest(session_id)))

    def end_all(self, officer: str, *, conn: Connection | None = None) -> int:
        """End every session of ``officer`` (a disabled account); how many there were. With
        ``conn``: in the caller's transaction (its audit entry commits with it, or neither)."""
        if conn is None:
            with self.engine.begin() as own:
                return self.end_all(officer, conn=own)
        ended = conn.execute(delete(self.table).where(self.table.c.officer == officer))
        return int(ended.rowcount)

    def live(self) -> list[LiveSession]:
        """Every session that has not ended, newest activity first (an administrator's list)."""
        now = self.clock()
        table = self.table
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(table).where(~self._ended(now)).order_by(table.c.last_seen.desc())
            ).all()
        return [
            LiveSession(
                handle=str(row.id_digest)[:HANDLE_LENGTH],
                officer=str(row.officer),
                created=as_utc(row.created),
                last_seen=as_utc(row.last_seen),
            )
            for row in rows
        ]

    def end_by_handle(self, handle: str, *, conn: Connection | None = None) -> str | None:
        """End the session listed as ``handle`` (by an administrator); the officer whose it
        was, or None when no session has that handle. With ``conn``: as :meth:`end_all`."""
        if len(handle) != HANDLE_LENGTH or any(c not in "0123456789abcdef" for c in handle):
            return None
        if conn is None:
            with self.engine.begin() as own:
                return self.end_by_handle(handle, conn=own)
        table = self.table
        row = conn.execute(
            select(table.c.id_digest, table.c.officer).where(
                table.c.id_digest.startswith(handle, autoescape=True)
            )
        ).first()
        if row is None:
            return None
        conn.execute(delete(table).where(table.c.id_digest == row.id_digest))
        return str(row.officer)

    def _ended(self, now: datetime) -> Any:
        table = self.table
        return or_(table.c.last_seen <= now - self.idle, table.c.created <= now - self.lifetime)


def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8", "surrogatepass")).hexdigest()
