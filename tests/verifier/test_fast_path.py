"""The fast path of ``POST /credentials/verify`` (verifier_app.fast_path) against Flask's.

Every request is sent twice to one app: through the WSGI application gunicorn serves (the
fast path, which answers or hands over) and through Flask's own behind it. Status, every
header in order, and the body must be the same bytes — for valid, invalid and hostile
requests, wrong content types, bad lengths, and with the stream ended by the server as
gunicorn ends it.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable
from typing import Any

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.test import EnvironBuilder

from tests.verifier.conftest import Agency, MakeApp, tamper
from vcred_service.oauth_http import EXTENSION as OAUTH
from verifier_app.fast_path import PATH, VerifyFastPath

Answer = tuple[str, list[tuple[str, str]], bytes]


def _environ(
    body: bytes,
    *,
    content_type: str | None = "application/json",
    headers: dict[str, str] | None = None,
    method: str = "POST",
    path: str = PATH,
    terminated: bool = False,
) -> dict[str, Any]:
    environ = EnvironBuilder(
        path=path, method=method, data=body, content_type=content_type, headers=headers
    ).get_environ()
    if content_type is None:
        environ.pop("CONTENT_TYPE", None)
    if terminated:  # as gunicorn serves it: the server ends the stream at the body's end
        environ["wsgi.input_terminated"] = True
    return environ


def _call(application: Any, environ: dict[str, Any]) -> Answer:
    started: list[tuple[str, list[tuple[str, str]]]] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        started.append((status, list(headers)))

    chunks: Iterable[bytes] = application(environ, start_response)
    try:
        body = b"".join(chunks)
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()
    return started[0][0], started[0][1], body


def _both(app: Flask, environ: dict[str, Any]) -> tuple[Answer, Answer]:
    """The answer of the served application and of Flask's own, to copies of ``environ``."""
    fast = app.wsgi_app
    assert isinstance(fast, VerifyFastPath)
    body = environ["wsgi.input"].read()
    first = {**environ, "wsgi.input": io.BytesIO(body)}
    second = {**environ, "wsgi.input": io.BytesIO(body)}
    return _call(fast, first), _call(fast.inner, second)


def assert_same(app: Flask, environ: dict[str, Any]) -> Answer:
    fast, flask = _both(app, environ)
    assert fast == flask
    return fast


@pytest.fixture
def app(make_app: MakeApp) -> Flask:
    return make_app()


def _valid(agency: Agency) -> str:
    return str(agency.issue(agency.aeo_certificate()))


def _requests(agency: Agency) -> list[bytes]:
    token = _valid(agency)
    unsigned = agency.aeo_certificate(status=False)
    bodies: list[Any] = [
        {"verifiableCredential": token},
        {"verifiableCredential": tamper(token)},
        {"verifiableCredential": token, "options": None},
        {"verifiableCredential": token, "options": {}},
        {"verifiableCredential": token, "options": {"checks": ["proof"]}},
        {"verifiableCredential": token, "options": {"checks": ["expiration", "revocation"]}},
        {"verifiableCredential": token, "options": {"checks": ["nonsense"]}},
        {"verifiableCredential": token, "options": {"checks": "proof"}},
        {"verifiableCredential": token, "options": {"checks": [1]}},
        {"verifiableCredential": token, "options": []},
        {"verifiableCredential": token, "options": {"asOf": "2026-03-01T00:00:00Z"}},
        {"verifiableCredential": token, "options": {"asOf": "2099-01-01T00:00:00Z"}},
        {"verifiableCredential": token, "options": {"asOf": "yesterday"}},
        {"verifiableCredential": token, "options": {"receipt": True}},
        {"verifiableCredential": token, "options": {"receipt": "yes"}},
        {"verifiableCredential": unsigned},
        {"verifiableCredential": {"@context": []}},
        {"verifiableCredential": 42},
        {"verifiableCredential": None},
        {"verifiableCredential": json.dumps(unsigned)},
        {"verifiableCredential": "not.a.jws.at.all"},
        {"verifiableCredential": "a.b.c"},
        {"verifiableCredential": token + "~"},
        {"verifiableCredential": " " + token},
        {"verifiablePresentation": token},
        {},
        [],
        "text",
        {"verifiableCredential": token, "extra": "\u00e9\u2028\ud7ff"},
    ]
    raw = [json.dumps(body).encode() for body in bodies]
    raw += [
        b"",
        b"{",
        b"null",
        b'{"verifiableCredential": 1, "verifiableCredential": 2}',
        b"\xff\xfe{}",
        b'{"verifiableCredential": "\\ud800"}',
        b"[" * 100 + b"]" * 100,
        b'{"a":' * 70 + b"1" + b"}" * 70,
        b'{"verifiableCredential": NaN}',
        json.dumps({"verifiableCredential": token}).encode() + b" \n",
    ]
    return raw


