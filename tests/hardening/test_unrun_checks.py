"""A check that was not run is never reported as passed.

The attack: a credential carries something a check would look at — a status the issuer can
revoke, a schema — in a form the verifier cannot evaluate, and the verdict comes out
"verified" as if the check had passed (a revoked credential whose status is a Token Status
List, or an entry of another status type). Whatever a requested check cannot evaluate fails
it with a code. A check the caller did not request, or trust without a trust list, stays
"not evaluated" (passed None, with a warning): that is the caller's configuration.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.conftest import NOW, credential
from tests.verifier.conftest import DOMAIN, Agency, MakeApp
from vcred import Verifier, did_key, issue, jose, present, sdjwt
from vcred.issuing import signer_for
from vcred.keys import KeyPair
from vcred.sdjwt import SdJwtParts
from vcred.verifier import CHECKS, PresentationResult, VerificationResult

AT = Verifier(clock=lambda: NOW)
TOKEN_STATUS = {"status_list": {"idx": 7, "uri": "https://issuer.example/statuslists/1"}}

# StatusList2021Entry and RevocationList2020Status are read now (docs/legacy.md): they are
# checked like a BitstringStatusListEntry, see test_a_legacy_status_entry_is_read_not_passed.
UNREADABLE_ENTRIES: list[Any] = [
    {"id": "https://issuer.example/s/1#7", "type": "CredentialStatusList2017"},
    {"id": "https://issuer.example/s/1#7", "type": "1EdTechRevocationList"},
    {"id": "https://issuer.example/s/1#7", "type": ["TokenStatusListEntry"]},
    {"id": "https://issuer.example/s/1#7", "type": "bitstringstatuslistentry"},  # not the type
]


@pytest.fixture(scope="module")
def agency_key() -> KeyPair:
    return KeyPair.generate("ed25519")


@pytest.fixture(scope="module")
def holder() -> KeyPair:
    return KeyPair.generate("ed25519")


def no_unrun_check_passed(result: VerificationResult | PresentationResult) -> None:
    """The invariant: a verified result has every check passed, or not evaluated by the
    caller's own configuration (trust without a trust list, no challenge or domain asked
    for) and said so in a warning."""
    if not result.verified:
        return
    warned = {w.code for w in result.warnings}
    configured = {
        "trust": "TRUST_NOT_EVALUATED",
        "challenge": "CHALLENGE_NOT_CHECKED",
        "domain": "DOMAIN_NOT_CHECKED",
    }
    for check in result.checks:
        assert check.passed is True or (
            check.passed is None and configured.get(check.name) in warned
        ), check


def sd_jwt_vc(issuer: KeyPair, holder: KeyPair, **claims: Any) -> str:
    """An IETF SD-JWT VC (dc+sd-jwt) with the given extra claims."""
    payload = {
        "iss": did_key(issuer.public),
        "vct": "https://credentials.example/identity_credential",
        "iat": int(NOW.timestamp()) - 60,
        "exp": int(NOW.timestamp()) + 3600,
        "cnf": {"jwk": holder.public.jwk()},
        "_sd_alg": "sha-256",
        "_sd": [sdjwt.digest("decoy")],
        **claims,
    }
    jwt = jose.sign_compact(payload, signer_for(issuer), typ="dc+sd-jwt")
    return str(SdJwtParts(jwt, ()))


# -- status the verifier cannot read -----------------------------------------------------------


def test_an_sd_jwt_vc_with_a_token_status_list_is_not_verified(
    agency_key: KeyPair, holder: KeyPair
) -> None:
    result = AT.verify(sd_jwt_vc(agency_key, holder, status=TOKEN_STATUS))
    assert not result.verified
    assert result.codes == ("STATUS_UNAVAILABLE",)
    assert result.errors[0].path == "/status"
    assert result.check("status").passed is False  # type: ignore[union-attr]
    assert "STATUS_NOT_CHECKED" not in {w.code for w in result.warnings}
    assert AT.verify(sd_jwt_vc(agency_key, holder)).verified  # the same without a status


@pytest.mark.parametrize("fmt", ["vc+jwt", "vc+sd-jwt"])
def test_a_vcdm_credential_with_a_status_claim_is_not_verified(
    agency_key: KeyPair, fmt: str
) -> None:
    result = AT.verify(issue(credential(status=TOKEN_STATUS), agency_key, format=fmt))
    assert result.codes == ("STATUS_UNAVAILABLE",) and result.errors[0].path == "/status"


@pytest.mark.parametrize("entry", UNREADABLE_ENTRIES)
@pytest.mark.parametrize("fmt", ["vc+jwt", "eddsa-jcs-2022", "vc+sd-jwt"])
def test_a_credential_status_of_another_type_fails_the_status_check(
    agency_key: KeyPair, entry: dict[str, Any], fmt: str
) -> None:
    result = AT.verify(issue(credential(credentialStatus=entry), agency_key, format=fmt, now=NOW))
    assert not result.verified
    assert result.codes == ("STATUS_UNAVAILABLE",)
    assert result.errors[0].path == "/credentialStatus"
    assert result.check("status").passed is False  # type: ignore[union-attr]
    listed = AT.verify(
        issue(credential(credentialStatus=[entry, entry]), agency_key, format=fmt, now=NOW)
    )
    assert [p.path for p in listed.errors] == ["/credentialStatus/0", "/credentialStatus/1"]


@pytest.mark.parametrize(
    ("kind", "pointer"),
    [
        ("StatusList2021Entry", "/credentialStatus/statusPurpose"),
        ("RevocationList2020Status", "/credentialStatus/revocationListIndex"),
    ],
)
def test_a_legacy_status_entry_is_read_not_passed(
    agency_key: KeyPair, kind: str, pointer: str
) -> None:
    """A legacy entry is no longer "another type": it is parsed, and an incomplete one fails
    the status check at the member it lacks."""
    entry = {"id": "https://issuer.example/s/1#7", "type": kind}
    result = AT.verify(issue(credential(credentialStatus=entry), agency_key, now=NOW))
    assert not result.verified
    assert result.codes == ("MALFORMED",)
    assert result.errors[0].path == pointer
    assert result.check("status").passed is False  # type: ignore[union-attr]


def test_a_credential_schema_of_another_type_fails_the_schema_check(agency_key: KeyPair) -> None:
    schema = {"id": "https://issuer.example/schemas/1", "type": "JsonSchemaCredential"}
    result = AT.verify(issue(credential(credentialSchema=schema), agency_key))
    assert result.codes == ("UNSUPPORTED",)
    assert result.errors[0].path == "/credentialSchema/type"
    assert result.check("schema").passed is False  # type: ignore[union-attr]


# -- what stays "not evaluated": the caller's own choices --------------------------------------


def test_an_unrequested_check_stays_not_run_and_the_rest_decide(
    agency_key: KeyPair, holder: KeyPair
) -> None:
    token = sd_jwt_vc(agency_key, holder, status=TOKEN_STATUS)
    result = AT.verify(token, checks=("proof", "issuer", "validity"))
    assert result.verified
    assert result.check("status") is None  # never run, never reported as passed
    no_unrun_check_passed(result)


def test_trust_without_a_trust_list_is_not_evaluated_and_says_so(agency_key: KeyPair) -> None:
    result = AT.verify(issue(credential(), agency_key))
    assert result.verified
    assert result.check("trust").passed is None  # type: ignore[union-attr]
    assert [w.code for w in result.warnings] == ["TRUST_NOT_EVALUATED"]
    no_unrun_check_passed(result)


# -- inside presentations ----------------------------------------------------------------------


def test_an_unreadable_status_inside_a_presentation_fails_it(
    agency_key: KeyPair, holder: KeyPair
) -> None:
    inner = credential(
        credentialSubject={"id": did_key(holder.public)},
        credentialStatus=UNREADABLE_ENTRIES[0],
    )
    vp = present([issue(inner, agency_key)], holder, challenge="c", now=NOW)
    result = AT.verify_presentation(vp, challenge="c")
    assert not result.verified
    assert result.codes == ("STATUS_UNAVAILABLE",)
    assert result.errors[0].path == "/verifiableCredential/0/credentialStatus"


def test_an_sd_jwt_vc_with_a_token_status_list_presented_with_key_binding_fails(
    agency_key: KeyPair, holder: KeyPair
) -> None:
    token = sd_jwt_vc(agency_key, holder, status=TOKEN_STATUS)
    presented = sdjwt.present(token, holder, nonce="c", aud="a", now=NOW)
    result = AT.verify_presentation(presented, challenge="c", domain="a")
    assert result.codes == ("STATUS_UNAVAILABLE",)
    assert result.errors[0].path == "/verifiableCredential/0/status"


def test_the_holder_of_a_presentation_whose_proof_failed_is_not_evaluated(
    agency_key: KeyPair, holder: KeyPair
) -> None:
    vp = str(present([issue(credential(), agency_key)], holder, challenge="c", now=NOW))
    forged = vp[:-6] + ("A" if vp[-6] != "A" else "B") + vp[-5:]
    result = AT.verify_presentation(forged, challenge="c")
    assert not result.verified
    assert result.check("holder").passed is None  # type: ignore[union-attr]
    assert "HOLDER_NOT_EVALUATED" in {w.code for w in result.warnings}


def test_a_challenge_or_domain_nobody_asked_for_is_not_evaluated_not_passed(
    agency_key: KeyPair, holder: KeyPair
) -> None:
    inner = credential(credentialSubject={"id": did_key(holder.public)})
    vp = present([issue(inner, agency_key)], holder, challenge="c", domain="d", now=NOW)
    result = AT.verify_presentation(vp)  # the caller checks neither: its choice, said so
    assert result.verified, result.errors
    assert result.check("challenge").passed is None  # type: ignore[union-attr]
    assert result.check("domain").passed is None  # type: ignore[union-attr]
    assert {"CHALLENGE_NOT_CHECKED", "DOMAIN_NOT_CHECKED"} <= {w.code for w in result.warnings}
    both = AT.verify_presentation(vp, challenge="c", domain="d")
    assert both.check("challenge").passed is True  # type: ignore[union-attr]
    assert not {w.code for w in both.warnings} & {"CHALLENGE_NOT_CHECKED", "DOMAIN_NOT_CHECKED"}
    no_unrun_check_passed(result)
    no_unrun_check_passed(both)


def test_every_variant_keeps_the_invariant(agency_key: KeyPair, holder: KeyPair) -> None:
    documents = [credential(credentialStatus=entry) for entry in UNREADABLE_ENTRIES]
    documents += [credential(status=TOKEN_STATUS), credential()]
    for document in documents:
        for fmt in ("vc+jwt", "vc+sd-jwt", "eddsa-jcs-2022"):
            result = AT.verify(issue(document, agency_key, format=fmt, now=NOW))
            no_unrun_check_passed(result)
            assert result.verified is (
                "credentialStatus" not in document and "status" not in document
            )
            assert [c.name for c in result.checks if c.name in CHECKS] == list(CHECKS)


# -- through the verifier service --------------------------------------------------------------


def _post_credential(client: FlaskClient, secured: Any) -> tuple[int, list[str], dict[str, Any]]:
    response = client.post("/credentials/verify", json={"verifiableCredential": secured})
    body = response.get_json()
    return response.status_code, [p["code"] for p in body.get("problemDetails", [])], body


@pytest.mark.parametrize("fmt", ["vc+jwt", "vc+sd-jwt"])
def test_the_service_refuses_an_aeo_certificate_with_an_unreadable_status_entry(
    make_app: MakeApp, agency: Agency, fmt: str
) -> None:
    client = make_app().test_client()
    certificate = agency.aeo_certificate()
    genuine = agency.issue(copy.deepcopy(certificate), fmt=fmt)
    assert _post_credential(client, genuine)[:2] == (200, [])
    certificate["credentialStatus"].append(UNREADABLE_ENTRIES[0])
    status, codes, body = _post_credential(client, agency.issue(certificate, fmt=fmt))
    assert (status, codes) == (400, ["STATUS_UNAVAILABLE"]), body
    assert body["problemDetails"][0]["pointer"] == "/credentialStatus/2"
    # the two bitstring entries were still checked, and passed
    assert [entry["valid"] for entry in body["status"]] == [True, True]


def test_the_service_refuses_a_token_status_list_claim(make_app: MakeApp, agency: Agency) -> None:
    client = make_app().test_client()
    certificate = {**agency.aeo_certificate(status=False), "status": TOKEN_STATUS}
    status, codes, body = _post_credential(client, agency.issue(certificate))
    assert (status, codes) == (400, ["STATUS_UNAVAILABLE"]), body
    assert body["problemDetails"][0]["pointer"] == "/status"


def test_the_service_refuses_an_sd_jwt_vc_with_a_token_status_list(
    make_app: MakeApp, agency_key: KeyPair, holder: KeyPair
) -> None:
    client = make_app(trust_list=None, trust_issuer=None).test_client()
    status, codes, body = _post_credential(
        client, sd_jwt_vc(agency_key, holder, status=TOKEN_STATUS)
    )
    assert (status, codes) == (400, ["STATUS_UNAVAILABLE"]), body
    status, codes, body = _post_credential(client, sd_jwt_vc(agency_key, holder))
    assert (status, codes) == (200, []), body
    nonce = client.post("/challenges").get_json()["challenge"]
    presented = sdjwt.present(
        sd_jwt_vc(agency_key, holder, status=TOKEN_STATUS), holder, nonce=nonce, aud=DOMAIN, now=NOW
    )
    response = client.post(
        "/presentations/verify",
        json={"verifiablePresentation": presented, "options": {"challenge": nonce}},
    )
    assert response.status_code == 400
    assert [p["code"] for p in response.get_json()["problemDetails"]] == ["STATUS_UNAVAILABLE"]


def test_the_service_fails_a_challenge_it_was_not_given_and_does_not_call_it_unasked(
    make_app: MakeApp, agency: Agency, holder: KeyPair
) -> None:
    client = make_app().test_client()
    certificate = agency.issue(agency.aeo_certificate(holder=did_key(holder.public)))
    vp = present([certificate], holder, domain=DOMAIN, now=NOW)
    response = client.post("/presentations/verify", json={"verifiablePresentation": vp})
    body = response.get_json()
    assert response.status_code == 400
    assert [p["code"] for p in body["problemDetails"]] == ["INVALID_CHALLENGE"]
    assert {c["check"]: c["passed"] for c in body["checks"]}["challenge"] is False
    assert "CHALLENGE_NOT_CHECKED" not in [w["code"] for w in body["warnings"]]
