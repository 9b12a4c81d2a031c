"""Idempotency-Keys belong to the API client that sent them: client B sending client A's key
(by chance — "order-0001" — or replaying it on purpose) gets an issuance of its own, never
A's credential and never a conflict with A's body; the same client retrying gets its first
answer. Keys are scoped by the authenticated principal (the token id) in the table's key,
on SQLite and PostgreSQL, and a database of the old shared schema is upgraded at start.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Column, Integer, MetaData, String, Table, Text, insert, inspect, select

from issuer_app import create_app, issuer_of
from issuer_app.store.records import SCHEMA_VERSION, RecordQuery
from tests.issuer.conftest import (
    BACKENDS,
    ApiClient,
    Clock,
    assert_consistent,
    credential,
    dispose,
    make_config,
    table_prefix,
)

KEY = "order-0001"


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def open_issuer(tmp_path: Path, backend: str) -> Iterator[Callable[[], Flask]]:
    """Open (and reopen) one issuer's database: same folder, same table prefix."""
    prefix = table_prefix() if backend == "postgres" else ""
    opened: list[Flask] = []

    def open_() -> Flask:
        config = make_config(tmp_path / "issuer", backend, clock=Clock(), table_prefix=prefix)
        app = create_app(config)
        app.config["TESTING"] = True
        opened.append(app)
        return app

    yield open_
    for number, app in enumerate(opened):
        dispose(app, drop=backend == "postgres" and number == len(opened) - 1)


def _bearer(app: Flask, label: str) -> dict[str, str]:
    made = issuer_of(app).create_token(("issue",), label=label, actor="test")
    return {"Authorization": f"Bearer {made.token}"}


def _without_id() -> dict[str, Any]:
    document = credential()
    del document["id"]  # the same body twice must not collide on the credential's own id
    return document


def _issued(answer: Any) -> Any:
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()["verifiableCredential"]


def test_two_clients_with_one_key_and_one_body_each_get_their_own_issuance(
    open_issuer: Callable[[], Flask],
) -> None:
    app = open_issuer()
    api = ApiClient(app)
    alice, bob = _bearer(app, "erp A"), _bearer(app, "erp B")
    document = _without_id()
    first = api.issue(document, {**alice, "Idempotency-Key": KEY})
    second = api.issue(document, {**bob, "Idempotency-Key": KEY})
    assert _issued(first) != _issued(second)
    assert "Idempotent-Replayed" not in second.headers
    assert assert_consistent(issuer_of(app)) == 2


def test_another_client_reusing_a_key_with_another_body_is_not_a_conflict(
    open_issuer: Callable[[], Flask],
) -> None:
    app = open_issuer()
    api = ApiClient(app)
    alice, bob = _bearer(app, "erp A"), _bearer(app, "erp B")
    _issued(api.issue(credential(), {**alice, "Idempotency-Key": KEY}))
    answer = api.issue(credential(), {**bob, "Idempotency-Key": KEY})
    assert answer.status_code == 201  # was 422 IDEMPOTENCY_KEY_REUSED: A's key blocked B
    assert assert_consistent(issuer_of(app)) == 2


def test_replaying_another_clients_key_and_body_never_returns_its_credential(
    open_issuer: Callable[[], Flask],
) -> None:
    app = open_issuer()
    api = ApiClient(app)
    alice, mallory = _bearer(app, "erp A"), _bearer(app, "stolen key list")
    document = _without_id()
    genuine = _issued(api.issue(document, {**alice, "Idempotency-Key": KEY}))
    for _ in range(3):
        replay = api.issue(document, {**mallory, "Idempotency-Key": KEY})
        assert _issued(replay) != genuine
    # mallory's own retries are replays of mallory's first answer, not of alice's
    assert issuer_of(app).search(RecordQuery())[1] == 2


def test_the_same_client_retrying_gets_the_same_answer_and_a_changed_body_is_refused(
    open_issuer: Callable[[], Flask],
) -> None:
    app = open_issuer()
    api = ApiClient(app)
    alice, bob = _bearer(app, "erp A"), _bearer(app, "erp B")
    document = credential()
    first = api.issue(document, {**alice, "Idempotency-Key": KEY})
    again = api.issue(document, {**alice, "Idempotency-Key": KEY})
    assert again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    changed = api.issue(credential(), {**alice, "Idempotency-Key": KEY})
    assert changed.status_code == 422
    assert changed.get_json()["code"] == "IDEMPOTENCY_KEY_REUSED"
    # bob's use of the key changes nothing for alice
    _issued(api.issue(credential(), {**bob, "Idempotency-Key": KEY}))
    assert api.issue(document, {**alice, "Idempotency-Key": KEY}).get_json() == first.get_json()


