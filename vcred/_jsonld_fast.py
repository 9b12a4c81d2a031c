"""Direct JSON-LD → RDF for the shapes credentials use, over cached processed contexts.

This walks the compacted document once and emits quads, following the Expansion algorithm
(https://www.w3.org/TR/json-ld11-api/#expansion-algorithm) and Deserialize JSON-LD to RDF
(https://www.w3.org/TR/json-ld11-api/#deserialize-json-ld-to-rdf-algorithm) without building
the expanded document or the node map. Context processing itself is pyld's, cached per
loader and per scoped context, so a second document with the same ``@context`` processes
nothing again.

Covered: node objects, ``@id``/``@type`` (and aliases), property- and type-scoped contexts
(with non-propagation of type-scoped ones), type coercion to ``@id``, ``@vocab``, ``@json``
and datatype IRIs, ``@set`` and ``@graph`` containers, value objects (``@direction`` as
``rdfDirection: "i18n-datatype"``), native literals.
Anything else (``@list``, ``@reverse``, ``@nest``, index/language/id/type maps, default
language, ``@propagate``, ``@graph`` and ``@included`` keys, nested arrays …) raises
:class:`Unsupported`, and ``vcred.jsonld`` takes the general pyld path. Both apply the same
safe-mode rules; ``tests/test_jsonld.py`` checks that both give the same dataset.

The context processing calls pyld's private ``JsonLdProcessor`` methods (``_expand_iri``,
``_process_context``, ``_get_initial_context``): pyproject.toml pins pyld to the major version
this was tested against, and ``tests/test_packaging.py`` checks the installed one fits.
"""

from __future__ import annotations

import json
import math
import re
import sys
from collections.abc import Collection, Iterable, Mapping
from itertools import repeat
from typing import Any, Final, Protocol

import rfc8785
from pyld import jsonld as _pyld

from vcred._nquads import XSD_STRING, Quad, escape_iri, escape_literal, literal
from vcred._pointer import from_path
from vcred.errors import ContextError, MalformedError, VcredError
from vcred.model import JSON_LEAVES

XSD: Final = "http://www.w3.org/2001/XMLSchema#"
XSD_BOOLEAN: Final = XSD + "boolean"
XSD_INTEGER: Final = XSD + "integer"
XSD_DOUBLE: Final = XSD + "double"
RDF_JSON: Final = "http://www.w3.org/1999/02/22-rdf-syntax-ns#JSON"
RDF_TYPE: Final = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
#: JSON-LD 1.1 ``rdfDirection: "i18n-datatype"``: a literal with a base direction gets the
#: datatype ``https://www.w3.org/ns/i18n#<language>_<direction>``.
I18N: Final = "https://www.w3.org/ns/i18n#"
#: RFC 5646's well-formed shape (ASCII letters and digits, hyphen-separated subtags of 1 to 8):
#: a language that goes into an IRI must not carry anything else.
_LANGUAGE_TAG: Final = re.compile(r"[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*")

_ABSOLUTE_IRI: Final = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:[^\s]*")
_SUPPORTED_CONTAINERS: Final = frozenset({"@set", "@graph"})
_VALUE_KEYS: Final = frozenset({"@value", "@type", "@language", "@direction", "@index"})
_MEMO_LIMIT: Final = 4096
_PROCESSOR: Final = _pyld.JsonLdProcessor()
_MISSING: Final = object()
#: a node object in which :func:`check_read_by_terms` has nothing to look at (see
#: :meth:`_Terms.plain_names`)
_NOTHING_READ: Final = object()


class Unsupported(Exception):  # noqa: N818 - a signal to fall back, not an error
    """The document uses JSON-LD this path does not cover; use the general path."""


class LoaderLike(Protocol):
    processed: Any

    def pyld_options(self) -> dict[str, Any]: ...

    def cache_processed(self, key: Any, value: Any) -> None: ...


def is_absolute_iri(value: str) -> bool:
    """JSON-LD's test for an absolute IRI: a scheme, a colon, no whitespace."""
    return _ABSOLUTE_IRI.fullmatch(value) is not None


def from_pyld_error(exc: BaseException) -> VcredError:
    """Our error for a pyld failure: the VcredError it wraps, else by JSON-LD error code."""
    seen: BaseException | None = exc
    code: str | None = None
    while seen is not None:
        if isinstance(seen, VcredError):
            return seen
        code = code or getattr(seen, "code", None)
        seen = seen.__cause__ or seen.__context__
    if code == "protected term redefinition":
        return ContextError("redefinition of a @protected term")
    if code is not None and any(
        word in code for word in ("context", "term definition", "IRI mapping")
    ):
        return ContextError(f"invalid JSON-LD context: {code}")
    return MalformedError(f"invalid JSON-LD: {code or exc}")


def direction_datatype(language: Any, direction: Any, *, pointer: str | None = None) -> str:
    """The datatype of a literal with a base direction, ``rdfDirection: "i18n-datatype"``.

    https://www.w3.org/TR/json-ld11-api/#object-to-rdf-conversion (step 13), as Digital
    Bazaar's jsonld.js does for the Data Integrity rdfc suites: the language lowercased, or
    empty when there is none (the other mode, ``compound-literal``, which jsonld.js does not
    implement either, is not used). Raises ContextError for a direction other than ``ltr`` /
    ``rtl`` or a language that is not a well-formed tag (it would not make an IRI).
    """
    if direction not in ("ltr", "rtl"):
        raise ContextError(
            f"@direction must be ltr or rtl, not {str(direction)[:20]!r}", pointer=pointer
        )
    if language is None:
        return f"{I18N}_{direction}"
    if not isinstance(language, str) or _LANGUAGE_TAG.fullmatch(language) is None:
        raise ContextError(
            f"@language {str(language)[:40]!r} is not a well-formed language tag", pointer=pointer
        )
    return f"{I18N}{language.lower()}_{direction}"


