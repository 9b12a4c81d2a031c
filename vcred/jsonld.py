"""Offline JSON-LD: context loader, safe-mode expansion, RDF and canonical N-Quads.

JSON-LD 1.1 (https://www.w3.org/TR/json-ld11-api/) as the Data Integrity suites need it
(https://www.w3.org/TR/vc-data-integrity/#securing-data-losslessly):

- **Offline.** Context URLs resolve only to the documents bundled in ``vcred/contexts`` and
  to documents registered explicitly with the SHA-256 of their content
  (:func:`register_context`, :class:`ContextLoader`); any other URL raises
  :class:`~vcred.errors.ContextError`. Nothing is ever fetched.
- **Known contexts only.** :func:`signed_view` is what a verifier reads after a proof: every
  ``@context`` entry must be a known URL; inline context objects are refused unless the
  caller allows them, and then only if dropping them leaves the RDF dataset unchanged
  (w3c/vc-data-integrity#272: an inline context can re-map JSON members without changing
  what was signed).
- **Safe mode.** Data that expansion would silently drop is an error, never a smaller signed
  graph: a term that expands to no absolute IRI, a relative ``@type`` or ``@id``, a relative
  ``@base``, a null ``@value``, a document that expands to nothing. Redefining a
  ``@protected`` term is an error (JSON-LD 1.1 §4.1.11). ``@import`` is refused.
- **Base direction.** A value with ``@direction`` becomes RDF as JSON-LD 1.1's
  ``rdfDirection: "i18n-datatype"`` says (``"…"^^<https://www.w3.org/ns/i18n#ar_rtl>``), the
  option Digital Bazaar's rdfc cryptosuites canonicalize with; toRDF without it drops the
  direction.
- **Cached.** Processed contexts are kept per loader, so documents sharing a ``@context``
  list reuse them. A direct JSON → RDF path (``vcred._jsonld_fast``) covers what credentials
  use; anything else goes through pyld with the same safety checks.

Quads are tuples of N-Quads terms (see :mod:`vcred.rdfc`).
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
import threading
from collections import OrderedDict
from collections.abc import Mapping
from functools import lru_cache
from importlib import resources
from typing import Any, Final

import rfc8785
from pyld import jsonld as _pyld
from pyld.context_resolver import ContextResolver

from vcred import _jsonld_fast
from vcred._forksafe import renew_locks_in_children
from vcred._jsonld_fast import from_pyld_error, is_absolute_iri
from vcred._nquads import RDF_LANGSTRING, XSD_STRING, Quad, escape_iri, literal, serialize
from vcred._pointer import escape
from vcred.errors import ContextError, MalformedError, UsageError
from vcred.model import JSON_LEAVES
from vcred.rdfc import (
    DEFAULT_LIMITS,
    CanonicalDataset,
    Limits,
    canonical_nquads,
    canonicalize,
)

#: How a base direction becomes RDF (JSON-LD 1.1 API, JsonLdOptions.rdfDirection).
RDF_DIRECTION: Final = "i18n-datatype"

__all__ = [
    "BUNDLED_CONTEXTS",
    "OWN_CONTEXTS",
    "ContextContent",
    "ContextLoader",
    "canonical_dataset",
    "canonicalize_document",
    "context_digest",
    "default_loader",
    "expand",
    "register_bundled_context",
    "register_context",
    "signed_view",
    "to_nquads",
    "to_quads",
]

#: Context URL → file in ``vcred/contexts`` (see its README for the sources).
BUNDLED_CONTEXTS: Final[Mapping[str, str]] = {
    "https://www.w3.org/ns/credentials/v2": "credentials-v2.jsonld",
    "https://www.w3.org/2018/credentials/v1": "credentials-v1.jsonld",
    "https://www.w3.org/ns/credentials/examples/v2": "credentials-examples-v2.jsonld",
    "https://www.w3.org/2018/credentials/examples/v1": "credentials-examples-v1.jsonld",
    "https://www.w3.org/ns/credentials/undefined-terms/v2": "credentials-undefined-terms-v2.jsonld",
    "https://w3id.org/security/data-integrity/v1": "data-integrity-v1.jsonld",
    "https://w3id.org/security/data-integrity/v2": "data-integrity-v2.jsonld",
    "https://w3id.org/security/multikey/v1": "multikey-v1.jsonld",
    "https://w3id.org/security/jwk/v1": "jwk-v1.jsonld",
    "https://w3id.org/security/v1": "security-v1.jsonld",
    "https://w3id.org/security/v2": "security-v2.jsonld",
    "https://w3id.org/security/suites/ed25519-2020/v1": "ed25519-2020-v1.jsonld",
    "https://w3id.org/security/suites/ed25519-2018/v1": "ed25519-2018-v1.jsonld",
    "https://w3id.org/security/suites/jws-2020/v1": "jws-2020-v1.jsonld",
    "https://w3id.org/vc/status-list/2021/v1": "status-list-2021-v1.jsonld",
    "https://w3id.org/vc-revocation-list-2020/v1": "revocation-list-2020-v1.jsonld",
    "https://www.w3.org/ns/credentials/status/v1": "bitstring-status-list-v1.jsonld",
    "https://www.w3.org/ns/cid/v1": "cid-v1.jsonld",
    "https://www.w3.org/ns/did/v1": "did-v1.jsonld",
}

#: Contexts a domain ships in its own package (:func:`register_bundled_context`): URL →
#: (package, file name). The customs domain adds its vocabulary (``vcred.schemas``).
OWN_CONTEXTS: Final[dict[str, tuple[str, str]]] = {}

ContextContent = bytes | str | Mapping[str, Any]
"""A context document as registered: its bytes as published (a str is UTF-8), or parsed JSON."""

_PROCESSED_CACHE_SIZE: Final = 256
_SHA256_HEX: Final = re.compile(r"[0-9a-f]{64}")
_RESOLVED_CACHE_SIZE: Final = 512


class _BoundedCache(dict[str, Any]):
    """pyld's resolved-context cache, bounded: inline contexts come from untrusted documents."""

    def __setitem__(self, key: str, value: Any) -> None:
        if key not in self and len(self) >= _RESOLVED_CACHE_SIZE:
            del self[next(iter(self))]
        super().__setitem__(key, value)


