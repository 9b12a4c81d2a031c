"""Selective disclosure primitives: JSON Pointer selection, skolemization, HMAC relabelling.

Data Integrity ECDSA Cryptosuites v1.0 §3.4 "Selective Disclosure Functions"
(https://www.w3.org/TR/vc-di-ecdsa/#selective-disclosure-functions), one function per
algorithm. :mod:`vcred.integrity.ecdsa_sd` builds ecdsa-sd-2023 on them.

N-Quads are handled as quads (tuples of canonical terms, see :mod:`vcred.rdfc`) while they
carry blank node labels that still change, and as newline-terminated N-Quad strings once
canonical, as the specification and its test vectors show them.

Two places where the specification, read literally, cannot work and what we do instead:

- **RDF lists.** skolemizeExpandedJsonLd (§3.4.7) would give a ``@list`` object an ``@id``,
  which is not valid JSON-LD (JSON-LD 1.1 §9.3: a list object has only ``@list`` and
  ``@index``); Digital Bazaar's implementation fails on any document with a ``@list``
  container. We skolemize the nodes inside a list but not the list object, and name the list's
  own blank nodes (which Deserialize JSON-LD to RDF makes) by their place: the subject,
  predicate and graph that point at them. A selection then names each list node as the whole
  document does, whatever the order in which either was converted to RDF.
- **A selection the issuer did not sign.** Selecting only some elements of an RDF list gives a
  shorter list, i.e. statements that are not among the signed ones; a derived proof over
  them can never verify. :func:`check_selection_signed` refuses such a selection up front.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import re
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from pyld import jsonld as _pyld

from vcred import jsonld
from vcred._jsonld_fast import from_pyld_error
from vcred._nquads import Quad, serialize
from vcred._pointer import from_path, unescape
from vcred.errors import MalformedError
from vcred.jsonld import ContextLoader, default_loader
from vcred.multibase import b64url_encode
from vcred.rdfc import canonicalize

#: canonical identifier map (input label → ``c14nN``) → replacement map (input → new label)
LabelMapFactory = Callable[[Mapping[str, str]], dict[str, str]]
Path = str | int

_INDEX: Final = re.compile(r"0|[1-9][0-9]*")
_MAX_INDEX_DIGITS: Final = 18
_BAD_ESCAPE: Final = re.compile(r"~(?![01])")
_RDF_REST: Final = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#rest>"


# -- JSON Pointers ----------------------------------------------------------------------------


def json_pointer_to_paths(pointer: object) -> list[Path]:
    """jsonPointerToPaths (§3.4.10): a JSON Pointer (RFC 6901) as a list of paths.

    https://www.w3.org/TR/vc-di-ecdsa/#jsonpointertopaths — array indexes (``0`` or a digit
    string without a leading zero) become integers, other tokens stay strings, ``~1`` and
    ``~0`` are unescaped. ``""`` is the whole document. Raises MalformedError for anything that
    is not a JSON Pointer (no leading ``/``, a ``~`` not followed by ``0`` or ``1``).
    """
    if not isinstance(pointer, str):
        raise MalformedError(f"a JSON Pointer must be a string, not {type(pointer).__name__}")
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        raise MalformedError(f"{pointer[:100]!r} is not a JSON Pointer: it must start with '/'")
    paths: list[Path] = []
    for token in pointer.split("/")[1:]:
        if "~" not in token:
            # an index longer than any array can be matches nothing: kept as a name, never int()
            index = _INDEX.fullmatch(token) and len(token) <= _MAX_INDEX_DIGITS
            paths.append(int(token) if index else token)
            continue
        if _BAD_ESCAPE.search(token):
            raise MalformedError(
                f"{pointer[:100]!r} is not a JSON Pointer: '~' must be followed by 0 or 1"
            )
        paths.append(unescape(token))
    return paths


def check_pointers(pointers: object, *, what: str) -> tuple[str, ...]:
    """Check a list of JSON Pointers given to ecdsa-sd-2023 (mandatory or selective ones).

    Raises MalformedError for a value that is not a list of JSON Pointers, and for a pointer
    into the proof: proofs are never selected, a derived credential gets a proof of its own.
    """
    if isinstance(pointers, str | bytes) or not isinstance(pointers, Sequence):
        raise MalformedError(f"{what} must be a list of JSON Pointers")
    checked = []
    for pointer in pointers:
        paths = json_pointer_to_paths(pointer)
        if paths[:1] == ["proof"]:
            raise MalformedError(
                f"{what}: {pointer} points into the proof; only the credential can be selected",
                pointer=str(pointer),
            )
        checked.append(str(pointer))
    return tuple(checked)


def create_initial_selection(source: Mapping[str, Any]) -> dict[str, Any]:
    """createInitialSelection (§3.4.11): a node's non-blank ``id`` and its ``type``.

    https://www.w3.org/TR/vc-di-ecdsa/#createinitialselection
    """
    selection: dict[str, Any] = {}
    node_id = source.get("id")
    if isinstance(node_id, str) and not node_id.startswith("_:"):
        selection["id"] = node_id
    if "type" in source:
        selection["type"] = copy.deepcopy(source["type"])
    return selection


def select_paths(
    document: Mapping[str, Any],
    pointer: str,
    paths: Sequence[Path],
    selection: dict[str, Any],
    arrays: list[list[Any]],
) -> None:
    """selectPaths (§3.4.12): copy the value at ``paths`` into ``selection``.

    https://www.w3.org/TR/vc-di-ecdsa/#selectpaths — every object on the way contributes its
    initial selection (id, type). Raises MalformedError (the spec's PROOF_GENERATION_ERROR),
    with ``pointer`` as its pointer, when the pointer does not match the document.
    """
    value: Any = document
    selected_parent: Any = selection
    selected_value: Any = selection
    for path in paths:
        selected_parent = selected_value
        value = _step(value, path, pointer)
        selected_value = _get(selected_parent, path)
        if selected_value is None:
            if isinstance(value, list):
                selected_value = []
                arrays.append(selected_value)
            elif isinstance(value, Mapping):
                selected_value = create_initial_selection(value)
            else:
                selected_value = {}
            _set(selected_parent, path, selected_value)
    if isinstance(value, Mapping):
        merged = dict(selected_value) if isinstance(selected_value, Mapping) else {}
        merged.update(copy.deepcopy(dict(value)))
        selected_value = merged
    else:
        selected_value = copy.deepcopy(value)
    _set(selected_parent, paths[-1], selected_value)


def _step(value: Any, path: Path, pointer: str) -> Any:
    if isinstance(value, list):
        if isinstance(path, int) and path < len(value):
            return value[path]
    elif isinstance(value, Mapping):
        key = str(path)
        if key in value:
            return value[key]
    raise MalformedError(f"JSON Pointer {pointer} does not match the document", pointer=pointer)


def _get(container: Any, path: Path) -> Any:
    if isinstance(container, list):
        index = int(path)
        item = container[index] if index < len(container) else None
        return None if item is _HOLE else item
    return container.get(str(path))


def _set(container: Any, path: Path, value: Any) -> None:
    if isinstance(container, list):
        index = int(path)
        # a sparse array: holes are removed once every pointer is processed (§3.4.13 step 6)
        container.extend([_HOLE] * (index + 1 - len(container)))
        container[index] = value
    else:
        container[str(path)] = value


class _Hole:
    __slots__ = ()


_HOLE: Final = _Hole()


def select_json_ld(document: Mapping[str, Any], pointers: Sequence[str]) -> dict[str, Any] | None:
    """selectJsonLd (§3.4.13): the part of a compact JSON-LD document the pointers select.

    https://www.w3.org/TR/vc-di-ecdsa/#selectjsonld — None when ``pointers`` is empty; the
    whole document for the pointer ``""``. The selection keeps the ``@context``, and every
    object on a pointer's way keeps its non-blank ``id`` and its ``type``. Raises
    MalformedError for a pointer that is not a JSON Pointer or does not match the document.
    """
    if not pointers:
        return None
    arrays: list[list[Any]] = []
    # @context first, as Digital Bazaar's selection has it (the order is not significant)
    selection = {"@context": copy.deepcopy(document.get("@context"))}
    selection.update(create_initial_selection(document))
    for pointer in pointers:
        paths = json_pointer_to_paths(pointer)
        if not paths:
            return copy.deepcopy(dict(document))
        select_paths(document, pointer, paths, selection, arrays)
    for array in arrays:
        array[:] = [item for item in array if item is not _HOLE]
    return selection


# -- skolemization -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Skolemized:
    """A document whose blank nodes carry URNs: expanded and compact forms, and the scheme."""

    expanded: list[Any]
    compact: dict[str, Any]
    urn_scheme: str


def new_urn_scheme() -> str:
    """A fresh URN scheme for one skolemization (no document's own IRI can look like it)."""
    return f"vcred-sd-{uuid.uuid4().hex}:"


def skolemize_expanded_json_ld(
    expanded: Sequence[Any], *, urn_scheme: str, random_string: str, count: list[int]
) -> list[Any]:
    """skolemizeExpandedJsonLd (§3.4.7): every node object gets a URN ``@id``.

    https://www.w3.org/TR/vc-di-ecdsa/#skolemizeexpandedjsonld — a node without ``@id``
    gets ``urn:<scheme>_<random>_<count>``, a blank node ``_:x`` becomes ``urn:<scheme>x``.
    ``count`` is the shared counter (a one-element list). Value objects are copied, and so is
    a list object's shape: its items are skolemized, the list object itself gets no ``@id``
    (see the module docstring).
    """
    out: list[Any] = []
    for element in expanded:
        if not isinstance(element, Mapping) or "@value" in element:
            out.append(copy.deepcopy(element))
            continue
        node: dict[str, Any] = {}
        for key, value in element.items():
            if isinstance(value, list):
                node[key] = skolemize_expanded_json_ld(
                    value, urn_scheme=urn_scheme, random_string=random_string, count=count
                )
            else:
                node[key] = skolemize_expanded_json_ld(
                    [value], urn_scheme=urn_scheme, random_string=random_string, count=count
                )[0]
        if "@list" in node:
            out.append(node)
            continue
        node_id = node.get("@id")
        if node_id is None:
            node["@id"] = f"urn:{urn_scheme}_{random_string}_{count[0]}"
            count[0] += 1
        elif isinstance(node_id, str) and node_id.startswith("_:"):
            node["@id"] = f"urn:{urn_scheme}{node_id[2:]}"
        out.append(node)
    return out


def skolemize_compact_json_ld(
    document: Mapping[str, Any], *, loader: ContextLoader | None = None
) -> Skolemized:
    """skolemizeCompactJsonLd (§3.4.8): expand, skolemize, compact again with its context.

    https://www.w3.org/TR/vc-di-ecdsa/#skolemizecompactjsonld — expansion is vcred's safe
    mode (:func:`vcred.jsonld.expand`). Raises ContextError / MalformedError.
    """
    if not isinstance(document, Mapping) or "@context" not in document:
        raise MalformedError("a selectively disclosed document needs an @context", pointer="")
    loader = loader or default_loader()
    expanded = jsonld.expand(document, loader=loader)
    urn_scheme = new_urn_scheme()
    skolemized = skolemize_expanded_json_ld(
        expanded, urn_scheme=urn_scheme, random_string=uuid.uuid4().hex, count=[0]
    )
    try:
        compact = _pyld.compact(
            skolemized, {"@context": document["@context"]}, loader.pyld_options()
        )
    except Exception as exc:  # pyld raises JsonLdError and plain exceptions alike
        raise from_pyld_error(exc) from exc
    return Skolemized(expanded=skolemized, compact=dict(compact), urn_scheme=urn_scheme)


def deskolemize_quads(quads: Iterable[Quad], urn_scheme: str) -> list[Quad]:
    """deskolemizeNQuads (§3.4.6): ``<urn:<scheme>x>`` becomes the blank node ``_:x`` again.

    https://www.w3.org/TR/vc-di-ecdsa/#deskolemizenquads (over quads, not N-Quad text).
    """
    prefix = f"<urn:{urn_scheme}"

    def term(value: str) -> str:
        if value.startswith(prefix):
            return "_:" + value[len(prefix) : -1]
        return value

    return [(term(s), p, term(o), term(g)) for s, p, o, g in quads]


def name_list_nodes(quads: Sequence[Quad]) -> list[Quad]:
    """Name the blank nodes of RDF lists by their place, not by conversion order.

    After skolemization the only blank nodes are those Deserialize JSON-LD to RDF makes for
    ``@list`` values. Each is pointed at by exactly one statement (the property, an
    ``rdf:rest`` or an ``rdf:first`` of an enclosing list), so it is named by a hash of that
    statement's subject name, predicate and graph. A node pointed at more than once, or whose
    name another node also gets (two lists as values of one property), keeps its label.
    """
    pointed: dict[str, list[tuple[str, str, str]]] = {}
    for s, p, o, g in quads:
        if o.startswith("_:"):
            pointed.setdefault(o, []).append((s, p, g))
    names: dict[str, str] = {}
    labels = {t for quad in quads for t in (quad[0], quad[2], quad[3]) if t.startswith("_:")}
    for label in labels:
        # walk up to a named term, then name the chain on the way down (no recursion: a
        # list is a chain of rdf:rest statements as long as the list)
        chain: list[str] = []
        on_chain: set[str] = set()
        current = label
        while current.startswith("_:") and current not in names:
            parents = pointed.get(current, [])
            if len(parents) != 1 or current in on_chain:
                names[current] = current
                break
            chain.append(current)
            on_chain.add(current)
            current = parents[0][0]
        for node in reversed(chain):
            if node in names:
                continue
            s, p, g = pointed[node][0]
            key = f"{names.get(s, s)} {p} {names.get(g, g)}"
            names[node] = "_:l" + hashlib.sha256(key.encode()).hexdigest()[:40]
    counts: dict[str, int] = {}
    for named in names.values():
        counts[named] = counts.get(named, 0) + 1
    for label, named in names.items():
        if counts[named] > 1:
            names[label] = label

    def term(value: str) -> str:
        return names.get(value, value)

    return [(term(s), p, term(o), term(g)) for s, p, o, g in quads]


def to_deskolemized_quads(
    document: Mapping[str, Any] | None, *, urn_scheme: str, loader: ContextLoader | None = None
) -> list[Quad]:
    """toDeskolemizedNQuads (§3.4.9): a skolemized document as RDF with blank nodes again.

    https://www.w3.org/TR/vc-di-ecdsa/#todeskolemizednquads — None (an empty selection) is
    the empty dataset. Deserialize JSON-LD to RDF is :func:`vcred.jsonld.to_quads`.
    """
    if document is None:
        return []
    quads = name_list_nodes(list(dict.fromkeys(jsonld.to_quads(document, loader=loader))))
    return deskolemize_quads(quads, urn_scheme)


# -- blank node labels ---------------------------------------------------------------------


def relabel_blank_nodes(quads: Iterable[Quad], label_map: Mapping[str, str]) -> list[str]:
    """relabelBlankNodes (§3.4.14): blank node labels replaced through ``label_map``.

    https://www.w3.org/TR/vc-di-ecdsa/#relabelblanknodes — ``label_map`` maps labels without
    ``_:``; a label it does not hold is kept (it then matches no signed statement). Returns
    N-Quad strings.
    """

    def term(value: str) -> str:
        if value.startswith("_:"):
            return "_:" + label_map.get(value[2:], value[2:])
        return value

    return [serialize((term(s), p, term(o), term(g) if g else g)) for s, p, o, g in quads]


def create_label_map_function(label_map: Mapping[str, str]) -> LabelMapFactory:
    """createLabelMapFunction (§3.4.3): canonical labels replaced through a given map.

    https://www.w3.org/TR/vc-di-ecdsa/#createlabelmapfunction — the verifier's: ``label_map``
    is the derived proof's (``c14nN`` → HMAC label). The map must be a bijection between the
    document's blank nodes and distinct labels, as the issuer's HMAC labels are: a label given
    to two blank nodes would make them one node of the issuer's, so a holder could show one
    node as several (a subject split in two, each statement linking it repeated with its
    signature); MalformedError for that, for a canonical label the map lacks and for one the
    document does not have (the derived proof does not fit this document).
    """

    def factory(canonical_id_map: Mapping[str, str]) -> dict[str, str]:
        out = {}
        for input_label, c14n_label in canonical_id_map.items():
            new_label = label_map.get(c14n_label)
            if new_label is None:
                raise MalformedError(
                    f"the proof's label map has no label for blank node _:{c14n_label}"
                )
            out[input_label] = new_label
        if len(label_map) != len(out):
            raise MalformedError(
                f"the proof's label map names {len(label_map)} blank nodes, the document has "
                f"{len(out)}"
            )
        if len(set(out.values())) != len(out):
            raise MalformedError("the proof's label map gives two blank nodes one label")
        return out

    return factory


def hmac_label(hmac_key: bytes, c14n_label: str) -> str:
    """The HMAC-based label of one canonical label: ``u`` + base64url(HMAC-SHA-256)."""
    digest = hmac.new(hmac_key, c14n_label.encode("utf-8"), hashlib.sha256).digest()
    return "u" + b64url_encode(digest)


def create_hmac_id_label_map_function(hmac_key: bytes) -> LabelMapFactory:
    """createHmacIdLabelMapFunction (§3.4.4): canonical labels replaced by keyed HMACs.

    https://www.w3.org/TR/vc-di-ecdsa/#createhmacidlabelmapfunction — HMAC-SHA-256 over the
    UTF-8 canonical label, multibase base64url-no-pad (``u…``): a syntactically valid blank
    node label that says nothing about the canonical order to whoever lacks the key.
    """

    def factory(canonical_id_map: Mapping[str, str]) -> dict[str, str]:
        return {inp: hmac_label(hmac_key, c14n) for inp, c14n in canonical_id_map.items()}

    return factory


def label_replacement_canonicalize_nquads(
    quads: Iterable[Quad], factory: LabelMapFactory
) -> tuple[list[str], dict[str, str]]:
    """labelReplacementCanonicalizeNQuads (§3.4.1): RDFC-1.0, then the factory's labels.

    https://www.w3.org/TR/vc-di-ecdsa/#labelreplacementcanonicalizenquads — returns the sorted
    canonical N-Quad strings with replaced labels, and the label map (input label → new
    label). Raises MalformedError over RDFC-1.0's work limits.
    """
    dataset = canonicalize(quads)
    label_map = factory(dataset.issued)
    by_canonical = {dataset.issued[inp]: new for inp, new in label_map.items()}
    return sorted(relabel_blank_nodes(dataset.quads, by_canonical)), label_map


def label_replacement_canonicalize_json_ld(
    document: Mapping[str, Any], factory: LabelMapFactory, *, loader: ContextLoader | None = None
) -> tuple[list[str], dict[str, str]]:
    """labelReplacementCanonicalizeJsonLd (§3.4.2): the same, from a JSON-LD document.

    https://www.w3.org/TR/vc-di-ecdsa/#labelreplacementcanonicalizejsonld
    """
    return label_replacement_canonicalize_nquads(jsonld.to_quads(document, loader=loader), factory)


# -- selections and groups ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Selection:
    """selectCanonicalNQuads' result: the selection, its deskolemized quads, relabelled lines."""

    document: dict[str, Any] | None
    deskolemized: tuple[Quad, ...]
    nquads: tuple[str, ...]


def select_canonical_nquads(
    pointers: Sequence[str],
    skolemized: Skolemized,
    label_map: Mapping[str, str],
    *,
    loader: ContextLoader | None = None,
) -> Selection:
    """selectCanonicalNQuads (§3.4.15): the selected statements with the document's labels.

    https://www.w3.org/TR/vc-di-ecdsa/#selectcanonicalnquads
    """
    document = select_json_ld(skolemized.compact, pointers)
    quads = to_deskolemized_quads(document, urn_scheme=skolemized.urn_scheme, loader=loader)
    return Selection(
        document=document,
        deskolemized=tuple(quads),
        nquads=tuple(relabel_blank_nodes(quads, label_map)),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Group:
    """One named group: canonical statements by index, matching the selection or not."""

    matching: dict[int, str]
    non_matching: dict[int, str]
    deskolemized: tuple[Quad, ...]
    selected: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Grouped:
    """canonicalizeAndGroup's result."""

    groups: dict[str, Group]
    skolemized: Skolemized
    deskolemized: tuple[Quad, ...]
    label_map: dict[str, str]
    nquads: tuple[str, ...]


def canonicalize_and_group(
    document: Mapping[str, Any],
    factory: LabelMapFactory,
    group_definitions: Mapping[str, Sequence[str]],
    *,
    loader: ContextLoader | None = None,
) -> Grouped:
    """canonicalizeAndGroup (§3.4.16): canonical statements grouped by JSON Pointer selections.

    https://www.w3.org/TR/vc-di-ecdsa/#canonicalizeandgroup — raises MalformedError for a
    pointer that does not match, ContextError / MalformedError for JSON-LD that cannot be
    canonicalized.
    """
    skolemized = skolemize_compact_json_ld(document, loader=loader)
    deskolemized = to_deskolemized_quads(
        skolemized.compact, urn_scheme=skolemized.urn_scheme, loader=loader
    )
    nquads, label_map = label_replacement_canonicalize_nquads(deskolemized, factory)
    groups = {}
    for name, pointers in group_definitions.items():
        selection = select_canonical_nquads(pointers, skolemized, label_map, loader=loader)
        selected = set(selection.nquads)
        matching = {i: nq for i, nq in enumerate(nquads) if nq in selected}
        non_matching = {i: nq for i, nq in enumerate(nquads) if nq not in selected}
        groups[name] = Group(
            matching=matching,
            non_matching=non_matching,
            deskolemized=selection.deskolemized,
            selected=selection.nquads,
        )
    return Grouped(
        groups=groups,
        skolemized=skolemized,
        deskolemized=tuple(deskolemized),
        label_map=label_map,
        nquads=tuple(nquads),
    )


def check_selection_signed(group: Group, pointers: Sequence[str], *, what: str) -> None:
    """Every statement a selection reveals must be one of the document's statements.

    Not a step of the specification: a selection that makes new statements (a part of an RDF
    list) could never verify, so it is refused where it is made. Raises MalformedError.
    """
    matched = set(group.matching.values())
    if any(nq not in matched for nq in group.selected):
        raise MalformedError(
            f"{what} {list(pointers)} select part of an RDF list (an @list container): "
            "select every element of a list, or none"
        )


def hash_mandatory_nquads(mandatory: Iterable[str]) -> bytes:
    """hashMandatoryNQuads (§3.4.17): SHA-256 of the joined mandatory N-Quads (UTF-8).

    https://www.w3.org/TR/vc-di-ecdsa/#hashmandatorynquads
    """
    return hashlib.sha256("".join(mandatory).encode("utf-8")).digest()


# -- pointers for "everything but these" ------------------------------------------------------


def pointers_except(document: Mapping[str, Any], excluded: Iterable[str]) -> tuple[str, ...]:
    """The fewest JSON Pointers that select everything in ``document`` except ``excluded``.

    For mandatory pointers of the form "all but the amounts": a member is selected whole
    unless an excluded pointer lies inside it, in which case its members are visited. The
    ``@context`` (always part of a selection) and ``proof`` are never pointed at.
    """
    hidden = {tuple(str(p) for p in json_pointer_to_paths(e)) for e in excluded}
    inside = {path[:n] for path in hidden for n in range(1, len(path))}
    out: list[str] = []

    def visit(value: Any, path: tuple[str, ...]) -> None:
        items: Iterable[tuple[str, Any]]
        if isinstance(value, Mapping):
            items = ((k, v) for k, v in value.items() if path or k not in ("@context", "proof"))
        elif isinstance(value, list):
            items = ((str(i), v) for i, v in enumerate(value))
        else:
            return
        for key, child in items:
            here = (*path, key)
            if here in hidden:
                continue
            if here in inside:
                visit(child, here)
            else:
                out.append(from_path(here))

    visit(document, ())
    return tuple(out)