class _TermDef:
    """What this path needs from one term definition (JSON-LD 1.1 §4.2)."""

    __slots__ = ("container", "scoped", "type")

    def __init__(self, mapping: Mapping[str, Any]) -> None:
        if (
            mapping.get("reverse")
            or "@language" in mapping
            or "@direction" in mapping
            or "@nest" in mapping
            or "@index" in mapping
        ):
            raise Unsupported("term definition feature")
        container = frozenset(mapping.get("@container") or ())
        if not container <= _SUPPORTED_CONTAINERS:
            raise Unsupported("container")
        self.container = container
        self.type: str | None = mapping.get("@type")
        self.scoped: Any = mapping.get("@context", _MISSING)


class Context:
    """A processed (pyld) active context with memoized lookups and child contexts."""

    __slots__ = (
        "_children",
        "_iris",
        "_keys",
        "_members",
        "_read_terms",
        "_resources",
        "_reverts",
        "_shapes",
        "_terms",
        "_type_keys",
        "loader",
        "previous",
        "raw",
    )

    def __init__(self, raw: dict[str, Any], loader: LoaderLike, previous: Context | None) -> None:
        if raw.get("@language") is not None or raw.get("@direction") is not None:
            raise Unsupported("default language or direction")
        self.raw = raw
        self.loader = loader
        self.previous = previous
        self._keys: dict[str, str | None] = {}
        self._iris: dict[str, str | None] = {}
        self._terms: dict[str, _TermDef | None] = {}
        self._children: dict[Any, tuple[Any, Context]] = {}
        self._members: dict[str, _Member] = {}
        #: (vocab, value) → its IRI term (``<…>``), for ``@id`` / ``@type`` / coerced values
        self._resources: dict[tuple[bool, str], str] = {}
        #: a node object's member names → whether a type-scoped context reverts for it
        self._reverts: dict[tuple[str, ...], bool] = {}
        #: a node object's member names → those standing for ``@type`` here, sorted
        self._type_keys: dict[tuple[str, ...], tuple[str, ...]] = {}
        #: a node object's member names → what they are here (:meth:`shape`)
        self._shapes: dict[tuple[str, ...], _Shape | None] = {}
        self._read_terms: _Terms | None = None

    def vocab_iri(self, key: str) -> str | None:
        """IRI expansion with ``vocab = true`` (keys, ``@type`` values, ``@vocab`` coercion)."""
        try:
            return self._keys[key]
        except KeyError:
            pass
        expanded = _PROCESSOR._expand_iri(self.raw, key, vocab=True, base=None)
        if len(self._keys) > _MEMO_LIMIT:
            self._keys.clear()
        self._keys[key] = expanded
        return expanded  # type: ignore[no-any-return]

    def document_iri(self, value: str) -> str | None:
        """IRI expansion relative to the document (no base: relative stays relative)."""
        try:
            return self._iris[value]
        except KeyError:
            pass
        expanded = _PROCESSOR._expand_iri(self.raw, value, vocab=False, base=None)
        if len(self._iris) > _MEMO_LIMIT:
            self._iris.clear()
        self._iris[value] = expanded
        return expanded  # type: ignore[no-any-return]

    def member(self, key: str) -> _Member:
        """What the member name ``key`` means here (memoized)."""
        try:
            return self._members[key]
        except KeyError:
            pass
        member = _Member(self, key)
        if len(self._members) > _MEMO_LIMIT:
            self._members.clear()
        self._members[key] = member
        return member

    def reverts(self, names: tuple[str, ...]) -> bool:
        """Whether a type-scoped context gives way to the previous one in a node object with
        these member names (Expansion step 7: not in a value object or an ``@id``-only map)."""
        revert = self._reverts.get(names)
        if revert is None:
            keys = [self.member(key).expanded for key in names if key != "@context"]
            revert = "@value" not in keys and keys != ["@id"]
            if len(self._reverts) > _MEMO_LIMIT:
                self._reverts.clear()
            self._reverts[names] = revert
        return revert

    def type_keys(self, names: tuple[str, ...]) -> tuple[str, ...]:
        """The member names, of ``names``, that stand for ``@type`` here, sorted."""
        found = self._type_keys.get(names)
        if found is None:
            found = tuple(
                sorted(key for key in names if key != "@context" and self.member(key).kind == _TYPE)
            )
            if len(self._type_keys) > _MEMO_LIMIT:
                self._type_keys.clear()
            self._type_keys[names] = found
        return found

    def shape(self, names: tuple[str, ...], type_ctx: Context) -> _Shape | None:
        """What a node object with these member names holds here (Expansion steps 13.2-13.4,
        read once for all node objects of this shape), or None when a member is anything but
        a property, one ``@id`` or an ``@type`` (:meth:`_Walker.map` then reads each).

        ``type_ctx`` is the context from before the type-scoped ones, where each ``@type``
        member must stand for ``@type`` too."""
        shape: _Shape | None = None
        properties: list[_Member] = []
        id_key: str | None = None
        for key in names:
            if key == "@context":
                continue
            member = self.member(key)
            kind = member.kind
            if kind == _PROPERTY:
                properties.append(member)
            elif kind == _ID and id_key is None:
                id_key = key
            elif kind != _TYPE or type_ctx.member(key).kind != _TYPE:
                break
        else:
            shape = _Shape(tuple(properties), id_key, type_ctx)
        if len(self._shapes) > _MEMO_LIMIT:
            self._shapes.clear()
        self._shapes[names] = shape
        return shape

    def read_terms(self) -> _Terms:
        """What this context defines, for :func:`check_read_by_terms` of a document whose
        top-level context it is (made once)."""
        terms = self._read_terms
        if terms is None:
            terms = self._read_terms = _Terms(self.raw, self.loader.pyld_options())
        return terms

    def term(self, key: str) -> _TermDef | None:
        try:
            return self._terms[key]
        except KeyError:
            pass
        mapping = self.raw["mappings"].get(key)
        definition = _TermDef(mapping) if mapping else None
        self._terms[key] = definition
        return definition

    def child(self, local: Any, *, key: Any, override_protected: bool, propagate: bool) -> Context:
        """The active context after processing ``local`` (cached under ``key``)."""
        memo_key = (key, override_protected, propagate)
        cached = self._children.get(memo_key)
        if cached is not None:
            return cached[1]
        if isinstance(local, Mapping) and "@propagate" in local:
            raise Unsupported("@propagate")
        raw = _process(
            self.raw,
            local,
            self.loader.pyld_options(),
            override_protected=override_protected,
            propagate=propagate,
        )
        previous = self.previous
        if not propagate and previous is None:
            previous = self
        context = Context(raw, self.loader, previous)
        if len(self._children) > 64:
            self._children.clear()
        # keep ``local`` alive with the entry: scoped contexts are keyed by identity
        self._children[memo_key] = (local, context)
        return context

    def scoped(self, definition: _TermDef, *, propagate: bool = True) -> Context:
        return self.child(
            definition.scoped,
            key=id(definition.scoped),
            override_protected=True,
            propagate=propagate,
        )


