"""SD-JWT (RFC 9901) and application/vc+sd-jwt: issuing, presenting, verifying, every attack."""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import json
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import NOW, billing_attestation, credential
from vcred import Verifier, issue, jose, model, present, sdjwt
from vcred.did import did_jwk, did_key
from vcred.did.key import did_key_method_id
from vcred.errors import (
    DigestMismatchError,
    MalformedError,
    ParsingError,
    UsageError,
    VcredError,
)
from vcred.issuing import signer_for
from vcred.keys import KeyPair
from vcred.multibase import b64url_decode, b64url_encode
from vcred.sdjwt import SdJwtParts

AT = Verifier(clock=lambda: NOW)
AMOUNTS = ("totalAmount", "unitPrice", "amount")


@pytest.fixture(scope="module")
def agency() -> KeyPair:
    return KeyPair.generate("ed25519")


@pytest.fixture(scope="module")
def trader() -> KeyPair:
    return KeyPair.generate("p256")


@pytest.fixture(scope="module")
def issued(agency: KeyPair, trader: KeyPair) -> str:
    """An ExportBillingAttestation with the default disclosable amounts, bound to the trader."""
    return str(issue(billing_attestation(), agency, format="vc+sd-jwt", holder=trader.public))


def bind(
    sd_jwt: str,
    key: KeyPair,
    *,
    nonce: str = "n-1",
    aud: str = "customs.jp.example",
    iat: Any = None,
    sd_hash: str | None = None,
    typ: str = "kb+jwt",
    extra: dict[str, Any] | None = None,
) -> str:
    """A key-binding JWT made by hand, so each test changes exactly one thing."""
    payload = {
        "iat": int(NOW.timestamp()) if iat is None else iat,
        "aud": aud,
        "nonce": nonce,
        "sd_hash": sd_hash if sd_hash is not None else sdjwt.digest(sd_jwt),
        **(extra or {}),
    }
    return sd_jwt + jose.sign_compact(payload, signer_for(key), typ=typ)


def disclosure(*items: Any) -> tuple[str, str]:
    """An encoded disclosure and its digest."""
    encoded = b64url_encode(json.dumps(list(items)).encode())
    return encoded, sdjwt.digest(encoded)


def forge(
    payload: dict[str, Any],
    disclosures: list[str],
    key: KeyPair,
    *,
    typ: str = "vc+sd-jwt",
    cty: str | None = "vc",
) -> str:
    """An issuer-signed SD-JWT with a payload made by hand (validly signed by ``key``)."""
    jwt = jose.sign_compact(payload, signer_for(key), typ=typ, cty=cty)
    return str(SdJwtParts(jwt=jwt, disclosures=tuple(disclosures)))


