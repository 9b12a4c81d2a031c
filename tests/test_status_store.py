"""Status-list index allocation: the IndexStore protocol, in memory, SQLite and PostgreSQL.

DESIGN §8: no two credentials ever share a status index, even under concurrent issuance by
several processes; indexes are random (Bitstring Status List §2.1, herd privacy).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import secrets
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from issuer_app.store import SqlIndexStore
from vcred.errors import RevokedError, SuspendedError, UsageError
from vcred.status import (
    MIN_ENTRIES,
    IndexStore,
    StatusChecker,
    build_status_list_credential,
    parse_status_list_credential,
    pick_free_index,
    set_credential_status,
    status_list_credential_for,
)
from vcred.testing import MemoryIndexStore

PG_URL = os.environ.get(
    "VCRED_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)

MakeStore = Callable[..., IndexStore]


def _prefix() -> str:
    # one set of tables per test, so parallel test runs never meet
    return f"t{secrets.token_hex(5)}_"


def _db_url(kind: str, tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'status.db'}" if kind == "sqlite" else PG_URL


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MakeStore]:
    created: list[SqlIndexStore] = []

    def make(**options: Any) -> IndexStore:
        if request.param == "memory":
            return MemoryIndexStore(**options)
        store = SqlIndexStore(_db_url(request.param, tmp_path), prefix=_prefix(), **options)
        created.append(store)
        store.create_tables()
        return store

    yield make
    for store in created:
        store.drop_tables()
        store.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return _db_url(request.param, tmp_path)


# --- the protocol, on every implementation --------------------------------------------------


def test_stores_satisfy_the_protocol(make_store: MakeStore) -> None:
    assert isinstance(make_store(), IndexStore)


def test_indexes_are_unique_and_full_lists_roll_over(make_store: MakeStore) -> None:
    store = make_store(capacity=16)
    allocations = [store.allocate("revocation", credential_id=f"c{i}") for i in range(40)]
    places = {(a.list_id, a.index) for a in allocations}
    assert len(places) == 40
    assert all(0 <= a.index < 16 for a in allocations)
    lists = store.lists("revocation")
    assert [(info.allocated, info.full) for info in lists] == [(16, True), (16, True), (8, False)]
    assert [info.list_id for info in lists] == list(dict.fromkeys(a.list_id for a in allocations))


def test_a_list_is_filled_to_the_last_slot(make_store: MakeStore) -> None:
    # the last slots are found by the scan fallback, not by luck
    store = make_store(capacity=64)
    allocations = [store.allocate("suspension") for _ in range(64)]
    assert len({a.list_id for a in allocations}) == 1
    assert sorted(a.index for a in allocations) == list(range(64))
    nxt = store.allocate("suspension")
    assert nxt.list_id != allocations[0].list_id


def test_indexes_are_spread_over_the_list(make_store: MakeStore) -> None:
    store = make_store()
    indexes = [store.allocate("revocation").index for _ in range(50)]
    assert max(indexes) - min(indexes) > MIN_ENTRIES // 2
    assert indexes != sorted(indexes)


def test_purposes_and_sizes_have_their_own_lists(make_store: MakeStore) -> None:
    store = make_store(capacity=1024)
    revocation = store.allocate("revocation", credential_id="urn:uuid:1")
    suspension = store.allocate("suspension", credential_id="urn:uuid:1")
    message = store.allocate("message", status_size=2)
    assert len({revocation.list_id, suspension.list_id, message.list_id}) == 3
    assert store.list_info(message.list_id).status_size == 2
    assert {a.purpose for a in store.allocations("urn:uuid:1")} == {"revocation", "suspension"}
    assert store.allocations("urn:uuid:2") == []


def test_suspension_then_reinstatement(make_store: MakeStore) -> None:
    store = make_store(capacity=1024)
    place = store.allocate("suspension")
    assert store.get_status(place.list_id, place.index) == 0
    store.set_status(place.list_id, place.index, 1)
    assert store.get_status(place.list_id, place.index) == 1
    store.set_status(place.list_id, place.index, 0)
    assert store.get_status(place.list_id, place.index) == 0
    assert store.list_info(place.list_id).version == 2
    store.set_status(place.list_id, place.index, 0)  # no change, no new version
    assert store.list_info(place.list_id).version == 2


def test_revocation_cannot_be_undone(make_store: MakeStore) -> None:
    store = make_store(capacity=1024)
    place = store.allocate("revocation")
    store.set_status(place.list_id, place.index, 1)
    with pytest.raises(UsageError):
        store.set_status(place.list_id, place.index, 0)
    assert store.get_status(place.list_id, place.index) == 1


def test_misuse_is_refused(make_store: MakeStore) -> None:
    store = make_store(capacity=1024)
    place = store.allocate("revocation")
    free_index = (place.index + 1) % 1024
    with pytest.raises(UsageError):
        store.set_status(place.list_id, place.index, 2)  # does not fit one bit
    with pytest.raises(UsageError):
        store.set_status(place.list_id, free_index, 1)  # never allocated
    with pytest.raises(UsageError):
        store.get_status(place.list_id, free_index)
    with pytest.raises(UsageError):
        store.get_status("no-such-list", 0)
    with pytest.raises(UsageError):
        store.bitstring("no-such-list")
    with pytest.raises(UsageError):
        store.allocate("")
    with pytest.raises(UsageError):
        store.allocate("message", status_size=0)


def test_bitstring_publishes_as_a_status_list(make_store: MakeStore) -> None:
    store = make_store()
    revoked = store.allocate("revocation")
    kept = store.allocate("revocation")
    store.set_status(revoked.list_id, revoked.index, 1)
    bits = store.bitstring(revoked.list_id)
    assert len(bits) == MIN_ENTRIES // 8
    assert bits[revoked.index // 8] & (0x80 >> revoked.index % 8)  # bit 0 = left-most
    url = f"https://customs.example/status/{revoked.list_id}"
    credential = build_status_list_credential(
        list_url=url,
        issuer="did:web:customs.example",
        purpose="revocation",
        bitstring=bits,
        valid_from=NOW,
    )
    status_list = parse_status_list_credential(credential, url=url)
    assert status_list.bits.bit(revoked.index) == 1
    assert status_list.bits.bit(kept.index) == 0


def test_a_small_list_is_published_at_the_minimum_length() -> None:
    # an issuer configured with a small capacity hands out only the first indexes, but the
    # list it publishes keeps the specification's minimum length (herd privacy, §6.1)
    store = MemoryIndexStore(capacity=40)
    place = store.allocate("suspension")
    store.set_status(place.list_id, place.index, 1)
    url = f"https://customs.example/status/{place.list_id}"
    credential = status_list_credential_for(
        store, place.list_id, list_url=url, issuer="did:web:customs.example", valid_from=NOW
    )
    status_list = parse_status_list_credential(credential, url=url)
    assert len(status_list.bits.data) == MIN_ENTRIES // 8
    assert status_list.bits.bit(place.index) == 1
    assert place.index < 40


def test_multi_bit_statuses_are_packed(make_store: MakeStore) -> None:
    store = make_store(capacity=MIN_ENTRIES)
    place = store.allocate("message", status_size=2)
    store.set_status(place.list_id, place.index, 3)
    assert store.get_status(place.list_id, place.index) == 3
    bits = store.bitstring(place.list_id)
    assert len(bits) == MIN_ENTRIES * 2 // 8
    credential = build_status_list_credential(
        list_url="https://customs.example/status/m",
        issuer="did:web:customs.example",
        purpose="message",
        bitstring=bits,
        valid_from=NOW,
        status_size=2,
    )
    status_list = parse_status_list_credential(credential, url="https://customs.example/status/m")
    assert status_list.bits.value(place.index, 2) == 3
    # the entries state statusSize (§2.1); the v2 context does not define it on the list
    assert status_list.status_size is None


def test_vc_api_status_changes(make_store: MakeStore) -> None:
    store = make_store(capacity=1024)
    revocation = store.allocate("revocation", credential_id="urn:uuid:aeo-1")
    suspension = store.allocate("suspension", credential_id="urn:uuid:aeo-1")
    assert set_credential_status(store, "urn:uuid:aeo-1", "suspended") == [suspension]
    assert store.get_status(suspension.list_id, suspension.index) == 1
    set_credential_status(store, "urn:uuid:aeo-1", "active")
    assert store.get_status(suspension.list_id, suspension.index) == 0
    set_credential_status(store, "urn:uuid:aeo-1", "revoked")
    assert store.get_status(revocation.list_id, revocation.index) == 1
    with pytest.raises(UsageError):
        set_credential_status(store, "urn:uuid:aeo-1", "active")  # revocation is final
    with pytest.raises(UsageError):
        set_credential_status(store, "urn:uuid:unknown", "revoked")
    with pytest.raises(UsageError):
        set_credential_status(store, "urn:uuid:aeo-1", "deleted")  # type: ignore[arg-type]


class _Published:
    """The issuer's GET /status/<list>, as a Fetcher: lists are published unsigned here."""

    def __init__(self) -> None:
        self.documents: dict[str, bytes] = {}

    def fetch(self, url: str, *, accept: str, max_bytes: int) -> bytes:
        return self.documents[url]


