"""A database that goes away: both services answer 503 with ``Retry-After`` (never a 500),
lose and duplicate nothing, and serve again when it is back.

The PostgreSQL tests give each service a database of its own and cut it off for real: new
connections are refused (``ALLOW_CONNECTIONS false``) and the open ones are ended, as a
restarting or unreachable server does.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import secrets
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner, Result
from flask import Flask
from sqlalchemy import Connection, Engine, MetaData, create_engine, event, func, select, text
from sqlalchemy.exc import (
    DBAPIError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    ProgrammingError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

import vcred_service.db as db_module
import vcred_service.runner as runner_module
import verifier_app.cli as verifier_cli
import verifier_app.storage as storage_module
from issuer_app import create_app as create_issuer
from issuer_app import issuer_of
from issuer_app.service import Issuer
from tests.hardening.test_trust_list_authority import unsigned_list
from tests.issuer.conftest import (
    PASSPHRASE,
    ApiClient,
    assert_consistent,
    auth,
    credential,
    make_config,
)
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
from vcred_service.oauth_clients import OAuthClients
from vcred_service.problems import STORAGE_RETRY_AFTER_S
from verifier_app.storage import Storage

_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"
VCRED = str(Path(sys.executable).with_name("vcred"))


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
        self._run(  # (with a timeout: returns once they are gone, not once signalled)
            "SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity "
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


# -- a database lost in the middle of a command ------------------------------------------------


def _with_password(url: str) -> str:
    """``url`` with a password (the test server trusts its clients: it is never checked)."""
    return url.replace("postgres@", f"postgres:{_PASSWORD}@", 1)


def _row_counts(database: Database) -> dict[str, int]:
    """How many rows each table of ``database`` holds (what a command may have written)."""
    engine = create_engine(database.url)
    try:
        tables = MetaData()
        tables.reflect(engine)
        with engine.connect() as connection:
            return {
                name: connection.execute(select(func.count()).select_from(table)).scalar_one()
                for name, table in tables.tables.items()
            }
    finally:
        engine.dispose()


@contextmanager
def _lost_midway(
    database: Database, monkeypatch: pytest.MonkeyPatch, opener: str, statement: str
) -> Iterator[None]:
    """Within it, a command cuts ``database`` off once its ``opener`` (the module attribute
    that opens its storage) has returned, just before the next statement naming
    ``statement``: that statement, or the next, meets a database gone away."""
    module_name, _, attribute = opener.rpartition(".")
    module = importlib.import_module(module_name)
    real = getattr(module, attribute)
    armed = False

    def opened(*args: Any, **kwargs: Any) -> Any:
        nonlocal armed
        value = real(*args, **kwargs)
        armed = True
        return value

    def cut(connection: Connection, _cursor: Any, sql: str, *_: Any) -> None:
        nonlocal armed
        if armed and connection.engine.url.database == database.name and statement in sql:
            armed = False
            database.cut_off()

    monkeypatch.setattr(module, attribute, opened)
    event.listen(Engine, "before_cursor_execute", cut)
    try:
        yield
    finally:
        event.remove(Engine, "before_cursor_execute", cut)


def _said_in_one_line(result: Result, said_as: str) -> None:
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)  # said, not raised
    assert "Traceback" not in result.output
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"{said_as}: the database cannot be reached: "), line
    assert _PASSWORD not in result.output


@pytest.fixture
def issuer_database(database: Database, tmp_path: Path) -> dict[str, str]:
    """An issuer set up in ``database``, with a token, an officer and a session of hers, a
    second key and a client; what the commands below name of it."""
    service = Issuer.open(make_config(tmp_path / "data", "sqlite", database_url=database.url))
    try:
        token = service.create_token(["issue"], actor="test").id
        service.add_officer("ana", "long enough pw", actor="test")
        key = service.add_key("p256", actor="test").tag
        client = OAuthClients(service.store.engine).register(["issue"], label="", created="now")
        service.sessions.start("ana")
        (session,) = service.sessions.live()
    finally:
        service.close()
    unsigned = tmp_path / "unsigned.json"
    unsigned.write_text(json.dumps(unsigned_list()))
    return {
        "data": str(tmp_path / "data"),
        "token": token,
        "key": key,
        "client": client.client_id,
        "session": session.handle,
        "list": str(unsigned),
    }


def _named(value: list[str] | str) -> str:
    """A test's id: the service, the command, then where it is cut."""
    return " ".join(value) if isinstance(value, list) else value