def signed_payload(key: KeyPair, subject: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return credential(issuer=did_key(key.public), credentialSubject=subject, **extra)


def payload_of(sd_jwt: str) -> dict[str, Any]:
    return jose.unverified_payload(sdjwt.parse(sd_jwt).jwt)


def walk_keys(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in walk_keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in walk_keys(v)}
    return set()


def subject_of(result: Any) -> dict[str, Any]:
    return dict(result.credential["credentialSubject"])


# -- issuing -------------------------------------------------------------------------------------


def test_issued_sd_jwt_has_the_vc_jose_cose_header(agency: KeyPair, issued: str) -> None:
    header = jose.unverified_header(sdjwt.parse(issued).jwt)
    assert header == {
        "alg": "EdDSA",
        "kid": did_key_method_id(agency.public),
        "typ": "vc+sd-jwt",
        "cty": "vc",
    }


def test_payload_hides_amounts_behind_sorted_digests_with_decoys(
    issued: str, trader: KeyPair
) -> None:
    payload = payload_of(issued)
    parts = sdjwt.parse(issued)
    assert payload["_sd_alg"] == "sha-256"
    assert payload["cnf"] == {"jwk": trader.public.jwk()}
    assert not walk_keys(payload) & set(AMOUNTS)
    invoice = payload["credentialSubject"]["invoice"]
    assert invoice["_sd"] == sorted(invoice["_sd"])
    assert len(invoice["_sd"]) >= 2  # the total and at least one decoy
    real = {d.digest for d in map(sdjwt.decode_disclosure, parts.disclosures)}
    all_digests = [d for item in payload["credentialSubject"]["lineItems"] for d in item["_sd"]]
    # decoys besides 2 × 3 real (description, unit price, amount)
    assert len(all_digests) > len(real & set(all_digests)) == 6
    # those, the total and the consignee
    assert len(parts.disclosures) == 8 and parts.kb_jwt is None


def test_salts_are_random_128_bit_strings(issued: str) -> None:
    salts = [sdjwt.decode_disclosure(d).salt for d in sdjwt.parse(issued).disclosures]
    assert len(set(salts)) == len(salts)
    assert all(len(b64url_decode(s)) == 16 for s in salts)


def test_export_billing_amounts_are_disclosable_by_default(issued: str) -> None:
    assert sorted(sdjwt.unverified_disclosable(issued)) == [
        "/credentialSubject/consignee",
        "/credentialSubject/invoice/totalAmount",
        "/credentialSubject/lineItems/0/amount",
        "/credentialSubject/lineItems/0/description",
        "/credentialSubject/lineItems/0/unitPrice",
        "/credentialSubject/lineItems/1/amount",
        "/credentialSubject/lineItems/1/description",
        "/credentialSubject/lineItems/1/unitPrice",
    ]


def test_unverified_claims_read_back_every_disclosure(issued: str) -> None:
    claims = sdjwt.unverified_claims(issued)
    expected = billing_attestation()["credentialSubject"]
    assert claims["credentialSubject"]["invoice"] == expected["invoice"]
    assert claims["credentialSubject"]["lineItems"] == expected["lineItems"]
    assert "_sd" not in json.dumps(claims)
    head, _, rest = issued.partition("~")
    forged = b64url_encode(json.dumps(["c2FsdA", "x", 1]).encode())
    with pytest.raises(DigestMismatchError):  # a disclosure the issuer never made
        sdjwt.unverified_claims(f"{head}~{forged}~{rest}")


def test_other_credentials_have_nothing_disclosable_by_default(agency: KeyPair) -> None:
    token = str(issue(credential(), agency, format="vc+sd-jwt"))
    assert token.endswith("~") and token.count("~") == 1
    assert sdjwt.unverified_disclosable(token) == []


def test_registered_defaults_apply_to_their_type(agency: KeyPair) -> None:
    sdjwt.register_default_disclosable("ExampleNameCredential", ["$.credentialSubject.name"])
    try:
        document = credential(type=["VerifiableCredential", "ExampleNameCredential"])
        token = str(issue(document, agency, format="vc+sd-jwt"))
        assert sdjwt.unverified_disclosable(token) == ["/credentialSubject/name"]
    finally:
        del sdjwt.DEFAULT_DISCLOSABLE["ExampleNameCredential"]


@pytest.mark.parametrize(
    "paths",
    [
        ["/credentialSubject/lineItems/*/hsCode", "/credentialSubject/exporter/legalName"],
        ["$.credentialSubject.lineItems[*].hsCode", "$['credentialSubject'].exporter.legalName"],
    ],
)
def test_pointer_and_jsonpath_name_the_same_claims(agency: KeyPair, paths: list[str]) -> None:
    token = str(issue(billing_attestation(), agency, format="sd-jwt", disclosable=paths))
    assert sorted(sdjwt.unverified_disclosable(token)) == [
        "/credentialSubject/exporter/legalName",
        "/credentialSubject/lineItems/0/hsCode",
        "/credentialSubject/lineItems/1/hsCode",
    ]


@pytest.mark.parametrize(
    "path",
    [
        "",
        "/validUntil",
        "/validFrom",
        "/issuer",
        "/type/1",
        "/@context",
        "/credentialSubject",
        "/credentialStatus",
        "/credentialSchema/id",
    ],
)
def test_claims_needed_for_validation_cannot_be_disclosable(agency: KeyPair, path: str) -> None:
    document = credential(
        credentialStatus={"type": "BitstringStatusListEntry"},
        credentialSchema={"id": "https://vcred.dev/schemas/x.json", "type": "JsonSchema"},
    )
    with pytest.raises(UsageError):
        issue(document, agency, format="vc+sd-jwt", disclosable=[path])


@pytest.mark.parametrize(
    "path", ["/credentialSubject/nothing", "/credentialSubject/*", "credentialSubject", "$..name"]
)
def test_paths_naming_nothing_are_usage_errors(agency: KeyPair, path: str) -> None:
    with pytest.raises(UsageError):
        issue(credential(), agency, format="vc+sd-jwt", disclosable=[path])


@pytest.mark.parametrize("name", ["_sd", "..."])
def test_reserved_names_in_the_credential_are_refused(agency: KeyPair, name: str) -> None:
    document = credential(credentialSubject={"id": "did:example:trader", name: ["x"]})
    with pytest.raises(UsageError, match="reserved"):
        issue(document, agency, format="vc+sd-jwt")


def test_holder_given_as_a_did_is_named_in_cnf(agency: KeyPair, trader: KeyPair) -> None:
    token = str(issue(credential(), agency, format="vc+sd-jwt", holder=did_key(trader.public)))
    assert payload_of(token)["cnf"] == {
        "jwk": {**trader.public.jwk(), "kid": did_key_method_id(trader.public)}
    }


def test_nested_disclosures_come_with_the_ones_containing_them(
    agency: KeyPair, trader: KeyPair
) -> None:
    paths = ["/credentialSubject/invoice", "/credentialSubject/invoice/totalAmount"]
    token = str(
        issue(billing_attestation(), agency, format="vc+sd-jwt", disclosable=paths, holder=trader)
    )
    only_total = sdjwt.present(
        token,
        trader,
        disclose=["/credentialSubject/invoice/totalAmount"],
        nonce="n",
        aud="a",
        now=NOW,
    )
    result = AT.verify_presentation(only_total, challenge="n", domain="a")
    assert result.verified, result.errors
    assert result.credentials[0].disclosed == (
        "/credentialSubject/invoice",
        "/credentialSubject/invoice/totalAmount",
    )
    nothing = sdjwt.present(token, trader, nonce="n", aud="a", now=NOW)
    hidden = AT.verify_presentation(nothing, challenge="n", domain="a").credentials[0]
    assert "invoice" not in subject_of(hidden)
    whole = sdjwt.present(
        token, trader, disclose=["/credentialSubject/invoice"], nonce="n", aud="a", now=NOW
    )
    shown = AT.verify_presentation(whole, challenge="n", domain="a").credentials[0]
    assert subject_of(shown)["invoice"] == billing_attestation()["credentialSubject"]["invoice"]


def test_array_elements_are_disclosable(agency: KeyPair, trader: KeyPair) -> None:
    token = str(
        issue(
            billing_attestation(),
            agency,
            format="vc+sd-jwt",
            disclosable=["/credentialSubject/lineItems/1"],
            holder=trader,
        )
    )
    items = billing_attestation()["credentialSubject"]["lineItems"]
    without = sdjwt.present(token, trader, nonce="n", aud="a", now=NOW)
    assert subject_of(AT.verify(without))["lineItems"] == items[:1]
    with_it = sdjwt.present(
        token, trader, disclose=["/credentialSubject/lineItems/1"], nonce="n", aud="a", now=NOW
    )
    result = AT.verify(with_it)
    assert subject_of(result)["lineItems"] == items
    assert result.disclosed == ("/credentialSubject/lineItems/1",)


# -- the "done when" scenario --------------------------------------------------------------------


def test_holder_reveals_declaration_and_hs_codes_but_no_amounts(
    issued: str, trader: KeyPair
) -> None:
    presented = sdjwt.present(
        issued,
        trader,
        disclose=["/credentialSubject/exportDeclaration", "/credentialSubject/lineItems/*/hsCode"],
        nonce="c-42",
        aud="customs.jp.example",
        now=NOW,
    )
    result = AT.verify_presentation(presented, challenge="c-42", domain="customs.jp.example")
    assert result.verified, result.errors
    (vc,) = result.credentials
    subject = subject_of(vc)
    assert subject["exportDeclaration"] == {"scheme": "MRN", "value": "26DE5B7C3A1F9E2D06"}
    assert [item["hsCode"] for item in subject["lineItems"]] == ["847130", "852852"]
    assert not walk_keys(vc.credential) & {*AMOUNTS, "_sd", "_sd_alg", "...", "cnf"}
    assert vc.disclosed == ()
    expected = billing_attestation()["credentialSubject"]
    del expected["invoice"]["totalAmount"], expected["consignee"]
    for item in expected["lineItems"]:
        del item["unitPrice"], item["amount"], item["description"]
    assert subject == expected  # exactly the always-visible claims, nothing else


def test_only_the_chosen_disclosures_are_revealed(agency: KeyPair, trader: KeyPair) -> None:
    token = str(
        issue(
            billing_attestation(),
            agency,
            format="vc+sd-jwt",
            disclosable=[
                "/credentialSubject/exportDeclaration",
                "/credentialSubject/lineItems/*/hsCode",
                "/credentialSubject/lineItems/*/unitPrice",
                "/credentialSubject/invoice/totalAmount",
            ],
            holder=trader,
        )
    )
    presented = sdjwt.present(
        token,
        trader,
        disclose=[
            "/credentialSubject/exportDeclaration",
            "$.credentialSubject.lineItems[*].hsCode",
        ],
        nonce="c",
        aud="a",
        now=NOW,
    )
    vc = AT.verify_presentation(presented, challenge="c", domain="a").credentials[0]
    assert vc.verified, vc.errors
    assert sorted(vc.disclosed) == [
        "/credentialSubject/exportDeclaration",
        "/credentialSubject/lineItems/0/hsCode",
        "/credentialSubject/lineItems/1/hsCode",
    ]
    assert "totalAmount" not in subject_of(vc)["invoice"]
    assert all("unitPrice" not in item for item in subject_of(vc)["lineItems"])


def test_altered_or_added_disclosure_fails_the_scenario(issued: str, trader: KeyPair) -> None:
    presented = sdjwt.present(
        issued,
        trader,
        disclose=["/credentialSubject/lineItems/0/unitPrice"],
        nonce="c",
        aud="a",
        now=NOW,
    )
    parts = sdjwt.parse(presented)
    original = sdjwt.decode_disclosure(parts.disclosures[0])
    altered = disclosure(original.salt, original.name, "1.00")[0]
    tampered = bind(str(SdJwtParts(parts.jwt, (altered,))), trader, nonce="c", aud="a")
    assert "DIGEST_MISMATCH" in AT.verify_presentation(tampered, challenge="c", domain="a").codes
    extra = next(d for d in sdjwt.parse(issued).disclosures if d not in parts.disclosures)
    added = str(SdJwtParts(parts.jwt, (*parts.disclosures, extra), parts.kb_jwt))
    result = AT.verify_presentation(added, challenge="c", domain="a")
    assert not result.verified
    assert any(p.code == "DIGEST_MISMATCH" and p.path == "/kb/sd_hash" for p in result.errors)


# -- verifying -----------------------------------------------------------------------------------


def test_issued_sd_jwt_verifies_with_every_claim(agency: KeyPair, issued: str) -> None:
    result = AT.verify(issued)
    assert result.verified, result.errors
    assert result.format == "vc+sd-jwt"
    assert result.issuer == did_key(agency.public)
    expected = billing_attestation(issuer=did_key(agency.public))
    # the issuer stamps iat, the signing time a key's `revoked` is compared with
    assert isinstance(result.credential, dict) and isinstance(result.credential["iat"], int)
    assert {k: v for k, v in result.credential.items() if k != "iat"} == expected
    assert len(result.disclosed) == 8
    assert result.to_dict()["disclosed"] == list(result.disclosed)


def test_enveloped_sd_jwt_verifies(issued: str) -> None:
    envelope = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": "EnvelopedVerifiableCredential",
        "id": f"data:application/vc+sd-jwt,{issued}",
    }
    assert AT.verify(envelope).verified


