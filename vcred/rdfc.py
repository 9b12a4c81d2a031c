"""RDF Dataset Canonicalization (RDFC-1.0), with a bounded amount of work.

https://www.w3.org/TR/rdf-canon/

Quads are tuples of four N-Quads terms in canonical text form (see ``vcred._nquads``), the
graph ``""`` for the default graph. :func:`canonicalize` returns the canonical quads, their
canonical N-Quads and the canonical issuer's issued identifiers map (input blank node
identifier → ``c14nN``), which ecdsa-sd-2023 relabels with HMAC-derived labels.

Poison datasets (https://www.w3.org/TR/rdf-canon/#dataset-poisoning): many blank nodes that
first-degree hashing cannot tell apart make Hash N-Degree Quads exponential. :class:`Limits`
caps the input size, the number of Hash N-Degree Quads calls (as rdf-canonize does, the number
of blank nodes with shared first-degree hashes raised to ``max_work_factor``) and the number of
permutations examined; exceeding any raises :class:`~vcred.errors.MalformedError`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from vcred._nquads import Quad, parse, serialize
from vcred.errors import MalformedError, UsageError

__all__ = [
    "DEFAULT_LIMITS",
    "CanonicalDataset",
    "Limits",
    "Quad",
    "canonical_nquads",
    "canonicalize",
    "canonicalize_nquads",
    "parse_nquads",
    "relabel",
    "serialize_quad",
]

parse_nquads = parse
serialize_quad = serialize


@dataclass(frozen=True, slots=True, kw_only=True)
class Limits:
    """Work limits for one canonicalization (RDFC-1.0 §4.2 leaves them to implementations).

    ``max_deep_iterations`` overrides the bound that ``max_work_factor`` computes.
    https://www.w3.org/TR/rdf-canon/#dataset-poisoning
    """

    max_quads: int = 100_000
    max_blank_nodes: int = 10_000
    max_work_factor: int = 1
    max_deep_iterations: int | None = None
    max_permutations: int = 50_000


DEFAULT_LIMITS = Limits()


@dataclass(frozen=True, slots=True)
class CanonicalDataset:
    """The result of RDFC-1.0: sorted canonical quads and the issued identifiers map.

    ``issued`` maps input blank node identifiers to canonical ones, both without ``_:``
    (``{"b0": "c14n0"}``), in issuing order.
    https://www.w3.org/TR/rdf-canon/#canon-algorithm
    """

    quads: tuple[Quad, ...]
    lines: tuple[str, ...]
    issued: Mapping[str, str]

    @property
    def nquads(self) -> str:
        """The canonical N-Quads document (every line newline-terminated)."""
        return "".join(self.lines)


_Hash = Callable[..., "hashlib._Hash"]
_HASHES: dict[str, _Hash] = {"sha256": hashlib.sha256, "sha384": hashlib.sha384}


class _Budget:
    __slots__ = ("deep_left", "deep_max", "permutations_left")

    def __init__(self, deep: int, permutations: int) -> None:
        self.deep_max = deep
        self.deep_left = deep
        self.permutations_left = permutations


def _exceeded(what: str) -> MalformedError:
    return MalformedError(f"RDF canonicalization refused: {what} (possible poison dataset)")


def _permutations(elements: list[str]) -> Iterator[list[str]]:
    """Steinhaus-Johnson-Trotter from the sorted list — the order rdf-canonize uses."""
    items = sorted(elements)
    left = dict.fromkeys(items, True)
    last = len(items) - 1
    while True:
        yield items
        k: str | None = None
        pos = 0
        for i, e in enumerate(items):
            is_left = left[e]
            if (k is None or e > k) and (
                (is_left and i > 0 and e > items[i - 1])
                or (not is_left and i < last and e > items[i + 1])
            ):
                k, pos = e, i
        if k is None:
            return
        swap = pos - 1 if left[k] else pos + 1
        items[pos], items[swap] = items[swap], k
        for e in items:
            if e > k:
                left[e] = not left[e]


class _Canonicalizer:
    """State of one run of the canonicalization algorithm (RDFC-1.0 §4.4.2)."""

    __slots__ = ("blank_quads", "budget", "canonical", "first_degree", "hash")

    def __init__(
        self,
        blank_quads: dict[str, list[Quad]],
        first_degree: dict[str, str],
        budget: _Budget,
        hash: _Hash = hashlib.sha256,
    ) -> None:
        self.hash = hash
        self.blank_quads = blank_quads
        self.first_degree = first_degree
        self.canonical: dict[str, str] = {}  # "_:b0" -> "_:c14n0", insertion order = issue order
        self.budget = budget

    def issue(self, label: str) -> str:
        issued = self.canonical.get(label)
        if issued is None:
            issued = self.canonical[label] = f"_:c14n{len(self.canonical)}"
        return issued

    # §4.7 Hash Related Blank Node
    def hash_related(
        self, related: str, predicate: str, issuer: dict[str, str], position: str
    ) -> str:
        identifier = (
            self.canonical.get(related) or issuer.get(related) or self.first_degree[related]
        )
        text = position + identifier if position == "g" else position + predicate + identifier
        return self.hash(text.encode()).hexdigest()

    # §4.8 Hash N-Degree Quads
    def hash_n_degree(self, label: str, issuer: dict[str, str]) -> tuple[str, dict[str, str]]:
        budget = self.budget
        if budget.deep_left <= 0:
            raise _exceeded(f"more than {budget.deep_max} Hash N-Degree Quads calls")
        budget.deep_left -= 1
        related_by_hash: dict[str, list[str]] = {}
        for s, p, o, g in self.blank_quads[label]:
            if s[0] == "_" and s != label:
                related_by_hash.setdefault(self.hash_related(s, p, issuer, "s"), []).append(s)
            if o[0] == "_" and o != label:
                related_by_hash.setdefault(self.hash_related(o, p, issuer, "o"), []).append(o)
            if g and g[0] == "_" and g != label:
                related_by_hash.setdefault(self.hash_related(g, p, issuer, "g"), []).append(g)
        data = self.hash()
        canonical = self.canonical
        for related_hash in sorted(related_by_hash):
            data.update(related_hash.encode())
            chosen_path = ""
            chosen_issuer: dict[str, str] | None = None
            for permutation in _permutations(related_by_hash[related_hash]):
                budget.permutations_left -= 1
                if budget.permutations_left < 0:
                    raise _exceeded("too many blank node permutations")
                issuer_copy = dict(issuer)
                path = ""
                recursion: list[str] = []
                skip = False
                for related in permutation:
                    if related in canonical:
                        path += canonical[related]
                    else:
                        if related not in issuer_copy:
                            recursion.append(related)
                            issuer_copy[related] = f"_:b{len(issuer_copy)}"
                        path += issuer_copy[related]
                    if chosen_path and len(path) >= len(chosen_path) and path > chosen_path:
                        skip = True
                        break
                if skip:
                    continue
                for related in recursion:
                    result_hash, issuer_copy = self.hash_n_degree(related, issuer_copy)
                    path += issuer_copy[related] + "<" + result_hash + ">"
                    if chosen_path and len(path) >= len(chosen_path) and path > chosen_path:
                        skip = True
                        break
                if skip:
                    continue
                if not chosen_path or path < chosen_path:
                    chosen_path = path
                    chosen_issuer = issuer_copy
            data.update(chosen_path.encode())
            if chosen_issuer is not None:
                issuer = chosen_issuer
        return data.hexdigest(), issuer


class _Split:
    """A dataset split for RDFC-1.0: the quads without blank nodes (``ground``, already
    serialized as ``lines``), and for the others what issuing and relabelling need."""

    __slots__ = ("blank_quads", "ground", "heads", "lines", "others", "tails")

    def __init__(self, quads: Iterable[Quad]) -> None:
        #: the quads each blank node occurs in (Hash N-Degree Quads reads them)
        self.blank_quads: dict[str, list[Quad]] = {}
        #: the quads whose one blank node is the subject, with their line after it
        #: (`` p o .``), and those in the default graph whose one blank node is the object,
        #: with their line before it (``s p ``): the common cases, formatted once for both
        #: hashing and relabelling
        self.tails: list[tuple[Quad, str]] = []
        self.heads: list[tuple[Quad, str]] = []
        #: the other quads with a blank node
        self.others: list[Quad] = []
        self.lines: list[str] = []
        self.ground: list[Quad] = []
        blank_quads = self.blank_quads
        # bound once: the loop runs once per quad
        add_tail, add_head, add_line = self.tails.append, self.heads.append, self.lines.append
        add_ground = self.ground.append
        for quad in quads:
            s, p, o, g = quad
            if g:
                if s[0] == "_" and o[0] != "_" and g[0] != "_":
                    add_tail((quad, f" {p} {o} {g} .\n"))
                    label = s
                elif s[0] == "_" or o[0] == "_" or g[0] == "_":
                    self.others.append(quad)
                    for label in _labels(quad):
                        blank_quads.setdefault(label, []).append(quad)
                    continue
                else:
                    add_line(f"{s} {p} {o} {g} .\n")
                    add_ground(quad)
                    continue
            elif s[0] == "_":
                if o[0] == "_":
                    self.others.append(quad)
                    for label in _labels(quad):
                        blank_quads.setdefault(label, []).append(quad)
                    continue
                add_tail((quad, f" {p} {o} .\n"))
                label = s
            elif o[0] == "_":
                add_head((quad, f"{s} {p} "))
                label = o
            else:
                add_line(f"{s} {p} {o} .\n")
                add_ground(quad)
                continue
            if label in blank_quads:
                blank_quads[label].append(quad)
            else:
                blank_quads[label] = [quad]

    def first_lines(self) -> dict[str, list[str]]:
        """Each blank node's Hash First Degree Quads lines (§4.6 steps 2-3), unsorted."""
        lines: dict[str, list[str]] = {label: [] for label in self.blank_quads}
        for (s, _, _, _), tail in self.tails:
            lines[s].append("_:a" + tail)
        for (_, _, o, _), head in self.heads:
            lines[o].append(head + "_:a .\n")
        for quad in self.others:
            for label in _labels(quad):
                lines[label].append(_first_degree_line(quad, label))
        return lines

    def lines_of(self, canonical: Mapping[str, str]) -> list[str]:
        """The canonical N-Quads lines (unsorted): ``lines``, then the quads with blank nodes
        relabelled with ``canonical`` in the order of :meth:`quads_of`."""
        lines = self.lines + [canonical[s] + tail for (s, _, _, _), tail in self.tails]
        lines += [head + canonical[o] + " .\n" for (_, _, o, _), head in self.heads]
        if self.others:
            lines.extend(serialize(_relabelled(quad, canonical)) for quad in self.others)
        return lines

    def quads_of(self, canonical: Mapping[str, str]) -> list[Quad]:
        """The canonical quads, in the order of :meth:`lines_of`."""
        quads = list(self.ground)
        quads.extend(_relabelled(quad, canonical) for quad, _ in self.tails)
        quads.extend(_relabelled(quad, canonical) for quad, _ in self.heads)
        quads.extend(_relabelled(quad, canonical) for quad in self.others)
        return quads


