"""OpenID4VP transactions, stored beside the verifier's tables (SQLite or PostgreSQL).

One row per Authorization Request: its nonce and state, the DCQL query, when it expires, and
— once — the Wallet's response and its verdict. A response is accepted only by the update
that moves ``responded`` from NULL, so of two responses (a replay, or two verifier processes
sharing the database) exactly one is processed. The table has its own ``MetaData`` and is
created on first use: a verifier database from before needs no upgrade.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final, Literal

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Engine,
    MetaData,
    String,
    Table,
    Text,
    delete,
    insert,
    select,
    update,
)

from vcred_service.bootstrap import create_tables
from vcred_service.db import as_utc

Claim = Literal["ok", "unknown", "expired", "used"]
#: How long after it expired a transaction (and its outcome) is kept.
KEPT_FOR: Final = timedelta(days=1)


@dataclass(frozen=True, slots=True, kw_only=True)
class Transaction:
    id: str
    nonce: str
    state: str
    dcql_query: Mapping[str, Any]
    created: datetime
    expires: datetime
    responded: datetime | None
    verified: bool | None
    result: Mapping[str, Any] | None


def transaction_table(metadata: MetaData, prefix: str = "") -> Table:
    """The table, for the verifier storage's ``MetaData`` too (its ``drop`` removes it)."""
    return Table(
        f"{prefix}oid4vp_transactions",
        metadata,
        Column("id", String(64), primary_key=True),
        Column("nonce", String(64), nullable=False),
        Column("state", String(64), nullable=False),
        Column("dcql_query", Text, nullable=False),
        Column("created", DateTime(timezone=True), nullable=False),
        Column("expires", DateTime(timezone=True), nullable=False, index=True),
        Column("responded", DateTime(timezone=True), nullable=True),
        Column("verified", Boolean, nullable=True),
        Column("result", Text, nullable=True),
    )


class Transactions:
    """The verifier's OpenID4VP transactions."""

    def __init__(self, engine: Engine, *, prefix: str = "") -> None:
        self.engine = engine
        self.metadata = MetaData()
        self.prefix = prefix
        self.table = transaction_table(self.metadata, prefix)
        self._created = False

    def create(self) -> None:
        if self._created:
            return
        create_tables(self.engine, self.metadata, f"oid4vp:{self.prefix}")
        self._created = True

    def drop(self) -> None:
        self.metadata.drop_all(self.engine)
        self._created = False

    def open(
        self,
        *,
        nonce: str,
        state: str,
        dcql_query: Mapping[str, Any],
        now: datetime,
        ttl: timedelta,
    ) -> str:
        """A new transaction's id (256 random bits: the request and response URIs name it)."""
        self.create()
        transaction_id = secrets.token_urlsafe(32)
        with self.engine.begin() as conn:
            conn.execute(
                insert(self.table).values(
                    id=transaction_id,
                    nonce=nonce,
                    state=state,
                    dcql_query=json.dumps(dcql_query),
                    created=now,
                    expires=now + ttl,
                )
            )
            # outcomes are read soon after; a day later nobody asks: forget them
            conn.execute(delete(self.table).where(self.table.c.expires < now - KEPT_FOR))
        return transaction_id

    def get(self, transaction_id: str) -> Transaction | None:
        self.create()
        with self.engine.connect() as conn:
            row = conn.execute(
                select(self.table).where(self.table.c.id == transaction_id)
            ).one_or_none()
        if row is None:
            return None
        return Transaction(
            id=row.id,
            nonce=row.nonce,
            state=row.state,
            dcql_query=json.loads(row.dcql_query),
            created=as_utc(row.created),
            expires=as_utc(row.expires),
            responded=as_utc(row.responded) if row.responded is not None else None,
            verified=row.verified,
            result=json.loads(row.result) if row.result is not None else None,
        )

    def claim(self, transaction_id: str, *, now: datetime) -> Claim:
        """Take the transaction for one response: ``ok`` for exactly one caller."""
        self.create()
        table = self.table
        with self.engine.begin() as conn:
            taken = conn.execute(
                update(table)
                .where(
                    table.c.id == transaction_id, table.c.responded.is_(None), table.c.expires > now
                )
                .values(responded=now)
            ).rowcount
            if taken:
                return "ok"
            row = conn.execute(
                select(table.c.responded).where(table.c.id == transaction_id)
            ).one_or_none()
        if row is None:
            return "unknown"
        return "used" if row.responded is not None else "expired"

    def record(self, transaction_id: str, *, verified: bool, result: Mapping[str, Any]) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(self.table)
                .where(self.table.c.id == transaction_id)
                .values(verified=verified, result=json.dumps(result))
            )
