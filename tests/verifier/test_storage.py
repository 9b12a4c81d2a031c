"""Challenge and history storage on SQLite and PostgreSQL; one challenge, one success."""

from __future__ import annotations

import gc
import multiprocessing
import threading
import warnings
import weakref
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

from tests.verifier.conftest import (
    DATABASE_URL,
    DOMAIN,
    NOW,
    Agency,
    MakeApp,
    created_storage,
    returned_while_held,
)
from vcred import did_key, present
from vcred.audit import verify_chain
from vcred.errors import MalformedError
from vcred.keys import KeyPair
from verifier_app import app as app_module
from verifier_app import service as service_module
from verifier_app import storage as storage_module
from verifier_app.storage import HistoryEntry, Storage

TTL = timedelta(minutes=5)


@pytest.fixture
def storage(url: str, prefix: str) -> Iterator[Storage]:
    with created_storage(url, prefix=prefix, history_size=5) as store:
        yield store


def test_a_challenge_is_good_exactly_once(storage: Storage) -> None:
    issued = storage.issue_challenge(now=NOW, ttl=TTL)
    assert issued.expires_at == NOW + TTL
    assert storage.consume_challenge(issued.challenge, now=NOW) == "ok"
    assert storage.consume_challenge(issued.challenge, now=NOW) == "used"
    assert storage.consume_challenge("never-issued", now=NOW) == "unknown"


def test_a_challenge_expires(storage: Storage) -> None:
    issued = storage.issue_challenge(now=NOW, ttl=TTL)
    assert storage.consume_challenge(issued.challenge, now=NOW + TTL) == "expired"
    assert storage.consume_challenge(issued.challenge, now=NOW + TTL - timedelta(seconds=1)) == (
        "ok"
    )


def test_only_digests_of_challenges_are_stored(storage: Storage) -> None:
    issued = storage.issue_challenge(now=NOW, ttl=TTL)
    with storage.engine.connect() as connection:
        rows = connection.execute(storage.challenges.select()).fetchall()
    assert issued.challenge not in str(rows)


def test_long_expired_challenges_are_pruned(storage: Storage) -> None:
    old = storage.issue_challenge(now=NOW, ttl=TTL)
    storage.issue_challenge(now=NOW + 3 * TTL, ttl=TTL)
    assert storage.consume_challenge(old.challenge, now=NOW + 3 * TTL) == "unknown"


def test_two_storages_share_one_database(url: str, prefix: str) -> None:
    first, second = Storage(url, prefix=prefix), Storage(url, prefix=prefix)
    first.create()
    second.create()  # a second worker starting: the tables already exist
    try:
        issued = first.issue_challenge(now=NOW, ttl=TTL)
        assert second.consume_challenge(issued.challenge, now=NOW) == "ok"
        assert first.consume_challenge(issued.challenge, now=NOW) == "used"
    finally:
        first.drop()
        first.close()
        second.close()


