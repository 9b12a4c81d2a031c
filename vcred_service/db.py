"""Engines configured for several service processes sharing one database (issuer and verifier)."""

from __future__ import annotations

import functools
import operator
import os
import select as _select
import sqlite3
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final

from psycopg.types.array import ListBinaryDumper
from sqlalchemy import (
    Column,
    Connection,
    Dialect,
    Engine,
    Table,
    create_engine,
    event,
    insert,
    make_url,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import (
    DBAPIError,
    DisconnectionError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    SQLAlchemyError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

#: How long a SQLite writer waits for another process's write lock before failing.
SQLITE_BUSY_TIMEOUT_S = 30


#: PostgreSQL error classes (SQLSTATE's first two characters) of a database that cannot take
#: the work now: connection exception, transaction rollback (deadlock, serialization),
#: insufficient resources, operator intervention (shutdown, statement timeout), system error.
_UNAVAILABLE_CLASSES: Final = frozenset({"08", "40", "53", "57", "58"})
_LOCK_NOT_AVAILABLE: Final = "55P03"
#: SQLite primary result codes of the same: BUSY, LOCKED, NOMEM, IOERR, FULL, CANTOPEN, PROTOCOL.
_SQLITE_UNAVAILABLE: Final = frozenset({5, 6, 7, 10, 13, 14, 15})


class LocalStorageError(Exception):
    """A file the service must write before it answers (the verifier's history spool) cannot
    be written now: the disk is full, or failing. Answered like an unavailable database (503
    with Retry-After), not as a bug."""


def storage_unavailable(error: BaseException) -> bool:
    """Whether ``error`` says the database cannot be reached or cannot take work now (an
    outage, a lost connection, a pool with no connection free, a lock or a deadlock, a
    statement timeout) rather than that a statement was wrong (a missing table, a syntax
    error, a program limit): the one is a 503 to retry, the other a 500 to fix.

    Read off the driver's error where it says (PostgreSQL's SQLSTATE, SQLite's result code);
    any other operational or interface error counts as the database being unavailable."""
    if isinstance(error, PoolTimeoutError):
        return True
    if not isinstance(error, DBAPIError):
        return False
    if error.connection_invalidated:
        return True
    if not isinstance(error, OperationalError | InterfaceError):
        return False
    cause = error.orig
    sqlstate = getattr(cause, "sqlstate", None)
    if isinstance(sqlstate, str):
        return sqlstate[:2] in _UNAVAILABLE_CLASSES or sqlstate == _LOCK_NOT_AVAILABLE
    code = getattr(cause, "sqlite_errorcode", None)
    if isinstance(code, int):
        return code & 0xFF in _SQLITE_UNAVAILABLE  # (an extended code's low byte is primary)
    return True


def describe_failure(error: SQLAlchemyError) -> str:
    """``error`` in one line for a person (a command that cannot go on): what the driver said
    when the database cannot be reached, else the kind of failure; never the statement."""
    if not storage_unavailable(error):
        return f"the database cannot be used: {type(error).__name__}"
    said = str(getattr(error, "orig", None) or error).strip()
    return (
        f"the database cannot be reached: {said.splitlines()[0] if said else type(error).__name__}"
    )


def redacted_url(url: str) -> str:
    """A database or Redis URL as a log or a console may show it: its password replaced
    (``scheme://user:***@host``) and its query left out (``?password=`` is a password too)."""
    scheme, sep, rest = url.partition("://")
    rest = rest.partition("?")[0]
    credentials, at, location = rest.rpartition("@")
    if not at or ":" not in credentials:
        return f"{scheme}{sep}{rest}"
    return f"{scheme}{sep}{credentials.partition(':')[0]}:***@{location}"


def as_utc(moment: datetime) -> datetime:
    """A moment as stored and read back: in UTC. Everything is stored in UTC, and SQLite
    (which compares the text) hands it back without its offset."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def make_engine(url: str, **options: Any) -> Engine:
    """An engine for ``url`` (``sqlite:///path`` or ``postgresql+psycopg://…``).

    SQLite is set up for concurrent processes: WAL journal, a busy timeout, foreign keys, and
    every transaction opened with ``BEGIN IMMEDIATE`` — a deferred transaction that reads and
    then writes can fail at once with "database is locked" when another process wrote in
    between, instead of waiting its turn.

    A pooled PostgreSQL connection (psycopg) is checked at checkout without a round trip
    (:func:`_closed_by_server`) instead of with ``pool_pre_ping``'s ``SELECT 1``; other
    drivers keep the pre-ping.

    A failed statement's error (and so the log) names the statement, never its parameters:
    they can be a credential's personal data or a secret being stored.

    A process forked from this one (``vcred.verify_many``'s workers) never uses a pooled
    connection of its parent, nor closes one (:func:`_own_process_only`).

    psycopg sends lists (the array parameters of the one-statement writes: status places,
    sealed audit entries) in binary (:func:`_binary_arrays`).
    """
    options.setdefault("hide_parameters", True)
    if url.startswith("sqlite"):
        options.setdefault("connect_args", {}).setdefault("timeout", SQLITE_BUSY_TIMEOUT_S)
        engine = create_engine(url, **options)
        _configure_sqlite(engine)
    elif "pool_pre_ping" in options or make_url(url).get_dialect().driver != "psycopg":
        options.setdefault("pool_pre_ping", True)
        engine = create_engine(url, **options)
    else:
        engine = create_engine(url, **options)
        _own_process_only(engine)  # first: the parent's connection is never checked, nor closed
        event.listen(engine, "checkout", _check_idle_connection)
        event.listen(engine, "connect", _binary_arrays)
        return engine
    _own_process_only(engine)
    return engine


def _own_process_only(engine: Engine) -> None:
    """SQLAlchemy's recipe for a pool used across fork ("Using Connection Pools with
    Multiprocessing or os.fork()"): a connection is marked with the process that opened it,
    and one checked out in another process is dropped from the pool without being closed
    (closing it would end the parent's session) — the pool opens a new one instead."""

    @event.listens_for(engine, "connect")
    def _mark(_dbapi_connection: Any, record: Any) -> None:
        record.info["pid"] = os.getpid()

    @event.listens_for(engine, "checkout")
    def _check_process(_dbapi_connection: Any, record: Any, proxy: Any) -> None:
        if record.info.get("pid") != os.getpid():
            record.dbapi_connection = proxy.dbapi_connection = None
            raise DisconnectionError("a connection of the parent process, left to it")


def _binary_arrays(dbapi_connection: Any, _record: Any) -> None:
    """Send a list parameter in PostgreSQL's binary array format, not as an array literal:
    psycopg's text dumper escapes every quote of every element with a regular expression
    substitution (28 µs for one audit entry's details, 36 quotes), half of the parameters'
    cost in an issuance. Same values, same types; the server reads no text."""
    dbapi_connection.adapters.register_dumper(list, ListBinaryDumper)


def _check_idle_connection(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """Refuse a pooled connection the server closed (the pool then opens another)."""
    if _closed_by_server(dbapi_connection):
        raise DisconnectionError("the server closed this pooled connection")


def _closed_by_server(dbapi_connection: Any) -> bool:
    """Whether an idle psycopg connection is dead, without a round trip.

    An idle connection has nothing to read: a server that shut down, restarted or ended the
    session sent its last message and closed the socket, which is then readable. (A peer
    gone without closing is not seen: a statement on that connection fails, and the pool
    drops every connection as old as it.)
    """
    if dbapi_connection.closed or dbapi_connection.broken:
        return True
    try:
        readable, _, _ = _select.select([dbapi_connection.pgconn.socket], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


def insert_ignore(conn: Connection, table: Table, values: Mapping[str, Any]) -> bool:
    """Insert a row unless it would break a unique constraint; whether it was inserted (safe when
    several processes insert the same row at once)."""
    dialect = conn.dialect.name
    if dialect == "postgresql":
        stmt: Any = postgresql_insert(table).values(**values).on_conflict_do_nothing()
    elif dialect == "sqlite":
        stmt = sqlite_insert(table).values(**values).on_conflict_do_nothing()
    else:  # any other database: a savepoint around a plain insert
        try:
            with conn.begin_nested():
                conn.execute(insert(table).values(**values))
        except IntegrityError:
            return False
        return True
    # rowcount of an INSERT is reported only when asked for (SQLAlchemy 2)
    result = conn.execute(stmt, execution_options={"preserve_rowcount": True})
    return bool(result.rowcount == 1)


def insert_all_ignore(
    conn: Connection,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    *,
    key: Sequence[Column[Any]],
) -> set[tuple[Any, ...]] | None:
    """Insert ``rows`` in one statement, skipping each that would break a unique constraint
    (as :func:`insert_ignore`); the ``key`` values of the rows inserted. None on a database
    where that is not one statement (nothing was inserted: insert them one by one)."""
    if not rows:
        return set()
    stmt = _insert_all_ignore(conn.dialect.name, table, tuple(key))
    if stmt is None:
        return None
    # the rows as parameters, not as values of the statement: SQLAlchemy then sends them as
    # one multi-row INSERT ("insertmanyvalues") compiled once, where a statement with the rows
    # in it is compiled again on every call
    return {tuple(row) for row in conn.execute(stmt, list(rows))}


@functools.lru_cache(maxsize=64)
def _insert_all_ignore(dialect: str, table: Table, key: tuple[Column[Any], ...]) -> Any:
    """:func:`insert_all_ignore`'s statement, built once (a hot path: status allocation)."""
    if dialect == "postgresql":
        return postgresql_insert(table).on_conflict_do_nothing().returning(*key)
    if dialect == "sqlite":
        return sqlite_insert(table).on_conflict_do_nothing().returning(*key)
    return None


#: SQLite's result code for a lock held by another connection.
_SQLITE_BUSY: Final = 5


class DriverInsert:
    """An executemany INSERT of rows of a table (dicts of the same columns) handed to the
    driver as it takes them: each value converted by its column type's own bind processor,
    without SQLAlchemy's per-row parameter processing around it — which cost a flush of the
    verifier's history as much per row as sealing its audit entry (issue 21). Made by
    :func:`driver_insert`."""

    def __init__(self, statement: str, names: Sequence[str], processors: Sequence[Any]) -> None:
        self._statement = statement
        self._row = operator.itemgetter(*names)
        self._processors = [(index, p) for index, p in enumerate(processors) if p is not None]

    def execute(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """Insert ``rows`` in ``conn``'s transaction."""
        values: list[tuple[Any, ...]] = [self._row(row) for row in rows]
        if self._processors:
            for number, value in enumerate(values):
                converted = list(value)
                for index, processor in self._processors:
                    converted[index] = processor(converted[index])
                values[number] = tuple(converted)
        conn.exec_driver_sql(self._statement, values)


def driver_insert(table: Table, columns: Sequence[str], dialect: Dialect) -> DriverInsert | None:
    """The :class:`DriverInsert` of rows of ``table`` giving ``columns`` (two or more), on
    ``dialect``; None when its driver takes named parameters, or when the statement would
    take more than those columns (a default of SQLAlchemy's own to fill in): then
    ``conn.execute(insert(table), rows)`` it is."""
    compiled = insert(table).compile(dialect=dialect, column_keys=list(columns))
    names = compiled.positiontup
    if not compiled.positional or names is None or sorted(names) != sorted(columns):
        return None
    processors = [
        table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names
    ]
    return DriverInsert(str(compiled), names, processors)


def use_wal(cursor: Any) -> None:
    """Put a SQLite connection's database in WAL mode, waiting out another connection doing
    the same: on a fresh database, ``PRAGMA journal_mode = WAL`` answers "database is
    locked" at once while another process switches it, without calling the busy handler
    (workers starting together failed their first start, about 1 round in 30 under load).
    Retried, backing off, for up to :data:`SQLITE_BUSY_TIMEOUT_S`."""
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_S
    pause = 0.001
    while True:
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            busy = getattr(exc, "sqlite_errorcode", None) == _SQLITE_BUSY
            if not busy or time.monotonic() + pause > deadline:
                raise
        time.sleep(pause)
        pause = min(2 * pause, 0.05)


def _configure_sqlite(engine: Engine) -> None:
    # https://docs.sqlalchemy.org/en/20/dialects/sqlite.html#serializable-isolation-savepoints-transactional-ddl
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # pysqlite must not BEGIN on its own
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_S * 1000}")
            use_wal(cursor)
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