def test_the_service_scopes_keys_by_the_actor_it_is_given(
    open_issuer: Callable[[], Flask],
) -> None:
    service = issuer_of(open_issuer())
    body = {"credential": _without_id()}
    one = service.issue_request(body, actor="token:aaaaaaaaaaaa", idempotency_key=KEY)
    two = service.issue_request(body, actor="token:bbbbbbbbbbbb", idempotency_key=KEY)
    again = service.issue_request(body, actor="token:aaaaaaaaaaaa", idempotency_key=KEY)
    assert one.record_id != two.record_id
    assert (again.replayed, again.record_id, again.body) == (True, one.record_id, one.body)


def test_racing_clients_with_one_key_get_one_issuance_each(
    open_issuer: Callable[[], Flask],
) -> None:
    app = open_issuer()
    clients = [_bearer(app, "erp A"), _bearer(app, "erp B")]
    body = {"credential": _without_id()}
    racers = 6
    gate = threading.Barrier(racers)
    answers: list[tuple[int, int, Any]] = []
    lock = threading.Lock()

    def race(number: int) -> None:
        client = app.test_client()
        headers = {**clients[number % 2], "Idempotency-Key": KEY}
        gate.wait()
        response = client.post("/credentials/issue", json=body, headers=headers)
        with lock:
            answers.append((number % 2, response.status_code, response.get_json()))

    threads = [threading.Thread(target=race, args=(n,)) for n in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert {status for _, status, _ in answers} == {201}
    by_client = [{repr(a) for who, _, a in answers if who == n} for n in (0, 1)]
    assert [len(seen) for seen in by_client] == [1, 1]  # one answer per client…
    assert by_client[0] != by_client[1]  # …and not the other's
    assert assert_consistent(issuer_of(app)) == 2


def test_a_database_of_the_shared_key_schema_is_upgraded_at_start(
    open_issuer: Callable[[], Flask], backend: str
) -> None:
    app = open_issuer()
    alice, bob = _bearer(app, "erp A"), _bearer(app, "erp B")
    document = _without_id()
    first = ApiClient(app).issue(document, {**alice, "Idempotency-Key": KEY})
    _issued(first)
    _downgrade_to_schema_1(app)
    issuer_of(app).close()

    upgraded = open_issuer()
    store = issuer_of(upgraded).store
    assert store.schema_version() == SCHEMA_VERSION
    actor = first_actor(upgraded)
    assert actor.startswith("token:")
    with store.engine.connect() as conn:
        assert not inspect(conn).has_table(f"{store.prefix}idempotency")
        rows = conn.execute(select(store.t.idempotency.c.principal, store.t.idempotency.c.key))
        assert [tuple(row) for row in rows] == [(actor, KEY)]
    api = ApiClient(upgraded)
    again = api.issue(document, {**alice, "Idempotency-Key": KEY})
    assert again.get_json() == first.get_json() and again.headers["Idempotent-Replayed"]
    assert _issued(api.issue(document, {**bob, "Idempotency-Key": KEY})) != _issued(first)


def first_actor(app: Flask) -> str:
    store = issuer_of(app).store
    with store.engine.connect() as conn:
        return str(conn.execute(select(store.t.credentials.c.actor)).scalars().first())


def _downgrade_to_schema_1(app: Flask) -> None:
    """Put the database back as schema 1 wrote it: one key space for every client."""
    store = issuer_of(app).store
    old = Table(
        f"{store.prefix}idempotency",
        MetaData(),
        Column("key", String(255), primary_key=True),
        Column("request_digest", String(64), nullable=False),
        Column("status", Integer, nullable=False),
        Column("body", Text, nullable=False),
        Column("record_id", String(36), nullable=True),
        Column("created", String(32), nullable=False),
    )
    with store.engine.begin() as conn:
        old.create(conn)
        for row in conn.execute(select(store.t.idempotency)).mappings().all():
            values = {k: v for k, v in row.items() if k != "principal"}
            conn.execute(insert(old).values(**values))
        # a request that died before its answer leaves a placeholder: dropped on upgrade
        conn.execute(
            insert(old).values(
                key="half-done", request_digest="0" * 64, status=0, body="", created="x"
            )
        )
        store.t.idempotency.drop(conn)
        store.set_meta(conn, "schema", "1")


@pytest.mark.parametrize("fmt", ["vc+jwt", "eddsa-rdfc-2022"])
def test_a_replay_answers_the_same_bytes(open_issuer: Callable[[], Flask], fmt: str) -> None:
    """A retry reads the very answer it missed, byte for byte (non-ASCII text included), not
    an equal document serialised anew."""
    app = open_issuer()
    api = ApiClient(app)
    alice = {**_bearer(app, "erp A"), "Idempotency-Key": KEY}
    document = credential()
    document["credentialSubject"] = {
        **document["credentialSubject"],
        "name": "Société Générale d'Exportation — 東京",
    }
    first = api.issue(document, alice, options={"format": fmt})
    assert first.status_code == 201, first.get_json()
    again = api.issue(document, alice, options={"format": fmt})
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_data() == first.get_data()
