"""A service's tamper-evident audit chain (:mod:`vcred.audit`) in its database.

Two tables: ``<prefix>audit`` (one row per entry, by ``seq``) and ``<prefix>audit_head`` (one
row: the last ``seq`` and its hash). Appending locks the head row first — its first statement
is a write, so PostgreSQL holds the row lock and SQLite the database's write lock until the
commit, whichever process or machine appends — then seals the entry over the head's hash.
``vcred audit verify FILE`` checks an export (:meth:`AuditChain.entries`) without the service.

A chain made with a ``pending`` table (:func:`pending_table`) can also take entries without
waiting for the head (:meth:`AuditChain.record`, the issuer's hot path): an entry is sealed at
once when the head is free, and otherwise written, in the caller's transaction, to
``<prefix>audit_pending``; whoever holds the head next — the next entry recorded, an
:meth:`~AuditChain.append_all`, or :meth:`~AuditChain.seal`, which every read of the chain
runs first — links the pending entries into the chain, oldest first, and deletes them in the
same transaction (an entry recorded on PostgreSQL links those its statement's snapshot saw:
one committed after that is the next holder's). So no writer waits on the head across
another's commit, an entry commits (or rolls back) with what it records, a killed process
leaves nothing unrecorded (its committed pending entries are sealed by the next), and the
chain read is always complete and gap-free.
An entry waits unsealed (not yet tamper-evident) only until the next entries or read.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Final

from sqlalchemy import (
    Column,
    Connection,
    Engine,
    Insert,
    Integer,
    LargeBinary,
    MetaData,
    Row,
    Select,
    String,
    Table,
    Text,
    Update,
    bindparam,
    cast,
    delete,
    func,
    insert,
    literal_column,
    select,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import IntegrityError

from vcred import audit
from vcred.errors import UsageError
from vcred_service.db import driver_insert


def _entry_columns() -> list[Column[Any]]:
    """What an entry says, in the chain and while it waits to be sealed (new objects each
    call: a column belongs to one table)."""
    return [
        Column("at", String(32), nullable=False),
        Column("actor", String(256), nullable=False),
        Column("action", String(64), nullable=False),
        Column("target", String(2048), nullable=True),
        Column("details", Text, nullable=False),
    ]


def chain_tables(metadata: MetaData, prefix: str) -> tuple[Table, Table]:
    """The chain's two tables in ``metadata``: the entries and the head."""
    entries = Table(
        f"{prefix}audit",
        metadata,
        Column("seq", Integer, primary_key=True, autoincrement=False),
        *_entry_columns(),
        Column("prev", String(64), nullable=False),
        Column("hash", String(64), nullable=False),
    )
    head = Table(
        f"{prefix}audit_head",
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=False),
        Column("seq", Integer, nullable=False),
        Column("hash", String(64), nullable=False),
    )
    return entries, head


def pending_table(metadata: MetaData, prefix: str) -> Table:
    """Entries recorded while another transaction held the head, waiting to be sealed (in
    ``id`` order: the order they were recorded in, near enough; the chain's order is the
    sealing's)."""
    return Table(
        f"{prefix}audit_pending",
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        *_entry_columns(),
    )


