"""A service's tamper-evident audit chain (:mod:`vcred.audit`) in its database.

Two tables: ``<prefix>audit`` (one row per entry, by ``seq``) and ``<prefix>audit_head`` (one
row: the last ``seq`` and its hash). Appending locks the head row first — its first statement
is a write, so PostgreSQL holds the row lock and SQLite the database's write lock until the
commit, whichever process or machine appends — then seals the entry over the head's hash.
``vcred audit verify FILE`` checks an export (:meth:`AuditChain.entries`) without the service.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from vcred import audit


def chain_tables(metadata: MetaData, prefix: str) -> tuple[Table, Table]:
    """The chain's two tables in ``metadata``: the entries and the head."""
    entries = Table(
        f"{prefix}audit",
        metadata,
        Column("seq", Integer, primary_key=True, autoincrement=False),
        Column("at", String(32), nullable=False),
        Column("actor", String(256), nullable=False),
        Column("action", String(64), nullable=False),
        Column("target", String(2048), nullable=True),
        Column("details", Text, nullable=False),
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


class AuditChain:
    """The chain's tables in ``metadata`` (created with it) over ``engine``; ``tables``: the
    two of :func:`chain_tables` when the caller's metadata holds them already."""

    def __init__(
        self,
        engine: Engine,
        metadata: MetaData,
        prefix: str,
        *,
        tables: tuple[Table, Table] | None = None,
    ) -> None:
        self.engine = engine
        self.entries_table, self.head_table = tables or chain_tables(metadata, prefix)

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
        in order, inside the caller's transaction; the sealed entries."""
        if not records:
            return []
        head = self.head_table
        # lock first: a write (no change) takes the row lock / SQLite's write lock before the
        # head is read, so no other appender can read the same head
        conn.execute(update(head).where(head.c.id == 1).values(seq=head.c.seq))
        row = conn.execute(select(head.c.seq, head.c.hash).where(head.c.id == 1)).one()
        seq, prev = int(row.seq), str(row.hash)
        sealed = []
        for record in records:
            seq += 1
            entry = audit.seal(
                seq=seq,
                prev=prev,
                at=record["at"],
                actor=record["actor"],
                action=record["action"],
                target=record["target"],
                details=record["details"],
            )
            sealed.append(entry)
            prev = entry["hash"]
        conn.execute(
            insert(self.entries_table),
            [
                {
                    **entry,
                    "details": json.dumps(entry["details"], ensure_ascii=False, sort_keys=True),
                }
                for entry in sealed
            ],
        )
        conn.execute(update(head).where(head.c.id == 1).values(seq=seq, hash=prev))
        return sealed

    def entries(self, *, batch: int = 1000) -> Iterator[dict[str, Any]]:
        """The whole chain, oldest first, as entries ready to export."""
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

    def head(self) -> tuple[int, str]:
        """The last entry's ``seq`` and hash (0 and :data:`vcred.audit.GENESIS` when empty)."""
        head = self.head_table
        with self.engine.connect() as conn:
            row = conn.execute(select(head.c.seq, head.c.hash).where(head.c.id == 1)).one()
        return int(row.seq), str(row.hash)
