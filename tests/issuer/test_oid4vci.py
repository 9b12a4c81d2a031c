"""OpenID4VCI 1.0 on the issuer: the pre-authorized code flow end to end with `vcred wallet`
(each configuration, SQLite and PostgreSQL), and every refusal with the protocol's code."""

from __future__ import annotations

import http.client
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import update

from issuer_app import issuer_of
from issuer_app.oid4vci import MAX_TX_FAILURES, OfferView
from issuer_app.oid4vci_api import EXTENSION
from tests.issuer.conftest import PUBLIC_URL, ApiClient, Clock, auth, verifier
from tests.oid4vci_helpers import AppTransport, aeo_certificate, offer
from tests.verifier.test_batch import served
from vcred import audit, jose
from vcred.keys import KeyPair, PublicKey
from vcred.multibase import b64url_encode
from vcred.oid4vci import GRANT_PRE_AUTHORIZED, PROOF_TYP, ProtocolError, proof_jwt
from vcred.wallet import Wallet
from vcred_service.problems import ProblemError

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
CONFIGURATIONS = [
    (kind, fmt) for kind in ("aeo", "billing") for fmt in ("vc+sd-jwt", "jwt_vc_json", "ldp_vc")
]


@pytest.fixture
def wallet(tmp_path: Path) -> Wallet:
    return Wallet.create(tmp_path / "wallet.db", "a trader's passphrase")


def receive(app: Flask, wallet: Wallet, made: OfferView, clock: Clock, **kw: Any) -> Any:
    transport = AppTransport(app, PUBLIC_URL)
    return wallet.receive(
        made.url, tx_code=kw.pop("tx_code", made.tx_code), transport=transport, now=clock, **kw
    )


def token(
    app: Flask, made: OfferView, *, tx_code: str | None = None, client_id: str | None = None
) -> Any:
    code = (
        app.test_client()
        .get(made.offer_uri.removeprefix(PUBLIC_URL))
        .json["grants"][GRANT_PRE_AUTHORIZED]["pre-authorized_code"]
    )
    form = {"grant_type": GRANT_PRE_AUTHORIZED, "pre-authorized_code": code}
    form["tx_code"] = made.tx_code if tx_code is None else tx_code
    if client_id is not None:
        form["client_id"] = client_id
    return code, app.test_client().post("/oid4vci/token", data=form, headers=FORM)


def nonce(app: Flask) -> str:
    return str(app.test_client().post("/oid4vci/nonce").json["c_nonce"])


def ask(app: Flask, access: str, body: dict[str, Any]) -> Any:
    return app.test_client().post(
        "/oid4vci/credential", json=body, headers={"Authorization": f"Bearer {access}"}
    )


def request_body(made: OfferView, proof: str) -> dict[str, Any]:
    return {"credential_configuration_id": made.configuration, "proofs": {"jwt": [proof]}}


def redeemed(app: Flask, kind: str = "billing", fmt: str = "vc+sd-jwt") -> tuple[OfferView, str]:
    made = offer(app, kind, fmt)
    _, answer = token(app, made)
    assert answer.status_code == 200, answer.json
    return made, str(answer.json["access_token"])


# -- the flow -----------------------------------------------------------------------------------


def test_metadata_lists_both_types_in_every_format(app: Flask) -> None:
    client = app.test_client()
    metadata = client.get("/.well-known/openid-credential-issuer").json
    assert metadata["credential_issuer"] == PUBLIC_URL
    assert metadata["credential_endpoint"] == PUBLIC_URL + "/oid4vci/credential"
    assert metadata["nonce_endpoint"] == PUBLIC_URL + "/oid4vci/nonce"
    listed = metadata["credential_configurations_supported"]
    assert {(c["credential_definition"]["type"][-1], c["format"]) for c in listed.values()} == {
        (t, f)
        for t in ("AEOCertificateCredential", "ExportBillingAttestation")
        for f in ("vc+sd-jwt", "jwt_vc_json", "ldp_vc")
    }
    for entry in listed.values():
        assert entry["proof_types_supported"]["jwt"]["proof_signing_alg_values_supported"]
    assert metadata["authorization_servers"] == [PUBLIC_URL + "/oid4vci"]
    server = client.get("/.well-known/oauth-authorization-server/oid4vci").json
    assert server["issuer"] == PUBLIC_URL + "/oid4vci"
    assert server["token_endpoint"] == PUBLIC_URL + "/oid4vci/token"
    assert server["pre-authorized_grant_anonymous_access_supported"] is True