def _labels(quad: Quad) -> list[str]:
    """The blank nodes of a quad, each once, in the order subject, object, graph."""
    s, _, o, g = quad
    return list(dict.fromkeys(term for term in (s, o, g) if term[:1] == "_"))


def _relabelled(quad: Quad, canonical: Mapping[str, str]) -> Quad:
    """A quad with its blank nodes relabelled (§4.4.3 step 6)."""
    s, p, o, g = quad
    if s[0] == "_":
        s = canonical[s]
    if o[0] == "_":
        o = canonical[o]
    if g and g[0] == "_":
        g = canonical[g]
    return s, p, o, g


def _first_degree_line(quad: Quad, label: str) -> str:
    """A quad as Hash First Degree Quads serializes it for ``label`` (RDFC-1.0 §4.6 step 3.1):
    ``_:a`` for that blank node, ``_:z`` for any other."""
    s, p, o, g = quad
    if s[0] == "_":
        s = "_:a" if s == label else "_:z"
    if o[0] == "_":
        o = "_:a" if o == label else "_:z"
    if g:
        if g[0] == "_":
            g = "_:a" if g == label else "_:z"
        return f"{s} {p} {o} {g} .\n"
    return f"{s} {p} {o} .\n"


def _first_degree_hashes(first_lines: dict[str, list[str]], hash: _Hash) -> dict[str, str]:
    """Hash First Degree Quads (RDFC-1.0 §4.6) of every blank node, from its lines.

    https://www.w3.org/TR/rdf-canon/#hash-1d-quads
    """
    hashes: dict[str, str] = {}
    for label, lines in first_lines.items():
        lines.sort()
        hashes[label] = hash("".join(lines).encode()).hexdigest()
    return hashes


