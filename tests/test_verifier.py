"""The verification pipeline: every check reported, nothing raised for bad input."""

from __future__ import annotations

import dataclasses
import json
import pickle
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from tests.conftest import NOW, credential
from tests.test_jose import forge, header_for
from vcred import Verifier, batch, issue, present, verify, verify_presentation
from vcred.did import did_key
from vcred.errors import UsageError
from vcred.issuing import signer_for
from vcred.jose import issue_vp_jwt
from vcred.keys import KeyPair
from vcred.multibase import b64url_encode
from vcred.presentation import build_presentation, envelope
from vcred.verifier import CHECKS, VerificationResult, _verification_result, detect

AT = Verifier(clock=lambda: NOW)


def tamper(token: str) -> str:
    return token[:-6] + ("A" if token[-6] != "A" else "B") + token[-5:]


@pytest.fixture(scope="module")
def agency() -> KeyPair:
    return KeyPair.generate("ed25519")


@pytest.fixture(scope="module")
def trader() -> KeyPair:
    return KeyPair.generate("p256")


def test_valid_credential_passes_every_check(agency: KeyPair) -> None:
    result = AT.verify(issue(credential(), agency))
    assert result.verified, result.errors
    assert [c.name for c in result.checks] == list(CHECKS)
    assert result.issuer == did_key(agency.public)
    assert result.format == "vc+jwt"
    assert result.check("trust").passed is None  # no trust list: not evaluated …
    assert [w.code for w in result.warnings] == ["TRUST_NOT_EVALUATED"]  # … and said so


def test_tampered_signature_reports_invalid_signature_and_reads_nothing_unsigned(
    agency: KeyPair,
) -> None:
    result = AT.verify(tamper(str(issue(credential(), agency))))
    assert not result.verified
    assert result.codes == ("INVALID_SIGNATURE",)
    assert result.check("proof").passed is False
    # no later check reads what no proof covers, and nothing unsigned is returned
    assert result.check("validity") is None
    assert result.credential is None and result.issuer is None


def test_every_failure_is_reported_not_just_the_first(agency: KeyPair) -> None:
    schema = {"id": "https://schemas.example/unknown.json", "type": "JsonSchema"}
    document = credential(validUntil="2026-02-01T00:00:00Z", credentialSchema=schema)
    result = AT.verify(issue(document, agency))
    assert set(result.codes) == {"EXPIRED", "UNKNOWN_SCHEMA"}


@pytest.mark.parametrize(
    ("changes", "code", "path"),
    [
        ({"validUntil": "2026-05-31T00:00:00Z"}, "EXPIRED", "/validUntil"),
        ({"validFrom": "2026-06-02T00:00:00Z", "validUntil": None}, "NOT_YET_VALID", "/validFrom"),
    ],
)
def test_validity_window(agency: KeyPair, changes: dict[str, Any], code: str, path: str) -> None:
    document = credential(**changes)
    document = {k: v for k, v in document.items() if v is not None}
    result = AT.verify(issue(document, agency))
    assert result.codes == (code,)
    assert result.errors[0].path == path


def test_clock_skew_is_configurable(agency: KeyPair) -> None:
    token = issue(credential(validFrom="2026-06-01T12:00:30Z"), agency)
    assert AT.verify(token).verified  # 30 s early: inside the default 60 s skew
    strict = dataclasses.replace(AT, clock_skew=timedelta(0))
    assert strict.verify(token).codes == ("NOT_YET_VALID",)


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"validUntil": "2026-05-22T11:59:30Z"}, "EXPIRED"),
        ({"validFrom": "2026-05-22T12:00:30Z", "validUntil": None}, "NOT_YET_VALID"),
    ],
)
def test_as_of_a_moment_the_clock_skew_does_not_widen_the_window(
    agency: KeyPair, changes: dict[str, Any], code: str
) -> None:
    # the skew is for this verifier's clock against the issuer's; a moment asked about is
    # no clock reading: as of it, a credential 30 s past its validUntil had expired (as the
    # status check already reads lists as of a moment, without the skew)
    moment = NOW - timedelta(days=10)
    document = {k: v for k, v in credential(**changes).items() if v is not None}
    if "validFrom" not in changes:
        document["validFrom"] = "2026-05-01T00:00:00Z"
    token = issue(document, agency, now=moment - timedelta(days=30))
    assert dataclasses.replace(AT, at=moment).verify(token).codes == (code,)