@pytest.mark.parametrize(("kind", "fmt"), CONFIGURATIONS)
def test_wallet_receives_a_credential_bound_to_its_key(
    app: Flask, clock: Clock, wallet: Wallet, kind: str, fmt: str
) -> None:
    made = offer(app, kind, fmt)
    [held] = receive(app, wallet, made, clock)
    assert held.format == fmt
    result = verifier(app, clock).verify(held.credential)
    assert result.verified, result.errors
    subject = result.credential["credentialSubject"]
    if fmt != "vc+sd-jwt":
        assert subject["id"] == wallet.did
    else:  # cnf binds an SD-JWT; its subject (an export, a trader) stays unnamed
        assert "id" not in subject
    if fmt == "vc+sd-jwt":
        cnf = jose.unverified_payload(held.credential.split("~")[0])["cnf"]["jwk"]
        assert PublicKey.from_jwk({k: v for k, v in cnf.items() if k != "kid"}) == wallet.public_key
    # collected: the officer's view says so, the record is the credential the wallet holds
    view = app.extensions[EXTENSION].view(made.offer_id)
    assert view.state == "collected"
    assert issuer_of(app).record(view.record_id) is not None
    assert wallet.credentials()[0].id == held.id


@pytest.mark.parametrize("fmt", ["vc+sd-jwt", "jwt_vc_json", "ldp_vc"])
def test_wallet_presentation_verifies_for_the_verifier_nonce(
    app: Flask, clock: Clock, wallet: Wallet, fmt: str
) -> None:
    [held] = receive(app, wallet, offer(app, "billing", fmt), clock)
    disclose = ["/credentialSubject/invoice/totalAmount"] if fmt == "vc+sd-jwt" else []
    presented = wallet.present(
        held.id, audience="https://verifier.example", nonce="n-42", disclose=disclose, now=clock()
    )
    result = verifier(app, clock).verify_presentation(
        presented, challenge="n-42", domain="https://verifier.example"
    )
    assert result.verified, result.errors
    wrong = verifier(app, clock).verify_presentation(
        presented, challenge="n-other", domain="https://verifier.example"
    )
    assert not wrong.verified
    if fmt == "vc+sd-jwt":
        shown = result.credentials[0].credential["credentialSubject"]
        assert shown["invoice"]["totalAmount"] == "37500.00"
        assert "unitPrice" not in shown["lineItems"][0]


def test_offer_steps_are_in_the_audit_chain(app: Flask, clock: Clock, wallet: Wallet) -> None:
    made = offer(app, "aeo", "jwt_vc_json", actor="officer:alice")
    receive(app, wallet, made, clock)
    entries = list(issuer_of(app).store.audit_entries())
    actions = [e["action"] for e in entries if e["details"].get("offerId") == made.offer_id]
    assert actions == ["oid4vci-offer", "oid4vci-token", "oid4vci-collect"]
    offered = next(e for e in entries if e["action"] == "oid4vci-offer")
    assert offered["actor"] == "officer:alice"
    collected = next(e for e in entries if e["action"] == "oid4vci-collect")
    assert collected["details"]["holder"] == wallet.did
    issued = [e for e in entries if e["action"] == "issue"]
    assert issued[-1]["details"]["recordId"] == collected["details"]["recordId"]
    assert audit.verify_chain(entries).intact


# -- refusals: the token endpoint ---------------------------------------------------------------


def test_replayed_pre_authorized_code_is_refused(app: Flask) -> None:
    made = offer(app, "billing", "vc+sd-jwt")
    code, first = token(app, made)
    assert first.status_code == 200
    again = app.test_client().post(
        "/oid4vci/token",
        data={
            "grant_type": GRANT_PRE_AUTHORIZED,
            "pre-authorized_code": code,
            "tx_code": made.tx_code,
        },
        headers=FORM,
    )
    assert (again.status_code, again.json["error"]) == (400, "invalid_grant")
    assert again.headers["Cache-Control"] == "no-store"
    refused = [
        e["details"]
        for e in issuer_of(app).store.audit_entries()
        if e["action"] == "oid4vci-code-refused"
    ]
    assert refused == [{"offerId": made.offer_id, "reason": "code presented again (redeemed)"}]
    # the offer is single use: its URI no longer serves the code
    assert app.test_client().get(made.offer_uri.removeprefix(PUBLIC_URL)).status_code == 404


