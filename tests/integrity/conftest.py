"""Fixtures for the Data Integrity tests."""

from __future__ import annotations

import pytest

from tests.integrity.vectors import vector_loader
from vcred import jsonld


@pytest.fixture
def citizenship_context(monkeypatch: pytest.MonkeyPatch) -> None:
    """The default context loader, for this test, also serves the citizenship context (the
    employ vectors use it), as an application would with ``vcred.jsonld.register_context``."""
    monkeypatch.setattr(jsonld, "_DEFAULT_LOADER", vector_loader())
