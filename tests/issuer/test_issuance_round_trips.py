"""What issue 21 changed on the issuance path, and the invariants it must keep: the audit
chain's entries recorded without waiting for its head (pending, then sealed by the next), the
API token's revocation checked in the issuance's own transaction, status allocations claimed
together, and pooled PostgreSQL connections checked without a round trip."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import rfc8785
from flask import Flask
from sqlalchemy import event, func, insert, select, text, update
from sqlalchemy.exc import OperationalError

from issuer_app import issuer_of
from issuer_app.service import _ROLLBACK_RETRIES
from issuer_app.store.records import IssuerStore
from issuer_app.store.status import SqlIndexStore
from tests.issuer.conftest import (
    BACKENDS,
    PG_URL,
    ApiClient,
    assert_consistent,
    auth,
    credential,
    table_prefix,
)
from vcred.audit import GENESIS, entry_hash, verify_chain
from vcred_service.db import make_engine
from vcred_service.problems import STORAGE_RETRY_AFTER_S

# -- the audit chain: pending entries -----------------------------------------------------------


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[IssuerStore]:
    if request.param == "postgres":
        made = IssuerStore(PG_URL, prefix=table_prefix())
    else:
        made = IssuerStore(f"sqlite:///{tmp_path / 'issuer.db'}")
    made.bootstrap(lambda conn: None)
    yield made
    if request.param == "postgres":
        made.drop_tables()
    made.close()


@pytest.fixture
def pg_store() -> Iterator[IssuerStore]:
    made = IssuerStore(PG_URL, prefix=table_prefix())
    made.bootstrap(lambda conn: None)
    yield made
    made.drop_tables()
    made.close()


def _record(store: IssuerStore, conn: Any, target: str) -> None:
    store.append_audit(
        conn, at="2026-06-01T12:00:00Z", actor="test", action="issue", target=target, details={}
    )


def _pending(store: IssuerStore) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(store.t.audit_pending)).one()[0])


def _sealed_targets(store: IssuerStore) -> list[str]:
    chain = list(store.audit_entries())
    assert verify_chain(chain, expect_head=store.audit_head()[1]).intact
    return [entry["target"] for entry in chain]


def _statements(target: Any, act: Callable[[], object]) -> list[str]:
    """The statements ``act`` sends through ``target`` (an engine or a connection)."""
    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(target, "before_cursor_execute", count)
    try:
        act()
    finally:
        event.remove(target, "before_cursor_execute", count)
    return statements


def test_an_entry_free_to_seal_is_sealed_in_its_own_transaction(store: IssuerStore) -> None:
    with store.engine.begin() as conn:
        _record(store, conn, "a")
    assert _pending(store) == 0
    assert _sealed_targets(store) == ["a"]


@pytest.mark.postgres
def test_an_entry_recorded_while_the_head_is_held_waits_then_is_sealed(
    pg_store: IssuerStore,
) -> None:
    store = pg_store
    with store.engine.connect() as holder:
        holder.begin()
        _record(store, holder, "first")  # holds the head until its commit
        with store.engine.begin() as conn:
            _record(store, conn, "second")  # does not wait: pending
        assert _pending(store) == 1
        holder.commit()
    assert _pending(store) == 1  # nothing has held the head since
    with store.engine.begin() as conn:  # seals the pending one first
        statements = _statements(conn, lambda: _record(store, conn, "third"))
    # the pending entries are read (locked) in the statement that takes the head: one more
    # statement seals them and this one
    assert len(statements) == 2, statements
    assert _pending(store) == 0
    assert _sealed_targets(store) == ["first", "second", "third"]


@pytest.mark.postgres
def test_reading_the_chain_seals_what_is_pending(pg_store: IssuerStore) -> None:
    store = pg_store
    with store.engine.connect() as holder:
        holder.begin()
        _record(store, holder, "first")
        with store.engine.begin() as conn:
            _record(store, conn, "second")
        holder.commit()
    assert [row.target for row in store.recent_audit("second")] == ["second"]  # an officer's page
    assert _pending(store) == 0
    assert store.audit_head()[0] == 2
    assert _sealed_targets(store) == ["first", "second"]


@pytest.mark.postgres
def test_a_killed_holder_loses_its_own_entry_only(pg_store: IssuerStore) -> None:
    """A process killed while it held the head: its transaction (entry and all) rolls back,
    what others recorded meanwhile stays pending and is sealed by the next."""
    store = pg_store
    holder = store.engine.connect()
    holder.begin()
    _record(store, holder, "rolled back")
    pid = holder.execute(text("select pg_backend_pid()")).scalar_one()
    with store.engine.begin() as conn:
        _record(store, conn, "kept")
    with store.engine.begin() as conn:
        conn.execute(text("select pg_terminate_backend(:pid)"), {"pid": pid})
    holder.invalidate()
    holder.close()
    with store.engine.begin() as conn:
        _record(store, conn, "next")
    assert _sealed_targets(store) == ["kept", "next"]


@pytest.mark.postgres
def test_entries_recorded_at_once_are_all_sealed_once_in_one_unbroken_chain(
    pg_store: IssuerStore,
) -> None:
    store = pg_store
    gate = threading.Barrier(6)
    failures: list[BaseException] = []

    def work(worker: int) -> None:
        try:
            gate.wait()
            for n in range(30):
                with store.engine.begin() as conn:
                    _record(store, conn, f"{worker}-{n}")
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    targets = _sealed_targets(store)
    assert sorted(targets) == sorted(f"{w}-{n}" for w in range(6) for n in range(30))
    assert _pending(store) == 0
    for worker in range(6):  # each worker's entries in the order it recorded them
        own = [t for t in targets if t.startswith(f"{worker}-")]
        assert own == [f"{worker}-{n}" for n in range(30)]


def _credential_row(store: IssuerStore, record_id: str) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(store.t.credentials.c.keys())
    return row | {
        "record_id": record_id,
        "issuer": "did:example:issuer",
        "key_tag": "k",
        "types": "[]",
        "main_type": "VerifiableCredential",
        "format": "vc+jwt",
        "digest": "0" * 64,
        "status": "active",
        "status_entries": "[]",
        "created": "2026-06-01T12:00:00Z",
        "actor": "test",
    }


def _append_with_record(store: IssuerStore, record_id: str) -> None:
    with store.engine.begin() as conn:
        store.append_audit(
            conn,
            at="2026-06-01T12:00:00Z",
            actor="test",
            action="issue",
            target=record_id,
            details={},
            record=_credential_row(store, record_id),
        )


def _record_ids(store: IssuerStore) -> list[str]:
    with store.engine.connect() as conn:
        return list(conn.execute(select(store.t.credentials.c.record_id)).scalars())


def test_the_record_goes_in_with_its_entry_sealed(store: IssuerStore) -> None:
    """The issuance's record rides in the statement that tries the head (PostgreSQL)."""
    _append_with_record(store, "r1")
    assert _pending(store) == 0
    assert _record_ids(store) == ["r1"]
    assert _sealed_targets(store) == ["r1"]