class AuditChain:
    """The chain's tables in ``metadata`` (created with it) over ``engine``; ``tables``: the
    two of :func:`chain_tables` when the caller's metadata holds them already; ``pending``:
    the :func:`pending_table` that :meth:`record` writes to (None: :meth:`record` is not
    available and nothing is ever pending)."""

    def __init__(
        self,
        engine: Engine,
        metadata: MetaData,
        prefix: str,
        *,
        tables: tuple[Table, Table] | None = None,
        pending: Table | None = None,
    ) -> None:
        self.engine = engine
        self.entries_table, self.head_table = tables or chain_tables(metadata, prefix)
        self.pending_table = pending
        head = self.head_table
        self._try_head = (
            select(head.c.seq, head.c.hash).where(head.c.id == 1).with_for_update(skip_locked=True)
        )
        if pending is not None:
            self._oldest_pending = select(pending).order_by(pending.c.id).limit(_SEAL_BATCH)
            self._seal_or_wait = _seal_or_wait(self.entries_table, head, pending)
        #: PostgreSQL's one statement that writes what :meth:`_seal` sealed
        self._write_sealed = _write_sealed(self.entries_table, self.head_table, pending)
        #: elsewhere (SQLite), the INSERT of sealed entries as the driver takes it
        self._insert_sealed = driver_insert(self.entries_table, audit.FIELDS, engine.dialect)

    def start(self) -> None:
        """Write the head of an empty chain, once (after the tables were created)."""
        head = self.head_table
        with self.engine.connect() as conn:
            if conn.execute(select(head.c.id).where(head.c.id == 1)).first() is not None:
                return
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(head).values(id=1, seq=0, hash=audit.GENESIS))
        except IntegrityError:
            pass  # another worker wrote it first

    def append(
        self,
        conn: Connection,
        *,
        at: str,
        actor: str,
        action: str,
        target: str | None,
        details: Mapping[str, Any],
    ) -> dict[str, Any]:
        """Append one entry inside the caller's transaction; the sealed entry."""
        record = {"at": at, "actor": actor, "action": action, "target": target}
        return self.append_all(conn, [{**record, "details": details}])[0]

    def append_all(
        self, conn: Connection, records: Sequence[Mapping[str, Any]]
    ) -> list[dict[str, Any]]:
        """Append entries (each with ``at``, ``actor``, ``action``, ``target``, ``details``)
        in order, inside the caller's transaction, after any pending ones; the sealed
        entries."""
        if not records:
            return []
        stored = [_stored(record) for record in records]  # before the head is locked
        seq, prev = self._lock_head(conn)
        sealed = self._seal(conn, seq, prev, self._pending(conn), stored)
        return [
            {**entry, "details": dict(record["details"])}
            for entry, record in zip(sealed, records, strict=True)
        ]

    def record(
        self,
        conn: Connection,
        *,
        at: str,
        actor: str,
        action: str,
        target: str | None,
        details: Mapping[str, Any],
        alongside: tuple[Insert, Mapping[str, Any]] | None = None,
    ) -> None:
        """Add one entry inside the caller's transaction without waiting for the head: sealed
        now (after the pending entries committed before it tried the head) when no other
        transaction holds the head, else left pending for the next to seal. Raises UsageError
        without a pending table.

        ``alongside``: an INSERT of the caller's and its parameters, made in the statement
        that tries the head (PostgreSQL: a data-modifying WITH, which runs whether or not the
        head is free; elsewhere a statement of its own, just before) — a round trip saved.
        """
        pending = self.pending_table
        if pending is None:
            raise UsageError("this audit chain keeps no pending entries")
        record = _stored(
            {"at": at, "actor": actor, "action": action, "target": target, "details": details}
        )
        if conn.dialect.name == "postgresql":
            self._record_postgresql(conn, record, alongside)
            return
        if alongside is not None:
            conn.execute(*alongside)
        # SQLite: BEGIN IMMEDIATE holds the whole database, the head is free
        row = conn.execute(self._try_head).first()
        if row is None:
            conn.execute(insert(pending).values(**record))
            return
        self._seal(conn, int(row.seq), str(row.hash), self._pending(conn), [record])

    def _record_postgresql(
        self,
        conn: Connection,
        record: Mapping[str, Any],
        alongside: tuple[Insert, Mapping[str, Any]] | None,
    ) -> None:
        """:meth:`record` on PostgreSQL: one statement (:func:`_seal_or_wait`) takes the head
        if no other transaction holds it (SKIP LOCKED) and seals the entry (``record``, as
        stored) when none is pending, else writes it to the pending table — and makes the
        caller's ``alongside`` INSERT; only with the head and entries pending (read, locked,
        in that statement) a second one seals them and then the entry."""
        statement, parameters = self._seal_or_wait, {}
        if alongside is not None:
            statement = _with_write(statement, alongside[0])
            parameters = dict(alongside[1])
        parameters |= {_ENTRY_PARAM + name: value for name, value in record.items()}
        before, after = audit.stored_entry_hash_around_head(record)
        parameters |= {_ENTRY_PARAM + "before": before, _ENTRY_PARAM + "after": after}
        rows = conn.execute(statement, parameters).all()
        if not rows or rows[0].sealed:
            return  # pending, for the next holder of the head to seal; or sealed
        head = rows[0]
        waiting = [_pending_record(row) for row in rows if row.id is not None]
        self._seal(conn, int(head.seq), str(head.hash), waiting, [record])

    def seal(self) -> int:
        """Link every entry pending now into the chain, waiting for the head; how many.

        Entries recorded meanwhile (while this holds the head) are left to the next.
        """
        pending = self.pending_table
        if pending is None:
            return 0
        with self.engine.connect() as conn:
            last = conn.execute(select(func.max(pending.c.id))).scalar_one_or_none()
        sealed = 0
        while last is not None:
            with self.engine.begin() as conn:
                seq, prev = self._lock_head(conn)
                waiting = self._pending(conn, up_to=last)
                self._seal(conn, seq, prev, waiting, [])
            if len(waiting) < _SEAL_BATCH:
                return sealed + len(waiting)
            sealed += len(waiting)
        return sealed

    def _lock_head(self, conn: Connection) -> tuple[int, str]:
        """The head's ``seq`` and hash, locked until ``conn``'s transaction ends."""
        head = self.head_table
        # lock first: a write (no change) takes the row lock / SQLite's write lock before the
        # head is read, so no other appender can read the same head
        conn.execute(update(head).where(head.c.id == 1).values(seq=head.c.seq))
        row = conn.execute(select(head.c.seq, head.c.hash).where(head.c.id == 1)).one()
        return int(row.seq), str(row.hash)

    def _pending(
        self, conn: Connection, *, up_to: int | None = None
    ) -> list[tuple[int, dict[str, Any]]]:
        """The oldest pending entries (at most a batch), with their ids."""
        pending = self.pending_table
        if pending is None:
            return []
        query = self._oldest_pending
        if up_to is not None:
            query = query.where(pending.c.id <= up_to)
        return [_pending_record(row) for row in conn.execute(query)]

    def _seal(
        self,
        conn: Connection,
        seq: int,
        prev: str,
        waiting: Sequence[tuple[int, Mapping[str, Any]]],
        records: Sequence[Mapping[str, Any]],
    ) -> list[dict[str, Any]]:
        """Seal the ``waiting`` pending entries, then ``records`` (each as stored:
        :func:`_stored`), after the head (``seq``, ``prev``) that ``conn``'s transaction holds;
        the sealed ``records``, as stored."""
        rows = []
        for record in [*(found for _, found in waiting), *records]:
            seq += 1
            row = {"seq": seq, **record, "prev": prev}
            # the hash covers the details' text as it is stored (vcred.audit.seal's)
            row["hash"] = prev = audit.stored_entry_hash(row)
            rows.append(row)
        if not rows:
            return []
        ids = [pending_id for pending_id, _ in waiting]
        if conn.dialect.name == "postgresql":
            # one round trip instead of three (the issuer's hot path)
            moved = {"ids": ids, "head_seq": seq, "head_hash": prev}
            conn.execute(self._write_sealed, _columns(rows) | moved)
            return rows[len(waiting) :]
        if self._insert_sealed is None:
            conn.execute(insert(self.entries_table), rows)
        else:
            self._insert_sealed.execute(conn, rows)
        if ids and self.pending_table is not None:
            conn.execute(delete(self.pending_table).where(self.pending_table.c.id.in_(ids)))
        head = self.head_table
        conn.execute(update(head).where(head.c.id == 1).values(seq=seq, hash=prev))
        return rows[len(waiting) :]

    def entries(self, *, batch: int = 1000) -> Iterator[dict[str, Any]]:
        """The whole chain, oldest first, as entries ready to export (pending ones sealed
        first)."""
        self.seal()
        table = self.entries_table
        last = 0
        while True:
            with self.engine.connect() as conn:
                rows = list(
                    conn.execute(
                        select(table).where(table.c.seq > last).order_by(table.c.seq).limit(batch)
                    )
                )
            if not rows:
                return
            for row in rows:
                yield {
                    "seq": row.seq,
                    "at": row.at,
                    "actor": row.actor,
                    "action": row.action,
                    "target": row.target,
                    "details": json.loads(row.details),
                    "prev": row.prev,
                    "hash": row.hash,
                }
                last = row.seq

    def holds(self, conn: Connection, seq: int, entry_hash: str) -> bool:
        """Whether entry ``seq`` of the chain has ``entry_hash``, asked under the head's lock
        (held until ``conn``'s transaction ends): a transaction still appending — one whose
        commit had not answered — has committed or rolled back first."""
        self._lock_head(conn)
        table = self.entries_table
        found = conn.execute(select(table.c.hash).where(table.c.seq == seq)).scalar()
        return found == entry_hash

    def head(self) -> tuple[int, str]:
        """The last entry's ``seq`` and hash (0 and :data:`vcred.audit.GENESIS` when empty),
        pending entries sealed first."""
        self.seal()
        head = self.head_table
        with self.engine.connect() as conn:
            row = conn.execute(select(head.c.seq, head.c.hash).where(head.c.id == 1)).one()
        return int(row.seq), str(row.hash)


