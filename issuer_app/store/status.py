"""Status-list index allocation and status values in SQL (SQLite, PostgreSQL).

Implements :class:`vcred.status.IndexStore` so that any number of issuer processes can share
one database (DESIGN §8): no (list, index) is ever handed out twice, because

- ``(list_id, idx)`` is the primary key of the entries table and an index is claimed by an
  ``INSERT … ON CONFLICT DO NOTHING``: of two processes drawing the same index, exactly one
  inserts the row; the other sees no row inserted and draws again;
- a new list is created under a unique ``(purpose, status_size, seq)``, so two processes that
  find the open list full at the same moment agree on one successor.

Claiming an index is one single-statement transaction: no counter row that every issuer would
queue on. A process remembers the open list per (purpose, status_size) and only looks again
when that list turns out to be full.

Indexes are drawn uniformly at random among the free ones (§2.1 herd privacy), falling back to
a scan of the free slots once draws keep colliding (see ``vcred.status.pick_free_index``).

``SqlIndexStore.bound(conn)`` is the same store inside a caller's transaction: the issuer
allocates a credential's indexes, records it and appends its audit entry in one transaction,
so a process killed half-way leaves no allocation without its credential.
"""

from __future__ import annotations

import re
import secrets
import threading
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from functools import partial
from typing import Any, Final

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    Engine,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Select,
    String,
    Table,
    UniqueConstraint,
    func,
    select,
    update,
)
from sqlalchemy.engine import Row

from issuer_app.store.db import make_engine
from vcred.errors import UsageError, VcredError
from vcred.status import MIN_ENTRIES, Allocation, MutableBitstring, StatusListInfo, pick_free_index
from vcred.status.index import (
    RandBelow,
    check_allocation_args,
    check_capacity,
    check_status_change,
)
from vcred_service.db import insert_all_ignore as _insert_all_ignore
from vcred_service.db import insert_ignore as _insert_ignore

#: How drawn status places are written: given their rows (``list_id``, ``idx``, ``value``,
#: ``credential_id``, in the order to insert them), inserts those still free and returns their
#: ``(list_id, idx)``; None where that is not one statement (nothing was inserted). The
#: store's own is :func:`vcred_service.db.insert_all_ignore`.
ClaimPlaces = Callable[[Sequence[Mapping[str, Any]]], set[tuple[Any, ...]] | None]

_PREFIX: Final = re.compile(r"[a-z][a-z0-9_]{0,30}|")
#: Lists tried in one allocation before giving up (each full one rolls over to the next).
_MAX_ROLLOVERS: Final = 64


def status_tables(metadata: MetaData, prefix: str = "") -> tuple[Table, Table]:
    """The two tables, ``{prefix}status_lists`` and ``{prefix}status_entries``."""
    if not _PREFIX.fullmatch(prefix):
        raise UsageError("a table prefix is lower-case letters, digits and _")
    lists = Table(
        f"{prefix}status_lists",
        metadata,
        Column("id", String(64), primary_key=True),
        Column("purpose", String(64), nullable=False),
        Column("status_size", Integer, nullable=False),
        Column("seq", Integer, nullable=False),
        Column("capacity", Integer, nullable=False),
        Column("is_full", Boolean, nullable=False),
        Column("version", Integer, nullable=False),
        UniqueConstraint("purpose", "status_size", "seq", name=f"{prefix}uq_status_lists_seq"),
    )
    entries = Table(
        f"{prefix}status_entries",
        metadata,
        Column("list_id", String(64), ForeignKey(lists.c.id), primary_key=True),
        Column("idx", Integer, primary_key=True, autoincrement=False),
        Column("value", Integer, nullable=False),
        Column("credential_id", String(2048), nullable=True),
        Index(f"{prefix}ix_status_entries_credential", "credential_id"),
    )
    return lists, entries


