"""Numbers bounded before they become floats, dates or durations.

The attack: a number no double can hold — ``1e400`` (inf once parsed), a 400-digit integer,
a 5000-digit one (past Python's own parsing limit) — anywhere a verifier reads JSON: a claim,
``iat`` / ``nbf`` / ``exp``, a disclosure, a key-binding JWT, a Data Integrity document, a
request body. It used to escape ``verify()`` as OverflowError / ValueError (a 500 at the
services). Every such number is MALFORMED with its pointer (``jose.loads_strict`` for JSON
text, ``model.check_numbers`` for documents handed over as objects), and numbers in range but
odd (``-0``, ``1e-400``, 2^53 + 1, the largest double) never make anything raise either.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from issuer_app import issuer_of
from issuer_app.config import IssuerConfig
from tests.conftest import NOW, credential
from tests.verifier.conftest import MakeApp
from vcred import Verifier, did_key, issue, jose, sdjwt
from vcred.cli import main
from vcred.errors import MalformedError, UsageError, VcredError
from vcred.issuing import signer_for
from vcred.keys import KeyPair
from vcred.model import MAX_JSON_NUMBER, check_numbers, number_in_range
from vcred.multibase import b64url_encode
from vcred.sdjwt import SdJwtParts
from verifier_app import VerifierConfig

AT = Verifier(clock=lambda: NOW)
KEY = KeyPair.generate("ed25519")
DID = did_key(KEY.public)
HOLE = "__NUMBER__"

OUT_OF_RANGE = [
    "1e400",
    "-1e400",
    "1" + "0" * 400,
    "-" + "9" * 400,
    "9" * 5000,  # past sys.int_info.default_max_str_digits: a bare ValueError used to escape
    "179769313486231580793728971405303415079934132710037826936173778980444968292764750946649"
    "017977587207096330286416692887910946555547851940402630657488671505820681908902000708383"
    "676273854845817711531764475730270069855571366959622842914819860834936475292719074168444"
    "365510704342711559699508093042880177904174497792",  # just past the largest double
]
IN_RANGE = ["-0", "-0.0", "1e-400", "9007199254740993", "1.7976931348623157e308", "1e21", "0.5"]


def text_with(template: Any, literal: str) -> str:
    """``template`` as JSON text with the number ``literal`` where HOLE is."""
    text = json.dumps(template, separators=(",", ":"))
    assert text.count(json.dumps(HOLE)) == 1
    return text.replace(json.dumps(HOLE), literal)


def sign_text(payload: str, *, typ: str, cty: str | None, key: KeyPair = KEY) -> str:
    """A compact JWS over exactly ``payload`` (JSON text), signed with ``key``'s did:key."""
    signer = signer_for(key)
    header = {"alg": signer.algorithm, "kid": signer.key_id, "typ": typ}
    if cty is not None:
        header["cty"] = cty
    signing_input = (
        f"{b64url_encode(json.dumps(header).encode())}.{b64url_encode(payload.encode())}"
    )
    return f"{signing_input}.{b64url_encode(signer.sign(signing_input.encode()))}"


def placed(document: dict[str, Any], pointer: str, value: Any = HOLE) -> dict[str, Any]:
    """A copy of ``document`` with ``value`` (HOLE) at ``pointer`` (made where missing)."""
    copy: dict[str, Any] = json.loads(json.dumps(document))
    *parents, last = pointer.strip("/").split("/")
    node: Any = copy
    for name in parents:
        node = node[int(name)] if isinstance(node, list) else node.setdefault(name, {})
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return copy


def refused(result: Any, pointer: str) -> None:
    assert not result.verified
    assert "MALFORMED" in result.codes, result.errors
    assert pointer in [p.path for p in result.errors], result.errors


# -- vc+jwt and vp+jwt: claims and NumericDates -------------------------------------------------

VC_POSITIONS = [
    "/credentialSubject/n",
    "/iat",
    "/nbf",
    "/exp",
    "/validUntil",
    "/credentialSubject/id",
]