@pytest.mark.postgres
def test_the_record_goes_in_with_its_entry_pending(pg_store: IssuerStore) -> None:
    """…and is written, once, when the head is held and the entry is left pending."""
    store = pg_store
    with store.engine.connect() as holder:
        holder.begin()
        _record(store, holder, "rolled back")
        _append_with_record(store, "r1")
        assert _pending(store) == 1
        holder.rollback()
    assert _record_ids(store) == ["r1"]
    assert _sealed_targets(store) == ["r1"]


#: details a JSON encoder may write in more than one way: non-ASCII, a control character, a
#: key outside the Basic Multilingual Plane, a float, nesting
_AWKWARD_DETAILS = {"name": "Bäckerei\u0001", "\U0001f600": [1.5, {"b": None, "a": True}], "n": 3}
#: a target written with escapes and in more than one byte (its JCS text is hashed too: by
#: the database, on PostgreSQL)
_AWKWARD_TARGET = 'urn:x:"Bäckerei"\\\u0001\U0001f600'


def test_an_entry_is_stored_in_the_text_its_hash_covers(store: IssuerStore) -> None:
    """The details are encoded once: stored as their JCS text (RFC 8785), the text the
    entry's hash covers."""
    with store.engine.begin() as conn:
        store.append_audit(
            conn, at="2026-06-01T12:00:00Z", actor="test", action="issue", target=_AWKWARD_TARGET,
            details=_AWKWARD_DETAILS,
        )  # fmt: skip
    with store.engine.connect() as conn:
        stored = conn.execute(select(store.t.audit.c.details)).scalar_one()
    assert stored == rfc8785.dumps(_AWKWARD_DETAILS).decode()
    [entry] = store.audit_entries()
    assert entry["details"] == _AWKWARD_DETAILS
    assert verify_chain([entry], expect_head=store.audit_head()[1]).intact