def test_jwt_exp_disagreeing_with_valid_until_is_rejected(agency: KeyPair) -> None:
    from tests.test_jose import forge, header_for

    document = credential(issuer=did_key(agency.public), exp=int(NOW.timestamp()) + 10)
    result = AT.verify(forge(header_for(agency), document, agency))
    assert "MALFORMED" in result.codes
    assert result.check("validity").passed is False


def test_jwt_exp_alone_bounds_the_window(agency: KeyPair) -> None:
    from tests.test_jose import forge, header_for

    document = credential(issuer=did_key(agency.public))
    del document["validUntil"]
    document["exp"] = int(NOW.timestamp()) - 3600
    assert AT.verify(forge(header_for(agency), document, agency)).codes == ("EXPIRED",)


def test_a_result_built_from_its_values_is_the_dataclasss_own() -> None:
    """verify() builds its result slot by slot (``_verification_result``): each value lands
    in its own field, and the result is as immutable as one the dataclass builds."""
    names = [f.name for f in dataclasses.fields(VerificationResult)]
    values = [f"the {name}" for name in names]
    built = _verification_result(*values)
    assert type(built) is VerificationResult
    assert built == VerificationResult(**dict(zip(names, values, strict=True)))
    with pytest.raises(dataclasses.FrozenInstanceError):
        built.verified = False  # type: ignore[misc]
    with pytest.raises(ValueError, match="not enough values"):
        _verification_result(*values[:-1])


def test_the_validity_detail_says_the_moment_in_the_clocks_own_zone(agency: KeyPair) -> None:
    """The passed validity check is one object per second verified at: two clocks reading the
    same instant in different zones (equal as datetimes) still each get their own words."""
    token = issue(credential(), agency)
    zones = [UTC, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-3))]
    for zone in zones * 2:  # the second round answers from the objects the first made
        now = (NOW + timedelta(microseconds=250)).astimezone(zone)
        result = Verifier(clock=lambda now=now: now).verify(token)
        detail = result.check("validity").detail
        assert detail == f"valid at {now.isoformat(timespec='seconds')}", detail


def test_the_result_carries_the_validity_window_the_check_read(agency: KeyPair) -> None:
    """What outlives a verification (a recognition) ends where the credential does: the
    window is validFrom / validUntil narrowed by exp, which the document alone may not say."""
    exp = int(NOW.timestamp()) + 3600
    document = credential(issuer=did_key(agency.public), exp=exp)
    del document["validUntil"]
    result = AT.verify(forge(header_for(agency), document, agency))
    assert result.verified, result.errors
    start = datetime(2026, 1, 1, tzinfo=UTC)
    assert result.validity == (start, datetime.fromtimestamp(exp, UTC))
    # verify_many sends it from its workers
    assert pickle.loads(pickle.dumps(result)).validity == result.validity  # noqa: S301
    assert batch._expand(batch._compact(result), {}).validity == result.validity
    open_ended = credential()
    del open_ended["validUntil"]
    unbounded = AT.verify(issue(open_ended, agency))
    assert unbounded.validity == (start, None)
    # not established (the check failed, or did not run): no window
    assert AT.verify(issue(credential(validUntil="2026-02-01T00:00:00Z"), agency)).validity is None
    proof_only = dataclasses.replace(AT, checks=("proof",))
    assert proof_only.verify(issue(credential(), agency)).validity is None


def test_checks_can_be_chosen(agency: KeyPair) -> None:
    token = issue(credential(validUntil="2026-02-01T00:00:00Z"), agency)
    only_validity = dataclasses.replace(AT, checks=("validity",))
    result = only_validity.verify(token)
    assert result.codes == ("EXPIRED",)
    assert [c.name for c in result.checks] == ["validity"]