def test_concurrent_threads_consume_a_challenge_once(storage: Storage) -> None:
    issued = storage.issue_challenge(now=NOW, ttl=TTL)
    barrier = threading.Barrier(8)
    outcomes: list[str] = []

    def attempt() -> None:
        barrier.wait()
        outcomes.append(storage.consume_challenge(issued.challenge, now=NOW))

    threads = [threading.Thread(target=attempt) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["ok"] + ["used"] * 7


def _consume_in_a_process(url: str, prefix: str, challenge: str, barrier: object) -> str:
    store = Storage(url, prefix=prefix)  # its own engine: nothing shared with the parent
    try:
        barrier.wait()  # type: ignore[attr-defined]
        return store.consume_challenge(challenge, now=NOW)
    finally:
        store.close()


def test_concurrent_processes_consume_a_challenge_once(storage: Storage, prefix: str) -> None:
    issued = storage.issue_challenge(now=NOW, ttl=TTL)
    context = multiprocessing.get_context("forkserver")  # not fork: this process has threads
    with context.Manager() as manager:
        barrier = manager.Barrier(4)
        with context.Pool(4) as pool:
            outcomes = pool.starmap(
                _consume_in_a_process,
                [(storage.url, prefix, issued.challenge, barrier)] * 4,
            )
    assert sorted(outcomes) == ["ok", "used", "used", "used"]


def test_closing_waits_for_the_history_write_under_way(
    url: str, prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """close() disposed of the engine while the history flusher was writing (close wakes it,
    and it may take the buffered entries before close's own flush does): its pooled
    connection went back to the discarded pool, open, for the garbage collector to find — a
    ResourceWarning in whichever later test collected (in the full suite:
    tests/verifier/test_startup_heap.py, whose create_app() collects)."""
    monkeypatch.setattr(storage_module, "FLUSH_SECONDS", 0.01)  # the flusher writes at once
    store = Storage(url, prefix=prefix)
    store.create()
    writing, go_on = threading.Event(), threading.Event()
    append_all = store.audit.append_all

    def held_write(connection: Any, rows: Any) -> Any:
        if threading.current_thread().name == "vcred-history-flush":
            writing.set()
            go_on.wait(30)  # holding its pooled connection
        return append_all(connection, rows)

    monkeypatch.setattr(store.audit, "append_all", held_write)
    store.record(
        HistoryEntry(at=NOW, kind="credential", channel="api", verified=True, format="vc+jwt")
    )
    assert writing.wait(30)
    closed_under_the_write = returned_while_held(store.close, go_on)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gc.collect()
    assert not closed_under_the_write, "close() returned while a write held a connection"
    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []
    with created_storage(url, prefix=prefix) as reopened:
        assert [entry.format for entry in reopened.recent()] == ["vc+jwt"]  # it was written


def test_the_history_keeps_the_latest_entries(storage: Storage) -> None:
    for i in range(8):
        storage.record(
            HistoryEntry(
                at=NOW + timedelta(seconds=i),
                kind="credential",
                channel="api",
                verified=i % 2 == 0,
                format="vc+jwt",
                issuer="did:web:us-customs.example",
                subject=f"Trader {i}",
                codes=() if i % 2 == 0 else ("EXPIRED", "REVOKED"),
            )
        )
    recent = storage.recent()
    assert [entry.subject for entry in recent] == [f"Trader {i}" for i in (7, 6, 5, 4, 3)]
    assert recent[0].codes == ("EXPIRED", "REVOKED")
    assert recent[0].at == NOW + timedelta(seconds=7)
    assert recent[0].at.tzinfo is not None


def test_long_values_are_clipped(storage: Storage) -> None:
    storage.record(
        HistoryEntry(
            at=NOW, kind="credential", channel="ui", verified=False, issuer="did:web:" + "x" * 900
        )
    )
    (entry,) = storage.recent()
    assert entry.issuer is not None and len(entry.issuer) == 512


def test_ping(storage: Storage) -> None:
    assert storage.ping()


@pytest.mark.postgres
def test_the_service_runs_on_postgresql(make_app: MakeApp, prefix: str, agency: Agency) -> None:
    app = make_app(database_url=DATABASE_URL, table_prefix=prefix)
    service = app.extensions["vcred_verifier"]
    try:
        assert service.storage.url.startswith("postgresql")
        client = app.test_client()
        trader = KeyPair.generate()
        token = agency.issue(agency.aeo_certificate(holder=did_key(trader.public)))
        nonce = client.post("/challenges").get_json()["challenge"]
        vp = present([token], trader, challenge=nonce, domain=DOMAIN, now=NOW)
        body = {"verifiablePresentation": vp, "options": {"challenge": nonce}}
        assert client.post("/presentations/verify", json=body).status_code == 200
        assert client.post("/presentations/verify", json=body).status_code == 400
        assert [e.verified for e in service.storage.recent()] == [False, True]
        assert client.get("/health").get_json()["storage"] == "ok"
    finally:
        service.storage.drop()


def test_nul_characters_from_a_credential_never_reach_the_database(storage: Storage) -> None:
    # the issuer and subject name come from the credential, verified or not: PostgreSQL
    # refuses U+0000 in text, and the verification answered 500
    storage.record(
        HistoryEntry(
            at=NOW,
            kind="credential",
            channel="api",
            verified=False,
            issuer="did:example:x\x00y",
            subject="Harbour\x00Lights",
        )
    )
    (entry,) = storage.recent()
    assert (entry.issuer, entry.subject) == ("did:example:x\ufffdy", "Harbour\ufffdLights")


def _entry(i: int) -> HistoryEntry:
    return HistoryEntry(
        at=NOW + timedelta(seconds=i), kind="credential", channel="api", verified=True,
        subject=f"Trader {i}",
    )  # fmt: skip


def test_every_buffered_entry_reaches_the_audit_chain(storage: Storage) -> None:
    # more verifications between two flushes than the history page keeps (5 here): the page
    # keeps the latest, the chain (never trimmed) every one of them, in order
    storage.record_all([_entry(i) for i in range(12)])
    storage.record(_entry(12))
    storage.flush()
    chained = [e["details"]["subject"] for e in storage.audit.entries()]
    assert chained == [f"Trader {i}" for i in range(13)]
    assert [e.subject for e in storage.recent()] == [f"Trader {i}" for i in (12, 11, 10, 9, 8)]
    assert verify_chain(storage.audit.entries(), expect_head=storage.audit.head()[1]).intact


def _database_down(*_: Any, **__: Any) -> Any:
    raise OperationalError("INSERT", {}, Exception("the database is down"))


def test_a_failed_write_keeps_its_entries_for_the_next(
    storage: Storage, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage.record_all([_entry(0), _entry(1)])
    written = storage._write
    monkeypatch.setattr(storage, "_write", _database_down)
    with pytest.raises(OperationalError):
        storage.flush()
    storage.record(_entry(2))  # recorded while the first write failed: after those
    monkeypatch.setattr(storage, "_write", written)
    storage.flush()
    chained = [e["details"]["subject"] for e in storage.audit.entries()]
    assert chained == ["Trader 0", "Trader 1", "Trader 2"]


def test_a_backlog_is_written_by_the_request_that_reaches_it(
    storage: Storage, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(storage_module, "MAX_PENDING", 3)
    storage.record_all([_entry(0), _entry(1)])
    assert storage.audit.head()[0] == 0  # buffered
    storage.record(_entry(2))
    assert storage.audit.head()[0] == 3  # written before record() returned


def test_a_backlog_the_database_refuses_does_not_record_the_refused_request(
    storage: Storage, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the request that reaches the backlog is answered 503: its verification is not recorded
    # (a verdict nobody received), those buffered before it stay buffered
    monkeypatch.setattr(storage_module, "MAX_PENDING", 3)
    storage.record_all([_entry(0), _entry(1)])
    written = storage._write
    monkeypatch.setattr(storage, "_write", _database_down)
    with pytest.raises(OperationalError):
        storage.record(_entry(2))
    monkeypatch.setattr(storage, "_write", written)
    storage.record(_entry(3))
    chained = [e["details"]["subject"] for e in storage.audit.entries()]
    assert chained == ["Trader 0", "Trader 1", "Trader 3"]


def _commit_failing_once(
    storage: Storage, monkeypatch: pytest.MonkeyPatch, *, after_committing: bool
) -> None:
    """The next commit fails as a lost connection does: before the database committed, or
    after (its answer lost on the way back)."""
    dialect = storage.engine.dialect
    commit = dialect.do_commit
    lost = dialect.loaded_dbapi.OperationalError

    def failing(dbapi_connection: Any) -> None:
        monkeypatch.setattr(dialect, "do_commit", commit)
        if after_committing:
            commit(dbapi_connection)
        raise lost("server closed the connection unexpectedly")

    monkeypatch.setattr(dialect, "do_commit", failing)


@pytest.mark.parametrize("after_committing", [True, False], ids=["answer-lost", "not-committed"])
def test_a_write_whose_commit_failed_is_in_the_chain_exactly_once(
    storage: Storage, monkeypatch: pytest.MonkeyPatch, after_committing: bool
) -> None:
    storage.record_all([_entry(0), _entry(1), _entry(2)])
    _commit_failing_once(storage, monkeypatch, after_committing=after_committing)
    with pytest.raises(OperationalError):
        storage.flush()
    storage.record(_entry(3))
    storage.flush()
    chained = [e["details"]["subject"] for e in storage.audit.entries()]
    assert chained == [f"Trader {i}" for i in range(4)]
    assert verify_chain(storage.audit.entries()).intact
    assert [e.subject for e in storage.recent()] == [f"Trader {i}" for i in (3, 2, 1, 0)]


def test_a_lost_commit_answer_is_still_asked_about_after_another_failed_write(
    storage: Storage, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage.record_all([_entry(0), _entry(1)])
    _commit_failing_once(storage, monkeypatch, after_committing=True)
    with pytest.raises(OperationalError):
        storage.flush()
    holds = storage.audit.holds
    monkeypatch.setattr(storage.audit, "holds", _database_down)  # the database went away
    storage.record(_entry(2))
    with pytest.raises(OperationalError):
        storage.flush()
    monkeypatch.setattr(storage.audit, "holds", holds)
    storage.flush()
    chained = [e["details"]["subject"] for e in storage.audit.entries()]
    assert chained == ["Trader 0", "Trader 1", "Trader 2"]


def test_lone_surrogates_from_a_credential_never_stop_the_history(storage: Storage) -> None:
    # a JSON "\ud800" escape in a subject name: UTF-8 cannot hold it, so no database can; the
    # flush failed and took the whole buffer with it
    storage.record(
        HistoryEntry(
            at=NOW, kind="credential", channel="api", verified=True, subject="Harbour\ud800Lights"
        )
    )
    storage.record(_entry(1))
    (*_, entry) = storage.recent()
    assert entry.subject == "Harbour\ufffdLights"
    assert [e["details"]["subject"] for e in storage.audit.entries()] == [
        "Harbour\ufffdLights",
        "Trader 1",
    ]


def test_a_closed_storage_is_not_kept_alive_by_its_exit_flush(url: str, prefix: str) -> None:
    # every Storage registered its flush to run at exit and none unregistered it: each one a
    # process opened (a test, a CLI command, a worker re-created) lived until the exit
    with created_storage(url, prefix=prefix) as storage:
        alive = weakref.ref(storage)
    del storage
    gc.collect()
    assert alive() is None


def test_a_service_that_does_not_start_closes_its_storage(
    make_app: Any, url: str, prefix: str, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the trust list cannot be read: the service does not start (fail closed) — and its
    # database connections and history spool, opened first, were left open until the exit
    opened: list[Storage] = []

    class Recorded(Storage):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            opened.append(self)

    monkeypatch.setattr(service_module, "Storage", Recorded)
    with pytest.raises(MalformedError, match="cannot read the trust list"):
        make_app(database_url=url, table_prefix=prefix, trust_list=tmp_path / "missing.jwt")
    (storage,) = opened
    assert storage._closed
    alive = weakref.ref(storage)
    del storage
    opened.clear()
    gc.collect()
    assert alive() is None
    if url.startswith("postgresql"):
        with created_storage(url, prefix=prefix) as cleanup:
            cleanup.drop()


def test_a_storage_dropped_after_closing_leaves_no_connection_open(url: str, prefix: str) -> None:
    # dropping reconnected a closed storage's engine and left the connection in its pool:
    # the garbage collector found it open (a ResourceWarning in whatever test ran next)
    store = Storage(url, prefix=prefix)
    store.create()
    store.close()
    store.drop()
    del store
    with warnings.catch_warnings():
        warnings.simplefilter("error", ResourceWarning)
        gc.collect()


def test_an_app_that_is_not_built_closes_its_service(
    make_app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the service started (storage open, trust list held), then building its app failed
    closed: list[object] = []
    close = service_module.VerifierService.close

    def recorded(service: service_module.VerifierService) -> None:
        closed.append(service)
        close(service)

    def fails(*_: Any, **__: Any) -> Any:
        raise RuntimeError("a blueprint could not be registered")

    monkeypatch.setattr(service_module.VerifierService, "close", recorded)
    monkeypatch.setattr(app_module.fast_path, "install", fails)
    with pytest.raises(RuntimeError, match="blueprint"):
        make_app()
    assert len(closed) == 1
