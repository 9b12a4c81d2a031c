"""The fast path of ``POST /credentials/verify`` (verifier_app.fast_path) against Flask's.

Every request is sent twice to one app: through the WSGI application gunicorn serves (the
fast path, which answers or hands over) and through Flask's own behind it. Status, every
header in order, and the body must be the same bytes — for valid, invalid and hostile
requests, wrong content types, bad lengths, and with the stream ended by the server as
gunicorn ends it — without a rate limiter and with one (the default), where the fast path
charges each request exactly once, by the address Flask would charge.
"""

from __future__ import annotations

import copy
import io
import json
import secrets
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.test import EnvironBuilder

from tests.redis_server import REDIS_URL, SLOW, needs_redis
from tests.verifier.conftest import Agency, MakeApp, tamper
from vcred_service.oauth_http import EXTENSION as OAUTH
from vcred_service.ratelimit import RateLimiter
from verifier_app.fast_path import PATH, VerifyFastPath
from verifier_app.service import LIMITER

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

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


def _fast_path(app: Flask) -> VerifyFastPath:
    served = app.wsgi_app
    fast = served.app if isinstance(served, ProxyFix) else served
    assert isinstance(fast, VerifyFastPath)
    return fast


def _flask_path(app: Flask) -> WSGIApplication:
    """The served application with the fast path taken out: Flask's own, behind any ProxyFix."""
    served = app.wsgi_app
    inner = _fast_path(app).inner
    if not isinstance(served, ProxyFix):
        return inner
    without = copy.copy(served)
    without.app = inner
    return without


@contextmanager
def _flask_refused(app: Flask) -> Iterator[None]:
    """Within: a request the fast path hands to Flask fails the test."""
    fast = _fast_path(app)
    inner = fast.inner

    def not_flask(environ: Any, start_response: Any) -> Iterable[bytes]:
        raise AssertionError("handed to Flask")

    fast.inner = not_flask
    try:
        yield
    finally:
        fast.inner = inner


def _both(app: Flask, environ: dict[str, Any]) -> tuple[Answer, Answer]:
    """The answer of the served application and of Flask's own, to copies of ``environ``."""
    body = environ["wsgi.input"].read()
    first = {**environ, "wsgi.input": io.BytesIO(body)}
    second = {**environ, "wsgi.input": io.BytesIO(body)}
    return _call(app.wsgi_app, first), _call(_flask_path(app), second)


def assert_same(app: Flask, environ: dict[str, Any]) -> Answer:
    fast, flask = _both(app, environ)
    assert fast == flask
    return fast


def _stopped_clock(app: Flask) -> RateLimiter:
    """The app's in-process limiter with its clock stopped: no token comes back while a test
    runs, and a refusal's wait (in its detail and Retry-After) is the same on both paths."""
    limiter = app.extensions[LIMITER]
    assert isinstance(limiter, RateLimiter)
    limiter.clock = lambda: 0.0
    return limiter


@pytest.fixture(params=[0.0, 5.0], ids=["unlimited", "rate-limited"])
def app(make_app: MakeApp, request: pytest.FixtureRequest) -> Flask:
    """A verifier without a rate limiter, and one with (each request sent to both paths of
    it spends two of its many tokens)."""
    app = make_app(rate_per_second=request.param, rate_burst=100_000)
    if request.param:
        _stopped_clock(app)
    return app


def _limited_twins(make_app: MakeApp, **overrides: Any) -> tuple[Flask, Flask]:
    """Two apps of one rate-limited configuration, clocks stopped, each with its own buckets:
    one to serve through the fast path, one through Flask's."""
    twins = (make_app(rate_per_second=1, **overrides), make_app(rate_per_second=1, **overrides))
    for app in twins:
        _stopped_clock(app)
    return twins


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
    with _flask_refused(app):
        assert _call(app.wsgi_app, _environ(body)) == (status, headers, answer)
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