def test_unknown_check_is_a_usage_error() -> None:
    with pytest.raises(UsageError):
        Verifier(checks=("proof", "magic"))


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("", "PARSING_ERROR"),
        ("hello", "PARSING_ERROR"),
        ("{not json", "PARSING_ERROR"),
        ("{}", "MALFORMED"),
        (b"\xff\xfe", "PARSING_ERROR"),
        ({"@context": [], "proof": {}}, None),
        (
            {
                "@context": "https://www.w3.org/ns/credentials/v2",
                "type": "EnvelopedVerifiableCredential",
                "id": "data:text/plain,x",
            },
            "UNSUPPORTED",
        ),
    ],
)
def test_bad_input_never_raises(value: Any, code: str | None) -> None:
    result = AT.verify(value)
    assert not result.verified
    if code:
        assert code in result.codes


def test_misuse_raises() -> None:
    with pytest.raises(UsageError):
        AT.verify(12345)


def test_structure_violation_is_reported_with_its_pointer(agency: KeyPair) -> None:
    from tests.test_jose import forge, header_for

    document = credential(issuer=did_key(agency.public), validFrom="soon")
    result = AT.verify(forge(header_for(agency), document, agency))
    assert not result.verified
    assert any(p.code == "MALFORMED" and p.path == "/validFrom" for p in result.errors)


def test_enveloped_credential_is_opened(agency: KeyPair) -> None:
    token = str(issue(credential(), agency))
    assert detect(envelope(token)) == ("vc+jwt", token)
    assert AT.verify(envelope(token)).verified
    assert AT.verify(json.dumps(envelope(token))).verified


def test_result_serialises_to_json(agency: KeyPair) -> None:
    data = json.loads(json.dumps(AT.verify(issue(credential(), agency)).to_dict()))
    assert data["verified"] is True
    assert {c["check"] for c in data["checks"]} == set(CHECKS)
    assert data["credential"]["issuer"] == did_key(agency.public)


def test_module_level_verify_takes_now(agency: KeyPair) -> None:
    token = issue(credential(validUntil="2026-02-01T00:00:00Z"), agency)
    assert verify(token, now=NOW).codes == ("EXPIRED",)
    assert verify(token, now=NOW - timedelta(days=140)).verified


# -- presentations -------------------------------------------------------------------------


def about(holder: KeyPair) -> dict[str, Any]:
    return credential(credentialSubject={"id": did_key(holder.public), "name": "Harbour Lights"})


def test_presentation_round_trip(agency: KeyPair, trader: KeyPair) -> None:
    vc = issue(about(trader), agency)
    vp = present([vc], trader, challenge="c-123", domain="customs.eu.example", now=NOW)
    result = AT.verify_presentation(vp, challenge="c-123", domain="customs.eu.example")
    assert result.verified, result.errors
    assert result.holder == did_key(trader.public)
    assert len(result.credentials) == 1 and result.credentials[0].verified


def test_enveloped_presentation_is_opened(agency: KeyPair, trader: KeyPair) -> None:
    vp = present([issue(about(trader), agency)], trader, challenge="c-9", domain="d", now=NOW)
    enveloped = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": "EnvelopedVerifiablePresentation",
        "id": f"data:application/vp+jwt,{vp}",
    }
    result = AT.verify_presentation(enveloped, challenge="c-9", domain="d")
    assert result.verified, result.errors
    assert result.format == "vp+jwt"
    wrong = {**enveloped, "id": f"data:application/vc+jwt,{vp}"}
    assert AT.verify_presentation(wrong, challenge="c-9").codes == ("UNSUPPORTED",)


def test_replayed_challenge_is_rejected(agency: KeyPair, trader: KeyPair) -> None:
    vp = present([issue(about(trader), agency)], trader, challenge="c-old", now=NOW)
    result = AT.verify_presentation(vp, challenge="c-new")
    assert "INVALID_CHALLENGE" in result.codes and not result.verified


def test_missing_challenge_is_rejected(agency: KeyPair, trader: KeyPair) -> None:
    vp = present([issue(about(trader), agency)], trader, now=NOW)
    assert "INVALID_CHALLENGE" in AT.verify_presentation(vp, challenge="c").codes


