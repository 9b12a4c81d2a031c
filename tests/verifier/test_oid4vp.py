"""OpenID4VP 1.0 on the verifier service, with vcred's library as the Wallet: a signed request
by reference, a direct_post response, and every refusal — wrong nonce, wrong audience, wrong
state, replayed response, expired request — on SQLite and PostgreSQL (two verifier apps
sharing one database)."""

from __future__ import annotations

import dataclasses
import http.client
import json
import re
import secrets
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from flask import Flask

from tests.conftest import billing_attestation
from tests.verifier.conftest import NOW, PG_URL, Agency, MakeApp, csrf_of, signed_in
from vcred import did_key, openid4vp, sdjwt
from vcred.did import Resolver
from vcred.errors import MalformedError
from vcred.issuing import signer_for
from vcred.jose import sign_compact, unverified_header, unverified_payload
from vcred.keys import KeyPair
from vcred.presentation import present
from vcred_service.oauth import OAuthConfig

BASE = "https://verifier.eu-customs.example"


@dataclasses.dataclass
class Clock:
    now: datetime = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def trader() -> KeyPair:
    return KeyPair.generate("p256")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def make(make_app: MakeApp, clock: Clock, backend: str) -> Iterator[MakeApp]:
    """Verifier apps on the backend; on PostgreSQL every app shares one set of tables."""
    prefix = f"o{secrets.token_hex(5)}_"
    made: list[Flask] = []

    def build(**overrides: Any) -> Flask:
        options: dict[str, Any] = {"clock": clock}
        if backend == "postgres":
            options.update(database_url=PG_URL, table_prefix=prefix)
        options.update(overrides)
        app = make_app(**options)
        made.append(app)
        return app

    yield build
    if backend == "postgres" and made:
        # each app closed first: its history written, its recognition refresher stopped (a
        # round reading two tables while they are dropped one by one is a deadlock)
        for app in made:
            app.extensions["vcred_verifier"].close()
        made[0].extensions["vcred_verifier"].storage.drop()


@pytest.fixture
def app(make: MakeApp) -> Flask:
    return make()


def open_request(app: Flask, body: dict[str, Any] | None = None) -> dict[str, Any]:
    answer = app.test_client().post("/oid4vp/requests", json=body or {"query": "aeo-certificate"})
    assert answer.status_code == 201, answer.get_json()
    opened: dict[str, Any] = answer.get_json()
    return opened


def fetch_request(app: Flask, opened: dict[str, Any]) -> str:
    """What a wallet does with the link: fetch the request object at request_uri."""
    link = urlsplit(opened["authorization_request"])
    params = {k: v[0] for k, v in parse_qs(link.query).items()}
    assert params["client_id"] == opened["client_id"]
    answer = app.test_client().get(urlsplit(params["request_uri"]).path)
    assert answer.status_code == 200
    assert answer.mimetype == "application/oauth-authz-req+jwt"
    return answer.get_data(as_text=True)


def wallet_answer(
    app: Flask, opened: dict[str, Any], held: list[str], trader: KeyPair, **tamper: str
) -> tuple[dict[str, str], str]:
    """The wallet (vcred's library): read the signed request, answer it; ``tamper`` changes
    what the presentation is bound to."""
    request = openid4vp.read_request(fetch_request(app, opened), resolver=Resolver(), now=NOW)
    bound = dataclasses.replace(request, **tamper) if tamper else request
    form = openid4vp.answer(bound, held, trader, now=NOW)
    form["state"] = request.state
    return form, urlsplit(request.response_uri).path


def aeo_sd_jwt(agency: Agency, trader: KeyPair) -> str:
    holder = did_key(trader.public)
    return str(agency.issue(agency.aeo_certificate(holder=holder), fmt="vc+sd-jwt", holder=trader))


def outcome(app: Flask, opened: dict[str, Any]) -> dict[str, Any]:
    answer = app.test_client().get(f"/oid4vp/requests/{opened['transaction']}")
    body: dict[str, Any] = answer.get_json()
    return body