def test_sd_jwt_inside_a_vp_jwt(issued: str, trader: KeyPair) -> None:
    nothing_disclosed = sdjwt.parse(issued).jwt + "~"
    vp = present([nothing_disclosed], trader, challenge="c", now=NOW)
    result = AT.verify_presentation(vp, challenge="c")
    assert result.verified, result.errors
    assert not walk_keys(result.credentials[0].credential) & set(AMOUNTS)


def test_tampered_issuer_signature_is_rejected(issued: str) -> None:
    jwt, rest = issued.split("~", 1)
    tampered = jwt[:-6] + ("A" if jwt[-6] != "A" else "B") + jwt[-5:] + "~" + rest
    result = AT.verify(tampered)
    assert result.codes == ("INVALID_SIGNATURE",)
    assert result.credential is None  # nothing unsigned, disclosed or not, is returned


def test_kid_of_another_did_is_rejected(agency: KeyPair) -> None:
    attacker = KeyPair.generate()
    payload = {**signed_payload(agency, {"id": "did:example:x"}), "_sd_alg": "sha-256"}
    token = forge(payload, [], attacker)
    assert "UNKNOWN_KEY" in AT.verify(token).codes


def test_missing_sd_alg_means_sha_256(agency: KeyPair) -> None:
    encoded, digest = disclosure("c2FsdA", "name", "Harbour Lights")
    token = forge(
        signed_payload(agency, {"id": "did:example:x", "_sd": [digest]}), [encoded], agency
    )
    result = AT.verify(token)
    assert result.verified, result.errors
    assert result.credential is not None
    assert result.credential["credentialSubject"]["name"] == "Harbour Lights"