def test_a_challenge_signed_in_an_array_of_nonces_is_rejected(
    agency: KeyPair, trader: KeyPair
) -> None:
    # OpenID4VP §14.1.2: the nonce binds one transaction; a vp+jwt whose nonce is an array
    # holding it would answer every request whose nonce it lists (a presentation made ahead)
    vp = build_presentation([issue(about(trader), agency)], holder=did_key(trader.public))
    token = issue_vp_jwt(
        vp, signer_for(trader), challenge=["c-earlier", "c"], issued_at=int(NOW.timestamp())
    )
    result = AT.verify_presentation(token, challenge="c")
    assert result.codes == ("INVALID_CHALLENGE",)
    assert not result.verified


def test_wrong_domain_is_rejected(agency: KeyPair, trader: KeyPair) -> None:
    vp = present(
        [issue(about(trader), agency)], trader, challenge="c", domain="customs.jp.example", now=NOW
    )
    result = AT.verify_presentation(vp, challenge="c", domain="customs.eu.example")
    assert result.codes == ("INVALID_DOMAIN",)


def test_credential_of_someone_else_is_rejected(agency: KeyPair, trader: KeyPair) -> None:
    thief = KeyPair.generate()
    vp = present([issue(about(trader), agency)], thief, challenge="c", now=NOW)
    result = AT.verify_presentation(vp, challenge="c")
    assert result.codes == ("HOLDER_MISMATCH",)
    assert result.errors[0].path == "/verifiableCredential/0/credentialSubject/id"
    assert result.check("holder").passed is False


def test_expired_presentation_is_rejected(agency: KeyPair, trader: KeyPair) -> None:
    vp = present(
        [issue(about(trader), agency)], trader, challenge="c", now=NOW - timedelta(hours=1)
    )
    assert "EXPIRED" in AT.verify_presentation(vp, challenge="c").codes


def test_tampered_presentation_is_rejected(agency: KeyPair, trader: KeyPair) -> None:
    vp = present([issue(about(trader), agency)], trader, challenge="c", now=NOW)
    result = AT.verify_presentation(tamper(str(vp)), challenge="c")
    assert "INVALID_SIGNATURE" in result.codes


def test_a_bad_credential_inside_fails_the_presentation(agency: KeyPair, trader: KeyPair) -> None:
    vc = tamper(str(issue(about(trader), agency)))
    result = AT.verify_presentation(present([vc], trader, challenge="c", now=NOW), challenge="c")
    assert not result.verified
    assert any(p.path and p.path.startswith("/verifiableCredential/0") for p in result.errors)


def test_credential_token_is_not_a_presentation(agency: KeyPair) -> None:
    result = AT.verify_presentation(issue(credential(), agency))
    assert not result.verified and "MALFORMED" in result.codes


def test_too_many_credentials_are_refused(agency: KeyPair, trader: KeyPair) -> None:
    vc = issue(about(trader), agency)
    vp = present([vc] * 65, trader, challenge="c", now=NOW)
    assert "MALFORMED" in AT.verify_presentation(vp, challenge="c").codes


def test_the_credential_cap_is_configurable(agency: KeyPair, trader: KeyPair) -> None:
    vc = issue(about(trader), agency)
    strict = dataclasses.replace(AT, max_presented_credentials=2)
    assert strict.verify_presentation(
        present([vc] * 2, trader, challenge="c", now=NOW), challenge="c"
    ).verified
    result = strict.verify_presentation(
        present([vc] * 3, trader, challenge="c", now=NOW), challenge="c"
    )
    assert result.codes == ("MALFORMED",)
    assert result.errors[0].path == "/verifiableCredential"
    assert result.credentials == ()  # refused before any of them was verified


def test_module_level_verify_presentation(agency: KeyPair, trader: KeyPair) -> None:
    vp = present([issue(about(trader), agency)], trader, challenge="c", now=NOW)
    assert verify_presentation(vp, challenge="c", now=NOW).verified


