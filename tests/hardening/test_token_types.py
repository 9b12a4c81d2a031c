"""Any Python value handed to a function that takes a token is a typed refusal (a VcredError
the caller can catch by its code), never a TypeError or AttributeError from deep inside.

Found by this sweep: ``jose.loads_strict`` and ``cose.loads_strict`` raised TypeError for
anything but str / bytes (bytearray and memoryview included), ``jose.two_dots``
AttributeError, ``sdjwt.digest`` AttributeError / UnicodeEncodeError.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import pytest

import vcred
from tests.conftest import NOW
from vcred import Verifier, cose, jose, sdjwt
from vcred.errors import ParsingError, VcredError

AT = Verifier(clock=lambda: NOW)

#: What a caller could pass by mistake, or take unchecked out of a parsed document.
VALUES: list[Any] = [
    None,
    0,
    1.5,
    True,
    [],
    ["a.b.c"],
    {},
    {"a": 1},
    b"a.b.c",
    bytearray(b"a.b.c"),
    memoryview(b"a.b.c"),
    b"\xd2\x84",
    object(),
    "a.b.c",
    "a~b~",
    "é",
    "\x00",
]

ENTRY_POINTS: dict[str, Callable[[Any], Any]] = {
    "vcred.verify": lambda v: vcred.verify(v, verifier=AT),
    "vcred.verify_presentation": lambda v: vcred.verify_presentation(v, verifier=AT),
    "jose.loads_strict": jose.loads_strict,
    "jose.split_compact": jose.split_compact,
    "jose.two_dots": jose.two_dots,
    "jose.parse_unverified": jose.parse_unverified,
    "jose.unverified_header": jose.unverified_header,
    "jose.unverified_payload": jose.unverified_payload,
    "jose.verify_vc_jwt": lambda v: jose.verify_vc_jwt(v, lookup=AT.method_lookup),
    "jose.verify_vp_jwt": lambda v: jose.verify_vp_jwt(v, lookup=AT.method_lookup),
    "sdjwt.parse": sdjwt.parse,
    "sdjwt.verify": lambda v: sdjwt.verify(v, lookup=AT.method_lookup),
    "sdjwt.decode_disclosure": sdjwt.decode_disclosure,
    "sdjwt.digest": sdjwt.digest,
    "sdjwt.unverified_disclosable": sdjwt.unverified_disclosable,
    "cose.loads_strict": lambda v: cose.loads_strict(v, what="the input", pointer=""),
    "cose.parse_unverified": cose.parse_unverified,
    "cose.unverified_payload": cose.unverified_payload,
    "cose.verify_vc_cose": lambda v: cose.verify_vc_cose(v, lookup=AT.method_lookup),
    "cose.verify_vp_cose": lambda v: cose.verify_vp_cose(v, lookup=AT.method_lookup),
}


@pytest.mark.parametrize("value", VALUES, ids=lambda v: type(v).__name__ + ":" + repr(v)[:12])
@pytest.mark.parametrize("entry", sorted(ENTRY_POINTS))
def test_any_value_given_for_a_token_is_a_typed_refusal_or_an_answer(
    entry: str, value: Any
) -> None:
    with contextlib.suppress(VcredError):  # anything else fails the test with its traceback
        ENTRY_POINTS[entry](value)


@pytest.mark.parametrize("wrong", [None, 7, ["{}"], {"a": 1}, object()])
def test_loads_strict_refuses_what_is_no_text_as_a_parsing_error(wrong: Any) -> None:
    with pytest.raises(ParsingError, match=f"the input is not JSON text: a {type(wrong).__name__}"):
        jose.loads_strict(wrong, what="the input")
    with pytest.raises(ParsingError, match=f"the input is not CBOR: a {type(wrong).__name__}"):
        cose.loads_strict(wrong, what="the input", pointer="")


@pytest.mark.parametrize("kind", [bytes, bytearray, memoryview])
def test_loads_strict_reads_any_bytes_like_text(kind: Callable[[bytes], Any]) -> None:
    assert jose.loads_strict(kind(b'{"a": [1]}')) == {"a": [1]}
    assert cose.loads_strict(kind(b"\xa1\x61a\x01"), what="the input", pointer="") == {"a": 1}
    with pytest.raises(ParsingError, match="not valid JSON"):
        jose.loads_strict(kind(b'{"a": 1, "a": 2}'))


def test_a_digest_of_what_no_disclosure_is_is_a_parsing_error() -> None:
    with pytest.raises(ParsingError, match="not non-ASCII text"):
        sdjwt.digest("é")
    with pytest.raises(ParsingError, match="not a bytes"):
        sdjwt.digest(b"WyJzYWx0IiwgIm5hbWUiLCAidmFsdWUiXQ")  # type: ignore[arg-type]