class SqlIndexStore:
    """A :class:`vcred.status.IndexStore` over SQLAlchemy; safe across processes.

    ``engine`` is an Engine or a URL (then configured by :func:`make_engine`; pass an engine
    built elsewhere only if SQLite is set up the same way). ``prefix`` names the tables, so
    tests and several issuers can share a database. ``capacity`` applies to new lists.
    ``metadata``: define the tables in the caller's MetaData (to create them with its own).
    """

    def __init__(
        self,
        engine: Engine | str,
        *,
        prefix: str = "",
        capacity: int = MIN_ENTRIES,
        randbelow: RandBelow = secrets.randbelow,
        new_list_id: Callable[[], str] = lambda: secrets.token_urlsafe(9),
        metadata: MetaData | None = None,
    ) -> None:
        check_capacity(capacity)
        self.engine = make_engine(engine) if isinstance(engine, str) else engine
        self.capacity = capacity
        self.metadata = MetaData() if metadata is None else metadata
        self._lists, self._entries = status_tables(self.metadata, prefix)
        self._randbelow = randbelow
        self._new_list_id = new_list_id
        self._open: dict[tuple[str, int], tuple[str, int]] = {}  # → (list id, capacity)
        self._open_lock = threading.Lock()

    @property
    def entries_table(self) -> Table:
        """The table of allocated places (for a :data:`ClaimPlaces` of the caller's)."""
        return self._entries

    def create_tables(self) -> None:
        self.metadata.create_all(self.engine)

    def drop_tables(self) -> None:
        self.metadata.drop_all(self.engine)

    def close(self) -> None:
        """Close the pooled connections (the store can still be used; it reconnects)."""
        self.engine.dispose()

    def bound(self, conn: Connection) -> BoundIndexStore:
        """This store working inside the caller's transaction ``conn``.

        Allocations and status changes made through it commit or roll back with everything
        else the caller writes on ``conn`` (an issuance: record, allocations and audit entry
        in one transaction). After a rollback, call :meth:`forget_open_lists`: a list opened
        inside the rolled-back transaction no longer exists.
        """
        return BoundIndexStore(self, conn)

    def forget_open_lists(self) -> None:
        """Drop the remembered open lists; the next allocation looks them up again."""
        with self._open_lock:
            self._open.clear()

    def allocate(
        self, purpose: str, *, status_size: int = 1, credential_id: str | None = None
    ) -> Allocation:
        return self._allocate(None, purpose, status_size, credential_id)

    def allocate_all(
        self, kinds: Sequence[tuple[str, int]], *, credential_id: str | None = None
    ) -> list[Allocation]:
        """An allocation of each ``(purpose, status_size)`` of ``kinds``, in one transaction
        (see :meth:`BoundIndexStore.allocate_all`)."""
        with self.engine.begin() as conn:
            return self._allocate_all(conn, kinds, credential_id)

    def set_status(self, list_id: str, index: int, value: int) -> None:
        with self.engine.begin() as conn:
            self._set_status(conn, list_id, index, value)

    def get_status(self, list_id: str, index: int) -> int:
        with self.engine.connect() as conn:
            return self._get_status(conn, list_id, index)

    def bitstring(self, list_id: str) -> bytes:
        with self.engine.connect() as conn:
            return self._bitstring(conn, list_id)

    def list_info(self, list_id: str) -> StatusListInfo:
        with self.engine.connect() as conn:
            return self._info(conn, list_id)

    def lists(self, purpose: str | None = None) -> Sequence[StatusListInfo]:
        with self.engine.connect() as conn:
            return self._all_lists(conn, purpose)

    def allocations(self, credential_id: str) -> Sequence[Allocation]:
        with self.engine.connect() as conn:
            return self._allocations(conn, credential_id)

    # -- the operations, on a connection (None: each step in a transaction of its own) --------

    def _begin(self, conn: Connection | None) -> AbstractContextManager[Connection]:
        return self.engine.begin() if conn is None else nullcontext(conn)

    def _read(self, conn: Connection | None) -> AbstractContextManager[Connection]:
        return self.engine.connect() if conn is None else nullcontext(conn)

    def _allocate(
        self, conn: Connection | None, purpose: str, status_size: int, credential_id: str | None
    ) -> Allocation:
        check_allocation_args(purpose, status_size)
        for _ in range(_MAX_ROLLOVERS):
            list_id, capacity = self._open_list(conn, purpose, status_size)
            index = pick_free_index(
                capacity,
                take=partial(self._take, conn, list_id, credential_id),
                free=partial(self._free, conn, list_id, capacity),
                randbelow=self._randbelow,
            )
            if index is not None:
                return Allocation(
                    list_id=list_id, index=index, purpose=purpose, status_size=status_size
                )
            # every slot taken: mark the list full and roll over to the next one
            with self._begin(conn) as tx:
                tx.execute(
                    update(self._lists).where(self._lists.c.id == list_id).values(is_full=True)
                )
            with self._open_lock:
                if self._open.get((purpose, status_size), (None, 0))[0] == list_id:
                    del self._open[(purpose, status_size)]
        raise VcredError(f"no free status index after {_MAX_ROLLOVERS} lists")

    def _allocate_all(
        self,
        conn: Connection,
        kinds: Sequence[tuple[str, int]],
        credential_id: str | None,
        claim: ClaimPlaces | None = None,
    ) -> list[Allocation]:
        """One allocation per kind: each kind's first random draw (as :func:`pick_free_index`
        makes it) claimed together in one statement (``claim``'s, when given); a draw that was
        taken already, and any kind on a database without such a statement, goes the way of
        :meth:`_allocate`."""
        for purpose, status_size in kinds:
            check_allocation_args(purpose, status_size)
        draws = []
        for purpose, status_size in kinds:
            list_id, capacity = self._open_list(conn, purpose, status_size)
            draws.append((list_id, self._randbelow(capacity)))
        # in one order for every issuance (list, then place): two whose draws cross take their
        # row locks in the same order, so neither waits on the other's second row
        rows = [
            {"list_id": list_id, "idx": index, "value": 0, "credential_id": credential_id}
            for list_id, index in sorted(draws)
        ]
        entries = self._entries
        if claim is not None:
            taken = claim(rows)
        else:
            taken = _insert_all_ignore(conn, entries, rows, key=(entries.c.list_id, entries.c.idx))
        allocations = []
        for (purpose, status_size), draw in zip(kinds, draws, strict=True):
            if taken is not None and draw in taken:
                taken.discard(draw)  # the same place drawn twice was claimed once
                list_id, index = draw
                allocations.append(
                    Allocation(
                        list_id=list_id, index=index, purpose=purpose, status_size=status_size
                    )
                )
            else:
                allocations.append(self._allocate(conn, purpose, status_size, credential_id))
        return allocations

    def _set_status(self, conn: Connection, list_id: str, index: int, value: int) -> None:
        lists, entries = self._lists, self._entries
        info = self._info(conn, list_id)
        current = conn.execute(
            select(entries.c.value)
            .where(entries.c.list_id == list_id, entries.c.idx == index)
            .with_for_update()  # PostgreSQL row lock; SQLite's BEGIN IMMEDIATE serialises
        ).scalar_one_or_none()
        if current is None:
            raise UsageError(f"index {index} of status list {list_id!r} is not allocated")
        check_status_change(info.purpose, info.status_size, current, value)
        if value == current:
            return
        conn.execute(
            update(entries)
            .where(entries.c.list_id == list_id, entries.c.idx == index)
            .values(value=value)
        )
        conn.execute(update(lists).where(lists.c.id == list_id).values(version=lists.c.version + 1))

    def _get_status(self, conn: Connection, list_id: str, index: int) -> int:
        entries = self._entries
        self._info(conn, list_id)
        value = conn.execute(
            select(entries.c.value).where(entries.c.list_id == list_id, entries.c.idx == index)
        ).scalar_one_or_none()
        if value is None:
            raise UsageError(f"index {index} of status list {list_id!r} is not allocated")
        return int(value)

    def _bitstring(self, conn: Connection, list_id: str) -> bytes:
        entries = self._entries
        info = self._info(conn, list_id)
        rows = conn.execute(
            select(entries.c.idx, entries.c.value).where(
                entries.c.list_id == list_id, entries.c.value != 0
            )
        ).all()
        bits = MutableBitstring(info.capacity, status_size=info.status_size)
        for index, value in rows:
            bits.set(index, value)
        return bits.freeze().data

    def _all_lists(self, conn: Connection, purpose: str | None) -> list[StatusListInfo]:
        query = self._info_query().order_by(self._lists.c.purpose, self._lists.c.seq)
        if purpose is not None:
            query = query.where(self._lists.c.purpose == purpose)
        return [_info(row) for row in conn.execute(query)]

    def _allocations(self, conn: Connection, credential_id: str) -> list[Allocation]:
        lists, entries = self._lists, self._entries
        query = (
            select(entries.c.list_id, entries.c.idx, lists.c.purpose, lists.c.status_size)
            .join(lists, lists.c.id == entries.c.list_id)
            .where(entries.c.credential_id == credential_id)
            .order_by(lists.c.purpose, lists.c.seq)
        )
        return [
            Allocation(list_id=list_id, index=index, purpose=purpose, status_size=size)
            for list_id, index, purpose, size in conn.execute(query)
        ]

    def _open_list(
        self, conn: Connection | None, purpose: str, status_size: int
    ) -> tuple[str, int]:
        """(id, capacity) of the open list for (purpose, status_size), creating one if need be."""
        with self._open_lock:
            known = self._open.get((purpose, status_size))
        if known is not None:
            return known
        lists = self._lists
        same_kind = (lists.c.purpose == purpose, lists.c.status_size == status_size)
        created_here = False
        for _ in range(_MAX_ROLLOVERS):
            with self._begin(conn) as tx:
                # One statement decides both "is there an open list" and "which seq comes
                # next": decided apart, a list created in between would be skipped over.
                row = tx.execute(
                    select(lists.c.id, lists.c.capacity, lists.c.seq, lists.c.is_full)
                    .where(*same_kind)
                    .order_by(lists.c.seq.desc())
                    .limit(1)
                ).first()
                if row is None or row.is_full:
                    # Of concurrent creators, the unique (purpose, status_size, seq) keeps one.
                    created_here = _insert_ignore(
                        tx,
                        lists,
                        {
                            "id": self._new_list_id(),
                            "purpose": purpose,
                            "status_size": status_size,
                            "seq": 0 if row is None else row.seq + 1,
                            "capacity": self.capacity,
                            "is_full": False,
                            "version": 0,
                        },
                    )
                    continue
            found = (str(row.id), int(row.capacity))
            if conn is not None and created_here:
                # made in the caller's uncommitted transaction: invisible to the others (and
                # gone if it rolls back), so not remembered for them
                return found
            with self._open_lock:
                self._open[(purpose, status_size)] = found
            return found
        raise VcredError(f"could not open a status list for {purpose!r}")

    def _take(
        self, conn: Connection | None, list_id: str, credential_id: str | None, index: int
    ) -> bool:
        """Claim ``index`` of ``list_id``; False when another allocation holds it."""
        with self._begin(conn) as tx:
            return _insert_ignore(
                tx,
                self._entries,
                {"list_id": list_id, "idx": index, "value": 0, "credential_id": credential_id},
            )

    def _free(self, conn: Connection | None, list_id: str, capacity: int) -> list[int]:
        with self._read(conn) as tx:
            used = tx.execute(
                select(self._entries.c.idx).where(self._entries.c.list_id == list_id)
            ).scalars()
            taken = bytearray(capacity)
            for index in used:
                taken[index] = 1
        return [index for index, flag in enumerate(taken) if not flag]

    def _info_query(self) -> Select[Any]:
        allocated = (
            select(func.count())
            .where(self._entries.c.list_id == self._lists.c.id)
            .scalar_subquery()
            .label("allocated")
        )
        return select(self._lists, allocated)

    def _info(self, conn: Connection, list_id: str) -> StatusListInfo:
        row = conn.execute(self._info_query().where(self._lists.c.id == list_id)).first()
        if row is None:
            raise UsageError(f"no status list {list_id!r}")
        return _info(row)