@pytest.mark.parametrize("literal", OUT_OF_RANGE)
@pytest.mark.parametrize("pointer", VC_POSITIONS)
def test_a_vc_jwt_with_a_number_out_of_range_is_malformed_where_it_is(
    pointer: str, literal: str
) -> None:
    payload = text_with(placed(credential(issuer=DID), pointer), literal)
    refused(AT.verify(sign_text(payload, typ="vc+jwt", cty="vc")), pointer)


@pytest.mark.parametrize("literal", IN_RANGE)
@pytest.mark.parametrize("pointer", VC_POSITIONS)
def test_odd_numbers_in_range_never_raise(pointer: str, literal: str) -> None:
    payload = text_with(placed(credential(issuer=DID), pointer), literal)
    result = AT.verify(sign_text(payload, typ="vc+jwt", cty="vc"))
    if pointer == "/credentialSubject/n":
        assert result.verified, result.errors  # a number claim is just a claim
    elif pointer in ("/validUntil", "/credentialSubject/id"):
        assert "MALFORMED" in result.codes  # not a date, not a URL


@pytest.mark.parametrize("literal", OUT_OF_RANGE)
@pytest.mark.parametrize("pointer", ["/iat", "/exp", "/nbf", "/nonce", "/verifiableCredential/0/n"])
def test_a_vp_jwt_with_a_number_out_of_range_is_malformed(pointer: str, literal: str) -> None:
    presentation = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiablePresentation"],
        "holder": DID,
        "verifiableCredential": [{"n": 0}],
    }
    payload = text_with(placed(presentation, pointer), literal)
    result = AT.verify_presentation(sign_text(payload, typ="vp+jwt", cty="vp"), challenge="c")
    refused(result, pointer)


@pytest.mark.parametrize("literal", OUT_OF_RANGE)
@pytest.mark.parametrize("media_type", ["application/vc+jwt", "application/vc+sd-jwt"])
def test_an_enveloped_credential_with_a_number_out_of_range_is_malformed(
    literal: str, media_type: str
) -> None:
    payload = text_with(placed(credential(issuer=DID), "/exp"), literal)
    typ = media_type.removeprefix("application/")
    token = sign_text(payload, typ=typ, cty="vc") + ("~" if typ == "vc+sd-jwt" else "")
    enveloped = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": "EnvelopedVerifiableCredential",
        "id": f"data:{media_type},{token}",
    }
    refused(AT.verify(enveloped), "/exp")
    presentation = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiablePresentation"],
        "holder": DID,
        "verifiableCredential": [enveloped],
    }
    vp = sign_text(json.dumps(presentation), typ="vp+jwt", cty="vp")
    result = AT.verify_presentation(vp)
    assert not result.verified
    assert "/verifiableCredential/0/exp" in [p.path for p in result.errors], result.errors


# -- SD-JWT: the issuer's claims, disclosures, the key binding ---------------------------------


def sd_jwt(payload_text: str, disclosures: tuple[str, ...] = ()) -> str:
    jwt = sign_text(payload_text, typ="dc+sd-jwt", cty=None)
    return str(SdJwtParts(jwt, disclosures))


def sd_jwt_vc(**claims: Any) -> dict[str, Any]:
    holder = KeyPair.generate("ed25519")
    return {
        "iss": DID,
        "vct": "https://credentials.example/identity",
        "iat": int(NOW.timestamp()),
        "cnf": {"jwk": holder.public.jwk()},
        "_sd_alg": "sha-256",
        **claims,
    }


@pytest.mark.parametrize("literal", OUT_OF_RANGE)
@pytest.mark.parametrize("pointer", ["/iat", "/exp", "/nbf", "/age"])
def test_an_sd_jwt_vc_claim_out_of_range_is_malformed(pointer: str, literal: str) -> None:
    refused(AT.verify(sd_jwt(text_with(placed(sd_jwt_vc(), pointer), literal))), pointer)