# -- attacks, each pinned ------------------------------------------------------------------------


def test_altered_disclosure_is_rejected(issued: str) -> None:
    parts = sdjwt.parse(issued)
    original = sdjwt.decode_disclosure(parts.disclosures[2])
    items = [original.salt, original.name, "0.01"] if original.name else [original.salt, "0.01"]
    altered = list(parts.disclosures)
    altered[2] = disclosure(*items)[0]
    result = AT.verify(str(SdJwtParts(parts.jwt, tuple(altered))))
    assert result.codes == ("DIGEST_MISMATCH",)
    assert result.errors[0].path == "/disclosures/2"


def test_disclosure_for_a_claim_never_disclosable_is_rejected(issued: str) -> None:
    parts = sdjwt.parse(issued)
    invented = disclosure("bmV3IHNhbHQ", "exportDeclaration", {"scheme": "MRN", "value": "X"})[0]
    with pytest.raises(DigestMismatchError, match="matches no digest"):
        sdjwt.verify(
            str(SdJwtParts(parts.jwt, (*parts.disclosures, invented))), lookup=AT.method_lookup
        )


def test_duplicate_digests_are_rejected(agency: KeyPair) -> None:
    encoded, digest = disclosure("c2FsdA", "name", "A")
    twice = forge(signed_payload(agency, {"_sd": [digest, digest]}), [encoded], agency)
    assert AT.verify(twice).codes == ("MALFORMED",)
    decoy = sdjwt.digest("decoy")
    nested = {"_sd": [decoy], "address": {"_sd": [decoy]}}
    assert "MALFORMED" in AT.verify(forge(signed_payload(agency, nested), [], agency)).codes


def test_digest_repeated_inside_a_disclosure_is_rejected(agency: KeyPair) -> None:
    inner, inner_digest = disclosure("c2FsdDE", "street", "Kai 1")
    outer, outer_digest = disclosure("c2FsdDI", "address", {"_sd": [inner_digest]})
    payload = signed_payload(agency, {"_sd": [outer_digest], "other": {"_sd": [inner_digest]}})
    with pytest.raises(MalformedError, match="more than once"):
        sdjwt.verify(forge(payload, [outer, inner], agency), lookup=AT.method_lookup)


def test_the_same_disclosure_twice_is_rejected(issued: str) -> None:
    parts = sdjwt.parse(issued)
    twice = str(SdJwtParts(parts.jwt, (*parts.disclosures, parts.disclosures[0])))
    assert AT.verify(twice).codes == ("MALFORMED",)


def test_replayed_key_binding_with_an_old_nonce_is_rejected(issued: str, trader: KeyPair) -> None:
    old = sdjwt.present(issued, trader, nonce="c-yesterday", aud="customs.jp.example", now=NOW)
    result = AT.verify_presentation(old, challenge="c-today", domain="customs.jp.example")
    assert result.codes == ("INVALID_CHALLENGE",)
    assert result.check("challenge").passed is False


def test_key_binding_for_another_audience_is_rejected(issued: str, trader: KeyPair) -> None:
    token = sdjwt.present(issued, trader, nonce="c", aud="customs.us.example", now=NOW)
    assert AT.verify_presentation(token, challenge="c", domain="customs.jp.example").codes == (
        "INVALID_DOMAIN",
    )


@pytest.mark.parametrize("change", ["remove", "add", "reorder"])
def test_sd_hash_binds_the_presented_disclosures(issued: str, trader: KeyPair, change: str) -> None:
    presented = sdjwt.present(
        issued,
        trader,
        disclose=[
            "/credentialSubject/lineItems/0/unitPrice",
            "/credentialSubject/lineItems/0/amount",
        ],
        nonce="c",
        aud="a",
        now=NOW,
    )
    parts = sdjwt.parse(presented)
    disclosures = {
        "remove": parts.disclosures[:1],
        "add": (
            *parts.disclosures,
            next(d for d in sdjwt.parse(issued).disclosures if d not in parts.disclosures),
        ),
        "reorder": parts.disclosures[::-1],
    }[change]
    result = AT.verify_presentation(
        str(SdJwtParts(parts.jwt, disclosures, parts.kb_jwt)), challenge="c", domain="a"
    )
    # a proof that fails binds to no challenge either: those checks fail too, after it
    assert result.errors[0].code == "DIGEST_MISMATCH"
    assert result.errors[0].path == "/kb/sd_hash"


def test_presentation_without_key_binding_fails_where_required(issued: str) -> None:
    result = AT.verify_presentation(issued)
    assert result.codes == ("INVALID_PRESENTATION",)
    relaxed = dataclasses.replace(AT, require_key_binding=False)
    # without a key binding nobody presented it: a billing attestation is never a bearer one
    assert relaxed.verify_presentation(issued).codes == ("HOLDER_MISMATCH",)
    assert relaxed.verify_presentation(issued, challenge="c").codes == (
        "INVALID_CHALLENGE",
        "HOLDER_MISMATCH",
    )


