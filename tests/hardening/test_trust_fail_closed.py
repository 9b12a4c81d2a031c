"""Trust rules fail closed (docs/security.md §13.2): a signer cannot steer the MRA verdict by
the JSON shape of what it signs.

The attack: JSON-LD reads a value and an array of one value alike (same RDF, same
signature), so a rule that looks for one exact shape and skips the rule otherwise is skipped
at the signer's choice — an AEOC certificate, which the US–EU MRA does not recognise, was
trusted once its tier sat in an array. Every variant here is signed for real by an issuer on
the list (its proof verifies), so what decides is the trust rule; each goes through
``vcred.Verifier`` and through the verifier service's ``POST /credentials/verify``.

The verifying agency is US CTPAT; the issuer an EU AEO agency (the MRA recognises only the
EU tiers AEOS and AEOF). The positive cases are the legitimate shapes of a recognised value.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from tests.verifier.conftest import DOMAIN, NOW, MakeApp
from vcred import Verifier, did_key, issue, jose, present, verify_presentation
from vcred.customs.builders import build_aeo_certificate
from vcred.customs.samples import TRADERS
from vcred.issuing import signer_for
from vcred.keys import KeyPair
from vcred.trust import TrustList, build_trust_list, load_signed_trust_list

TRUSTED = "trusted"
UNTRUSTED = "UNTRUSTED_ISSUER"
UNESTABLISHED = "TRUST_INPUT_UNESTABLISHED"

LIST_KEY = KeyPair.generate("ed25519")  # the US agency's trust-list key (a did:key anchor)
LIST_DID = did_key(LIST_KEY.public)
EU_KEY = KeyPair.generate("ed25519")  # the German issuer, recognised under the US–EU MRA
EU_DID = did_key(EU_KEY.public)
ENDED_KEY = KeyPair.generate("ed25519")  # recognition narrowed to end before NOW
ENDED_DID = did_key(ENDED_KEY.public)
LATER_KEY = KeyPair.generate("ed25519")  # recognition narrowed to begin after NOW
LATER_DID = did_key(LATER_KEY.public)

Mutation = Callable[[dict[str, Any]], None]


def _entry(did: str, **narrowed: str) -> dict[str, Any]:
    return {
        "issuer": did,
        "programme": "EU-AEO",
        "country": "DE",
        "acceptedCredentialTypes": ["AEOCertificateCredential", "ExportBillingAttestation"],
        **narrowed,
    }


def _signed_list() -> str:
    unsigned = build_trust_list(
        [
            _entry(EU_DID),
            _entry(ENDED_DID, until="2026-03-31"),
            _entry(LATER_DID, since="2026-09-01"),
        ],
        issuer=LIST_DID,
        programme="US-CTPAT",
        valid_from=datetime(2026, 1, 1, tzinfo=UTC),
        valid_until=datetime(2027, 1, 1, tzinfo=UTC),
    )
    return str(issue(unsigned, LIST_KEY))


TRUST: TrustList = load_signed_trust_list(_signed_list(), now=NOW, anchor=LIST_DID)
VERIFIER = Verifier(trust=TRUST, clock=lambda: NOW)


def certificate(issuer: str = EU_DID) -> dict[str, Any]:
    """An AEOF certificate of a German trader. Its credentialSchema is left out, as the
    signer may: the schema check then passes, and only the trust rules stand in the way."""
    credential = build_aeo_certificate(
        copy.deepcopy(TRADERS["de-beispiel"]),
        issuer=issuer,
        valid_from=datetime(2026, 1, 1, tzinfo=UTC),
        valid_until=datetime(2029, 1, 1, tzinfo=UTC),
    )
    del credential["credentialSchema"]
    return credential


def cert(credential: dict[str, Any]) -> dict[str, Any]:
    certification: dict[str, Any] = credential["credentialSubject"]["certification"]
    return certification


def set_cert(name: str, value: Any) -> Mutation:
    def mutate(credential: dict[str, Any]) -> None:
        cert(credential)[name] = value

    return mutate


def drop_cert(name: str) -> Mutation:
    def mutate(credential: dict[str, Any]) -> None:
        del cert(credential)[name]

    return mutate


def set_subject(name: str, value: Callable[[dict[str, Any]], Any]) -> Mutation:
    def mutate(credential: dict[str, Any]) -> None:
        subject = credential["credentialSubject"]
        subject[name] = value(subject)

    return mutate


def two_subjects(second_tier: str) -> Mutation:
    def mutate(credential: dict[str, Any]) -> None:
        other = copy.deepcopy(credential["credentialSubject"])
        other["id"] = "did:web:other-trader.example"
        other["certification"]["tier"] = second_tier
        credential["credentialSubject"] = [credential["credentialSubject"], other]

    return mutate


def two_certifications(second_tier: str) -> Mutation:
    def mutate(credential: dict[str, Any]) -> None:
        first = cert(credential)
        second = {**first, "tier": second_tier}
        credential["credentialSubject"]["certification"] = [first, second]

    return mutate


def retype(*types: str) -> Mutation:
    def mutate(credential: dict[str, Any]) -> None:
        credential["type"] = ["VerifiableCredential", *types]

    return mutate


def both(*mutations: Mutation) -> Mutation:
    def mutate(credential: dict[str, Any]) -> None:
        for mutation in mutations:
            mutation(credential)

    return mutate


# (name, issuer, mutation, expected: TRUSTED or the code, pointer of an unestablished input)
C = "/credentialSubject/certification"
VARIANTS: list[tuple[str, str, Mutation, str, str | None]] = [
    # the tier: legitimate shapes of a recognised tier
    ("tier_plain_recognised", EU_DID, set_cert("tier", "AEOF"), TRUSTED, None),
    ("tier_array_of_one_recognised", EU_DID, set_cert("tier", ["AEOS"]), TRUSTED, None),
    ("tier_repeated_one_value", EU_DID, set_cert("tier", ["AEOF", "AEOF"]), TRUSTED, None),
    ("tier_value_object", EU_DID, set_cert("tier", {"@value": "AEOF"}), TRUSTED, None),
    ("tier_value_object_in_array", EU_DID, set_cert("tier", [{"@value": "AEOS"}]), TRUSTED, None),
    # the tier: the original attack and its relatives
    ("tier_plain_not_recognised", EU_DID, set_cert("tier", "AEOC"), UNTRUSTED, None),
    ("tier_array_of_one_not_recognised", EU_DID, set_cert("tier", ["AEOC"]), UNTRUSTED, None),
    (
        "tier_value_object_not_recognised",
        EU_DID,
        set_cert("tier", {"@value": "AEOC"}),
        UNTRUSTED,
        None,
    ),
    ("tier_two_different", EU_DID, set_cert("tier", ["AEOC", "AEOF"]), UNESTABLISHED, f"{C}/tier"),
    (
        "tier_two_different_reversed",
        EU_DID,
        set_cert("tier", ["AEOF", "AEOC"]),
        UNESTABLISHED,
        f"{C}/tier",
    ),
    (
        "tier_language_value",
        EU_DID,
        set_cert("tier", {"@value": "AEOF", "@language": "en"}),
        UNESTABLISHED,
        f"{C}/tier",
    ),
    (
        "tier_language_value_in_array",
        EU_DID,
        set_cert("tier", [{"@value": "AEOC", "@language": "de"}]),
        UNESTABLISHED,
        f"{C}/tier/0",
    ),
    (
        "tier_typed_value",
        EU_DID,
        set_cert("tier", {"@value": "AEOF", "@type": "xsd:token"}),
        UNESTABLISHED,
        f"{C}/tier",
    ),
    ("tier_number", EU_DID, set_cert("tier", 3), UNESTABLISHED, f"{C}/tier"),
    ("tier_boolean", EU_DID, set_cert("tier", True), UNESTABLISHED, f"{C}/tier"),
    ("tier_object_with_id", EU_DID, set_cert("tier", {"id": "AEOF"}), UNESTABLISHED, f"{C}/tier"),
    ("tier_null", EU_DID, set_cert("tier", None), UNESTABLISHED, f"{C}/tier"),
    ("tier_empty_array", EU_DID, set_cert("tier", []), UNESTABLISHED, f"{C}/tier"),
    ("tier_nested_array", EU_DID, set_cert("tier", [["AEOF"]]), UNESTABLISHED, f"{C}/tier/0"),
    ("tier_absent", EU_DID, drop_cert("tier"), UNESTABLISHED, f"{C}/tier"),
    ("tier_of_another_programme", EU_DID, set_cert("tier", "TIER3"), UNTRUSTED, None),
    ("tier_in_lower_case", EU_DID, set_cert("tier", "aeof"), UNTRUSTED, None),
    # the certification node
    (
        "certification_array_of_one",
        EU_DID,
        set_subject("certification", lambda s: [s["certification"]]),
        TRUSTED,
        None,
    ),
    (
        "certification_array_of_one_not_recognised",
        EU_DID,
        set_subject("certification", lambda s: [{**s["certification"], "tier": "AEOC"}]),
        UNTRUSTED,
        None,
    ),
    ("certification_two_tiers", EU_DID, two_certifications("AEOC"), UNESTABLISHED, f"{C}/1/tier"),
    (
        "certification_absent",
        EU_DID,
        set_subject("certification", lambda s: None),
        UNESTABLISHED,
        C,
    ),
    (
        "certification_a_string",
        EU_DID,
        set_subject("certification", lambda s: "AEOF"),
        UNESTABLISHED,
        C,
    ),
    (
        "certification_empty_array",
        EU_DID,
        set_subject("certification", lambda s: []),
        UNESTABLISHED,
        C,
    ),
    # the subject
    (
        "subject_array_of_one",
        EU_DID,
        lambda c: c.update(credentialSubject=[c["credentialSubject"]]),
        TRUSTED,
        None,
    ),
    (
        "subjects_with_two_tiers",
        EU_DID,
        two_subjects("AEOC"),
        UNESTABLISHED,
        "/credentialSubject/1/certification/tier",
    ),
    ("subjects_with_one_tier", EU_DID, two_subjects("AEOF"), TRUSTED, None),
    # the certified programme
    ("programme_array_of_one", EU_DID, set_cert("programme", ["EU-AEO"]), TRUSTED, None),
    (
        "programme_of_another_agency",
        EU_DID,
        both(set_cert("programme", "US-CTPAT"), set_cert("tier", "TIER3")),
        UNTRUSTED,
        None,
    ),
    (
        "programme_two_different",
        EU_DID,
        set_cert("programme", ["EU-AEO", "US-CTPAT"]),
        UNESTABLISHED,
        f"{C}/programme",
    ),
    (
        "programme_language_value",
        EU_DID,
        set_cert("programme", {"@value": "EU-AEO", "@language": "en"}),
        UNESTABLISHED,
        f"{C}/programme",
    ),
    ("programme_absent", EU_DID, drop_cert("programme"), UNESTABLISHED, f"{C}/programme"),
    # trade roles
    ("roles_single_value", EU_DID, set_cert("tradeRoles", "exporter"), TRUSTED, None),
    (
        "roles_value_objects",
        EU_DID,
        set_cert("tradeRoles", [{"@value": "exporter"}]),
        TRUSTED,
        None,
    ),
    (
        "roles_not_recognised",
        EU_DID,
        set_cert("tradeRoles", ["exporter", "smuggler"]),
        UNTRUSTED,
        None,
    ),
    ("roles_only_unrecognised", EU_DID, set_cert("tradeRoles", "Exporter"), UNTRUSTED, None),
    ("roles_empty", EU_DID, set_cert("tradeRoles", []), UNESTABLISHED, f"{C}/tradeRoles"),
    ("roles_absent", EU_DID, drop_cert("tradeRoles"), UNESTABLISHED, f"{C}/tradeRoles"),
    ("roles_number", EU_DID, set_cert("tradeRoles", [7]), UNESTABLISHED, f"{C}/tradeRoles/0"),
    (
        "roles_language_value",
        EU_DID,
        set_cert("tradeRoles", [{"@value": "importer", "@language": "en"}]),
        UNESTABLISHED,
        f"{C}/tradeRoles/0",
    ),
    # types: a certification is checked whatever the credential calls itself
    (
        "retyped_to_dodge_the_tier_rule",
        EU_DID,
        both(retype("ExportBillingAttestation"), set_cert("tier", "AEOC")),
        UNTRUSTED,
        None,
    ),
    (
        "retyped_with_an_unreadable_tier",
        EU_DID,
        both(retype("ExportBillingAttestation"), set_cert("tier", ["AEOC", "AEOS"])),
        UNESTABLISHED,
        f"{C}/tier",
    ),
    # the issuer
    (
        "issuer_object_with_id",
        EU_DID,
        lambda c: c.update(issuer={"id": EU_DID, "name": "Zoll"}),
        TRUSTED,
        None,
    ),
    # the MRA's dates
    ("mra_ended_before_today", ENDED_DID, lambda c: None, UNTRUSTED, None),
    ("mra_not_yet_in_force", LATER_DID, lambda c: None, UNTRUSTED, None),
]
KEYS = {EU_DID: EU_KEY, ENDED_DID: ENDED_KEY, LATER_DID: LATER_KEY}


def signed(issuer: str, mutation: Mutation, *, holder: str | None = None) -> str:
    credential = certificate(issuer)
    if holder is not None:
        credential["credentialSubject"]["id"] = holder
    mutation(credential)
    return str(issue(credential, KEYS[issuer]))


@pytest.mark.parametrize(
    ("issuer", "mutation", "expected", "pointer"),
    [pytest.param(*v[1:], id=v[0]) for v in VARIANTS],
)
def test_each_shape_is_trusted_only_when_its_value_is_established_and_recognised(
    issuer: str, mutation: Mutation, expected: str, pointer: str | None
) -> None:
    result = VERIFIER.verify(signed(issuer, mutation))
    assert result.check("proof").passed is True, result.errors  # a real signature
    assert result.check("issuer").passed is True
    decision = result.trust
    assert decision is not None
    if expected == TRUSTED:
        assert result.verified, result.errors
        assert decision.trusted and decision.code is None
        return
    assert not result.verified
    assert not decision.trusted
    assert decision.code == expected
    assert result.codes == (expected,)
    assert result.check("trust").passed is False
    assert decision.pointer == pointer
    assert result.errors[0].path == (pointer or "/issuer")


@pytest.fixture
def verifier_app(make_app: MakeApp, tmp_path: Path) -> Flask:
    trust_list = tmp_path / "us-trust-list.jwt"
    trust_list.write_text(_signed_list())
    return make_app(trust_list=trust_list, trust_issuer=LIST_DID)


def test_every_variant_gets_the_same_verdict_from_the_verifier_service(
    verifier_app: Flask,
) -> None:
    client = verifier_app.test_client()
    seen: dict[str, int] = {}
    for name, issuer, mutation, expected, pointer in VARIANTS:
        response = client.post(
            "/credentials/verify", json={"verifiableCredential": signed(issuer, mutation)}
        )
        body = response.get_json()
        trust = body["trust"]
        assert trust["evaluated"] is True and trust["issuerAuthenticated"] is True, name
        if expected == TRUSTED:
            assert response.status_code == 200, (name, body)
            assert body["verified"] is True and trust["trusted"] is True, name
        else:
            assert response.status_code == 400, (name, body)
            assert body["verified"] is False and trust["trusted"] is False, name
            problems = body["problemDetails"]
            assert [p["code"] for p in problems] == [expected], name
            assert problems[0]["pointer"] == (pointer or "/issuer"), name
            assert trust["code"] == expected, name
        seen[expected] = seen.get(expected, 0) + 1
    assert seen == {
        TRUSTED: sum(v[3] == TRUSTED for v in VARIANTS),
        UNTRUSTED: sum(v[3] == UNTRUSTED for v in VARIANTS),
        UNESTABLISHED: sum(v[3] == UNESTABLISHED for v in VARIANTS),
    }


HOLDER = KeyPair.generate("ed25519")
PRESENTED = [v for v in VARIANTS if v[0].startswith(("tier_", "certification_array"))]


def test_a_presented_credential_gets_the_same_verdict(verifier_app: Flask) -> None:
    """Inside a presentation (vcred.verify_presentation and POST /presentations/verify)."""
    client = verifier_app.test_client()
    holder = did_key(HOLDER.public)
    for name, issuer, mutation, expected, pointer in PRESENTED:
        credential = signed(issuer, mutation, holder=holder)
        nonce = client.post("/challenges").get_json()["challenge"]
        vp = present([credential], HOLDER, challenge=nonce, domain=DOMAIN, now=NOW)
        library = verify_presentation(vp, challenge=nonce, domain=DOMAIN, verifier=VERIFIER)
        (inner,) = library.credentials
        assert inner.check("proof").passed is True, name
        assert library.verified is (expected == TRUSTED), name
        response = client.post(
            "/presentations/verify",
            json={
                "verifiablePresentation": vp,
                "options": {"challenge": nonce, "domain": DOMAIN},
            },
        )
        body = response.get_json()
        (answer,) = body["credentials"]
        if expected == TRUSTED:
            assert response.status_code == 200 and body["verified"] is True, (name, body)
            assert inner.trust is not None and inner.trust.trusted, name
            continue
        assert inner.codes == (expected,) and inner.trust is not None, name
        assert inner.trust.pointer == pointer, name
        assert response.status_code == 400, (name, body)
        assert answer["verified"] is False and answer["trust"]["code"] == expected, name
        assert expected in [p["code"] for p in body["problemDetails"]], name


# -- the rules one by one, on the decision (TrustList.evaluate_credential) --------------------


def decide(credential: dict[str, Any]) -> Any:
    return TRUST.evaluate_credential(credential, now=NOW)


@pytest.mark.parametrize(
    ("issuer", "expected"),
    [
        pytest.param(EU_DID, TRUSTED, id="string"),
        pytest.param([EU_DID], TRUSTED, id="array-of-one"),
        pytest.param({"id": EU_DID}, TRUSTED, id="object-with-id"),
        pytest.param([{"id": EU_DID}, EU_DID], TRUSTED, id="one-node-twice"),
        pytest.param([EU_DID, ENDED_DID], UNESTABLISHED, id="two-issuers"),
        pytest.param({"name": "Zoll"}, UNESTABLISHED, id="object-without-id"),
        pytest.param({"id": 7}, UNESTABLISHED, id="object-with-a-number-id"),
        pytest.param(None, UNESTABLISHED, id="null"),
        pytest.param("", UNESTABLISHED, id="empty"),
        pytest.param(42, UNESTABLISHED, id="number"),
    ],
)
def test_the_issuer_is_read_in_every_shape_of_one_id(issuer: Any, expected: str) -> None:
    credential = certificate()
    credential["issuer"] = issuer
    decision = decide(credential)
    assert decision.trusted is (expected == TRUSTED)
    if expected != TRUSTED:
        assert decision.code == expected
        assert decision.pointer is not None and decision.pointer.startswith("/issuer")


@pytest.mark.parametrize(
    ("types", "expected"),
    [
        pytest.param("AEOCertificateCredential", TRUSTED, id="a-single-string"),
        pytest.param(["AEOCertificateCredential"], TRUSTED, id="array-of-one"),
        pytest.param(
            ["VerifiableCredential", {"id": "AEOCertificateCredential"}],
            UNESTABLISHED,
            id="object-member",
        ),
        pytest.param(["VerifiableCredential", None], UNESTABLISHED, id="null-member"),
        pytest.param(["VerifiableCredential"], UNTRUSTED, id="no-specific-type"),
        pytest.param(None, UNTRUSTED, id="absent"),
        pytest.param(
            ["VerifiableCredential", "MRATrustListCredential"], UNTRUSTED, id="type-not-accepted"
        ),
    ],
)
def test_the_types_are_read_as_names(types: Any, expected: str) -> None:
    credential = certificate()
    credential["type"] = types
    decision = decide(credential)
    assert decision.trusted is (expected == TRUSTED)
    if expected != TRUSTED:
        assert decision.code == expected


def test_the_decision_names_the_unreadable_value() -> None:
    credential = certificate()
    cert(credential)["tier"] = ["AEOC", "AEOF"]
    decision = decide(credential)
    assert "several different values" in decision.reason
    shown = decision.as_dict()
    assert shown["code"] == UNESTABLISHED
    assert shown["pointer"] == f"{C}/tier"
    error = decision.error()
    assert error is not None and error.code == UNESTABLISHED and error.pointer == f"{C}/tier"


def test_evaluate_states_the_tier_or_fails_closed() -> None:
    types = ["VerifiableCredential", "AEOCertificateCredential"]
    assert TRUST.evaluate(EU_DID, types, now=NOW, tier="AEOS").trusted
    assert TRUST.evaluate(EU_DID, types, now=NOW, tier="AEOC").code == UNTRUSTED
    assert TRUST.evaluate(EU_DID, types, now=NOW).code == UNESTABLISHED
    billing = ["VerifiableCredential", "ExportBillingAttestation"]
    assert TRUST.evaluate(EU_DID, billing, now=NOW).trusted  # no certification: no tier rule


def test_a_list_not_yet_valid_trusts_nobody() -> None:
    """The list's own validity period bounds every decision made with it, at both ends: as of
    a moment before its validFrom (``Verifier.at``, an audit of an earlier entry) the list
    did not decide anything yet, so it must not trust (it did before)."""
    before = datetime(2025, 12, 1, tzinfo=UTC)
    decision = TRUST.evaluate_credential(certificate(), now=before)
    assert not decision.trusted and decision.code == UNTRUSTED
    assert "not valid before" in decision.reason
    types = ["VerifiableCredential", "ExportBillingAttestation"]
    assert TRUST.evaluate(EU_DID, types, now=before).code == UNTRUSTED
    credential = certificate()
    credential["validFrom"] = "2025-01-01T00:00:00Z"
    result = Verifier(trust=TRUST, at=before).verify(str(issue(credential, EU_KEY)))
    assert result.check("validity").passed is True  # the certificate was valid then
    assert result.codes == (UNTRUSTED,)
    assert result.check("trust").passed is False
    # on its validFrom it decides
    assert TRUST.evaluate_credential(certificate(), now=datetime(2026, 1, 1, tzinfo=UTC)).trusted


def test_an_sd_jwt_vc_naming_a_listed_issuer_it_was_not_signed_by_is_not_trusted() -> None:
    """The issuer check binds an SD-JWT VC's key to its ``iss``; the trust rule reads the
    credential's ``issuer``. A signer on no list put a listed issuer's DID there, and its own
    in ``iss``: every check passed and the certificate was trusted as the listed issuer's."""
    forger = KeyPair.generate("ed25519")
    payload = {k: v for k, v in certificate(EU_DID).items() if k != "@context"}
    payload |= {"iss": did_key(forger.public), "vct": "https://credentials.example/aeo"}
    token = jose.sign_compact(payload, signer_for(forger), typ="dc+sd-jwt") + "~"
    result = VERIFIER.verify(token)
    assert not result.verified
    assert result.codes == ("MALFORMED",) and result.errors[0].path == "/issuer"
    assert result.trust is None