def _info(row: Row[Any]) -> StatusListInfo:
    return StatusListInfo(
        list_id=row.id,
        purpose=row.purpose,
        status_size=row.status_size,
        capacity=row.capacity,
        allocated=row.allocated,
        full=bool(row.is_full),
        version=row.version,
    )


class BoundIndexStore:
    """An :class:`vcred.status.IndexStore` whose every operation runs on one connection, inside
    the transaction its owner opened (see :meth:`SqlIndexStore.bound`)."""

    def __init__(self, store: SqlIndexStore, conn: Connection) -> None:
        self.store, self.conn = store, conn

    def allocate(
        self, purpose: str, *, status_size: int = 1, credential_id: str | None = None
    ) -> Allocation:
        return self.store._allocate(self.conn, purpose, status_size, credential_id)

    def allocate_all(
        self,
        kinds: Sequence[tuple[str, int]],
        *,
        credential_id: str | None = None,
        claim: ClaimPlaces | None = None,
    ) -> list[Allocation]:
        """An allocation of each ``(purpose, status_size)`` of ``kinds``, as :meth:`allocate`
        would make them one after the other, in fewer statements. ``claim``: writes the
        places drawn instead of the store's own statement (:data:`ClaimPlaces`; the issuer's
        checks its key and API token in the same statement)."""
        return self.store._allocate_all(self.conn, kinds, credential_id, claim)

    def set_status(self, list_id: str, index: int, value: int) -> None:
        self.store._set_status(self.conn, list_id, index, value)

    def get_status(self, list_id: str, index: int) -> int:
        return self.store._get_status(self.conn, list_id, index)

    def bitstring(self, list_id: str) -> bytes:
        return self.store._bitstring(self.conn, list_id)

    def list_info(self, list_id: str) -> StatusListInfo:
        return self.store._info(self.conn, list_id)

    def lists(self, purpose: str | None = None) -> Sequence[StatusListInfo]:
        return self.store._all_lists(self.conn, purpose)

    def allocations(self, credential_id: str) -> Sequence[Allocation]:
        return self.store._allocations(self.conn, credential_id)