def root_context(loader: LoaderLike) -> Context:
    """The initial context of a loader (its children cache every context processed from it)."""
    root = loader.processed.get("root")
    if root is None:
        options = loader.pyld_options()
        root = Context(_PROCESSOR._get_initial_context(options), loader, None)
        loader.cache_processed("root", root)
    return root  # type: ignore[no-any-return]


def _context_key(local: Any) -> Any:
    if isinstance(local, str):
        return ("url", local)
    if isinstance(local, list) and all(map(isinstance, local, repeat(str))):
        return ("urls", *local)
    return ("json", json.dumps(local, sort_keys=True, separators=(",", ":")))


_LARGEST_DOUBLE: Final = int(sys.float_info.max)


def _double(value: float) -> str:
    return re.sub(r"(\d)0*E\+?(-)?0*(\d)", r"\1E\2\3", f"{value:1.15E}")


def json_literal(value: Any, pointer: str) -> str:
    """A JSON literal (JSON-LD 1.1 §4.2.2): canonical JSON (RFC 8785) as an rdf:JSON literal.

    Raises MalformedError for what JCS cannot represent (integers past 2^53, non-finite).
    """
    try:
        return literal(rfc8785.dumps(value).decode("utf-8"), RDF_JSON)
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
        raise MalformedError(f"not a JSON literal JCS can write: {exc}", pointer=pointer) from exc


def native_literal(value: bool | int | float, datatype: str | None, pointer: str) -> str:
    """A JSON boolean or number as an RDF literal (JSON-LD 1.1 API §8.6 step 10)."""
    if isinstance(value, bool):
        return literal("true" if value else "false", datatype or XSD_BOOLEAN)
    if isinstance(value, float) and not math.isfinite(value):
        raise MalformedError("numbers must be finite", pointer=pointer)
    if isinstance(value, int) and abs(value) > _LARGEST_DOUBLE:  # no xsd:double holds it
        raise MalformedError("numbers must fit in a double", pointer=pointer)
    if (
        (isinstance(value, float) and not value.is_integer())
        or abs(value) >= 1e21
        or datatype == XSD_DOUBLE
    ):
        return literal(_double(float(value)), datatype or XSD_DOUBLE)
    return literal(str(int(value)), datatype or XSD_INTEGER)


# What a member name expands to (Expansion algorithm step 13.2-13.4), see _Member.kind.
_UNDEFINED: Final = 0
_ID: Final = 1
_TYPE: Final = 2
_VALUE: Final = 3
_KEYWORD: Final = 4
_BLANK: Final = 5
_PROPERTY: Final = 6

#: A JSON Pointer not yet written: ``(parent, token)`` links from the root ``()``, rendered by
#: :func:`_pointer` only when an error or a literal that can fail needs it.
_Path = tuple[Any, ...]


def _pointer(path: _Path) -> str:
    tokens: list[str | int] = []
    while path:
        path, token = path
        tokens.append(token)
    return from_path(reversed(tokens))


def _string_literal(value: str, suffix: str) -> str:
    """``literal(value, datatype)`` for the ``suffix`` of that datatype (``""`` for xsd:string),
    without the escaping pass when no character needs an escape (the usual case)."""
    if '"' in value or "\\" in value or not value.isprintable():  # printable: no control char
        return '"' + escape_literal(value) + '"' + suffix
    return '"' + value + '"' + suffix


def _datatype_suffix(datatype: str) -> str:
    return "" if datatype == XSD_STRING else "^^<" + escape_iri(datatype) + ">"


class _Scalar:
    """How a property's string, boolean and number values become RDF under one context."""

    __slots__ = ("coercion", "ctx", "suffix")

    def __init__(self, ctx: Context, key: str, definition: _TermDef | None) -> None:
        if definition is not None and definition.scoped is not _MISSING:
            ctx = ctx.scoped(definition)
            definition = ctx.term(key)
        self.ctx = ctx
        coercion = definition.type if definition is not None else None
        self.coercion = coercion
        plain = coercion is None or coercion in ("@none", "@id", "@vocab")
        self.suffix = "" if coercion is None or plain else _datatype_suffix(coercion)