def canonicalize(
    quads: Iterable[Quad], *, limits: Limits = DEFAULT_LIMITS, hash_algorithm: str = "sha256"
) -> CanonicalDataset:
    """Canonicalize an RDF dataset with RDFC-1.0 (SHA-256, or SHA-384 on request).

    Duplicate quads count once (a dataset is a set). RDFC-1.0 §4.4.1 lets the caller choose
    the hash algorithm (https://www.w3.org/TR/rdf-canon/#hash-algorithm); ecdsa-rdfc-2019 uses
    SHA-384 with P-384 keys (https://www.w3.org/TR/vc-di-ecdsa/#transformation-ecdsa-rdfc-2019).
    Raises MalformedError when the input or the work it needs goes over ``limits``,
    UsageError for another hash algorithm.
    https://www.w3.org/TR/rdf-canon/#canon-algorithm
    """
    split, canonical = _canonical_issue(quads, limits, hash_algorithm)
    lines, canonical_quads = split.lines_of(canonical), split.quads_of(canonical)
    order = sorted(range(len(lines)), key=lines.__getitem__)
    return CanonicalDataset(
        tuple(map(canonical_quads.__getitem__, order)),
        tuple(map(lines.__getitem__, order)),
        MappingProxyType({old[2:]: new[2:] for old, new in canonical.items()}),
    )