def test_wrong_tx_code_is_refused(app: Flask) -> None:
    made = offer(app, "billing", "vc+sd-jwt")
    wrong = "000000" if made.tx_code != "000000" else "111111"
    _, answer = token(app, made, tx_code=wrong)
    assert (answer.status_code, answer.json["error"]) == (400, "invalid_grant")
    _, right = token(app, made)  # one wrong guess does not burn the offer
    assert right.status_code == 200


def test_missing_tx_code_is_an_invalid_request(app: Flask) -> None:
    made = offer(app, "billing", "vc+sd-jwt")
    _, answer = token(app, made, tx_code="")
    assert (answer.status_code, answer.json["error"]) == (400, "invalid_request")


def test_tx_code_guessing_blocks_the_offer(app: Flask) -> None:
    made = offer(app, "billing", "vc+sd-jwt")
    wrong = "000000" if made.tx_code != "000000" else "111111"
    for _ in range(MAX_TX_FAILURES):
        token(app, made, tx_code=wrong)
    assert app.extensions[EXTENSION].view(made.offer_id).state == "blocked"
    counted = [
        e["details"]["failures"]
        for e in issuer_of(app).store.audit_entries()
        if e["action"] == "oid4vci-code-refused"
    ]
    assert counted == list(range(1, MAX_TX_FAILURES + 1))
    code = app.extensions[EXTENSION]._code(made.offer_id)
    answer = app.test_client().post(
        "/oid4vci/token",
        data={
            "grant_type": GRANT_PRE_AUTHORIZED,
            "pre-authorized_code": code,
            "tx_code": made.tx_code,
        },
        headers=FORM,
    )
    assert (answer.status_code, answer.json["error"]) == (400, "invalid_grant")


def test_racing_tx_code_guesses_are_held_to_the_limit(app: Flask) -> None:
    """Sixteen wrong tx_codes at once: no more than MAX_TX_FAILURES of them are compared
    (each read the offer as open before any failure was counted, and was compared)."""
    made = offer(app, "billing", "vc+sd-jwt")
    code = (
        app.test_client()
        .get(made.offer_uri.removeprefix(PUBLIC_URL))
        .json["grants"][GRANT_PRE_AUTHORIZED]["pre-authorized_code"]
    )
    guesses = [f"{n:06d}" for n in range(17) if f"{n:06d}" != made.tx_code][:16]
    barrier = threading.Barrier(len(guesses))

    def guess(tx_code: str) -> str:
        form = {"grant_type": GRANT_PRE_AUTHORIZED, "pre-authorized_code": code}
        barrier.wait()
        answer = app.test_client().post(
            "/oid4vci/token", data=form | {"tx_code": tx_code}, headers=FORM
        )
        assert answer.json["error"] == "invalid_grant", answer.json
        return str(answer.json["error_description"])

    with ThreadPoolExecutor(len(guesses)) as pool:
        answers = list(pool.map(guess, guesses))
    compared = [a for a in answers if "tx_code is wrong" in a]
    assert len(compared) <= MAX_TX_FAILURES, answers
    assert app.extensions[EXTENSION].view(made.offer_id).state == "blocked"


def test_expired_offer_is_refused(app: Flask, clock: Clock) -> None:
    made = offer(app, "billing", "vc+sd-jwt")
    code = app.extensions[EXTENSION]._code(made.offer_id)
    clock.advance(hours=2)
    answer = app.test_client().post(
        "/oid4vci/token",
        data={
            "grant_type": GRANT_PRE_AUTHORIZED,
            "pre-authorized_code": code,
            "tx_code": made.tx_code,
        },
        headers=FORM,
    )
    assert (answer.status_code, answer.json["error"]) == (400, "invalid_grant")
    assert app.extensions[EXTENSION].view(made.offer_id).expired


def test_unknown_code_and_other_grants_are_refused(app: Flask) -> None:
    client = app.test_client()
    unknown = client.post(
        "/oid4vci/token",
        data={"grant_type": GRANT_PRE_AUTHORIZED, "pre-authorized_code": "nope", "tx_code": "1"},
        headers=FORM,
    )
    assert unknown.json["error"] == "invalid_grant"
    other = client.post(
        "/oid4vci/token", data={"grant_type": "authorization_code", "code": "x"}, headers=FORM
    )
    assert other.json["error"] == "unsupported_grant_type"
    as_json = client.post("/oid4vci/token", json={"grant_type": GRANT_PRE_AUTHORIZED})
    assert as_json.json["error"] == "invalid_request"


