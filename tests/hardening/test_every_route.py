"""Every route of both services, walked with hostile bodies, headers, methods and path values:
the answer is never a 5xx, and an error is RFC 9457 problem details with a title (the OAuth
token endpoints answer RFC 6749 errors, which their protocol requires)."""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.routing import Rule

from issuer_app import create_app as create_issuer_app
from tests.issuer.conftest import auth, dispose, make_config
from tests.issuer.test_ui import logged_in
from tests.verifier.conftest import DATABASE_URL, MakeApp, signed_in

#: Bodies an attacker sends: broken JSON, every wrong type at the top and one level down,
#: numbers past every limit, deep nesting, invalid UTF-8 and lone surrogates, duplicate keys.
BODIES: list[bytes] = [
    b"",
    b"{",
    b"not json",
    b"null",
    b"[]",
    b"[{}]",
    b"1e999",
    b"-0",
    b'"a string"',
    b"true",
    b'{"a": NaN, "b": Infinity, "c": -Infinity}',
    b"9" * 5000,
    b"[" * 5000 + b"]" * 5000,
    b'{"a":' * 3000 + b"1" + b"}" * 3000,
    b'{"\xff\xfe": "\xc3\x28"}',
    b'{"s": "\\ud800", "t": "\\udfff\\ud800"}',
    b'{"a": 1, "a": 2}',
    json.dumps({"x": "y" * 200_000}).encode(),
]

#: The same bodies with each object-valued member of the VC API given a wrong type.
MEMBERS = [
    "credential",
    "options",
    "verifiableCredential",
    "verifiablePresentation",
    "verifiableCredentials",
    "credentialId",
    "credentialStatus",
    "status",
    "grant_type",
    "proof",
    "proofs",
    "credential_configuration_id",
    "presentation_definition",
    "dcql_query",
    "vp_token",
    "state",
    "parties",
]
WRONG_VALUES: list[Any] = [None, [], [None], 5, 2**70, -1, 1.5, "x", True, {"": None}]
for member in MEMBERS:
    BODIES.append(json.dumps({member: WRONG_VALUES[len(BODIES) % len(WRONG_VALUES)]}).encode())
BODIES.append(json.dumps({m: v for m, v in zip(MEMBERS, WRONG_VALUES * 2, strict=False)}).encode())
BODIES.append(
    json.dumps(
        {
            "credential": {"@context": 5, "type": None, "credentialSubject": []},
            "options": {"credentialId": [], "mandatoryPointers": "x", "unknown": 1},
            "verifiableCredential": {"proof": 5},
            "verifiablePresentation": {"verifiableCredential": [None, 5, "e30.e30."]},
            "credentialId": {"a": 1},
            "credentialStatus": [{"type": 5}],
        }
    ).encode()
)

CONTENT_TYPES = [
    "application/json",
    "application/ld+json",
    "application/x-www-form-urlencoded",
    "text/plain",
    "multipart/form-data; boundary=x",
    "application/json; charset=latin-1",
]

#: Values put in each path parameter.
ODD_SEGMENTS = [
    "x",
    "%00",
    "%FF%FE",
    "..%2F..%2Fetc%2Fpasswd",
    "did:web:127.0.0.1%3A80",
    "\u202e\U0001f600",
    "a" * 3000,
    "-1",
    "99999999999999999999999",
]

_PARAMETER = re.compile(r"<[^>]+>")

#: Routes whose errors follow RFC 6749 (``{"error": …}``), not RFC 9457.
OAUTH_ERRORS = {"/oid4vci/token", "/oid4vci/credential", "/oid4vci/nonce", "/oauth/token"}
#: The blueprints and routes of HTML pages (an officer's, a holder's), not of an API.
PAGE_BLUEPRINTS = {"officer", "oid4vci_officer", "ui", "language"}
PAGES = {
    "/benefit-requests",
    "/benefit-requests/<recognition_id>",
    "/benefit-requests/<recognition_id>/decision",
}


def paths_of(rule: Rule) -> Iterator[str]:
    """``rule``'s path, each odd value in every parameter."""
    if not rule.arguments:
        yield rule.rule
        return
    for segment in ODD_SEGMENTS:
        yield _PARAMETER.sub(segment, rule.rule)


def check(path: str, answer: Any, *, html_page: bool) -> None:
    text = answer.get_data(as_text=True)
    assert answer.status_code < 500, (path, answer.status_code, text[:500])
    if answer.status_code < 400:
        return
    if path in OAUTH_ERRORS and answer.mimetype == "application/json":
        assert isinstance(answer.get_json().get("error"), str), (path, text[:500])
        return
    if path.startswith("/identifiers/") and answer.mimetype == "application/did-resolution":
        # DID Resolution's HTTP binding: the error is in the resolution metadata
        error = json.loads(text)["didResolutionMetadata"]["error"]
        assert error["title"], (path, text[:500])
        return
    if answer.mimetype == "text/html":
        # an officer's page answers a browser with a page
        assert html_page, (path, answer.status_code, "an API answered with a page")
        return
    if path.endswith("/verify") and answer.mimetype == "application/json":
        # a verification result that did not verify (VC API): problem details inside it
        result = json.loads(text)
        assert result["verified"] is False and result["problemDetails"], (path, text[:300])
        return
    assert answer.mimetype == "application/problem+json", (path, answer.mimetype, text[:300])
    problem = answer.get_json()
    assert problem["status"] == answer.status_code, (path, problem)
    assert isinstance(problem["title"], str) and problem["title"], (path, problem)


