"""Fixtures for the Data Integrity tests.

TEMPORARY: until vcred.rdfc / vcred.jsonld land (branch jsonld), RDFC-1.0 goes through a thin
adapter over pyld whose document loader reads only ../shared/contexts (the published W3C
context documents). It lives here, in the tests, and goes away with the merge.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from functools import cache
from typing import Any

import pytest
from pyld import jsonld
from pyld.canon import URDNA2015

from tests.conftest import CONTEXTS
from vcred.errors import ContextError, MalformedError
from vcred.integrity import suites


@cache
def _shared_contexts() -> dict[str, Any]:
    table: dict[str, Any] = {}
    for line in (CONTEXTS / "README.md").read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 2 and cells[0].startswith("https://"):
            table[cells[0]] = json.loads((CONTEXTS / cells[1]).read_text())
    return table


def _loader(url: str, options: Any = None) -> dict[str, Any]:
    document = _shared_contexts().get(url)
    if document is None:
        raise jsonld.JsonLdError(
            f"unknown context {url}", "jsonld.LoadDocumentError", code="loading document failed"
        )
    return {"contextUrl": None, "documentUrl": url, "document": document}


class _Rdfc(URDNA2015):  # type: ignore[misc]
    def __init__(self, hash_name: str) -> None:
        super().__init__()
        self._hash_name = hash_name

    def create_hash(self) -> Any:
        return hashlib.new(self._hash_name)


def pyld_canonicalize(document: Mapping[str, Any], hash_name: str) -> str:
    try:
        dataset = jsonld.to_rdf(
            dict(document), {"documentLoader": _loader, "produceGeneralizedRdf": False}
        )
    except jsonld.JsonLdError as exc:
        cause: BaseException | None = exc
        while cause is not None:
            if "unknown context" in str(cause):
                raise ContextError(str(cause)) from exc
            cause = cause.__cause__ or getattr(cause, "cause", None)
        raise MalformedError(f"JSON-LD: {exc}") from exc
    return str(_Rdfc(hash_name).main(dataset, {"format": "application/n-quads"}))


@pytest.fixture(autouse=True)
def rdf_canonicalizer() -> Iterator[None]:
    previous = suites._rdf_canonicalizer
    suites._rdf_canonicalizer = pyld_canonicalize
    yield
    suites._rdf_canonicalizer = previous