def canonical_nquads(
    quads: Iterable[Quad], *, limits: Limits = DEFAULT_LIMITS, hash_algorithm: str = "sha256"
) -> str:
    """The canonical N-Quads document of :func:`canonicalize` alone (what the rdfc suites
    hash), without building the canonical quads and the issued identifiers map.

    Raises as :func:`canonicalize` does.
    https://www.w3.org/TR/rdf-canon/#canon-algorithm
    """
    split, canonical = _canonical_issue(quads, limits, hash_algorithm)
    lines = split.lines_of(canonical)
    lines.sort()
    return "".join(lines)


def _canonical_issue(
    quads: Iterable[Quad], limits: Limits, hash_algorithm: str
) -> tuple[_Split, dict[str, str]]:
    """RDFC-1.0 (§4.4.3) to the issued identifiers (``"_:b0"`` → ``"_:c14n0"``, in issuing
    order), with the dataset split for relabelling (step 6: :meth:`_Split.lines_of`).

    Duplicate quads are dropped first, and the canonical lines are then distinct: N-Quads
    writes distinct quads as distinct lines, and one label is issued per blank node."""
    hash = _HASHES.get(hash_algorithm)
    if hash is None:
        raise UsageError(f"RDFC-1.0 hash algorithm must be one of {sorted(_HASHES)}")
    unique = dict.fromkeys(quads)
    if len(unique) > limits.max_quads:
        raise _exceeded(f"more than {limits.max_quads} quads")
    # The quads without blank nodes keep their terms: serialized once, here.
    split = _Split(unique)
    blank_quads = split.blank_quads
    if len(blank_quads) > limits.max_blank_nodes:
        raise _exceeded(f"more than {limits.max_blank_nodes} blank nodes")
    if len(blank_quads) == 1:
        # §4.4.3 steps 3-4 with one blank node: its first-degree hash is unique, whatever it
        # is, so it is issued the first identifier without being hashed.
        canonical = dict.fromkeys(blank_quads, "_:c14n0")
    else:
        canonical = _issue(split, limits, hash)
    return split, canonical