class _Member:
    """What one member name of a node object means under one active context (memoized per
    context): the expanded IRI, what kind of entry it makes, the predicate term of a property;
    its term definition and scalar conversion are looked up on first use."""

    __slots__ = ("definition", "expanded", "key", "kind", "literal", "predicate", "scalar")

    def __init__(self, ctx: Context, key: str) -> None:
        expanded = ctx.vocab_iri(key)
        self.key = key
        self.expanded = expanded or ""  # None (no IRI) is _UNDEFINED
        self.predicate = ""
        self.definition: Any = _MISSING
        self.scalar: _Scalar | None = None
        #: the datatype suffix of the literal a string value makes, once :meth:`_Walker.values`
        #: has found that one does (no ``@json``, ``@graph``, ``@id`` / ``@vocab`` coercion)
        self.literal: str | None = None
        if expanded is None or not (expanded.startswith("@") or is_absolute_iri(expanded)):
            self.kind = _UNDEFINED
        elif expanded == "@id":
            self.kind = _ID
        elif expanded == "@type":
            self.kind = _TYPE
        elif expanded in _VALUE_KEYS:
            self.kind = _VALUE
        elif expanded.startswith("@"):
            self.kind = _KEYWORD
        elif expanded.startswith("_:"):
            self.kind = _BLANK
        else:
            self.kind = _PROPERTY
            self.predicate = "<" + escape_iri(expanded) + ">"


class _Shape:
    """The members of a node object that are properties (in document order), the one that
    is ``@id`` if any, and the context its ``@type`` members were read in (see
    :meth:`Context.shape`)."""

    __slots__ = ("id_key", "keys", "properties", "type_ctx")

    def __init__(
        self, properties: tuple[_Member, ...], id_key: str | None, type_ctx: Context
    ) -> None:
        self.properties = properties
        self.keys = tuple(member.key for member in properties)
        self.id_key = id_key
        self.type_ctx = type_ctx