def test_entries_stored_in_the_earlier_json_form_still_verify_and_are_sealed_after(
    store: IssuerStore,
) -> None:
    """A chain written before the details were stored as JCS (spaced, in code point order):
    its sealed entries verify as they did, and an entry left pending in that form is sealed
    under the chain's one hash definition."""
    earlier = {"at": "2026-06-01T11:00:00Z", "actor": "old", "action": "issue", "target": "a"}
    first = {"seq": 1, **earlier, "details": _AWKWARD_DETAILS, "prev": GENESIS}
    first["hash"] = entry_hash(first)
    old_form = json.dumps(_AWKWARD_DETAILS, ensure_ascii=False, sort_keys=True)
    assert old_form != rfc8785.dumps(_AWKWARD_DETAILS).decode()
    with store.engine.begin() as conn:
        conn.execute(insert(store.t.audit).values({**first, "details": old_form}))
        conn.execute(update(store.t.audit_head).values(seq=1, hash=first["hash"]))
        conn.execute(
            insert(store.t.audit_pending).values({**earlier, "target": "b", "details": old_form})
        )
    with store.engine.begin() as conn:
        _record(store, conn, "c")
    chain = list(store.audit_entries())
    assert [entry["target"] for entry in chain] == ["a", "b", "c"]
    assert chain[1]["details"] == _AWKWARD_DETAILS
    assert verify_chain(chain, expect_head=store.audit_head()[1]).intact


def test_a_chain_without_a_pending_table_cannot_record(tmp_path: Path) -> None:
    from sqlalchemy import MetaData

    from vcred.errors import UsageError
    from vcred_service.audit_chain import AuditChain

    engine = make_engine(f"sqlite:///{tmp_path / 'chain.db'}")
    metadata = MetaData()
    chain = AuditChain(engine, metadata, "")
    metadata.create_all(engine)
    chain.start()
    with engine.begin() as conn, pytest.raises(UsageError, match="pending"):
        chain.record(conn, at="x", actor="a", action="b", target=None, details={})
    assert chain.seal() == 0


# -- the API token, checked in the issuance's transaction ---------------------------------------


def _two_processes(make_app: Callable[..., Flask], backend: str) -> tuple[Flask, Flask]:
    """Two apps on one database, as two processes are (each its own Issuer, its own remembered
    tokens)."""
    first = make_app(backend)
    config = issuer_of(first).config
    second = make_app(
        backend,
        data_dir=config.data_dir,
        table_prefix=config.table_prefix,
        **({"database_url": config.database_url} if config.database_url else {}),
    )
    return first, second


def test_a_token_revoked_by_another_process_stops_issuing_at_once(
    make_app: Callable[..., Flask], backend: str, tmp_path: Path
) -> None:
    first, second = _two_processes(make_app, backend)
    made = issuer_of(first).create_token(("issue",), actor="test")
    headers = {"Authorization": f"Bearer {made.token}"}
    api = ApiClient(first)
    keyed = {**headers, "Idempotency-Key": "k-1"}
    body = credential()
    assert api.issue(body, keyed).status_code == 201  # the token is remembered by the first
    issuer_of(second).revoke_token(made.id, actor="test")
    refused = api.issue(credential(), headers)
    assert refused.status_code == 401
    assert 'error="invalid_token"' in refused.headers["WWW-Authenticate"]
    assert api.issue(body, keyed).status_code == 401  # not even the stored answer
    assert issuer_of(first).search(_all())[1] == 1  # nothing issued by the refused requests


