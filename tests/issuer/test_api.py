"""The VC API of the issuer: issue in every format, status changes, lists, DID document,
auth, error shapes — each answer checked against the app's own OpenAPI document."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import cbor2
import pytest
from flask import Flask

from issuer_app import formats, issuer_of
from issuer_app.keyring import WEB
from tests.issuer.conftest import (
    DID_WEB,
    PUBLIC_URL,
    ApiClient,
    Clock,
    auth,
    credential,
    verifier,
)
from vcred import jose
from vcred.customs import samples
from vcred.integrity import derive
from vcred.status import parse_status_list_credential

ENVELOPED_PREFIX = "data:application/vc+jwt,"


def secured_of(answer: dict[str, Any]) -> Any:
    """The secured credential in an answer: the compact token of an enveloped one (the
    COSE_Sign1 bytes of a base64 vc+cose one)."""
    vc = answer["verifiableCredential"]
    if vc.get("type") == "EnvelopedVerifiableCredential":
        header, data = vc["id"].split(",", 1)
        return base64.b64decode(data) if header.endswith(";base64") else data
    return vc


def presentable(answer: dict[str, Any], fmt: str) -> Any:
    """What a holder shows a verifier: an ecdsa-sd-2023 base credential is derived first
    (revealing its subject), every other format as issued."""
    secured = secured_of(answer)
    if formats.is_selective(fmt):
        return derive(secured, ["/credentialSubject"])
    return secured


def payload_of(answer: dict[str, Any]) -> dict[str, Any]:
    secured = secured_of(answer)
    if isinstance(secured, bytes):  # COSE_Sign1: [protected, unprotected, payload, signature]
        payload: dict[str, Any] = json.loads(cbor2.loads(secured).value[2])
        return payload
    if isinstance(secured, str):
        return jose.unverified_payload(secured.split("~")[0])
    return {k: v for k, v in secured.items() if k != "proof"}


# -- authentication ----------------------------------------------------------------------------


def test_issuing_needs_a_token_with_the_issue_scope(app: Flask, api: ApiClient) -> None:
    body = {"credential": credential()}
    missing = api.post("/credentials/issue", json=body)
    assert missing.status_code == 401
    assert missing.mimetype == "application/problem+json"
    assert missing.headers["WWW-Authenticate"] == 'Bearer realm="vcred-issuer"'

    wrong = api.post(
        "/credentials/issue", json=body, headers={"Authorization": "Bearer vci_000000000000_x"}
    )
    assert wrong.status_code == 401
    assert 'error="invalid_token"' in wrong.headers["WWW-Authenticate"]

    status_only = api.post("/credentials/issue", json=body, headers=auth(app, "status"))
    assert status_only.status_code == 403
    assert status_only.get_json()["title"] == "Forbidden"
    assert 'error="insufficient_scope", scope="issue"' in status_only.headers["WWW-Authenticate"]

    assert api.post("/credentials/issue", json=body, headers=auth(app, "admin")).status_code == 201


def test_a_revoked_token_is_refused(app: Flask, api: ApiClient) -> None:
    made = issuer_of(app).create_token(("issue",), actor="test")
    headers = {"Authorization": f"Bearer {made.token}"}
    assert api.issue(credential(), headers).status_code == 201
    issuer_of(app).revoke_token(made.id, actor="test")
    assert api.issue(credential(), headers).status_code == 401
    tampered = {"Authorization": f"Bearer {made.token[:-1]}{'A' if made.token[-1] != 'A' else 'B'}"}
    assert api.issue(credential(), tampered).status_code == 401


def test_status_changes_need_the_status_scope(sqlite_app: Flask) -> None:
    api = ApiClient(sqlite_app)
    issued = api.issue(credential(id="urn:uuid:scope-1"), auth(sqlite_app, "issue"))
    assert issued.status_code == 201
    body = {
        "credentialId": "urn:uuid:scope-1",
        "credentialStatus": [{"type": "BitstringStatusListEntry", "status": "revoked"}],
    }
    refused = api.post("/credentials/status", json=body, headers=auth(sqlite_app, "issue"))
    assert refused.status_code == 403
    assert refused.get_json()["type"] == "about:blank"


def test_insecure_no_auth_needs_no_token(make_app: Any) -> None:
    app = make_app("sqlite", insecure_no_auth=True)
    api = ApiClient(app)
    assert api.post("/credentials/issue", json={"credential": credential()}).status_code == 201
    assert api.openapi.operation("post", "/credentials/issue")["security"] == []


# -- what can and cannot be issued -----------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "status", "pointer"),
    [
        (lambda c: {"verifiableCredential": c}, 400, "/credential"),
        (
            lambda c: {"credential": {k: v for k, v in c.items() if k != "@context"}},
            400,
            "/credential/@context",
        ),
        (lambda c: {"credential": {**c, "@context": 4}}, 400, "/credential/@context"),
        (
            lambda c: {"credential": {**c, "@context": [{"foo": True}, 4]}},
            400,
            "/credential/@context/0",
        ),
        (lambda c: {"credential": {**c, "type": 4}}, 400, "/credential/type"),
        (lambda c: {"credential": {**c, "type": [2, None]}}, 400, "/credential/type/0"),
        (lambda c: {"credential": {**c, "type": ["Foo"]}}, 400, "/credential/type"),
        (
            lambda c: {"credential": {k: v for k, v in c.items() if k != "credentialSubject"}},
            400,
            "/credential/credentialSubject",
        ),
        (
            lambda c: {"credential": {**c, "credentialSubject": [None, True, 4]}},
            400,
            "/credential/credentialSubject/0",
        ),
        (lambda c: {"credential": {**c, "issuer": 4}}, 400, "/credential/issuer"),
        (
            lambda c: {"credential": {**c, "issuer": "did:example:someone-else"}},
            400,
            "/credential/issuer",
        ),
        (lambda c: {"credential": {**c, "validFrom": "yesterday"}}, 400, "/credential/validFrom"),
        (
            lambda c: {"credential": {**c, "credentialStatus": {"type": "X"}}},
            400,
            "/credential/credentialStatus",
        ),
        (
            lambda c: {"credential": {**c, "proof": {"type": "DataIntegrityProof"}}},
            400,
            "/credential/proof",
        ),
        (lambda c: {"credential": c, "options": []}, 400, "/options"),
        (lambda c: {"credential": c, "options": {"format": "ldp_vc"}}, 400, "/options/format"),
        (lambda c: {"credential": c, "options": {"format": 7}}, 400, "/options/format"),
        (
            lambda c: {"credential": c, "options": {"type": "Ed25519Signature2018"}},
            400,
            "/options/type",
        ),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_a_malformed_request_is_400_with_a_pointer(
    sqlite_app: Flask, change: Any, status: int, pointer: str
) -> None:
    api = ApiClient(sqlite_app)
    answer = api.post("/credentials/issue", json=change(credential()), headers=auth(sqlite_app))
    assert answer.status_code == status, answer.get_json()
    problem = answer.get_json()
    assert answer.mimetype == "application/problem+json"
    assert problem["pointer"] == pointer
    assert problem["status"] == status
    assert problem["detail"]
    assert issuer_of(sqlite_app).search(_all())[1] == 0  # nothing was recorded


@pytest.mark.parametrize(
    ("data", "content_type", "status"),
    [
        (b"{not json", "application/json", 400),
        (b'{"credential": {}, "credential": {}}', "application/json", 400),
        (b"[]", "application/json", 400),
        (b'{"credential": {}}', "text/plain", 415),
        (b'{"a": "' + b"x" * 600_000 + b'"}', "application/json", 413),
    ],
)
def test_bodies_that_are_not_requests_are_4xx(
    sqlite_app: Flask, data: bytes, content_type: str, status: int
) -> None:
    api = ApiClient(sqlite_app)
    answer = api.post(
        "/credentials/issue", data=data, content_type=content_type, headers=auth(sqlite_app)
    )
    assert answer.status_code == status
    assert answer.mimetype == "application/problem+json"


def test_a_schema_violation_is_422_with_every_violation(sqlite_app: Flask) -> None:
    api = ApiClient(sqlite_app)
    document = samples.aeo_certificate("us-prairie")
    del document["issuer"]
    subject = document["credentialSubject"]
    subject["legalName"] = ""
    subject["certification"]["tier"] = "TIER9"
    answer = api.issue(document, auth(sqlite_app))
    assert answer.status_code == 422
    problem = answer.get_json()
    assert problem["code"] == "SCHEMA_MISMATCH"
    pointers = {e["pointer"] for e in problem["errors"]}
    assert "/credential/credentialSubject/legalName" in pointers
    assert "/credential/credentialSubject/certification/tier" in pointers


def test_our_types_are_checked_against_their_schema_even_when_not_listed(
    sqlite_app: Flask,
) -> None:
    api = ApiClient(sqlite_app)
    document = samples.aeo_certificate("us-prairie")
    del document["issuer"], document["credentialSchema"]
    assert api.issue(document, auth(sqlite_app)).status_code == 201
    document = samples.aeo_certificate("us-prairie")
    del document["issuer"], document["credentialSchema"]
    document["id"] = "urn:uuid:another-one"
    document["credentialSubject"]["certification"]["tier"] = "TIER9"
    assert api.issue(document, auth(sqlite_app)).status_code == 422


@pytest.mark.parametrize(
    ("options", "refused"),
    [
        ({"whatever": {"x": 1}}, "whatever"),
        ({"format": "vc+jwt", "proofPurpose": "assertionMethod"}, "proofPurpose"),
        # options only a selective suite / an SD-JWT uses, sent for vc+jwt: refused, not ignored
        ({"format": "vc+jwt", "mandatoryPointers": ["/issuer"]}, "mandatoryPointers"),
        (
            {
                "format": "vc+jwt",
                "holder": "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
            },
            "holder",
        ),
        ({"credentialId": 5}, "credentialId"),
        # credential.id is the credential's identifier: another credentialId contradicts it
        ({"credentialId": "urn:uuid:another"}, "credentialId"),
    ],
)
def test_an_option_the_issuer_does_not_use_is_refused_by_name(
    sqlite_app: Flask, options: dict[str, Any], refused: str
) -> None:
    answer = ApiClient(sqlite_app).client.post(
        "/credentials/issue",
        json={"credential": credential(), "options": options},
        headers=auth(sqlite_app),
    )
    assert answer.status_code == 400, answer.get_json()
    assert answer.mimetype == "application/problem+json"
    problem = answer.get_json()
    assert problem["pointer"] == f"/options/{refused}"
    assert refused in problem["detail"]


def test_credential_id_names_a_credential_without_an_id(sqlite_app: Flask) -> None:
    api = ApiClient(sqlite_app)
    document = credential()
    same = api.issue(document, auth(sqlite_app), options={"credentialId": document["id"]})
    assert same.status_code == 201, same.get_json()
    del document["id"]
    named = api.issue(document, auth(sqlite_app), options={"credentialId": "urn:uuid:named"})
    assert named.status_code == 201, named.get_json()
    changed = {
        "credentialId": "urn:uuid:named",
        "credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": "revocation"},
    }
    answer = api.post("/credentials/status", json=changed, headers=auth(sqlite_app))
    assert answer.status_code == 200, answer.get_json()


def test_a_credential_id_that_is_another_records_id_is_refused(
    sqlite_app: Flask, clock: Clock
) -> None:
    """A status change by record id (the officer pages, four-eyes requests) reaches that record
    only: no credential may be named with a string that is not a URL — a bare record id could
    then name two credentials, and a suspension meant for one would land on the other."""
    api = ApiClient(sqlite_app)
    headers = auth(sqlite_app)
    target = credential()
    issued = api.issue(target, headers)
    assert issued.status_code == 201, issued.get_json()
    rows, _ = issuer_of(sqlite_app).search(_all())
    (record,) = rows
    decoy = credential()
    del decoy["id"]
    answer = api.issue(decoy, headers, options={"credentialId": record.record_id})
    assert answer.status_code == 400, answer.get_json()
    assert answer.get_json()["pointer"] == "/options/credentialId"
    suspended = issuer_of(sqlite_app).change_status(
        record.record_id, "suspended", actor="officer:test"
    )
    assert suspended["credentialId"] == target["id"]
    assert verifier(sqlite_app, clock).verify(secured_of(issued.get_json())).codes == ("SUSPENDED",)


def vc_1_1_credential() -> dict[str, Any]:
    return {
        "@context": ["https://www.w3.org/2018/credentials/v1"],
        "id": "urn:uuid:9d3c7f2e-1111-4aaa-8bbb-000000000011",
        "type": ["VerifiableCredential"],
        "issuanceDate": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:trader"},
    }


def test_a_vc_1_1_credential_is_issued_without_status(
    app: Flask, api: ApiClient, clock: Clock
) -> None:
    """VCDM 1.1 does not define BitstringStatusListEntry: no status, and no context other
    verifiers do not bundle (the W3C Data Integrity suites verify with their own loaders)."""
    document = vc_1_1_credential()
    headers = auth(app)
    for number, fmt in enumerate(issuer_of(app).offered):
        document["id"] = f"urn:uuid:9d3c7f2e-1111-4aaa-8bbb-0000000000{number:02d}"
        answer = api.issue(document, headers, options={"format": fmt})
        assert answer.status_code == 201, (fmt, answer.get_json())
        payload = payload_of(answer.get_json())
        assert "https://www.w3.org/ns/credentials/status/v1" not in payload["@context"]
        assert "credentialStatus" not in payload
        if formats.is_data_integrity(fmt):
            assert payload["@context"][-1] == "https://w3id.org/security/data-integrity/v2"
        result = verifier(app, clock).verify(presentable(answer.get_json(), fmt))
        assert result.verified, (fmt, result.errors)
    refused = _status(api, headers, document["id"], "revoked")
    assert refused.status_code == 400
    assert refused.get_json()["code"] == "STATUS_CHANGE_REFUSED"


def test_a_status_asked_for_a_vc_1_1_credential_is_refused_not_dropped(sqlite_app: Flask) -> None:
    # was: 201 without credentialStatus (VC 1.1 is issued without status): a caller that
    # asked for one thought the credential revocable
    options = {"credentialStatus": {"type": "BitstringStatusListEntry"}}
    answer = ApiClient(sqlite_app).issue(vc_1_1_credential(), auth(sqlite_app), options)
    assert answer.status_code == 400, answer.get_json()
    assert answer.get_json()["pointer"] == "/options/credentialStatus"
    assert issuer_of(sqlite_app).search(_all())[1] == 0


def test_a_p521_issuer_key_signs_es512_and_never_data_integrity(
    make_app: Any, clock: Clock
) -> None:
    app = make_app("sqlite", key_types=("p521", "ed25519"))
    api = ApiClient(app)
    headers = auth(app)
    token = api.issue(credential(), headers, options={"format": "vc+jwt"})
    assert token.status_code == 201, token.get_json()
    assert jose.unverified_header(secured_of(token.get_json()))["alg"] == "ES512"
    assert verifier(app, clock).verify(secured_of(token.get_json())).verified
    signed = api.issue(credential(), headers, options={"format": "data-integrity"})
    assert signed.status_code == 201, signed.get_json()
    assert secured_of(signed.get_json())["proof"]["cryptosuite"] == "eddsa-rdfc-2022"


def test_each_format_issues_what_vcred_verifies(app: Flask, api: ApiClient, clock: Clock) -> None:
    service = issuer_of(app)
    headers = auth(app)
    keys = service.keyring()
    issuers: list[str | None] = [None, DID_WEB, *(k.did_key for k in keys.current)]
    for fmt in service.offered:
        for named in issuers:
            document = credential()
            if named is not None:
                document["issuer"] = named
            kinds = formats.key_kinds(fmt)
            expected_key = keys.first_current(kinds) if named in (None, DID_WEB) else None
            own = keys.find(named) if named not in (None, DID_WEB) else None
            if own is not None and own.kind not in kinds:
                refused = api.issue(document, headers, options={"format": fmt})
                assert refused.status_code == 400
                assert refused.get_json()["pointer"] == "/credential/issuer"
                continue
            answer = api.issue(document, headers, options={"format": fmt})
            assert answer.status_code == 201, (fmt, named, answer.get_json())
            body = answer.get_json()
            payload = payload_of(body)
            assert payload["credentialSubject"] == document["credentialSubject"]
            assert payload["issuer"] == (named or DID_WEB)
            assert [e["statusPurpose"] for e in payload["credentialStatus"]] == [
                "revocation",
                "suspension",
            ]
            result = verifier(app, clock).verify(presentable(body, fmt))
            assert result.verified, (fmt, named, result.errors)
            assert result.issuer == (named or DID_WEB)
            if expected_key is not None:
                assert result.method == f"{DID_WEB}#{expected_key.public.multikey()}"


def test_the_issuer_s_key_picks_the_algorithm(app: Flask, api: ApiClient) -> None:
    keys = issuer_of(app).keyring()
    headers = auth(app)
    for key in keys.current:
        answer = api.issue(credential(issuer=key.did_key), headers, options={"format": "vc+jwt"})
        header = jose.unverified_header(secured_of(answer.get_json()))
        assert header["alg"] == {"ed25519": "EdDSA", "p256": "ES256", "p384": "ES384"}[key.kind]
        assert header["kid"].startswith(key.did_key + "#")


def test_the_issuer_may_be_an_object(sqlite_app: Flask, clock: Clock) -> None:
    api = ApiClient(sqlite_app)
    answer = api.issue(credential(issuer={"id": DID_WEB, "name": "CBP"}), auth(sqlite_app))
    assert answer.status_code == 201
    assert payload_of(answer.get_json())["issuer"] == {"id": DID_WEB, "name": "CBP"}


def test_a_credential_id_is_issued_once(app: Flask, api: ApiClient) -> None:
    document = credential()
    headers = auth(app)
    assert api.issue(document, headers).status_code == 201
    again = api.issue(document, headers)
    assert again.status_code == 409
    assert again.get_json()["code"] == "DUPLICATE_CREDENTIAL_ID"


def test_what_is_recorded(make_app: Any) -> None:
    app = make_app("sqlite", store_credentials=False)
    api = ApiClient(app)
    document = samples.aeo_certificate("us-prairie")
    del document["issuer"]
    answer = api.issue(document, auth(app))
    rows, total = issuer_of(app).search(_all())
    assert total == 1
    row = rows[0]
    assert row.credential_id == document["id"]
    assert row.subject_id == "did:web:prairie-gadgets.example"
    assert row.subject_name == "Example Prairie Gadgets, Inc."
    assert row.main_type == "AEOCertificateCredential"
    assert row.status == "active"
    assert row.secured is None  # store_credentials=False keeps only the digest
    token = secured_of(answer.get_json())
    assert row.digest == __import__("hashlib").sha256(token.encode()).hexdigest()


def _all() -> Any:
    from issuer_app.store.records import RecordQuery

    return RecordQuery()


# -- status --------------------------------------------------------------------------------------


def _status(api: ApiClient, headers: dict[str, str], credential_id: str, status: str) -> Any:
    return api.post(
        "/credentials/status",
        json={
            "credentialId": credential_id,
            "credentialStatus": [{"type": "BitstringStatusListEntry", "status": status}],
        },
        headers=headers,
    )


def test_suspend_reinstate_revoke_show_in_lists_and_verification(
    app: Flask, api: ApiClient, clock: Clock
) -> None:
    headers = auth(app)
    document = credential()
    issued = api.issue(document, headers).get_json()
    token = secured_of(issued)
    assert verifier(app, clock).verify(token).verified

    answer = _status(api, headers, document["id"], "suspended")
    assert answer.status_code == 200
    assert answer.get_json()["status"] == "suspended"
    assert verifier(app, clock).verify(token).codes == ("SUSPENDED",)

    assert _status(api, headers, document["id"], "active").get_json()["status"] == "active"
    assert verifier(app, clock).verify(token).verified

    assert _status(api, headers, document["id"], "revoked").get_json()["status"] == "revoked"
    result = verifier(app, clock).verify(token)
    assert result.codes == ("REVOKED",)
    assert result.errors[0].path == "/credentialStatus/0"

    entry = payload_of(issued)["credentialStatus"][0]
    listed = api.get(entry["statusListCredential"].removeprefix(PUBLIC_URL))
    list_credential = jose.unverified_payload(listed.get_data(as_text=True))
    parsed = parse_status_list_credential(list_credential, url=entry["statusListCredential"])
    assert parsed.bits.value(int(entry["statusListIndex"])) == 1

    refused = _status(api, headers, document["id"], "active")
    assert refused.status_code == 400
    assert "revoked" in refused.get_json()["detail"]


def test_the_vc_api_status_shape_is_understood(app: Flask, api: ApiClient, clock: Clock) -> None:
    headers = auth(app)
    document = credential()
    token = secured_of(api.issue(document, headers).get_json())

    def change(purpose: str, **extra: Any) -> Any:
        body = {
            "credentialId": document["id"],
            "credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": purpose},
            **extra,
        }
        return api.post("/credentials/status", json=body, headers=headers)

    assert change("suspension").get_json()["status"] == "suspended"
    assert change("suspension", status=False).get_json()["status"] == "active"
    assert verifier(app, clock).verify(token).verified
    assert change("revocation", status=False).status_code == 400
    assert change("revocation", status=True).get_json()["status"] == "revoked"


@pytest.mark.parametrize(
    ("body", "status", "pointer"),
    [
        (
            {"credentialStatus": [{"type": "BitstringStatusListEntry", "status": "revoked"}]},
            400,
            "/credentialId",
        ),
        ({"credentialId": "urn:x", "credentialStatus": []}, 400, "/credentialStatus"),
        (
            {"credentialId": "urn:x", "credentialStatus": [{"type": "X", "status": "revoked"}]},
            400,
            "/credentialStatus/0/type",
        ),
        (
            {
                "credentialId": "urn:x",
                "credentialStatus": [{"type": "BitstringStatusListEntry", "status": "deleted"}],
            },
            400,
            "/credentialStatus/0/status",
        ),
        (
            {"credentialId": "urn:x", "credentialStatus": {"type": "BitstringStatusListEntry"}},
            400,
            "/credentialStatus/statusPurpose",
        ),
        (
            {
                "credentialId": "urn:unknown",
                "credentialStatus": [{"type": "BitstringStatusListEntry", "status": "revoked"}],
            },
            404,
            None,
        ),
    ],
)
def test_status_request_errors(
    sqlite_app: Flask, body: dict[str, Any], status: int, pointer: str | None
) -> None:
    api = ApiClient(sqlite_app)
    answer = api.post("/credentials/status", json=body, headers=auth(sqlite_app))
    assert answer.status_code == status
    assert answer.get_json().get("pointer") == pointer


@pytest.mark.parametrize(
    ("entry", "beside", "pointer"),
    [
        ({"status": "suspended", "statusPurpose": "revocation"}, {}, "/statusPurpose"),
        ({"status": "active", "statusPurpose": "message"}, {"status": "0x1"}, "/statusPurpose"),
        ({"status": "revoked"}, {"status": False}, "/status"),
    ],
)
def test_a_status_request_saying_two_things_is_refused_not_half_read(
    sqlite_app: Flask, entry: dict[str, Any], beside: dict[str, Any], pointer: str
) -> None:
    # was: the entry's status word won and the rest was dropped (a "revocation" request
    # suspended; a message status request reinstated)
    api = ApiClient(sqlite_app)
    document = credential()
    assert api.issue(document, auth(sqlite_app)).status_code == 201
    body = {
        "credentialId": document["id"],
        "credentialStatus": {"type": "BitstringStatusListEntry", **entry},
        **beside,
    }
    answer = api.post("/credentials/status", json=body, headers=auth(sqlite_app))
    assert answer.status_code == 400, answer.get_json()
    where = answer.get_json()["pointer"]
    assert where == (pointer if pointer == "/status" else "/credentialStatus" + pointer)
    (record,) = issuer_of(sqlite_app).search(_all())[0]
    assert record.status == "active"


def test_a_status_list_is_signed_once_per_change_and_cached(
    app: Flask, api: ApiClient, clock: Clock
) -> None:
    headers = auth(app)
    document = credential()
    issued = api.issue(document, headers).get_json()
    entry = payload_of(issued)["credentialStatus"][1]
    url = entry["statusListCredential"]
    path = url.removeprefix(PUBLIC_URL)
    assert path.startswith(f"/status/{WEB}/")

    first = api.get(path)
    assert first.status_code == 200
    assert first.mimetype == "application/vc+jwt"
    assert first.headers["Cache-Control"] == "public, max-age=300"
    payload = jose.unverified_payload(first.get_data(as_text=True))
    assert payload["id"] == url
    assert payload["issuer"] == DID_WEB
    assert payload["credentialSubject"]["ttl"] == 300_000
    assert payload["credentialSubject"]["statusPurpose"] == "suspension"

    clock.advance(minutes=1)
    again = api.get(path)
    assert again.data == first.data  # not signed again: nothing changed
    assert api.get(path, headers={"If-None-Match": again.headers["ETag"]}).status_code == 304

    _status(api, headers, document["id"], "suspended")
    changed = api.get(path)
    assert changed.data != first.data
    assert jose.unverified_payload(changed.get_data(as_text=True))["validFrom"] == (
        "2026-06-01T12:01:00Z"
    )
    publish = api.post(f"{path}/publish", headers=headers)
    assert publish.status_code == 204
    assert api.get(path).data == changed.data


def test_unknown_lists_are_404(sqlite_app: Flask) -> None:
    api = ApiClient(sqlite_app)
    assert api.get("/status/web/nolist").status_code == 404
    issued = api.issue(credential(), auth(sqlite_app)).get_json()
    list_id = payload_of(issued)["credentialStatus"][0]["statusListCredential"].rsplit("/", 1)[1]
    assert api.get(f"/status/nokey/{list_id}").status_code == 404
    assert api.post("/status/web/nolist/publish", headers=auth(sqlite_app)).status_code == 404


def test_did_key_credentials_point_at_lists_that_key_signs(sqlite_app: Flask, clock: Clock) -> None:
    api = ApiClient(sqlite_app)
    key = issuer_of(sqlite_app).keyring().current[-1]
    issued = api.issue(credential(issuer=key.did_key), auth(sqlite_app)).get_json()
    url = payload_of(issued)["credentialStatus"][0]["statusListCredential"]
    assert url.startswith(f"{PUBLIC_URL}/status/{key.tag}/")
    listed = jose.unverified_payload(api.get(url.removeprefix(PUBLIC_URL)).get_data(as_text=True))
    assert listed["issuer"] == key.did_key


def test_data_integrity_lists_when_configured(make_app: Any, clock: Clock) -> None:
    app = make_app("sqlite", status_list_format="data-integrity")
    api = ApiClient(app)
    issued = api.issue(credential(), auth(app)).get_json()
    url = payload_of(issued)["credentialStatus"][0]["statusListCredential"]
    listed = api.get(url.removeprefix(PUBLIC_URL), headers={"Accept": "application/json"})
    assert listed.mimetype == "application/json"
    assert listed.get_json()["proof"]["type"] == "DataIntegrityProof"
    assert verifier(app, clock).verify(secured_of(issued)).verified


# -- did:web, openapi, health ------------------------------------------------------------------


def test_the_did_document_lists_every_current_key(app: Flask, api: ApiClient) -> None:
    answer = api.get("/.well-known/did.json")
    assert answer.mimetype == "application/did+json"
    document = answer.get_json()
    assert document["id"] == DID_WEB
    kinds = sorted(k.kind for k in issuer_of(app).keyring().current)
    assert kinds == ["ed25519", "p256", "p384"]
    # the three issuing keys, and the trust-list key under assertionMethod only
    issuing = [m for m in document["assertionMethod"] if "#trust-list-" not in m]
    assert len(issuing) == 3
    assert [m for m in document["assertionMethod"] if m not in issuing] == [
        issuer_of(app).keyring().trust_list_signer()[1].key_id
    ]
    assert not [m for m in document["authentication"] if "#trust-list-" in m]
    assert (
        api.get(
            "/.well-known/did.json", headers={"If-None-Match": answer.headers["ETag"]}
        ).status_code
        == 304
    )


def test_without_a_domain_there_is_no_did_web(make_app: Any, clock: Clock) -> None:
    app = make_app("sqlite", domain=None)
    api = ApiClient(app)
    assert api.get("/.well-known/did.json").status_code == 404
    answer = api.issue(credential(), auth(app)).get_json()
    first = issuer_of(app).keyring().current[0]
    assert payload_of(answer)["issuer"] == first.did_key
    assert verifier(app, clock).verify(secured_of(answer)).verified


def test_openapi_and_health(app: Flask, api: ApiClient) -> None:
    document = api.get("/openapi.json").get_json()
    assert document["openapi"] == "3.1.0"
    assert document["servers"] == [{"url": PUBLIC_URL}]
    health = api.get("/health").get_json()
    assert health["status"] == "ok"
    assert health["issuers"][0] == DID_WEB
    assert "vc+jwt" in health["formats"]


def test_unknown_paths_and_methods_are_problems(sqlite_app: Flask) -> None:
    client = sqlite_app.test_client()
    assert client.get("/nowhere").mimetype == "application/problem+json"
    wrong = client.get("/credentials/issue")
    assert wrong.status_code == 405
    assert json.loads(wrong.data)["status"] == 405


@pytest.mark.parametrize(
    ("options", "issuer_kind", "suite"),
    [
        ({"type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022"}, None, "eddsa-rdfc-2022"),
        ({"type": "DataIntegrityProof", "cryptosuite": "eddsa-jcs-2022"}, None, "eddsa-jcs-2022"),
        ({"type": "DataIntegrityProof", "cryptosuite": "ecdsa-rdfc-2019"}, None, "ecdsa-rdfc-2019"),
        ({"type": "DataIntegrityProof", "cryptosuite": "ecdsa-jcs-2019"}, "p384", "ecdsa-jcs-2019"),
        ({"type": "DataIntegrityProof"}, None, "eddsa-rdfc-2022"),
        ({"type": "DataIntegrityProof"}, "p384", "ecdsa-rdfc-2019"),
        ({"cryptosuite": "ecdsa-rdfc-2019"}, "p256", "ecdsa-rdfc-2019"),
        ({"format": "data-integrity", "cryptosuite": "eddsa-jcs-2022"}, None, "eddsa-jcs-2022"),
    ],
)
def test_data_integrity_is_chosen_by_type_and_cryptosuite(
    sqlite_app: Flask,
    clock: Clock,
    options: dict[str, Any],
    issuer_kind: str | None,
    suite: str,
) -> None:
    api = ApiClient(sqlite_app)
    document = credential()
    if issuer_kind is not None:
        key = next(k for k in issuer_of(sqlite_app).keyring().current if k.kind == issuer_kind)
        document["issuer"] = key.did_key
    answer = api.issue(document, auth(sqlite_app), options=options)
    assert answer.status_code == 201, answer.get_json()
    vc = answer.get_json()["verifiableCredential"]
    assert vc["proof"]["type"] == "DataIntegrityProof"
    assert vc["proof"]["cryptosuite"] == suite
    assert vc["credentialSubject"] == document["credentialSubject"]
    assert verifier(sqlite_app, clock).verify(vc).verified


def test_contradicting_format_options_are_refused(sqlite_app: Flask) -> None:
    api = ApiClient(sqlite_app)
    answer = api.issue(
        credential(),
        auth(sqlite_app),
        options={"format": "vc+jwt", "type": "DataIntegrityProof"},
    )
    assert answer.status_code == 400
    assert answer.get_json()["pointer"] == "/options/format"
    p384 = next(k for k in issuer_of(sqlite_app).keyring().current if k.kind == "p384")
    wrong_key = api.issue(
        credential(issuer=p384.did_key),
        auth(sqlite_app),
        options={"type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022"},
    )
    assert wrong_key.status_code == 400
    assert wrong_key.get_json()["pointer"] == "/credential/issuer"


def test_health_is_503_when_the_database_is_down(
    sqlite_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = ApiClient(sqlite_app)
    store = issuer_of(sqlite_app).store

    def unreachable() -> None:
        raise OSError("connection refused")

    monkeypatch.setattr(store, "audit_head", unreachable)
    answer = api.get("/health")
    assert answer.status_code == 503
    assert answer.get_json() == {"status": "unavailable", "database": "unreachable"}


def test_key_ids_are_safe_on_a_command_line(sqlite_app: Flask) -> None:
    for key in issuer_of(sqlite_app).keyring().keys:
        assert re.fullmatch(r"[0-9a-f]{16}", key.tag)


def test_mandatory_pointers_shape_an_ecdsa_sd_base_credential(
    sqlite_app: Flask, clock: Clock
) -> None:
    api = ApiClient(sqlite_app)
    document = credential(
        credentialSubject={"id": "did:example:trader", "name": "Harbour", "description": "TIER2"}
    )
    options = {
        "type": "DataIntegrityProof",
        "cryptosuite": "ecdsa-sd-2023",
        "mandatoryPointers": ["/issuer", "/credentialSubject/name"],
    }
    answer = api.issue(document, auth(sqlite_app), options=options)
    assert answer.status_code == 201, answer.get_json()
    base = answer.get_json()["verifiableCredential"]
    assert base["proof"]["cryptosuite"] == "ecdsa-sd-2023"
    shown = derive(base, ["/credentialSubject/description"])
    subject = {"id": "did:example:trader", "name": "Harbour", "description": "TIER2"}
    assert shown["credentialSubject"] == subject
    assert verifier(sqlite_app, clock).verify(shown).verified
    hidden = derive(base, ["/validFrom"])
    # the mandatory name is always revealed, the description only when the holder chooses
    assert hidden["credentialSubject"] == {"id": "did:example:trader", "name": "Harbour"}

    bad = api.issue(
        credential(), auth(sqlite_app), options={**options, "mandatoryPointers": "/issuer"}
    )
    assert bad.status_code == 400
    assert bad.get_json()["pointer"] == "/options/mandatoryPointers"
    # not a selective format: the option is refused, not ignored (past the schema-checking client)
    refused = api.client.post(
        "/credentials/issue",
        json={"credential": credential(), "options": {"mandatoryPointers": []}},
        headers=auth(sqlite_app),
    )
    assert refused.status_code == 400
    assert refused.get_json()["pointer"] == "/options/mandatoryPointers"


def test_what_a_database_cannot_hold_is_refused_not_a_500(app: Flask, api: ApiClient) -> None:
    headers = auth(app)
    long_id = api.issue(credential(id="urn:x:" + "é" * 600), headers)
    assert long_id.status_code == 400
    assert long_id.get_json()["pointer"] == "/credential/id"
    assert api.issue(credential(id="urn:x:a\x00b"), headers).status_code == 400
    odd = credential(
        type=["VerifiableCredential", "Odd\x00Type"],
        credentialSubject={"id": "did:example:trader", "name": "Nul\x00Name"},
    )
    assert api.issue(odd, headers).status_code == 201
    # a NUL in a URL is no URL (vcred.urls): refused where it sits, like any malformed id
    nul_url = api.issue(credential(credentialSubject={"id": "did:example:\x00"}), headers)
    assert nul_url.status_code == 400
    assert nul_url.get_json()["pointer"] == "/credential/credentialSubject/id"
    unknown = {
        "credentialId": "urn:x:\x00",
        "credentialStatus": [{"type": "BitstringStatusListEntry", "status": "revoked"}],
    }
    assert api.post("/credentials/status", json=unknown, headers=headers).status_code == 404
    assert api.get("/status/web/a%00b").status_code == 404
    client = app.test_client()
    # no route takes a NUL in a path parameter (the apps' converters): not found, signed in
    # or not, before any page would ask for a login
    assert client.get("/officer/credentials/%00").status_code == 404
    rows, _ = issuer_of(app).search(_all())
    assert rows[0].subject_name == "NulName"


def test_null_options_are_no_options(sqlite_app: Flask) -> None:
    answer = ApiClient(sqlite_app).post(
        "/credentials/issue",
        json={"credential": credential(), "options": None},
        headers=auth(sqlite_app),
    )
    assert answer.status_code == 201


def test_sd_jwt_is_bound_to_the_holder_named_in_options(sqlite_app: Flask) -> None:
    from vcred import did_key, sdjwt
    from vcred.keys import KeyPair

    api = ApiClient(sqlite_app)
    holder = KeyPair.generate("p256")
    answer = api.issue(
        credential(),
        auth(sqlite_app),
        options={"format": "sd-jwt", "holder": did_key(holder.public)},
    )
    assert answer.status_code == 201, answer.get_json()
    payload = payload_of(answer.get_json())
    assert {k: v for k, v in payload["cnf"]["jwk"].items() if k != "kid"} == holder.public.jwk()
    token = str(secured_of(answer.get_json()))
    assert sdjwt.present(token, holder, nonce="n", aud="a").count("~") >= 1


def test_sd_jwt_subject_did_key_is_the_default_holder(sqlite_app: Flask) -> None:
    from vcred import did_key
    from vcred.keys import KeyPair

    holder = KeyPair.generate("ed25519")
    document = credential()
    document["credentialSubject"]["id"] = did_key(holder.public)
    answer = ApiClient(sqlite_app).issue(
        document, auth(sqlite_app), options={"format": "vc+sd-jwt"}
    )
    assert answer.status_code == 201
    cnf = payload_of(answer.get_json())["cnf"]["jwk"]
    assert {k: v for k, v in cnf.items() if k != "kid"} == holder.public.jwk()


def test_sd_jwt_holder_must_be_a_did_key_or_did_jwk(sqlite_app: Flask) -> None:
    answer = ApiClient(sqlite_app).issue(
        credential(),
        auth(sqlite_app),
        options={"format": "sd-jwt", "holder": "https://example.com"},
    )
    assert answer.status_code == 400
    assert answer.get_json()["pointer"] == "/options/holder"


def test_holders_derive_through_the_vc_api(sqlite_app: Flask, clock: Clock) -> None:
    """Issue 12: mandatoryPointers at issue, /credentials/derive for holders, verify."""
    api = ApiClient(sqlite_app)
    p256 = next(k for k in issuer_of(sqlite_app).keyring().current if k.kind == "p256")
    attestation = samples.export_billing_attestation("us-to-jp")
    attestation["issuer"] = p256.did_key
    issued = api.issue(attestation, auth(sqlite_app), options={"cryptosuite": "ecdsa-sd-2023"})
    assert issued.status_code == 201, issued.get_json()
    base = issued.get_json()["verifiableCredential"]
    answer = api.post(
        "/credentials/derive",
        json={
            "verifiableCredential": base,
            "options": {"selectivePointers": ["/credentialSubject/lineItems/0/hsCode"]},
        },
    )
    assert answer.status_code == 201, answer.get_json()
    derived = answer.get_json()["verifiableCredential"]
    subject = derived["credentialSubject"]
    assert "totalAmount" not in subject["invoice"]
    assert subject["lineItems"][0]["hsCode"] == "8471500150"
    result = verifier(sqlite_app, clock).verify(derived)
    assert result.verified, result.errors


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({}, "/verifiableCredential"),
        ({"verifiableCredential": "x"}, "/verifiableCredential"),
        ({"verifiableCredential": {}, "options": []}, "/options"),
        (
            {"verifiableCredential": {}, "options": {"selectivePointers": "/a"}},
            "/options/selectivePointers",
        ),
    ],
)
def test_derive_refuses_malformed_requests(
    sqlite_app: Flask, body: dict[str, Any], pointer: str
) -> None:
    answer = ApiClient(sqlite_app).post("/credentials/derive", json=body)
    assert answer.status_code == 400
    assert answer.get_json()["pointer"] == pointer


def test_derive_refuses_a_credential_that_is_not_a_base_proof(sqlite_app: Flask) -> None:
    api = ApiClient(sqlite_app)
    issued = api.issue(credential(), auth(sqlite_app), options={"format": "data-integrity"})
    answer = api.post(
        "/credentials/derive",
        json={"verifiableCredential": issued.get_json()["verifiableCredential"]},
    )
    assert answer.status_code == 400
    assert answer.mimetype == "application/problem+json"


def test_derive_is_rate_limited(make_app: Any) -> None:
    app = make_app("sqlite", derive_rate=0.001, derive_burst=2)
    api = ApiClient(app)
    statuses = [api.post("/credentials/derive", json={}).status_code for _ in range(3)]
    assert statuses == [400, 400, 429]


@pytest.mark.parametrize(
    ("path", "scope", "body"),
    [
        (
            "/credentials/derive",
            None,
            {"verifiableCredential": {}, "options": {"selectivePointers": [], "nonce": "n"}},
        ),
        (
            "/credentials/status",
            "status",
            {
                "credentialId": "urn:uuid:0d2b8f4e-3f5a-4bd6-9a7c-7f1e4a2b9c10",
                "credentialStatus": {"type": "BitstringStatusListEntry", "status": "revoked"},
                "options": {"nonce": "n"},
            },
        ),
        ("/trust-lists/issue", "trust-list", {"credential": {}, "options": {"nonce": "n"}}),
    ],
)
def test_every_route_that_takes_options_refuses_one_it_does_not_use(
    sqlite_app: Flask, path: str, scope: str | None, body: dict[str, Any]
) -> None:
    headers = auth(sqlite_app, scope) if scope else {}
    answer = sqlite_app.test_client().post(path, json=body, headers=headers)
    assert answer.status_code == 400, answer.get_json()
    problem = answer.get_json()
    assert problem["pointer"] == "/options/nonce"
    assert "nonce" in problem["detail"]


@pytest.mark.parametrize(
    ("path", "scope", "body"),
    [
        ("/credentials/issue", "issue", {"credential": credential()}),
        ("/credentials/derive", None, {"verifiableCredential": {}}),
        (
            "/credentials/status",
            "status",
            {
                "credentialId": "urn:uuid:0d2b8f4e-3f5a-4bd6-9a7c-7f1e4a2b9c10",
                "credentialStatus": {"type": "BitstringStatusListEntry", "status": "revoked"},
            },
        ),
        ("/trust-lists/issue", "trust-list", {"credential": {}}),
    ],
)
def test_every_route_refuses_a_member_it_does_not_use(
    sqlite_app: Flask, path: str, scope: str | None, body: dict[str, Any]
) -> None:
    """VC API §3.4: an error for data an endpoint does not understand — ``option`` for
    ``options`` was ignored, and the credential issued without the options meant."""
    headers = auth(sqlite_app, scope) if scope else {}
    sent = {**body, "option": {"format": "vc+sd-jwt"}}
    answer = sqlite_app.test_client().post(path, json=sent, headers=headers)
    assert answer.status_code == 400, answer.get_json()
    problem = answer.get_json()
    assert problem["pointer"] == "/option"
    assert "'option'" in problem["detail"] and "options" in problem["detail"]


@pytest.mark.parametrize("decoy_first", [True, False])
def test_a_status_change_by_record_id_reaches_that_record_only(
    app: Flask, clock: Clock, decoy_first: bool
) -> None:
    """A database written before credential ids had to be URLs may hold one equal to another
    record's id: the officer pages (by record id) still change the record they show."""
    from sqlalchemy import update

    service = issuer_of(app)
    made = [service.issue_credential(credential(), actor="test") for _ in range(2)]
    decoy, target = made if decoy_first else made[::-1]
    assert decoy.record_id is not None and target.record_id is not None
    creds = service.store.t.credentials
    with service.store.engine.begin() as conn:
        conn.execute(
            update(creds)
            .where(creds.c.record_id == decoy.record_id)
            .values(credential_id=target.record_id)
        )
    changed = service.change_status(
        target.record_id, "suspended", actor="officer:test", by_record=True
    )
    assert changed["status"] == "suspended"
    assert verifier(app, clock).verify(secured_of(target.body)).codes == ("SUSPENDED",)
    assert verifier(app, clock).verify(secured_of(decoy.body)).verified


