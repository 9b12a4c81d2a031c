"""Discovery: the agency's did:web document lists its service endpoints (DID Core §5.4), and
GET /identifiers/{did} resolves the DIDs the service may answer for (DID Resolution HTTP(S)
binding), refusing others with a DID resolution error."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask

from issuer_app import IssuerConfig
from tests.issuer.conftest import DID_WEB, make_config
from vcred.did import DidDocument, did_jwk, did_key
from vcred.errors import UsageError
from vcred.keys import KeyPair

SERVICES = {
    "oid4vci": "https://issuer.customs.example/oid4vci",
    "oid4vp": "https://verifier.customs.example",
    "trust-list": "https://customs.example/trust-lists/current.jwt",
}
RESULT = "application/did-resolution"


@pytest.fixture
def discovery_app(make_app: Callable[..., Flask]) -> Flask:
    return make_app("sqlite", did_services=SERVICES)


def resolve(app: Flask, did: str, accept: str | None = RESULT) -> Any:
    headers = {"Accept": accept} if accept else {}
    return app.test_client().get(f"/identifiers/{quote(did, safe=':')}", headers=headers)


def body_of(answer: Any) -> Any:
    """The JSON body (application/did-resolution is JSON without a +json suffix)."""
    return json.loads(answer.get_data(as_text=True))


def test_the_did_document_lists_the_service_endpoints(discovery_app: Flask) -> None:
    document = discovery_app.test_client().get("/.well-known/did.json").get_json()
    assert document["service"] == [
        {
            "id": f"{DID_WEB}#vc-api",
            "type": "VcApiIssuerService",
            "serviceEndpoint": "https://customs.example",
        },
        {"id": f"{DID_WEB}#oid4vci", "type": "OID4VCI", "serviceEndpoint": SERVICES["oid4vci"]},
        {"id": f"{DID_WEB}#oid4vp", "type": "OID4VP", "serviceEndpoint": SERVICES["oid4vp"]},
        {
            "id": f"{DID_WEB}#trust-list",
            "type": "MRATrustList",
            "serviceEndpoint": SERVICES["trust-list"],
        },
    ]
    # services do not change what the document means to a verifier
    assert DidDocument.parse(document, expected_id=DID_WEB).methods


def test_without_configured_services_the_vc_api_is_listed(make_app: Callable[..., Flask]) -> None:
    document = make_app("sqlite").test_client().get("/.well-known/did.json").get_json()
    assert [s["id"] for s in document["service"]] == [f"{DID_WEB}#vc-api"]


@pytest.mark.parametrize(
    ("services", "message"),
    [
        ({"openid": "https://x.example"}, "KIND one of"),
        ({"vc-api": "https://x.example"}, "KIND one of"),
        ({"oid4vp": "ftp://x.example"}, "http"),
        ({"oid4vp": "not a url"}, "oid4vp endpoint"),
    ],
)
def test_bad_services_are_refused(tmp_path: Path, services: dict[str, str], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        make_config(tmp_path, "sqlite", did_services=services)


def test_services_need_a_domain(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="domain"):
        make_config(tmp_path, "sqlite", did_services=SERVICES, domain=None)


def test_services_from_the_environment(tmp_path: Path) -> None:
    env = {
        "VCRED_ISSUER_DATA_DIR": str(tmp_path),
        "VCRED_ISSUER_PASSPHRASE": "a passphrase for tests",
        "VCRED_ISSUER_DOMAIN": "customs.example",
        "VCRED_ISSUER_DID_SERVICES": ",".join(f"{k}={v}" for k, v in SERVICES.items()),
    }
    assert dict(IssuerConfig.from_env(env).did_services) == SERVICES
    env["VCRED_ISSUER_DID_SERVICES"] = "oid4vp=https://a.example,oid4vp=https://b.example"
    with pytest.raises(UsageError, match="twice"):
        IssuerConfig.from_env(env)


# -- GET /identifiers/{did} -------------------------------------------------------------------


def test_its_own_did_web_resolves_with_its_services(discovery_app: Flask) -> None:
    answer = resolve(discovery_app, DID_WEB)
    assert answer.status_code == 200
    assert answer.mimetype == RESULT
    body = body_of(answer)
    served = discovery_app.test_client().get("/.well-known/did.json").get_json()
    assert body["didDocument"] == served
    assert body["didResolutionMetadata"] == {"contentType": "application/did+json"}
    assert body["didDocumentMetadata"] == {}


def test_a_did_web_with_a_port_resolves_appended_or_url_encoded(
    make_app: Callable[..., Flask],
) -> None:
    app = make_app("sqlite", domain="customs.example:8443")
    did = "did:web:customs.example%3A8443"
    for path in (did, quote(did, safe="")):
        answer = app.test_client().get(f"/identifiers/{path}")
        assert answer.status_code == 200, path
        assert body_of(answer)["didDocument"]["id"] == did
    # the port read as a path: another did:web, not this one
    assert app.test_client().get("/identifiers/did:web:customs.example:8443").status_code == 404


def test_the_document_alone_when_asked_for(discovery_app: Flask) -> None:
    for accept in ("application/did+json", "application/did", "application/json"):
        answer = resolve(discovery_app, DID_WEB, accept)
        assert answer.status_code == 200
        assert answer.mimetype == "application/did+json"
        assert body_of(answer)["id"] == DID_WEB


def test_no_preference_gets_the_resolution_result(discovery_app: Flask) -> None:
    for accept in (None, "*/*"):
        assert resolve(discovery_app, DID_WEB, accept).mimetype == RESULT


@pytest.mark.parametrize("method", ["key", "jwk"])
def test_did_key_and_did_jwk_resolve(discovery_app: Flask, method: str) -> None:
    key = KeyPair.generate("p256")
    did = did_key(key.public) if method == "key" else did_jwk(key.public)
    body = body_of(resolve(discovery_app, did))
    document = DidDocument.parse(body["didDocument"], expected_id=did)
    assert [m.public_key for m in document.methods_for("assertionMethod")] == [key.public]


def test_another_did_web_is_refused(discovery_app: Flask) -> None:
    answer = resolve(discovery_app, "did:web:other-agency.example")
    assert answer.status_code == 404
    body = body_of(answer)
    assert body["didDocument"] is None
    assert body["didResolutionMetadata"]["error"]["type"] == "https://www.w3.org/ns/did#NOT_FOUND"


def test_an_unsupported_method_is_refused(discovery_app: Flask) -> None:
    answer = resolve(discovery_app, "did:example:123")
    assert answer.status_code == 501
    error = body_of(answer)["didResolutionMetadata"]["error"]
    assert error["type"] == "https://www.w3.org/ns/did#METHOD_NOT_SUPPORTED"
    assert "did:example" in error["detail"]


def test_a_refusal_is_problem_details_when_the_document_was_asked_for(discovery_app: Flask) -> None:
    answer = resolve(discovery_app, "did:example:123", "application/did+json")
    assert answer.status_code == 501
    assert answer.mimetype == "application/problem+json"
    body = body_of(answer)
    assert (body["type"], body["status"], body["code"]) == (
        "https://www.w3.org/ns/did#METHOD_NOT_SUPPORTED",
        501,
        "METHOD_NOT_SUPPORTED",
    )


@pytest.mark.parametrize("did", ["not-a-did", "did:key:zNotBase58!", "did:key:z6Mkxyz"])
def test_an_invalid_did_is_refused(discovery_app: Flask, did: str) -> None:
    answer = resolve(discovery_app, did)
    assert answer.status_code == 400
    error = body_of(answer)["didResolutionMetadata"]["error"]
    assert error["type"] == "https://www.w3.org/ns/did#INVALID_DID"


def test_an_unsupported_representation_is_refused(discovery_app: Flask) -> None:
    answer = resolve(discovery_app, DID_WEB, "text/html")
    assert answer.status_code == 406
    assert body_of(answer)["type"] == "https://www.w3.org/ns/did#REPRESENTATION_NOT_SUPPORTED"
