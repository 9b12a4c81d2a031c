"""Shared fixtures for the customs tests."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import CONTEXTS as SHARED_CONTEXTS
from tests.conftest import ROOT, require_shared

OUR_CONTEXTS = {"https://vcred.dev/ns/customs/v1": ROOT / "schemas" / "customs-v1.jsonld"}


def _shared_context_files() -> dict[str, Path]:
    # ../shared/contexts/README.md maps each URL to its file in a markdown table.
    table: dict[str, Path] = {}
    for line in (require_shared(SHARED_CONTEXTS) / "README.md").read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 2 and cells[0].startswith("https://"):
            table[cells[0]] = SHARED_CONTEXTS / cells[1]
    return table


@pytest.fixture(scope="session")
def document_loader() -> Callable[[str, Any], dict[str, Any]]:
    """An offline pyld loader: the W3C contexts in ../shared plus our own; nothing else."""
    files = {**_shared_context_files(), **OUR_CONTEXTS}

    def load(url: str, options: Any = None) -> dict[str, Any]:
        path = files.get(url)
        if path is None:
            raise LookupError(f"context {url} is not available offline")
        return {
            "contextUrl": None,
            "documentUrl": url,
            "document": json.loads(path.read_text(encoding="utf-8")),
        }

    return load