@pytest.mark.parametrize(
    ("claim", "value"),
    [("nbf", 10**20), ("exp", 1e300), ("nbf", -(10**15)), ("exp", 10**400), ("iat", 10**20)],
)
def test_jwt_time_claim_out_of_range_is_malformed_not_a_crash(
    agency: KeyPair, claim: str, value: float
) -> None:
    # a self-signed token (any did:key may sign) with a NumericDate no datetime can hold:
    # Python's OverflowError / ValueError used to escape verify() — a 500 at the service
    from tests.test_jose import forge, header_for

    document = credential(issuer=did_key(agency.public))
    del document["validFrom"], document["validUntil"]
    document[claim] = value
    result = AT.verify(forge(header_for(agency), document, agency))
    # iat bounds nothing, but it dates the signature against a key's revocation: unreadable,
    # it is malformed like the others (tests/hardening/test_verdict_inputs.py)
    assert result.codes == ("MALFORMED",)
    assert result.errors[0].path == f"/{claim}"


@pytest.mark.parametrize("claim", ["nbf", "exp"])
def test_legacy_vc_jwt_time_claim_out_of_range_is_malformed_not_a_crash(
    agency: KeyPair, claim: str
) -> None:
    # VC-JWT 1.1 maps nbf / exp to issuanceDate / expirationDate even before the signature is
    # checked (to report the other checks): an unsigned token reached the same crash
    from tests.test_jose import forge

    did = did_key(agency.public)
    payload = {
        "iss": did,
        claim: 10**20,
        "vc": {
            "@context": ["https://www.w3.org/2018/credentials/v1"],
            "type": ["VerifiableCredential"],
            "credentialSubject": {"name": "x"},
        },
    }
    header = {"alg": "EdDSA", "kid": f"{did}#{did[8:]}", "typ": "JWT"}
    assert AT.verify(forge(header, payload, agency)).codes == ("MALFORMED",)
    unsigned = AT.verify(forge(header, payload, None))
    assert unsigned.codes == ("INVALID_SIGNATURE",)
    assert unsigned.credential is None  # what cannot be read is not reported


def _presenting(document: Any, proof: Any) -> dict[str, Any]:
    """A presentation of ``document`` under ``proof`` (a credential's: it cannot verify)."""
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiablePresentation"],
        "verifiableCredential": [document],
        "proof": proof,
    }


def _nested(depth: int) -> Any:
    value: Any = "x"
    for _ in range(depth):
        value = {"name": value}
    return value


@pytest.mark.parametrize("suite", ["eddsa-rdfc-2022", "eddsa-jcs-2022"])
def test_a_credential_verified_from_a_dict_shares_nothing_with_it(
    agency: KeyPair, suite: str
) -> None:
    # the verifier copies its input before reading it: what the result reports is what was
    # verified, whatever the caller does with its dict afterwards
    secured = issue(credential(), agency, format=suite, now=NOW)
    assert isinstance(secured, dict)
    result = AT.verify(secured)
    assert result.verified, result.errors
    assert result.credential is not None
    reported = json.loads(json.dumps(result.credential))
    secured["credentialSubject"]["id"] = "did:example:someone-else"
    secured["type"].append("OtherCredential")
    secured["proof"]["proofValue"] = "z1"
    assert result.credential == reported


@pytest.mark.parametrize("suite", ["eddsa-jcs-2022", "eddsa-rdfc-2022", "ecdsa-sd-2023"])
def test_data_integrity_document_nested_600_deep_is_malformed_not_a_recursion_error(
    agency: KeyPair, suite: str
) -> None:
    # copying, JSON-LD and JCS recurse: 600 levels (far under any body limit of the library's
    # callers) used to raise RecursionError out of verify() and verify_presentation()
    secured = issue(credential(), agency, format="eddsa-jcs-2022")
    assert isinstance(secured, dict)
    deep = json.loads(json.dumps(secured))
    deep["proof"]["cryptosuite"] = suite
    deep["credentialSubject"]["description"] = _nested(600)
    result = AT.verify(deep)
    assert result.codes == ("MALFORMED",)
    assert result.errors[0].path is not None
    assert result.errors[0].path.startswith("/credentialSubject/description/name/name")
    assert AT.verify_presentation(_presenting(deep, secured["proof"])).codes == ("MALFORMED",)


