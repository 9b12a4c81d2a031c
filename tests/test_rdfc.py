"""vcred.rdfc: RDFC-1.0 canonicalization, N-Quads terms, work limits."""

from __future__ import annotations

import random
import time

import pytest
from pyld.canon import URDNA2015
from pyld.nquads import parse_nquads as pyld_parse

from vcred import rdfc
from vcred._nquads import escape_literal, literal
from vcred.errors import MalformedError, ParsingError

P = "<http://example.org/p>"
Q = "<http://example.org/q>"

# Known answers, produced by rdf-canonize 5 (digitalbazaar's RDFC-1.0 implementation).
KNOWN_ANSWERS = {
    "two_cycle": (
        f"_:x {P} _:y .\n_:y {P} _:x .\n",
        f"_:c14n0 {P} _:c14n1 .\n_:c14n1 {P} _:c14n0 .\n",
    ),
    "two_isomorphic_triangles": (
        "".join(
            f"_:a{i} {P} _:a{(i + 1) % 3} .\n_:b{i} {P} _:b{(i + 1) % 3} .\n" for i in range(3)
        ),
        f"_:c14n0 {P} _:c14n1 .\n_:c14n1 {P} _:c14n2 .\n_:c14n2 {P} _:c14n0 .\n"
        f"_:c14n3 {P} _:c14n4 .\n_:c14n4 {P} _:c14n5 .\n_:c14n5 {P} _:c14n3 .\n",
    ),
    "complete_graph_k4": (
        "".join(f"_:k{i} {P} _:k{j} .\n" for i in range(4) for j in range(4) if i != j),
        "".join(f"_:c14n{i} {P} _:c14n{j} .\n" for i in range(4) for j in range(4) if i != j),
    ),
    "blank_named_graph": (
        f'_:s {P} "v" _:g .\n_:g {P} _:s .\n<http://example.org/x> {P} _:g _:g .\n',
        f"<http://example.org/x> {P} _:c14n1 _:c14n1 .\n"
        f'_:c14n0 {P} "v" _:c14n1 .\n_:c14n1 {P} _:c14n0 .\n',
    ),
}
GENEROUS = rdfc.Limits(max_work_factor=4)


@pytest.mark.parametrize("name", sorted(KNOWN_ANSWERS))
def test_known_answers(name: str) -> None:
    given, expected = KNOWN_ANSWERS[name]
    assert rdfc.canonicalize_nquads(given, limits=GENEROUS).nquads == expected


def _random_dataset(rng: random.Random, *, self_loops: bool) -> str:
    blanks = [f"_:n{i}" for i in range(rng.randint(1, 6))]
    nodes = [*blanks, "<http://example.org/a>", "<http://example.org/b>"]
    lines = set()
    for _ in range(rng.randint(1, 14)):
        s, o = rng.choice(nodes), rng.choice([*nodes, '"x"', '"y"@en'])
        g = rng.choice(["", "", "<http://example.org/g>", rng.choice(blanks)])
        terms = [s, o, g]
        if not self_loops and len([t for t in terms if t.startswith("_:")]) != len(
            {t for t in terms if t.startswith("_:")}
        ):
            continue
        lines.add(
            f"{s} {rng.choice([P, Q])} {o} {g} .\n" if g else f"{s} {rng.choice([P, Q])} {o} .\n"
        )
    return "".join(sorted(lines))


def test_agrees_with_pyld_urdna2015_on_random_datasets() -> None:
    """An independent implementation as reference (without self-loops: pyld counts a quad
    twice for a blank node that occurs twice in it, rdf-canonize and we once)."""
    rng = random.Random(20250101)
    for _ in range(400):
        text = _random_dataset(rng, self_loops=False)
        expected = URDNA2015().main(pyld_parse(text), {"format": "application/n-quads"})
        assert (
            rdfc.canonicalize_nquads(text, limits=rdfc.Limits(max_work_factor=6)).nquads == expected
        ), text


