"""The shared service plumbing: problem details, body limits, rate limiting."""

from __future__ import annotations

import json

import pytest
from flask import Flask, jsonify

from vcred.errors import MalformedError
from vcred_service import ProblemError, create_base_app, read_json
from vcred_service.app import database_url
from vcred_service.ratelimit import RateLimiter


@pytest.fixture
def app(tmp_path: object) -> Flask:
    app = create_base_app(
        "kit_test", data_dir=str(tmp_path), settings={"MAX_CONTENT_LENGTH": 65536}
    )

    @app.post("/echo")
    def echo() -> object:
        return jsonify(read_json(max_depth=8))

    @app.get("/vcred-error")
    def vcred_error() -> object:
        raise MalformedError("validFrom is wrong", pointer="/validFrom")

    @app.get("/crash")
    def crash() -> object:
        raise RuntimeError("secret internals")

    limiter = RateLimiter(rate=1.0, burst=3, clock=lambda: 0.0)

    @app.get("/limited")
    def limited() -> object:
        limiter.check("client")
        return jsonify(ok=True)

    return app


def test_echo(app: Flask) -> None:
    response = app.test_client().post("/echo", json={"a": [1, {"b": 2}]})
    assert response.status_code == 200
    assert response.get_json() == {"a": [1, {"b": 2}]}


@pytest.mark.parametrize(
    ("body", "content_type", "status", "words"),
    [
        (b'{"a": 1}', "text/plain", 415, "application/json"),
        (b'{"a": "\xff"}', "application/json", 400, "UTF-8"),
        (b"[" * 10_000 + b"]" * 10_000, "application/json", 400, "deeper"),
        (b'{"a":' * 9 + b"1" + b"}" * 9, "application/json", 400, "deeper"),
        (b'{"a": 1, "a": 2}', "application/json", 400, "duplicate"),
        (b"[1, 2]", "application/json", 400, "object"),
        (b"{not json", "application/json", 400, "JSON"),
        (b'{"a": "' + b"x" * 70_000 + b'"}', "application/json", 413, "Too Large"),
    ],
)
def test_bad_bodies_get_4xx_problems(
    app: Flask, body: bytes, content_type: str, status: int, words: str
) -> None:
    response = app.test_client().post("/echo", data=body, content_type=content_type)
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert words.lower() in json.dumps(problem).lower()
    assert problem["status"] == status


def test_vcred_errors_become_problem_details(app: Flask) -> None:
    response = app.test_client().get("/vcred-error")
    assert response.status_code == 400
    assert response.get_json() == {
        "type": "https://www.w3.org/TR/vc-data-model#MALFORMED_VALUE_ERROR",
        "title": "Malformed value",
        "status": 400,
        "detail": "validFrom is wrong",
        "code": "MALFORMED",
        "pointer": "/validFrom",
    }


def test_unexpected_errors_do_not_leak(app: Flask) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = app.test_client().get("/crash")
    assert response.status_code == 500
    assert "secret" not in response.get_data(as_text=True)


def test_not_found_and_wrong_method_are_problems(app: Flask) -> None:
    client = app.test_client()
    assert client.get("/nowhere").mimetype == "application/problem+json"
    response = client.get("/echo")
    assert response.status_code == 405
    assert "POST" in response.headers["Allow"]


def test_rate_limit_answers_429_with_retry_after(app: Flask) -> None:
    client = app.test_client()
    assert [client.get("/limited").status_code for _ in range(4)] == [200, 200, 200, 429]
    response = client.get("/limited")
    assert response.headers["Retry-After"] == "1"


def test_rate_limiter_refills() -> None:
    now = [0.0]
    limiter = RateLimiter(rate=2.0, burst=2, clock=lambda: now[0])
    assert [limiter.allow("a") for _ in range(3)] == [0.0, 0.0, 0.5]
    assert limiter.allow("b") == 0.0
    now[0] = 0.5
    assert limiter.allow("a") == 0.0


def test_problem_error_extra_members(app: Flask) -> None:
    @app.get("/teapot")
    def teapot() -> object:
        raise ProblemError(418, "Teapot", "short and stout", hint="tip me over")

    assert app.test_client().get("/teapot").get_json()["hint"] == "tip me over"


def test_database_url() -> None:
    assert database_url("/data", environ={}) == "sqlite:////data/service.db"
    assert (
        database_url("/d", environ={"DATABASE_URL": "postgresql://u@h/db"})
        == "postgresql+psycopg://u@h/db"
    )