def _forged_status_lists() -> list[Any]:
    """Status lists an API client might ask the issuer to sign, under the URL of one of its
    own lists: all zeros (nothing revoked), without a status of their own (VC 1.1)."""
    url = f"{PUBLIC_URL}/status/web/forged"
    encoded = "uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA"
    v2 = credential(
        id=url,
        type=["VerifiableCredential", "BitstringStatusListCredential"],
        credentialSubject={
            "id": f"{url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": "revocation",
            "encodedList": encoded,
        },
    )
    v2.pop("validUntil")
    v11 = {
        "@context": [
            "https://www.w3.org/2018/credentials/v1",
            "https://www.w3.org/ns/credentials/status/v1",
        ],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuanceDate": "2026-01-01T00:00:00Z",
        "credentialSubject": v2["credentialSubject"],
    }
    subject_iri = {
        **v2,
        "type": ["VerifiableCredential"],
        "credentialSubject": {
            **v2["credentialSubject"],
            "type": "https://www.w3.org/ns/credentials/status#BitstringStatusList",
        },
    }
    legacy = {**v11, "type": ["VerifiableCredential", "StatusList2021Credential"]}
    return [
        pytest.param(v2, id="vcdm-2.0"),
        pytest.param(v11, id="vc-1.1-without-status"),
        pytest.param(subject_iri, id="subject-type-as-iri"),
        pytest.param(legacy, id="status-list-2021"),
    ]


@pytest.mark.parametrize("document", _forged_status_lists())
def test_an_issue_token_cannot_have_a_status_list_signed(
    sqlite_app: Flask, document: dict[str, Any]
) -> None:
    # was: 201 — a token with the issue scope only got a status list of the issuer's own URL
    # signed by its key (a VC 1.1 one without a status, which a verifier reads as a list):
    # served in the real list's place it undoes every revocation, what the status scope guards
    answer = ApiClient(sqlite_app).issue(document, auth(sqlite_app, "admin"))
    assert answer.status_code == 403, answer.get_json()
    assert answer.get_json()["code"] == "STATUS_LIST_REFUSED"
    assert answer.get_json()["pointer"] == "/credential/type"
    # an offer is signed when collected: refused when made
    subject = {k: v for k, v in document["credentialSubject"].items() if k != "id"}
    offer = sqlite_app.test_client().post(
        "/oid4vci/offers",
        json={
            "credential": {**document, "credentialSubject": subject},
            "credential_configuration_id": "AEOCertificateCredential_jwt_vc_json",
        },
        headers=auth(sqlite_app, "issue"),
    )
    assert offer.status_code == 403, offer.get_json()
    assert issuer_of(sqlite_app).search(_all())[1] == 0
