"""Trust as of a past moment: decided under the trust list in force then, never the current
one (verifier_app.trust_history; on SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.httpserver import LocalServer, local_server
from tests.verifier.conftest import NOW, PG_URL, US_DID, Agency, MakeApp
from vcred import Verifier, did_key, issue
from vcred.keys import KeyPair
from vcred.status.listcred import format_datetime
from vcred.trust import build_trust_list, list_digest

EU_HOST = "eu-customs.example"
LIST_URL = f"https://{EU_HOST}/trust-lists/current"
OTHER = "did:web:other-customs.example"
FIRST_ACCEPTED = NOW
SECOND_ACCEPTED = NOW + timedelta(days=1)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


def signed_list(key: KeyPair, sequence: int, issuers: list[str], previous: str | None) -> str:
    """The EU list #``sequence`` recognising ``issuers``, in force from its acceptance."""
    valid_from = FIRST_ACCEPTED - timedelta(hours=1) + timedelta(days=sequence - 1)
    return eu_list(key, issuers, valid_from=valid_from, sequence=sequence, previous=previous)


def eu_list(
    key: KeyPair,
    issuers: list[str],
    *,
    valid_from: datetime,
    sequence: int | None = None,
    previous: str | None = None,
    due: timedelta = timedelta(days=2),
) -> str:
    """An EU list recognising ``issuers`` from ``valid_from``, due for its successor ``due``
    (two days) later; without ``sequence`` (a foreign agency's list numbering none) it names
    no next update either."""
    unsigned = build_trust_list(
        [
            {
                "issuer": issuer,
                "programme": "US-CTPAT",
                "country": "US",
                "acceptedCredentialTypes": ["AEOCertificateCredential"],
            }
            for issuer in issuers
        ],
        issuer=did_key(key.public),
        programme="EU-AEO",
        authority_country="DE",
        authority_name="Zoll (test)",
        valid_from=valid_from,
        valid_until=valid_from + timedelta(days=30),
        credential_id=f"urn:example:eu-trust-list:{sequence or valid_from.isoformat()}",
        sequence=sequence,
        next_update=valid_from + due if sequence else None,
        replaces=(sequence - 1, list_digest(previous)) if sequence and previous else None,
    )
    return str(issue(unsigned, key, now=valid_from))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def list_host() -> Iterator[LocalServer]:
    with local_server() as server:
        yield server


@pytest.fixture
def make(
    make_app: MakeApp, backend: str, list_host: LocalServer, us_server: LocalServer
) -> Iterator[MakeApp]:
    """Verifier apps fed from LIST_URL, on the backend (one set of tables on PostgreSQL)."""
    prefix = f"t{secrets.token_hex(5)}_"
    made: list[Flask] = []

    def build(**overrides: Any) -> Flask:
        options: dict[str, Any] = {
            "trust_list": None,
            "trust_list_urls": (LIST_URL,),
            "host_map": {EU_HOST: list_host.origin, "us-customs.example": us_server.origin},
        }
        if backend == "postgres":
            options.update(database_url=PG_URL, table_prefix=prefix)
        options.update(overrides)
        app = make_app(**options)
        made.append(app)
        return app

    yield build
    if backend == "postgres" and made:
        for app in made:
            app.extensions["vcred_verifier"].storage.flush()
        made[0].extensions["vcred_verifier"].storage.drop()


def serve(host: LocalServer, secured: str) -> None:
    host.serve("/trust-lists/current", secured.encode(), Content_Type="application/vc+jwt")


def verify(client: FlaskClient, token: str, **options: Any) -> dict[str, Any]:
    answer = client.post(
        "/credentials/verify", json={"verifiableCredential": token, "options": options}
    )
    assert answer.status_code in (200, 400), answer.get_json()
    body: dict[str, Any] = answer.get_json()
    return body


def codes(body: dict[str, Any]) -> list[str]:
    return [problem["code"] for problem in body.get("problemDetails", [])]