def test_the_request_object_is_signed_by_the_verifiers_did(app: Flask) -> None:
    opened = open_request(app)
    token = fetch_request(app, opened)
    header, claims = unverified_header(token), unverified_payload(token)
    assert header["typ"] == "oauth-authz-req+jwt"
    assert header["kid"].startswith(opened["client_id"].removeprefix("decentralized_identifier:"))
    assert opened["client_id"].startswith("decentralized_identifier:did:key:")
    assert (claims["response_type"], claims["response_mode"]) == ("vp_token", "direct_post")
    assert claims["aud"] == "https://self-issued.me/v2"
    assert claims["response_uri"] == f"{BASE}/oid4vp/responses/{opened['transaction']}"
    assert len(claims["nonce"]) >= 43
    assert claims["dcql_query"] == openid4vp.aeo_certificate_query()
    assert opened["request_uri"] == f"{BASE}/oid4vp/requests/{opened['transaction']}/object"


def test_an_aeo_certificate_sd_jwt_is_presented_and_verified(
    app: Flask, agency: Agency, trader: KeyPair
) -> None:
    opened = open_request(app)
    assert outcome(app, opened)["status"] == "pending"
    form, response_uri = wallet_answer(app, opened, [aeo_sd_jwt(agency, trader)], trader)
    assert list(json.loads(form["vp_token"])) == ["aeo_sd_jwt"]
    answer = app.test_client().post(response_uri, data=form)
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json() == {}
    done = outcome(app, opened)
    assert done["status"] == "verified"
    (presented,) = done["result"]["presentations"]["aeo_sd_jwt"]
    assert presented["format"] == "vc+sd-jwt"
    assert presented["credentials"][0]["verified"]
    # answered: the request object is no longer served
    path = urlsplit(opened["request_uri"]).path
    assert app.test_client().get(path).status_code == 404


def test_old_transactions_are_forgotten_and_answers_are_in_the_history(
    app: Flask, agency: Agency, trader: KeyPair, clock: Clock
) -> None:
    opened = open_request(app)
    form, response_uri = wallet_answer(app, opened, [aeo_sd_jwt(agency, trader)], trader)
    assert app.test_client().post(response_uri, data=form).status_code == 200
    service = app.extensions["vcred_verifier"]
    service.storage.flush()
    (entry,) = service.storage.recent(10)
    assert (entry.kind, entry.channel, entry.verified) == ("presentation", "oid4vp", True)
    clock.now = NOW + timedelta(days=1, minutes=6)
    open_request(app)  # a day after it expired, the first one is gone
    assert app.test_client().get(f"/oid4vp/requests/{opened['transaction']}").status_code == 404


def test_an_aeo_certificate_jwt_is_presented_as_a_vp_jwt(
    app: Flask, agency: Agency, trader: KeyPair
) -> None:
    opened = open_request(app)
    credential = str(agency.issue(agency.aeo_certificate(holder=did_key(trader.public))))
    form, response_uri = wallet_answer(app, opened, [credential], trader)
    assert list(json.loads(form["vp_token"])) == ["aeo_jwt"]
    assert app.test_client().post(response_uri, data=form).status_code == 200
    assert outcome(app, opened)["status"] == "verified"


TIER = ["credentialSubject", "certification", "tier"]


