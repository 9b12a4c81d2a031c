"""Workers of one verifier share their floors against rollback (on SQLite and PostgreSQL):
a status list version or a trust list one worker accepted is the oldest any other accepts.

The attack: whoever stands between one worker (or machine) and the issuer — a stale mirror,
a CDN, a man in the middle of one data centre — serves it an older version of a list, one
signed before a revocation or before a partner was dropped. Each worker refused that rollback
of a list it had held itself; a worker that never held the newer version took the older one.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from tests.httpserver import LocalServer, local_server
from tests.verifier.conftest import NOW, PG_URL, US_DID, US_HOST, Agency, MakeApp
from tests.verifier.test_as_of_trust import (
    EU_HOST,
    FIRST_ACCEPTED,
    LIST_URL,
    OTHER,
    codes,
    eu_list,
    serve,
    signed_list,
    verify,
)
from tests.verifier.test_as_of_trust import Clock as MovableClock
from vcred.did import did_key
from vcred.errors import UntrustedIssuerError
from vcred.keys import KeyPair


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def workers(request: pytest.FixtureRequest, make_app: MakeApp, tmp_path: Path) -> Iterator[MakeApp]:
    """Verifier apps that share one database: the workers (or machines) of one verifier."""
    prefix = f"t{secrets.token_hex(5)}_"
    url = PG_URL if request.param == "postgres" else f"sqlite:///{tmp_path / 'shared.db'}"
    made: list[Flask] = []

    def build(**overrides: Any) -> Flask:
        app = make_app(database_url=url, table_prefix=prefix, **overrides)
        made.append(app)
        return app

    yield build
    for app in made:
        app.extensions["vcred_verifier"].storage.flush()
    if made and request.param == "postgres":
        made[0].extensions["vcred_verifier"].storage.drop()


@pytest.fixture
def own_agency() -> Iterator[Agency]:
    """A US agency of this test's own (its lists are re-signed here as other versions)."""
    with local_server() as server:
        yield Agency(server)


def test_a_status_list_rolled_back_for_one_worker_is_refused_by_it(
    workers: MakeApp, own_agency: Agency
) -> None:
    host_map = {US_HOST: own_agency.server.origin}
    first = workers(host_map=host_map).test_client()
    second = workers(host_map=host_map).test_client()
    certificate = own_agency.aeo_certificate()
    token = str(own_agency.issue(certificate))
    own_agency.publish(valid_from=NOW - timedelta(days=2))
    revocation_url = certificate["credentialStatus"][0]["statusListCredential"]
    path = revocation_url.removeprefix(f"https://{US_HOST}")
    before = own_agency.server.routes[path]
    own_agency.set(certificate, "revoked", valid_from=NOW - timedelta(hours=1))
    assert codes(verify(first, token)) == ["REVOKED"]
    # the second worker is served the version signed before the revocation
    own_agency.server.routes[path] = before
    body = verify(second, token)
    assert not body["verified"], body
    assert codes(body) == ["STATUS_VERIFICATION"]
    assert "older" in body["problemDetails"][0]["detail"]


def test_a_trust_list_rolled_back_for_one_worker_is_caught_up_from_the_others(
    workers: MakeApp, us_server: LocalServer, agency: Agency, eu_key: KeyPair
) -> None:
    clock = MovableClock()
    first_list = signed_list(eu_key, 1, [US_DID, OTHER], None)
    with local_server() as publisher, local_server() as stale_mirror:
        serve(publisher, first_list)
        serve(stale_mirror, first_list)
        options: dict[str, Any] = {"trust_list": None, "trust_list_urls": (LIST_URL,)}
        first = workers(
            clock=clock,
            host_map={EU_HOST: publisher.origin, US_HOST: us_server.origin},
            **options,
        )
        second = workers(
            clock=clock,
            host_map={EU_HOST: stale_mirror.origin, US_HOST: us_server.origin},
            **options,
        ).test_client()
        token = str(agency.issue(agency.aeo_certificate(status=False)))
        assert verify(second, token)["verified"]
        # #1 is due for replacement; the EU drops the US partner in #2, which the first
        # worker fetches while the second's path answers #1 again
        clock.now = FIRST_ACCEPTED + timedelta(days=2)
        serve(publisher, signed_list(eu_key, 2, [OTHER], first_list))
        assert first.extensions["vcred_verifier"].refresh_trust().sequence == 2
        body = verify(second, token)
        assert codes(body) == ["UNTRUSTED_ISSUER"], body
        assert body["trust"]["trustList"]["sequenceNumber"] == 2


