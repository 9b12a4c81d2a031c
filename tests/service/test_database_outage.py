"""A database that goes away: both services answer 503 with ``Retry-After`` (never a 500),
lose and duplicate nothing, and serve again when it is back.

The PostgreSQL tests give each service a database of its own and cut it off for real: new
connections are refused (``ALLOW_CONNECTIONS false``) and the open ones are ended, as a
restarting or unreachable server does.
"""

from __future__ import annotations

import logging
import secrets
import socket
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import create_engine, text
from sqlalchemy.exc import (
    DBAPIError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    ProgrammingError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

import verifier_app.storage as storage_module
from issuer_app import create_app as create_issuer
from issuer_app import issuer_of
from tests.issuer.conftest import ApiClient, assert_consistent, auth, credential, make_config
from tests.verifier.conftest import (  # noqa: F401 — the verifier's fixtures
    Agency,
    MakeApp,
    agency,
    eu_key,
    make_app,
    trust_list_file,
    us_server,
)
from tests.verifier.test_openapi import Contract
from vcred.audit import verify_chain
from vcred.cli import main
from vcred_service import create_base_app
from vcred_service.db import make_engine
from vcred_service.problems import STORAGE_RETRY_AFTER_S
from verifier_app.storage import Storage

_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"


def _raising(error: BaseException) -> Flask:
    app = create_base_app("outage_test")

    @app.post("/fail")
    def fail() -> str:
        raise error

    return app


def _driver_error(
    kind: type[DBAPIError], cause: Exception | None = None, **options: Any
) -> DBAPIError:
    return kind("SELECT 1", {}, cause or Exception("driver says no"), **options)


def _sqlite_error(code: int) -> sqlite3.OperationalError:
    """The sqlite3 module's error for result ``code`` (it says no more than the code)."""
    error = sqlite3.OperationalError("driver says no")
    error.sqlite_errorcode = code
    return error


@pytest.mark.parametrize(
    "error",
    [
        _driver_error(OperationalError),
        _driver_error(InterfaceError),
        _driver_error(ProgrammingError, connection_invalidated=True),
        PoolTimeoutError("QueuePool limit of size 5 overflow 10 reached"),
        _driver_error(OperationalError, psycopg.errors.DeadlockDetected("driver says no")),
        _driver_error(OperationalError, psycopg.errors.QueryCanceled("driver says no")),
        _driver_error(OperationalError, psycopg.errors.AdminShutdown("driver says no")),
        _driver_error(OperationalError, _sqlite_error(5)),  # SQLITE_BUSY
        _driver_error(OperationalError, _sqlite_error(10 | 3 << 8)),  # SQLITE_IOERR_WRITE
    ],
    ids=[
        "operational",
        "interface",
        "invalidated",
        "pool-timeout",
        "deadlock",
        "statement-timeout",
        "shutdown",
        "sqlite-busy",
        "sqlite-io",
    ],
)
def test_a_database_that_cannot_take_work_is_a_503_to_retry(error: BaseException) -> None:
    answer = _raising(error).test_client().post("/fail")
    assert answer.status_code == 503
    assert answer.mimetype == "application/problem+json"
    assert answer.headers["Retry-After"] == str(STORAGE_RETRY_AFTER_S)
    body = answer.get_json()
    assert body["status"] == 503 and body["title"] == "Service Unavailable"
    assert "driver says no" not in answer.get_data(as_text=True)


@pytest.mark.parametrize(
    "error",
    [
        _driver_error(IntegrityError),
        _driver_error(ProgrammingError),
        _driver_error(OperationalError, psycopg.errors.ProgramLimitExceeded("driver says no")),
        _driver_error(OperationalError, _sqlite_error(1)),  # SQLITE_ERROR: no such table …
    ],
    ids=["integrity", "programming", "program-limit", "sqlite-error"],
)
def test_a_wrong_statement_is_still_a_500(error: BaseException) -> None:
    answer = _raising(error).test_client().post("/fail")
    assert answer.status_code == 500
    assert "Retry-After" not in answer.headers
    assert "driver says no" not in answer.get_data(as_text=True)


def test_a_failed_statement_never_shows_its_parameters(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    secret = secrets.token_hex(16)
    with pytest.raises(OperationalError) as raised, engine.connect() as connection:
        connection.execute(text("INSERT INTO nowhere VALUES (:value)"), {"value": secret})
    assert secret not in str(raised.value)
    caplog.set_level(logging.ERROR, logger="vcred_service")
    answer = _raising(raised.value).test_client().post("/fail")
    assert answer.status_code == 500  # no such table: a bug to fix, logged with its traceback
    assert "Traceback" in caplog.text and "nowhere" in caplog.text  # the statement is named
    assert secret not in caplog.text


# -- a PostgreSQL database cut off for real ----------------------------------------------------


class Database:
    """A database of its own on the test server, which can be cut off and brought back."""

    def __init__(self) -> None:
        self.name = f"outage_{secrets.token_hex(4)}"
        self.url = f"{_SERVER}/{self.name}"
        self._admin = create_engine(f"{_SERVER}/test", isolation_level="AUTOCOMMIT")

    def _run(self, statement: str, **values: str) -> None:
        with self._admin.connect() as connection:
            connection.execute(text(statement), values)

    def create(self) -> None:
        self._run(f"CREATE DATABASE {self.name}")

    def cut_off(self) -> None:
        self._run(f"ALTER DATABASE {self.name} WITH ALLOW_CONNECTIONS false")
        self._run(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = :name AND pid <> pg_backend_pid()",
            name=self.name,
        )

    def bring_back(self) -> None:
        self._run(f"ALTER DATABASE {self.name} WITH ALLOW_CONNECTIONS true")

    def drop(self) -> None:
        self.bring_back()
        self._run(f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)")
        self._admin.dispose()


@pytest.fixture
def database() -> Iterator[Database]:
    made = Database()
    try:
        made.create()
    except OperationalError as error:
        pytest.skip(f"PostgreSQL at 127.0.0.1:5432 is not reachable: {error.orig}")
    yield made
    made.drop()


@pytest.mark.postgres
def test_the_verifier_answers_503_through_an_outage_and_records_each_answer_once(
    database: Database,
    make_app: MakeApp,  # noqa: F811
    agency: Agency,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(storage_module, "MAX_PENDING", 4)
    app = make_app(database_url=database.url)
    client = app.test_client()
    contract = Contract(app)
    token = str(agency.issue(agency.aeo_certificate()))

    def verify() -> int:
        answer = client.post("/credentials/verify", json={"verifiableCredential": token})
        contract.check("/credentials/verify", "post", answer)  # 503 too, as documented
        if answer.status_code == 503:
            assert answer.headers["Retry-After"] == str(STORAGE_RETRY_AFTER_S)
            assert answer.mimetype == "application/problem+json"
        else:
            assert answer.get_json()["verified"] is True
        return answer.status_code

    storage: Storage = app.extensions["vcred_verifier"].storage
    assert verify() == 200
    storage.flush()
    database.cut_off()
    # verifying needs no database: the first answers are buffered for the history ...
    statuses = [verify() for _ in range(6)]
    # ... until the buffer is full and each verification must be written before its answer
    assert statuses[:3] == [200, 200, 200]
    assert statuses[3:] == [503, 503, 503]
    database.bring_back()
    assert verify() == 200
    storage.flush()
    answered = 1 + statuses.count(200) + 1
    chain = list(storage.audit.entries())
    assert len(chain) == answered  # every answer recorded once, no refused one
    assert verify_chain(chain).intact


@pytest.mark.postgres
def test_the_issuer_answers_503_through_an_outage_and_issues_once_after(
    database: Database, tmp_path: Path
) -> None:
    app = create_issuer(make_config(tmp_path / "data", "sqlite", database_url=database.url))
    app.config["TESTING"] = True
    api = ApiClient(app)
    headers = auth(app)
    document = credential()
    database.cut_off()
    refused = api.issue(document, headers, **{"Idempotency-Key": "entry-1"})
    assert refused.status_code == 503, refused.get_data(as_text=True)
    assert refused.headers["Retry-After"] == str(STORAGE_RETRY_AFTER_S)
    database.bring_back()
    issued = api.issue(document, headers, **{"Idempotency-Key": "entry-1"})
    assert issued.status_code == 201, issued.get_data(as_text=True)
    again = api.issue(document, headers, **{"Idempotency-Key": "entry-1"})
    assert again.get_data() == issued.get_data()
    assert assert_consistent(issuer_of(app)) == 1
    issuer_of(app).close()


# -- on the command line ---------------------------------------------------------------------


@pytest.fixture
def nowhere() -> str:
    """A PostgreSQL URL, with a password, of a port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"postgresql+psycopg://postgres:{_PASSWORD}@127.0.0.1:{port}/test"


_PASSWORD = "not-a-real-password-42"


@pytest.mark.parametrize(
    "command",
    [
        ["serve", "issuer", "--port", "0"],
        ["serve", "verifier", "--port", "0"],
        ["issuer", "token", "list"],
        ["verifier", "officer", "list"],
    ],
    ids=" ".join,
)
def test_a_command_whose_database_cannot_be_reached_says_so_in_one_line(
    command: list[str], nowhere: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", nowhere)
    monkeypatch.setenv("VCRED_ISSUER_PASSPHRASE", "correct horse battery staple")
    result = CliRunner().invoke(main, [*command, "--data-dir", str(tmp_path / "data")])
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)  # said, not raised
    (line,) = result.output.strip().splitlines()
    assert "the database cannot be reached: " in line and "Connection refused" in line
    assert _PASSWORD not in result.output
