"""The first start of a service is race-free: workers started at once on a fresh data folder
or database (as `gunicorn -w N` starts them) set it up exactly once — no "table already
exists", no worker lost — under the first-start lock (vcred_service.bootstrap)."""

from __future__ import annotations

import multiprocessing
import os
import secrets
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text

from tests.service.first_start_workers import start_rounds
from vcred_service import db
from vcred_service.bootstrap import LOCK_SUFFIX, advisory_key, bootstrap_lock
from vcred_service.db import make_engine, use_wal

ROOT = Path(__file__).resolve().parents[2]
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
WORKERS = 4
ROUNDS = 3
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.mark.slow
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("service", ["issuer", "verifier"])
def test_workers_starting_at_once_set_a_fresh_database_up_once(
    tmp_path: Path, service: str, backend: str
) -> None:
    rounds = [(str(tmp_path / f"round{n}"), f"f{secrets.token_hex(4)}_") for n in range(ROUNDS)]
    ctx = multiprocessing.get_context("spawn")
    gate = ctx.Barrier(WORKERS)
    results = ctx.Queue()
    processes = [
        ctx.Process(target=start_rounds, args=(service, backend, rounds, gate, results))
        for _ in range(WORKERS)
    ]
    for process in processes:
        process.start()
    try:
        seen = [results.get(timeout=120) for _ in range(WORKERS * ROUNDS)]
        for process in processes:
            process.join(timeout=30)
    finally:
        for process in processes:
            if process.is_alive():
                process.kill()  # our own child, by handle
                process.join()
    assert [s for s in seen if "error" in s] == []
    # each round: one secret shared by every worker (made once)
    assert len({s["secret"] for s in seen}) == ROUNDS
    if service == "issuer":
        assert sum(bool(s["first"]) for s in seen) == ROUNDS  # one first start per database
        for data_dir, prefix in rounds:
            _check_issuer_set_up_once(Path(data_dir), prefix, backend)
    elif backend == "postgres":
        for _, prefix in rounds:
            _drop_verifier(prefix)
    if backend == "postgres":
        _drop_protocol_tables([prefix for _, prefix in rounds])


def _drop_protocol_tables(prefixes: list[str]) -> None:
    """The tables of OAuth clients and of the OpenID4VC protocols, beside the services' own."""
    engine = create_engine(PG_URL)
    try:
        with engine.begin() as conn:
            for prefix in prefixes:
                for table in ("oauth_clients", "oid4vci_offers", "oid4vp_transactions"):
                    conn.execute(text(f'DROP TABLE IF EXISTS "{prefix}{table}"'))
    finally:
        engine.dispose()


def _check_issuer_set_up_once(data_dir: Path, prefix: str, backend: str) -> None:
    from issuer_app.service import Issuer
    from tests.issuer.conftest import make_config

    extra = {"database_url": PG_URL, "table_prefix": prefix} if backend == "postgres" else {}
    issuer = Issuer.open_existing(make_config(data_dir, "sqlite", **extra))
    try:
        assert len(issuer.store.key_rows()) == len(issuer.config.key_types)
        actions = [entry["action"] for entry in issuer.store.audit_entries()]
        assert actions.count("initialise") == 1
    finally:
        if backend == "postgres":
            issuer.store.drop_tables()
        issuer.close()


def _drop_verifier(prefix: str) -> None:
    from verifier_app.storage import Storage

    storage = Storage(PG_URL, prefix=prefix)
    storage.drop()
    storage.close()


