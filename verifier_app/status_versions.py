"""The newest version of each status list this verifier accepted, shared by all its workers.

A status list served older than the newest version accepted is refused as a rollback
(:mod:`vcred.status.versions`). Each worker holds lists in a cache of its own; the floor is
kept here, in the verifier's database, so that a version one worker (or machine) accepted is
the floor for every other, and for the next start.
"""

from __future__ import annotations

import hashlib
from datetime import UTC

from sqlalchemy import Column, DateTime, Engine, MetaData, String, Table, Text, select, update
from sqlalchemy.exc import SQLAlchemyError

from vcred.errors import StatusUnavailableError
from vcred.status import ListVersion
from vcred_service.db import as_utc, insert_ignore


class StatusListVersions:
    """A :class:`vcred.status.ListVersions` in one verifier database (SQLite or PostgreSQL):
    one row per list URL, raised, never lowered, by a single conditional UPDATE (atomic
    under concurrent workers)."""

    def __init__(self, engine: Engine, metadata: MetaData, prefix: str) -> None:
        self.engine = engine
        self.table = Table(
            f"{prefix}status_list_versions",
            metadata,
            # the URL's SHA-256: a key of fixed length, whatever the URL's
            Column("key", String(64), primary_key=True),
            Column("url", Text, nullable=False),
            Column("valid_from", DateTime(timezone=True), nullable=False),
            Column("digest", String(64), nullable=False),
        )

    def advance(self, url: str, version: ListVersion) -> ListVersion | None:
        return self._newest(url, version)

    def newest(self, url: str) -> ListVersion | None:
        return self._newest(url, None)

    def _newest(self, url: str, version: ListVersion | None) -> ListVersion | None:
        """The newest version of ``url`` recorded, once ``version`` (if any) is."""
        t = self.table
        key = hashlib.sha256(url.encode()).hexdigest()
        try:
            with self.engine.begin() as connection:
                if version is not None and version.valid_from is not None:
                    valid_from = version.valid_from.astimezone(UTC)
                    row = {
                        "key": key,
                        "url": url,
                        "valid_from": valid_from,
                        "digest": version.digest,
                    }
                    if not insert_ignore(connection, t, row):
                        connection.execute(
                            update(t)
                            .where(t.c.key == key, t.c.valid_from < valid_from)
                            .values(valid_from=valid_from, digest=version.digest)
                        )
                newest = connection.execute(
                    select(t.c.valid_from, t.c.digest).where(t.c.key == key)
                ).first()
        except SQLAlchemyError as exc:
            raise StatusUnavailableError(
                f"the newest version of the status list {url} cannot be read from the "
                f"verifier's database ({type(exc).__name__}): no status answer rests on a "
                "list that could be a rollback"
            ) from exc
        if newest is None:
            return None
        return ListVersion(valid_from=as_utc(newest.valid_from), digest=newest.digest)
