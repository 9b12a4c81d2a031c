"""Strict JSON: the one parser for every JSON text vcred reads from outside.

Invalid UTF-8, duplicate member names (RFC 8725 §3.2 / RFC 7515 §5.2: two parsers could read
two different documents out of one), NaN / Infinity, numbers no double can hold and lone
surrogates (not Unicode text, I-JSON RFC 7493 §2.1) are all refused while parsing.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable
from json.encoder import c_make_encoder  # type: ignore[attr-defined]
from typing import Any, Final

from vcred import model
from vcred.errors import MalformedError, ParsingError

__all__ = [
    "MemberArray",
    "compact_encoder",
    "escapes_a_surrogate",
    "loads_local",
    "loads_strict",
    "names_at_most_once",
    "split_member_array",
]


def loads_strict(
    data: str | bytes | bytearray | memoryview,
    *,
    what: str = "JSON",
    pointer: str = "",
    check_text: bool = True,
    check_numbers: bool = True,
    max_depth: int | None = None,
) -> Any:
    """Parse JSON, refusing invalid UTF-8, duplicate member names, NaN/Infinity and numbers
    no double can hold (``1e400`` would become ``inf``; ``model.MAX_JSON_NUMBER``).

    RFC 8725 §3.2 / RFC 7515 §5.2: a JOSE header or claim set with duplicate members is invalid.
    ``data``: str, or bytes-like (UTF-8). Raises ParsingError (also for data of any other
    type); MalformedError (MALFORMED) with the pointer of a number out of range or of a
    string that is not Unicode text (a lone surrogate, written ``\\ud800``: not I-JSON, RFC
    7493 §2.1), prefixed with ``pointer``. With ``check_text=False`` a lone surrogate is kept,
    for a caller that refuses it part by part with :func:`vcred.model.check_text` (a batch
    refuses the item holding one, not the request); with ``check_numbers=False`` likewise a
    number out of range (an integer too long to parse stands as infinity), for
    :func:`vcred.model.check_numbers`. With ``max_depth`` (``model.MAX_DEPTH`` for a document
    to verify, in every format) a value nesting objects and arrays deeper is a MalformedError
    with the pointer of the first container past it, as :func:`vcred.model.check_depth`
    counts.
    """
    if isinstance(data, bytearray | memoryview):  # bytes-like: the same text
        data = bytes(data)
    elif not isinstance(data, str | bytes):
        # a value taken from a parsed document or a caller's mistake: a refusal, not TypeError
        raise ParsingError(f"{what} is not JSON text: a {type(data).__name__}")
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
        try:
            value = _STRICT_DECODER.decode(text)
        except _NumberOutOfRangeError as exc:
            if check_numbers:
                raise _located_number_error(text, what, pointer) from exc
            value = _UNBOUNDED_DECODER.decode(text)  # only a text holding such a number
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ParsingError(f"{what} is not valid JSON: {exc}") from exc
    # a text with at most max_depth brackets cannot nest deeper: most skip the walk
    if max_depth is not None and text.count("{") + text.count("[") > max_depth:
        try:
            model.check_depth(value, limit=max_depth, pointer=pointer)
        except MalformedError as located:
            raise MalformedError(f"{what}: {located.message}", pointer=located.pointer) from None
    if not check_text:
        return value
    # the parser turns the escape \ud800 into a lone surrogate and keeps one a str holds:
    # only a text with either is walked (valid UTF-8 bytes decode to none)
    if escapes_a_surrogate(text) or not (isinstance(data, bytes) or model.is_unicode(text)):
        try:
            model.check_text(value, pointer=pointer)
        except MalformedError as located:
            raise MalformedError(f"{what}: {located.message}", pointer=located.pointer) from located
    return value


def compact_encoder(*, ensure_ascii: bool, sort_keys: bool = False) -> Callable[[Any], str]:
    """``json.dumps(value, separators=(",", ":"), check_circular=False, ...)`` made once.

    ``json.dumps`` with options builds a JSONEncoder per call, and ``JSONEncoder.encode`` a C
    encoder (and two closures) per call: this one is built once, for texts written on every
    request (an answer, a journal line, an audit entry). No cycle check: for values built of
    plain JSON (the check's set would be shared by every thread). Raises TypeError for a
    value of another type, ValueError for NaN or an infinity when ``allow_nan`` would.
    """
    encoder = json.JSONEncoder(
        separators=(",", ":"), ensure_ascii=ensure_ascii, sort_keys=sort_keys, check_circular=False
    )
    if c_make_encoder is None:  # a Python without its _json accelerator
        return encoder.encode
    prepared = c_make_encoder(
        None,  # no cycle check
        encoder.default,
        json.encoder.encode_basestring_ascii if ensure_ascii else json.encoder.encode_basestring,
        None,  # no indent
        encoder.key_separator,
        encoder.item_separator,
        encoder.sort_keys,
        encoder.skipkeys,
        encoder.allow_nan,
    )

    def encode(value: Any) -> str:
        return "".join(prepared(value, 0))

    return encode


def loads_local(text: str | bytes, *, what: str) -> Any:
    """Parse the JSON text of a local file its operator gave (a key file, a trust list or its
    specification, a registry file, a credential to sign): ``json.loads`` as it reads it,
    with a typed error.

    Not :func:`loads_strict`: these files are the operator's own, not a peer's, and read as
    they always were (of duplicate member names the last counts). Raises ParsingError "``what``
    is not JSON" for text that is not JSON, nested past the parser's recursion included (a
    RecursionError, and a traceback on the command line, before).
    """
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise ParsingError(f"{what} is not JSON: {exc}") from exc


def escapes_a_surrogate(text: str | bytes) -> bool:
    """Whether the JSON text ``text`` writes a surrogate code point as an escape (``\\ud800``;
    paired or not: the parsed value tells), or holds a backslash-escaped text that only looks
    like one. False: parsed, it holds no lone surrogate but those a str ``text`` holds
    itself (UTF-8 bytes hold none).
    """
    # most texts hold no backslash at all: one memchr tells
    if isinstance(text, bytes):
        return b"\\" in text and _SURROGATE_ESCAPE_BYTES.search(text) is not None
    return "\\" in text and _SURROGATE_ESCAPE.search(text) is not None


def names_at_most_once(data: bytes, name: bytes) -> bool:
    """Whether at most one object of the JSON text ``data`` has a member called ``name``,
    told from the text alone: True is exact, False only means "cannot tell".

    ``name`` (UTF-8) must hold no character JSON escapes in short form (``"``, backslash,
    ``/``, controls). Then, without ``\\u`` escapes in ``data``, a string that decodes to
    ``name`` is written ``"name"`` in the text: a member called ``name`` per occurrence, at
    most.
    """
    # most texts hold no backslash at all: one memchr tells (find, not `in`: `bytes in bytes`
    # first tries the needle as an integer and raises and clears a TypeError, CPython 3.11)
    no_escape = data.find(b"\\") < 0 or data.find(b"\\u") < 0
    return no_escape and data.count(b'"' + name + b'"') <= 1


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class MemberArray:
    """A JSON object's text split at a member holding an array (:func:`split_member_array`)."""

    rest: str
    """The object's text with the array written ``[]``."""
    items: tuple[str, ...]
    """The text of each item, as sent (the whitespace around it left out); none when there
    are more than ``max_items``."""
    count: int
    """How many items the array holds."""