# -- refusals: the credential endpoint ----------------------------------------------------------


def test_proof_signed_by_another_key_is_refused(app: Flask, clock: Clock) -> None:
    made, access = redeemed(app)
    holder, other = KeyPair.generate("p256"), KeyPair.generate("p256")
    header = {"alg": "ES256", "typ": PROOF_TYP, "jwk": holder.public.jwk()}
    payload = {"aud": PUBLIC_URL, "iat": int(clock().timestamp()), "nonce": nonce(app)}
    signing_input = (
        b64url_encode(jose.compact_json(header)) + "." + b64url_encode(jose.compact_json(payload))
    )
    forged = signing_input + "." + b64url_encode(other.sign(signing_input.encode()))
    answer = ask(app, access, request_body(made, forged))
    assert (answer.status_code, answer.json["error"]) == (400, "invalid_proof")
    assert app.extensions[EXTENSION].view(made.offer_id).state == "redeemed"


def test_stale_nonce_is_refused(app: Flask, clock: Clock) -> None:
    made, access = redeemed(app)
    stale = nonce(app)
    clock.advance(minutes=6)
    proof = proof_jwt(KeyPair.generate("p256"), audience=PUBLIC_URL, nonce=stale, now=clock())
    answer = ask(app, access, request_body(made, proof))
    assert (answer.status_code, answer.json["error"]) == (400, "invalid_nonce")


def test_missing_or_forged_nonce_is_refused(app: Flask, clock: Clock) -> None:
    made, access = redeemed(app)
    key = KeyPair.generate("p256")
    # the last: a digit of another script passes isdigit, and compare_digest raised on é
    for bad in (None, "9999999999.abc.def", "\u0669999999999.abc.d\u00e9f"):
        proof = proof_jwt(key, audience=PUBLIC_URL, nonce=bad, now=clock())
        answer = ask(app, access, request_body(made, proof))
        assert (answer.status_code, answer.json["error"]) == (400, "invalid_nonce")


def test_proof_for_another_audience_is_refused(app: Flask, clock: Clock) -> None:
    made, access = redeemed(app)
    proof = proof_jwt(
        KeyPair.generate("p256"), audience="https://other.example", nonce=nonce(app), now=clock()
    )
    answer = ask(app, access, request_body(made, proof))
    assert answer.json["error"] == "invalid_proof"


def test_a_proofs_iss_must_be_the_client_that_asked_for_the_token(app: Flask, clock: Clock) -> None:
    """F.1: iss is the client_id of the Client; omitted when the token was asked for
    anonymously (no client_id at the token endpoint). Both were taken unread before."""
    key = KeyPair.generate("p256")

    def proof(client_id: str | None) -> str:
        return proof_jwt(
            key, audience=PUBLIC_URL, nonce=nonce(app), now=clock(), client_id=client_id
        )

    made, anonymous = redeemed(app)
    answer = ask(app, anonymous, request_body(made, proof("wallet-a")))
    assert (answer.json["error"], answer.status_code) == ("invalid_proof", 400)
    assert "anonymously" in answer.json["error_description"]
    made = offer(app, "billing", "vc+sd-jwt")
    _, answer = token(app, made, client_id="wallet-a")
    access = str(answer.json["access_token"])
    answer = ask(app, access, request_body(made, proof("wallet-b")))
    assert answer.json["error"] == "invalid_proof"
    assert "not the client" in answer.json["error_description"]
    answer = ask(app, access, request_body(made, proof("wallet-a")))
    assert answer.status_code == 200, answer.json
    # iss is optional: the anonymous wallet's proof without one is the ordinary flow
    made, anonymous = redeemed(app)
    assert ask(app, anonymous, request_body(made, proof(None))).status_code == 200


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"typ": "JWT"}, "invalid_proof"),
        ({"alg": "HS256"}, "invalid_proof"),
        ({"alg": "ES384"}, "invalid_proof"),  # not the alg of the P-256 key it names
        ({"x5c": ["MIIB"]}, "invalid_proof"),  # two ways to name the key
        ({"jwk": None, "kid": "https://attacker.example/key"}, "invalid_proof"),
    ],
)
def test_malformed_proof_headers_are_refused(
    app: Flask, clock: Clock, change: dict[str, Any], expected: str
) -> None:
    made, access = redeemed(app)
    key = KeyPair.generate("p256")
    header = {"alg": "ES256", "typ": PROOF_TYP, "jwk": key.public.jwk()} | change
    header = {k: v for k, v in header.items() if v is not None}
    payload = {"aud": PUBLIC_URL, "iat": int(clock().timestamp()), "nonce": nonce(app)}
    signing_input = (
        b64url_encode(jose.compact_json(header)) + "." + b64url_encode(jose.compact_json(payload))
    )
    proof = signing_input + "." + b64url_encode(key.sign(signing_input.encode()))
    answer = ask(app, access, request_body(made, proof))
    assert (answer.status_code, answer.json["error"]) == (400, expected)