@pytest.mark.parametrize("fmt", ["vc+sd-jwt", "vc+jwt"])
def test_a_certificate_of_another_tier_than_asked_is_refused(
    app: Flask, agency: Agency, trader: KeyPair, fmt: str
) -> None:
    """``claim_values`` asks the tier with DCQL ``values`` (§6.3); a wallet that ignores them
    presents its TIER3 certificate all the same, and the verifier refuses it: the claim has a
    value the query did not ask for. As asked, the same certificate is verified."""
    certificate = agency.aeo_certificate(holder=did_key(trader.public))
    binding = {"holder": trader} if fmt == "vc+sd-jwt" else {}
    held = str(agency.issue(certificate, fmt=fmt, **binding))
    opened = open_request(
        app,
        {"query": "aeo-certificate", "claim_values": [{"path": TIER, "values": ["AEOF", 3]}]},
    )
    asked = unverified_payload(fetch_request(app, opened))["dcql_query"]
    assert all(
        claim["values"] == ["AEOF", 3]
        for entry in asked["credentials"]
        for claim in entry["claims"]
        if claim["path"] == TIER
    )
    unrestricted = openid4vp.aeo_certificate_query()  # what a wallet ignoring values answers
    form, response_uri = wallet_answer(app, opened, [held], trader, dcql_query=unrestricted)
    answer = app.test_client().post(response_uri, data=form)
    assert answer.status_code == 400, answer.get_json()
    assert answer.get_json()["code"] == "PRESENTATION_REFUSED"
    (problem,) = answer.get_json()["problemDetails"]
    assert problem["code"] == "INVALID_PRESENTATION"
    assert "value the query does not ask for" in problem["detail"]
    assert problem["pointer"].endswith("/credentialSubject/certification/tier")
    assert outcome(app, opened)["status"] == "refused"

    opened = open_request(
        app, {"query": "aeo-certificate", "claim_values": [{"path": TIER, "values": ["TIER3"]}]}
    )
    form, response_uri = wallet_answer(app, opened, [held], trader)
    assert app.test_client().post(response_uri, data=form).status_code == 200
    assert outcome(app, opened)["status"] == "verified"


def test_a_replayed_response_is_refused(app: Flask, agency: Agency, trader: KeyPair) -> None:
    opened = open_request(app)
    form, response_uri = wallet_answer(app, opened, [aeo_sd_jwt(agency, trader)], trader)
    assert app.test_client().post(response_uri, data=form).status_code == 200
    again = app.test_client().post(response_uri, data=form)
    assert again.status_code == 400
    assert again.get_json()["code"] == "REPLAYED"


def test_a_presentation_for_another_request_is_refused(
    app: Flask, agency: Agency, trader: KeyPair
) -> None:
    """A response made for one request, posted to another's response URI (with its state)."""
    first, second = open_request(app), open_request(app)
    form, _ = wallet_answer(app, first, [aeo_sd_jwt(agency, trader)], trader)
    other, response_uri = wallet_answer(app, second, [aeo_sd_jwt(agency, trader)], trader)
    answer = app.test_client().post(
        response_uri, data={"vp_token": form["vp_token"], "state": other["state"]}
    )
    assert answer.status_code == 400
    codes = [p["code"] for p in answer.get_json()["problemDetails"]]
    assert "INVALID_CHALLENGE" in codes
    assert outcome(app, second)["status"] == "refused"


def test_wrong_nonce_is_refused(app: Flask, agency: Agency, trader: KeyPair) -> None:
    opened = open_request(app)
    form, response_uri = wallet_answer(
        app, opened, [aeo_sd_jwt(agency, trader)], trader, nonce=secrets.token_urlsafe(32)
    )
    answer = app.test_client().post(response_uri, data=form)
    assert answer.status_code == 400
    assert answer.get_json()["code"] == "PRESENTATION_REFUSED"
    assert "INVALID_CHALLENGE" in [p["code"] for p in answer.get_json()["problemDetails"]]


def test_wrong_audience_is_refused(app: Flask, agency: Agency, trader: KeyPair) -> None:
    opened = open_request(app)
    form, response_uri = wallet_answer(
        app,
        opened,
        [aeo_sd_jwt(agency, trader)],
        trader,
        client_id="decentralized_identifier:" + did_key(KeyPair.generate().public),
    )
    answer = app.test_client().post(response_uri, data=form)
    assert answer.status_code == 400
    assert "INVALID_DOMAIN" in [p["code"] for p in answer.get_json()["problemDetails"]]


def test_a_certificate_of_an_issuer_the_trust_list_does_not_name_is_refused(
    app: Flask, agency: Agency, trader: KeyPair
) -> None:
    """The query names a type, not an issuer (§8.6 step 2.5: the verifier's own trust
    decision): the same certificate, signed by a key nobody recognised, answers nothing."""
    rogue = KeyPair.generate("ed25519")
    document = agency.aeo_certificate(holder=did_key(trader.public), status=False)
    document["issuer"] = did_key(rogue.public)
    forged = sdjwt.issue(document, signer_for(rogue), holder=trader)
    opened = open_request(app)
    form, response_uri = wallet_answer(app, opened, [str(forged)], trader)
    answer = app.test_client().post(response_uri, data=form)
    assert answer.status_code == 400
    assert "UNTRUSTED_ISSUER" in [p["code"] for p in answer.get_json()["problemDetails"]]
    assert outcome(app, opened)["status"] == "refused"


