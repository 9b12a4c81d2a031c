"""OpenID4VP 1.0 against an independent holder: @openid4vc/openid4vp reads vcred's signed
request object (decentralized_identifier client id, DCQL) and answers it with an SD-JWT
presented by @sd-jwt/core; the verifier service verifies the answer."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from urllib.parse import urlsplit

import pytest

from tests.interop.node import run_peer
from tests.verifier import conftest as verifier_service
from tests.verifier.conftest import Agency, MakeApp
from vcred import did_key
from vcred.keys import KeyPair

pytestmark = pytest.mark.interop

# the verifier service's fixtures: a US issuer on did:web and an EU verifier trusting it
us_server = verifier_service.us_server
agency = verifier_service.agency
eu_key = verifier_service.eu_key
trust_list_file = verifier_service.trust_list_file
make_app = verifier_service.make_app


def answer_with_the_peer(make_app: MakeApp, agency: Agency, **tamper: str) -> tuple[int, dict]:
    # the peer checks the request object's exp against the real time: so does the verifier
    app = make_app(clock=lambda: datetime.now(UTC))
    http = app.test_client()
    opened = http.post("/oid4vp/requests", json={"query": "aeo-certificate"}).get_json()
    request_object = http.get(urlsplit(opened["request_uri"]).path).get_data(as_text=True)
    trader = KeyPair.generate("p256")
    held = str(
        agency.issue(
            agency.aeo_certificate(holder=did_key(trader.public)), fmt="vc+sd-jwt", holder=trader
        )
    )
    answer = run_peer(
        "openid4vp_peer.mjs",
        {
            "link": opened["authorization_request"],
            "requestObject": request_object,
            "credential": held,
            "frame": {},
            "holderJwk": trader.private_jwk(),
            "holderAlg": "ES256",
            "now": int(time.time()),
        },
    )
    assert "error" not in answer, answer.get("error")
    assert answer["version"] == 100  # read as OpenID4VP 1.0 final
    assert answer["prefix"] == "decentralized_identifier"
    form = {**answer["form"], **tamper}
    posted = http.post(f"/oid4vp/responses/{opened['transaction']}", data=form)
    outcome = http.get(f"/oid4vp/requests/{opened['transaction']}").get_json()
    return posted.status_code, outcome


def test_an_independent_holder_answers_vcreds_request(make_app: MakeApp, agency: Agency) -> None:
    status, outcome = answer_with_the_peer(make_app, agency)
    assert status == 200, outcome
    assert outcome["status"] == "verified"
    (presented,) = outcome["result"]["presentations"]["aeo_sd_jwt"]
    assert presented["format"] == "vc+sd-jwt"


def test_the_independent_holders_answer_with_another_state_is_refused(
    make_app: MakeApp, agency: Agency
) -> None:
    status, outcome = answer_with_the_peer(make_app, agency, state="forged")
    assert status == 400
    assert outcome["status"] == "pending"
