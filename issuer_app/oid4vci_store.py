"""The credential offers of OpenID4VCI, in the issuer's database (SQLite or PostgreSQL).

One row per offer: the credential to sign (unsigned, its holder still unknown), the
configuration it is offered in, digests of its pre-authorized code, transaction code and
access token (the secrets themselves are never stored), and its state:

``offered`` → (token endpoint) ``redeemed`` → (credential endpoint) ``collected``;
an offer whose transaction code was guessed wrong too often is ``blocked``.

Every change of state is one conditional UPDATE (``WHERE state = …``): of two requests
racing with the same code, exactly one wins.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

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
from sqlalchemy.engine import Row

from vcred_service.bootstrap import create_tables

STATES: Final = ("offered", "redeemed", "collected", "blocked")
#: The offers table's name after the issuer's table prefix.
OFFERS_TABLE: Final = "oid4vci_offers"


class OfferStore:
    """The ``oid4vci_offers`` table beside the issuer's own (same engine, same prefix)."""

    def __init__(self, engine: Engine, *, prefix: str = "") -> None:
        self.engine = engine
        metadata = MetaData()
        self.table = Table(
            f"{prefix}{OFFERS_TABLE}",
            metadata,
            Column("offer_id", String(64), primary_key=True),
            Column("code_digest", String(64), nullable=False, unique=True),
            Column("tx_digest", String(64), nullable=True),
            Column("tx_failures", Integer, nullable=False, default=0),
            Column("configuration", String(128), nullable=False),
            Column("credential", Text, nullable=False),  # JSON, unsigned
            Column("credential_id", String(2048), nullable=True),
            Column("state", String(16), nullable=False),
            Column("created", String(32), nullable=False),
            Column("expires", String(32), nullable=False),
            Column("actor", String(256), nullable=False),
            Column("token_digest", String(64), nullable=True, unique=True),
            Column("token_expires", String(32), nullable=True),
            Column("record_id", String(36), nullable=True),
            Column("holder", String(2048), nullable=True),
            Column("collected", String(32), nullable=True),
        )
        self.metadata = metadata
        create_tables(engine, metadata, f"oid4vci:{prefix}")

    def drop(self) -> None:
        self.metadata.drop_all(self.engine)

    def insert(self, conn: Connection, values: Mapping[str, Any]) -> None:
        conn.execute(insert(self.table).values(**values, tx_failures=0, state="offered"))

    def by_id(self, offer_id: str, conn: Connection | None = None) -> Row[Any] | None:
        return self._one(self.table.c.offer_id == offer_id, conn)

    def by_code(self, conn: Connection, code_digest: str) -> Row[Any] | None:
        return self._one(self.table.c.code_digest == code_digest, conn)

    def by_token(self, token_digest: str) -> Row[Any] | None:
        return self._one(self.table.c.token_digest == token_digest, None)

    def by_record(self, record_id: str) -> Row[Any] | None:
        return self._one(self.table.c.record_id == record_id, None)

    def recent(self, *, limit: int = 50) -> list[Row[Any]]:
        """The latest offers, newest first (the officer's list)."""
        t = self.table
        query = select(t).order_by(t.c.created.desc(), t.c.offer_id).limit(limit)
        with self.engine.connect() as conn:
            return list(conn.execute(query))

    def _one(self, where: Any, conn: Connection | None) -> Row[Any] | None:
        query = select(self.table).where(where)
        if conn is not None:
            return conn.execute(query).first()
        with self.engine.connect() as own:
            return own.execute(query).first()

    def move(self, conn: Connection, offer_id: str, *, frm: str, to: str, **values: Any) -> bool:
        """Move an offer from state ``frm`` to ``to``; whether this request did it."""
        t = self.table
        changed = conn.execute(
            update(t).where(t.c.offer_id == offer_id, t.c.state == frm).values(state=to, **values),
            execution_options={"preserve_rowcount": True},
        )
        return bool(changed.rowcount == 1)

    def take_try(self, conn: Connection, offer_id: str, *, limit: int) -> int | None:
        """Take one of an open offer's ``limit`` transaction code tries, before the code is
        compared: one conditional UPDATE, whose row lock lasts until ``conn`` commits, so of
        guesses racing at most ``limit`` are ever compared. The tries taken, this one
        included; None when none is left or the offer is no longer open."""
        t = self.table
        taken = conn.execute(
            update(t)
            .where(t.c.offer_id == offer_id, t.c.state == "offered", t.c.tx_failures < limit)
            .values(tx_failures=t.c.tx_failures + 1),
            execution_options={"preserve_rowcount": True},
        )
        if taken.rowcount != 1:
            return None
        query = select(t.c.tx_failures).where(t.c.offer_id == offer_id)
        return int(conn.execute(query).scalar_one())

    def give_back_try(self, conn: Connection, offer_id: str) -> None:
        """The try of the right code: ``tx_failures`` counts the wrong ones."""
        t = self.table
        conn.execute(
            update(t).where(t.c.offer_id == offer_id).values(tx_failures=t.c.tx_failures - 1)
        )


def load_credential(row: Row[Any]) -> dict[str, Any]:
    loaded = json.loads(row.credential)
    return loaded if isinstance(loaded, dict) else {}
