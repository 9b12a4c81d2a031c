"""The shortcuts on the verify call's path read and answer exactly as the longer ways did:
the compact-form test against its expression, the prepared JSON encoder against
``json.dumps``, ``options.asOf`` against the clock, the verdict's log line."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from hypothesis import given
from hypothesis import strategies as st

from tests.verifier.conftest import Agency, tamper
from vcred._json import compact_encoder
from vcred.errors import MalformedError
from vcred_service.requests import dumps, parse_json_body
from verifier_app.as_of import requested_moment
from verifier_app.fast_path import token_body
from verifier_app.service import COMPACT_SECURED, is_compact_secured

_B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
#: mostly the compact forms' own characters, and some that no compact form holds
_TEXT = st.text(alphabet=st.sampled_from([*_B64URL, ".", "~", " ", "\n", "=", "+", "é", "\u0660"]))


@given(text=_TEXT)
def test_the_compact_form_test_is_its_expression(text: str) -> None:
    assert is_compact_secured(text) == (COMPACT_SECURED.fullmatch(text) is not None)


@pytest.mark.parametrize(
    ("text", "compact"),
    [
        ("a.b.c", True),
        ("a..", True),  # an empty payload and signature: still the shape, the proof refuses
        (".b.c", False),
        ("a.b", False),
        ("a.b.c.d", False),
        ("a.b.c~d~", True),  # SD-JWT
        ("abc", True),  # a COSE_Sign1 as base64url
        ("a.b.c\n", False),
        ("a.b.c=", False),
        ("a.\u0660.c", False),  # an Arabic-Indic digit is no base64url
        ("", False),
    ],
)
def test_the_compact_forms(text: str, compact: bool) -> None:
    assert is_compact_secured(text) is compact


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(value=_JSON)
def test_answers_are_written_as_json_dumps_writes_them(value: Any) -> None:
    assert dumps(value) == json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def test_what_is_no_json_is_not_written() -> None:
    with pytest.raises(TypeError):
        dumps({"at": datetime(2026, 1, 1, tzinfo=UTC)})


def test_as_of_reads_the_clock_only_when_asked() -> None:
    def clock() -> datetime:
        read.append(True)
        return datetime(2026, 6, 1, tzinfo=UTC)

    read: list[bool] = []
    assert requested_moment({}, clock=clock) is None
    assert read == []
    moment = requested_moment({"asOf": "2026-05-01T00:00:00Z"}, clock=clock)
    assert moment == datetime(2026, 5, 1, tzinfo=UTC) and read == [True]
    with pytest.raises(MalformedError, match="in the future"):
        requested_moment({"asOf": "2026-07-01T00:00:00Z"}, clock=clock)


def test_each_verdict_is_logged_at_info(
    app: Flask, agency: Agency, caplog: pytest.LogCaptureFixture
) -> None:
    client = app.test_client()
    token = agency.issue(agency.aeo_certificate())
    with caplog.at_level(logging.INFO, logger="verifier_app"):
        for sent in (token, tamper(token)):
            client.post("/credentials/verify", json={"verifiableCredential": sent})
    lines = [r.getMessage() for r in caplog.records if r.name == "verifier_app"]
    assert lines == [
        "credential VERIFIED via api: vc+jwt -",
        "credential NOT VERIFIED via api: vc+jwt INVALID_SIGNATURE",
    ]
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="verifier_app"):
        client.post("/credentials/verify", json={"verifiableCredential": token})
    assert not [r for r in caplog.records if r.name == "verifier_app"]


@given(value=_JSON, ascii_only=st.booleans(), sort_keys=st.booleans())
def test_the_prepared_encoders_write_as_json_dumps(
    value: Any, ascii_only: bool, sort_keys: bool
) -> None:
    encode = compact_encoder(ensure_ascii=ascii_only, sort_keys=sort_keys)
    expected = json.dumps(
        value, separators=(",", ":"), ensure_ascii=ascii_only, sort_keys=sort_keys
    )
    assert encode(value) == expected


_SPACES = st.text(alphabet=" \t\n\r\x0b\x0c", max_size=3).map(str.encode)
_TOKEN = st.text(alphabet=[*_B64URL, ".", "~", '"', "\\", " ", "é"], max_size=40).map(str.encode)


@st.composite
def _token_bodies(draw: st.DrawFn) -> bytes:
    """Bodies of the plain shape, and near it: other spacing, names, tokens, trailers."""
    parts = [
        draw(_SPACES),
        draw(st.sampled_from([b"{", b"[", b""])),
        draw(_SPACES),
        draw(st.sampled_from([b'"verifiableCredential"', b'"verifiableCredentials"', b'"x"'])),
        draw(_SPACES),
        draw(st.sampled_from([b":", b"", b"::"])),
        draw(_SPACES),
        b'"' + draw(_TOKEN) + draw(st.sampled_from([b'"', b"", b'","a":1'])),
        draw(_SPACES),
        draw(st.sampled_from([b"}", b"]", b"}}", b""])),
        draw(_SPACES),
    ]
    return b"".join(parts)


@given(raw=_token_bodies() | st.binary(max_size=60))
def test_a_plain_token_body_is_read_as_the_parser_reads_it(raw: bytes) -> None:
    read = token_body(raw)
    if read is None:
        return  # left to the parser
    assert read == parse_json_body(raw)


def test_the_bench_body_is_read_without_the_parser() -> None:
    raw = json.dumps({"verifiableCredential": "a.b.c~d~"}).encode()
    assert token_body(raw) == {"verifiableCredential": "a.b.c~d~"}
    assert token_body(b'{"verifiableCredential":"a\\u002eb.c"}') is None  # an escape
    assert token_body(b'{"verifiableCredential":"a.b.c","options":{}}') is None