@pytest.mark.parametrize("alg", ["sha-512", "SHA-256", "sha256", "md5", 256, None])
def test_sd_alg_other_than_sha_256_is_rejected(agency: KeyPair, alg: Any) -> None:
    payload = {**signed_payload(agency, {"id": "did:example:x"}), "_sd_alg": alg}
    assert AT.verify(forge(payload, [], agency)).codes == ("UNSUPPORTED",)


def test_disclosure_that_would_overwrite_a_claim_is_rejected(agency: KeyPair) -> None:
    encoded, digest = disclosure("c2FsdA", "name", "Someone Else Ltd")
    payload = signed_payload(agency, {"name": "Harbour Lights", "_sd": [digest]})
    with pytest.raises(MalformedError, match="overwrite"):
        sdjwt.verify(forge(payload, [encoded], agency), lookup=AT.method_lookup)


def test_two_disclosures_of_one_name_are_rejected(agency: KeyPair) -> None:
    first, first_digest = disclosure("c2FsdDE", "name", "A")
    second, second_digest = disclosure("c2FsdDI", "name", "B")
    payload = signed_payload(agency, {"id": "did:example:x", "_sd": [first_digest, second_digest]})
    assert AT.verify(forge(payload, [first, second], agency)).codes == ("MALFORMED",)


@pytest.mark.parametrize("name", ["_sd", "..."])
def test_reserved_names_cannot_be_disclosed(agency: KeyPair, name: str) -> None:
    encoded, digest = disclosure("c2FsdA", name, ["x"])
    token = forge(
        signed_payload(agency, {"id": "did:example:x", "_sd": [digest]}), [encoded], agency
    )
    result = AT.verify(token)
    assert result.codes == ("MALFORMED",)
    assert result.errors[0].path == "/disclosures/0/1"


@pytest.mark.parametrize(
    ("subject", "fragment"),
    [
        ({"...": sdjwt.digest("x")}, "reserved"),
        ({"items": [{"...": sdjwt.digest("x"), "extra": 1}]}, "single key"),
        ({"_sd": sdjwt.digest("x")}, "array of digests"),
        ({"_sd": [42]}, "digest"),
        ({"_sd": ["not a digest"]}, "digest"),
    ],
)
def test_malformed_digest_structures_are_rejected(
    agency: KeyPair, subject: dict[str, Any], fragment: str
) -> None:
    with pytest.raises(MalformedError, match=fragment):
        sdjwt.verify(forge(signed_payload(agency, subject), [], agency), lookup=AT.method_lookup)


def test_property_disclosure_in_an_array_and_element_disclosure_in_sd_are_rejected(
    agency: KeyPair,
) -> None:
    prop, prop_digest = disclosure("c2FsdA", "name", "A")
    element, element_digest = disclosure("c2FsdA", "A")
    in_array = signed_payload(agency, {"names": [{"...": prop_digest}]})
    with pytest.raises(MalformedError, match="array element disclosure"):
        sdjwt.verify(forge(in_array, [prop], agency), lookup=AT.method_lookup)
    in_object = signed_payload(agency, {"_sd": [element_digest]})
    with pytest.raises(MalformedError, match="object property disclosure"):
        sdjwt.verify(forge(in_object, [element], agency), lookup=AT.method_lookup)


def test_an_issuer_hiding_a_validity_claim_is_rejected(agency: KeyPair) -> None:
    encoded, digest = disclosure("c2FsdA", "validUntil", "2099-01-01T00:00:00Z")
    payload = signed_payload(agency, {"id": "did:example:x"})
    del payload["validUntil"]
    payload["_sd"] = [digest]
    result = AT.verify(forge(payload, [encoded], agency))
    assert "MALFORMED" in result.codes
    assert any(p.path == "/validUntil" for p in result.errors)


@pytest.mark.parametrize(
    ("minutes", "code"), [(-7, "EXPIRED"), (-60 * 24, "EXPIRED"), (2, "NOT_YET_VALID")]
)
def test_stale_or_future_key_binding_is_rejected(
    issued: str, trader: KeyPair, minutes: int, code: str
) -> None:
    token = sdjwt.present(issued, trader, nonce="c", aud="a", now=NOW + timedelta(minutes=minutes))
    result = AT.verify_presentation(token, challenge="c", domain="a")
    assert result.codes == (code,)
    assert result.errors[0].path == "/kb/iat"


def test_key_binding_window_is_configurable(issued: str, trader: KeyPair) -> None:
    token = sdjwt.present(issued, trader, nonce="c", aud="a", now=NOW - timedelta(minutes=20))
    patient = dataclasses.replace(AT, key_binding_max_age=timedelta(hours=1))
    assert patient.verify_presentation(token, challenge="c", domain="a").verified


def test_key_binding_signed_by_a_key_other_than_cnf_is_rejected(issued: str) -> None:
    thief = KeyPair.generate("p256")
    token = bind(issued, thief)
    result = AT.verify_presentation(token, challenge="n-1", domain="customs.jp.example")
    assert "INVALID_SIGNATURE" in result.codes
    assert result.errors[0].path == "/kb/signature"


def test_holder_cannot_bind_with_another_key(issued: str) -> None:
    with pytest.raises(UsageError, match="cnf"):
        sdjwt.present(issued, KeyPair.generate("p256"), nonce="c", aud="a", now=NOW)


@pytest.mark.parametrize("typ", ["JWT", "vc+sd-jwt", "vp+jwt", "kb+JWT", None])
def test_key_binding_jwt_with_another_typ_is_rejected(
    issued: str, trader: KeyPair, typ: str | None
) -> None:
    parts = sdjwt.parse(issued)
    payload = {
        "iat": int(NOW.timestamp()),
        "aud": "a",
        "nonce": "c",
        "sd_hash": sdjwt.digest(parts.sd_jwt),
    }
    header = {"alg": "ES256", "typ": typ} if typ else {"alg": "ES256"}
    signing_input = (
        b64url_encode(json.dumps(header).encode())
        + "."
        + b64url_encode(json.dumps(payload).encode())
    )
    kb = signing_input + "." + b64url_encode(trader.sign(signing_input.encode()))
    result = AT.verify_presentation(parts.sd_jwt + kb, challenge="c", domain="a")
    assert "MALFORMED" in result.codes
    assert any(p.path == "/kb/header/typ" for p in result.errors)