def _read_bundled(package: str, filename: str) -> dict[str, Any]:
    text = resources.files(package).joinpath(filename).read_text(encoding="utf-8")
    document: dict[str, Any] = json.loads(text)
    return document


def context_digest(content: ContextContent) -> str:
    """The SHA-256 (lower-case hex) a context is registered with.

    Over the bytes as given (``sha256sum`` of the file; a str as UTF-8), or for a parsed
    document over its RFC 8785 (JCS) serialization. Raises ContextError for what JCS cannot hold.
    """
    if isinstance(content, str):
        content = content.encode("utf-8")
    if not isinstance(content, bytes):
        try:
            content = rfc8785.dumps(content)
        except (rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
            raise ContextError(f"a context document must be JSON: {exc}") from exc
    return hashlib.sha256(content).hexdigest()


def _pinned_document(url: str, content: ContextContent, sha256: str) -> dict[str, Any]:
    """The context ``content`` for ``url``, parsed, if it is what ``sha256`` pins.

    Raises ContextError for a digest that is not 64 hex digits, a mismatch, or content that is
    not a JSON-LD context document.
    """
    if not isinstance(sha256, str) or not _SHA256_HEX.fullmatch(sha256.lower()):
        raise ContextError(f"the SHA-256 pinned for {url} must be 64 hex digits")
    actual = context_digest(content)
    if actual != sha256.lower():
        raise ContextError(
            f"the context document for {url} does not match its pinned SHA-256 "
            f"(expected {sha256.lower()}, got {actual})"
        )
    if isinstance(content, Mapping):
        document: Any = copy.deepcopy(dict(content))
    else:
        try:
            document = json.loads(content)
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            raise ContextError(f"the context document for {url} is not JSON") from exc
    _check_context_document(url, document)
    return dict(document)


def _check_context_document(url: str, document: Mapping[str, Any]) -> None:
    if not isinstance(url, str) or not is_absolute_iri(url):
        raise ContextError(f"context URL must be an absolute IRI: {url!r}")
    if not isinstance(document, Mapping) or "@context" not in document:
        raise ContextError(f"context document for {url} has no @context")
    check_local_context(document["@context"], pointer="")


#: ``_ONLY_STR.issuperset(map(type, items))``: every item a str, told in C
_ONLY_STR: Final = frozenset({str})


def check_local_context(context: Any, *, pointer: str) -> None:
    """Refuse what safe mode forbids in a local context: a relative ``@base``, ``@import``.

    Walks scoped contexts inside term definitions too. Raises ContextError.
    https://www.w3.org/TR/json-ld11/#base-iri
    """
    if isinstance(context, list):
        if _ONLY_STR.issuperset(map(type, context)):  # URLs, the common case: nothing to see
            return
        for index, item in enumerate(context):
            check_local_context(item, pointer=f"{pointer}/{index}")
        return
    if not isinstance(context, Mapping):
        return
    if "@base" in context:
        base = context["@base"]
        if base is not None and not (isinstance(base, str) and is_absolute_iri(base)):
            raise ContextError(
                "relative @base: IRIs would resolve against nothing", pointer=f"{pointer}/@base"
            )
    if "@import" in context:
        raise ContextError("@import is not supported", pointer=f"{pointer}/@import")
    for term, definition in context.items():
        if isinstance(definition, Mapping) and "@context" in definition:
            check_local_context(
                definition["@context"], pointer=f"{pointer}/{escape(term)}/@context"
            )


class ContextLoader:
    """Offline JSON-LD document loader: bundled contexts plus explicitly registered ones.

    ``documents`` maps a URL to ``(content, sha256)`` (see :func:`context_digest`): a context
    is known by its URL *and* its content. Calling it as pyld does (``loader(url, options)``)
    returns a remote document; any URL it does not hold raises ContextError — there is no
    network fallback. Each loader keeps its own cache of processed contexts.
    https://www.w3.org/TR/json-ld11-api/#loaddocumentcallback
    """

    def __init__(
        self,
        documents: Mapping[str, tuple[ContextContent, str]] | None = None,
        *,
        bundled: bool = True,
    ) -> None:
        renew_locks_in_children(self)
        self._documents: dict[str, Mapping[str, Any]] = {}
        #: the bytes a context was registered with (None: registered as a parsed document)
        self._registered_bytes: dict[str, bytes | None] = {}
        self._bundled: dict[str, tuple[str, str]] = {}
        if bundled:
            self._bundled.update((u, ("vcred.contexts", f)) for u, f in BUNDLED_CONTEXTS.items())
            self._bundled.update(OWN_CONTEXTS)
        for url, (content, sha256) in (documents or {}).items():
            self._documents[url] = _pinned_document(url, content, sha256)
            self._registered_bytes[url] = _as_bytes(content)
        self._reset_caches()

    def _new_locks(self) -> None:
        # here and in every forked child (vcred._forksafe)
        self._lock = threading.Lock()

    def _reset_caches(self) -> None:
        self._resolver_cache: dict[str, Any] = _BoundedCache()
        self.processed: OrderedDict[Any, Any] = OrderedDict()

    def register(self, url: str, document: ContextContent, *, sha256: str) -> None:
        """Add (or replace) the context document served for ``url``, pinned by its SHA-256.

        Raises ContextError when ``document`` does not match ``sha256`` (see
        :func:`context_digest`), for a relative URL or a document without ``@context``.
        """
        pinned = _pinned_document(url, document, sha256)
        with self._lock:
            self._documents[url] = pinned
            self._registered_bytes[url] = _as_bytes(document)
            self._reset_caches()

    def bundle(self, url: str, package: str, filename: str) -> None:
        """Serve the context ``url`` from ``filename`` in ``package`` (installed code)."""
        with self._lock:
            self._bundled[url] = (package, filename)
            self._reset_caches()

    def urls(self) -> frozenset[str]:
        """Every context URL this loader resolves."""
        return frozenset(self._documents) | frozenset(self._bundled)

    def __contains__(self, url: object) -> bool:
        return url in self._documents or url in self._bundled

    def load(self, url: str) -> dict[str, Any]:
        """A fresh copy of the context document for ``url``.

        Raises ContextError for a URL that is neither bundled nor registered.
        """
        if url in self._documents:
            return copy.deepcopy(dict(self._documents[url]))
        location = self._bundled.get(url)
        if location is None:
            raise ContextError(f"unknown JSON-LD context {url} (vcred never fetches contexts)")
        with self._lock:
            if url not in self._documents:
                self._documents[url] = _read_bundled(*location)
        return copy.deepcopy(dict(self._documents[url]))

    def published_digest(self, url: str, hash_name: str) -> bytes | None:
        """The ``hash_name`` digest (sha256/384/512) of the context document ``url`` as
        published, for relatedResource checks (VCDM 2.0 §5.3); None when it is not known.

        A registered context: its bytes as registered (None if registered as a parsed
        document). Our own contexts: the files shipped. The W3C contexts, which are bundled as
        equivalent rewrites rather than byte copies: the digests of the published documents
        (``vcred/contexts/published-digests.json``).
        """
        if url in self._registered_bytes:
            content = self._registered_bytes[url]
            return None if content is None else hashlib.new(hash_name, content).digest()
        location = self._bundled.get(url)
        if location is None:
            return None
        if location[0] != "vcred.contexts":
            content = resources.files(location[0]).joinpath(location[1]).read_bytes()
            return hashlib.new(hash_name, content).digest()
        known = _published_digests().get(url, {}).get(hash_name)
        return None if known is None else bytes.fromhex(known)

    def __call__(self, url: str, options: Mapping[str, Any] | None = None) -> dict[str, Any]:
        return {"contextUrl": None, "documentUrl": url, "document": self.load(url)}

    def pyld_options(self) -> dict[str, Any]:
        """Options for pyld: this loader, its context cache, JSON-LD 1.1, and no base IRI."""
        return {
            "documentLoader": self,
            "contextResolver": ContextResolver(self._resolver_cache, self),
            # No base: relative IRIs stay relative (and safe mode refuses them) instead of
            # pyld resolving them against its made-up default base.
            "base": None,
            "processingMode": "json-ld-1.1",
        }

    def cache_processed(self, key: Any, value: Any) -> None:
        """Remember a processed context (least recently used entries go first)."""
        with self._lock:
            self.processed[key] = value
            self.processed.move_to_end(key)
            while len(self.processed) > _PROCESSED_CACHE_SIZE:
                self.processed.popitem(last=False)


def _as_bytes(content: ContextContent) -> bytes | None:
    if isinstance(content, str):
        return content.encode("utf-8")
    return content if isinstance(content, bytes) else None


@lru_cache(maxsize=1)
def _published_digests() -> dict[str, dict[str, str]]:
    text = resources.files("vcred.contexts").joinpath("published-digests.json").read_text("utf-8")
    digests: dict[str, dict[str, str]] = json.loads(text)["digests"]
    return digests


_DEFAULT_LOADER = ContextLoader()


def default_loader() -> ContextLoader:
    """The process-wide loader :func:`register_context` adds to."""
    return _DEFAULT_LOADER


def register_bundled_context(url: str, package: str, filename: str) -> None:
    """Make a context a domain ships in ``package`` (as ``filename``) known to every loader
    built with the bundled contexts from now on, and to the default one.

    The domain's own vocabulary, trusted as vcred's own contexts are (no SHA-256 pin: it is
    installed code). Raises UsageError for a URL already bundled as another file.
    """
    location = (package, filename)
    if OWN_CONTEXTS.get(url, location) != location or url in BUNDLED_CONTEXTS:
        raise UsageError(f"the context {url} is already bundled")
    OWN_CONTEXTS[url] = location
    _DEFAULT_LOADER.bundle(url, package, filename)


def register_context(url: str, document: ContextContent, *, sha256: str) -> None:
    """Serve ``document`` for the context ``url`` from the default loader, pinned by its SHA-256.

    Raises ContextError as :meth:`ContextLoader.register` does.
    """
    _DEFAULT_LOADER.register(url, document, sha256=sha256)


# -- errors -------------------------------------------------------------------------------


# -- the generic (pyld) path ----------------------------------------------------------------


def _find_key(document: Any, key: str, pointer: str = "") -> str | None:
    if isinstance(document, Mapping):
        for name, value in document.items():
            here = f"{pointer}/{escape(str(name))}"
            if name == key:
                return here
            if name != "@context":
                found = _find_key(value, key, here)
                if found is not None:
                    return found
    elif isinstance(document, list):
        for index, value in enumerate(document):
            found = _find_key(value, key, f"{pointer}/{index}")
            if found is not None:
                return found
    return None


def _is_resource(value: str) -> bool:
    return value.startswith("_:") or is_absolute_iri(value)


def _check_expanded(node: Any) -> None:
    """Safe mode over pyld's expanded output: nothing that toRDF would drop."""
    if isinstance(node, list):
        for item in node:
            _check_expanded(item)
        return
    if not isinstance(node, Mapping):
        return
    if "@value" in node:
        if "@direction" in node:  # becomes an i18n datatype: the language must make an IRI
            _jsonld_fast.direction_datatype(node.get("@language"), node["@direction"])
        datatype = node.get("@type")
        if isinstance(datatype, str) and datatype != "@json" and not is_absolute_iri(datatype):
            raise ContextError(f"relative datatype IRI {datatype!r}")
        return
    for key, value in node.items():
        if key == "@id":
            for iri in value if isinstance(value, list) else [value]:
                if isinstance(iri, str) and not _is_resource(iri):
                    raise ContextError(f"relative IRI reference {iri!r} would be dropped")
        elif key == "@type":
            for iri in value if isinstance(value, list) else [value]:
                if isinstance(iri, str) and not _is_resource(iri):
                    raise ContextError(f"type {iri!r} does not expand to an absolute IRI")
        elif not key.startswith("@") and (key.startswith("_:") or not is_absolute_iri(key)):
            raise ContextError(f"property {key!r} does not expand to an absolute IRI")
        else:
            _check_expanded(value)


def _json_ready(document: Any) -> Any:
    """Integral floats as ints, as every JSON parser in another language would read them."""
    if isinstance(document, float) and document.is_integer() and abs(document) < 1e21:
        return int(document)
    if isinstance(document, Mapping):
        return {key: _json_ready(value) for key, value in document.items()}
    if isinstance(document, list):
        return [_json_ready(value) for value in document]
    return document


def _expand_generic(document: Mapping[str, Any], loader: ContextLoader) -> list[Any]:
    dropped: list[str | None] = []
    processor = _pyld.JsonLdProcessor(on_property_dropped=dropped.append)
    try:
        expanded: list[Any] = processor.expand(_json_ready(document), loader.pyld_options())
    except Exception as exc:  # pyld raises JsonLdError and plain exceptions alike
        raise from_pyld_error(exc) from exc
    if dropped:
        key = str(dropped[0])
        raise ContextError(
            f"term {key!r} is not defined by the @context (safe mode: no data is dropped)",
            pointer=_find_key(document, key),
        )
    _check_expanded(expanded)
    if not expanded:
        raise ContextError("the document expands to nothing (safe mode: no data is dropped)")
    return expanded


def _term(component: Mapping[str, Any]) -> str:
    kind = component["type"]
    if kind == "IRI":
        return "<" + escape_iri(component["value"]) + ">"
    if kind == "blank node":
        return str(component["value"])
    datatype = component.get("datatype", XSD_STRING)
    if datatype == RDF_LANGSTRING:
        return literal(component["value"], RDF_LANGSTRING, component.get("language"))
    return literal(component["value"], datatype)


def _quads_generic(document: Mapping[str, Any], loader: ContextLoader) -> list[Quad]:
    expanded = _expand_generic(document, loader)
    try:
        dataset = _pyld.JsonLdProcessor().to_rdf(
            expanded, {**loader.pyld_options(), "rdfDirection": RDF_DIRECTION}
        )
    except Exception as exc:
        raise from_pyld_error(exc) from exc
    quads: list[Quad] = []
    for graph_name, triples in dataset.items():
        graph = (
            ""
            if graph_name == "@default"
            else (graph_name if graph_name.startswith("_:") else f"<{escape_iri(graph_name)}>")
        )
        for triple in triples:
            quads.append(
                (
                    _term(triple["subject"]),
                    _term(triple["predicate"]),
                    _term(triple["object"]),
                    graph,
                )
            )
    return quads


# -- public API ----------------------------------------------------------------------------


def _document(document: Any) -> Mapping[str, Any]:
    if not isinstance(document, Mapping):
        raise MalformedError("a JSON-LD document must be a JSON object")
    if "@context" in document:
        check_local_context(document["@context"], pointer="/@context")
    return document


def expand(document: Mapping[str, Any], *, loader: ContextLoader | None = None) -> list[Any]:
    """JSON-LD expansion in safe mode (JSON-LD 1.1 API §5.1).

    Raises ContextError for an unknown context URL, dropped data or a protected term
    redefinition, MalformedError for other invalid JSON-LD.
    https://www.w3.org/TR/json-ld11-api/#expansion-algorithm
    """
    return _expand_generic(_document(document), loader or _DEFAULT_LOADER)


def to_quads(document: Mapping[str, Any], *, loader: ContextLoader | None = None) -> list[Quad]:
    """The RDF dataset of a JSON-LD document (Deserialize JSON-LD to RDF), in safe mode.

    Blank node labels are ``_:b0``, ``_:b1`` …; quads are unsorted and may repeat.
    Raises as :func:`expand` does.
    https://www.w3.org/TR/json-ld11-api/#deserialize-json-ld-to-rdf-algorithm
    """
    document = _document(document)
    loader = loader or _DEFAULT_LOADER
    try:
        return _jsonld_fast.to_quads(document, loader)
    except _jsonld_fast.Unsupported:
        return _quads_generic(document, loader)


def to_nquads(document: Mapping[str, Any], *, loader: ContextLoader | None = None) -> str:
    """The document's RDF dataset as (sorted, not canonicalized) N-Quads."""
    return "".join(sorted({serialize(quad) for quad in to_quads(document, loader=loader)}))


def canonical_dataset(
    document: Mapping[str, Any],
    *,
    loader: ContextLoader | None = None,
    limits: Limits = DEFAULT_LIMITS,
    hash_algorithm: str = "sha256",
) -> CanonicalDataset:
    """Expand, convert to RDF and canonicalize with RDFC-1.0 (quads, lines, issued labels).

    ``hash_algorithm``: RDFC-1.0's hash; ecdsa-rdfc-2019 uses SHA-384 with P-384 keys.
    https://www.w3.org/TR/vc-di-eddsa/#transformation-eddsa-rdfc-2022
    """
    quads = to_quads(document, loader=loader)
    return canonicalize(quads, limits=limits, hash_algorithm=hash_algorithm)


def canonicalize_document(
    document: Mapping[str, Any],
    *,
    loader: ContextLoader | None = None,
    limits: Limits = DEFAULT_LIMITS,
    hash_algorithm: str = "sha256",
) -> str:
    """Canonical N-Quads (RDFC-1.0) of a JSON-LD document — what the rdfc suites hash.

    Raises ContextError / MalformedError as :func:`expand` and :func:`vcred.rdfc.canonicalize` do.
    https://www.w3.org/TR/vc-di-eddsa/#transformation-eddsa-rdfc-2022
    """
    quads = to_quads(document, loader=loader)
    return canonical_nquads(quads, limits=limits, hash_algorithm=hash_algorithm)


def canonicalize_read_by_terms(
    document: Mapping[str, Any],
    *,
    loader: ContextLoader | None = None,
    hash_algorithm: str = "sha256",
) -> tuple[str, bool]:
    """:func:`canonicalize_document`, and whether :func:`check_read_by_terms` passes for
    ``document``, told by the walk that expands it: True when that walk found nothing the
    check would look at; False when it cannot tell (the check must run, and may pass).

    Raises as :func:`canonicalize_document` does; never the check's own refusal.
    """
    document = _document(document)
    loader = loader or _DEFAULT_LOADER
    try:
        quads, passes = _jsonld_fast.to_quads_read_by_terms(document, loader)
    except _jsonld_fast.Unsupported:
        quads, passes = _quads_generic(document, loader), False
    return canonical_nquads(quads, hash_algorithm=hash_algorithm), passes


# -- what a verifier reads -------------------------------------------------------------------


def signed_view(
    document: Mapping[str, Any],
    *,
    loader: ContextLoader | None = None,
    allow_inline: bool = False,
    opaque: frozenset[str] = frozenset(),
    one_context: bool = False,
    rdf_signed: bool = False,
    read_by_terms: bool = False,
) -> dict[str, Any]:
    """The JSON a verifier may read once a proof over ``document`` verified.

    Every ``@context`` entry, at any depth, must be a URL ``loader`` knows; anything else
    (an inline context object, ``null``) is refused unless ``allow_inline``. Allowed, the
    view is ``document`` without those entries — accepted only when it has the same RDF
    dataset as ``document`` with them, so that under the known contexts alone its JSON says
    exactly what was signed (w3c/vc-data-integrity#272: an inline context can swap which
    member maps to which IRI, or alias a type, without changing the signature); failing that,
    the view is the signed dataset compacted against the known URLs alone, accepted only if it
    canonicalizes to the same dataset. Members named in ``opaque`` (a presentation's
    ``verifiableCredential``) are left to their own verification (and are never compacted).
    The view shares nested values with ``document`` when nothing is inline. ``one_context``:
    the caller knows that at most one object of ``document`` has an ``@context`` member (from
    the JSON text it parsed), so when the top level has one, no other is looked for.
    ``rdf_signed``: the proof signed the document's RDF dataset, which other JSON says too —
    the view must say all of it where a verifier reading members by their terms looks
    (:func:`check_read_by_terms`). ``read_by_terms``: the caller knows that ``document``
    itself passes that check (the proof stage's expansion told it, without ``opaque``
    members): a view that says what ``document`` says is not walked again. Raises
    ContextError with the pointer of the offending ``@context`` entry or member.
    """
    loader = loader or _DEFAULT_LOADER
    view, as_is = _known_view(document, loader, allow_inline, opaque, one_context)
    if rdf_signed and not (read_by_terms and as_is and not opaque):
        check_read_by_terms(view, loader=loader, opaque=opaque)
    return view


def check_read_by_terms(
    document: Mapping[str, Any],
    *,
    loader: ContextLoader | None = None,
    opaque: frozenset[str] = frozenset(),
) -> None:
    """Refuse (ContextError) a document whose JSON states part of its RDF dataset where a
    verifier reading members by their terms does not look: a term written as its IRI, a
    reshaping keyword, a keyword a term stands for (``@id`` for ``id``), its own id described
    twice (``_jsonld_fast.check_read_by_terms``)."""
    _jsonld_fast.check_read_by_terms(document, loader or _DEFAULT_LOADER, opaque)


def _known_view(
    document: Mapping[str, Any],
    loader: ContextLoader,
    allow_inline: bool,
    opaque: frozenset[str],
    one_context: bool,
) -> tuple[dict[str, Any], bool]:
    """:func:`signed_view` but the ``rdf_signed`` check, and whether the view is ``document``
    as it is (a shallow copy)."""
    if one_context and "@context" in document:
        if _known_entries(document["@context"], loader):
            return dict(document), True
    elif _only_known_contexts(document, loader, opaque):
        return dict(document), True
    inline = _check_context_entries(document, "", loader, allow_inline=allow_inline, opaque=opaque)
    if not inline:
        return dict(document), True
    signed = canonicalize_document(document, loader=loader)
    view: dict[str, Any] = _without_inline_contexts(document, opaque)
    if _canonical_or_none(view, loader) == signed:
        return view, False
    # the signed dataset itself, in JSON that reads it through the known contexts alone; the
    # opaque members (a presentation's credentials) are left as they came, never compacted
    view = _compact_to_known({k: v for k, v in document.items() if k not in opaque}, loader)
    if not opaque.intersection(view):
        view.update((name, copy.deepcopy(document[name])) for name in opaque if name in document)
        if _canonical_or_none(view, loader) == signed:
            return view, False
    raise ContextError(
        "the inline context changes what the JSON means: read through the known contexts "
        "alone, the document does not say what was signed",
        pointer=inline[0],
    )


def _canonical_or_none(document: Mapping[str, Any], loader: ContextLoader) -> str | None:
    try:
        return canonicalize_document(document, loader=loader)
    except ContextError:
        return None


def _compact_to_known(document: Mapping[str, Any], loader: ContextLoader) -> dict[str, Any]:
    """``document`` expanded with all its contexts, compacted with its known URLs alone.

    https://www.w3.org/TR/json-ld11-api/#compaction-algorithm
    """
    urls = [c for c in _as_list(document.get("@context")) if isinstance(c, str)]
    expanded = expand(document, loader=loader)
    try:
        compacted: dict[str, Any] = _pyld.compact(
            expanded, {"@context": urls}, loader.pyld_options()
        )
    except Exception as exc:  # pyld raises JsonLdError and plain exceptions alike
        raise from_pyld_error(exc) from exc
    compacted.pop("@context", None)
    return {"@context": urls, **compacted}


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [] if value is None else [value]


def _only_known_contexts(
    document: Mapping[str, Any], loader: ContextLoader, opaque: frozenset[str]
) -> bool:
    """Whether every ``@context`` entry at any depth (``opaque`` members of ``document``
    aside) is a URL ``loader`` knows: the common case, told without building a pointer per
    member. Otherwise :func:`_check_context_entries` walks again to refuse or to point."""
    stack: list[Any] = [document]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend([item for item in node if type(item) not in JSON_LEAVES])
            continue
        if not isinstance(node, dict | Mapping):
            continue
        for name, value in node.items():
            if name == "@context":
                if not _known_entries(value, loader):
                    return False
            elif type(value) not in JSON_LEAVES and (node is not document or name not in opaque):
                stack.append(value)
    return True


def _known_entries(context: Any, loader: ContextLoader) -> bool:
    """Whether an ``@context`` value is a URL ``loader`` knows, or a list of such URLs."""
    for entry in context if isinstance(context, list) else (context,):
        if not isinstance(entry, str) or entry not in loader:
            return False
    return True


def _check_context_entries(
    node: Any, pointer: str, loader: ContextLoader, *, allow_inline: bool, opaque: frozenset[str]
) -> list[str]:
    """Refuse unknown context URLs (and inline contexts unless allowed); return the pointers
    of the inline ones."""
    inline: list[str] = []
    if isinstance(node, list):
        for index, item in enumerate(node):
            inline += _check_context_entries(
                item, f"{pointer}/{index}", loader, allow_inline=allow_inline, opaque=opaque
            )
        return inline
    if not isinstance(node, Mapping):
        return inline
    if "@context" in node:
        context = node["@context"]
        entries = (
            [(f"{pointer}/@context/{i}", e) for i, e in enumerate(context)]
            if isinstance(context, list)
            else [(f"{pointer}/@context", context)]
        )
        for where, entry in entries:
            if isinstance(entry, str):
                if entry not in loader:
                    raise ContextError(
                        f"unknown JSON-LD context {entry[:200]} (register it with the SHA-256 "
                        "of its content to accept it; vcred never fetches contexts)",
                        pointer=where,
                    )
            elif not allow_inline:
                raise ContextError(
                    "an inline @context is refused: it can change what the JSON means without "
                    "changing what was signed (allow_inline_contexts to accept one)",
                    pointer=where,
                )
            else:
                inline.append(where)
    for name, value in node.items():
        if name != "@context" and name not in opaque:
            inline += _check_context_entries(
                value,
                f"{pointer}/{escape(str(name))}",
                loader,
                allow_inline=allow_inline,
                opaque=frozenset(),
            )
    return inline


def _without_inline_contexts(node: Any, opaque: frozenset[str]) -> Any:
    """A deep copy of ``node`` whose ``@context`` entries are URLs only."""
    if isinstance(node, list):
        return [_without_inline_contexts(item, frozenset()) for item in node]
    if not isinstance(node, Mapping):
        return copy.deepcopy(node)
    copied: dict[str, Any] = {}
    for name, value in node.items():
        if name == "@context":
            if isinstance(value, list):
                copied[name] = [entry for entry in value if isinstance(entry, str)]
            elif isinstance(value, str):
                copied[name] = value
        elif name in opaque:
            copied[name] = copy.deepcopy(value)
        else:
            copied[name] = _without_inline_contexts(value, frozenset())
    return copied
