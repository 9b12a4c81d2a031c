"""The routes added for batch, as-of, receipts, OpenID4VP, recognitions and identifiers answer
any body, query or header with a 2xx or a 4xx problem: never a 5xx, never a traceback."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask

JUNK_BODIES: list[Any] = [
    None,
    "",
    "not json",
    "[]",
    "{}",
    "null",
    "1e999",
    '{"a": NaN}',
    json.dumps({"verifiableCredentials": "x"}),
    json.dumps({"verifiableCredentials": [None, 1, "a", {}, []], "options": {"asOf": 5}}),
    json.dumps({"verifiableCredentials": [], "options": {"asOf": "yesterday", "receipt": 1}}),
    json.dumps({"verifiableCredential": {}, "options": {"asOf": "9999-99-99T00:00:00Z"}}),
    json.dumps({"verifiableCredential": "e30.e30.", "options": {"receipt": True}}),
    json.dumps({"parties": [{"scheme": "US-MID", "id": "\u0000"}, 7, None]}),
    json.dumps({"parties": "all", "at": "not a date"}),
    json.dumps({"query": {"credentials": [{"id": None}]}}),
    "[" * 200 + "]" * 200,
]

POSTS = [
    "/credentials/verify",
    "/credentials/verify-batch",
    "/recognitions/query",
    "/oid4vp/requests",
    "/oid4vp/responses/unknown",
    "/oid4vp/responses/" + "x" * 500,
    "/oauth/token",
]

GETS = [
    "/recognitions",
    "/recognitions?scheme=US-MID",
    "/recognitions?scheme=US-MID&id=%00&at=tomorrow",
    "/recognitions?scheme=NOPE&id=1&at=2026-12-01",
    "/recognitions?scheme=US-MID&id=USABCDEF1234ANY&at=99999-01-01",
    "/identifiers/did:key:zzz",
    "/identifiers/did%3Aweb%3A127.0.0.1",
    "/identifiers/" + "a" * 3000,
    "/identifiers/did:jwk:e30",
    "/oid4vp/requests/unknown",
    "/benefit-requests",
]


@pytest.mark.parametrize("body", JUNK_BODIES, ids=range(len(JUNK_BODIES)))
@pytest.mark.parametrize("path", POSTS)
def test_junk_posted_to_the_new_routes_is_never_a_server_error(
    app: Flask, path: str, body: Any
) -> None:
    for content_type in ("application/json", "application/x-www-form-urlencoded", "text/plain"):
        answer = app.test_client().post(
            path,
            data=body,
            headers={"Content-Type": content_type, "Authorization": "Bearer e30.e30.e30"},
        )
        assert answer.status_code < 500, (path, content_type, answer.get_data(as_text=True))


@pytest.mark.parametrize("path", GETS)
def test_junk_queries_to_the_new_routes_are_never_a_server_error(app: Flask, path: str) -> None:
    for accept in ("application/json", "application/did+ld+json", "*/*", "x/y"):
        answer = app.test_client().get(path, headers={"Accept": accept})
        assert answer.status_code < 500, (path, accept, answer.get_data(as_text=True))
