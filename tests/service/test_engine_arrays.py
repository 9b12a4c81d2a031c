"""List parameters on PostgreSQL: sent in binary (no array literal to escape), read back as
they were sent — the one-statement writes (status places, sealed audit entries) pass each
column as one."""

from __future__ import annotations

import pytest
from psycopg.adapt import PyFormat
from psycopg.types.array import ListBinaryDumper
from sqlalchemy import Integer, Text, bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY

from tests.verifier.conftest import PG_URL
from vcred_service.db import make_engine

#: what an array literal must escape, and what it must not mistake for its own syntax
AWKWARD = [
    '{"at":"2026-12-06T00:00:00Z","quoted":"a \\"b\\" c"}',
    "back\\slash",
    "{braces}, commas, and (parens)",
    "NULL",
    "",
    " padded ",
    "Ünïcödé 日本語 ✓",
    None,
]


@pytest.mark.postgres
def test_lists_go_to_postgresql_in_binary_and_come_back_unchanged() -> None:
    engine = make_engine(PG_URL)
    try:
        with engine.connect() as connection:
            adapters = connection.connection.dbapi_connection.adapters  # type: ignore[union-attr]
            assert adapters.get_dumper(list, PyFormat.AUTO) is ListBinaryDumper
            texts = select(func.unnest(bindparam("texts", type_=ARRAY(Text))))
            read = connection.execute(texts, {"texts": AWKWARD}).scalars().all()
            assert read == AWKWARD
            numbers = [0, 1, -7, 40_000, 2_147_483_647, None]
            ints = select(func.unnest(bindparam("ints", type_=ARRAY(Integer))))
            assert connection.execute(ints, {"ints": numbers}).scalars().all() == numbers
            assert connection.execute(texts, {"texts": []}).scalars().all() == []
    finally:
        engine.dispose()
