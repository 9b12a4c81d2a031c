"""Our context documents define exactly what the published ones define.

Each published context in ``../shared/contexts`` and ours are processed (pyld) and every term
definition is compared — IRI, type coercion, container, ``@protected``, prefix flag — and,
recursively, the contexts that scoped contexts produce.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from pyld import jsonld as pyld_jsonld
from pyld.context_resolver import ContextResolver

from tests.conftest import CONTEXTS, require_shared
from vcred.jsonld import BUNDLED_CONTEXTS, ContextLoader, context_digest

PUBLISHED_DIR = require_shared(CONTEXTS)  # the published W3C contexts; skip without them
CONTEXTS_DIR = Path(__file__).parents[1] / "vcred" / "contexts"

# Remote contexts the published documents import that ../shared does not hold:
# security v2 (as copied) imports security v1 under this URL; examples v1 imports ODRL,
# which ours deliberately leaves out (see vcred/contexts/README.md).
_PUBLISHED_ALIASES = {"https://www.w3.org/2018/credentials/security/v1": "security-v1.jsonld"}
_EMPTY = {"https://www.w3.org/ns/odrl.jsonld": {"@context": {}}}


def published_table() -> dict[str, str]:
    """URL → file, from the README of ../shared/contexts."""
    table = {}
    for line in (PUBLISHED_DIR / "README.md").read_text().splitlines():
        cells = [cell.strip() for cell in line.split("|")]
        if len(cells) > 3 and cells[1].startswith("https://"):
            table[cells[1]] = cells[2]
    return table


@cache
def published_loader() -> ContextLoader:
    """A loader over the published files (and nothing of ours)."""
    documents: dict[str, Any] = {
        url: json.loads((PUBLISHED_DIR / name).read_text())
        for url, name in {**published_table(), **_PUBLISHED_ALIASES}.items()
    }
    documents.update(_EMPTY)
    return ContextLoader(
        {url: (doc, context_digest(doc)) for url, doc in documents.items()}, bundled=False
    )


def _options(loader: ContextLoader) -> dict[str, Any]:
    return {
        "documentLoader": loader,
        "contextResolver": ContextResolver({}, loader),
        "base": None,
        "processingMode": "json-ld-1.1",
    }


_PROCESSOR = pyld_jsonld.JsonLdProcessor()


def _local_terms(local: Any) -> set[str] | None:
    """Terms a scoped context defines itself (None: all of them, e.g. a context URL)."""
    if local is None:
        return set()
    if isinstance(local, dict):
        return {key for key in local if not key.startswith("@")}
    if isinstance(local, list):
        names: set[str] = set()
        for item in local:
            more = _local_terms(item)
            if more is None:
                return None
            names |= more
        return names
    return None


def _semantics(
    active: dict[str, Any], loader: ContextLoader, only: set[str] | None = None, depth: int = 0
) -> dict[str, Any]:
    result: dict[str, Any] = {
        key: active[key] for key in ("@vocab", "@base", "@language") if key in active
    }
    result["term names"] = sorted(active["mappings"])
    terms: dict[str, Any] = {}
    for term, definition in active["mappings"].items():
        if only is not None and term not in only:
            continue  # unchanged from the enclosing context, compared there
        if definition is None:
            terms[term] = None
            continue
        entry = {
            key: sorted(value) if key == "@container" else value
            for key, value in definition.items()
            if key != "@context"
        }
        if "@context" in definition and depth < 8:
            local = definition["@context"]
            scoped = _PROCESSOR._process_context(
                active, local, _options(loader), override_protected=True
            )
            entry["@context"] = _semantics(scoped, loader, _local_terms(local), depth + 1)
        terms[term] = entry
    result["terms"] = terms
    return result


def semantics(url: str, loader: ContextLoader) -> dict[str, Any]:
    """Every term definition the context at ``url`` makes, scoped contexts included."""
    options = _options(loader)
    initial = _PROCESSOR._get_initial_context(options)
    return _semantics(_PROCESSOR._process_context(initial, url, options), loader)


def test_every_published_context_is_bundled() -> None:
    assert set(published_table()) <= set(BUNDLED_CONTEXTS)


@pytest.mark.parametrize("url", sorted(published_table()))
def test_context_defines_the_same_terms_as_published(url: str) -> None:
    assert semantics(url, ContextLoader()) == semantics(url, published_loader())


def test_comparison_detects_a_changed_datatype() -> None:
    """Negative control: the comparison is not vacuous."""
    url = "https://www.w3.org/ns/credentials/status/v1"
    document = ContextLoader().load(url)
    entry = document["@context"]["BitstringStatusListEntry"]["@context"]
    entry["statusSize"]["@type"] = "http://www.w3.org/2001/XMLSchema#integer"  # http, not https
    mutant = ContextLoader({url: (document, context_digest(document))})
    assert semantics(url, mutant) != semantics(url, published_loader())


def test_did_v1_is_cid_v1_without_key_types() -> None:
    """DID Core's context: CID v1 minus the Multikey and JsonWebKey type definitions."""

    def without_key_types(value: Any) -> Any:
        if isinstance(value, dict):
            return {
                k: without_key_types(v)
                for k, v in value.items()
                if k not in ("Multikey", "JsonWebKey")
            }
        if isinstance(value, list):
            return [item for item in value if item not in ("Multikey", "JsonWebKey")]
        return value

    cid = semantics("https://www.w3.org/ns/cid/v1", published_loader())
    did = semantics("https://www.w3.org/ns/did/v1", ContextLoader())
    assert did == without_key_types(cid)
    assert did != cid


@pytest.mark.parametrize("url", sorted(BUNDLED_CONTEXTS))
def test_bundled_file_ships_and_parses(url: str) -> None:
    assert (CONTEXTS_DIR / BUNDLED_CONTEXTS[url]).is_file()
    assert "@context" in ContextLoader().load(url)


def test_contexts_carry_a_notice() -> None:
    notice = (CONTEXTS_DIR / "README.md").read_text()
    assert "W3C Document License" in notice
    for name in BUNDLED_CONTEXTS.values():
        assert name in notice
