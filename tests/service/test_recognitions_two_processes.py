"""Two verifier processes (gunicorn, as on two machines) sharing one PostgreSQL database: a
recognition made through one is answered by the other; the home agency suspends the trader
and the refreshers of both processes — taking turns through the lease — end the
recognition, which both then answer SUSPENDED_BY_HOME_AGENCY, the change recorded once."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

import pytest

from tests.httpserver import LocalServer, local_server
from tests.service.test_several_machines import PG_URL, Machine, _start, _wait_healthy
from tests.verifier.conftest import US_DID, US_HOST, Agency
from vcred import did_key, issue, present
from vcred.keys import KeyPair
from vcred.trust import build_trust_list
from verifier_app.storage import Storage

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

DOMAIN = "verifier.eu-customs.example"


@pytest.fixture
def us_agency() -> Iterator[Agency]:
    server: LocalServer
    with local_server() as server:
        yield Agency(server)


def _trust_list(tmp_path: Path, eu: KeyPair) -> Path:
    unsigned = build_trust_list(
        [
            {
                "issuer": US_DID,
                "name": "U.S. Customs and Border Protection (test)",
                "programme": "US-CTPAT",
                "country": "US",
                "acceptedCredentialTypes": ["AEOCertificateCredential"],
            }
        ],
        issuer=did_key(eu.public),
        programme="EU-AEO",
        authority_country="DE",
        authority_name="Zoll (test)",
        valid_from=datetime(2026, 1, 1, tzinfo=UTC),
        valid_until=datetime(2028, 1, 1, tzinfo=UTC),
    )
    path = tmp_path / "eu-trust-list.jwt"
    path.write_text(str(issue(unsigned, eu)))
    return path


def test_a_recognition_made_at_one_process_is_answered_and_ended_at_the_other(
    tmp_path: Path, us_agency: Agency
) -> None:
    eu = KeyPair.generate("ed25519")
    prefix = f"r{secrets.token_hex(4)}_"
    trust_list = _trust_list(tmp_path, eu)
    machines: list[Machine] = []
    try:
        for n in range(2):
            machines.append(
                _start(
                    f"verifier{n}",
                    "verifier_app:create_app()",
                    {
                        "VCRED_VERIFIER_DATA_DIR": str(tmp_path / f"verifier{n}"),
                        "VCRED_VERIFIER_TABLE_PREFIX": prefix,
                        "VCRED_VERIFIER_DOMAIN": DOMAIN,
                        "VCRED_VERIFIER_TRUST_LIST": str(trust_list),
                        "VCRED_VERIFIER_TRUST_ISSUER": did_key(eu.public),
                        "VCRED_VERIFIER_HOST_MAP": f"{US_HOST}={us_agency.server.origin}",
                        "VCRED_VERIFIER_RATE_PER_SECOND": "0",
                        "VCRED_VERIFIER_STATUS_CACHE_TTL": "0",
                        "VCRED_VERIFIER_RECOGNITION_REFRESH": "0.2",
                    },
                    tmp_path,
                )
            )
        for machine in machines:
            _wait_healthy(machine)
        first, second = machines
        trader = KeyPair.generate("p256")
        document = us_agency.aeo_certificate(holder=did_key(trader.public))
        held = str(us_agency.issue(document))
        status, issued = first.call("POST", "/challenges")
        assert status == 201
        vp = present([held], trader, challenge=issued["challenge"], domain=DOMAIN)
        status, verified = first.call(
            "POST",
            "/presentations/verify",
            {
                "verifiablePresentation": str(vp),
                "options": {"challenge": issued["challenge"], "domain": DOMAIN},
            },
        )
        assert status == 200, verified
        (made,) = verified["recognitions"]
        query = "/recognitions?" + urlencode({"scheme": "CTPAT", "id": "48120"})
        status, answer = second.call("GET", query)
        assert (status, answer["recognised"]) == (200, True)
        assert answer["evidence"]["recognition"] == made

        us_agency.set(document, "suspended")
        reasons = set()
        for _ in range(240):  # the refreshers' next rounds (up to a minute; no timing assert)
            reasons = {machine.call("GET", query)[1].get("reason") for machine in machines}
            if reasons == {"SUSPENDED_BY_HOME_AGENCY"}:
                break
            time.sleep(0.25)
        assert reasons == {"SUSPENDED_BY_HOME_AGENCY"}, "\n".join(
            f"{m.name}: {m.call('GET', query)[1]}\n{m.log.read_text()[-4000:]}" for m in machines
        )
    finally:
        for machine in machines:
            if machine.process.poll() is None:
                machine.process.terminate()  # our own child, by handle
        for machine in machines:
            machine.process.wait(timeout=30)
    storage = Storage(PG_URL, prefix=prefix)
    try:
        history = storage.recognitions.history(made)
        # the suspension was recorded once, whichever process's refresher saw it
        assert [e.action for e in history].count("status") == 1, [
            (e.actor, e.action, e.detail) for e in history
        ]
        assert history[-1].detail.startswith("suspended")
    finally:
        storage.drop()
        storage.close()
