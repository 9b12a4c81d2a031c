"""Every trust list this verifier accepted, kept to decide trust as of a past moment.

A list is kept once (by its digest) with the moment it was first accepted — read from the
configured file at start, or fetched by the trust list feed — and its secured text, so that
an as-of verification re-loads and re-verifies it under the configured anchor.

The list *in force* at a moment T is the one accepted last at or before T — the list held
then; of several accepted at one moment, the highest numbered, one with a number before one
without (on SQLite and PostgreSQL alike) — if its ``validFrom`` is at or before T, its
``validUntil`` after T and its ``nextUpdate`` plus the verifier's grace at or after T
(without ``nextUpdate``, until its ``validUntil``). A list accepted after T cannot have
decided anything at T, and one replaced by then no longer did, however long its own dates
ran: when the list held at T no longer decided (stale, expired), the list it replaced does
not come back. With none in force, trust as of T is not established
(:mod:`verifier_app.as_of`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Engine,
    MetaData,
    Select,
    String,
    Table,
    Text,
    or_,
    select,
)

from vcred.trust import TrustList
from vcred_service.db import as_utc, insert_ignore

_NAME = 512


@dataclass(frozen=True, slots=True)
class KeptTrustList:
    """A trust list as this verifier keeps it."""

    digest: str
    list_id: str | None
    sequence: int | None
    valid_from: datetime | None
    accepted_at: datetime
    secured: str


class TrustListHistory:
    """The accepted trust lists of one verifier database."""

    def __init__(self, engine: Engine, metadata: MetaData, prefix: str) -> None:
        self.engine = engine
        self.table = Table(
            f"{prefix}trust_lists",
            metadata,
            Column("digest", String(128), primary_key=True),
            Column("list_id", String(_NAME)),
            Column("sequence", BigInteger),
            Column("valid_from", DateTime(timezone=True)),
            Column("valid_until", DateTime(timezone=True)),
            Column("next_update", DateTime(timezone=True)),
            Column("accepted_at", DateTime(timezone=True), nullable=False, index=True),
            Column("secured", Text, nullable=False),
        )

    def keep(self, trust_list: TrustList, secured: str, *, accepted_at: datetime) -> bool:
        """Keep an accepted list unless it is kept already (by digest, by any process);
        whether this call kept it. The first acceptance's moment stays."""
        if trust_list.digest is None:
            raise ValueError("a trust list is kept by its digest: load it from its secured form")
        row = {
            "digest": trust_list.digest,
            "list_id": trust_list.id,
            "sequence": trust_list.sequence,
            "valid_from": _utc_or_none(trust_list.valid_from),
            "valid_until": _utc_or_none(trust_list.valid_until),
            "next_update": _utc_or_none(trust_list.next_update),
            "accepted_at": as_utc(accepted_at),
            "secured": secured,
        }
        with self.engine.begin() as connection:
            return insert_ignore(connection, self.table, row)

    def in_force(self, at: datetime, *, grace: timedelta) -> KeptTrustList | None:
        """The list in force at ``at`` (module docstring), None when there was none."""
        t, at = self.table, as_utc(at)
        # the list held at ``at`` (the last accepted by then), then whether it decided then:
        # filtering first would bring back a list it had replaced, once it no longer decided.
        # Of lists accepted at one moment, a numbered one is the later (no list without a
        # number replaces one with it): NULLs last, said so — SQLite sorts them last in a
        # descending order, PostgreSQL first
        held = (
            select(t.c.digest)
            .where(t.c.accepted_at <= at)
            .order_by(t.c.accepted_at.desc(), t.c.sequence.desc().nulls_last())
            .limit(1)
            .scalar_subquery()
        )
        query = self._select().where(
            t.c.digest == held,
            or_(t.c.valid_from.is_(None), t.c.valid_from <= at),
            or_(t.c.valid_until.is_(None), t.c.valid_until > at),  # ceased at validUntil
            # nextUpdate + grace >= at, without date arithmetic in SQL
            or_(t.c.next_update.is_(None), t.c.next_update >= at - grace),
        )
        return self._first(query)

    def newest(self) -> KeptTrustList | None:
        """The list of the highest sequence number kept (the latest accepted among equals)
        or, when none states one (a foreign agency's lists), the one that took effect last:
        what a feed started afresh must not be rolled back below."""
        t = self.table
        sequenced = (
            self._select()
            .where(t.c.sequence.is_not(None))
            .order_by(t.c.sequence.desc(), t.c.accepted_at.desc())
            .limit(1)
        )
        unsequenced = (
            self._select()
            .where(t.c.valid_from.is_not(None))
            .order_by(t.c.valid_from.desc(), t.c.accepted_at.desc())
            .limit(1)
        )
        return self._first(sequenced) or self._first(unsequenced)

    def _select(self) -> Select[Any]:
        t = self.table
        return select(
            t.c.digest, t.c.list_id, t.c.sequence, t.c.valid_from, t.c.accepted_at, t.c.secured
        )

    def _first(self, query: Select[Any]) -> KeptTrustList | None:
        with self.engine.connect() as connection:
            row = connection.execute(query).first()
        if row is None:
            return None
        return KeptTrustList(
            digest=row.digest,
            list_id=row.list_id,
            sequence=row.sequence,
            valid_from=_utc_or_none(row.valid_from),
            accepted_at=as_utc(row.accepted_at),
            secured=row.secured,
        )

    def count(self) -> int:
        with self.engine.connect() as connection:
            return len(connection.execute(select(self.table.c.digest)).all())


def _utc_or_none(moment: datetime | None) -> datetime | None:
    return None if moment is None else as_utc(moment)
