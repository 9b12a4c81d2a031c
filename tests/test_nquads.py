"""vcred._nquads: the one-pass reader agrees with the line-by-line reference reader.

``parse`` reads a document whose lines are all statements in canonical term form with one
regular expression over the whole text, and hands anything else (escapes, xsd:string,
characters canonical N-Quads escapes, comments, blank lines, other line ends, errors) to
``_parse_lines``, the reference. Both must give the same quads, or the same ParsingError, on
every input.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vcred._nquads import (
    RDF_LANGSTRING,
    XSD_STRING,
    Quad,
    _parse_lines,
    _read_canonical,
    literal,
    parse,
    serialize,
)
from vcred.errors import ParsingError

SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])

#: characters that are ordinary, odd (need escaping, end lines, are refused) or non-ASCII
ODD_CHARS = " \t\x00\x01\x08\x0b\x0c\x1c\x1f\x7f\r\n\x85\u2028\u2029\"'\\<>{}|^`@#._-:·é€😀"
plain = st.text("abcXYZ019", min_size=1, max_size=6)
odd = st.text(ODD_CHARS, min_size=1, max_size=2)
uchar = st.sampled_from(["\\u0041", "\\u00e9", "\\U0001F600", "\\u0000", "\\u0022", "\\u005C"])
echar = st.sampled_from(["\\t", "\\b", "\\n", "\\r", "\\f", '\\"', "\\'", "\\\\"])
bad_escape = st.sampled_from(["\\x", "\\u12", "\\U1234", "\\"])


def _mostly(
    common: st.SearchStrategy[str], *rare: st.SearchStrategy[str]
) -> st.SearchStrategy[str]:
    return st.one_of(common, common, common, *rare)


iri_body = st.lists(_mostly(plain | st.sampled_from(["://", "#", "/", ".", "-"]), uchar, odd))
iris = st.builds(lambda parts: "<" + "".join(parts) + ">", iri_body)
blank_nodes = st.builds(
    lambda parts: "_:" + "".join(parts), st.lists(_mostly(plain, odd, st.just(".")), min_size=1)
)
literal_body = st.lists(_mostly(plain | st.just(" "), echar, uchar, odd, bad_escape))
literal_suffix = st.sampled_from(
    [
        "",
        "@en",
        "@en-GB",
        "@EN-gb-x1",
        "@en-",
        "@1",
        f"^^<{XSD_STRING}>",
        f"^^<{RDF_LANGSTRING}>",
        "^^<http://www.w3.org/2001/XMLSchema#integer>",
        "^^<http://example.org/d\\u0074>",
        "^^<http://www.w3.org/2001/XMLSchema#string2>",
        "^^<>",
        "^^",
    ]
)
literals = st.builds(
    lambda body, suffix: '"' + "".join(body) + '"' + suffix, literal_body, literal_suffix
)
space = st.sampled_from([" ", " ", " ", "", "  ", "\t", " \t"])
comments = st.sampled_from(["", "", "", " # note", "#", "# <a> <b> <c> .", "# x\ry"])


@st.composite
def statements(draw: st.DrawFn) -> str:
    rare_literal_subject = draw(st.integers(0, 20)) == 0
    subject = draw(literals if rare_literal_subject else iris | blank_nodes)
    obj = draw(iris | blank_nodes | literals | literals)
    graph = draw(st.sampled_from(["", "", "iri", "blank"]))
    terms = [subject, draw(iris), obj]
    if graph == "iri":
        terms.append(draw(iris))
    elif graph == "blank":
        terms.append(draw(blank_nodes))
    text = draw(space) + "".join(term + draw(space) for term in terms)
    return text + draw(st.sampled_from([".", ".", ".", "", ". ."])) + draw(space) + draw(comments)


lines = _mostly(statements(), st.sampled_from(["", "  ", "\t", "# comment", "  # indented"]))
line_ends = _mostly(
    st.just("\n"), st.sampled_from(["\r\n", "\r", "\x0b", "\x0c", "\x85", "\u2028"])
)


@st.composite
def documents(draw: st.DrawFn) -> str:
    parts = draw(st.lists(st.tuples(lines, line_ends), max_size=8))
    text = "".join(line + end for line, end in parts)
    if text and draw(st.booleans()):
        text = text[: -len(parts[-1][1])]  # no final line end
    return text


def _outcome(reader: object, text: str) -> tuple[str, object]:
    assert callable(reader)
    try:
        return "quads", reader(text)
    except ParsingError as error:
        return "refused", error.pointer


@SETTINGS
@given(documents())
def test_parse_agrees_with_the_reference_reader(text: str) -> None:
    assert _outcome(parse, text) == _outcome(_parse_lines, text)


@SETTINGS
@given(documents(), st.integers(min_value=0), st.sampled_from(ODD_CHARS))
def test_parse_agrees_with_the_reference_reader_on_damaged_documents(
    text: str, at: int, char: str
) -> None:
    at = at % (len(text) + 1)
    for damaged in (text[:at] + char + text[at:], text[:at] + text[at + 1 :]):
        assert _outcome(parse, damaged) == _outcome(_parse_lines, damaged)


def _reads_in_one_pass(text: str) -> bool:
    return _read_canonical(text) is not None


@SETTINGS
@given(documents())
def test_serialized_quads_are_read_in_one_pass(text: str) -> None:
    """What the reference reads, serialized again, takes the one-pass path — unless an IRI
    needs an escape (a character IRIREF forbids)."""
    try:
        quads = _parse_lines(text)
    except ParsingError:
        return
    canonical = "".join(map(serialize, quads))
    iris = [term for quad in quads for term in quad if term.startswith("<")]
    if not quads or any("\\" in iri for iri in iris):
        return
    assert _reads_in_one_pass(canonical)
    assert parse(canonical) == quads


S, P = "<http://example.org/s>", "<http://example.org/p>"


@pytest.mark.parametrize(
    "text",
    [
        f'{S} {P} "a\\u0022b" .\n',  # an escape canonical form writes otherwise
        f'{S} {P} "\\u000a" .\n',  # lower-case hex
        f"{S} {P} <http://example.org/\\u0041> .\n",
        f'{S} {P} "x"^^<{XSD_STRING}> .\n',  # canonical form drops xsd:string
        f'{S} {P} "tab\there" .\n',  # a raw TAB in a literal is written \\t
        f'{S} {P} "del\x7f" .\n',
        f"{S} {P} <http://example.org/o> .\r\n",  # CR ends a line too
        f'{S} {P} "a\x0bb" .\n',  # a raw VT is N-Quads, but canonical form writes \\u000B
        f"# a comment\n{S} {P} _:b .\n",
        f"{S} {P} _:b .\n\n{S} {P} _:c .\n",
        "",
    ],
)
def test_inputs_read_by_the_reference_reader(text: str) -> None:
    assert not _reads_in_one_pass(text)
    assert _outcome(parse, text) == _outcome(_parse_lines, text)


@pytest.mark.parametrize(
    "text",
    [
        f"{S} {P} <http://example.org/o> .\n{S} {P} _:b _:g .\n",
        f'{S} {P} "é😀 ok"@en-GB\t.  # comment\n{S} {P} "1"^^<{XSD_STRING}2> .',
        f"{S}{P}_:b.\n",
        f'{S} {P} "a\\"b\\\\c\\n\\u0001\\u007F" .\n',  # the escapes escape_literal writes
        f'{S} {P} "a\x85b\u2028c\u2029" .\n',  # NEL, LS, PS: no line end, no escape
    ],
)
def test_canonical_documents_are_read_in_one_pass(text: str) -> None:
    assert _reads_in_one_pass(text)
    assert parse(text) == _parse_lines(text)


@pytest.mark.parametrize(
    ("text", "line"),
    [
        (f"{S} {P} <http://example.org/o> .\n{S} {P} .\n", 2),
        (f"{S} {P} <o> .\n{S} {P} <o> . extra\n", 2),
        (f"{S} {P} <a b> .\n", 1),
        (f'{S} {P} "a\rb" .\n', 1),  # CR inside a literal ends its line
        (f"{S} {P} <o> .\n\n# c\n_:b. {P} <o> .\n", 4),
    ],
)
def test_malformed_lines_are_refused_with_their_number(text: str, line: int) -> None:
    with pytest.raises(ParsingError) as info:
        parse(text)
    assert info.value.pointer == f"/line/{line}"


def test_quads_are_tuples_of_canonical_terms() -> None:
    quads: list[Quad] = parse(f'{S} {P} "v"@en _:g .\n')
    assert quads == [(S, P, '"v"@en', "_:g")]


@pytest.mark.parametrize("char", ["\x0b", "\x0c", "\x1c", "\x85", "\u2028", "\u2029"])
def test_only_cr_and_lf_end_a_line(char: str) -> None:
    """N-Quads' EOL is CR or LF: the other characters str.splitlines cuts at are literal text
    (rdf-canon test060 has NEL, LS and PS in a literal)."""
    text = f'{S} {P} "a{char}b" .\n{S} {P} "c" .\n'
    assert parse(text) == [(S, P, literal(f"a{char}b"), ""), (S, P, '"c"', "")]
    assert parse(serialize(parse(text)[0])) == parse(text)[:1]
    with pytest.raises(ParsingError) as info:
        parse(f"{S} {P} <o> .{char}{S} {P} <o> .\n")  # not two statements
    assert info.value.pointer == "/line/1"


@pytest.mark.parametrize("escape", ["\\U00110000", "\\UFFFFFFFF", "\\uD800", "\\uDFFF"])
def test_an_escape_naming_no_character_is_refused_at_its_line(escape: str) -> None:
    """Hypothesis found it: ``chr()`` raised ValueError out of the parser for ``\\U00110000``."""
    statement = '<http://a.example/s> <http://a.example/p> "{}" .\n'
    text = statement.format("x") + statement.format(escape)
    with pytest.raises(ParsingError) as refused:
        parse(text)
    assert refused.value.pointer == "/line/2"