def _unsigned(document: object) -> Mapping[str, Any]:
    """verify_list for lists published unsigned in this test (signatures are tested elsewhere)."""
    if not isinstance(document, dict):
        raise TypeError("expected a JSON object")
    return document


def test_issuer_store_to_verifier_end_to_end(make_store: MakeStore) -> None:
    issuer = "did:web:customs.example"
    store = make_store()
    published = _Published()

    def url_of(list_id: str) -> str:
        return f"https://customs.example/status/{list_id}"

    def publish() -> None:
        for info in store.lists():
            published.documents[url_of(info.list_id)] = json.dumps(
                status_list_credential_for(
                    store,
                    info.list_id,
                    list_url=url_of(info.list_id),
                    issuer=issuer,
                    valid_from=NOW,
                )
            ).encode()

    places = [
        store.allocate(purpose, credential_id="urn:uuid:aeo-7")
        for purpose in ("revocation", "suspension")
    ]
    credential = {
        "issuer": issuer,
        "credentialStatus": [place.entry(url_of(place.list_id)).to_json() for place in places],
    }
    assert credential["credentialStatus"][0]["id"].endswith(f"#{places[0].index}")
    checker = StatusChecker(fetcher=published, verify_list=_unsigned)
    publish()
    assert checker.check(credential, now=NOW).ok
    set_credential_status(store, "urn:uuid:aeo-7", "suspended")
    publish()
    checker.cache.clear()
    with pytest.raises(SuspendedError):
        checker.check(credential, now=NOW).raise_for_status()
    set_credential_status(store, "urn:uuid:aeo-7", "revoked")
    publish()
    checker.cache.clear()
    with pytest.raises(RevokedError):
        checker.check(credential, now=NOW).raise_for_status()