@pytest.mark.parametrize("literal", OUT_OF_RANGE)
def test_a_disclosed_number_out_of_range_is_malformed(literal: str) -> None:
    encoded = b64url_encode(text_with(["c2FsdA", "age", HOLE], literal).encode())
    payload = json.dumps(sd_jwt_vc(_sd=[sdjwt.digest(encoded)]))
    refused(AT.verify(sd_jwt(payload, (encoded,))), "/disclosures/0/2")


@pytest.mark.parametrize("literal", [*OUT_OF_RANGE, "1.5", "-0"])
def test_a_key_binding_iat_out_of_range_is_malformed(literal: str) -> None:
    holder = KeyPair.generate("ed25519")
    issued = sd_jwt(json.dumps(sd_jwt_vc(cnf={"jwk": holder.public.jwk()})))
    claims = {"nonce": "c", "aud": "a", "iat": HOLE, "sd_hash": sdjwt.digest(issued)}
    kb = sign_text(text_with(claims, literal), typ="kb+jwt", cty=None, key=holder)
    result = AT.verify_presentation(issued + kb, challenge="c", domain="a")
    assert not result.verified
    assert "/kb/iat" in [p.path for p in result.errors], result.errors


# -- Data Integrity: documents as JSON text and as objects -------------------------------------


@pytest.fixture(scope="module")
def signed_di() -> dict[str, Any]:
    document = credential(credentialSubject={"id": "did:example:trader", "name": "Harbour"})
    secured: Any = issue(document, KEY, format="eddsa-rdfc-2022", now=NOW)
    assert isinstance(secured, dict)
    return secured


DI_POSITIONS = ["/credentialSubject/name", "/proof/created", "/proof/expires", "/validFrom", "/n"]


@pytest.mark.parametrize("literal", OUT_OF_RANGE)
@pytest.mark.parametrize("pointer", DI_POSITIONS)
def test_a_data_integrity_text_with_a_number_out_of_range_is_malformed(
    signed_di: dict[str, Any], pointer: str, literal: str
) -> None:
    result = AT.verify(text_with(placed(signed_di, pointer), literal))
    refused(result, pointer)


@pytest.mark.parametrize(
    "value", [float("inf"), float("-inf"), float("nan"), 10**400, -(10**309), 2**1100]
)
@pytest.mark.parametrize("pointer", DI_POSITIONS)
def test_a_data_integrity_object_with_a_number_out_of_range_is_malformed(
    signed_di: dict[str, Any], pointer: str, value: Any
) -> None:
    document = placed(signed_di, pointer, value)
    refused(AT.verify(document), pointer)
    presentation = {
        "type": "VerifiablePresentation",
        "proof": {},
        "verifiableCredential": [document],
    }
    assert AT.verify_presentation(presentation).codes == ("MALFORMED",)


@pytest.mark.parametrize("value", [-0.0, 0, 2**53 + 1, 1e-300, MAX_JSON_NUMBER, 10**21])
def test_numbers_in_range_in_a_jcs_document_never_raise(value: Any) -> None:
    document = credential(credentialSubject={"id": "did:example:trader", "name": "x"})
    secured: Any = issue(document, KEY, format="eddsa-jcs-2022", now=NOW)
    secured["credentialSubject"]["name"] = value  # changed after signing: a bad signature
    result = AT.verify(secured)
    assert not result.verified
    assert set(result.codes) <= {"INVALID_PROOF", "INVALID_SIGNATURE", "MALFORMED"}, result.codes


def test_a_json_literal_jcs_cannot_write_is_malformed_not_a_crash() -> None:
    # JSON-LD @json literals go through JCS too, which refuses integers past 2^53
    from vcred._jsonld_fast import json_literal

    with pytest.raises(MalformedError) as refusal:
        json_literal({"n": 2**60}, "/credentialSubject/data")
    assert refusal.value.pointer == "/credentialSubject/data"


# -- the invariant, as a property ----------------------------------------------------------------

_EXTREME = st.one_of(
    st.integers(min_value=-(10**420), max_value=10**420),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, -0.0, 2**53 + 1, 10**308, 10**309, MAX_JSON_NUMBER]),
)
_JSON = st.recursive(
    st.none() | st.booleans() | st.text(max_size=6) | _EXTREME,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=8,
)