class _Walker:
    """One document's conversion: the quads and the blank node labels issued so far.

    With ``watch`` (:class:`_TermsWatch`), the walk also tells whether the document passes
    :func:`check_read_by_terms` (``watch`` is dropped at the first node it cannot vouch for).
    """

    __slots__ = ("blank", "counter", "quads", "watch")

    def __init__(self, watch: _TermsWatch | None = None) -> None:
        self.quads: list[Quad] = []
        self.blank: dict[str, str] = {}
        self.counter = 0
        self.watch = watch

    def new_blank(self) -> str:
        self.counter += 1
        return f"_:b{self.counter - 1}"

    def resource(self, expanded: str | None, original: Any, path: _Path) -> str:
        """An IRI or blank node term for an expanded ``@id`` / ``@type`` / coerced value."""
        if expanded is None or expanded.startswith("@"):
            raise ContextError(f"{original!r} does not expand to an IRI", pointer=_pointer(path))
        if expanded.startswith("_:"):
            label = self.blank.get(expanded)
            if label is None:
                label = self.blank[expanded] = self.new_blank()
            return label
        if not is_absolute_iri(expanded):
            raise ContextError(
                f"relative IRI reference {original!r} would be dropped (safe mode)",
                pointer=_pointer(path),
            )
        return "<" + escape_iri(expanded) + ">"

    def iri(self, ctx: Context, value: str, path: _Path, *, vocab: bool) -> str:
        """:meth:`resource` of ``value`` expanded in ``ctx``; IRI terms are memoized there
        (blank node labels belong to this document)."""
        memo = ctx._resources
        term = memo.get((vocab, value))
        if term is not None:
            return term
        expanded = ctx.vocab_iri(value) if vocab else ctx.document_iri(value)
        term = self.resource(expanded, value, path)
        if term[0] == "<":
            if len(memo) > _MEMO_LIMIT:
                memo.clear()
            memo[(vocab, value)] = term
        return term

    # Expansion algorithm steps 7-13 for a map, then node map + RDF in one go.
    def map(
        self,
        element: Mapping[str, Any],
        ctx: Context,
        prop: _TermDef | None,
        graph: str,
        path: _Path,
    ) -> str:
        names = tuple(element)
        if ctx.previous is not None and ctx.reverts(names):
            ctx = ctx.previous
        if prop is not None and prop.scoped is not _MISSING:
            ctx = ctx.scoped(prop)
        local = element.get("@context", _MISSING)
        if local is not _MISSING:
            ctx = ctx.child(
                local, key=_context_key(local), override_protected=False, propagate=True
            )
        watch = self.watch
        if watch is not None:
            if not path:  # the document: the terms are its top-level context's
                watch.read(ctx.read_terms())
            if watch.plain.get(names) is not _NOTHING_READ and not watch.passes(
                element, names, path
            ):
                watch = self.watch = None

        # Step 11: type-scoped contexts, from the types in lexicographical order; the type
        # values themselves expand with the context from before (``type_ctx``).
        type_ctx = ctx
        types: list[tuple[str, _Path]] = []
        type_keys = type_ctx._type_keys.get(names)
        if type_keys is None:
            type_keys = type_ctx.type_keys(names)
        if type_keys:
            for key in type_keys:
                value = element[key]
                where = (path, key)
                if isinstance(value, list):
                    for index, item in enumerate(value):
                        if not isinstance(item, str):
                            raise MalformedError(
                                "@type values must be strings", pointer=_pointer(where)
                            )
                        types.append((item, (where, index)))
                elif isinstance(value, str):
                    types.append((value, where))
                else:
                    raise MalformedError("@type values must be strings", pointer=_pointer(where))
            for item in sorted({item for item, _ in types}):
                definition = type_ctx.term(item)
                if definition is not None and definition.scoped is not _MISSING:
                    ctx = ctx.scoped(definition, propagate=False)

        id_value: Any = _MISSING
        value_entries: dict[str, Any] = {}
        try:
            shape = ctx._shapes[names]
        except KeyError:
            shape = ctx.shape(names, type_ctx)
        properties: Iterable[tuple[_Member, Any]]
        if shape is not None and shape.type_ctx is type_ctx:
            properties = zip(shape.properties, map(element.__getitem__, shape.keys), strict=True)
            if shape.id_key is not None:
                id_value = element[shape.id_key]
                if not isinstance(id_value, str):
                    raise Unsupported("@id form")
        else:
            properties = self.members(element, ctx, type_ctx, path, value_entries)
            id_value = value_entries.pop("@id", _MISSING)

        if value_entries and watch is not None and not _leaves(value_entries.values()):
            self.watch = None  # the terms walk would look into them; this one does not
        if "@value" in value_entries:  # only from members(), with properties a list
            if properties or id_value is not _MISSING or len(types) > 1:
                raise Unsupported("invalid value object")
            return self.value_object(value_entries, types, type_ctx, _pointer(path))
        if value_entries:
            raise Unsupported("@index/@language outside a value object")

        if id_value is _MISSING:
            subject = self.new_blank()
        else:
            subject = self.iri(ctx, id_value, (path, "id"), vocab=False)
        quads = self.quads
        for item, where in types:
            quads.append((subject, RDF_TYPE, self.iri(type_ctx, item, where, vocab=True), graph))
        for member, value in properties:
            suffix = member.literal
            if suffix is not None and type(value) is str:
                # the common member: one string, a plain or typed literal (see _Member.literal;
                # _string_literal, without a call)
                if '"' in value or "\\" in value or not value.isprintable():
                    value = escape_literal(value)
                quads.append((subject, member.predicate, '"' + value + '"' + suffix, graph))
            else:
                self.values(subject, member, value, ctx, graph, (path, member.key))
        return subject

    def members(
        self,
        element: Mapping[str, Any],
        ctx: Context,
        type_ctx: Context,
        path: _Path,
        value_entries: dict[str, Any],
    ) -> list[tuple[_Member, Any]]:
        """Expansion steps 13.2-13.4 member by member: the properties with their values; the
        ``@id`` and value object keywords go into ``value_entries``. Raises ContextError for
        an undefined term or one expanding to a blank node, Unsupported for other forms."""
        properties: list[tuple[_Member, Any]] = []
        members = ctx._members
        for key, value in element.items():
            if key == "@context":
                continue
            member = members.get(key) or ctx.member(key)
            kind = member.kind
            if kind == _PROPERTY:
                properties.append((member, value))
            elif kind == _UNDEFINED:
                raise ContextError(
                    f"term {key!r} is not defined by the @context (safe mode: no data is dropped)",
                    pointer=_pointer((path, key)),
                )
            elif kind == _ID:
                if "@id" in value_entries or not isinstance(value, str):
                    raise Unsupported("@id form")
                value_entries["@id"] = value
            elif kind == _TYPE:
                if type_ctx.member(key).kind != _TYPE:
                    raise Unsupported("@type alias from a type-scoped context")
            elif kind == _VALUE:
                if member.expanded in value_entries:
                    raise Unsupported("repeated keyword")
                value_entries[member.expanded] = value
            elif kind == _KEYWORD:
                raise Unsupported(member.expanded)
            else:
                raise ContextError(
                    f"term {key!r} expands to a blank node", pointer=_pointer((path, key))
                )
        return properties

    def value_object(
        self,
        entries: Mapping[str, Any],
        types: list[tuple[str, _Path]],
        ctx: Context,
        pointer: str,
    ) -> str:
        value = entries["@value"]
        datatype: str | None = None
        if types:
            raw_type = types[0][0]
            datatype = ctx.vocab_iri(raw_type)
            if datatype is None or not (datatype == "@json" or is_absolute_iri(datatype)):
                raise ContextError(f"datatype {raw_type!r} is not an absolute IRI", pointer=pointer)
        if datatype == "@json":
            return json_literal(value, pointer)
        language = entries.get("@language")
        if value is None:
            raise ContextError(
                "a value object with a null @value is dropped (safe mode)", pointer=pointer
            )
        if "@direction" in entries:
            if datatype is not None or not isinstance(value, str):
                raise Unsupported("value object with @direction form")
            return literal(
                value, direction_datatype(language, entries["@direction"], pointer=pointer)
            )
        if language is not None:
            if datatype is not None or not isinstance(language, str) or not isinstance(value, str):
                raise Unsupported("language-tagged value form")
            return literal(
                value, "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString", language.lower()
            )
        if isinstance(value, str):
            return literal(value, datatype) if datatype else literal(value)
        if isinstance(value, bool | int | float):
            return native_literal(value, datatype, pointer)
        raise Unsupported("@value form")

    def values(
        self,
        subject: str,
        member: _Member,
        value: Any,
        ctx: Context,
        graph: str,
        path: _Path,
    ) -> None:
        definition = member.definition
        if definition is _MISSING:
            definition = member.definition = ctx.term(member.key)
        predicate = member.predicate
        if definition is not None and definition.type == "@json":
            if type(value) not in JSON_LEAVES:
                self.watch = None  # the terms walk looks into a JSON literal; this one does not
            self.quads.append((subject, predicate, json_literal(value, _pointer(path)), graph))
            return
        is_graph = definition is not None and "@graph" in definition.container
        listed = isinstance(value, list)
        for index, item in enumerate(value if listed else (value,)):
            if item is None:
                continue
            where = (path, index) if listed else path
            if isinstance(item, str) and not is_graph:
                scalar = member.scalar or self.scalar(member, ctx, definition)
                if scalar.coercion == "@id":
                    obj = self.iri(scalar.ctx, item, where, vocab=False)
                elif scalar.coercion == "@vocab":
                    obj = self.iri(scalar.ctx, item, where, vocab=True)
                else:
                    obj = _string_literal(item, scalar.suffix)
            elif isinstance(item, list):
                raise Unsupported("nested array")
            elif type(item) is dict or isinstance(item, Mapping):
                if is_graph:
                    name = self.new_blank()
                    self.quads.append((subject, predicate, name, graph))
                    self.map(item, ctx, definition, name, where)
                    continue
                obj = self.map(item, ctx, definition, graph, where)
            elif is_graph:
                raise Unsupported("scalar in a @graph container")
            elif isinstance(item, bool | int | float):
                scalar = member.scalar or self.scalar(member, ctx, definition)
                coercion = scalar.coercion
                datatype = coercion if coercion not in (None, "@id", "@vocab", "@none") else None
                obj = native_literal(item, datatype, _pointer(where))
            else:
                self.scalar(member, ctx, definition)
                raise MalformedError("not a JSON value", pointer=_pointer(where))
            self.quads.append((subject, predicate, obj, graph))

    def scalar(self, member: _Member, ctx: Context, definition: _TermDef | None) -> _Scalar:
        scalar = member.scalar = _Scalar(ctx, member.key, definition)
        plain = definition is None or (
            definition.type != "@json" and "@graph" not in definition.container
        )
        if plain and scalar.coercion not in ("@id", "@vocab"):
            member.literal = scalar.suffix
        return scalar


