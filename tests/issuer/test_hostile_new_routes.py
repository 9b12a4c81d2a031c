"""The issuer routes added for OpenID4VCI, OAuth, identifiers and trust lists answer any body or
header with a 2xx or a 4xx (a protocol error or a problem): never a 5xx, never a traceback."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

JUNK_BODIES: list[Any] = [
    None,
    "",
    "not json",
    "[]",
    "{}",
    '{"a": NaN}',
    "grant_type=urn:ietf:params:oauth:grant-type:pre-authorized_code&pre-authorized_code=x",
    "grant_type=urn:ietf:params:oauth:grant-type:pre-authorized_code&tx_code=1&tx_code=2",
    "grant_type=client_credentials&client_id=%00&client_secret=",
    '{"credential_configuration_id": 5, "proofs": {"jwt": [1, null, "e30.e30."]}}',
    '{"proof": {"proof_type": "jwt", "jwt": "e30.e30.e30"}, "format": "vc+sd-jwt"}',
    "[" * 200 + "]" * 200,
]

POSTS = [
    "/oid4vci/token",
    "/oid4vci/nonce",
    "/oid4vci/credential",
    "/oid4vci/offers",
    "/oauth/token",
]

GETS = [
    "/.well-known/openid-credential-issuer",
    "/.well-known/oauth-authorization-server/oid4vci",
    "/oid4vci/offers/unknown",
    "/oid4vci/offers/" + "x" * 3000,
    "/identifiers/did:key:zzz",
    "/identifiers/" + "a" * 3000,
    "/trust-lists/current",
    "/trust-lists/1",
    "/trust-lists/" + "9" * 3000,
    "/trust-lists/%00",
    "/status/web/unknown?timestamp=yesterday",
]


@pytest.mark.parametrize("body", JUNK_BODIES, ids=range(len(JUNK_BODIES)))
@pytest.mark.parametrize("path", POSTS)
def test_junk_posted_to_the_new_routes_is_never_a_server_error(
    sqlite_app: Flask, path: str, body: Any
) -> None:
    for content_type in ("application/json", "application/x-www-form-urlencoded", "text/plain"):
        for authorization in ("", "Bearer e30.e30.e30", "Bearer " + "a" * 64, "Basic %%%"):
            answer = sqlite_app.test_client().post(
                path,
                data=body,
                headers={"Content-Type": content_type, "Authorization": authorization},
            )
            assert answer.status_code < 500, (path, content_type, answer.get_data(as_text=True))


@pytest.mark.parametrize("path", GETS)
def test_junk_queries_to_the_new_routes_are_never_a_server_error(
    sqlite_app: Flask, path: str
) -> None:
    for accept in ("application/json", "application/did+ld+json", "*/*", "x/y"):
        answer = sqlite_app.test_client().get(path, headers={"Accept": accept})
        assert answer.status_code < 500, (path, accept, answer.get_data(as_text=True))