def test_a_revoked_token_gets_its_401_before_a_taken_id_and_keeps_no_place(
    make_app: Callable[..., Flask], backend: str
) -> None:
    """Without an Idempotency-Key the token is checked in the statement that claims the status
    places: still before anything else is answered (not the 409 of a taken id), and the places
    claimed go with the refused transaction."""
    first, second = _two_processes(make_app, backend)
    made = issuer_of(first).create_token(("issue",), actor="test")
    headers = {"Authorization": f"Bearer {made.token}"}
    api = ApiClient(first)
    body = credential()
    assert api.issue(body, headers).status_code == 201  # the token is remembered by the first
    assert api.issue(body, headers).status_code == 409  # its id is taken
    issuer_of(second).revoke_token(made.id, actor="test")
    for document in (body, credential()):
        refused = api.issue(document, headers)
        assert refused.status_code == 401
        assert 'error="invalid_token"' in refused.headers["WWW-Authenticate"]
    assert assert_consistent(issuer_of(first)) == 1  # no place left without its record


@pytest.mark.postgres
def test_without_an_idempotency_key_the_key_token_and_places_are_one_statement_on_postgresql(
    make_app: Callable[..., Flask],
) -> None:
    """The round trip saved: the key's and the token's check claims the status places too."""
    app = make_app("postgres")
    api, headers = ApiClient(app), auth(app)
    assert api.issue(credential(), headers).status_code == 201  # lists opened, token known
    issued = []
    engine = issuer_of(app).store.engine
    statements = _statements(engine, lambda: issued.append(api.issue(credential(), headers)))
    assert issued[0].status_code == 201
    places = f"INSERT INTO {issuer_of(app).config.table_prefix}status_entries "
    claims = [s for s in statements if places in s]
    checks = [s for s in statements if "FOR SHARE" in s]
    assert len(claims) == 1, statements
    assert checks == claims


@pytest.mark.postgres
def test_an_issuance_is_two_statements_on_postgresql(make_app: Callable[..., Flask]) -> None:
    """With the head free and nothing pending, the statement that takes the audit chain's
    head also seals the entry (the database completes its hash) and moves the head: besides
    the checked claim of the places, one statement writes the record and its entry."""
    app = make_app("postgres")
    api, headers = ApiClient(app), auth(app)
    assert api.issue(credential(), headers).status_code == 201  # lists opened, token known
    issued = []
    store = issuer_of(app).store
    statements = _statements(store.engine, lambda: issued.append(api.issue(credential(), headers)))
    assert issued[0].status_code == 201
    places = f"INSERT INTO {issuer_of(app).config.table_prefix}status_entries "
    writes = [s for s in statements if "INSERT" in s or "UPDATE" in s]
    assert len(writes) == 2, statements
    assert places in writes[0]
    sealed = [
        f"INSERT INTO {table.name} " in writes[1] for table in (store.t.audit, store.t.credentials)
    ]
    assert all(sealed), writes[1]
    assert _pending(store) == 0
    _sealed_targets(store)  # an unbroken chain


def test_a_remembered_token_is_still_compared_whole(app: Flask) -> None:
    api = ApiClient(app)
    made = issuer_of(app).create_token(("issue",), actor="test")
    assert api.issue(credential(), {"Authorization": f"Bearer {made.token}"}).status_code == 201
    last = "A" if made.token[-1] != "A" else "B"
    tampered = {"Authorization": f"Bearer {made.token[:-1]}{last}"}
    assert api.issue(credential(), tampered).status_code == 401
    status_only = auth(app, "status")
    assert api.issue(credential(), status_only).status_code == 403
    assert api.issue(credential(), status_only).status_code == 403  # remembered: still 403


def _all() -> Any:
    from issuer_app.store.records import RecordQuery

    return RecordQuery()