def to_quads(document: Mapping[str, Any], loader: LoaderLike) -> list[Quad]:
    """The dataset of ``document`` (a JSON object), or Unsupported.

    Raises ContextError for what safe mode refuses and MalformedError for invalid JSON-LD.
    """
    return _walk(document, loader, None).quads


def to_quads_read_by_terms(
    document: Mapping[str, Any], loader: LoaderLike
) -> tuple[list[Quad], bool]:
    """:func:`to_quads`, and whether :func:`check_read_by_terms` passes for ``document``
    (no opaque members), told by the same walk: True only when no node object it visited
    has what that check looks at (a name with a colon, a flagged name, a ``@type`` value with
    a colon, the document's own id) and the walk saw every object that check reads; False
    when it cannot tell (run the check).

    Raises as :func:`to_quads` does.
    """
    walker = _walk(document, loader, _TermsWatch(document))
    return walker.quads, walker.watch is not None


def _walk(document: Mapping[str, Any], loader: LoaderLike, watch: _TermsWatch | None) -> _Walker:
    walker = _Walker(watch)
    walker.map(document, root_context(loader), None, "", ())
    if not walker.quads:
        raise ContextError("the document expands to nothing (safe mode: no data is dropped)")
    return walker


# -- what a verifier reading members by their terms would miss ------------------------------

#: Keywords that move data without changing its RDF: what they wrap (``@set``, ``@nest``) or
#: state from another node (``@included``, ``@reverse``) is where no check reading the JSON
#: by its terms looks.
_RESHAPING: Final = frozenset({"@set", "@nest", "@included", "@reverse"})
#: The names VCDM 2.0 and Data Integrity give the IRIs another known context also names
#: (security v1's ``expiration`` for ``expires``, Ed25519Signature2020's ``signature`` for
#: ``proofValue``): the verifier reads these, so another term for their IRI is refused.
READ_NAMES: Final = frozenset({"expires", "proofValue"})


#: Keywords a context may give a term for (VCDM's ``id``, ``type``): the verifier reads the
#: term, so the keyword written itself in a node object is refused where a term stands for it.
_ALIASED: Final = frozenset({"@id", "@type"})