def test_an_sd_jwt_without_its_key_binding_is_refused(
    app: Flask, agency: Agency, trader: KeyPair
) -> None:
    """§8.6 step 2.3: require_cryptographic_holder_binding defaults to true — the wallet's
    presentation with its KB-JWT cut off (the credential alone, as a thief would have it)."""
    opened = open_request(app)
    form, response_uri = wallet_answer(app, opened, [aeo_sd_jwt(agency, trader)], trader)
    token = json.loads(form["vp_token"])
    presentation = token["aeo_sd_jwt"][0]
    token["aeo_sd_jwt"] = [presentation[: presentation.rindex("~") + 1]]
    answer = app.test_client().post(
        response_uri, data={"vp_token": json.dumps(token), "state": form["state"]}
    )
    assert answer.status_code == 400
    problems = answer.get_json()["problemDetails"]
    assert {"INVALID_PRESENTATION", "INVALID_CHALLENGE"} <= {p["code"] for p in problems}
    assert "requires key binding" in json.dumps(problems)
    assert outcome(app, opened)["status"] == "refused"


def test_wrong_state_is_refused_and_the_request_stays_open(
    app: Flask, agency: Agency, trader: KeyPair
) -> None:
    opened = open_request(app)
    form, response_uri = wallet_answer(app, opened, [aeo_sd_jwt(agency, trader)], trader)
    wrong = app.test_client().post(response_uri, data={**form, "state": "not-the-state"})
    assert (wrong.status_code, wrong.get_json()["code"]) == (400, "INVALID_STATE")
    assert app.test_client().post(response_uri, data=form).status_code == 200


def test_an_expired_request_is_refused(
    app: Flask, agency: Agency, trader: KeyPair, clock: Clock
) -> None:
    opened = open_request(app)
    form, response_uri = wallet_answer(app, opened, [aeo_sd_jwt(agency, trader)], trader)
    clock.now = NOW + timedelta(minutes=5)
    answer = app.test_client().post(response_uri, data=form)
    assert (answer.status_code, answer.get_json()["code"]) == (400, "EXPIRED")
    assert outcome(app, opened)["status"] == "expired"


def test_a_credential_query_id_not_asked_for_is_refused(
    app: Flask, agency: Agency, trader: KeyPair
) -> None:
    opened = open_request(app)
    form, response_uri = wallet_answer(app, opened, [aeo_sd_jwt(agency, trader)], trader)
    token = json.loads(form["vp_token"])
    form["vp_token"] = json.dumps({"something_else": token["aeo_sd_jwt"]})
    answer = app.test_client().post(response_uri, data=form)
    assert answer.status_code == 400
    assert answer.get_json()["problemDetails"][0]["code"] == "INVALID_PRESENTATION"


def test_an_unknown_transaction_and_a_json_response_are_refused(app: Flask) -> None:
    http = app.test_client()
    assert http.post("/oid4vp/responses/nope", data={"state": "x"}).status_code == 404
    opened = open_request(app)
    answer = http.post(f"/oid4vp/responses/{opened['transaction']}", json={"vp_token": "{}"})
    assert answer.status_code == 400
    assert http.get("/oid4vp/requests/nope/object").status_code == 404
    assert http.post("/oid4vp/requests", json={"query": "passport"}).status_code == 400


def test_a_wallet_error_response_ends_the_request(app: Flask) -> None:
    opened = open_request(app)
    request = openid4vp.read_request(fetch_request(app, opened), resolver=Resolver(), now=NOW)
    answer = app.test_client().post(
        urlsplit(request.response_uri).path,
        data={"error": "access_denied", "state": request.state},
    )
    assert answer.status_code == 200
    done = outcome(app, opened)
    assert (done["status"], done["result"]["error"]) == ("refused", "access_denied")