def test_kid_proof_names_a_did_key(app: Flask, clock: Clock) -> None:
    made, access = redeemed(app, "aeo", "jwt_vc_json")
    key = KeyPair.generate("ed25519")
    proof = proof_jwt(key, audience=PUBLIC_URL, nonce=nonce(app), now=clock(), use_kid=True)
    answer = ask(app, access, request_body(made, proof))
    assert answer.status_code == 200, answer.json
    issued = answer.json["credentials"][0]["credential"]
    subject = jose.unverified_payload(issued)["credentialSubject"]
    assert subject["id"].startswith("did:key:z6Mk")


def test_access_token_is_single_use(app: Flask, clock: Clock) -> None:
    made, access = redeemed(app)
    key = KeyPair.generate("p256")
    first = ask(
        app,
        access,
        request_body(made, proof_jwt(key, audience=PUBLIC_URL, nonce=nonce(app), now=clock())),
    )
    assert first.status_code == 200
    again = ask(
        app,
        access,
        request_body(made, proof_jwt(key, audience=PUBLIC_URL, nonce=nonce(app), now=clock())),
    )
    assert (again.status_code, again.json["error"]) == (401, "invalid_token")
    assert "invalid_token" in again.headers["WWW-Authenticate"]
    records = [e for e in issuer_of(app).store.audit_entries() if e["action"] == "issue"]
    assert len(records) == 1


def test_credential_request_without_token_is_unauthorised(app: Flask) -> None:
    answer = app.test_client().post("/oid4vci/credential", json={})
    assert (answer.status_code, answer.json["error"]) == (401, "invalid_token")
    forged = ask(app, "not-a-token", {})
    assert (forged.status_code, forged.json["error"]) == (401, "invalid_token")


def test_expired_access_token_is_refused(app: Flask, clock: Clock) -> None:
    made, access = redeemed(app)
    clock.advance(minutes=11)
    proof = proof_jwt(KeyPair.generate("p256"), audience=PUBLIC_URL, nonce=nonce(app), now=clock())
    answer = ask(app, access, request_body(made, proof))
    assert (answer.status_code, answer.json["error"]) == (401, "invalid_token")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            {"credential_configuration_id": "Nope_jwt_vc_json", "proofs": {"jwt": ["x"]}},
            "unknown_credential_configuration",
        ),
        (
            {
                "credential_configuration_id": "AEOCertificateCredential_jwt_vc_json",
                "proofs": {"jwt": ["x"]},
            },
            "invalid_credential_request",
        ),
        ({"credential_identifier": "x", "proofs": {"jwt": ["x"]}}, "unknown_credential_identifier"),
        (
            {
                "credential_configuration_id": "ExportBillingAttestation_vc+sd-jwt",
                "proof": {"proof_type": "jwt", "jwt": "x"},
            },
            "invalid_credential_request",
        ),
        ({"credential_configuration_id": "ExportBillingAttestation_vc+sd-jwt"}, "invalid_proof"),
        (
            {
                "credential_configuration_id": "ExportBillingAttestation_vc+sd-jwt",
                "proofs": {"jwt": ["a", "b"]},
            },
            "invalid_proof",
        ),
        (
            {
                "credential_configuration_id": "ExportBillingAttestation_vc+sd-jwt",
                "proofs": {"jwt": ["x"]},
                "credential_response_encryption": {},
            },
            "invalid_encryption_parameters",
        ),
    ],
)
def test_malformed_credential_requests_are_refused(
    app: Flask, body: dict[str, Any], expected: str
) -> None:
    _, access = redeemed(app)
    answer = ask(app, access, body)
    assert (answer.status_code, answer.json["error"]) == (400, expected)