@pytest.mark.parametrize("missing", ["nonce", "aud", "iat", "sd_hash"])
def test_key_binding_jwt_needs_every_claim(issued: str, trader: KeyPair, missing: str) -> None:
    token = bind(issued, trader)
    parts = sdjwt.parse(token)
    claims = jose.unverified_payload(str(parts.kb_jwt))
    del claims[missing]
    forged = parts.sd_jwt + jose.sign_compact(claims, signer_for(trader), typ="kb+jwt")
    with pytest.raises(MalformedError, match=missing):
        sdjwt.verify(forged, lookup=AT.method_lookup)


def test_key_binding_without_a_cnf_key_is_rejected(agency: KeyPair, trader: KeyPair) -> None:
    unbound = str(issue(credential(), agency, format="vc+sd-jwt"))
    with pytest.raises(UsageError, match="no cnf"):
        sdjwt.present(unbound, trader, nonce="c", aud="a", now=NOW)
    result = AT.verify_presentation(
        bind(unbound, trader, nonce="c", aud="a"), challenge="c", domain="a"
    )
    assert "INVALID_PRESENTATION" in result.codes


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        ("!!not-base64!!", ParsingError),
        (base64.urlsafe_b64encode(b'["c2FsdA","name","AB"]').decode(), ParsingError),  # padded
        (b64url_encode(b"not json"), ParsingError),
        (b64url_encode(b'{"salt": "s", "name": "n"}'), MalformedError),
        (b64url_encode(b'["only salt"]'), MalformedError),
        (b64url_encode(b'["s", "n", "v", "extra"]'), MalformedError),
        (b64url_encode(b'[1, "n", "v"]'), MalformedError),
        (b64url_encode(b'["s", 2, "v"]'), MalformedError),
        (b64url_encode(b'["s", "n", "v", "n", "v"]'), MalformedError),
        (b64url_encode(b'["s", "n", {"a": 1, "a": 2}]'), ParsingError),
    ],
)
def test_malformed_disclosures_are_rejected(issued: str, raw: str, error: type[VcredError]) -> None:
    with pytest.raises(error):
        sdjwt.decode_disclosure(raw)
    parts = sdjwt.parse(issued)
    result = AT.verify(str(SdJwtParts(parts.jwt, (*parts.disclosures, raw))))
    assert result.codes == (error.code,)
    # the malformed one comes after the issued eight
    assert result.errors[0].path is not None and result.errors[0].path.startswith("/disclosures/8")


@pytest.mark.parametrize("token_suffix", ["~~", "~a.b~", "~a.b.c.d"])
def test_malformed_sd_jwt_serialisations_are_rejected(issued: str, token_suffix: str) -> None:
    with pytest.raises(ParsingError):
        sdjwt.parse(issued + token_suffix)


# -- typ confusion -------------------------------------------------------------------------------


def test_sd_jwt_where_vc_jwt_is_expected_is_rejected(issued: str) -> None:
    result = AT.verify(sdjwt.parse(issued).jwt)  # the issuer-signed JWT alone looks like vc+jwt
    assert result.format == "vc+jwt"
    assert result.codes == ("MALFORMED",) and result.errors[0].path == "/header/typ"


def test_vc_jwt_where_sd_jwt_is_expected_is_rejected(agency: KeyPair) -> None:
    token = str(issue(credential(), agency)) + "~"
    result = AT.verify(token)
    assert result.format == "vc+sd-jwt"
    assert result.codes == ("MALFORMED",) and result.errors[0].path == "/header/typ"


def test_vp_jwt_or_kb_jwt_as_issuer_jwt_is_rejected(agency: KeyPair) -> None:
    payload = {**signed_payload(agency, {"id": "did:example:x"}), "_sd_alg": "sha-256"}
    for typ in ("vp+jwt", "kb+jwt", "JWT", "vc+jwt"):
        assert AT.verify(forge(payload, [], agency, typ=typ, cty=None)).codes == ("MALFORMED",)


def test_sd_jwt_presented_as_vp_jwt_is_not_a_presentation(issued: str) -> None:
    result = AT.verify_presentation(sdjwt.parse(issued).jwt)
    assert result.format == "vp+jwt" and "MALFORMED" in result.codes


# -- holders -------------------------------------------------------------------------------------


def test_presentation_holder_is_the_did_named_in_cnf(agency: KeyPair, trader: KeyPair) -> None:
    trader_did = did_key(trader.public)
    document = credential(credentialSubject={"id": trader_did, "name": "Harbour Lights"})
    token = str(issue(document, agency, format="vc+sd-jwt", holder=trader_did))
    result = AT.verify_presentation(
        sdjwt.present(token, signer_for(trader), nonce="c", aud="a", now=NOW),
        challenge="c",
        domain="a",
    )
    assert result.verified, result.errors
    assert result.holder == trader_did
    assert result.check("holder").passed is True


def test_presentation_holder_is_the_subject_when_it_is_the_cnf_key(
    agency: KeyPair, trader: KeyPair
) -> None:
    trader_did = did_jwk(trader.public)
    document = credential(credentialSubject={"id": trader_did})
    token = str(issue(document, agency, format="vc+sd-jwt", holder=trader.public))
    result = AT.verify_presentation(
        sdjwt.present(token, trader, nonce="c", aud="a", now=NOW), challenge="c", domain="a"
    )
    assert result.verified and result.holder == trader_did


