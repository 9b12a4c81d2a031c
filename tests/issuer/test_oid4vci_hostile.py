"""The issuer's OpenID4VCI endpoints, answered by a wallet that sends anything: with a live
access token, a credential request of any shape — a wrong type at each member, NUL, huge or
non-UTF-8 text, nesting — is a 4xx OAuth error answer (RFC 6749 §5.2, OpenID4VCI §8.3.1.2),
never a 5xx; so is any token request."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask

from tests.issuer.test_oid4vci import redeemed

HOSTILE: list[Any] = [None, 0, -1, 1.5, True, "", "\x00", "é" * 2000, [], [None], {}, {"a": []}]
MEMBERS = ["credential_configuration_id", "proofs", "proof", "credential_identifier", "x"]


def _bodies() -> list[Any]:
    bodies: list[Any] = [{member: value} for member in MEMBERS for value in HOSTILE]
    bodies += [{"credential_configuration_id": "c", "proofs": {"jwt": value}} for value in HOSTILE]
    bodies += [
        {"credential_configuration_id": "c", "proofs": {"jwt": [value]}} for value in HOSTILE
    ]
    bodies += [{"proofs": {"jwt": ["a.b.c"], "ldp_vp": [{}]}}, *HOSTILE]
    return bodies


RAW_BODIES = [b"", b"\xff\xfe", b"{" * 5000, b'{"a": 1, "a": 2}', b"[" * 100 + b"]" * 100]


def _oauth_error(answer: Any) -> str:
    assert 400 <= answer.status_code < 500, answer.get_data(as_text=True)
    body = answer.get_json()
    assert isinstance(body, dict) and isinstance(body.get("error"), str), body
    return str(body["error"])


def test_a_credential_request_of_any_shape_is_a_4xx_oauth_error(app: Flask) -> None:
    # one app for every body (an app per body was most of this file's time): each body is
    # sent with an access token of its own, and every body that is not answered so is named
    wrong = []
    for body in _bodies():
        made, access = redeemed(app)
        if isinstance(body, dict) and body.get("credential_configuration_id") == "c":
            body = {**body, "credential_configuration_id": made.configuration}
        answer = app.test_client().post(
            "/oid4vci/credential", json=body, headers={"Authorization": f"Bearer {access}"}
        )
        try:
            _oauth_error(answer)
        except AssertionError as error:
            wrong.append((json.dumps(body)[:80], str(error)[:200]))
    assert not wrong


@pytest.mark.parametrize("raw", RAW_BODIES, ids=range(len(RAW_BODIES)))
def test_a_credential_request_that_is_no_json_is_a_4xx_oauth_error(app: Flask, raw: bytes) -> None:
    _, access = redeemed(app)
    answer = app.test_client().post(
        "/oid4vci/credential",
        data=raw,
        headers={"Authorization": f"Bearer {access}", "Content-Type": "application/json"},
    )
    assert _oauth_error(answer) == "invalid_credential_request"


@pytest.mark.parametrize(
    "form",
    [
        b"grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Apre-authorized_code"
        b"&pre-authorized_code=%00",
        b"grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Apre-authorized_code"
        b"&pre-authorized_code=%FF%FE&tx_code=%FF",
        b"grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Apre-authorized_code"
        b"&pre-authorized_code=" + b"a" * 100_000,
        b"grant_type=%00",
        b"\xff\xfe\x00",
        b"&&&==&",
    ],
    ids=range(6),
)
def test_a_token_request_of_any_shape_is_a_4xx_oauth_error(app: Flask, form: bytes) -> None:
    answer = app.test_client().post(
        "/oid4vci/token",
        data=form,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    _oauth_error(answer)