class _Terms:
    """What the contexts of one document define, at any depth of their scoped contexts: the
    IRIs of their terms, the names standing for ``@type`` or a reshaping keyword, the IRIs of
    their prefixes, and the names that are another term for an IRI the verifier reads under
    one of :data:`READ_NAMES` (``aliases``)."""

    __slots__ = (
        "aliases",
        "flagged",
        "iris",
        "keywords",
        "names_by_iri",
        "plain",
        "prefixes",
        "reshaping",
        "type_names",
        "types",
    )

    def __init__(self, raw: Mapping[str, Any], options: Mapping[str, Any]) -> None:
        self.iris: set[str] = set()
        self.reshaping: set[str] = set(_RESHAPING)
        self.types: set[str] = {"@type"}
        self.prefixes: dict[str, set[str]] = {}
        self.names_by_iri: dict[str, set[str]] = {}
        #: keyword → the terms standing for it (:data:`_ALIASED`)
        self.keywords: dict[str, set[str]] = {}
        pending, seen = [raw], set()
        while pending:
            active = pending.pop()
            for name, mapping in active["mappings"].items():
                iri = mapping.get("@id") if mapping else None
                if iri in _ALIASED:
                    self.keywords.setdefault(iri, set()).add(name)
                if iri == "@type":
                    self.types.add(name)
                elif iri in _RESHAPING:
                    self.reshaping.add(name)
                elif iri and is_absolute_iri(iri):
                    self.iris.add(iri)
                    self.names_by_iri.setdefault(iri, set()).add(name)
                    if mapping.get("_prefix"):
                        self.prefixes.setdefault(name, set()).add(iri)
                scoped = mapping.get("@context") if mapping else None
                if scoped is not None and id(scoped) not in seen:
                    seen.add(id(scoped))
                    pending.append(_process(active, scoped, options, override_protected=True))
        self.aliases: set[str] = {
            name
            for same in self.names_by_iri.values()
            if not same.isdisjoint(READ_NAMES)
            for name in same - READ_NAMES
        }
        #: the member names that send a node object to :func:`_check_names`
        self.flagged: frozenset[str] = frozenset(self.reshaping | self.aliases | set(self.keywords))
        self.type_names: frozenset[str] = frozenset(self.types)
        #: member names → :meth:`plain_names` (memoized)
        self.plain: dict[tuple[str, ...], Any] = {}

    def plain_names(self, names: tuple[str, ...]) -> Any:
        """What :func:`check_read_by_terms` looks at in a node object with these member names
        (memoized): None when the node whatever its values (a name with a colon, or a flagged
        one); :data:`_NOTHING_READ` when nothing; else the names standing for ``@type`` in
        some context, whose values it looks at, and ``id`` / ``@id`` if there."""
        looks: Any
        if ":" in "".join(names) or not self.flagged.isdisjoint(names):
            looks = None
        else:
            typed = tuple(name for name in names if name in self.type_names)
            ids = tuple(name for name in names if name in ("id", "@id"))
            looks = (typed, ids) if typed or ids else _NOTHING_READ
        if len(self.plain) > _MEMO_LIMIT:
            self.plain.clear()
        self.plain[names] = looks
        return looks

    def names_a_term(self, top: Mapping[str, Any], name: str) -> bool:
        """Whether ``name`` (with a colon) is the IRI of a term: expanded with the top-level
        context, or as a compact IRI with a prefix any scoped context defines (VCDM 1.1's
        ``cred:`` and ``xsd:`` are defined only in the VerifiableCredential type's context,
        where they are in effect for the credential's own members)."""
        if _expand(top, name) in self.iris:
            return True
        prefix, _, suffix = name.partition(":")
        return any(base + suffix in self.iris for base in self.prefixes.get(prefix, ()))


def _process(
    raw: Mapping[str, Any],
    local: Any,
    options: Mapping[str, Any],
    *,
    override_protected: bool,
    propagate: bool = True,
) -> dict[str, Any]:
    """The active context ``raw`` after processing ``local`` (pyld), or a VcredError."""
    try:
        processed: dict[str, Any] = _PROCESSOR._process_context(
            raw, local, options, override_protected=override_protected, propagate=propagate
        )
    except Unsupported:
        raise
    except Exception as exc:  # pyld raises JsonLdError and plain exceptions alike
        raise from_pyld_error(exc) from exc
    return processed


def check_read_by_terms(
    document: Mapping[str, Any], loader: LoaderLike, opaque: frozenset[str] = frozenset()
) -> None:
    """Refuse a document whose JSON states signed data where a verifier reading its members
    by their terms would not see it.

    The rdfc suites sign the RDF dataset, not the JSON: the same dataset can be written with
    ``https://www.w3.org/2018/credentials#validUntil`` instead of ``validUntil``, inside
    ``@set``/``@nest``, from another node (``@included``, ``@reverse``) or in a second node
    object with the credential's ``id`` — the signature still verifies, and a check reading
    ``validUntil`` would find none. So a member name or ``@type`` value that is a compact or
    absolute IRI of a term the document's contexts define (scoped ones included), another term
    for the IRI of one the verifier reads (security v1's ``expiration`` for a proof's
    ``expires``: :data:`READ_NAMES`), a reshaping keyword, ``@id`` / ``@type`` written where
    a term stands for it (VCDM's ``id``, ``type``; a value object's ``@type`` aside), or a
    nested node object describing the document's own ``id`` is a ContextError
    with its pointer. Compact IRIs are expanded with the top-level context and with the
    prefixes of every scoped context (:meth:`_Terms.names_a_term`). ``opaque`` members of
    the top level are left to their own verification.
    """
    top, terms = _read_terms(document, loader)
    own_id = document.get("id", document.get("@id"))
    type_names = terms.type_names
    flagged = terms.flagged
    # The walk keeps no pointers: only a node that is refused is looked for again, with them.
    stack: list[Any] = [document]
    while stack:
        node = stack.pop()
        if type(node) is list:
            for item in node:
                if type(item) not in JSON_LEAVES:
                    stack.append(item)
            continue
        if type(node) is not dict and not isinstance(node, Mapping):
            continue
        # the common node has nothing to look at: a scan of its names and a set test, in C
        # (then, with a type, its type names: terms, not IRIs)
        if ":" in "".join(node) or not node.keys().isdisjoint(flagged):
            _check_node(node, document, top, terms, opaque)
        elif not node.keys().isdisjoint(type_names):
            for name in type_names:
                types = node.get(name)
                if types is not None and _iri_like(types):
                    _check_node(node, document, top, terms, opaque)
        # a context's term definitions are no data (its @id and @type define terms)
        if node is document:
            for name, value in node.items():
                if type(value) not in JSON_LEAVES and name not in opaque and name != "@context":
                    stack.append(value)
            continue
        if (
            own_id is not None
            and len(node) > 1
            and (node.get("id") == own_id or node.get("@id") == own_id)
        ):
            raise ContextError(
                "a second node object describes the document's own id: its members "
                "belong in the document, where a verifier reads them",
                pointer=_pointer(_path_to(document, node, opaque)),
            )
        for name, value in node.items():
            if type(value) not in JSON_LEAVES and name != "@context":
                stack.append(value)