def test_credential_about_someone_else_fails_the_holder_check(
    agency: KeyPair, trader: KeyPair
) -> None:
    document = credential(credentialSubject={"id": did_key(KeyPair.generate().public)})
    token = str(issue(document, agency, format="vc+sd-jwt", holder=trader.public))
    result = AT.verify_presentation(
        sdjwt.present(token, trader, nonce="c", aud="a", now=NOW), challenge="c", domain="a"
    )
    assert result.check("holder").passed is False


def test_cnf_kid_naming_another_did_is_rejected(agency: KeyPair, trader: KeyPair) -> None:
    other = KeyPair.generate()
    payload = {
        **signed_payload(agency, {"id": "did:example:x"}),
        "_sd_alg": "sha-256",
        "cnf": {"jwk": {**trader.public.jwk(), "kid": did_key_method_id(other.public)}},
    }
    token = bind(forge(payload, [], agency), trader, nonce="c", aud="a")
    result = AT.verify_presentation(token, challenge="c", domain="a")
    assert "INVALID_PRESENTATION" in result.codes


def test_credential_verification_checks_a_key_binding_integrity(
    issued: str, trader: KeyPair
) -> None:
    token = sdjwt.present(issued, trader, nonce="c", aud="a", now=NOW - timedelta(days=30))
    assert AT.verify(token).verified  # a credential check: the binding is intact, age is not asked
    assert AT.verify(token[:-4] + ("AAAA" if token[-4:] != "AAAA" else "BBBB")).codes == (
        "INVALID_SIGNATURE",
    )


def test_check_key_binding_for_library_users(issued: str, trader: KeyPair) -> None:
    verified = sdjwt.verify(
        sdjwt.present(issued, trader, nonce="c", aud="a", now=NOW), lookup=AT.method_lookup
    )
    assert verified.key_binding is not None
    sdjwt.check_key_binding(verified.key_binding, now=NOW, nonce="c", aud="a")
    with pytest.raises(VcredError) as failure:
        sdjwt.check_key_binding(verified.key_binding, now=NOW, nonce="other")
    assert failure.value.code == "INVALID_CHALLENGE"


# -- IETF SD-JWT VC (dc+sd-jwt): verified, not issued ----------------------------------------------


def sd_jwt_vc(key: KeyPair, holder: KeyPair, **claims: Any) -> str:
    encoded, digest = disclosure("c2FsdA", "given_name", "Aiko")
    payload = {
        "iss": did_key(key.public),
        "vct": "https://credentials.example/identity_credential",
        "iat": int(NOW.timestamp()) - 60,
        "exp": int(NOW.timestamp()) + 3600,
        "cnf": {"jwk": holder.public.jwk()},
        "_sd_alg": "sha-256",
        "_sd": [digest, sdjwt.digest("decoy")],
        **claims,
    }
    payload = {k: v for k, v in payload.items() if v is not None}
    jwt = jose.sign_compact(payload, signer_for(key), typ="dc+sd-jwt")
    return str(SdJwtParts(jwt, (encoded,)))


def test_sd_jwt_vc_is_verified(agency: KeyPair, trader: KeyPair) -> None:
    result = AT.verify(sd_jwt_vc(agency, trader))
    assert result.verified, result.errors
    assert result.format == "dc+sd-jwt"
    assert result.issuer == did_key(agency.public)
    assert result.credential is not None and result.credential["given_name"] == "Aiko"
    assert "structure" not in {c.name for c in result.checks}


def test_sd_jwt_vc_presentation(agency: KeyPair, trader: KeyPair) -> None:
    token = sdjwt.present(
        sd_jwt_vc(agency, trader), trader, disclose=["/given_name"], nonce="c", aud="a", now=NOW
    )
    result = AT.verify_presentation(token, challenge="c", domain="a")
    assert result.verified, result.errors
    assert result.credentials[0].format == "dc+sd-jwt"


@pytest.mark.parametrize(
    ("claims", "code"),
    [
        ({"vct": None}, "MALFORMED"),
        ({"iss": "https://issuer.example"}, "UNKNOWN_KEY"),
        ({"exp": int(NOW.timestamp()) - 3600}, "EXPIRED"),
        # a status the verifier cannot check is not passed over (it was a warning)
        ({"status": {"status_list": {"idx": 0, "uri": "https://x.example"}}}, "STATUS_UNAVAILABLE"),
    ],
)
def test_sd_jwt_vc_rules(
    agency: KeyPair, trader: KeyPair, claims: dict[str, Any], code: str
) -> None:
    result = AT.verify(sd_jwt_vc(agency, trader, **claims))
    assert code in result.codes


@pytest.mark.parametrize(
    ("name", "value", "code"),
    [
        ("validUntil", "2020-01-01T00:00:00Z", "EXPIRED"),
        ("validFrom", "2099-01-01T00:00:00Z", "NOT_YET_VALID"),
        ("credentialStatus", {"id": "https://x.example/s#1", "type": "X"}, "STATUS_UNAVAILABLE"),
    ],
)
def test_an_sd_jwt_vc_disclosing_a_claim_a_check_reads_is_refused(
    agency: KeyPair, trader: KeyPair, name: str, value: Any, code: str
) -> None:
    """The pipeline reads validFrom / validUntil, credentialStatus, credentialSchema, type and
    issuer in an SD-JWT VC as in any credential: made disclosable, the holder chooses whether
    a check sees them (withheld, the digest is a decoy to the verifier: an expired credential
    verified). Refused when shown, as for vc+sd-jwt (RFC 9901 §9.7), so no such issuance
    ever verifies."""
    encoded, digest = disclosure("c2FsdA", name, value)
    payload = {
        "iss": did_key(agency.public),
        "vct": "https://credentials.example/identity_credential",
        "iat": int(NOW.timestamp()) - 60,
        "_sd_alg": "sha-256",
        "_sd": [digest],
    }
    jwt = jose.sign_compact(payload, signer_for(agency), typ="dc+sd-jwt")
    assert AT.verify(str(SdJwtParts(jwt, ()))).verified  # withheld: nothing to see
    shown = AT.verify(str(SdJwtParts(jwt, (encoded,))))
    assert shown.codes == ("MALFORMED",) and shown.errors[0].path == f"/{name}"
    assert code not in shown.codes


