"""The trust-list history's answers are the same on SQLite and PostgreSQL."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import MetaData

from tests.verifier.conftest import PG_URL
from vcred.trust import TrustList
from vcred_service.db import make_engine
from verifier_app.trust_history import TrustListHistory

ACCEPTED = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def history(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TrustListHistory]:
    url = PG_URL if request.param == "postgres" else f"sqlite:///{tmp_path / 'history.db'}"
    engine = make_engine(url)
    metadata = MetaData()
    kept = TrustListHistory(engine, metadata, f"t{secrets.token_hex(5)}_")
    metadata.create_all(engine)
    yield kept
    metadata.drop_all(engine)
    engine.dispose()


def kept_list(digest: str, sequence: int | None) -> TrustList:
    return TrustList(
        issuer="did:example:agency",
        authority="An agency",
        country="DE",
        programme="EU-AEO",
        entries=(),
        valid_from=ACCEPTED - timedelta(days=1),
        valid_until=ACCEPTED + timedelta(days=30),
        sequence=sequence,
        digest=digest,
    )


def test_a_list_without_a_number_and_one_with_accepted_at_one_moment_agree_on_both_backends(
    history: TrustListHistory,
) -> None:
    # Two lists kept at one moment (a coarse clock; two workers): an agency's unnumbered list,
    # then the numbered one that replaced it (a numbered list is never replaced by one without
    # a number, check_succession). "Newest first" put a NULL sequence last on SQLite and
    # first on PostgreSQL: as of that moment the two backends named different lists in force.
    history.keep(kept_list("sha256-unnumbered", None), "a", accepted_at=ACCEPTED)
    history.keep(kept_list("sha256-numbered", 4), "b", accepted_at=ACCEPTED)
    found = history.in_force(ACCEPTED + timedelta(hours=1), grace=timedelta(0))
    assert found is not None and found.digest == "sha256-numbered"