def test_canonical_nquads_is_the_canonical_datasets_text() -> None:
    """The rdfc suites hash ``canonical_nquads``; ``canonicalize`` gives the quads and map."""
    rng = random.Random(20261204)
    limits = rdfc.Limits(max_work_factor=6)
    for _ in range(300):
        quads = rdfc.parse_nquads(_random_dataset(rng, self_loops=True))
        quads += quads[: rng.randint(0, 2)]  # repeated quads count once
        expected = rdfc.canonicalize(quads, limits=limits)
        assert rdfc.canonical_nquads(quads, limits=limits) == expected.nquads
        assert "".join(map(rdfc.serialize_quad, expected.quads)) == expected.nquads


def test_result_does_not_depend_on_labels_or_order() -> None:
    rng = random.Random(7)
    for _ in range(200):
        text = _random_dataset(rng, self_loops=True)
        expected = rdfc.canonicalize_nquads(text, limits=rdfc.Limits(max_work_factor=6)).nquads
        lines = text.splitlines(keepends=True)
        rng.shuffle(lines)
        renamed = "".join(lines).replace("_:n", "_:other")
        assert (
            rdfc.canonicalize_nquads(renamed, limits=rdfc.Limits(max_work_factor=6)).nquads
            == expected
        )


def test_relabelled_canonical_input_is_relabelled_again() -> None:
    """Input labels that look canonical get no special treatment (rdf-canonize keeps them)."""
    given = f'_:c14n0 {P} _:c14n1 .\n_:c14n1 {Q} "leaf" .\n'
    assert (
        rdfc.canonicalize_nquads(given).nquads == f'_:c14n0 {Q} "leaf" .\n_:c14n1 {P} _:c14n0 .\n'
    )


def test_issued_identifiers_map() -> None:
    dataset = rdfc.canonicalize_nquads(f'_:root {P} _:leaf .\n_:leaf {Q} "leaf" .\n')
    assert dict(dataset.issued) == {"leaf": "c14n0", "root": "c14n1"}
    assert dataset.quads[0] == ("_:c14n0", Q, '"leaf"', "")


def test_relabel_for_selective_disclosure() -> None:
    dataset = rdfc.canonicalize_nquads(f'_:root {P} _:leaf .\n_:leaf {Q} "leaf" .\n')
    relabelled = rdfc.relabel(dataset.lines, {"c14n0": "uZ", "c14n1": "uA"})
    assert relabelled == [f"_:uA {P} _:uZ .\n", f'_:uZ {Q} "leaf" .\n']


def test_no_blank_nodes_and_duplicates() -> None:
    quad = ("<http://example.org/s>", P, '"o"', "")
    dataset = rdfc.canonicalize([quad, ("<http://example.org/a>", P, '"o"', ""), quad])
    assert dataset.nquads == f'<http://example.org/a> {P} "o" .\n<http://example.org/s> {P} "o" .\n'
    assert dict(dataset.issued) == {}


def test_empty_dataset() -> None:
    assert rdfc.canonicalize([]).nquads == ""


# -- N-Quads terms -------------------------------------------------------------------------


def test_literal_escaping_is_canonical() -> None:
    assert (
        escape_literal('a\tb\x01\x7f"\\\n\r\b\f é😀')
        == 'a\\tb\\u0001\\u007F\\"\\\\\\n\\r\\b\\f é😀'
    )
    assert (
        literal("1", "http://www.w3.org/2001/XMLSchema#integer")
        == '"1"^^<http://www.w3.org/2001/XMLSchema#integer>'
    )
    assert (
        literal("chat", "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString", "fr")
        == '"chat"@fr'
    )


def test_parser_normalizes_escapes() -> None:
    text = '<http://example.org/s> <http://example.org/p> "\\u0041\\U0001F600\\t\\\'" .\n'
    [quad] = rdfc.parse_nquads(text)
    assert quad[2] == '"A😀\\t\'"'
    assert (
        rdfc.serialize_quad(quad) == '<http://example.org/s> <http://example.org/p> "A😀\\t\'" .\n'
    )


