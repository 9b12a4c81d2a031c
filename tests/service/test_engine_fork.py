"""An engine used across fork (vcred.verify_many's workers check status lists through the
verifier's database): a forked child never uses a connection its parent's pool holds, and
never closes one (SQLAlchemy's recipe, "Using Connection Pools with Multiprocessing")."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.verifier.conftest import PG_URL
from vcred_service.db import make_engine


@pytest.mark.postgres
def test_a_forked_child_opens_its_own_postgresql_connection() -> None:
    engine = make_engine(PG_URL)
    try:
        with engine.connect() as connection:  # one idle connection left in the pool
            parent = connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: answer its backend's pid through the pipe
            code = 1
            try:
                with engine.connect() as connection:
                    child = connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
                os.write(write, str(child).encode())
                engine.dispose()  # as a worker ending: must not end the parent's session
                code = 0
            finally:
                os._exit(code)
        os.close(write)
        _, status = os.waitpid(pid, 0)
        answered = os.read(read, 32).decode()
        os.close(read)
        assert os.waitstatus_to_exitcode(status) == 0
        assert int(answered) != parent  # not the parent's connection
        with engine.connect() as connection:  # the parent's pooled connection still works
            assert connection.execute(text("SELECT pg_backend_pid()")).scalar_one() == parent
    finally:
        engine.dispose()


def test_a_forked_child_opens_its_own_sqlite_connection(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/fork.db")
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            parent = id(connection.connection.dbapi_connection)
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                with engine.connect() as connection:
                    connection.execute(text("SELECT 1"))
                    child = id(connection.connection.dbapi_connection)
                os.write(write, b"own" if child != parent else b"shared")
                code = 0
            finally:
                os._exit(code)
        os.close(write)
        _, status = os.waitpid(pid, 0)
        answered = os.read(read, 32)
        os.close(read)
        assert os.waitstatus_to_exitcode(status) == 0
        assert answered == b"own"
    finally:
        engine.dispose()