def test_a_refused_request_is_answered_alike(make_app: MakeApp, agency: Agency) -> None:
    fast_app, flask_app = _limited_twins(make_app, rate_burst=1)
    body = json.dumps({"verifiableCredential": _valid(agency)}).encode()
    with _flask_refused(fast_app):
        first = _call(fast_app.wsgi_app, _environ(body))
    fast = [first, _call(fast_app.wsgi_app, _environ(body))]
    flask = [_call(_flask_path(flask_app), _environ(body)) for _ in range(2)]
    assert [answer[0] for answer in fast] == ["200 OK", "429 TOO MANY REQUESTS"]
    assert ("Retry-After", "1") in fast[1][1]
    assert json.loads(fast[1][2])["title"] == "Too Many Requests"
    assert fast == flask


def _costly_requests(agency: Agency, *, breaking: str) -> list[dict[str, Any]]:
    """Requests the fast path answers, hands over after charging (bad JSON, a receipt, a body
    shorter than declared, an exception while verifying ``breaking``) or leaves to Flask
    (another content type)."""
    valid = json.dumps({"verifiableCredential": _valid(agency)}).encode()
    receipt = {"verifiableCredential": _valid(agency), "options": {"receipt": True}}
    short = _environ(valid)
    short["CONTENT_LENGTH"] = str(len(valid) + 3)
    return [
        _environ(valid),
        _environ(b"{"),
        _environ(json.dumps(receipt).encode()),
        short,
        _environ(json.dumps({"verifiableCredential": breaking}).encode()),
        _environ(valid, content_type="text/plain"),
    ]