def test_a_chunked_credential_request_over_the_byte_limit_is_413(app: Flask) -> None:
    """Werkzeug hands on a chunked body cut at the cap as if whole: a credential request too
    large was a 400 invalid_credential_request (cut-short JSON); declared or chunked, 413."""
    made, access = redeemed(app)
    body = json.dumps(request_body(made, "x" * 300)).encode()
    app.config["MAX_CONTENT_LENGTH"] = 200
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {access}"}
    statuses = []
    with served(app) as port:
        for chunked in (False, True):
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            try:
                sent = iter([body[i : i + 50] for i in range(0, len(body), 50)])
                connection.request(
                    "POST",
                    "/oid4vci/credential",
                    body=sent if chunked else body,
                    headers=headers,
                    encode_chunked=chunked,
                )
                statuses.append(connection.getresponse().status)
            finally:
                connection.close()
    assert statuses == [413, 413]


def test_wallet_without_tx_code_is_told_so(app: Flask, clock: Clock, wallet: Wallet) -> None:
    made = offer(app, "billing", "vc+sd-jwt")
    with pytest.raises(Exception, match="transaction code"):
        receive(app, wallet, made, clock, tx_code=None)


def test_wallet_reports_the_issuers_refusal(app: Flask, clock: Clock, wallet: Wallet) -> None:
    made = offer(app, "billing", "vc+sd-jwt")
    with pytest.raises(ProtocolError) as caught:
        receive(app, wallet, made, clock, tx_code="12345x")
    assert caught.value.error == "invalid_grant"
    assert wallet.credentials() == []


def test_an_offer_naming_its_subject_is_refused(app: Flask) -> None:
    document = aeo_certificate(issuer_of(app).config.did_web)
    document["credentialSubject"]["id"] = "did:web:trader.example"
    with pytest.raises(ProblemError) as caught:
        app.extensions[EXTENSION].create(
            document, "AEOCertificateCredential_jwt_vc_json", actor="test"
        )
    assert caught.value.extra["pointer"] == "/credential/credentialSubject/id"


def test_offer_api_needs_the_issue_scope_and_answers_the_link(
    app: Flask, clock: Clock, wallet: Wallet
) -> None:
    body = {
        "credential": aeo_certificate(issuer_of(app).config.did_web),
        "credential_configuration_id": "AEOCertificateCredential_vc+sd-jwt",
    }
    client = ApiClient(app)  # every answer checked against the OpenAPI document
    assert client.post("/oid4vci/offers", json=body).status_code == 401
    refused = client.post("/oid4vci/offers", json=body, headers=auth(app, "status"))
    assert refused.status_code == 403
    unknown = client.post(
        "/oid4vci/offers",
        json={**body, "credential_configuration_id": "x"},
        headers=auth(app, "issue"),
    )
    assert (unknown.status_code, unknown.json["pointer"]) == (400, "/credential_configuration_id")
    # a member the offer would not use (no tx code, a longer life) is refused, not dropped
    unused = client.client.post(
        "/oid4vci/offers", json={**body, "tx_code": False}, headers=auth(app, "issue")
    )
    assert (unused.status_code, unused.json["pointer"]) == (400, "/tx_code")
    made = client.post("/oid4vci/offers", json=body, headers=auth(app, "issue"))
    assert made.status_code == 201
    answer = made.json
    assert answer["offerUrl"].startswith("openid-credential-offer://?credential_offer_uri=")
    [held] = wallet.receive(
        answer["offerUrl"],
        tx_code=answer["tx_code"],
        transport=AppTransport(app, PUBLIC_URL),
        now=clock,
    )
    assert held.configuration_id == "AEOCertificateCredential_vc+sd-jwt"
    offered = next(
        e for e in issuer_of(app).store.audit_entries() if e["action"] == "oid4vci-offer"
    )
    assert offered["actor"].startswith("token:")
    again = client.post("/oid4vci/offers", json=body, headers=auth(app, "issue"))
    assert (again.status_code, again.json["code"]) == (409, "DUPLICATE_CREDENTIAL_ID")