def split_member_array(text: str, name: str, *, max_items: int) -> MemberArray | None:
    """Split the JSON text of an object at its member ``name``, an array, for a caller that
    parses each part on its own: when a fault of one item should not make the whole text
    unreadable (a batch: one result per item).

    Each part is read by the JSON grammar (RFC 8259) alone: duplicate member names, numbers
    out of range and lone surrogates are kept, for the caller's strict parse of the part
    (:func:`loads_strict`) to refuse. None when the text is not shaped so: not JSON, nested
    past the parser's own recursion (a few hundred levels), no object at the top, ``name``
    no member of it holding an array, or held twice. Past ``max_items`` items it stops:
    ``count`` is then ``max_items + 1`` and ``items`` empty.
    """
    try:
        pos = _past_space(text, 0)
        if text[pos : pos + 1] != "{":
            return None
        pos = _past_space(text, pos + 1)
        opened = closed = -1
        items: list[str] = []
        while True:
            if text[pos : pos + 1] != '"':
                return None
            key, pos = json.decoder.scanstring(text, pos + 1)  # type: ignore[attr-defined]
            pos = _past_space(text, pos)
            if text[pos : pos + 1] != ":":
                return None
            pos = _past_space(text, pos + 1)
            if key == name and text[pos : pos + 1] == "[":
                if opened >= 0:  # the member twice
                    return None
                opened = pos
                pos = _past_space(text, pos + 1)
                while text[pos : pos + 1] != "]":
                    if len(items) == max_items:
                        return MemberArray(rest="", items=(), count=max_items + 1)
                    end = _GRAMMAR.raw_decode(text, pos)[1]
                    items.append(text[pos:end])
                    pos = _past_space(text, end)
                    if text[pos : pos + 1] == ",":
                        pos = _past_space(text, pos + 1)
                        if text[pos : pos + 1] == "]":  # [1,]
                            return None
                    elif text[pos : pos + 1] != "]":
                        return None
                closed = pos
                pos += 1
            else:
                pos = _GRAMMAR.raw_decode(text, pos)[1]
            pos = _past_space(text, pos)
            if text[pos : pos + 1] == "}":
                break
            if text[pos : pos + 1] != ",":
                return None
            pos = _past_space(text, pos + 1)
    except (ValueError, RecursionError):  # JSONDecodeError is a ValueError
        return None
    if opened < 0 or _past_space(text, pos + 1) != len(text):
        return None
    rest = text[:opened] + "[]" + text[closed + 1 :]
    return MemberArray(rest=rest, items=tuple(items), count=len(items))