def test_a_billing_attestation_reveals_only_the_chosen_claims(
    make: MakeApp, agency: Agency, trader: KeyPair
) -> None:
    app = make(trust_list=None, trust_issuer=None)  # the trust list recognises AEO certificates
    claims = [["credentialSubject", "invoice", "totalAmount"], ["credentialSubject", "exporter"]]
    opened = open_request(app, {"query": "billing-attestation", "claims": claims})
    document = billing_attestation(issuer=agency.signer.key_id.split("#")[0])
    held = str(agency.issue(document, fmt="vc+sd-jwt", holder=trader))
    form, response_uri = wallet_answer(app, opened, [held], trader)
    answer = app.test_client().post(response_uri, data=form)
    assert answer.status_code == 200, answer.get_json()
    (presented,) = outcome(app, opened)["result"]["presentations"]["billing"]
    subject = document["credentialSubject"]
    assert presented["claims"] == [
        {"path": claims[0], "values": [subject["invoice"]["totalAmount"]]},
        {"path": claims[1], "values": [subject["exporter"]]},
    ]
    disclosed = presented["credentials"][0]["disclosed"]
    assert "/credentialSubject/invoice/totalAmount" in disclosed
    assert not any("unitPrice" in path for path in disclosed)  # not asked for: withheld


def test_a_line_item_asked_by_its_description_is_the_only_one_disclosed(
    make: MakeApp, agency: Agency, trader: KeyPair
) -> None:
    """Data minimisation: the importing country asks whether the attestation lists
    "Monitors" (a null path component with claim_values): the wallet discloses that line's
    description, not the other line's, and the verifier's check passes on it."""
    app = make(trust_list=None, trust_issuer=None)
    descriptions = ["credentialSubject", "lineItems", None, "description"]
    opened = open_request(
        app,
        {
            "query": "billing-attestation",
            "claims": [descriptions],
            "claim_values": [{"path": descriptions, "values": ["Monitors"]}],
        },
    )
    document = billing_attestation(issuer=agency.signer.key_id.split("#")[0])
    held = str(agency.issue(document, fmt="vc+sd-jwt", holder=trader))
    form, response_uri = wallet_answer(app, opened, [held], trader)
    answer = app.test_client().post(response_uri, data=form)
    assert answer.status_code == 200, answer.get_json()
    (presented,) = outcome(app, opened)["result"]["presentations"]["billing"]
    assert presented["claims"] == [{"path": descriptions, "values": ["Monitors"]}]
    assert presented["credentials"][0]["disclosed"] == [
        "/credentialSubject/lineItems/1/description"
    ]


def test_a_claim_the_wallet_withholds_is_refused(
    make: MakeApp, agency: Agency, trader: KeyPair
) -> None:
    app = make(trust_list=None, trust_issuer=None)
    opened = open_request(
        app,
        {
            "query": "billing-attestation",
            "claims": [["credentialSubject", "invoice", "totalAmount"]],
        },
    )
    document = billing_attestation(issuer=agency.signer.key_id.split("#")[0])
    held = str(agency.issue(document, fmt="vc+sd-jwt", holder=trader))
    request = openid4vp.read_request(fetch_request(app, opened), resolver=Resolver(), now=NOW)
    # a wallet that discloses nothing of what was asked: the claim is not in the presentation
    presentation = sdjwt.present(held, trader, nonce=request.nonce, aud=request.client_id, now=NOW)
    form = {"vp_token": json.dumps({"billing": [presentation]}), "state": request.state}
    answer = app.test_client().post(urlsplit(request.response_uri).path, data=form)
    assert answer.status_code == 400
    codes = [p["code"] for p in answer.get_json()["problemDetails"]]
    assert codes == ["INVALID_PRESENTATION"]