# -- status allocations claimed together --------------------------------------------------------


@pytest.fixture(params=BACKENDS)
def index_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[..., Any]]:
    made: list[SqlIndexStore] = []

    def make(**options: Any) -> SqlIndexStore:
        if request.param == "postgres":
            store = SqlIndexStore(PG_URL, prefix=table_prefix().rstrip("_") + "_", **options)
        else:
            store = SqlIndexStore(f"sqlite:///{tmp_path / f'i{len(made)}.db'}", **options)
        store.create_tables()
        made.append(store)
        return store

    yield make
    for store in made:
        if request.param == "postgres":
            store.drop_tables()
        store.close()


def _draws(*values: int) -> Callable[[int], int]:
    """randbelow giving ``values`` in turn, then 0, 1, 2, … (for the fallback's draws)."""
    queue = list(values)
    counter = iter(range(10**6))

    def randbelow(bound: int) -> int:
        return (queue.pop(0) if queue else next(counter)) % bound

    return randbelow


def test_allocations_claimed_together_are_each_kinds_first_draw(
    index_store: Callable[..., SqlIndexStore],
) -> None:
    store = index_store(randbelow=_draws(7, 9, 11))
    with store.engine.begin() as conn:
        places = store.bound(conn).allocate_all(
            [("revocation", 1), ("suspension", 1), ("message", 2)], credential_id="r1"
        )
    assert [(p.purpose, p.index, p.status_size) for p in places] == [
        ("revocation", 7, 1),
        ("suspension", 9, 1),
        ("message", 11, 2),
    ]
    assert store.allocations("r1") == sorted(places, key=lambda p: p.purpose)


def test_a_draw_already_taken_falls_back_to_another_free_index(
    index_store: Callable[..., SqlIndexStore],
) -> None:
    store = index_store(randbelow=_draws(7, 7, 7, 7))
    first = store.allocate_all([("revocation", 1), ("suspension", 1)], credential_id="r1")
    second = store.allocate_all([("revocation", 1), ("suspension", 1)], credential_id="r2")
    assert [p.index for p in first] == [7, 7]
    assert all(p.index != 7 for p in second)
    assert {(p.list_id, p.index) for p in first}.isdisjoint((p.list_id, p.index) for p in second)


def test_draws_that_keep_colliding_never_hand_an_index_out_twice(
    index_store: Callable[..., SqlIndexStore],
) -> None:
    import secrets

    store = index_store(capacity=131_072, randbelow=lambda n: secrets.randbelow(8))
    taken: set[tuple[str, int]] = set()
    for n in range(12):
        places = store.allocate_all([("revocation", 1), ("revocation", 1)], credential_id=f"r{n}")
        for place in places:
            assert (place.list_id, place.index) not in taken
            taken.add((place.list_id, place.index))
    assert len(taken) == 24


# -- pooled connections -------------------------------------------------------------------------