# --- uniform random choice ------------------------------------------------------------------


def _chi_square(counts: Counter[int], cells: list[int], draws: int) -> float:
    expected = draws / len(cells)
    return sum((counts[c] - expected) ** 2 / expected for c in cells)


@pytest.mark.parametrize("fill", [0.5, 0.99])
def test_choice_is_uniform_among_free_indexes(fill: float) -> None:
    capacity = 1000
    rng = __import__("random").Random(20250601)
    taken = set(rng.sample(range(capacity), int(capacity * fill)))
    free_cells = sorted(set(range(capacity)) - taken)
    draws = 200 * len(free_cells)
    counts: Counter[int] = Counter()
    for _ in range(draws):
        index = pick_free_index(
            capacity,
            take=lambda i: i not in taken,  # look, don't take: sample the distribution
            free=lambda: free_cells,
            randbelow=rng.randrange,
        )
        assert index is not None
        counts[index] += 1
    assert set(counts) == set(free_cells)
    # chi-square with len-1 degrees of freedom; 99.9th percentile bounds for 9 and 499 dof
    bound = 27.9 if len(free_cells) == 10 else 620.0
    assert _chi_square(counts, free_cells, draws) < bound


def test_unlucky_draws_fall_back_to_the_free_slots() -> None:
    taken = set(range(99))
    assert (
        pick_free_index(
            100, take=lambda i: i not in taken, free=lambda: [99], randbelow=lambda n: 0
        )
        == 99
    )
    assert pick_free_index(100, take=lambda i: False, free=list, randbelow=lambda n: 0) is None


def test_memory_store_is_thread_safe() -> None:
    store = MemoryIndexStore(capacity=500)
    results: list[tuple[str, int]] = []
    lock = threading.Lock()
    gate = threading.Barrier(8)

    def work() -> None:
        gate.wait()
        mine = [store.allocate("revocation") for _ in range(200)]
        with lock:
            results.extend((a.list_id, a.index) for a in mine)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == len(set(results)) == 1600
    assert sum(info.allocated for info in store.lists()) == 1600


# --- concurrent issuers in separate processes -----------------------------------------------

WORKERS = 4
PER_WORKER = 250


def _allocate_in_process(
    url: str,
    prefix: str,
    capacity: int,
    worker: int,
    gate: Any,
    results: Any,
) -> None:
    """One issuer process: PER_WORKER allocations as fast as it can."""
    store = SqlIndexStore(url, prefix=prefix, capacity=capacity)
    try:
        gate.wait()
        out = []
        for i in range(PER_WORKER):
            credential_id = f"urn:test:{worker}:{i}"
            allocation = store.allocate("revocation", credential_id=credential_id)
            out.append((allocation.list_id, allocation.index, credential_id))
        results.put(out)
    except BaseException as exc:
        results.put(repr(exc))
        raise
    finally:
        store.close()