def test_documents_up_to_the_depth_limit_are_verified(agency: KeyPair) -> None:
    from vcred.model import MAX_DEPTH

    document = credential()
    # the document, its subject, then the nested objects: exactly MAX_DEPTH levels pass
    document["credentialSubject"]["description"] = _nested(MAX_DEPTH - 2)
    secured = issue(document, agency, format="eddsa-jcs-2022", now=NOW)
    assert AT.verify(secured).verified
    document["credentialSubject"]["description"] = _nested(MAX_DEPTH - 1)
    too_deep = issue(document, agency, format="eddsa-jcs-2022", now=NOW)
    assert AT.verify(too_deep).codes == ("MALFORMED",)


@pytest.mark.parametrize("encoding", ["%CC%FF", ";base64,zP8"])
def test_enveloped_credential_whose_data_url_is_not_utf8_is_malformed_not_a_crash(
    encoding: str,
) -> None:
    # found by the sd-jwt-presentation fuzz target: percent-decoding to invalid UTF-8 raised
    # UnicodeDecodeError out of verify_presentation() (the presentation's structure check)
    header, _, data = encoding.partition(",")
    enveloped = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": "EnvelopedVerifiableCredential",
        "id": f"data:application/vc+jwt{header}," + (data or f"eyJ{encoding}.e30.AA"),
    }
    presentation = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiablePresentation"],
        "verifiableCredential": [enveloped],
        "proof": {"type": "DataIntegrityProof"},
    }
    assert not verify(enveloped).verified
    result = verify_presentation(presentation)
    assert not result.verified
    assert "MALFORMED" in result.codes


# -- lone surrogates: not Unicode text, so not I-JSON (RFC 7493 §2.1) --------------------------


def _with_lone_surrogate(secured: dict[str, Any], where: str) -> dict[str, Any]:
    forged = json.loads(json.dumps(secured))
    if where == "value":
        forged["credentialSubject"]["name"] = "\ud800"
    else:
        forged["credentialSubject"]["\udfff"] = "x"
    return forged


@pytest.mark.parametrize("where", ["value", "member name"])
@pytest.mark.parametrize("suite", ["eddsa-rdfc-2022", "eddsa-jcs-2022"])
def test_a_lone_surrogate_in_a_data_integrity_credential_is_malformed_not_a_crash(
    agency: KeyPair, suite: str, where: str
) -> None:
    # UTF-8 cannot carry a lone surrogate: RDF canonicalization raised UnicodeEncodeError out
    # of verify(), verify_presentation() and verify_many() — a 500 at the service
    secured = issue(credential(), agency, format=suite)
    assert isinstance(secured, dict)
    forged = _with_lone_surrogate(secured, where)
    # as an object, and as the JSON text of one (where it is the escape \ud800)
    for given in (forged, json.dumps(forged)):
        result = AT.verify(given)
        assert result.codes == ("MALFORMED",)
        assert result.errors[0].path == (
            "/credentialSubject/name" if where == "value" else "/credentialSubject"
        )
        assert "lone surrogate" in result.errors[0].message
        json.dumps(result.to_dict()).encode("utf-8")  # what a service answers is UTF-8
    assert AT.verify_presentation(_presenting(forged, secured["proof"])).codes == ("MALFORMED",)


# -- Python values no JSON text carries, in a credential handed over as a dict ------------------

#: a member name that is no string, and leaves JSON has no value for
_NOT_JSON: list[Any] = [{1: "x"}, {b"k": "x"}, Decimal("1.5"), ("a", "b"), b"x", {"x"}]