@pytest.mark.postgres
def test_two_verifier_apps_share_the_transactions(
    make_app: MakeApp, agency: Agency, trader: KeyPair, clock: Clock
) -> None:
    """Opened through one process, answered through the other, replayed at the first."""
    prefix = f"o{secrets.token_hex(5)}_"
    options = {"clock": clock, "database_url": PG_URL, "table_prefix": prefix}
    first, second = make_app(**options), make_app(**options)
    try:
        opened = open_request(first)
        form, response_uri = wallet_answer(second, opened, [aeo_sd_jwt(agency, trader)], trader)
        assert second.test_client().post(response_uri, data=form).status_code == 200
        assert outcome(first, opened)["status"] == "verified"
        assert first.test_client().post(response_uri, data=form).get_json()["code"] == "REPLAYED"
    finally:
        for app in (first, second):
            app.extensions["vcred_verifier"].storage.flush()
        first.extensions["vcred_verifier"].storage.drop()


def test_with_oauth_opening_a_request_needs_the_verify_scope(make: MakeApp) -> None:
    app = make(oauth=OAuthConfig(audience=BASE, token_endpoint=True))
    answer = app.test_client().post("/oid4vp/requests", json={"query": "aeo-certificate"})
    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"].startswith('Bearer realm="vcred-verifier"')


def test_the_request_object_verifies_only_with_its_typ(app: Flask) -> None:
    """The wallet side refuses a request object whose typ is not oauth-authz-req+jwt."""
    key = KeyPair.generate("ed25519")
    request = openid4vp.AuthorizationRequest.new(
        did=did_key(key.public),
        response_uri=BASE + "/r",
        dcql_query=openid4vp.aeo_certificate_query(),
    )
    token = sign_compact(
        {**request.claims(), "exp": int(NOW.timestamp()) + 60},
        signer_for(key, did=did_key(key.public)),
        typ="JWT",
    )
    with pytest.raises(MalformedError, match="typ"):
        openid4vp.read_request(token, resolver=Resolver(), now=NOW)


# -- the officer's page -------------------------------------------------------------------------


def test_the_page_shows_the_request_as_a_qr_code_and_link_and_then_the_answer(
    app: Flask, agency: Agency, trader: KeyPair
) -> None:
    officer = signed_in(app)
    page = officer.get("/present").get_data(as_text=True)
    token = csrf_of(page)
    shown = officer.post("/present", data={"query": "aeo-certificate", "csrf_token": token})
    assert shown.status_code == 200
    html = shown.get_data(as_text=True)
    assert "<svg" in html
    link = re.search(r'id="wallet-link" href="([^"]+)"', html)
    assert link is not None
    href = link.group(1).replace("&amp;", "&")
    assert href.startswith("openid4vp://?client_id=decentralized_identifier")
    request_uri = parse_qs(urlsplit(href).query)["request_uri"][0]
    transaction = urlsplit(request_uri).path.split("/")[-2]
    opened = {
        "transaction": transaction,
        "client_id": parse_qs(urlsplit(href).query)["client_id"][0],
        "authorization_request": href,
    }
    status_page = f"/present/{transaction}"
    assert "PENDING" in officer.get(status_page).get_data(as_text=True)
    form, response_uri = wallet_answer(app, opened, [aeo_sd_jwt(agency, trader)], trader)
    assert app.test_client().post(response_uri, data=form).status_code == 200
    answered = officer.get(status_page).get_data(as_text=True)
    assert "VERIFIED" in answered
    assert "Example Prairie Gadgets" in answered  # the legalName claim asked for


@pytest.mark.parametrize(
    ("member", "value"),
    [
        (
            "claim_values",
            '[{"path": ["credentialSubject", "certification", "tier"], "values": [3]}]',
        ),
        ("claims", '[["credentialSubject", "invoice", "totalAmount"]]'),
        ("trusted_authorities", '[{"type": "aki", "values": ["x"]}]'),
        ("require_cryptographic_holder_binding", "false"),
        ("tier", "AEOF"),
    ],
)
def test_the_page_refuses_a_member_it_does_not_take(app: Flask, member: str, value: str) -> None:
    """The page opens the two queries it offers as they are; what POST /oid4vp/requests
    composes (``claim_values`` among them) is refused by name, never silently dropped: a
    request restricted to AEOF opened unrestricted would accept any tier."""
    officer = signed_in(app)
    token = csrf_of(officer.get("/present").get_data(as_text=True))
    answer = officer.post(
        "/present", data={"query": "aeo-certificate", "csrf_token": token, member: value}
    )
    assert answer.status_code == 400
    problem = answer.get_json()
    assert (problem["code"], problem["pointer"]) == ("MALFORMED", f"/{member}")
    if member == "claim_values":
        assert "POST /oid4vp/requests" in problem["detail"]


