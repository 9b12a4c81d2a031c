"""Status lists as of a moment: every signed version kept with the interval it was in force,
served at GET /status/…?timestamp=, and verification as of a moment (``Verifier(at=…)``)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import inspect

import vcred
from issuer_app.store.records import SCHEMA_VERSION, IssuerStore
from tests.issuer.conftest import PUBLIC_URL, ApiClient, AppFetcher, Clock, auth, credential
from tests.issuer.test_api import _status, payload_of, secured_of
from vcred import Verifier, jose
from vcred.keys import KeyPair
from vcred.status import as_of_url
from vcred.status.listcred import format_datetime, parse_status_list_credential
from verifier_app import VerifierConfig
from verifier_app import create_app as create_verifier_app


def _issue(app: Flask, api: ApiClient, *, entry: int = 0) -> tuple[dict[str, Any], Any, str]:
    """A credential issued now: its document, the secured form, and the list URL of its
    status entry ``entry`` (0: revocation, 1: suspension)."""
    document = credential()
    issued = api.issue(document, auth(app)).get_json()
    status = payload_of(issued)["credentialStatus"][entry]
    document["_index"] = int(status["statusListIndex"])
    return document, secured_of(issued), status["statusListCredential"]


def _as_of(app: Flask, clock: Clock, at: Any) -> Verifier:
    return Verifier(fetcher=AppFetcher(app), clock=clock, at=at)


def test_a_credential_revoked_after_t_is_valid_as_of_t_and_revoked_now(
    app: Flask, api: ApiClient, clock: Clock
) -> None:
    document, token, _ = _issue(app, api)
    entry_date = clock.now + timedelta(hours=1)
    clock.advance(hours=2)
    assert _status(api, auth(app), document["id"], "revoked").status_code == 200
    clock.advance(days=30)
    now = Verifier(fetcher=AppFetcher(app), clock=clock).verify(token)
    assert now.codes == ("REVOKED",)
    as_of = _as_of(app, clock, entry_date).verify(token)
    assert as_of.verified, as_of.to_dict()
    assert next((s.purpose, s.value) for s in as_of.status) == ("revocation", 0)
    # the same through the small surface
    assert vcred.verify(token, fetcher=AppFetcher(app), now=clock.now, at=entry_date).verified
    # and as of a moment after the revocation: revoked then too
    after = _as_of(app, clock, entry_date + timedelta(hours=2)).verify(token)
    assert after.codes == ("REVOKED",)


def test_validity_is_checked_as_of_the_moment(app: Flask, api: ApiClient, clock: Clock) -> None:
    _, token, _ = _issue(app, api)  # valid until 2027-01-01
    clock.advance(days=365)
    assert Verifier(fetcher=AppFetcher(app), clock=clock).verify(token).codes == ("EXPIRED",)
    result = _as_of(app, clock, clock.now - timedelta(days=300)).verify(token)
    assert result.verified, result.to_dict()


def test_each_version_is_served_with_its_interval(app: Flask, api: ApiClient, clock: Clock) -> None:
    document, _, list_url = _issue(app, api)
    client = app.test_client()
    path = list_url.removeprefix(PUBLIC_URL)
    first_signed = clock.now
    assert client.get(path).status_code == 200  # signed, version 1 in force from now
    clock.advance(hours=2)
    _status(api, auth(app), document["id"], "revoked")
    clock.advance(hours=1)
    old = api.get(f"{path}?timestamp={format_datetime(first_signed + timedelta(hours=1))}")
    assert old.status_code == 200
    assert old.headers["Status-List-Valid-Until"] == format_datetime(
        first_signed + timedelta(hours=2)
    )
    payload = jose.unverified_payload(old.get_data(as_text=True))
    assert payload["id"] == list_url  # the list's own id: the URL without the query
    assert payload["validFrom"] == format_datetime(first_signed)
    parsed = parse_status_list_credential(payload, url=list_url)
    index = document["_index"]
    assert parsed.bits.value(index, 1) == 0
    current = api.get(f"{path}?timestamp={format_datetime(clock.now)}")
    assert "Status-List-Valid-Until" not in current.headers
    current_bits = parse_status_list_credential(
        jose.unverified_payload(current.get_data(as_text=True)), url=list_url
    ).bits
    assert current_bits.value(index, 1) == 1


def test_a_moment_before_the_first_version_is_404(app: Flask, api: ApiClient, clock: Clock) -> None:
    _, _, list_url = _issue(app, api)
    before = format_datetime(clock.now - timedelta(days=1))
    answer = api.get(f"{list_url.removeprefix(PUBLIC_URL)}?timestamp={before}")
    assert answer.status_code == 404
    assert answer.get_json()["code"] == "STATUS_VERSION_UNAVAILABLE"


def test_a_future_or_malformed_timestamp_is_400(app: Flask, api: ApiClient, clock: Clock) -> None:
    _, _, list_url = _issue(app, api)
    path = list_url.removeprefix(PUBLIC_URL)
    future = format_datetime(clock.now + timedelta(days=1))
    assert api.get(f"{path}?timestamp={future}").status_code == 400
    malformed = api.get(f"{path}?timestamp=yesterday")
    assert malformed.status_code == 400
    assert malformed.get_json()["pointer"] == "/timestamp"


def test_versions_out_of_force_longer_than_the_retention_are_pruned(
    make_app: Any, backend: str, clock: Clock
) -> None:
    app = make_app(backend, status_history_retention=timedelta(days=10))
    api = ApiClient(app)
    document, token, list_url = _issue(app, api, entry=1)
    path = list_url.removeprefix(PUBLIC_URL)
    start = clock.now
    app.test_client().get(path)  # version in force from start
    clock.advance(days=1)
    _status(api, auth(app), document["id"], "suspended")  # replaced after a day
    clock.advance(days=20)
    _status(api, auth(app), document["id"], "active")  # a new version prunes the old ones
    kept = api.get(f"{path}?timestamp={format_datetime(start + timedelta(hours=1))}")
    assert kept.status_code == 404
    # the version in force at the retention's edge stays (it was replaced inside it)
    edge = api.get(f"{path}?timestamp={format_datetime(clock.now - timedelta(days=10))}")
    assert edge.status_code == 200
    assert _as_of(app, clock, clock.now - timedelta(days=10)).verify(token).codes == ("SUSPENDED",)


def test_an_as_of_list_is_never_taken_for_the_current_one(
    app: Flask, api: ApiClient, clock: Clock
) -> None:
    document, token, list_url = _issue(app, api)
    entry_date = clock.now + timedelta(minutes=1)
    clock.advance(hours=1)
    _status(api, auth(app), document["id"], "revoked")
    current = Verifier(fetcher=AppFetcher(app), clock=clock)
    as_of = _as_of(app, clock, entry_date)
    shared = vcred.Verifier(
        fetcher=AppFetcher(app), clock=clock, status_cache=current.status_cache, at=entry_date
    )
    assert shared.verify(token).verified  # fills the shared cache with the old version …
    assert current.verify(token).codes == ("REVOKED",)  # … under its as-of URL only
    assert as_of.verify(token).verified
    # held apart from the current lists (StatusListCache.past)
    assert as_of_url(list_url, entry_date) in _cached_urls(current.status_cache.past())
    assert as_of_url(list_url, entry_date) not in _cached_urls(current.status_cache)


def _cached_urls(cache: Any) -> list[str]:
    return list(cache._entries)


def test_the_vc_api_verifies_as_of_a_moment(
    app: Flask, api: ApiClient, clock: Clock, tmp_path: Path
) -> None:
    document, token, _ = _issue(app, api)
    entry_date = clock.now + timedelta(hours=1)
    clock.advance(hours=2)
    _status(api, auth(app), document["id"], "revoked")
    clock.advance(days=30)
    key_file = tmp_path / "receipt.jwk"
    key_file.write_text(json.dumps(KeyPair.generate().private_jwk()))
    config = VerifierConfig(
        data_dir=tmp_path / "verifier", clock=clock, rate_per_second=0, receipt_key=key_file
    )
    verifier_app = create_verifier_app(config, fetcher=AppFetcher(app))
    client = verifier_app.test_client()
    try:
        now = client.post("/credentials/verify", json={"verifiableCredential": token})
        assert now.status_code == 400
        assert [p["code"] for p in now.get_json()["problemDetails"]] == ["REVOKED"]
        options = {"asOf": format_datetime(entry_date), "receipt": True}
        then = client.post(
            "/credentials/verify", json={"verifiableCredential": token, "options": options}
        )
        assert then.status_code == 200, then.get_json()
        receipt = Verifier(clock=clock).verify(then.get_json()["receipt"])
        assert receipt.verified and receipt.credential is not None
        subject = receipt.credential["credentialSubject"]
        assert subject["verifiedAsOf"] == format_datetime(entry_date)
        assert subject["statusLists"][0]["validFrom"] <= format_datetime(entry_date)
        batch = client.post(
            "/credentials/verify-batch",
            json={"verifiableCredentials": [token], "options": {"asOf": options["asOf"]}},
        )
        assert batch.get_json()["summary"]["verified"] == 1
        future = {"asOf": format_datetime(clock.now + timedelta(days=1))}
        refused = client.post(
            "/credentials/verify", json={"verifiableCredential": token, "options": future}
        )
        assert refused.status_code == 400
        assert refused.get_json()["pointer"] == "/options/asOf"
    finally:
        verifier_app.extensions["vcred_verifier"].close()


def test_a_database_of_schema_2_gets_the_versions_table(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'issuer.db'}"
    store = IssuerStore(url)
    store.bootstrap(lambda conn: None)
    with store.engine.begin() as conn:
        store.set_meta(conn, "schema", "2")
        store.list_versions.table.drop(conn)
    store.close()
    reopened = IssuerStore(url)
    assert not reopened.initialised()
    reopened.bootstrap(lambda conn: None)
    assert reopened.schema_version() == SCHEMA_VERSION == "4"
    with reopened.engine.connect() as conn:
        assert inspect(conn).has_table(reopened.list_versions.table.name)
    reopened.close()
