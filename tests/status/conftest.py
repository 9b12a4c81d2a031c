"""Fixtures of the status tests: a securer, a fetcher and a checker over both."""

from __future__ import annotations

import pytest

from tests.status.support import DictFetcher, FakeSecurer
from vcred.status import (
    StatusChecker,
)


@pytest.fixture
def securer() -> FakeSecurer:
    return FakeSecurer()


@pytest.fixture
def fetcher() -> DictFetcher:
    return DictFetcher()


@pytest.fixture
def checker(securer: FakeSecurer, fetcher: DictFetcher) -> StatusChecker:
    return StatusChecker(fetcher=fetcher, verify_list=securer.verify)
