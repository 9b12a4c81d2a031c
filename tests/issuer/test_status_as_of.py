"""Status lists as of a moment: every signed version kept with the interval it was in force,
served at GET /status/…?timestamp=, and verification as of a moment (``Verifier(at=…)``)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import inspect

import vcred
from issuer_app.as_of import VALID_UNTIL_HEADER as VALID_UNTIL
from issuer_app.store.records import SCHEMA_VERSION, IssuerStore
from tests.issuer.conftest import (
    PG_URL,
    PUBLIC_URL,
    ApiClient,
    AppFetcher,
    Clock,
    auth,
    credential,
    table_prefix,
)
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


def _stamp(moment: datetime) -> str:
    """``moment`` to the microsecond (a sub-second ``?timestamp=``)."""
    return f"{format_datetime(moment)[:-1]}.{moment.microsecond:06d}Z"


def test_a_suspension_shorter_than_a_second_is_kept_and_served_exactly(
    app: Flask, api: ApiClient, clock: Clock
) -> None:
    # A credential suspended at …:05.2 and reinstated at …:05.7: both versions were kept
    # under their validFrom to the second, the reinstated one replaced the suspended one
    # (same key), and as of …:05.4 the issuer answered "not suspended" — the suspension
    # vanished from the history.
    document, token, list_url = _issue(app, api, entry=1)
    path = list_url.removeprefix(PUBLIC_URL)
    client = app.test_client()
    first = clock.now
    assert client.get(path).status_code == 200  # version 1, in force from first
    clock.advance(seconds=5.2)
    suspended_at = clock.now
    assert _status(api, auth(app), document["id"], "suspended").status_code == 200
    assert client.get(path).status_code == 200
    clock.advance(seconds=0.5)
    reinstated_at = clock.now
    assert _status(api, auth(app), document["id"], "active").status_code == 200
    assert client.get(path).status_code == 200
    clock.advance(hours=1)
    index = document["_index"]

    def served(moment: datetime) -> tuple[int, str, str | None]:
        answer = api.get(f"{path}?timestamp={_stamp(moment)}")
        assert answer.status_code == 200, answer.get_data(as_text=True)
        payload = jose.unverified_payload(answer.get_data(as_text=True))
        bits = parse_status_list_credential(payload, url=list_url).bits
        return bits.value(index, 1), payload["validFrom"], answer.headers.get(VALID_UNTIL)

    inside = suspended_at + timedelta(seconds=0.2)
    assert served(inside) == (1, _stamp(suspended_at), _stamp(reinstated_at))
    assert served(suspended_at) == (1, _stamp(suspended_at), _stamp(reinstated_at))
    # just before it: version 1 (its second too); from the reinstatement on: the last one
    assert served(suspended_at - timedelta(microseconds=1)) == (
        0,
        format_datetime(first),
        _stamp(suspended_at),
    )
    assert served(reinstated_at) == (0, _stamp(reinstated_at), None)
    # and a verifier as of a moment inside it finds the credential suspended then
    assert _as_of(app, clock, inside).verify(token).codes == ("SUSPENDED",)
    assert _as_of(app, clock, reinstated_at).verify(token).verified


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
    assert reopened.schema_version() == SCHEMA_VERSION == "6"
    with reopened.engine.connect() as conn:
        assert inspect(conn).has_table(reopened.list_versions.table.name)
    reopened.close()


def test_a_database_of_schema_4_keeps_its_versions_to_the_microsecond(
    tmp_path: Path, backend: str
) -> None:
    # versions kept to the second ("…T12:00:05Z") are rewritten as keys to the microsecond:
    # as text "…05Z" sorts after "…05.500000Z", and the version signed at :05 would not be
    # found in force at :05.5
    url, prefix = f"sqlite:///{tmp_path / 'issuer.db'}", ""
    if backend == "postgres":
        url, prefix = PG_URL, table_prefix()
    store = IssuerStore(url, prefix=prefix)
    store.bootstrap(lambda conn: None)
    table = store.list_versions.table
    row = {"signer": "web", "list_id": "l1", "version": 1, "format": "vc+jwt"}
    with store.engine.begin() as conn:
        store.set_meta(conn, "schema", "4")
        for second, document in ((0, "one"), (5, "two")):
            conn.execute(
                table.insert().values(
                    **row,
                    valid_from=f"2026-06-01T12:00:0{second}Z",
                    media_type="application/vc+jwt",
                    document=document,
                )
            )
    store.close()
    reopened = IssuerStore(url, prefix=prefix)
    reopened.bootstrap(lambda conn: None)
    assert reopened.schema_version() == SCHEMA_VERSION
    at = datetime.fromisoformat("2026-06-01T12:00:05.500000+00:00")
    found = reopened.list_versions.in_force("web", "l1", at)
    assert found is not None
    assert (found.document, found.valid_from) == ("two", "2026-06-01T12:00:05Z")
    earlier = reopened.list_versions.in_force("web", "l1", at.replace(second=4))
    assert earlier is not None
    assert (earlier.document, earlier.valid_until) == ("one", "2026-06-01T12:00:05Z")
    if backend == "postgres":
        reopened.drop_tables()
    reopened.close()