def _read_terms(
    document: Mapping[str, Any], loader: LoaderLike
) -> tuple[Mapping[str, Any], _Terms]:
    """The top-level active context of ``document`` and what its contexts define (cached)."""
    local = document.get("@context")
    key = ("terms", _context_key(local))
    cached: tuple[Mapping[str, Any], _Terms] | None = loader.processed.get(key)
    if cached is None:
        options = loader.pyld_options()
        top: Mapping[str, Any] = root_context(loader).raw
        if local is not None:
            top = _process(top, local, options, override_protected=False)
        cached = (top, _Terms(top, options))
        loader.cache_processed(key, cached)
    return cached


class _TermsWatch:
    """What :func:`check_read_by_terms` would look at, told node by node by the expansion
    walk (:class:`_Walker`), which hands it the document's terms (:meth:`read`) first:
    :meth:`passes` is False for a node whose names or ``@type`` values would send it to
    :func:`_check_node`, or that describes the document's own id."""

    __slots__ = ("own_id", "plain", "terms")

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.own_id = document.get("id", document.get("@id"))
        self.plain: dict[tuple[str, ...], Any] = {}

    def read(self, terms: _Terms) -> None:
        self.terms = terms
        self.plain = terms.plain

    def passes(self, node: Mapping[str, Any], names: tuple[str, ...], path: _Path) -> bool:
        """Whether the check finds nothing to refuse in ``node`` (with member ``names``),
        which is the document itself when ``path`` is empty."""
        looks = self.plain.get(names, _MISSING)
        if looks is _MISSING:
            looks = self.terms.plain_names(names)
        if looks is _NOTHING_READ:
            return True
        if looks is None:
            return False
        typed, ids = looks
        for name in typed:
            if _iri_like(node[name]):
                return False
        own_id = self.own_id
        if path and own_id is not None and len(node) > 1:
            for name in ids:
                if node[name] == own_id:
                    return False
        return True


def _leaves(values: Iterable[Any]) -> bool:
    """Whether every value is a JSON leaf (no object or array for a walk to look into)."""
    return all(type(value) in JSON_LEAVES for value in values)


def _check_node(
    node: Mapping[str, Any],
    document: Mapping[str, Any],
    top: Mapping[str, Any],
    terms: _Terms,
    opaque: Collection[str],
) -> None:
    """:func:`_check_names` for a node the walk of :func:`check_read_by_terms` reached."""
    skip = opaque if node is document else ()
    _check_names(node, _path_to(document, node, opaque), top, terms, skip=skip)


def _path_to(document: Mapping[str, Any], target: Any, opaque: Collection[str]) -> _Path:
    """The path of ``target`` (by identity) in ``document``, walked as
    :func:`check_read_by_terms` walks it (``opaque`` members of the top level and every
    ``@context`` left out)."""
    stack: list[tuple[Any, _Path]] = [(document, ())]
    while stack:
        node, path = stack.pop()
        if node is target:
            return path
        if type(node) is list:
            items: Any = enumerate(node)
        elif isinstance(node, Mapping):
            items = node.items()
        else:
            continue
        for name, value in items:
            if type(value) in JSON_LEAVES or name == "@context":
                continue
            if node is not document or name not in opaque:
                stack.append((value, (path, name)))
    raise ValueError("the node is not in the document")  # the walk found it there


def _check_names(
    node: Mapping[str, Any],
    path: _Path,
    top: Mapping[str, Any],
    terms: _Terms,
    *,
    skip: Collection[str],
) -> None:
    """:func:`check_read_by_terms` for the members of one node object."""
    for name, value in node.items():
        if name == "@context" or name in skip:
            continue
        if name in terms.reshaping:
            raise ContextError(
                f"{name!r} moves data where a verifier reading the members by their "
                "terms does not look: not accepted in a secured document",
                pointer=_pointer((path, name)),
            )
        # a value object's @type is its datatype, which no check reads by a term
        if name in terms.keywords and not (name == "@type" and "@value" in node):
            raise ContextError(
                f"{name!r} is written where the document's contexts name it "
                f"{' or '.join(sorted(terms.keywords[name]))}, the term a verifier reads: "
                "write the term",
                pointer=_pointer((path, name)),
            )
        if name in terms.aliases:
            raise ContextError(
                f"the member {name!r} is another term for the IRI of one a verifier reads "
                f"({', '.join(sorted(READ_NAMES))}): write it as that term",
                pointer=_pointer((path, name)),
            )
        if ":" in name and terms.names_a_term(top, name):
            raise ContextError(
                f"the member {name!r} is the IRI of a term of the document's contexts: "
                "write it as the term (the same RDF, but a verifier reads the term)",
                pointer=_pointer((path, name)),
            )
        if name in terms.types:
            listed = isinstance(value, list)
            for index, item in enumerate(value if listed else (value,)):
                if isinstance(item, str) and ":" in item and terms.names_a_term(top, item):
                    raise ContextError(
                        f"the type {item!r} is the IRI of a term of the document's "
                        "contexts: write it as the term, which a verifier reads",
                        pointer=_pointer(((path, name), index) if listed else (path, name)),
                    )


def _iri_like(types: Any) -> bool:
    """Whether a ``@type`` value holds a name with a colon (an IRI or compact IRI)."""
    if type(types) is str:
        return ":" in types
    return isinstance(types, list) and any(type(item) is str and ":" in item for item in types)


def _expand(raw: Mapping[str, Any], name: str) -> str | None:
    expanded: str | None = _PROCESSOR._expand_iri(raw, name, vocab=True, base=None)
    return expanded