@pytest.mark.parametrize("issuer", ["other", {"id": "other"}, ["other"], {"name": "Zoll"}])
def test_an_sd_jwt_vc_naming_an_issuer_other_than_iss_is_refused(
    agency: KeyPair, trader: KeyPair, issuer: Any
) -> None:
    """An SD-JWT VC is signed for its iss: an issuer claim naming anyone else is what the
    signer says of another party, and trust read it (an untrusted signer got trusted)."""
    other = did_key(KeyPair.generate("ed25519").public)
    named = json.loads(json.dumps(issuer).replace('"other"', json.dumps(other)))
    result = AT.verify(sd_jwt_vc(agency, trader, issuer=named))
    assert not result.verified
    assert result.codes == ("MALFORMED",) and result.errors[0].path == "/issuer"
    assert result.credential is None and result.issuer is None
    itself = did_key(agency.public)
    for same in (itself, {"id": itself, "name": "Zoll"}):
        assert AT.verify(sd_jwt_vc(agency, trader, issuer=same)).verified


# -- the parser against arbitrary input ----------------------------------------------------------

_TOKENISH = st.text(alphabet="AQgw_-~.eyJ9fQ", max_size=120)
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200) | _TOKENISH)
def test_arbitrary_strings_raise_only_vcred_errors(text: str) -> None:
    for call in (
        lambda: sdjwt.parse(text),
        lambda: sdjwt.decode_disclosure(text),
        lambda: sdjwt.verify(text, lookup=AT.method_lookup),
        lambda: sdjwt.unverified_disclosable(text),
    ):
        with contextlib.suppress(VcredError):
            call()
    assert AT.verify(text + "~").verified is False


@settings(max_examples=200, deadline=None)
@given(_JSON)
def test_arbitrary_json_disclosures_raise_only_vcred_errors(value: Any) -> None:
    encoded = b64url_encode(json.dumps(value).encode())
    try:
        decoded = sdjwt.decode_disclosure(encoded)
    except VcredError:
        return
    assert decoded.digest == sdjwt.digest(encoded)


@settings(max_examples=100, deadline=None)
@given(_JSON)
def test_arbitrary_payloads_raise_only_vcred_errors(value: Any) -> None:
    jwt = (
        ".".join(b64url_encode(json.dumps(x).encode()) for x in ({"alg": "EdDSA"}, {"a": value}))
        + ".AA"
    )
    with contextlib.suppress(VcredError):
        sdjwt.unverified_disclosable(jwt + "~")


def test_the_public_surface_offers_selective_disclosure() -> None:
    import vcred

    assert vcred.present_sd_jwt is sdjwt.present
    assert {"present_sd_jwt", "sdjwt"} <= set(vcred.__all__)
    assert vcred.__all__ == sorted(vcred.__all__)
    assert all(hasattr(sdjwt, name) for name in sdjwt.__all__)


@pytest.mark.parametrize("innermost", [{"x": "deep"}, {"x": 7}, {"x": None}, {}])
def test_claims_past_the_depth_limit_are_refused_whatever_the_innermost_object_holds(
    agency: KeyPair, innermost: dict[str, Any]
) -> None:
    """RFC 9901 §7.1 processing recurses: claims nest at most model.MAX_DEPTH levels, counted
    as model.check_depth counts (the payload is level 1); an empty innermost object counts
    (65 levels passed when it was empty: the limit counted values from 0)."""
    nested: Any = innermost  # the payload (1), "nested" (2) … innermost (MAX_DEPTH + 1)
    for _ in range(model.MAX_DEPTH - 1):
        nested = {"n": nested}
    payload = signed_payload(agency, {"id": "did:example:trader"}) | {"nested": nested}
    with pytest.raises(MalformedError, match="nested deeper than 64 levels") as caught:
        sdjwt.verify(forge(payload, [], agency), lookup=AT.method_lookup)
    assert caught.value.pointer == "/nested" + "/n" * (model.MAX_DEPTH - 1)
    within = signed_payload(agency, {"id": "did:example:trader"}) | {"nested": nested["n"]}
    verified = sdjwt.verify(forge(within, [], agency), lookup=AT.method_lookup)
    assert verified.claims["nested"] == nested["n"]


def test_a_disclosure_nesting_past_the_depth_limit_is_refused(agency: KeyPair) -> None:
    """Each part within the limit, the claims past it once disclosed: refused where the
    disclosure's value sits."""
    inner: Any = {}
    for _ in range(model.MAX_DEPTH - 1):
        inner = {"n": inner}  # MAX_DEPTH levels below the payload: one too many
    salt = "c2FsdHNhbHRzYWx0c2FsdA"
    encoded = b64url_encode(json.dumps([salt, "deep", inner]).encode())
    payload = signed_payload(agency, {"id": "did:example:trader"}) | {
        "_sd": [sdjwt.digest(encoded)]
    }
    with pytest.raises(MalformedError, match="nested deeper than 64 levels") as caught:
        sdjwt.verify(forge(payload, [encoded], agency), lookup=AT.method_lookup)
    assert caught.value.pointer == "/disclosures/0/2" + "/n" * (model.MAX_DEPTH - 1)
