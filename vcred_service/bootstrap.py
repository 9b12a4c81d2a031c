"""First start, once: the lock a service process holds while it creates its tables and its
first-start secrets (keys, the session secret).

``gunicorn -w N`` starts N workers at once, each running the app factory; on a fresh data
folder or database they would all create the same tables — "table … already exists", a
worker lost. Whoever takes this lock first sets the database up; the others wait, then find
it done. PostgreSQL: a session-level advisory lock (``pg_advisory_lock``, held across the
transactions of the setup, https://www.postgresql.org/docs/current/explicit-locking.html#ADVISORY-LOCKS);
SQLite: an exclusive ``flock`` on a file beside the database (SQLite's own locks cover one
transaction, and table creation is checked outside it).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Final

from sqlalchemy import Engine, MetaData, text

#: The lock file beside a SQLite database ``X``: ``X.bootstrap-lock`` (kept: removing a lock
#: file another process may hold open would let a third one in).
LOCK_SUFFIX: Final = ".bootstrap-lock"


def advisory_key(name: str) -> int:
    """The PostgreSQL advisory lock key (a signed 64-bit integer) of a lock name."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


@contextmanager
def bootstrap_lock(engine: Engine, name: str) -> Iterator[None]:
    """Hold the first-start lock ``name`` (a service and its table prefix) of ``engine``'s
    database until the block ends; one process (and thread) at a time gets it."""
    if engine.dialect.name == "postgresql":
        key = advisory_key(name)
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": key})
            conn.commit()  # no transaction left open while the others wait
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                conn.commit()
        return
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        yield  # one process has this database: nobody to race
        return
    path = Path(database).with_name(Path(database).name + LOCK_SUFFIX)
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(descriptor, fcntl.LOCK_UN)
    finally:
        os.close(descriptor)


def create_tables(engine: Engine, metadata: MetaData, name: str) -> None:
    """Create ``metadata``'s tables that do not exist yet, under the first-start lock ``name``
    (a table set and its prefix): workers starting at once create them once."""
    with bootstrap_lock(engine, name):
        metadata.create_all(engine)