def test_parser_reads_graphs_datatypes_comments() -> None:
    text = (
        "# a comment\n\n"
        '_:b <http://example.org/p> "5"^^<http://www.w3.org/2001/XMLSchema#integer>'
        " <http://example.org/g> .\n"
        "<http://example.org/s> <http://example.org/p> _:b _:g . # trailing\n"
    )
    assert rdfc.parse_nquads(text) == [
        ("_:b", P, '"5"^^<http://www.w3.org/2001/XMLSchema#integer>', "<http://example.org/g>"),
        ("<http://example.org/s>", P, "_:b", "_:g"),
    ]


@pytest.mark.parametrize(
    "line",
    [
        '<http://example.org/s> <http://example.org/p> "o"',
        "<s> <p> <o> <g> <extra> .",
        '"lit" <http://example.org/p> "o" .',
    ],
)
def test_parser_refuses_malformed_statements(line: str) -> None:
    with pytest.raises(ParsingError) as info:
        rdfc.parse_nquads(
            f"<http://example.org/s> <http://example.org/p> <http://example.org/o> .\n{line}\n"
        )
    assert info.value.pointer == "/line/2"


# -- poison datasets -----------------------------------------------------------------------


def _clique(size: int) -> str:
    return "".join(f"_:k{i} {P} _:k{j} .\n" for i in range(size) for j in range(size) if i != j)


def test_poison_dataset_hits_the_limit_quickly() -> None:
    start = time.perf_counter()
    with pytest.raises(MalformedError, match="Hash N-Degree Quads") as info:
        rdfc.canonicalize_nquads(_clique(12))
    assert time.perf_counter() - start < 1.0
    assert info.value.code == "MALFORMED"


def test_permutation_limit_stops_runaway_work_even_with_a_high_factor() -> None:
    start = time.perf_counter()
    with pytest.raises(MalformedError, match="permutations"):
        rdfc.canonicalize_nquads(
            _clique(10), limits=rdfc.Limits(max_work_factor=50, max_permutations=20_000)
        )
    assert time.perf_counter() - start < 3.0


def test_size_limits() -> None:
    with pytest.raises(MalformedError, match="quads"):
        rdfc.canonicalize_nquads(_clique(5), limits=rdfc.Limits(max_quads=10))
    with pytest.raises(MalformedError, match="blank nodes"):
        rdfc.canonicalize_nquads(_clique(5), limits=rdfc.Limits(max_blank_nodes=4))


def test_explicit_deep_iteration_limit() -> None:
    given, expected = KNOWN_ANSWERS["complete_graph_k4"]
    with pytest.raises(MalformedError):
        rdfc.canonicalize_nquads(given)  # default: 4 ** 1 calls are not enough for K4
    assert (
        rdfc.canonicalize_nquads(given, limits=rdfc.Limits(max_deep_iterations=10_000)).nquads
        == expected
    )


def test_a_long_rdf_list_is_refused_not_a_recursion_error() -> None:
    # A 1500-element RDF list of blank nodes: the middle list nodes share a first-degree hash
    # and Hash N-Degree Quads follows the chain node by node, past Python's stack. Found
    # through an ecdsa-sd-2023 test; vcred.verify() must report it, never raise RecursionError.
    first = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#first>"
    rest = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#rest>"
    nil = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#nil>"
    count = 1500
    quads = [("<urn:x:s>", "<urn:x:items>", "_:l0", "")]
    for i in range(count):
        quads.append((f"_:l{i}", first, f"_:e{i}", ""))
        quads.append((f"_:e{i}", "<urn:x:n>", literal(str(i)), ""))
        quads.append((f"_:l{i}", rest, f"_:l{i + 1}" if i + 1 < count else nil, ""))
    with pytest.raises(MalformedError, match="chained too deeply"):
        rdfc.canonicalize(quads, limits=rdfc.Limits(max_deep_iterations=10**9))
