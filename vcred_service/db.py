"""Engines configured for several service processes sharing one database (issuer and verifier)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, Engine, Table, create_engine, event, insert
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

#: How long a SQLite writer waits for another process's write lock before failing.
SQLITE_BUSY_TIMEOUT_S = 30


def make_engine(url: str, **options: Any) -> Engine:
    """An engine for ``url`` (``sqlite:///path`` or ``postgresql+psycopg://…``).

    SQLite is set up for concurrent processes: WAL journal, a busy timeout, foreign keys, and
    every transaction opened with ``BEGIN IMMEDIATE`` — a deferred transaction that reads and
    then writes can fail at once with "database is locked" when another process wrote in
    between, instead of waiting its turn.
    """
    if url.startswith("sqlite"):
        options.setdefault("connect_args", {}).setdefault("timeout", SQLITE_BUSY_TIMEOUT_S)
        engine = create_engine(url, **options)
        _configure_sqlite(engine)
        return engine
    options.setdefault("pool_pre_ping", True)
    return create_engine(url, **options)


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


def _configure_sqlite(engine: Engine) -> None:
    # https://docs.sqlalchemy.org/en/20/dialects/sqlite.html#serializable-isolation-savepoints-transactional-ddl
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # pysqlite must not BEGIN on its own
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_S * 1000}")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