def is_page(rule: Rule) -> bool:
    """Whether ``rule`` is an officer's (or a holder's) HTML page rather than an API."""
    return rule.endpoint.split(".")[0] in PAGE_BLUEPRINTS or rule.rule in PAGES


def requests_for(rule: Rule) -> Iterator[tuple[str, str, bytes | None, str]]:
    """(method, path, body, content type): every body as JSON at the first path value, a few
    bodies in every content type, the other path values with two bodies, wrong methods."""
    methods = sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})
    query = "?a=1&a=2&timestamp=x&timestamp=y&id=%00&at=&scheme[]=1&offset=-1&limit=1e9"
    for index, path in enumerate(paths_of(rule)):
        for method in [*methods, "PUT", "DELETE", "PATCH"]:
            if method != "POST":
                yield method, path + query, None, "application/json"
                continue
            bodies = BODIES if index == 0 else BODIES[:2]
            for body in bodies:
                yield method, path, body, "application/json"
            if index == 0:
                for content_type in CONTENT_TYPES[1:]:
                    for body in (b"{}", BODIES[-1], b"a=1&a=2&grant_type=x"):
                        yield method, path, body, content_type


def walk(app: Flask, clients: list[FlaskClient]) -> int:
    """How many requests were sent; fails listing every (method, route) answered wrongly."""
    sent, failures = 0, {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.endpoint.endswith("static") or rule.rule == "/favicon.ico":
            continue
        for method, path, body, content_type in requests_for(rule):
            for client in clients:
                answer = client.open(
                    path, method=method, data=body, headers={"Content-Type": content_type}
                )
                try:
                    check(path.partition("?")[0], answer, html_page=is_page(rule))
                except (AssertionError, ValueError, KeyError, TypeError) as failure:
                    why = f"{answer.status_code} {answer.mimetype} {body!r:.60}: {failure}"
                    failures.setdefault((method, rule.rule), why[:400])
                sent += 1
    assert not failures, "\n".join(f"{key}: {why}" for key, why in failures.items())
    return sent


def test_every_issuer_route_answers_hostile_requests_without_a_server_error(
    issuer_app: Flask,
) -> None:
    bearer = issuer_app.test_client()
    bearer.environ_base["HTTP_AUTHORIZATION"] = auth(
        issuer_app, "issue", "status", "admin", "trust-list"
    )["Authorization"]
    assert walk(issuer_app, [issuer_app.test_client(), bearer, logged_in(issuer_app)]) > 1000


def test_every_verifier_route_answers_hostile_requests_without_a_server_error(
    make_app: MakeApp,
) -> None:
    app = make_app()
    assert walk(app, [app.test_client(), signed_in(app)]) > 1000


def walk_nul_paths(app: Flask, clients: list[FlaskClient]) -> int:
    """Every route with a path parameter, a NUL in each: how many requests were sent; fails
    listing every (method, route) answered wrongly."""
    sent, failures = 0, {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.arguments or rule.endpoint.endswith("static"):
            continue
        path = _PARAMETER.sub("a%00b", rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            for client in clients:
                answer = client.open(path, method=method, data=b"{}", content_type=JSON)
                try:
                    check(path, answer, html_page=is_page(rule))
                except (AssertionError, ValueError, KeyError, TypeError) as failure:
                    failures.setdefault(
                        (method, rule.rule), f"{answer.status_code}: {failure}"[:300]
                    )
                sent += 1
    assert not failures, "\n".join(f"{key}: {why}" for key, why in failures.items())
    return sent


JSON = "application/json"


@pytest.mark.postgres
def test_a_nul_in_a_path_parameter_is_no_server_error_on_postgresql(
    make_app: MakeApp, tmp_path: Path
) -> None:
    # PostgreSQL text holds no NUL: looking up /oid4vp/requests/a%00b, /benefit-requests/…,
    # /officer/approvals/… or /oid4vci/offers/… raised DataError out of psycopg, a 500 (SQLite
    # only finds nothing, so the walk above never saw it)
    verifier = make_app(database_url=DATABASE_URL, table_prefix=f"t{secrets.token_hex(5)}_")
    storage = verifier.extensions["vcred_verifier"].storage
    try:
        assert walk_nul_paths(verifier, [verifier.test_client(), signed_in(verifier)]) > 10
    finally:
        storage.flush()  # the history is written before the tables go
        storage.drop()
    issuer = create_issuer_app(make_config(tmp_path / "issuer", "postgres"))
    issuer.config["TESTING"] = True
    try:
        bearer = issuer.test_client()
        bearer.environ_base["HTTP_AUTHORIZATION"] = auth(issuer, "issue", "status", "admin")[
            "Authorization"
        ]
        assert walk_nul_paths(issuer, [issuer.test_client(), bearer, logged_in(issuer)]) > 10
    finally:
        dispose(issuer, drop=True)
