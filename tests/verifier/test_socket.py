"""The service over a real socket (the threaded server `vcred serve` runs)."""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.serving import BaseWSGIServer

from tests.verifier.conftest import DOMAIN, NOW, Agency, MakeApp
from vcred import did_key, present
from vcred.keys import KeyPair
from vcred_service.runner import serving


@pytest.fixture
def server(make_app: MakeApp) -> Iterator[BaseWSGIServer]:
    with serving(make_app(max_body_bytes=16 * 1024)) as running:
        yield running


def post(
    server: BaseWSGIServer, path: str, body: bytes, content_type: str = "application/json"
) -> tuple[int, dict[str, str], Any]:
    connection = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=10)
    try:
        connection.request("POST", path, body=body, headers={"Content-Type": content_type})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), json.loads(response.read())
    finally:
        connection.close()


def test_verify_over_http(server: BaseWSGIServer, agency: Agency) -> None:
    token = agency.issue(agency.aeo_certificate())
    status, headers, body = post(
        server, "/credentials/verify", json.dumps({"verifiableCredential": token}).encode()
    )
    assert status == 200 and body["verified"] is True
    assert headers["Content-Type"] == "application/json"
    assert body["trust"]["mra"]["id"] == "urn:vcred:mra:eu-aeo:us-ctpat"


def test_an_oversized_body_gets_a_413_problem_not_a_reset(server: BaseWSGIServer) -> None:
    body = json.dumps({"verifiableCredential": "x" * (64 * 1024)}).encode()
    status, headers, problem = post(server, "/credentials/verify", body)
    assert status == 413
    assert headers["Content-Type"] == "application/problem+json"
    assert problem["status"] == 413


def test_two_concurrent_uses_of_one_challenge_succeed_once(
    server: BaseWSGIServer, agency: Agency
) -> None:
    trader = KeyPair.generate()
    token = agency.issue(agency.aeo_certificate(holder=did_key(trader.public)))
    _, _, issued = post(server, "/challenges", b"")
    nonce = issued["challenge"]
    vp = present([token], trader, challenge=nonce, domain=DOMAIN, now=NOW)
    request = json.dumps(
        {"verifiablePresentation": vp, "options": {"challenge": nonce, "domain": DOMAIN}}
    ).encode()
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def attempt() -> None:
        barrier.wait()
        statuses.append(post(server, "/presentations/verify", request)[0])

    threads = [threading.Thread(target=attempt) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200, 400]