@pytest.mark.slow
@pytest.mark.parametrize(
    "capacity",
    [
        pytest.param(MIN_ENTRIES, id="spec-size-list"),
        # 1000 allocations into lists of 400: two roll-overs and the scan fallback, contended
        pytest.param(400, id="small-lists-roll-over"),
    ],
)
def test_concurrent_processes_never_share_an_index(db_url: str, capacity: int) -> None:
    prefix = _prefix()
    store = SqlIndexStore(db_url, prefix=prefix, capacity=capacity)
    store.create_tables()
    try:
        ctx = multiprocessing.get_context("spawn")
        gate = ctx.Barrier(WORKERS)
        results = ctx.Queue()
        processes = [
            ctx.Process(
                target=_allocate_in_process,
                args=(db_url, prefix, capacity, worker, gate, results),
            )
            for worker in range(WORKERS)
        ]
        for process in processes:
            process.start()
        outcomes = [results.get(timeout=300) for _ in processes]
        for process in processes:
            process.join(timeout=60)
        errors = [o for o in outcomes if isinstance(o, str)]
        assert errors == []
        assert all(process.exitcode == 0 for process in processes)

        handed_out = [row for outcome in outcomes for row in outcome]
        places = [(list_id, index) for list_id, index, _ in handed_out]
        assert len(handed_out) == WORKERS * PER_WORKER
        assert len(set(places)) == len(places), "an index was handed out twice"

        # none lost: the database holds exactly what was handed out, to whom it was handed out
        entries = store.metadata.tables[f"{prefix}status_entries"]
        with store.engine.connect() as conn:
            rows = conn.execute(
                select(entries.c.list_id, entries.c.idx, entries.c.credential_id)
            ).all()
            per_list = dict(
                conn.execute(
                    select(entries.c.list_id, func.count()).group_by(entries.c.list_id)
                ).all()
            )
        assert sorted(map(tuple, rows)) == sorted(handed_out)
        lists = store.lists("revocation")
        assert {info.list_id: info.allocated for info in lists} == per_list
        assert all(0 <= index < capacity for _, index in places)
        assert sum(not info.full for info in lists) == 1
        if capacity < WORKERS * PER_WORKER:
            assert [info.allocated for info in lists] == [400, 400, 200]
        else:  # racing processes agree on one list instead of opening one each
            assert len(lists) == 1
    finally:
        store.drop_tables()
        store.close()


def test_table_prefixes_keep_stores_apart(db_url: str) -> None:
    first = SqlIndexStore(db_url, prefix=_prefix(), capacity=8)
    second = SqlIndexStore(db_url, prefix=_prefix(), capacity=8)
    for store in (first, second):
        store.create_tables()
    try:
        place = first.allocate("revocation")
        assert second.lists() == []
        assert first.list_info(place.list_id).allocated == 1
        with pytest.raises(UsageError):
            SqlIndexStore(db_url, prefix="Bad-Prefix")
    finally:
        for store in (first, second):
            store.drop_tables()
            store.close()


# --- inside the caller's transaction --------------------------------------------------------


def test_a_bound_store_commits_and_rolls_back_with_its_transaction(db_url: str) -> None:
    store = SqlIndexStore(db_url, prefix=_prefix(), capacity=16)
    store.create_tables()
    try:

        def fail_after_allocating() -> None:
            with store.engine.begin() as conn:
                bound = store.bound(conn)
                assert isinstance(bound, IndexStore)
                place = bound.allocate("revocation", credential_id="urn:test:rolled-back")
                assert bound.allocations("urn:test:rolled-back") == [place]
                raise RuntimeError("the issuance failed after allocating")

        with pytest.raises(RuntimeError):
            fail_after_allocating()
        assert store.allocations("urn:test:rolled-back") == []
        assert store.lists() == []  # the list opened in that transaction is gone too …
        assert store.allocate("revocation").list_id  # … and was never remembered
        store.forget_open_lists()

        with store.engine.begin() as conn:
            bound = store.bound(conn)
            kept = bound.allocate("revocation", credential_id="urn:test:kept")
            bound.set_status(kept.list_id, kept.index, 1)
            assert bound.get_status(kept.list_id, kept.index) == 1
            assert bound.list_info(kept.list_id).version == 1
            assert len(bound.bitstring(kept.list_id)) == 2
        assert store.get_status(kept.list_id, kept.index) == 1
        assert store.allocations("urn:test:kept") == [kept]
    finally:
        store.drop_tables()
        store.close()
