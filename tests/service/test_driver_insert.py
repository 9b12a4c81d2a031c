"""Rows inserted through the driver (:func:`vcred_service.db.driver_insert`, the history
flush's path on SQLite) are stored exactly as SQLAlchemy's own executemany stores them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    insert,
)
from sqlalchemy.dialects import postgresql

from vcred_service.db import driver_insert, make_engine

COLUMNS = ("at", "verified", "name", "count")
ROWS: list[dict[str, Any]] = [
    {"at": datetime(2026, 12, 6, 17, 41, 51, 123456, UTC), "verified": True, "name": "a",
     "count": 7},
    {"at": datetime(2026, 1, 1, tzinfo=timezone(timedelta(hours=2))), "verified": False,
     "name": None, "count": -1},
    {"at": datetime(1999, 12, 31, 23, 59, 59), "verified": True, "name": "Ünïcödé ✓ '\"",
     "count": 2**40},
]  # fmt: skip


def _table(metadata: MetaData, name: str) -> Table:
    return Table(
        name,
        metadata,
        Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
        Column("at", DateTime(timezone=True), nullable=False),
        Column("verified", Boolean, nullable=False),
        Column("name", String(32)),
        Column("count", BigInteger, nullable=False),
        Column("note", String(8), nullable=False, default="none"),
    )


def test_rows_through_the_driver_are_stored_as_sqlalchemy_stores_them(tmp_path: Any) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'rows.db'}")
    metadata = MetaData()
    core, driver = _table(metadata, "core"), _table(metadata, "driver")
    metadata.create_all(engine)
    rows = [row | {"note": "given"} for row in ROWS]
    fast = driver_insert(driver, [*COLUMNS, "note"], engine.dialect)
    assert fast is not None
    with engine.begin() as connection:
        connection.execute(insert(core), rows)
        fast.execute(connection, rows)
        fast.execute(connection, rows[:1])  # one row: the driver's execute, not executemany
    with engine.connect() as connection:
        stored = {
            "core": connection.exec_driver_sql("SELECT * FROM core ORDER BY id").fetchall(),
            "driver": connection.exec_driver_sql("SELECT * FROM driver ORDER BY id").fetchall(),
        }
    assert stored["driver"][:3] == stored["core"]
    assert stored["driver"][3][1:] == stored["core"][0][1:]
    engine.dispose()


def test_a_default_to_fill_in_or_named_parameters_leave_it_to_sqlalchemy(tmp_path: Any) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'rows.db'}")
    table = _table(MetaData(), "rows")
    # "note" has a default of SQLAlchemy's own, which only its executemany fills in
    assert driver_insert(table, COLUMNS, engine.dialect) is None
    # psycopg takes named parameters
    assert driver_insert(table, [*COLUMNS, "note"], postgresql.psycopg.dialect()) is None
    engine.dispose()