def test_the_page_needs_an_officer_and_a_csrf_token(app: Flask) -> None:
    assert app.test_client().get("/present").status_code in (302, 303)
    officer = signed_in(app)
    assert officer.post("/present", data={"query": "aeo-certificate"}).status_code == 400


@pytest.mark.parametrize("presentation", [123, None, {"type": "VerifiablePresentation"}, "x" * 10])
def test_a_presentation_that_is_not_one_is_refused_without_a_server_error(
    app: Flask, presentation: Any
) -> None:
    opened = open_request(app)
    request = openid4vp.read_request(fetch_request(app, opened), resolver=Resolver(), now=NOW)
    form = {"vp_token": json.dumps({"aeo_jwt": [presentation]}), "state": request.state}
    answer = app.test_client().post(urlsplit(request.response_uri).path, data=form)
    assert answer.status_code == 400
    assert answer.get_json()["code"] == "PRESENTATION_REFUSED"
    assert outcome(app, opened)["status"] == "refused"


def test_a_presentation_of_no_credential_answers_no_query(app: Flask) -> None:
    """Anyone with a key signs an empty VP JWT for the request's nonce and client id: it
    presents nothing, so it satisfies no Credential Query (it was "verified" before)."""
    opened = open_request(app)
    request = openid4vp.read_request(fetch_request(app, opened), resolver=Resolver(), now=NOW)
    anyone = KeyPair.generate("p256")
    empty = present([], anyone, challenge=request.nonce, domain=request.client_id, now=NOW)
    form = {"vp_token": json.dumps({"aeo_jwt": [empty]}), "state": request.state}
    answer = app.test_client().post(f"/oid4vp/responses/{opened['transaction']}", data=form)
    assert answer.status_code == 400, answer.get_json()
    problems = answer.get_json()["problemDetails"]
    assert [p["code"] for p in problems] == ["INVALID_PRESENTATION"]
    assert outcome(app, opened)["status"] == "refused"


def test_a_presentation_in_another_format_than_asked_is_refused(
    app: Flask, agency: Agency, trader: KeyPair
) -> None:
    """§6.1: a VP JWT of a whole credential, posted for the query that asks for a selective
    SD-JWT (it was "verified" before): the query's format is what must be presented."""
    opened = open_request(app)
    request = openid4vp.read_request(fetch_request(app, opened), resolver=Resolver(), now=NOW)
    credential = str(agency.issue(agency.aeo_certificate(holder=did_key(trader.public))))
    whole = present([credential], trader, challenge=request.nonce, domain=request.client_id)
    form = {"vp_token": json.dumps({"aeo_sd_jwt": [whole]}), "state": request.state}
    answer = app.test_client().post(urlsplit(request.response_uri).path, data=form)
    assert answer.status_code == 400, answer.get_json()
    (problem,) = answer.get_json()["problemDetails"]
    assert problem["code"] == "INVALID_PRESENTATION"
    assert "vc+sd-jwt" in problem["detail"]
    assert outcome(app, opened)["status"] == "refused"


