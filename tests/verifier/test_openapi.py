"""GET /openapi.json says exactly what the service answers: fuzzed with schemathesis, and the
responses of the other tests' scenarios checked against their documented schemas."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from jsonschema import Draft202012Validator

from tests.service.openapi_fuzz import fuzz_every_operation
from tests.verifier.conftest import DOMAIN, NOW, Agency, MakeApp, tamper
from tests.verifier.test_oid4vp import aeo_sd_jwt, wallet_answer
from vcred import did_key, present
from vcred.keys import KeyPair
from verifier_app.oid4vp import REQUEST_MEDIA_TYPE


def test_every_operation_conforms_under_fuzzing(make_app: MakeApp) -> None:
    # a random body is schema-valid but no genuine credential: 400 is its answer
    labels = fuzz_every_operation(make_app(), examples=25)
    assert labels == [
        "GET /health",
        "GET /oid4vp/requests/{transaction}",
        "GET /oid4vp/requests/{transaction}/object",
        "GET /recognitions",
        "POST /challenges",
        "POST /credentials/verify",
        "POST /credentials/verify-batch",
        "POST /oid4vp/requests",
        "POST /oid4vp/responses/{transaction}",
        "POST /presentations/verify",
        "POST /recognitions/query",
    ]


class Contract:
    """Validates a response against the schema the document gives its status and type."""

    def __init__(self, app: Flask) -> None:
        self.document = app.test_client().get("/openapi.json").get_json()
        assert self.document["openapi"] == "3.1.0"
        self.seen: set[tuple[str, str, str]] = set()

    def check(self, path: str, method: str, response: Any) -> None:
        operation = self.document["paths"][path][method]
        documented = operation["responses"][str(response.status_code)]
        schema = documented["content"][response.mimetype]["schema"]
        wrapper = {**schema, "components": self.document["components"]}
        # '#/components/…' refs resolve against the wrapper, which carries the components
        # a JSON body as parsed; any other (a signed Request Object) as its text
        body = response.get_json() if response.is_json else response.get_data(as_text=True)
        Draft202012Validator(wrapper).validate(body)
        self.seen.add((path, str(response.status_code), response.mimetype))


@pytest.fixture
def contract(app: Flask) -> Contract:
    return Contract(app)


def test_every_documented_answer_matches_its_schema(
    make_app: MakeApp, agency: Agency, contract: Contract
) -> None:
    client: FlaskClient = make_app(
        max_body_bytes=8192, rate_per_second=1000, rate_burst=40
    ).test_client()
    verify, presentations = "/credentials/verify", "/presentations/verify"
    token = agency.issue(agency.aeo_certificate())

    def post(path: str, body: Any, **kwargs: Any) -> Any:
        return (
            client.post(path, json=body, **kwargs)
            if body is not None
            else client.post(path, **kwargs)
        )

    contract.check(verify, "post", post(verify, {"verifiableCredential": token}))
    contract.check(verify, "post", post(verify, {"verifiableCredential": tamper(token)}))
    contract.check(verify, "post", post(verify, {"verifiableCredential": 7}))
    contract.check(
        verify, "post", post(verify, {"verifiableCredential": token, "options": {"checks": ["x"]}})
    )
    contract.check(verify, "post", client.post(verify, data=b"{}", content_type="text/plain"))
    contract.check(
        verify,
        "post",
        client.post(verify, data=b'{"a": "' + b"x" * 9000 + b'"}', content_type="application/json"),
    )
    trader = KeyPair.generate()
    held = agency.issue(agency.aeo_certificate(holder=did_key(trader.public)))
    challenge = client.post("/challenges")
    contract.check("/challenges", "post", challenge)
    nonce = challenge.get_json()["challenge"]
    vp = present([held], trader, challenge=nonce, domain=DOMAIN, now=NOW)
    body = {"verifiablePresentation": vp, "options": {"challenge": nonce}}
    contract.check(presentations, "post", post(presentations, body))
    contract.check(presentations, "post", post(presentations, body))  # replayed
    contract.check("/health", "get", client.get("/health"))
    limited = make_app(rate_per_second=1, rate_burst=1).test_client()
    limited.post(verify, json={"verifiableCredential": token})
    contract.check(verify, "post", limited.post(verify, json={"verifiableCredential": token}))
    contract.check("/challenges", "post", limited.post("/challenges"))
    broken = make_app()
    broken.extensions["vcred_verifier"].storage.ping = lambda: False
    unavailable = broken.test_client().get("/health")
    assert unavailable.get_json()["status"] == "unavailable"
    contract.check("/health", "get", unavailable)
    assert {status for _, status, _ in contract.seen} == {
        "200",
        "201",
        "400",
        "413",
        "415",
        "422",
        "429",
        "503",
    }


def test_every_batch_answer_matches_its_schema(make_app: MakeApp, agency: Agency) -> None:
    app = make_app(max_batch_size=3, rate_per_second=1, rate_burst=9)
    contract, client = Contract(app), app.test_client()
    batch = "/credentials/verify-batch"
    token = agency.issue(agency.aeo_certificate())
    items = [token, tamper(token), 7]
    contract.check(batch, "post", client.post(batch, json={"verifiableCredentials": items}))
    too_many = {"verifiableCredentials": [token] * 4}
    contract.check(batch, "post", client.post(batch, json=too_many))
    contract.check(batch, "post", client.post(batch, json={"verifiableCredentials": 1}))
    unknown = {"verifiableCredentials": items, "options": {"checks": ["x"]}}
    contract.check(batch, "post", client.post(batch, json=unknown))
    contract.check(batch, "post", client.post(batch, data=b"{}", content_type="text/plain"))
    contract.check(batch, "post", client.post(batch, json={"verifiableCredentials": items}))
    assert {status for _, status, _ in contract.seen} == {"200", "400", "413", "415", "422", "429"}


def test_every_openid4vp_answer_matches_its_schema(make_app: MakeApp, agency: Agency) -> None:
    app = make_app(rate_per_second=0.001, rate_burst=8)
    contract, client = Contract(app), app.test_client()
    opening, answering = "/oid4vp/requests", "/oid4vp/responses/{transaction}"
    outcome, signed = "/oid4vp/requests/{transaction}", "/oid4vp/requests/{transaction}/object"

    def check(path: str, method: str, response: Any, status: int) -> None:
        assert response.status_code == status, response.get_data(as_text=True)
        contract.check(path, method, response)

    check(opening, "post", client.post(opening, json={"query": "x"}), 400)
    untrusted = {"query": "aeo-certificate", "trusted_authorities": []}
    check(opening, "post", client.post(opening, json=untrusted), 400)
    check(opening, "post", client.post(opening, data=b"{}", content_type="text/plain"), 415)
    opened = client.post(opening, json={"query": "aeo-certificate"})
    check(opening, "post", opened, 201)
    at = f"/oid4vp/requests/{opened.get_json()['transaction']}"
    check(outcome, "get", client.get(at), 200)
    assert client.get(at).get_json() == {"status": "pending", "result": None}
    check(signed, "get", client.get(at + "/object"), 200)
    assert client.get(at + "/object").mimetype == REQUEST_MEDIA_TYPE
    trader = KeyPair.generate("p256")
    form, response_uri = wallet_answer(app, opened.get_json(), [aeo_sd_jwt(agency, trader)], trader)
    check(answering, "post", client.post(response_uri, data={**form, "state": "other"}), 400)
    check(answering, "post", client.post(response_uri, data=form), 200)
    check(outcome, "get", client.get(at), 200)
    assert client.get(at).get_json()["status"] == "verified"
    check(answering, "post", client.post(response_uri, data=form), 400)  # replayed
    check(signed, "get", client.get(at + "/object"), 404)  # answered: no longer served
    check(outcome, "get", client.get("/oid4vp/requests/unknown"), 404)
    check(answering, "post", client.post("/oid4vp/responses/unknown", data=form), 404)
    check(answering, "post", client.post(response_uri, data=form), 429)  # the ninth POST
    check(opening, "post", client.post(opening, json={"query": "aeo-certificate"}), 429)
    assert {status for _, status, _ in contract.seen} == {"200", "201", "400", "404", "415", "429"}