# each write is cut at its audit entry, the last statement of its transaction: nothing of
# the work before it may stay
_ISSUER_COMMANDS = [
    (["token", "create", "--scope", "issue"], "audit"),
    (["token", "list"], "tokens"),
    (["token", "revoke", "{token}"], "audit"),
    (["key", "add", "--type", "ed25519"], "audit"),
    (["key", "retire", "{key}"], "audit"),
    (["officer", "add", "ben", "--password-stdin"], "audit"),
    (["officer", "role", "ana", "supervisor"], "audit"),
    (["officer", "list"], "officers"),
    (["session", "list"], "sessions"),
    (["session", "end", "{session}"], "audit"),
    (["session", "end", "--officer", "ana"], "audit"),
    (["audit", "export"], "audit"),
    (["trust-list", "issue", "{list}"], "audit"),
    (["client", "create", "--scope", "issue"], "audit"),
    (["client", "list"], "oauth_clients"),
    (["client", "revoke", "{client}"], "audit"),
]


_VERIFIER_COMMANDS = [
    (["officer", "add", "ben", "--password-stdin"], "officers"),
    (["officer", "list"], "officers"),
    (["audit", "export"], "audit"),
    (["client", "create"], "oauth_clients"),
    (["client", "list"], "oauth_clients"),
    (["client", "revoke", "{client}"], "oauth_clients"),
]

#: What opens each service's storage in its commands: the database is cut off after it.
_OPENERS = {"issuer": "issuer_app.cli._open", "verifier": "verifier_app.cli._storage"}