@pytest.mark.slow
@pytest.mark.parametrize("service", ["issuer", "verifier"])
def test_gunicorn_workers_start_on_a_fresh_data_folder(tmp_path: Path, service: str) -> None:
    """The reported failure: `gunicorn -w N` on a fresh folder, each worker running the app
    factory at once. Every worker boots and stays up; the log holds no error."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    prefix = "VCRED_ISSUER_" if service == "issuer" else "VCRED_VERIFIER_"
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("VCRED_") and name != "DATABASE_URL"
    }
    env.update(
        {f"{prefix}DATA_DIR": str(tmp_path / "data"), "PYTHONPATH": str(ROOT)},
        VCRED_ISSUER_PASSPHRASE="correct horse battery staple",
    )
    log = tmp_path / "gunicorn.log"
    gunicorn = Path(sys.executable).parent / "gunicorn"
    with log.open("w") as output:
        server = subprocess.Popen(
            [str(gunicorn), "-w", "3", "-b", f"127.0.0.1:{port}", f"{service}_app:create_app()"],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            assert _healthy(port, server), log.read_text()
            # every worker has run the factory once it answers; give a lost one time to show
            for _ in range(20):
                if log.read_text().count("Booting worker") >= 3 and _ready(tmp_path, service):
                    break
                time.sleep(0.25)
            assert server.poll() is None, log.read_text()
        finally:
            server.terminate()  # our own child, by handle
            server.wait(timeout=30)
    text = log.read_text()
    assert text.count("Booting worker") == 3, text
    for bad in ("Exception in worker", "already exists", "Worker exited", "Traceback"):
        assert bad not in text, text


def _healthy(port: int, server: subprocess.Popen[bytes]) -> bool:
    for _ in range(120):
        if server.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as answer:
                if answer.status == 200:
                    return True
        except OSError:
            time.sleep(0.25)
    return False


def _ready(tmp_path: Path, service: str) -> bool:
    name = "service.db" if service == "issuer" else "verifier.db"
    return (tmp_path / "data" / (name + LOCK_SUFFIX)).exists()


# -- the lock itself -------------------------------------------------------------------------


def _engine(backend: str, tmp_path: Path) -> Engine:
    return create_engine(PG_URL if backend == "postgres" else f"sqlite:///{tmp_path / 'x.db'}")


def _waits_for_the_lock(engine: Engine, name: str, action: Callable[[], object]) -> None:
    """``action``, started while another thread holds the first-start lock ``name``, waits
    until the holder lets go, and then runs."""
    held, release, done = threading.Event(), threading.Event(), threading.Event()

    def holder() -> None:
        with bootstrap_lock(engine, name):
            held.set()
            release.wait(30)

    def waiter() -> None:
        held.wait(30)
        action()
        done.set()

    threads = [threading.Thread(target=holder), threading.Thread(target=waiter)]
    for thread in threads:
        thread.start()
    try:
        assert held.wait(30)
        assert not done.wait(0.5)  # waiting for the holder
        release.set()
        assert done.wait(30)  # and in once it let go
    finally:
        release.set()
        for thread in threads:
            thread.join(30)


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_first_start_lock_lets_one_holder_in_at_a_time(tmp_path: Path, backend: str) -> None:
    engine = _engine(backend, tmp_path)
    name = f"test:{secrets.token_hex(4)}"

    def second() -> None:
        with bootstrap_lock(engine, name):
            pass

    try:
        _waits_for_the_lock(engine, name, second)
    finally:
        engine.dispose()


def _oauth_clients(engine: Engine) -> None:
    from vcred_service.oauth_clients import OAuthClients

    OAuthClients(engine, prefix="p_").create()


def _oid4vp_transactions(engine: Engine) -> None:
    from verifier_app.oid4vp_store import Transactions

    Transactions(engine, prefix="p_").create()


def _oid4vci_offers(engine: Engine) -> None:
    from issuer_app.oid4vci_store import OfferStore

    OfferStore(engine, prefix="p_")


@pytest.mark.parametrize(
    ("make", "table"),
    [
        (_oauth_clients, "p_oauth_clients"),
        (_oid4vp_transactions, "p_oid4vp_transactions"),
        (_oid4vci_offers, "p_oid4vci_offers"),
    ],
)
def test_the_protocol_tables_are_created_under_the_first_start_lock(
    tmp_path: Path, make: Any, table: str
) -> None:
    """The tables of OAuth clients, OpenID4VP transactions and OpenID4VCI offers, made as
    each worker starts, wait for the lock as the services' own tables do (SQLite checks for
    a table outside the transaction that creates it: two workers at once, one "table …
    already exists")."""
    engine = _engine("sqlite", tmp_path)
    try:  # SQLite: one lock file per database, whatever the lock's name
        _waits_for_the_lock(engine, "another table set", lambda: make(engine))
        with engine.connect() as conn:
            found = conn.execute(
                text("SELECT count(*) FROM sqlite_master WHERE name = :t"), {"t": table}
            )
            assert found.scalar_one() == 1
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_the_postgresql_lock_is_released_with_its_block() -> None:
    engine = create_engine(PG_URL)
    name = f"test:{secrets.token_hex(4)}"
    key = advisory_key(name)
    locks = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = :low"
    low = key & 0xFFFFFFFF
    try:
        with bootstrap_lock(engine, name), engine.connect() as conn:
            assert conn.execute(text(locks), {"low": low}).scalar_one() == 1
        with engine.connect() as conn:
            assert conn.execute(text(locks), {"low": low}).scalar_one() == 0
    finally:
        engine.dispose()