def test_racing_credential_requests_sign_one_credential(app: Flask, clock: Clock) -> None:
    """Two wallets' requests with the same access token at once: one credential, one record."""
    made, access = redeemed(app)
    proofs = [
        proof_jwt(KeyPair.generate("p256"), audience=PUBLIC_URL, nonce=nonce(app), now=clock())
        for _ in range(4)
    ]
    barrier = threading.Barrier(len(proofs))

    def send(proof: str) -> int:
        barrier.wait()
        return int(ask(app, access, request_body(made, proof)).status_code)

    with ThreadPoolExecutor(len(proofs)) as pool:
        statuses = sorted(pool.map(send, proofs))
    assert statuses.count(200) == 1
    assert set(statuses) - {200} <= {400, 401}
    issued = [e for e in issuer_of(app).store.audit_entries() if e["action"] == "issue"]
    collected = [
        e for e in issuer_of(app).store.audit_entries() if e["action"] == "oid4vci-collect"
    ]
    assert len(issued) == len(collected) == 1
    assert issued[0]["details"]["recordId"] == collected[0]["details"]["recordId"]


def test_racing_redemptions_of_one_pre_authorized_code_issue_one_access_token(
    app: Flask,
) -> None:
    """Eight token requests with the same code and tx_code at once: exactly one access token."""
    made = offer(app, "billing", "vc+sd-jwt")
    code = (
        app.test_client()
        .get(made.offer_uri.removeprefix(PUBLIC_URL))
        .json["grants"][GRANT_PRE_AUTHORIZED]["pre-authorized_code"]
    )
    form = {"grant_type": GRANT_PRE_AUTHORIZED, "pre-authorized_code": code}
    form["tx_code"] = made.tx_code
    barrier = threading.Barrier(8)

    def redeem(_: int) -> tuple[int, str]:
        barrier.wait()
        answer = app.test_client().post("/oid4vci/token", data=form, headers=FORM)
        return answer.status_code, answer.json.get("access_token") or answer.json["error"]

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(redeem, range(8)))
    assert sorted(status for status, _ in answers) == [200] + [400] * 7, answers
    assert {what for status, what in answers if status == 400} == {"invalid_grant"}


# -- an offer is withdrawn with its maker's access ----------------------------------------------


def _disable(app: Flask, name: str) -> None:
    store = issuer_of(app).store
    with store.engine.begin() as conn:
        conn.execute(
            update(store.t.officers).where(store.t.officers.c.name == name).values(disabled=True)
        )


@pytest.mark.parametrize("step", ["token", "credential"])
def test_an_offer_of_an_officer_disabled_since_is_withdrawn(
    app: Flask, clock: Clock, step: str
) -> None:
    """The offer is signed when the wallet collects it: an officer disabled in between
    (dismissed, a stolen account) issued through their open offers for up to an hour."""
    made = offer(app, "billing", "vc+sd-jwt", actor="officer:alice")
    if step == "token":
        _disable(app, "alice")
        _, answer = token(app, made)
        assert (answer.status_code, answer.json["error"]) == (400, "invalid_grant")
        assert "withdrawn" in answer.json["error_description"]
    else:
        _, answer = token(app, made)
        assert answer.status_code == 200
        _disable(app, "alice")
        key = KeyPair.generate("p256")
        proof = proof_jwt(key, audience=PUBLIC_URL, nonce=nonce(app), now=clock())
        answer = ask(app, answer.json["access_token"], request_body(made, proof))
        assert (answer.status_code, answer.json["error"]) == (400, "credential_request_denied")
        assert "withdrawn" in answer.json["error_description"]
    entries = list(issuer_of(app).store.audit_entries())
    assert not [e for e in entries if e["action"] == "issue"]
    withdrawn = [e["details"] for e in entries if e["action"] == "oid4vci-withdrawn"]
    assert withdrawn == [
        {"offerId": made.offer_id, "reason": "the officer 'alice' who made it may no longer issue"}
    ]


def test_an_offer_made_with_an_api_token_revoked_since_is_withdrawn(app: Flask) -> None:
    service = issuer_of(app)
    made_by = service.create_token(["issue"], label="desk", actor="test")
    made = offer(app, "billing", "vc+sd-jwt", actor=f"token:{made_by.id}")
    service.revoke_token(made_by.id, actor="test")
    _, answer = token(app, made)
    assert (answer.status_code, answer.json["error"]) == (400, "invalid_grant")
    assert "revoked" in answer.json["error_description"]
