"""Caches across requests, and verification with the network down (offline mode)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.httpserver import LocalServer
from tests.verifier.conftest import NOW, US_HOST, Agency, MakeApp


@pytest.fixture
def outage_server() -> Iterator[LocalServer]:
    """The US agency's own server for one test, so that it can be taken down."""
    server = LocalServer()
    server.start()
    running = [True]

    def stop() -> None:
        if running[0]:
            server.stop()
            running[0] = False

    server.take_down = stop  # type: ignore[attr-defined]
    yield server
    stop()


def verify(client: FlaskClient, credential: Any) -> tuple[int, dict[str, Any]]:
    response = client.post("/credentials/verify", json={"verifiableCredential": credential})
    return response.status_code, response.get_json()


def test_did_documents_and_status_lists_are_fetched_once_per_ttl(
    make_app: MakeApp, outage_server: LocalServer
) -> None:
    agency = Agency(outage_server)
    client = make_app(host_map={US_HOST: outage_server.origin}).test_client()
    token = agency.issue(agency.aeo_certificate())
    outage_server.hits.clear()
    for _ in range(3):
        assert verify(client, token)[0] == 200
    # one DID document and two lists, for three verifications: the caches live with the app
    assert sorted(outage_server.hits) == sorted(
        ["/.well-known/did.json", *{h for h in outage_server.hits if h.startswith("/status/")}]
    )
    assert len(outage_server.hits) == 3


def test_with_the_network_down_the_caches_answer_and_say_how_old_they_are(
    make_app: MakeApp, outage_server: LocalServer
) -> None:
    agency = Agency(outage_server)
    now = [NOW]
    client = make_app(
        host_map={US_HOST: outage_server.origin},
        clock=lambda: now[0],
        did_cache_ttl=timedelta(minutes=5),
    ).test_client()
    token = agency.issue(agency.aeo_certificate())
    assert verify(client, token)[0] == 200

    outage_server.take_down()  # type: ignore[attr-defined]
    now[0] += timedelta(hours=2)  # every cache entry is past its TTL
    status, body = verify(client, token)

    assert status == 200, body
    warnings = {w["code"]: w for w in body["warnings"]}
    assert set(warnings) == {"STATUS_STALE", "DID_DOCUMENT_STALE"}
    assert "7200 s" in warnings["STATUS_STALE"]["detail"]
    assert "7200 s" in warnings["DID_DOCUMENT_STALE"]["detail"]
    assert warnings["DID_DOCUMENT_STALE"]["type"] == "https://vcred.dev/problems#DID_DOCUMENT_STALE"
    assert [(s["stale"], s["ageSeconds"]) for s in body["status"]] == [(True, 7200), (True, 7200)]
    assert body["status"][0]["fetchedAt"] == "2026-06-01T12:00:00Z"


def test_stale_copies_are_used_only_up_to_max_stale(
    make_app: MakeApp, outage_server: LocalServer
) -> None:
    agency = Agency(outage_server)
    now = [NOW]
    client = make_app(
        host_map={US_HOST: outage_server.origin},
        clock=lambda: now[0],
        max_stale=timedelta(hours=1),
    ).test_client()
    token = agency.issue(agency.aeo_certificate())
    assert verify(client, token)[0] == 200
    outage_server.take_down()  # type: ignore[attr-defined]
    now[0] += timedelta(hours=2)
    status, body = verify(client, token)
    assert status == 400
    assert "DID_RESOLUTION" in [p["code"] for p in body["problemDetails"]]


def test_with_the_network_down_and_nothing_cached_nothing_is_assumed(
    make_app: MakeApp, outage_server: LocalServer
) -> None:
    agency = Agency(outage_server)
    client = make_app(host_map={US_HOST: outage_server.origin}).test_client()
    token = agency.issue(agency.aeo_certificate())
    outage_server.take_down()  # type: ignore[attr-defined]
    status, body = verify(client, token)
    assert status == 400
    # without the key nothing is verified, so no status list is looked up for it either
    assert {p["code"] for p in body["problemDetails"]} == {"DID_RESOLUTION"}


def test_offline_mode_never_fetches(make_app: MakeApp, outage_server: LocalServer) -> None:
    agency = Agency(outage_server)
    client = make_app(host_map={US_HOST: outage_server.origin}, offline=True).test_client()
    token = agency.issue(agency.aeo_certificate())
    outage_server.hits.clear()
    status, body = verify(client, token)
    assert status == 400
    assert outage_server.hits == []
    assert any("offline mode" in p["detail"] for p in body["problemDetails"])
    assert client.get("/health").get_json()["offline"] is True
