"""Bad input and too much input: each answered with a clear 4xx problem, never a 5xx."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.verifier.conftest import Agency, MakeApp

ENDPOINTS = ["/credentials/verify", "/presentations/verify"]


@pytest.fixture
def client(make_app: MakeApp) -> FlaskClient:
    return make_app(max_body_bytes=4096, max_json_depth=32).test_client()


def problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body: dict[str, Any] = response.get_json()
    assert body["status"] == status and body["title"] and body["detail"]
    return body


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_invalid_utf8_is_400(client: FlaskClient, endpoint: str) -> None:
    response = client.post(
        endpoint, data=b'{"verifiableCredential": "\xff\xfe"}', content_type="application/json"
    )
    assert "UTF-8" in problem(response, 400)["detail"]


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", ""])
def test_a_wrong_content_type_is_415(client: FlaskClient, endpoint: str, content_type: str) -> None:
    response = client.post(endpoint, data=b'{"a": 1}', content_type=content_type)
    problem(response, 415)


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_a_body_over_the_limit_is_413(client: FlaskClient, endpoint: str) -> None:
    body = json.dumps({"verifiableCredential": "x" * 5000}).encode()
    assert (
        "Too Large"
        in problem(client.post(endpoint, data=body, content_type="application/json"), 413)["title"]
    )


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("depth", [33, 10_000])
def test_deeply_nested_json_is_400(client: FlaskClient, endpoint: str, depth: int) -> None:
    nested = "[" * depth + "]" * depth
    body = ('{"verifiableCredential": ' + nested + "}").encode()
    response = client.post(endpoint, data=body, content_type="application/json")
    if depth > 1000:  # over the body limit too: either refusal is right, neither is a 5xx
        assert response.status_code in (400, 413)
        return
    assert "deeper than 32" in problem(response, 400)["detail"]


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_json_nested_too_deep_is_refused_with_the_pointer_of_where(
    client: FlaskClient, endpoint: str
) -> None:
    """Say where it broke: the first container past the limit (the body is level 1)."""
    body = '{"verifiableCredential": {"a": [' + "[" * 40 + "]" * 40 + "]}}"
    response = client.post(endpoint, data=body, content_type="application/json")
    assert problem(response, 400)["pointer"] == "/verifiableCredential/a" + "/0" * 30


@pytest.mark.parametrize("endpoint", [*ENDPOINTS, "/oid4vp/requests", "/recognitions/query"])
def test_the_configured_depth_holds_on_every_route_that_reads_json(
    client: FlaskClient, endpoint: str
) -> None:
    # was: POST /oid4vp/requests read its body with the default depth (64), whatever
    # VCRED_VERIFIER_MAX_JSON_DEPTH said
    body = '{"a": ' + "[" * 40 + "]" * 40 + "}"
    response = client.post(endpoint, data=body, content_type="application/json")
    assert "deeper than 32" in problem(response, 400)["detail"]


def test_json_nested_10000_deep_within_the_size_limit_is_400(make_app: MakeApp) -> None:
    client = make_app(max_body_bytes=64 * 1024).test_client()
    body = b'{"verifiableCredential": ' + b"[" * 10_000 + b"]" * 10_000 + b"}"
    response = client.post("/credentials/verify", data=body, content_type="application/json")
    assert "deeper" in problem(response, 400)["detail"]


@pytest.mark.parametrize(
    "body",
    [b"", b"null", b"[]", b'"text"', b"{not json", b'{"a": 1, "a": 2}', b"\xef\xbb\xbf{}"],
)
def test_bodies_that_are_not_requests_are_400(client: FlaskClient, body: bytes) -> None:
    response = client.post("/credentials/verify", data=body, content_type="application/json")
    problem(response, 400)


def test_other_methods_and_paths_are_problems(client: FlaskClient) -> None:
    response = client.get("/credentials/verify")
    assert problem(response, 405)
    assert "POST" in response.headers["Allow"]
    problem(client.get("/nowhere"), 404)


def test_a_burst_is_limited_then_answered_again(make_app: MakeApp, agency: Agency) -> None:
    client = make_app(rate_per_second=2, rate_burst=3).test_client()
    token = agency.issue(agency.aeo_certificate())
    # a burst of cheap requests (each is counted before its body is read) …
    statuses = [client.post("/credentials/verify", json={}).status_code for _ in range(3)]
    assert statuses == [400, 400, 400]
    limited = client.post("/credentials/verify", json={"verifiableCredential": token})
    details = problem(limited, 429)
    assert limited.headers["Retry-After"] == "1"
    assert "rate limit" in details["detail"]
    assert client.post("/challenges").status_code == 429  # every public POST counts
    # … another client address has its own budget …
    other = client.post(
        "/credentials/verify",
        json={"verifiableCredential": token},
        environ_base={"REMOTE_ADDR": "10.1.2.3"},
    )
    assert other.status_code == 200
    # … and after the window a valid request is answered
    time.sleep(0.55)  # a token back at 2 per second
    response = client.post("/credentials/verify", json={"verifiableCredential": token})
    assert response.status_code == 200, response.get_data(as_text=True)


def test_reads_are_not_rate_limited(make_app: MakeApp) -> None:
    client = make_app(rate_per_second=1, rate_burst=1).test_client()
    assert {client.get("/health").status_code for _ in range(5)} == {200}


def test_behind_a_proxy_the_forwarded_address_is_limited(make_app: MakeApp) -> None:
    client = make_app(rate_per_second=1, rate_burst=1, proxy_hops=1).test_client()

    def from_(address: str) -> int:
        return client.post("/challenges", headers={"X-Forwarded-For": address}).status_code

    assert [from_("203.0.113.5"), from_("203.0.113.5"), from_("203.0.113.6")] == [201, 429, 201]