@pytest.mark.parametrize("value", _NOT_JSON, ids=repr)
@pytest.mark.parametrize("suite", ["eddsa-rdfc-2022", "eddsa-jcs-2022"])
def test_a_value_no_json_text_carries_is_malformed_not_a_crash(
    agency: KeyPair, suite: str, value: Any
) -> None:
    # RDF canonicalization met a member name that is an int (AttributeError: no startswith),
    # or a Decimal / tuple in a context (TypeError out of json.dumps): verify() and
    # verify_presentation() raised instead of reporting
    secured = issue(credential(), agency, format=suite)
    assert isinstance(secured, dict)
    for path, forged in (
        ("/issuer", {**secured, "issuer": value}),
        ("/proof/issuer", {**secured, "proof": {**secured["proof"], "issuer": value}}),
        ("/credentialSubject/name", {**secured, "credentialSubject": {"name": value}}),
        ("/@context/1/x", {**secured, "@context": [*secured["@context"], {"x": value}]}),
    ):
        result = AT.verify(forged)
        assert result.codes == ("MALFORMED",)
        assert result.errors[0].path == path
        json.dumps(result.to_dict())
        assert AT.verify_presentation(forged).codes == ("MALFORMED",)
        presented = AT.verify_presentation(_presenting(forged, secured["proof"]))
        assert presented.codes == ("MALFORMED",)


def test_a_signed_vc_jwt_holding_a_lone_surrogate_is_malformed(agency: KeyPair) -> None:
    # signed by the sender's own did:key, it verified: the service then failed to encode the
    # answer (its credential) as UTF-8
    document = credential(issuer=did_key(agency.public))
    document["type"] = ["VerifiableCredential", "\udfff"]
    result = AT.verify(forge(header_for(agency), document, agency))
    assert not result.verified
    assert result.codes == ("MALFORMED",)
    assert result.errors[0].path == "/type/1"
    assert result.credential is None


def test_paired_surrogate_escapes_are_one_character_and_verify(agency: KeyPair) -> None:
    document = credential(issuer=did_key(agency.public))
    document["credentialSubject"]["name"] = "Harbour Lights \U0001f6a2"  # \ud83d\udea2 in JSON
    token = forge(header_for(agency), document, agency)
    result = AT.verify(token)
    assert result.verified, result.errors
    assert result.credential is not None
    assert result.credential["credentialSubject"]["name"].endswith("\U0001f6a2")


# -- items of a presentation that are no credential ------------------------------------------


def _unsigned_vp_jwt(presentation: dict[str, Any]) -> str:
    return forge({"alg": "EdDSA", "typ": "vp+jwt"}, presentation, None) + "AAAA"


@pytest.mark.parametrize("item", [5, None, [], True])
def test_a_presented_item_that_is_no_credential_fails_it_and_raises_nothing(item: Any) -> None:
    # verify() refuses a number as misuse (UsageError): inside a presentation it is data, and
    # escaped verify_presentation() (a 400 USAGE at the service, with no result)
    vp = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiablePresentation"],
        "verifiableCredential": [item],
    }
    for presentation in ({**vp, "proof": {}}, _unsigned_vp_jwt(vp)):
        result = AT.verify_presentation(presentation)
        assert not result.verified
        assert not result.credentials[0].verified
        assert result.credentials[0].codes == ("MALFORMED",)
        assert any(
            p.code == "MALFORMED" and p.path == "/verifiableCredential/0" for p in result.errors
        )


# -- nothing unsigned is reported ---------------------------------------------------------------


def test_a_presentation_whose_proof_fails_reports_no_holder_and_no_presentation(
    trader: KeyPair,
) -> None:
    vp = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiablePresentation"],
        "holder": "did:example:someone-else",
        "verifiableCredential": [],
    }
    unsigned_di = {
        **vp,
        "proof": {
            "type": "DataIntegrityProof",
            "cryptosuite": "eddsa-rdfc-2022",
            "proofPurpose": "authentication",
            "verificationMethod": "did:example:someone-else#k",
            "proofValue": "z1",
        },
    }
    key = did_key(trader.public)
    jwt_header = {"alg": "ES256", "typ": "vp+jwt", "kid": f"{key}#{key[8:]}"}
    junk_signature = forge(jwt_header, vp, None) + b64url_encode(bytes(64))
    for presentation in (_unsigned_vp_jwt(vp), unsigned_di, junk_signature):
        result = AT.verify_presentation(presentation)
        assert not result.verified
        # as verify() reports no credential and no issuer its proof did not establish
        assert result.holder is None and result.presentation is None
        assert result.to_dict()["holder"] is None