def _issue(split: _Split, limits: Limits, hash: _Hash) -> dict[str, str]:
    """§4.4.3 steps 3-5: the canonical identifiers of the blank nodes, in issuing order."""
    first_degree = _first_degree_hashes(split.first_lines(), hash)
    if len(set(first_degree.values())) == len(first_degree):
        # every first-degree hash unique (the common case): all issued in hash order, with
        # no N-degree hashing to prepare for
        ranked = sorted(first_degree, key=first_degree.__getitem__)
        return {label: f"_:c14n{index}" for index, label in enumerate(ranked)}
    state = _Canonicalizer(
        split.blank_quads, first_degree, _Budget(0, limits.max_permutations), hash
    )
    # §4.4.3 steps 3-4: unique first-degree hashes are issued in hash order.
    by_hash: dict[str, list[str]] = {}
    for label, digest in first_degree.items():
        by_hash.setdefault(digest, []).append(label)
    shared: list[list[str]] = []
    for digest in sorted(by_hash):
        labels = by_hash[digest]
        if len(labels) > 1:
            shared.append(labels)
        else:
            state.issue(labels[0])

    if shared:
        if limits.max_deep_iterations is not None:
            deep = limits.max_deep_iterations
        else:
            deep = sum(map(len, shared)) ** limits.max_work_factor
        state.budget = _Budget(deep, limits.max_permutations)
        # §4.4.3 step 5: N-degree hashes for the blank nodes that share a first-degree hash.
        for labels in shared:
            results: list[tuple[str, dict[str, str]]] = []
            for label in labels:
                if label in state.canonical:
                    continue
                try:
                    results.append(state.hash_n_degree(label, {label: "_:b0"}))
                except RecursionError:
                    # Hash N-Degree Quads recurses once per blank node of a chain (a long RDF
                    # list): past Python's stack it is refused like any other excess of work.
                    raise _exceeded("blank nodes chained too deeply") from None
            for _, issuer in sorted(results, key=lambda result: result[0]):
                for existing in issuer:
                    state.issue(existing)
    return state.canonical


def canonicalize_nquads(
    text: str, *, limits: Limits = DEFAULT_LIMITS, hash_algorithm: str = "sha256"
) -> CanonicalDataset:
    """Parse N-Quads and canonicalize them (RDFC-1.0).

    Raises ParsingError for malformed N-Quads and MalformedError over ``limits``.
    https://www.w3.org/TR/rdf-canon/#canon-algorithm
    """
    return canonicalize(parse(text), limits=limits, hash_algorithm=hash_algorithm)


def relabel(lines: Iterable[str], labels: Mapping[str, str]) -> list[str]:
    """Replace blank node identifiers in canonical N-Quads lines and sort the result.

    ``labels`` maps identifiers without ``_:`` (``c14n0`` → ``u…``), as ecdsa-sd-2023's label
    map does; identifiers it does not name are kept.
    https://www.w3.org/TR/vc-di-ecdsa/#relabelblanknodes
    """
    out = []
    for line in lines:
        quad = parse(line)[0]
        s, p, o, g = (
            "_:" + labels.get(term[2:], term[2:]) if term[:2] == "_:" else term for term in quad
        )
        out.append(serialize((s, p, o, g)))
    out.sort()
    return out