def _break_verifying(app: Flask, credential: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Verifying ``credential`` raises, on either path."""
    service = app.extensions["vcred_verifier"]
    verify = service.verify_credential

    def broken_for_one(given: Any, **options: Any) -> Any:
        if str(given) == credential:
            raise RuntimeError("the storage is gone")
        return verify(given, **options)

    monkeypatch.setattr(service, "verify_credential", broken_for_one)


def _spend(application: WSGIApplication, requests: list[dict[str, Any]]) -> list[Answer]:
    """The answers to fresh copies of ``requests``, in order."""
    return [
        _call(application, {**environ, "wsgi.input": io.BytesIO(environ["wsgi.input"].getvalue())})
        for environ in requests
    ]


def _one_over_the_burst(
    make_twins: Callable[[int], tuple[Flask, Flask]],
    agency: Agency,
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[list[Answer], list[Answer]]:
    """The answers of the fast path and of Flask's (of the first and the second of two twin
    apps whose burst is given) to as many costly requests as the burst, then one more."""
    breaking = _valid(agency)
    costly = _costly_requests(agency, breaking=breaking)
    requests = [*costly, _environ(json.dumps({"verifiableCredential": _valid(agency)}).encode())]
    fast_app, flask_app = make_twins(len(costly))
    for app in (fast_app, flask_app):
        app.config["TESTING"] = False  # the exception answered as in production
        _break_verifying(app, breaking, monkeypatch)
    with _flask_refused(fast_app):  # the first is the fast path's own answer
        fast = _spend(fast_app.wsgi_app, requests[:1])
    fast += _spend(fast_app.wsgi_app, requests[1:])
    flask = _spend(_flask_path(flask_app), requests)
    statuses = [answer[0] for answer in fast]
    # the burst is the number of costly requests: the one after them is refused, and it
    # would be earlier if any were charged twice, later if any went uncharged
    assert "429 TOO MANY REQUESTS" not in statuses[:-1], statuses
    assert statuses[-1] == "429 TOO MANY REQUESTS"
    assert "500 INTERNAL SERVER ERROR" in statuses
    return fast, flask


def test_each_request_costs_one_token_on_either_path(
    make_app: MakeApp, agency: Agency, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast, flask = _one_over_the_burst(
        lambda burst: _limited_twins(make_app, rate_burst=burst), agency, monkeypatch
    )
    assert fast == flask


@pytest.mark.parametrize(
    "header", ["vcred.fast_path.charged", "Vcred-Fast-Path-Charged", "vcred_fast_path_charged"]
)
def test_a_client_cannot_claim_its_request_was_charged(
    make_app: MakeApp, agency: Agency, header: str
) -> None:
    # a header reaches the environ as HTTP_…, never as the fast path's own key: a request
    # the fast path does not take (text/plain) is charged by Flask's hook all the same
    (app, _) = _limited_twins(make_app, rate_burst=1)
    body = json.dumps({"verifiableCredential": _valid(agency)}).encode()
    claimed = _environ(body, content_type="text/plain", headers={header: "1"})
    answers = _spend(app.wsgi_app, [claimed, claimed])
    assert [status for status, _, _ in answers] == [
        "415 UNSUPPORTED MEDIA TYPE",
        "429 TOO MANY REQUESTS",
    ]


def _but_the_wait(answer: Answer) -> tuple[str, list[str], dict[str, Any]]:
    """A 429 answer without the seconds to wait (Redis's clock runs on between two runs)."""
    status, headers, body = answer
    problem = {k: v for k, v in json.loads(body).items() if k not in {"detail", "retry_after"}}
    return status, [name for name, _ in headers], problem


@needs_redis
def test_with_a_shared_limiter_each_request_costs_one_token(
    make_app: MakeApp, agency: Agency, monkeypatch: pytest.MonkeyPatch
) -> None:
    def shared_twins(burst: int) -> tuple[Flask, Flask]:
        options = {"rate_per_second": SLOW, "rate_burst": burst, "rate_limit_url": REDIS_URL}
        # each app a deployment with buckets of its own in Redis
        first, second = (
            make_app(table_prefix=f"v{secrets.token_hex(4)}_", **options) for _ in range(2)
        )
        return first, second

    fast, flask = _one_over_the_burst(shared_twins, agency, monkeypatch)
    assert fast[:-1] == flask[:-1]
    assert _but_the_wait(fast[-1]) == _but_the_wait(flask[-1])


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


def _forwarded(body: bytes, client: str) -> dict[str, Any]:
    """``body`` as the proxy at 192.0.2.1 forwards it for ``client``."""
    environ = _environ(body, headers={"X-Forwarded-For": client})
    environ["REMOTE_ADDR"] = "192.0.2.1"
    return environ


def test_behind_a_proxy_each_forwarded_client_has_its_own_bucket(
    make_app: MakeApp, agency: Agency
) -> None:
    body = json.dumps({"verifiableCredential": _valid(agency)}).encode()
    clients = ["203.0.113.9", "203.0.113.9", "198.51.100.7"]
    fast_app, flask_app = _limited_twins(make_app, proxy_hops=1, rate_burst=1)
    fast = [_call(fast_app.wsgi_app, _forwarded(body, client)) for client in clients]
    flask = [_call(_flask_path(flask_app), _forwarded(body, client)) for client in clients]
    assert [answer[0] for answer in fast] == ["200 OK", "429 TOO MANY REQUESTS", "200 OK"]
    assert fast == flask
    limiter = fast_app.extensions[LIMITER]
    assert limiter.peek("192.0.2.1") == 0.0  # the proxy's own address spent nothing
    assert limiter.peek("203.0.113.9") > 0


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


def test_the_fast_path_knows_every_hook_of_the_verify_route(make_app: MakeApp) -> None:
    """The fast path answers without Flask's hooks: it stands for exactly these (the rate
    limit, which it charges itself and marks charged for the hook; the OAuth check, which it
    leaves to Flask when configured; the app's security headers, which it adds itself). A hook
    added later must be weighed here, and in fast_path.py."""
    app = make_app(rate_per_second=5.0)  # the default configuration: every hook there is
    scopes = (None, "api")
    assert _names(app.before_request_funcs, scopes) == {
        "verifier_app.app._app_of.<locals>._rate_limit",
        "verifier_app.app._app_of.<locals>._authorize",
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