#: Pending entries sealed in one transaction at most (a backlog takes several).
_SEAL_BATCH: Final = 500
#: A sealed entry's columns (an audit entry's fields), in the order of the sealing arrays.
_SEALED_COLUMNS: Final = audit.FIELDS
_ARRAY_PARAM: Final = "sealed_"
#: What an entry says (:func:`_entry_columns`), and the prefix of their parameters.
_ENTRY_COLUMNS: Final = tuple(column.name for column in _entry_columns())
_ENTRY_PARAM: Final = "entry_"


def _seal_or_wait(entries: Table, head: Table, pending: Table) -> Select[Any]:
    """PostgreSQL, in one statement: when another transaction holds the head, no row, and the
    entry (parameters ``entry_<column>``) written to ``pending``. Else the head locked, and
    rows of its ``seq`` and hash as they were, whether the entry was ``sealed`` and the
    pending entries to seal before it (``id`` and their columns; one row with a null ``id``
    for none): the entry is sealed, the head moved past it, when there are none.

    The pending entries are read locked: an entry the previous holder of the head sealed and
    deleted, committing after this statement's snapshot was taken, is left out (a plain read
    would see it still, and seal it a second time); one committed after the snapshot is left
    to the next holder. The database computes the entry's hash (a head's hash is only known
    once it is locked) from the bytes around the head's: parameters ``entry_before``,
    ``entry_after`` (:func:`vcred.audit.stored_entry_hash_around_head`).
    """
    free = (
        select(head.c.id, head.c.seq, head.c.hash)
        .where(head.c.id == 1)
        .with_for_update(skip_locked=True)
        .cte("head_free")
    )
    head_is_free = select(free.c.seq).exists()
    # text parameters: the INSERT's assignment checks each column's length
    fields = [bindparam(_ENTRY_PARAM + name, type_=Text) for name in _ENTRY_COLUMNS]
    waits = insert(pending).from_select(_ENTRY_COLUMNS, select(*fields).where(~head_is_free))
    # only read (and locked) once the head is held
    waiting = (
        select(pending)
        .where(head_is_free)
        .order_by(pending.c.id)
        .limit(_SEAL_BATCH)
        .with_for_update()
        .cte("waiting")
    )
    seq = free.c.seq + literal_column("1")
    # the head's hash and the next seq as JCS writes them (constants written into the
    # statement: no parameter to send each time)
    around = free.c.hash.concat(_sql_text(audit.PREV_SEQ_JOIN.decode())).concat(cast(seq, Text))
    hashed = (
        bindparam(_ENTRY_PARAM + "before", type_=LargeBinary)
        .op("||", return_type=LargeBinary)(func.convert_to(around, _sql_text("UTF8")))
        .op("||", return_type=LargeBinary)(bindparam(_ENTRY_PARAM + "after", type_=LargeBinary))
    )
    moved = (
        update(head)
        .where(head.c.id == free.c.id, ~select(waiting.c.id).exists())
        .values(seq=seq, hash=func.encode(func.sha256(hashed), _sql_text("hex")))
        .returning(head.c.seq, head.c.hash, free.c.hash.label("prev"))
        .cte("moved")
    )
    # the columns in the order of vcred.audit.FIELDS
    sealed = insert(entries).from_select(
        _SEALED_COLUMNS, select(moved.c.seq, *fields, moved.c.prev, moved.c.hash)
    )
    return (
        select(
            free.c.seq,
            free.c.hash,
            select(moved.c.seq).exists().label("sealed"),
            *[waiting.c[name] for name in ("id", *_ENTRY_COLUMNS)],
        )
        .select_from(free.outerjoin(waiting, true()))
        .order_by(waiting.c.id)
        .add_cte(waits.cte("waits"))
        .add_cte(sealed.cte("sealed"))
    )