def _out_of_range(value: Any) -> bool:
    try:
        check_numbers(value)
    except MalformedError:
        return True
    return False


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=_JSON, where=st.sampled_from(["/credentialSubject/n", "/exp", "/nbf", "/iat"]))
def test_verify_never_raises_for_any_number_anywhere(value: Any, where: str) -> None:
    document = placed(credential(issuer=DID), where, value)
    # as an object (Data Integrity shape)
    as_object = AT.verify({**document, "proof": {"type": "DataIntegrityProof"}})
    assert not as_object.verified
    if _out_of_range(value):
        assert as_object.codes == ("MALFORMED",)
    # as JSON text inside a signed vc+jwt (Python writes inf as Infinity: not JSON either)
    text = json.dumps(document)
    result = AT.verify(sign_text(text, typ="vc+jwt", cty="vc"))
    if _out_of_range(value):
        assert not result.verified and result.codes[0] in ("MALFORMED", "PARSING_ERROR")
    presented = AT.verify_presentation(sign_text(text, typ="vp+jwt", cty="vp"), challenge="c")
    assert not presented.verified
    wrapped = {"type": "VerifiablePresentation", "proof": {}, "verifiableCredential": [document]}
    assert not AT.verify_presentation(wrapped).verified
    # as a disclosed claim of an SD-JWT VC
    encoded = b64url_encode(json.dumps(["c2FsdA", "n", value]).encode())
    disclosed = AT.verify(sd_jwt(json.dumps(sd_jwt_vc(_sd=[sdjwt.digest(encoded)])), (encoded,)))
    assert disclosed.verified is not _out_of_range(value)


@settings(max_examples=200, deadline=None)
@given(_EXTREME)
def test_number_in_range_agrees_with_float_conversion(value: Any) -> None:
    try:
        converted = float(value)
    except OverflowError:
        assert not number_in_range(value)
        return
    assert number_in_range(value) == (converted == converted and abs(converted) != float("inf"))


# -- through the services ----------------------------------------------------------------------


def _raw_post(app: Flask, path: str, body: str, headers: dict[str, str] | None = None) -> Any:
    return app.test_client().post(
        path, data=body.encode(), content_type="application/json", headers=headers or {}
    )


VERIFIER_BODIES: list[tuple[str, str, str, str]] = [
    (
        "/credentials/verify",
        "a credential claim",
        '{"verifiableCredential":{"credentialSubject":{"n":NUM},"proof":{}}}',
        "/verifiableCredential/credentialSubject/n",
    ),
    (
        "/credentials/verify",
        "a proof's created",
        '{"verifiableCredential":{"proof":{"created":NUM}}}',
        "/verifiableCredential/proof/created",
    ),
    (
        "/credentials/verify",
        "options",
        '{"verifiableCredential":"x.y.z","options":{"checks":[NUM]}}',
        "/options/checks/0",
    ),
    (
        "/presentations/verify",
        "a presentation's proof",
        '{"verifiablePresentation":{"proof":{"expires":NUM}}}',
        "/verifiablePresentation/proof/expires",
    ),
    ("/challenges", "an unexpected body", '{"n":NUM}', ""),
]


@pytest.mark.parametrize("literal", OUT_OF_RANGE)
@pytest.mark.parametrize(("path", "what", "body", "pointer"), VERIFIER_BODIES)
def test_the_verifier_answers_a_number_out_of_range_with_a_400(
    make_app: MakeApp, path: str, what: str, body: str, pointer: str, literal: str
) -> None:
    response = _raw_post(make_app(), path, body.replace("NUM", literal))
    if path == "/challenges":  # the body of POST /challenges is not read
        assert response.status_code == 201
        return
    assert response.status_code == 400, (what, response.get_data(as_text=True)[:300])
    problem = response.get_json()
    assert problem["code"] == "MALFORMED"
    assert problem["pointer"] == pointer