def test_the_corpus_is_answered_alike(app: Flask, agency: Agency) -> None:
    statuses = set()
    for body in _requests(agency):
        for terminated in (False, True):
            status, _, _ = assert_same(app, _environ(body, terminated=terminated))
            statuses.add(status)
    # the corpus reaches every kind of answer the route gives
    assert {"200 OK", "400 BAD REQUEST", "422 UNPROCESSABLE ENTITY"} <= statuses


def test_a_verified_credential_is_answered_by_the_fast_path(app: Flask, agency: Agency) -> None:
    body = json.dumps({"verifiableCredential": _valid(agency)}).encode()
    status, headers, answer = assert_same(app, _environ(body))
    assert status == "200 OK"
    fast = app.wsgi_app
    assert isinstance(fast, VerifyFastPath)

    def not_flask(environ: Any, start_response: Any) -> Iterable[bytes]:
        raise AssertionError("handed to Flask")

    fast.inner = not_flask
    assert _call(fast, _environ(body)) == (status, headers, answer)
    assert json.loads(answer)["verified"] is True
    assert ("X-Content-Type-Options", "nosniff") in headers


@pytest.mark.parametrize(
    "content_type",
    [
        None,
        "text/plain",
        "application/json; charset=utf-8",
        "APPLICATION/JSON",
        "application/ld+json",
    ],
)
def test_other_content_types_are_answered_alike(
    app: Flask, agency: Agency, content_type: str | None
) -> None:
    body = json.dumps({"verifiableCredential": _valid(agency)}).encode()
    assert_same(app, _environ(body, content_type=content_type))


_ELSEWHERE = [
    ("GET", PATH),
    ("PUT", PATH),
    ("POST", PATH + "/"),
    ("POST", "/credentials/Verify"),
    ("POST", "//credentials/verify"),
]


@pytest.mark.parametrize(("method", "path"), _ELSEWHERE)
def test_other_methods_and_paths_are_answered_alike(app: Flask, method: str, path: str) -> None:
    assert_same(app, _environ(b'{"verifiableCredential": "a.b.c"}', method=method, path=path))


def test_an_oversized_body_is_answered_alike(app: Flask) -> None:
    limit = app.config["MAX_CONTENT_LENGTH"]
    body = json.dumps({"verifiableCredential": "a" * limit}).encode()
    for terminated in (False, True):
        status, _, _ = assert_same(app, _environ(body, terminated=terminated))
        assert status.startswith("413")


@pytest.mark.parametrize(
    "declared", ["", "abc", " 40", "+40", "-1", "4\u00b2", "40.0", "99999999999999999999"]
)
def test_odd_content_lengths_are_answered_alike(app: Flask, declared: str) -> None:
    environ = _environ(b'{"verifiableCredential": "a.b.c"}')
    environ["CONTENT_LENGTH"] = declared
    assert_same(app, environ)


@pytest.mark.parametrize("terminated", [False, True])
@pytest.mark.parametrize("delta", [-5, -1, 1, 7])
def test_a_body_of_another_length_than_declared_is_answered_alike(
    app: Flask, agency: Agency, delta: int, terminated: bool
) -> None:
    body = json.dumps({"verifiableCredential": _valid(agency)}).encode()
    environ = _environ(body, terminated=terminated)
    environ["CONTENT_LENGTH"] = str(len(body) + delta)
    assert_same(app, environ)


def test_a_chunked_body_is_answered_alike(app: Flask, agency: Agency) -> None:
    body = json.dumps({"verifiableCredential": _valid(agency)}).encode()
    environ = _environ(body, terminated=True)
    del environ["CONTENT_LENGTH"]
    environ["HTTP_TRANSFER_ENCODING"] = "chunked"
    assert_same(app, environ)


def test_a_request_with_a_cookie_is_answered_alike(app: Flask, agency: Agency) -> None:
    body = json.dumps({"verifiableCredential": _valid(agency)}).encode()
    assert_same(app, _environ(body, headers={"Cookie": "session=forged; other=1"}))


