"""N-Quads terms in their canonical text form: escaping, serializing and parsing.

A quad is a tuple of four strings, each already in canonical N-Quads syntax: ``<iri>``,
``_:label`` or a literal (``"text"``, ``"text"@lang``, ``"text"^^<datatype>``); the graph is
``""`` for the default graph. Keeping terms as text makes serialization a string join, which is
most of what canonicalization does.

Canonical N-Quads: https://www.w3.org/TR/rdf-canon/#canonical-quads and
https://www.w3.org/TR/n-quads/#canonical-quads — in literals only ``"``, ``\\``, LF and CR
use their ECHAR forms besides BS, TAB and FF; other control characters use ``\\uXXXX``
(upper-case hex). This is what rdf-canonize 5 writes.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any, Final

from vcred.errors import ParsingError

Quad = tuple[str, str, str, str]

XSD_STRING: Final = "http://www.w3.org/2001/XMLSchema#string"
RDF_LANGSTRING: Final = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"

_ECHAR: Final = {
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\f": "\\f",
    "\r": "\\r",
    '"': '\\"',
    "\\": "\\\\",
}
_LITERAL_ESCAPE: Final = re.compile(r'[\x00-\x1f\x7f"\\]')
_IRI_ESCAPE: Final = re.compile(r'[\x00-\x20<>"{}|^`\\]')


def _literal_char(match: re.Match[str]) -> str:
    char = match.group()
    return _ECHAR.get(char) or f"\\u{ord(char):04X}"


def escape_literal(value: str) -> str:
    """The lexical form of a literal as canonical N-Quads writes it (without quotes)."""
    return _LITERAL_ESCAPE.sub(_literal_char, value)


def escape_iri(value: str) -> str:
    """An IRI as N-Quads writes it (characters IRIREF forbids become ``\\uXXXX``)."""
    return _IRI_ESCAPE.sub(lambda m: f"\\u{ord(m.group()):04X}", value)


def literal(value: str, datatype: str = XSD_STRING, language: str | None = None) -> str:
    """A literal term: ``"value"``, ``"value"@language`` or ``"value"^^<datatype>``."""
    text = '"' + escape_literal(value) + '"'
    if language is not None:
        return text + "@" + language
    if datatype == XSD_STRING:
        return text
    return text + "^^<" + escape_iri(datatype) + ">"


def serialize(quad: Quad) -> str:
    """One N-Quads statement, newline-terminated."""
    s, p, o, g = quad
    if g:
        return f"{s} {p} {o} {g} .\n"
    return f"{s} {p} {o} .\n"


# -- parsing ------------------------------------------------------------------------------

_UCHAR = r"\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8}"
# Each body is "unrolled" (a run of plain characters, then escapes each followed by a run):
# the same language as (plain|escape)*, without trying the alternation at every character.
_IRI_PLAIN = r"[^\x00-\x20<>\"{}|^`\\]*"
_IRI = rf"<({_IRI_PLAIN}(?:(?:{_UCHAR}){_IRI_PLAIN})*)>"
_PN_CHARS = r"A-Za-z0-9_\-\u00B7\u00C0-\U000EFFFF"
_BNODE_LABEL = rf"_:[A-Za-z0-9_\u00C0-\U000EFFFF](?:[{_PN_CHARS}.]*[{_PN_CHARS}])?"
_BNODE = rf"({_BNODE_LABEL})"
_STRING_PLAIN = r'[^"\\\n\r]*'
_STRING = rf'"({_STRING_PLAIN}(?:(?:\\[tbnrf"\'\\]|{_UCHAR}){_STRING_PLAIN})*)"'
_LANG_TAG = r"[a-zA-Z]+(?:-[a-zA-Z0-9]+)*"
_LANG = rf"@({_LANG_TAG})"
_WS = r"[ \t]*"
_STATEMENT_PATTERN: Final = (
    rf"{_WS}(?:{_IRI}|{_BNODE}){_WS}{_IRI}{_WS}"
    rf"(?:{_IRI}|{_BNODE}|{_STRING}(?:\^\^{_IRI}|{_LANG})?){_WS}"
    rf"(?:(?:{_IRI}|{_BNODE}){_WS})?\.{_WS}(?:#.*)?"
)
_UNESCAPE: Final = re.compile(rf"\\([tbnrf\"'\\])|{_UCHAR}")
_ECHAR_VALUE: Final = {
    "t": "\t",
    "b": "\b",
    "n": "\n",
    "r": "\r",
    "f": "\f",
    '"': '"',
    "'": "'",
    "\\": "\\",
}


# The statements `parse` reads in one go: terms already in canonical form — IRIs without
# escapes, literals with only the escapes `escape_literal` writes and no character it would
# escape (controls, DEL), no xsd:string datatype (canonical form drops it) — so that each
# captured term is what the reference reader builds from it. No part matches LF or CR (the
# only line ends of N-Quads), so a match lies within one line and spans it: with one match per
# line, every line is a statement the reference reader accepts, with the same terms.
_CANONICAL_IRI = f"<{_IRI_PLAIN}>"
_CANONICAL_STRING_PLAIN = r'[^"\\\x00-\x1f\x7f]*'
# escape_literal's escapes: ECHAR for BS TAB LF FF CR " \, upper-case \u00XX for the rest
_CANONICAL_ESCAPE = r'\\[btnfr"\\]|\\u00(?:0[0-7BEF]|1[0-9A-F]|7F)'
_CANONICAL_LITERAL = (
    rf'"{_CANONICAL_STRING_PLAIN}(?:(?:{_CANONICAL_ESCAPE}){_CANONICAL_STRING_PLAIN})*"'
    rf"(?:\^\^(?!<{re.escape(XSD_STRING)}>){_CANONICAL_IRI}|@{_LANG_TAG})?"
)
_CANONICAL_STATEMENT_PATTERN: Final = (
    rf"^{_WS}({_CANONICAL_IRI}|{_BNODE_LABEL}){_WS}({_CANONICAL_IRI}){_WS}"
    rf"({_CANONICAL_IRI}|{_BNODE_LABEL}|{_CANONICAL_LITERAL}){_WS}"
    rf"(?:({_CANONICAL_IRI}|{_BNODE_LABEL}){_WS})?\.{_WS}(?:#[^\n\r]*)?$"
)


@cache
def _statement() -> re.Pattern[str]:
    """One statement (compiled on first use: the blank node labels' character class, up to
    U+EFFFF, takes sre tens of milliseconds per occurrence — every import of vcred paid it)."""
    return re.compile(_STATEMENT_PATTERN)


@cache
def _canonical_statement() -> re.Pattern[str]:
    """A statement already in canonical form, anchored to its line (compiled on first use)."""
    return re.compile(_CANONICAL_STATEMENT_PATTERN, re.MULTILINE)


#: N-Quads' EOL is CR and LF only: VT, FF, NEL, LS and PS may stand raw inside a literal
#: (https://www.w3.org/TR/n-quads/#grammar-production-EOL), where str.splitlines would cut
_LINE_END: Final = re.compile(r"\r\n?|\n")


class _NoCharacterError(ValueError):
    """A \\u or \\U escape naming no Unicode scalar value (a surrogate, past U+10FFFF)."""


def _unescape(text: str) -> str:
    def one(match: re.Match[str]) -> str:
        if match.group(1):
            return _ECHAR_VALUE[match.group(1)]
        code = int(match.group()[2:], 16)
        if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
            raise _NoCharacterError
        return chr(code)

    return _UNESCAPE.sub(one, text) if "\\" in text else text


def _iri(text: str) -> str:
    if "\\" not in text:  # IRIREF's plain characters are exactly those escape_iri keeps
        return "<" + text + ">"
    return "<" + escape_iri(_unescape(text)) + ">"


def parse(text: str) -> list[Quad]:
    """Parse N-Quads into quads in canonical term form.

    Raises ParsingError (pointer ``/line/N``) for a statement that is not N-Quads.
    https://www.w3.org/TR/n-quads/#sec-grammar
    """
    quads = _read_canonical(text)
    return _parse_lines(text) if quads is None else quads


def _read_canonical(text: str) -> list[Quad] | None:
    """The quads of a document whose every line is a statement in canonical form (what a
    serializer writes), read with one ``findall``; None for any other document."""
    quads: list[Quad] = _canonical_statement().findall(text)
    if len(quads) != text.count("\n") + (not text.endswith("\n")):
        return None  # a line that is no canonical statement (or an empty document)
    return quads


def _parse_lines(text: str) -> list[Quad]:
    """The reference reader: one statement per line (CR, LF or CRLF ends it), any term syntax."""
    quads: list[Quad] = []
    for number, line in enumerate(_LINE_END.split(text), start=1):
        stripped = line.strip(" \t")
        if not stripped or stripped.startswith("#"):
            continue
        match = _statement().fullmatch(line)
        if match is None:
            raise ParsingError("not an N-Quads statement", pointer=f"/line/{number}")
        try:
            quads.append(_quad(match.groups()))
        except _NoCharacterError:
            raise ParsingError(
                "an escape names no Unicode character", pointer=f"/line/{number}"
            ) from None
    return quads


def _quad(groups: tuple[Any, ...]) -> Quad:
    (s_iri, s_bn, p_iri, o_iri, o_bn, o_str, o_dt, o_lang, g_iri, g_bn) = groups
    subject = _iri(s_iri) if s_iri is not None else s_bn
    if o_iri is not None:
        obj = _iri(o_iri)
    elif o_bn is not None:
        obj = o_bn
    else:
        value = _unescape(o_str)
        if o_lang is not None:
            obj = literal(value, RDF_LANGSTRING, o_lang)
        else:
            obj = literal(value, _unescape(o_dt) if o_dt is not None else XSD_STRING)
    graph = _iri(g_iri) if g_iri is not None else (g_bn or "")
    return (subject, _iri(p_iri), obj, graph)
