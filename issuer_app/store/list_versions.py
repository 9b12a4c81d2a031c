"""Every signed version of every status list, with the moment it came into force.

A status list is signed again whenever it changed (on a status change, and on demand when
fetched); each signed document is kept here under its ``validFrom``. A version is in force
from its ``validFrom`` until the next version's, so the version in force at a moment is the
latest one whose ``validFrom`` is not after it. Versions that went out of force more than the
retention period ago are deleted as new ones are kept (the latest is always kept).

``validFrom`` is kept to the microsecond (:func:`moment_key`, a fixed width, so that text
order is time order): a suspension lifted within the second it began is a version of its
own, in force for that fraction of a second, not one the reinstatement overwrote.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

from sqlalchemy import (
    Column,
    Connection,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    delete,
    func,
    select,
    update,
)

from vcred.model import parse_datetime
from vcred.status.listcred import format_datetime, format_moment
from vcred_service.db import insert_ignore as _insert_ignore

#: A key written before keys had their microseconds (``…T12:00:00Z``): its length.
SECONDS_KEY_LENGTH: Final = len("2026-01-01T00:00:00Z")


def moment_key(moment: datetime) -> str:
    """``moment`` in UTC as a fixed-width dateTimeStamp to the microsecond
    (``2026-01-01T00:00:00.500000Z``): as text, keys sort as the moments they name."""
    return f"{format_datetime(moment)[:-1]}.{moment.astimezone(UTC).microsecond:06d}Z"


def _shown(key: str) -> str:
    """A key as the document states its moment (:func:`format_moment`)."""
    return format_moment(parse_datetime(key, pointer="/validFrom", in_utc=True))


@dataclass(frozen=True, slots=True, kw_only=True)
class ListVersion:
    """One signed version: the document as served, and the interval it was in force."""

    version: int
    media_type: str
    document: str
    valid_from: str
    valid_until: str | None
    """When the next version replaced it (None: still in force)."""


class ListVersions:
    """The ``<prefix>status_list_versions`` table in ``metadata`` over ``engine``."""

    def __init__(self, engine: Engine, metadata: MetaData, prefix: str) -> None:
        self.engine = engine
        self.table = Table(
            f"{prefix}status_list_versions",
            metadata,
            Column("signer", String(32), primary_key=True),
            Column("list_id", String(64), primary_key=True),
            # the document's validFrom as a moment_key: sorts as it reads
            Column("valid_from", String(32), primary_key=True),
            Column("version", Integer, nullable=False),
            Column("format", String(64), nullable=False),
            Column("media_type", String(64), nullable=False),
            Column("document", Text, nullable=False),
        )

    def keep(self, conn: Connection, values: dict[str, object], *, retention: timedelta) -> None:
        """Keep a newly signed version (``values`` as the published-lists row, with
        ``signed_at`` its validFrom), inside the caller's transaction; prune what went out of
        force more than ``retention`` before it."""
        table = self.table
        signer, list_id = values["signer"], values["list_id"]
        signed = parse_datetime(values["signed_at"], pointer="/signed_at", in_utc=True)
        signed_at = moment_key(signed)
        where = (table.c.signer == signer, table.c.list_id == list_id)
        row = {
            "signer": signer,
            "list_id": list_id,
            "valid_from": signed_at,
            "version": values["version"],
            "format": values["format"],
            "media_type": values["media_type"],
            "document": values["document"],
        }
        if not _insert_ignore(conn, table, row):
            # signed twice at one moment, here or by another process: the later signing
            # (the higher version) is what was served after it; an insert that would race
            # another's waits for it, so neither is lost and no duplicate is an error
            conn.execute(
                update(table)
                .where(*where, table.c.valid_from == signed_at, table.c.version <= row["version"])
                .values(**row)
            )
        cutoff = moment_key(signed - retention)
        # a version went out of force when the next one came in: keep every version whose
        # successor came in after the cutoff (the one in force at the cutoff included)
        in_force_at_cutoff = (
            select(table.c.valid_from)
            .where(*where, table.c.valid_from <= cutoff)
            .order_by(table.c.valid_from.desc())
            .limit(1)
            .scalar_subquery()
        )
        conn.execute(delete(table).where(*where, table.c.valid_from < in_force_at_cutoff))

    def in_force(self, signer: str, list_id: str, moment: datetime) -> ListVersion | None:
        """The version in force at ``moment`` (None: none was published by then, or it has
        been pruned)."""
        table = self.table
        stamp = moment_key(moment)
        where = (table.c.signer == signer, table.c.list_id == list_id)
        with self.engine.connect() as conn:
            found = conn.execute(
                select(table)
                .where(*where, table.c.valid_from <= stamp)
                .order_by(table.c.valid_from.desc())
                .limit(1)
            ).first()
            if found is None:
                return None
            successor = conn.execute(
                select(table.c.valid_from)
                .where(*where, table.c.valid_from > found.valid_from)
                .order_by(table.c.valid_from)
                .limit(1)
            ).scalar_one_or_none()
        return ListVersion(
            version=found.version,
            media_type=found.media_type,
            document=found.document,
            valid_from=_shown(found.valid_from),
            valid_until=None if successor is None else _shown(successor),
        )

    def widen_keys(self, conn: Connection) -> int:
        """Schema 4 → 5: keys kept to the second (``…T12:00:00Z``) rewritten to the
        microsecond (``…T12:00:00.000000Z``), the moment they name unchanged; how many."""
        table = self.table
        old = table.c.valid_from
        done = conn.execute(
            update(table)
            .where(func.length(old) == SECONDS_KEY_LENGTH)
            .values(valid_from=func.substr(old, 1, SECONDS_KEY_LENGTH - 1) + ".000000Z")
        )
        return int(done.rowcount)