def test_the_claims_of_every_presented_credential_are_reported(
    app: Flask, agency: Agency, trader: KeyPair
) -> None:
    """A VP JWT of two certificates: each credential's values under its own entry, all of
    them under ``claims`` (only the last credential's were reported before). The query asks
    for one certificate (no ``multiple``), so two of different tiers are refused, reported."""
    opened = open_request(app)
    request = openid4vp.read_request(fetch_request(app, opened), resolver=Resolver(), now=NOW)
    tiers = ["TIER2", "TIER3"]
    held = []
    for tier in tiers:
        document = agency.aeo_certificate(holder=did_key(trader.public))
        document["credentialSubject"]["certification"]["tier"] = tier
        held.append(str(agency.issue(document)))
    both = present(held, trader, challenge=request.nonce, domain=request.client_id)
    form = {"vp_token": json.dumps({"aeo_jwt": [both]}), "state": request.state}
    answer = app.test_client().post(urlsplit(request.response_uri).path, data=form)
    assert answer.status_code == 400, answer.get_json()
    assert "one credential, not several" in json.dumps(answer.get_json()["problemDetails"])
    assert outcome(app, opened)["status"] == "refused"
    (presented,) = outcome(app, opened)["result"]["presentations"]["aeo_jwt"]
    tier_path = ["credentialSubject", "certification", "tier"]
    reported = {tuple(c["path"]): c["values"] for c in presented["claims"]}
    assert reported[tuple(tier_path)] == tiers
    per_credential = [
        next(c["values"] for c in entry["claims"] if c["path"] == tier_path)
        for entry in presented["credentials"]
    ]
    assert per_credential == [["TIER2"], ["TIER3"]]


def test_racing_responses_to_one_request_are_accepted_once(
    app: Flask, agency: Agency, trader: KeyPair
) -> None:
    """The same wallet response posted eight times at once (state and nonce single use):
    exactly one is verified, the others are refused as replayed."""
    opened = open_request(app)
    form, response_uri = wallet_answer(app, opened, [aeo_sd_jwt(agency, trader)], trader)
    barrier = threading.Barrier(8)

    def respond(_: int) -> tuple[int, str | None]:
        barrier.wait()
        answer = app.test_client().post(response_uri, data=form)
        return answer.status_code, (answer.get_json() or {}).get("code")

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(respond, range(8)))
    assert sorted(status for status, _ in answers) == [200] + [400] * 7, answers
    assert {code for status, code in answers if status == 400} == {"REPLAYED"}


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        # claims choose what a billing attestation reveals; an AEO certificate query has none
        ({"query": "aeo-certificate", "claims": [["credentialSubject", "name"]]}, "/claims"),
        ({"query": "billing-attestation", "claim": [["credentialSubject"]]}, "/claim"),
    ],
)
def test_a_request_member_that_would_not_be_used_is_refused(
    app: Flask, body: dict[str, Any], pointer: str
) -> None:
    answer = app.test_client().post("/oid4vp/requests", json=body)
    assert answer.status_code == 400, answer.get_json()
    assert answer.mimetype == "application/problem+json"
    assert answer.get_json()["pointer"] == pointer


def test_a_form_over_the_cap_sent_chunked_is_413_as_a_declared_one(
    make: MakeApp, agency: Agency, trader: KeyPair
) -> None:
    """Attack: Werkzeug reads a body without Content-Length only to the cap and parses the
    form in what it read: a wallet's response padded past ``max_body_bytes`` and sent chunked
    was taken whole (its fields came before the cut) where a declared length over the cap is
    413 — and a field at the cut was read cut short. A form sent chunked past the cap is 413
    now, the transaction still pending; at the cap it is read."""
    from tests.verifier.test_batch import served

    cap = 32 * 1024
    app = make(max_body_bytes=cap)
    opened = open_request(app)
    form, response_uri = wallet_answer(app, opened, [aeo_sd_jwt(agency, trader)], trader)
    body = urlencode(form).encode()
    assert len(body) < cap
    over = body + b"&padding=" + b"x" * cap

    def post(data: bytes, *, chunked: bool) -> int:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        try:
            if chunked:
                parts = iter([data[i : i + 100] for i in range(0, len(data), 100)])
                connection.request("POST", response_uri, body=parts, headers=headers)
            else:
                connection.request("POST", response_uri, body=data, headers=headers)
            return connection.getresponse().status
        finally:
            connection.close()

    with served(app) as port:
        assert post(over, chunked=False) == 413
        assert post(over, chunked=True) == 413
        assert outcome(app, opened)["status"] == "pending"
        assert post(body, chunked=True) == 200
    assert outcome(app, opened)["status"] == "verified"