def test_trust_as_of_t_is_decided_under_the_list_in_force_at_t(
    make: MakeApp, list_host: LocalServer, agency: Agency, eu_key: KeyPair, tmp_path: Any
) -> None:
    clock = Clock()
    first = signed_list(eu_key, 1, [US_DID, OTHER], None)
    serve(list_host, first)
    key_file = tmp_path / "receipt.jwk"
    key_file.write_text(json.dumps(KeyPair.generate().private_jwk()))
    app = make(clock=clock, receipt_key=key_file)
    client = app.test_client()
    token = str(agency.issue(agency.aeo_certificate(status=False)))
    under_first = verify(client, token)
    assert under_first["verified"], under_first
    assert under_first["trust"]["trustList"]["sequenceNumber"] == 1

    # a day later the EU drops the US partner: list #2
    clock.now = SECOND_ACCEPTED
    serve(list_host, signed_list(eu_key, 2, [OTHER], first))
    service = app.extensions["vcred_verifier"]
    assert service.refresh_trust().sequence == 2
    now = verify(client, token)
    assert not now["verified"] and codes(now) == ["UNTRUSTED_ISSUER"]
    assert now["trust"]["trustList"]["sequenceNumber"] == 2

    # as of a moment while #1 was in force: trusted under #1, and the receipt says so
    entry_date = format_datetime(FIRST_ACCEPTED + timedelta(hours=2))
    then = verify(client, token, asOf=entry_date, receipt=True)
    assert then["verified"], then
    assert then["trust"]["trustList"] == {
        "id": "urn:example:eu-trust-list:1",
        "sequenceNumber": 1,
    }
    assert "TRUST_LIST_CURRENT" not in [w["code"] for w in then.get("warnings", [])]
    receipt = Verifier(clock=clock).verify(then["receipt"])
    assert receipt.verified and receipt.credential is not None
    assert receipt.credential["credentialSubject"]["trustList"]["sequenceNumber"] == 1

    # as of a moment after #2 was accepted: #2 decides
    clock.now = SECOND_ACCEPTED + timedelta(hours=1)
    later = verify(client, token, asOf=format_datetime(SECOND_ACCEPTED + timedelta(minutes=1)))
    assert codes(later) == ["UNTRUSTED_ISSUER"]
    assert later["trust"]["trustList"]["sequenceNumber"] == 2


def test_before_any_accepted_list_trust_is_not_established(
    make: MakeApp, list_host: LocalServer, agency: Agency, eu_key: KeyPair
) -> None:
    clock = Clock()
    serve(list_host, signed_list(eu_key, 1, [US_DID], None))
    client = make(clock=clock).test_client()
    token = str(agency.issue(agency.aeo_certificate(status=False)))
    # list #1 was valid then, but this verifier had not accepted it yet: fail closed
    before = verify(client, token, asOf=format_datetime(FIRST_ACCEPTED - timedelta(minutes=30)))
    assert not before["verified"]
    assert codes(before) == ["TRUST_INPUT_UNESTABLISHED"]
    assert "trustList" not in before["trust"]
    # the batch route decides the same way
    batch = client.post(
        "/credentials/verify-batch",
        json={
            "verifiableCredentials": [token],
            "options": {"asOf": format_datetime(FIRST_ACCEPTED - timedelta(days=3))},
        },
    )
    assert batch.get_json()["summary"]["verified"] == 0


def test_a_list_past_its_next_update_and_grace_is_not_in_force(
    make: MakeApp, list_host: LocalServer, agency: Agency, eu_key: KeyPair
) -> None:
    clock = Clock()
    serve(list_host, signed_list(eu_key, 1, [US_DID], None))
    client = make(clock=clock, trust_grace=timedelta(hours=1)).test_client()
    token = str(agency.issue(agency.aeo_certificate(status=False)))
    clock.now = NOW + timedelta(days=5)  # #1's nextUpdate (+ grace) passed, nothing newer
    stale = FIRST_ACCEPTED - timedelta(hours=1) + timedelta(days=2, hours=2)
    body = verify(client, token, asOf=format_datetime(stale))
    assert codes(body) == ["TRUST_INPUT_UNESTABLISHED"]
    in_grace = verify(client, token, asOf=format_datetime(stale - timedelta(hours=1, minutes=30)))
    assert in_grace["verified"], in_grace