def _sql_text(value: str) -> Any:
    """A constant text written into a statement (``value`` holds no quote)."""
    if "'" in value or "%" in value:
        raise UsageError("a text written into a statement holds no ' or %")
    return literal_column(f"'{value}'", Text)


@functools.lru_cache(maxsize=16)
def _with_write(query: Select[Any], write: Insert) -> Select[Any]:
    """``query`` with ``write`` in a data-modifying WITH (built once per pair: the pair is
    the issuance's, and both are built once)."""
    return query.add_cte(write.cte("alongside"))


def _write_sealed(entries: Table, head: Table, pending: Table | None) -> Update:
    """PostgreSQL: the sealed entries inserted (from one array per column), the pending ones
    they include deleted (``ids``) and the head moved, in one statement."""
    # arrays of text, not of the columns' varchar(n): an explicit cast to varchar(n) would cut
    # a long value where the INSERT's own assignment refuses it
    arrays = [
        func.unnest(bindparam(_ARRAY_PARAM + name, type_=ARRAY(Integer if name == "seq" else Text)))
        for name in _SEALED_COLUMNS
    ]
    statement = (
        update(head)
        .where(head.c.id == 1)
        .values(seq=bindparam("head_seq"), hash=bindparam("head_hash"))
        .add_cte(insert(entries).from_select(_SEALED_COLUMNS, select(*arrays)).cte("sealed"))
    )
    if pending is None:
        return statement
    ids = bindparam("ids", type_=ARRAY(Integer))
    return statement.add_cte(delete(pending).where(pending.c.id == func.any(ids)).cte("unpended"))


def _columns(rows: Sequence[Mapping[str, Any]]) -> dict[str, list[Any]]:
    """The rows as one array parameter per column (for :meth:`AuditChain._write_sealed`)."""
    return {_ARRAY_PARAM + name: [row[name] for row in rows] for name in _SEALED_COLUMNS}


def _stored(record: Mapping[str, Any]) -> dict[str, Any]:
    """An entry to seal (``at``, ``actor``, ``action``, ``target``, ``details``) as the chain
    stores it: its details in their JCS text, which the entry's hash covers as it is."""
    stored = {name: record[name] for name in _ENTRY_COLUMNS}
    stored["details"] = audit.canonical_details(record["details"])
    return stored


def _pending_record(row: Row[Any]) -> tuple[int, dict[str, Any]]:
    """A pending entry, as stored; its details written again as JCS (an entry left pending
    before they were stored so holds them in another JSON form)."""
    return int(row.id), _stored(
        {
            "at": row.at,
            "actor": row.actor,
            "action": row.action,
            "target": row.target,
            "details": json.loads(row.details),
        }
    )