@pytest.mark.parametrize("literal", OUT_OF_RANGE)
def test_a_signed_vc_jwt_with_a_huge_exp_through_the_verifier_is_400(
    make_app: MakeApp, literal: str
) -> None:
    payload = text_with(placed(credential(issuer=DID), "/exp"), literal)
    token = sign_text(payload, typ="vc+jwt", cty="vc")
    response = (
        make_app().test_client().post("/credentials/verify", json={"verifiableCredential": token})
    )
    assert response.status_code == 400
    codes = [p["code"] for p in response.get_json()["problemDetails"]]
    assert "MALFORMED" in codes


@pytest.mark.parametrize("literal", OUT_OF_RANGE)
@pytest.mark.parametrize(
    "template",
    [
        '{"credential":{"credentialSubject":{"n":NUM}}}',
        '{"credential":{"validFrom":NUM}}',
        '{"credential":{},"options":{"credentialId":NUM}}',
    ],
)
def test_the_issuer_answers_a_number_out_of_range_with_a_400(
    issuer_app: Flask, template: str, literal: str
) -> None:
    token = issuer_of(issuer_app).create_token(("issue",), actor="t").token
    response = _raw_post(
        issuer_app,
        "/credentials/issue",
        template.replace("NUM", literal),
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 400, response.get_data(as_text=True)[:300]
    assert response.get_json()["code"] == "MALFORMED"


def test_verify_raises_nothing_but_vcred_errors_in_the_lower_layer() -> None:
    for literal in OUT_OF_RANGE:
        with pytest.raises(VcredError):
            jose.loads_strict('{"a":NUM}'.replace("NUM", literal))
        with pytest.raises(VcredError):
            sdjwt.decode_disclosure(b64url_encode(f'["s","a",{literal}]'.encode()))
    assert jose.loads_strict('{"a":-0}') == {"a": 0}


# -- the services' own configuration -----------------------------------------------------------


@pytest.mark.parametrize("value", ["1e400", "nan", "inf", "-1", "1e300", "9" * 5000])
@pytest.mark.parametrize(
    "name", ["CHALLENGE_TTL", "DID_CACHE_TTL", "STATUS_CACHE_TTL", "MAX_STALE", "RATE_PER_SECOND"]
)
def test_a_verifier_variable_out_of_range_is_refused_in_one_line(
    tmp_path: Any, name: str, value: str
) -> None:
    if name == "RATE_PER_SECOND" and value in ("-1", "1e300"):
        return  # a rate is a number, not a duration: -1 is refused below, 1e300 is just fast
    with pytest.raises(UsageError):
        VerifierConfig.from_env({f"VCRED_VERIFIER_{name}": value})
    result = CliRunner().invoke(
        main,
        ["serve", "verifier", "--data-dir", str(tmp_path)],
        env={f"VCRED_VERIFIER_{name}": value},
    )
    assert result.exit_code == 2, result.output
    assert len(result.output.strip().splitlines()) == 1 and "Traceback" not in result.output


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("STATUS_TTL", "1e400"),
        ("STATUS_TTL", "nan"),
        ("STATUS_TTL", "1e12"),
        ("RATE_PER_SECOND", "inf"),
    ],
)
def test_an_issuer_variable_out_of_range_is_refused(tmp_path: Any, name: str, value: str) -> None:
    env = {
        f"VCRED_ISSUER_{name}": value,
        "VCRED_ISSUER_PASSPHRASE": "p",
        "VCRED_ISSUER_DATA_DIR": str(tmp_path),
    }
    with pytest.raises(UsageError):
        IssuerConfig.from_env(env)


@pytest.mark.parametrize(
    "options",
    [
        {"clock_skew": timedelta(days=3_650_000)},  # year 1 minus it: OverflowError
        {"clock_skew": timedelta(seconds=-1)},
        {"key_binding_max_age": timedelta(days=3_650_000)},
        {"key_binding_max_age": timedelta(0)},
    ],
)
def test_a_verifier_tolerance_past_any_date_is_refused(options: dict[str, Any]) -> None:
    with pytest.raises(UsageError):
        Verifier(**options)