def test_an_in_memory_database_needs_no_lock() -> None:
    engine = create_engine("sqlite://")
    with bootstrap_lock(engine, "x"), bootstrap_lock(engine, "x"):  # no one else can race
        assert engine.url.database in (None, "")
    engine.dispose()


def test_advisory_keys_are_signed_64_bit_and_differ_by_name() -> None:
    keys = {advisory_key(f"issuer:p{n}_") for n in range(100)}
    assert len(keys) == 100
    assert all(-(2**63) <= key < 2**63 for key in keys)


class _Cursor:
    """A cursor whose ``PRAGMA journal_mode = WAL`` meets ``failures`` errors first."""

    def __init__(self, failures: list[sqlite3.OperationalError]) -> None:
        self.failures = failures
        self.calls = 0

    def execute(self, statement: str) -> None:
        assert statement == "PRAGMA journal_mode = WAL"
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)


def _sqlite_error(message: str, code: int) -> sqlite3.OperationalError:
    error = sqlite3.OperationalError(message)
    error.sqlite_errorcode = code  # type: ignore[attr-defined]
    return error


def test_switching_to_wal_waits_out_another_connection_switching() -> None:
    cursor = _Cursor([_sqlite_error("database is locked", 5) for _ in range(3)])
    use_wal(cursor)
    assert cursor.calls == 4


def test_switching_to_wal_gives_up_after_the_busy_timeout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(db, "SQLITE_BUSY_TIMEOUT_S", 0.05)
    cursor = _Cursor([_sqlite_error("database is locked", 5) for _ in range(10_000)])
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        use_wal(cursor)
    assert 1 < cursor.calls < 10_000


def test_switching_to_wal_does_not_retry_other_errors() -> None:
    cursor = _Cursor([_sqlite_error("disk I/O error", 10)])
    with pytest.raises(sqlite3.OperationalError, match="disk"):
        use_wal(cursor)
    assert cursor.calls == 1


def _connect_at_once(path: str, gate: Any, results: Any) -> None:
    gate.wait()
    try:
        with make_engine(f"sqlite:///{path}").connect() as connection:
            connection.execute(text("SELECT 1"))
        results.put(None)
    except Exception as exc:  # what stopped this process, for the test to show
        results.put(repr(exc))


def _race_rounds(folder: str, rounds: int, results: Any) -> None:
    """Each round, six processes open one fresh database at once; what stopped any of them.

    Run in a process of its own, started clean (no thread of the test session's: a child
    forked from the test process inherits whatever lock another of its threads held —
    SQLite's own, a browser test's driver — and one stuck in sqlite3.connect kept the
    session from ending). Its rounds fork from it, with vcred imported once: a child the
    forkserver made imported it again, 1.3 s each, most of this test's time.
    """
    fork = multiprocessing.get_context("fork")
    errors: list[str] = []
    for round_ in range(rounds):
        gate, answers = fork.Barrier(6), fork.Queue()
        path = str(Path(folder) / f"round{round_}.db")
        processes = [
            fork.Process(target=_connect_at_once, args=(path, gate, answers)) for _ in range(6)
        ]
        for process in processes:
            process.start()
        try:
            errors += [e for e in (answers.get(timeout=60) for _ in processes) if e is not None]
        finally:
            for process in processes:
                process.join(timeout=30)
                if process.is_alive():  # never left behind, whatever the round's outcome
                    process.kill()
                    process.join()
    results.put(errors)


@pytest.mark.slow
def test_processes_opening_a_fresh_sqlite_database_at_once_all_connect(tmp_path: Path) -> None:
    """The race of the WAL switch, many rounds (it failed about 1 round in 30 under load)."""
    ctx = multiprocessing.get_context("forkserver")
    results = ctx.Queue()
    racer = ctx.Process(target=_race_rounds, args=(str(tmp_path), 30, results))
    racer.start()
    try:
        errors = results.get(timeout=600)
    finally:
        racer.join(timeout=60)
        if racer.is_alive():
            racer.kill()
            racer.join()
    assert errors == []