def test_a_proof_stage_binding_another_issuer_than_the_credential_names_fails_the_issuer_check(
    agency: KeyPair, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A format whose proof binds its own issuer (an SD-JWT VC's iss) while the credential
    # names another: the issuer check bound the keys to the first, trust read the second —
    # a signer on no trust list named a listed issuer and was trusted as it. The pipeline now
    # refuses the mismatch for any format, a plugin's included.
    from vcred.formats import registry

    real = registry["vc+jwt"]
    assert real.verify is not None
    listed = "did:web:customs.example"

    def binds_its_own(verifier: Verifier, secured: Any, state: Any) -> None:
        real.verify(verifier, secured, state)  # type: ignore[misc]
        state.issuer = did_key(agency.public)  # the signer, as the proof bound it
        state.claimed = {**state.claimed, "issuer": listed}  # what the credential names

    monkeypatch.setitem(
        registry._formats, "vc+jwt", dataclasses.replace(real, verify=binds_its_own)
    )
    result = AT.verify(issue(credential(), agency))
    assert not result.verified
    assert result.check("issuer").passed is False
    assert ("MALFORMED", "/issuer") in {(e.code, e.path) for e in result.errors}


def test_a_presentation_in_bytes_that_are_not_utf8_is_refused_not_repaired(
    agency: KeyPair,
) -> None:
    # detect_presentation decoded bytes with errors="replace": a holder could sign text with
    # U+FFFD and send an invalid byte in its place — what was sent is not what verified
    vp = present(
        [issue(about(agency), agency)],
        agency,
        challenge="c-\ufffd",
        format="eddsa-jcs-2022",
        now=NOW,
    )
    text = json.dumps(vp, ensure_ascii=False).encode()
    assert AT.verify_presentation(text, challenge="c-\ufffd").verified
    sent = text.replace("\ufffd".encode(), b"\xff")
    result = AT.verify_presentation(sent, challenge="c-\ufffd")
    assert not result.verified
    assert result.codes == ("PARSING_ERROR",)


@pytest.mark.parametrize("offset", [timedelta(0), timedelta(microseconds=-1)])
def test_at_its_valid_until_a_credential_has_ceased_to_be_valid(
    agency: KeyPair, offset: timedelta
) -> None:
    # VCDM 2.0 §4.9: validUntil is when the credential ceases to be valid; RFC 7519 §4.1.4:
    # a JWT is accepted only before its exp. The window's end was inclusive (valid at it).
    end = datetime(2026, 6, 1, tzinfo=UTC)
    token = issue(
        credential(validFrom="2026-01-01T00:00:00Z", validUntil="2026-06-01T00:00:00Z"),
        agency,
        now=datetime(2026, 1, 2, tzinfo=UTC),
    )
    result = dataclasses.replace(AT, at=end + offset).verify(token)
    if offset:
        assert result.verified, result.errors
    else:
        assert result.codes == ("EXPIRED",)


def _verifiable_formats() -> list[str]:
    from vcred.formats import registry

    # an ecdsa-sd-2023 base proof is for the holder, who derives what a verifier sees
    return sorted(set(registry.issuers()) - {"ecdsa-sd-2023"})


@pytest.mark.parametrize("fmt", _verifiable_formats())
def test_in_every_format_the_issuer_a_result_names_is_the_credentials_and_its_keys(
    fmt: str,
) -> None:
    # The invariant behind the SD-JWT VC fix: the issuer the keys were bound to, the one the
    # result reports and the one the credential names (what trust reads) are one party —
    # and a proof stage binding another fails the issuer check, never passes it
    from vcred import model
    from vcred.formats import registry

    key = KeyPair.generate("p256" if fmt.startswith("ecdsa") else "ed25519")
    options: dict[str, Any] = {"created": NOW} if "created" in registry[fmt].issue_options else {}
    result = AT.verify(issue(credential(), key, format=fmt, now=NOW, **options))
    assert result.verified, (fmt, result.errors)
    assert result.credential is not None
    assert result.issuer == model.issuer_id(result.credential) == did_key(key.public)
    assert result.check("issuer").passed is True