def test_a_list_replaced_before_its_next_update_does_not_come_back_for_later_moments(
    make: MakeApp, list_host: LocalServer, agency: Agency, eu_key: KeyPair
) -> None:
    # #1 is due in 20 days, but the EU replaces it the next day (#2 drops the US partner,
    # due two days later); no #3 arrives. Once #2 is past its next update and grace, the
    # verifier trusts nobody: #1, replaced, was not in force then either
    clock = Clock()
    valid_from = FIRST_ACCEPTED - timedelta(hours=1)
    first = eu_list(
        eu_key, [US_DID, OTHER], valid_from=valid_from, sequence=1, due=timedelta(days=20)
    )
    serve(list_host, first)
    app = make(clock=clock, trust_grace=timedelta(hours=1))
    client = app.test_client()
    token = str(agency.issue(agency.aeo_certificate(status=False)))
    assert verify(client, token)["verified"]
    clock.now = SECOND_ACCEPTED
    serve(list_host, signed_list(eu_key, 2, [OTHER], first))
    assert app.extensions["vcred_verifier"].refresh_trust().sequence == 2
    clock.now = NOW + timedelta(days=5)
    stale = SECOND_ACCEPTED - timedelta(hours=1) + timedelta(days=2, hours=2)
    assert codes(verify(client, token)) == ["UNTRUSTED_ISSUER"]  # now: #2 decides nothing
    body = verify(client, token, asOf=format_datetime(stale))
    assert not body["verified"], body["trust"]
    assert codes(body) == ["TRUST_INPUT_UNESTABLISHED"]
    # while #2 was in force, it decided
    held = verify(client, token, asOf=format_datetime(SECOND_ACCEPTED + timedelta(hours=1)))
    assert codes(held) == ["UNTRUSTED_ISSUER"]
    assert held["trust"]["trustList"]["sequenceNumber"] == 2


def test_services_accepting_the_same_list_keep_one_row(
    make: MakeApp, backend: str, list_host: LocalServer, eu_key: KeyPair, tmp_path: Any
) -> None:
    first = signed_list(eu_key, 1, [US_DID], None)
    serve(list_host, first)
    shared = {} if backend == "postgres" else {"database_url": f"sqlite:///{tmp_path}/one.db"}
    services = [make(clock=Clock(), **shared).extensions["vcred_verifier"] for _ in range(2)]
    histories = [service.storage.trust_lists for service in services]
    assert histories[0].count() == 1  # both accepted #1 at start: kept once
    # two services accepting #2 at the same moment: one keeps it
    second = signed_list(eu_key, 2, [OTHER], first)
    services[0].config.clock.now = SECOND_ACCEPTED  # type: ignore[attr-defined]
    serve(list_host, second)
    assert services[0].refresh_trust().sequence == 2
    trust = services[0].trust
    kept: list[bool] = []
    writers = [
        threading.Thread(
            target=lambda h=h: kept.append(h.keep(trust, second, accepted_at=SECOND_ACCEPTED))
        )
        for h in (*histories, *histories)
    ]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join()
    assert kept == [False] * 4  # the refresh kept it already
    assert histories[1].count() == 2


def test_a_list_is_in_force_up_to_but_not_at_its_valid_until(
    make: MakeApp, list_host: LocalServer, agency: Agency, eu_key: KeyPair
) -> None:
    # Boundary: a list "ceases to be valid" at its validUntil (exclusive, as a credential's);
    # a list numbering none has no nextUpdate, so validUntil alone ends it
    clock = Clock()
    valid_from = FIRST_ACCEPTED - timedelta(hours=1)
    serve(list_host, eu_list(eu_key, [US_DID], valid_from=valid_from))
    client = make(clock=clock).test_client()
    token = str(agency.issue(agency.aeo_certificate(status=False)))
    clock.now = valid_from + timedelta(days=40)
    end = valid_from + timedelta(days=30)
    assert codes(verify(client, token, asOf=format_datetime(end))) == ["TRUST_INPUT_UNESTABLISHED"]
    last = verify(client, token, asOf=format_datetime(end - timedelta(seconds=1)))
    assert last["verified"], last
    just_before = (end - timedelta(microseconds=1)).isoformat().replace("+00:00", "Z")
    assert verify(client, token, asOf=just_before)["verified"]