def test_a_restarted_verifier_resumes_the_newest_unsequenced_list(
    workers: MakeApp, us_server: LocalServer, agency: Agency, eu_key: KeyPair
) -> None:
    # Attack: an agency numbering no list drops a partner; its earlier list (signed, still
    # valid) is served to a verifier restarting. The newest kept list was resumed only when
    # it had a sequence number: the restart took the earlier list back.
    earlier = eu_list(eu_key, [US_DID, OTHER], valid_from=NOW - timedelta(days=2))
    later = eu_list(eu_key, [OTHER], valid_from=NOW - timedelta(days=1))
    token = str(agency.issue(agency.aeo_certificate(status=False)))
    with local_server() as publisher:
        options: dict[str, Any] = {
            "trust_list": None,
            "trust_list_urls": (LIST_URL,),
            "host_map": {EU_HOST: publisher.origin, US_HOST: us_server.origin},
        }
        serve(publisher, later)
        before = workers(**options)
        assert codes(verify(before.test_client(), token)) == ["UNTRUSTED_ISSUER"]
        before.extensions["vcred_verifier"].storage.flush()
        serve(publisher, earlier)
        after = workers(**options)  # the same database: a restart, or another worker
        body = verify(after.test_client(), token)
        assert codes(body) == ["UNTRUSTED_ISSUER"], body
        report = after.extensions["vcred_verifier"].feed.last_report
        assert "TRUST_LIST_SEQUENCE" in report.errors[0]


def test_a_restart_under_another_anchor_keeps_the_kept_lists_number_as_a_floor(
    workers: MakeApp, us_server: LocalServer, agency: Agency, eu_key: KeyPair
) -> None:
    # The kept list is resumed under the anchor configured now: after a change of anchor
    # (or of its key) it no longer verifies, and the feed started empty — taking list #1,
    # signed by the new key before #2 dropped the US partner. Its number stays a floor.
    clock = MovableClock()
    clock.now = FIRST_ACCEPTED + timedelta(days=1)
    new_key = KeyPair.generate("ed25519")
    first = signed_list(eu_key, 1, [US_DID, OTHER], None)
    with local_server() as publisher:
        options: dict[str, Any] = {
            "clock": clock,
            "trust_list": None,
            "trust_list_urls": (LIST_URL,),
            "host_map": {EU_HOST: publisher.origin, US_HOST: us_server.origin},
        }
        second = signed_list(eu_key, 2, [OTHER], first)
        serve(publisher, second)
        before = workers(**options)
        assert before.extensions["vcred_verifier"].feed.current.sequence == 2
        serve(publisher, signed_list(new_key, 1, [US_DID, OTHER], None))
        with pytest.raises(UntrustedIssuerError, match="TRUST_LIST_SEQUENCE"):
            workers(trust_issuer=did_key(new_key.public), **options)
        clock.now = FIRST_ACCEPTED + timedelta(days=2)  # when #3 is in force
        # the agency's next list names the one it replaces, signed by its old key
        serve(publisher, signed_list(new_key, 3, [US_DID, OTHER], second))
        after = workers(trust_issuer=did_key(new_key.public), **options)
        assert after.extensions["vcred_verifier"].feed.current.sequence == 3