@pytest.mark.parametrize("testing", [True, False])
def test_an_exception_while_verifying_is_answered_alike(
    app: Flask, agency: Agency, monkeypatch: pytest.MonkeyPatch, testing: bool
) -> None:
    app.config["TESTING"] = testing
    service = app.extensions["vcred_verifier"]

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the storage is gone")

    monkeypatch.setattr(service, "verify_credential", broken)
    body = json.dumps({"verifiableCredential": _valid(agency)}).encode()
    status, _, _ = assert_same(app, _environ(body))
    assert status.startswith("500")


def test_a_rate_limited_verifier_is_answered_by_flask(make_app: MakeApp, agency: Agency) -> None:
    body = json.dumps({"verifiableCredential": _valid(agency)}).encode()
    one, two = (make_app(rate_per_second=1, rate_burst=1) for _ in range(2))
    fast = [_call(one.wsgi_app, _environ(body)) for _ in range(2)]
    flask = [_call(two.wsgi_app.inner, _environ(body)) for _ in range(2)]  # type: ignore[attr-defined]
    assert [answer[0] for answer in fast] == ["200 OK", "429 TOO MANY REQUESTS"]
    assert fast == flask


def test_with_oauth_the_request_is_left_to_flask(app: Flask, agency: Agency) -> None:
    fast = app.wsgi_app
    assert isinstance(fast, VerifyFastPath)
    body = json.dumps({"verifiableCredential": _valid(agency)}).encode()
    assert fast._plain(_environ(body)) == len(body)
    app.extensions[OAUTH] = object()
    try:
        assert fast._plain(_environ(body)) is None
    finally:
        del app.extensions[OAUTH]


def test_behind_a_proxy_the_answers_are_alike(make_app: MakeApp, agency: Agency) -> None:
    app = make_app(proxy_hops=1)
    body = json.dumps({"verifiableCredential": _valid(agency)}).encode()
    headers = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}
    status, _, _ = assert_same(app, _environ(body, headers=headers))
    assert status == "200 OK"


def test_the_history_records_a_fast_verification_once(app: Flask, agency: Agency) -> None:
    service = app.extensions["vcred_verifier"]
    before = len(service.storage.recent(1000))
    body = json.dumps({"verifiableCredential": _valid(agency)}).encode()
    _call(app.wsgi_app, _environ(body))
    _call(app.wsgi_app, _environ(b"{"))  # refused before verifying: nothing recorded
    assert len(service.storage.recent(1000)) == before + 1


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=12,
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    credential=_JSON | st.from_regex(r"[A-Za-z0-9_~.-]{0,40}", fullmatch=True),
    options=_JSON,
    terminated=st.booleans(),
)
def test_generated_requests_are_answered_alike(
    app: Flask, credential: Any, options: Any, terminated: bool
) -> None:
    body = json.dumps({"verifiableCredential": credential, "options": options}).encode()
    assert_same(app, _environ(body, terminated=terminated))


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=st.binary(max_size=64), terminated=st.booleans())
def test_generated_bytes_are_answered_alike(app: Flask, body: bytes, terminated: bool) -> None:
    assert_same(app, _environ(body, terminated=terminated))


def _names(functions: dict[Any, list[Any]], scopes: tuple[str | None, ...]) -> set[str]:
    return {f"{f.__module__}.{f.__qualname__}" for s in scopes for f in functions.get(s, [])}


def test_the_fast_path_knows_every_hook_of_the_verify_route(app: Flask) -> None:
    """The fast path answers without Flask's hooks: it stands for exactly these (the OAuth
    check, which it leaves to Flask when configured; the app's security headers, which it
    adds itself). A hook added later must be weighed here, and in fast_path.py."""
    scopes = (None, "api")
    assert _names(app.before_request_funcs, scopes) == {
        "verifier_app.api._authorize",
        "verifier_app.fast_path._raise_handed_over",
    }
    assert _names(app.after_request_funcs, scopes) == {
        "vcred_service.app.add_security_headers.<locals>.headers"
    }
    for hooks in (
        app.teardown_request_funcs,
        app.url_value_preprocessors,
        app.url_default_functions,
    ):
        assert not _names(hooks, scopes)
    assert not app.config.get("TRUSTED_HOSTS")
