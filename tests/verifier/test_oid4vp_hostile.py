"""The verifier's OpenID4VP routes, sent anything: a request body whose claims paths have any
type, and a direct_post response whose vp_token or state is of any shape (NUL, non-UTF-8,
deep nesting, a wrong type at each member). Every one is a 4xx problem, never a 5xx.

Found: a billing-attestation request whose claims held a path that is no array (``[5]``,
``[null]``) was a TypeError, a 500; one that was a string (``["abc"]``) was read as the
path ``["a", "b", "c"]``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask

from tests.verifier.conftest import NOW
from tests.verifier.test_oid4vp import fetch_request, open_request
from vcred import openid4vp
from vcred.did import Resolver


def _problem(answer: Any) -> dict[str, Any]:
    assert 400 <= answer.status_code < 500, answer.get_data(as_text=True)
    assert answer.mimetype == "application/problem+json", answer.get_data(as_text=True)
    body: dict[str, Any] = answer.get_json()
    return body


@pytest.mark.parametrize(
    ("claims", "pointer"),
    [
        ([5], "/claims/0"),
        ([None], "/claims/0"),
        (["abc"], "/claims/0"),
        ([{"a": 1}], "/claims/0"),
        ([["credentialSubject"], []], "/claims/1"),
        ([[{"a": 1}]], "/credentials/0/claims/0/path"),
        ([[-1]], "/credentials/0/claims/0/path"),
    ],
)
def test_a_request_for_claims_paths_of_any_type_is_a_400(
    app: Flask, claims: list[Any], pointer: str
) -> None:
    answer = app.test_client().post(
        "/oid4vp/requests", json={"query": "billing-attestation", "claims": claims}
    )
    assert _problem(answer)["code"] == "MALFORMED"
    assert answer.get_json()["pointer"] == pointer


TIER = ["credentialSubject", "certification", "tier"]


@pytest.mark.parametrize(
    ("claim_values", "pointer"),
    [
        ([], "/claim_values"),
        ({"path": TIER, "values": ["AEOF"]}, "/claim_values"),
        ("AEOF", "/claim_values"),
        ([5], "/claim_values/0"),
        ([{"path": TIER}], "/claim_values/0/values"),
        ([{"path": TIER, "values": []}], "/claim_values/0/values"),
        ([{"path": TIER, "values": "AEOF"}], "/claim_values/0/values"),
        ([{"path": TIER, "values": [None]}], "/claim_values/0/values"),
        ([{"path": TIER, "values": [1.5]}], "/claim_values/0/values"),
        ([{"path": TIER, "values": [["AEOF"]]}], "/claim_values/0/values"),
        ([{"path": TIER, "values": [{"a": 1}]}], "/claim_values/0/values"),
        ([{"path": TIER, "values": ["AEOF"], "id": "t"}], "/claim_values/0/id"),
        ([{"path": ["credentialSubject"], "values": ["x"]}], "/claim_values/0/path"),
        ([{"path": "credentialSubject", "values": ["x"]}], "/claim_values/0/path"),
        ([{"values": ["x"]}], "/claim_values/0/path"),
        (
            [{"path": TIER, "values": ["AEOF"]}, {"path": TIER, "values": ["AEOC"]}],
            "/claim_values/1/path",
        ),
    ],
)
def test_claim_values_of_any_type_are_a_400_where_they_are(
    app: Flask, claim_values: Any, pointer: str
) -> None:
    answer = app.test_client().post(
        "/oid4vp/requests", json={"query": "aeo-certificate", "claim_values": claim_values}
    )
    assert _problem(answer)["code"] == "MALFORMED"
    assert answer.get_json()["pointer"] == pointer


def test_claim_values_restrict_a_billing_attestation_claim_asked_for(app: Flask) -> None:
    path = ["credentialSubject", "invoice", "currency"]
    body = {"query": "billing-attestation", "claims": [path]}
    answer = app.test_client().post(
        "/oid4vp/requests", json={**body, "claim_values": [{"path": path, "values": ["EUR"]}]}
    )
    assert answer.status_code == 201, answer.get_json()
    answer = app.test_client().post(  # [true] is not the path [1]: compared as JSON
        "/oid4vp/requests",
        json={
            "query": "billing-attestation",
            "claims": [["credentialSubject", "lineItems", 1]],
            "claim_values": [{"path": ["credentialSubject", "lineItems", True], "values": ["x"]}],
        },
    )
    assert _problem(answer)["pointer"] == "/claim_values/0/path"


@pytest.mark.parametrize("kind", ["aki", "etsi_tl", "openid_federation", "vcred"])
def test_trusted_authorities_are_refused_naming_the_type(app: Flask, kind: str) -> None:
    """DCQL §6.1.1: the verifier evaluates no type of them, so asking for one is a 400 that
    names it — never a request whose wallet answer is then checked without it."""
    authorities = [{"type": kind, "values": ["s9tIpPmhxdiuNkHMEWNpYim8S8Y"]}]
    for query in ("aeo-certificate", "billing-attestation"):
        answer = app.test_client().post(
            "/oid4vp/requests", json={"query": query, "trusted_authorities": authorities}
        )
        problem = _problem(answer)
        assert problem["code"] == "UNSUPPORTED"
        assert problem["pointer"] == "/trusted_authorities/0/type"
        assert repr(kind) in problem["detail"]


def test_every_trusted_authorities_type_asked_is_named(app: Flask) -> None:
    authorities = [
        {"type": "etsi_tl", "values": ["https://lotl.example.com"]},
        {"type": "openid_federation", "values": ["https://trustanchor.example.com"]},
        {"type": "etsi_tl", "values": ["https://tl.example.com"]},
    ]
    answer = app.test_client().post(
        "/oid4vp/requests", json={"query": "aeo-certificate", "trusted_authorities": authorities}
    )
    detail = _problem(answer)["detail"]
    assert "'etsi_tl': no ETSI trusted list is read" in detail
    assert "'openid_federation': no OpenID Federation trust chain is built" in detail
    assert detail.count("etsi_tl") == 1


@pytest.mark.parametrize(
    ("authorities", "pointer"),
    [
        ([], "/trusted_authorities"),
        (None, "/trusted_authorities"),
        ("aki", "/trusted_authorities"),
        ([None], "/trusted_authorities/0"),
        ([{"type": ["aki"], "values": ["x"]}], "/trusted_authorities/0/type"),
        ([{"type": "aki", "values": []}], "/trusted_authorities/0/values"),
        ([{"type": "aki", "values": [1]}], "/trusted_authorities/0/values"),
    ],
)
def test_trusted_authorities_of_a_wrong_shape_are_a_400(
    app: Flask, authorities: Any, pointer: str
) -> None:
    answer = app.test_client().post(
        "/oid4vp/requests", json={"query": "aeo-certificate", "trusted_authorities": authorities}
    )
    assert _problem(answer)["code"] == "MALFORMED"
    assert answer.get_json()["pointer"] == pointer


VP_TOKENS: list[Any] = [
    "",
    "\x00",
    "null",
    "[]",
    "{}",
    '{"aeo_sd_jwt": null}',
    '{"aeo_sd_jwt": []}',
    '{"aeo_sd_jwt": [null]}',
    '{"aeo_sd_jwt": [5]}',
    '{"aeo_sd_jwt": [[]]}',
    '{"aeo_sd_jwt": ["\\u0000"]}',
    '{"aeo_sd_jwt": ["a~b~"]}',
    '{"aeo_sd_jwt": [{}]}',
    '{"aeo_sd_jwt": [{"proof": 5, "verifiableCredential": 5}]}',
    '{"aeo_sd_jwt": ["x", "y"]}',
    '{"aeo_jwt": ["e30.e30.e30"], "aeo_sd_jwt": ["e30.e30.e30"]}',
    '{"other": ["x"]}',
    '{"aeo_sd_jwt": ["\\ud800"]}',
    '{"aeo_sd_jwt": [' + "[" * 5000 + "]" * 5000 + "]}",
    '{"aeo_sd_jwt": [' + '{"a":' * 70 + "1" + "}" * 70 + "]}",
    '{"aeo_sd_jwt": ["' + "x" * 200_000 + '"]}',
]


@pytest.mark.parametrize("vp_token", VP_TOKENS, ids=range(len(VP_TOKENS)))
def test_a_vp_token_of_any_shape_is_a_400(app: Flask, vp_token: str) -> None:
    opened = open_request(app)
    request = openid4vp.read_request(fetch_request(app, opened), resolver=Resolver(), now=NOW)
    answer = app.test_client().post(
        urlsplit(request.response_uri).path,
        data={"vp_token": vp_token, "state": request.state},
    )
    _problem(answer)


@pytest.mark.parametrize(
    "raw",
    [b"vp_token=%FF%FE&state=%FF", b"state=%00", b"\xff\xfe\x00", b"vp_token=" + b"%5B" * 5000],
)
def test_a_response_form_of_any_bytes_is_a_4xx(app: Flask, raw: bytes) -> None:
    opened = open_request(app)
    answer = app.test_client().post(
        f"/oid4vp/responses/{opened['transaction']}",
        data=raw,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    _problem(answer)


BINDING = "require_cryptographic_holder_binding"


@pytest.mark.parametrize("query", ["aeo-certificate", "billing-attestation"])
def test_a_request_not_requiring_holder_binding_is_refused(app: Flask, query: str) -> None:
    """DCQL §6.1: false would let a wallet send a credential without its holder's key — a
    bearer token anyone who saw it could replay. The verifier requires the binding on every
    Presentation, so asking false is a 400 UNSUPPORTED, never a request it would not honour."""
    answer = app.test_client().post("/oid4vp/requests", json={"query": query, BINDING: False})
    problem = _problem(answer)
    assert (problem["code"], problem["pointer"]) == ("UNSUPPORTED", f"/{BINDING}")
    assert BINDING in problem["detail"]


@pytest.mark.parametrize("value", ["false", 0, None, [], {}])
def test_require_cryptographic_holder_binding_of_another_type_is_a_400(
    app: Flask, value: Any
) -> None:
    answer = app.test_client().post(
        "/oid4vp/requests", json={"query": "aeo-certificate", BINDING: value}
    )
    problem = _problem(answer)
    assert (problem["code"], problem["pointer"]) == ("MALFORMED", f"/{BINDING}")


def test_require_cryptographic_holder_binding_true_is_asked_of_every_credential_query(
    app: Flask,
) -> None:
    """true (the default) is what the verifier requires: asked explicitly, the request object
    carries it in each Credential Query."""
    opened = open_request(app, {"query": "aeo-certificate", BINDING: True})
    request = openid4vp.read_request(fetch_request(app, opened), resolver=Resolver(), now=NOW)
    assert [entry[BINDING] for entry in request.dcql_query["credentials"]] == [True, True]