def _past_space(text: str, pos: int) -> int:
    """``pos`` moved past the whitespace there."""
    found = _SPACE.match(text, pos)
    return found.end() if found else pos


#: RFC 8259 §2: the only whitespace between tokens.
_SPACE: Final = re.compile(r"[ \t\n\r]*")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise ValueError("duplicate member name")
    return result


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


class _NumberOutOfRangeError(ValueError):
    """A JSON number no double can hold (found while parsing; located afterwards)."""


# Python refuses integers longer than this many digits (sys.int_info.default_max_str_digits)
# with a bare ValueError; far shorter ones are already past any double.
_MAX_NUMBER_DIGITS: Final = len(str(int(model.MAX_JSON_NUMBER)))


def _bounded_int(text: str) -> int:
    if len(text) < _MAX_NUMBER_DIGITS:  # below 10 ** 308: in range
        return int(text)
    if len(text.lstrip("-")) > _MAX_NUMBER_DIGITS:
        raise _NumberOutOfRangeError(text[:40])
    value = int(text)
    if not model.number_in_range(value):
        raise _NumberOutOfRangeError(text[:40])
    return value


def _bounded_float(text: str) -> float:
    value = float(text)
    if not model.number_in_range(value):
        raise _NumberOutOfRangeError(text[:40])
    return value


def _located_number_error(text: str, what: str, pointer: str) -> MalformedError:
    """The out-of-range number of ``text``, with its pointer; a ParsingError when the rest of
    ``text`` is not JSON either (the parser stopped at the number, before the fault)."""
    try:
        model.check_numbers(_UNBOUNDED_DECODER.decode(text), pointer=pointer)
    except (ValueError, RecursionError) as exc:
        return ParsingError(f"{what} is not valid JSON: {exc}")
    except MalformedError as located:
        return MalformedError(f"{what}: {located.message}", pointer=located.pointer)
    return MalformedError(f"{what}: a number out of range", pointer=pointer or None)


#: The escape of a surrogate code point (paired or not: the parsed value tells), or a
#: backslash-escaped text that only looks like one.
_SURROGATE_ESCAPE: Final = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE_ESCAPE_BYTES: Final = re.compile(rb"\\u[dD][89a-fA-F]")


def _unbounded_int(digits: str) -> int | float:
    """An integer as it is written; one too long to parse stands as infinity (out of range
    either way, and refused where it is checked)."""
    if len(digits.lstrip("-")) > _MAX_NUMBER_DIGITS:
        return float("-inf") if digits.startswith("-") else float("inf")
    return int(digits)


#: numbers kept as read, for the text :data:`_STRICT_DECODER` refused a number of
_UNBOUNDED_DECODER = json.JSONDecoder(
    object_pairs_hook=_no_duplicates, parse_constant=_no_constant, parse_int=_unbounded_int
)

_STRICT_DECODER = json.JSONDecoder(
    object_pairs_hook=_no_duplicates,
    parse_constant=_no_constant,
    parse_int=_bounded_int,
    parse_float=_bounded_float,
)

#: the JSON grammar alone: duplicate member names and numbers out of range kept, for
#: :func:`split_member_array`
_GRAMMAR = json.JSONDecoder(parse_constant=_no_constant, parse_int=_unbounded_int)