@pytest.mark.postgres
def test_a_pooled_connection_the_server_ended_is_replaced_without_an_error() -> None:
    engine = make_engine(PG_URL)
    try:
        assert not engine.pool._pre_ping  # checked at checkout without a round trip
        with engine.connect() as conn:
            pid = conn.execute(text("select pg_backend_pid()")).scalar_one()
        other = make_engine(PG_URL)
        with other.begin() as conn:
            conn.execute(text("select pg_terminate_backend(:pid)"), {"pid": pid})
        gone = text("select count(*) from pg_stat_activity where pid = :pid")
        for _ in range(100):  # until the backend has exited (and said so on the socket)
            with other.connect() as conn:
                if not conn.execute(gone, {"pid": pid}).scalar_one():
                    break
            time.sleep(0.05)
        other.dispose()
        with engine.connect() as conn:  # no error: the dead connection is not handed out
            assert conn.execute(text("select pg_backend_pid()")).scalar_one() != pid
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_an_issuance_on_a_connection_dropped_unseen_is_made_once_on_a_new_one(
    make_app: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A peer gone without a word (no socket to read from): the first statement fails,
    before any commit, and the issuance runs once more on a new connection."""
    from vcred_service import db

    app = make_app("postgres", key_refresh_seconds=3600.0)  # the issuance's is the first read
    service = issuer_of(app)
    headers = auth(app, "issue")
    api = ApiClient(app)
    assert api.issue(credential(), headers).status_code == 201
    monkeypatch.setattr(db, "_closed_by_server", lambda _connection: False)
    engine = service.store.engine
    engine.dispose()
    with engine.connect() as conn:  # the pool's one connection, ended under it
        pid = conn.execute(text("select pg_backend_pid()")).scalar_one()
    other = make_engine(PG_URL)
    with other.begin() as conn:
        conn.execute(text("select pg_terminate_backend(:pid)"), {"pid": pid})
    gone = text("select count(*) from pg_stat_activity where pid = :pid")
    for _ in range(100):
        with other.connect() as conn:
            if not conn.execute(gone, {"pid": pid}).scalar_one():
                break
        time.sleep(0.05)
    other.dispose()
    assert api.issue(credential(), headers).status_code == 201
    assert service.search(_all())[1] == 2


# -- a transaction PostgreSQL ended to break a deadlock -----------------------------------------


def _deadlocked() -> OperationalError:
    """What SQLAlchemy raises for a transaction PostgreSQL ended to break a deadlock (two
    issuances whose random status places crossed)."""
    return OperationalError("INSERT …", {}, psycopg.errors.DeadlockDetected("deadlock detected"))


def test_an_issuance_ended_by_a_deadlock_is_issued_again_once(
    make_app: Callable[..., Flask], backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app(backend)
    service = issuer_of(app)
    # the issuance's first statement (no Idempotency-Key: the key, the token and the places)
    real = service.store.claim_places_checked
    calls: list[str] = []

    def deadlocked_once(conn: Any, rows: Any, *, tag: str, token_id: str) -> Any:
        calls.append(tag)
        if len(calls) == 1:
            raise _deadlocked()
        return real(conn, rows, tag=tag, token_id=token_id)

    monkeypatch.setattr(service.store, "claim_places_checked", deadlocked_once)
    answer = ApiClient(app).issue(credential(), auth(app))
    assert answer.status_code == 201
    assert len(calls) == 2
    assert assert_consistent(service) == 1  # one record, its places, one audit entry


def test_an_issuance_deadlocked_again_and_again_is_issued_once(
    sqlite_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Four processes issuing into small lists on PostgreSQL crossed twice in a row (a 503 in
    `test_four_processes_issue_at_once_on_postgresql`): every retry draws new places."""
    service = issuer_of(sqlite_app)
    real = service.store.claim_places_checked
    calls: list[str] = []

    def deadlocked_until_the_last(conn: Any, rows: Any, *, tag: str, token_id: str) -> Any:
        calls.append(tag)
        if len(calls) <= _ROLLBACK_RETRIES:
            raise _deadlocked()
        return real(conn, rows, tag=tag, token_id=token_id)

    monkeypatch.setattr(service.store, "claim_places_checked", deadlocked_until_the_last)
    answer = ApiClient(sqlite_app).issue(credential(), auth(sqlite_app))
    assert answer.status_code == 201
    assert len(calls) == _ROLLBACK_RETRIES + 1
    assert assert_consistent(service) == 1


def test_an_issuance_always_deadlocked_fails_and_keeps_nothing(
    sqlite_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = issuer_of(sqlite_app)
    calls: list[str] = []

    def always_deadlocked(conn: Any, rows: Any, *, tag: str, token_id: str) -> Any:
        calls.append(tag)
        raise _deadlocked()

    monkeypatch.setattr(service.store, "claim_places_checked", always_deadlocked)
    answer = ApiClient(sqlite_app).issue(credential(), auth(sqlite_app))
    assert len(calls) == _ROLLBACK_RETRIES + 1  # bounded: then the client is told to retry
    # a deadlock is the database unable to take the work now: sent again, it can be issued
    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == str(STORAGE_RETRY_AFTER_S)
    assert assert_consistent(service) == 0