@pytest.fixture
def verifier_database(
    database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    """A verifier's storage in ``database``, with a client; what the commands name of it."""
    monkeypatch.setenv("DATABASE_URL", database.url)
    data = str(tmp_path / "data")
    made = CliRunner().invoke(main, ["verifier", "client", "create", "--data-dir", data])
    assert made.exit_code == 0, made.output
    return {"data": data, "client": made.stdout.split("client_id=")[1].split()[0]}


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("service", "command", "statement"),
    [("issuer", *case) for case in _ISSUER_COMMANDS]
    + [("verifier", *case) for case in _VERIFIER_COMMANDS],
    ids=_named,
)
def test_a_command_that_loses_its_database_midway_says_so_in_one_line(
    service: str,
    command: list[str],
    statement: str,
    database: Database,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    names: dict[str, str] = request.getfixturevalue(f"{service}_database")
    monkeypatch.setenv("DATABASE_URL", _with_password(database.url))
    monkeypatch.setenv("VCRED_ISSUER_PASSPHRASE", PASSPHRASE)
    before = _row_counts(database)
    arguments = [part.format(**names) for part in command]
    with _lost_midway(database, monkeypatch, _OPENERS[service], statement):
        result = CliRunner().invoke(
            main, [service, *arguments, "--data-dir", names["data"]], input="long enough pw\n"
        )
    _said_in_one_line(result, f"vcred {service}")
    database.bring_back()
    assert _row_counts(database) == before  # a write cut short left none of its work


@pytest.mark.postgres
def test_a_wrong_statement_midway_keeps_its_traceback(
    database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A table gone is no outage to retry but a bug (or a broken database) to look at."""
    monkeypatch.setenv("DATABASE_URL", database.url)
    data = ["--data-dir", str(tmp_path / "data")]
    assert CliRunner().invoke(main, ["verifier", "officer", "list", *data]).exit_code == 0
    monkeypatch.setattr(database, "cut_off", lambda: database._run("DROP TABLE officers"))
    with _lost_midway(database, monkeypatch, "verifier_app.cli._storage", "officers"):
        result = CliRunner().invoke(main, ["verifier", "officer", "list", *data])
    assert isinstance(result.exception, ProgrammingError), result.output
    assert result.exit_code == 1


def test_a_sqlite_database_locked_midway_is_said_in_one_line(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setattr(db_module, "SQLITE_BUSY_TIMEOUT_S", 0)  # no 30 s wait for the lock
    data = ["--data-dir", str(tmp_path / "data")]
    assert CliRunner().invoke(main, ["verifier", "officer", "list", *data]).exit_code == 0
    path = tmp_path / "data" / "verifier.db"
    locker = sqlite3.connect(path, isolation_level=None)
    opened = verifier_cli._storage

    def storage_then_lock(*args: Any) -> Storage:
        storage = opened(*args)
        locker.execute("BEGIN EXCLUSIVE")  # another process writing, for longer than we wait
        return storage

    monkeypatch.setattr(verifier_cli, "_storage", storage_then_lock)
    try:
        result = CliRunner().invoke(
            main,
            ["verifier", "officer", "add", "ben", "--password-stdin", *data],
            input="long enough pw\n",
        )
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    assert result.exit_code == 2, result.output
    (line,) = result.stderr.strip().splitlines()
    assert line == "vcred verifier: the database cannot be reached: database is locked"
    assert "Traceback" not in result.output


@pytest.mark.postgres
def test_vcred_says_a_database_lost_during_an_export_in_one_line(
    database: Database, issuer_database: dict[str, str], tmp_path: Path
) -> None:
    """The installed command, cut off for real while it waits to write its export (a FIFO
    no one reads yet): after reading the chain's head, before its entries."""
    out = tmp_path / "export.fifo"
    os.mkfifo(out)
    environment = {
        **os.environ,
        "DATABASE_URL": _with_password(database.url),
        "VCRED_ISSUER_PASSPHRASE": PASSPHRASE,
    }
    command = [VCRED, "issuer", "audit", "export", "--out", str(out)]
    with subprocess.Popen(
        [*command, "--data-dir", issuer_database["data"]],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        try:
            _wait_opening_fifo(process)
            database.cut_off()
            exported = out.read_text(encoding="utf-8")
            stdout, stderr = process.communicate(timeout=60)
        except BaseException:
            process.kill()  # else leaving the block waits for it, blocked on its FIFO forever
            raise
    assert process.returncode == 2, stderr
    assert exported == "" and stdout == ""
    (line,) = stderr.strip().splitlines()
    assert line.startswith("vcred issuer: the database cannot be reached: "), line
    assert _PASSWORD not in stderr


def _wait_opening_fifo(process: subprocess.Popen[str]) -> None:
    """Return once ``process`` waits for a reader of the FIFO it opens (Linux). A loaded
    machine may take a while to start the command: up to two minutes."""
    wchan = Path(f"/proc/{process.pid}/wchan")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if wchan.read_text() == "wait_for_partner":
            return
        time.sleep(0.05)
    if process.poll() is not None:
        pytest.fail(f"the command ended ({process.returncode}) before opening its FIFO")
    pytest.fail(f"the command never opened its FIFO (it waits in {wchan.read_text()!r})")


@pytest.mark.postgres
def test_an_issuer_that_loses_its_database_as_it_starts_says_so_in_one_line(
    database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cut off once the app is made, as the first start makes its admin token: one line,
    and no token of which no one saw the secret."""
    monkeypatch.setenv("DATABASE_URL", _with_password(database.url))
    monkeypatch.setenv("VCRED_ISSUER_PASSPHRASE", PASSPHRASE)
    monkeypatch.setattr(runner_module, "serve_forever", _never_served)
    data = ["--data-dir", str(tmp_path / "data")]
    with _lost_midway(database, monkeypatch, "issuer_app.app.create_app", "audit"):
        result = CliRunner().invoke(main, ["serve", "issuer", "--port", "0", *data])
    _said_in_one_line(result, "vcred issuer")
    database.bring_back()
    assert _row_counts(database)["tokens"] == 0


def _never_served(*_: Any, **__: Any) -> None:
    pytest.fail("the start went on as if the database were there")
