"""The status list versions a verifier's workers share (verifier_app.status_versions), on
SQLite and PostgreSQL: raised, never lowered, also by workers racing."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import MetaData

from tests.verifier.conftest import NOW, created_storage
from vcred.errors import StatusUnavailableError
from vcred.status import ListVersion
from vcred_service.db import make_engine
from verifier_app.status_versions import StatusListVersions

LIST = "https://us-customs.example/status/1"


def test_the_newest_version_is_kept_per_url(url: str, prefix: str) -> None:
    with created_storage(url, prefix=prefix) as storage:
        versions = storage.status_versions
        assert versions.advance(LIST, ListVersion(valid_from=None, digest="u")) is None
        newer = ListVersion(valid_from=NOW, digest="b")
        assert versions.advance(LIST, newer) == newer
        older = ListVersion(valid_from=NOW - timedelta(days=1), digest="a")
        assert versions.advance(LIST, older) == newer
        assert versions.advance(LIST + "?timestamp=1", older) == older  # another URL
        # a second moment in another offset is the same instant, stored in UTC
        later = ListVersion(valid_from=NOW.astimezone() + timedelta(seconds=1), digest="c")
        assert versions.advance(LIST, later) == ListVersion(
            valid_from=NOW + timedelta(seconds=1), digest="c"
        )


def test_workers_racing_never_lower_the_newest(url: str, prefix: str) -> None:
    with created_storage(url, prefix=prefix) as storage:
        moments = [NOW + timedelta(minutes=(i * 7) % 40) for i in range(40)]
        errors: list[BaseException] = []

        def advance(index: int) -> None:
            try:
                storage.status_versions.advance(
                    LIST, ListVersion(valid_from=moments[index], digest=f"d{index}")
                )
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=advance, args=(i,)) for i in range(len(moments))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        newest = storage.status_versions.advance(LIST, ListVersion(valid_from=None, digest="x"))
        assert newest is not None and newest.valid_from == max(moments)
        assert newest.digest == f"d{moments.index(max(moments))}"


def test_a_database_that_cannot_be_read_says_the_status_is_unavailable(
    url: str, prefix: str
) -> None:
    # tables never created: no status answer rests on a floor that could not be read
    engine = make_engine(url)
    try:
        versions = StatusListVersions(engine, MetaData(), prefix)
        with pytest.raises(StatusUnavailableError, match="cannot be read"):
            versions.advance(LIST, ListVersion(valid_from=NOW, digest="a"))
    finally:
        engine.dispose()
