"""vcred.trust: building, loading, signing and evaluating MRA trust lists."""

from __future__ import annotations

import base64
import dataclasses
import json
from copy import deepcopy
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

import vcred
from vcred.customs._registry import bundled_registry
from vcred.customs.programmes import registry_in_use
from vcred.customs.samples import ISSUERS, aeo_certificate, sample_trust_list
from vcred.errors import (
    CryptographicError,
    ExpiredError,
    MalformedError,
    NotYetValidError,
    SchemaMismatchError,
    UntrustedIssuerError,
    UsageError,
)
from vcred.keys import KeyPair
from vcred.trust import (
    TrustList,
    build_trust_list,
    load_signed_trust_list,
    load_trust_list,
)

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
EU = ISSUERS["EU-AEO"]["id"]
JP = ISSUERS["JP-AEO"]["id"]
AEO = ["VerifiableCredential", "AEOCertificateCredential"]
BILLING = ["VerifiableCredential", "ExportBillingAttestation"]


def entry(**overrides: Any) -> dict[str, Any]:
    return {
        "issuer": EU,
        "programme": "EU-AEO",
        "country": "DE",
        "acceptedCredentialTypes": ["AEOCertificateCredential"],
        **overrides,
    }


def us_list(*entries: dict[str, Any], issuer: str = ISSUERS["US-CTPAT"]["id"]) -> dict[str, Any]:
    return build_trust_list(
        list(entries) or [entry()],
        issuer=issuer,
        programme="US-CTPAT",
        valid_from=datetime(2025, 1, 1, tzinfo=UTC),
        valid_until=datetime(2026, 1, 1, tzinfo=UTC),
    )


@pytest.fixture
def us() -> TrustList:
    return load_trust_list(sample_trust_list("US-CTPAT"), now=NOW)


# -- evaluation ------------------------------------------------------------------------------


def test_trusted_issuer_comes_with_its_mra_and_benefits(us: TrustList) -> None:
    decision = us.evaluate(EU, AEO, now=NOW, tier="AEOF")
    assert decision.trusted
    assert decision.programme == "EU-AEO"
    assert decision.mra is not None
    assert decision.mra.id == "urn:vcred:mra:eu-aeo:us-ctpat"
    assert decision.mra.since.isoformat() == "2012-07-31"  # "in force 2012-07": its last day
    assert "REDUCED_EXAMINATIONS" in decision.benefits
    assert decision.error() is None
    shown = decision.as_dict()
    assert shown["benefits"][0]["description"].startswith("Fewer")
    assert "code" not in shown


def test_issuer_object_form_is_accepted(us: TrustList) -> None:
    assert us.evaluate({"id": JP, "name": "Japan Customs"}, BILLING, now=NOW).trusted


def test_issuer_not_on_the_list_is_untrusted(us: TrustList) -> None:
    decision = us.evaluate("did:web:unknown-customs.example", AEO, now=NOW)
    assert not decision.trusted
    assert decision.code == "UNTRUSTED_ISSUER"
    assert "not on the MRA trust list" in decision.reason
    error = decision.error()
    assert isinstance(error, UntrustedIssuerError)
    assert error.pointer == "/issuer"


def test_wrong_credential_type_is_untrusted() -> None:
    trust = load_trust_list(us_list(entry()), now=NOW)
    decision = trust.evaluate(EU, BILLING, now=NOW)
    assert not decision.trusted
    assert "not for ExportBillingAttestation" in decision.reason
    assert not trust.evaluate(EU, ["VerifiableCredential"], now=NOW).trusted


def test_mra_not_yet_begun_is_untrusted(us: TrustList) -> None:
    # a list valid back then (the sample one is valid from 2025: it trusts nobody in 2012)
    us = dataclasses.replace(us, valid_from=datetime(2012, 1, 1, tzinfo=UTC))
    decision = us.evaluate(EU, AEO, now=datetime(2012, 7, 30, 23, 0, tzinfo=UTC))
    assert not decision.trusted
    assert "takes effect on 2012-07-31" in decision.reason
    assert us.evaluate(EU, AEO, now=datetime(2012, 7, 31, 0, 0, tzinfo=UTC), tier="AEOF").trusted


def test_mra_that_has_ended_is_untrusted() -> None:
    trust = load_trust_list(us_list(entry(until="2025-05-31")), now=NOW)
    decision = trust.evaluate(EU, AEO, now=NOW)
    assert not decision.trusted
    assert "ended on 2025-05-31" in decision.reason
    last_day = datetime(2025, 5, 31, 23, 59, tzinfo=UTC)
    assert trust.evaluate(EU, AEO, now=last_day, tier="AEOS").trusted


def test_mra_days_are_utc_days_whatever_the_offset_of_now() -> None:
    # the MRA's first and last days are UTC days (as the recognition query reads them): the
    # same instant written with another offset must not move a day in or out of force
    trust = load_trust_list(us_list(entry(since="2025-03-01", until="2025-05-31")), now=NOW)
    tokyo, chicago = timezone(timedelta(hours=9)), timezone(timedelta(hours=-5))
    before = datetime(2025, 3, 1, 8, 0, tzinfo=tokyo)  # 2025-02-28T23:00Z
    after = datetime(2025, 5, 31, 20, 0, tzinfo=chicago)  # 2025-06-01T01:00Z
    for moment in (before, after):
        assert not trust.evaluate(EU, AEO, now=moment, tier="AEOS").trusted
        assert not trust.evaluate(EU, AEO, now=moment.astimezone(UTC), tier="AEOS").trusted
    inside = datetime(2025, 3, 1, 9, 0, tzinfo=tokyo)  # 2025-03-01T00:00Z
    assert trust.evaluate(EU, AEO, now=inside, tier="AEOS").trusted


def test_tier_outside_the_mra_is_untrusted(us: TrustList) -> None:
    decision = us.evaluate(EU, AEO, now=NOW, tier="AEOC")
    assert not decision.trusted
    assert "AEOC is not recognised" in decision.reason


def test_aeo_certificate_without_a_tier_is_untrusted_where_the_mra_restricts_tiers(
    us: TrustList,
) -> None:
    decision = us.evaluate(EU, AEO, now=NOW)
    assert not decision.trusted
    assert decision.code == "TRUST_INPUT_UNESTABLISHED"
    assert decision.pointer == "/credentialSubject/certification/tier"
    assert isinstance(decision.error(), UntrustedIssuerError)


def test_evaluate_a_whole_credential(us: TrustList) -> None:
    eu_trader = aeo_certificate("de-beispiel")  # AEOF, issued by the German demo issuer
    assert us.evaluate_credential(eu_trader, now=NOW).trusted
    fr_trader = aeo_certificate("fr-exemple")  # AEOC: customs simplification only
    assert not us.evaluate_credential(fr_trader, now=NOW).trusted


def test_now_must_be_aware(us: TrustList) -> None:
    with pytest.raises(UsageError):
        us.evaluate(EU, AEO, now=datetime(2025, 6, 1))


# -- building --------------------------------------------------------------------------------


def test_no_mra_no_entry() -> None:
    with pytest.raises(MalformedError, match="no mutual recognition arrangement") as caught:
        us_list(entry(issuer="did:web:cn-customs.example", programme="CN-AEO", country="CN"))
    assert caught.value.pointer == "/credentialSubject/recognisedIssuers/0/programme"


def test_unverified_mra_needs_consent() -> None:
    # UK-Japan is reported as a UK continuity arrangement that no public source confirms: an
    # agency that lists it anyway adds it to its registry as unconfirmed.
    reported = {
        "arrangements": [
            {
                "id": "urn:vcred:mra:jp-aeo:uk-aeo",
                "name": "Japan-UK AEO mutual recognition (reported)",
                "parties": ["JP-AEO", "UK-AEO"],
                "signed": "2020-10-23",
                "sources": [
                    {
                        "url": "https://www.gov.uk/government/collections/uk-japan-comprehensive-economic-partnership-agreement",
                        "confirms": "UK-Japan CEPA signed 23 October 2020",
                        "facts": ["signed"],
                    }
                ],
                "unconfirmed": ["parties"],
            }
        ]
    }
    jp_entry = {
        "issuer": ISSUERS["UK-AEO"]["id"],
        "programme": "UK-AEO",
        "country": "GB",
        "acceptedCredentialTypes": ["AEOCertificateCredential"],
    }
    options: dict[str, Any] = {
        "issuer": JP,
        "programme": "JP-AEO",
        "valid_from": datetime(2025, 1, 1, tzinfo=UTC),
        "valid_until": datetime(2026, 1, 1, tzinfo=UTC),
    }
    with pytest.raises(MalformedError, match="no mutual recognition arrangement"):
        build_trust_list([jp_entry], **options)
    with registry_in_use(bundled_registry().with_data(reported, name="reported.json")):
        with pytest.raises(MalformedError, match="allow_unverified"):
            build_trust_list([jp_entry], **options)
        built = build_trust_list([jp_entry], allow_unverified=True, **options)
    assert built["credentialSubject"]["recognisedIssuers"][0]["programme"] == "UK-AEO"


def test_country_must_run_the_programme() -> None:
    with pytest.raises(MalformedError) as caught:
        us_list(entry(country="JP"))
    assert caught.value.pointer == "/credentialSubject/recognisedIssuers/0/country"


def test_an_issuer_appears_once() -> None:
    with pytest.raises(MalformedError, match="only once"):
        us_list(entry(), entry(acceptedCredentialTypes=["ExportBillingAttestation"]))


def test_a_did_names_one_entry_only() -> None:
    """A DID listed for two recognised issuers (one's ``dids`` naming the other) made the
    list's lookup take whichever came first: the other issuer's programme, MRA, accepted
    types and pinned keys decided its credentials. Ambiguous, so refused."""
    japan = entry(issuer=JP, programme="JP-AEO", country="JP", dids=[EU])
    with pytest.raises(MalformedError, match="only once") as caught:
        us_list(japan, entry())
    assert caught.value.pointer == "/credentialSubject/recognisedIssuers/1/id"
    # a signed list built otherwise is refused when loaded
    built = us_list(entry(issuer=JP, programme="JP-AEO", country="JP"), entry())
    built["credentialSubject"]["recognisedIssuers"][0]["dids"] = [EU]
    with pytest.raises(MalformedError, match="only once") as loaded:
        load_trust_list(built, now=datetime(2025, 6, 1, tzinfo=UTC))
    assert loaded.value.pointer == "/credentialSubject/recognisedIssuers/1/id"


def test_a_hand_built_list_naming_an_issuer_twice_is_refused() -> None:
    """The constructor took the first of two entries for one DID silently: the order of the
    entries chose the programme, MRA, accepted types and pinned keys. Refused, as the
    loader and the builder refuse it."""
    listed = load_trust_list(us_list(entry()), now=NOW)
    japan = dataclasses.replace(listed.entries[0], programme="JP-AEO", dids=frozenset({EU}))
    with pytest.raises(UsageError, match="only once"):
        dataclasses.replace(listed, entries=(japan, *listed.entries))
    with pytest.raises(UsageError, match="only once"):
        dataclasses.replace(listed, entries=(*listed.entries, *listed.entries))
    own = dataclasses.replace(listed.entries[0], dids=frozenset({EU}))
    with pytest.raises(UsageError, match="only once"):
        dataclasses.replace(listed, entries=(own,))


def test_eu_verifier_names_its_member_state() -> None:
    options: dict[str, Any] = {
        "issuer": EU,
        "programme": "EU-AEO",
        "valid_from": datetime(2025, 1, 1, tzinfo=UTC),
        "valid_until": datetime(2026, 1, 1, tzinfo=UTC),
    }
    us_entry = entry(issuer=ISSUERS["US-CTPAT"]["id"], programme="US-CTPAT", country="US")
    with pytest.raises(UsageError, match="authority_country"):
        build_trust_list([us_entry], **options)
    built = build_trust_list([us_entry], authority_country="NL", **options)
    assert built["credentialSubject"]["verifyingAuthority"]["country"] == "NL"


def test_narrowed_dates_cannot_widen_the_mra() -> None:
    built = us_list(entry(since="2001-01-01"))
    assert built["credentialSubject"]["recognisedIssuers"][0]["mutualRecognition"]["since"] == (
        "2012-07-31"
    )
    with pytest.raises(MalformedError, match="end before it begins"):
        us_list(entry(until="2011-01-01"))


# -- loading ---------------------------------------------------------------------------------


def test_load_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "trust-list.json"
    path.write_text(json.dumps(sample_trust_list("JP-AEO")))
    trust = load_trust_list(path, now=NOW, expected_issuer=JP)
    assert trust.programme == "JP-AEO"
    assert trust.country == "JP"
    assert {e.programme for e in trust.entries} == {"US-CTPAT", "EU-AEO", "CA-PIP"}


def test_load_refuses_an_expired_or_early_list() -> None:
    with pytest.raises(ExpiredError):
        load_trust_list(sample_trust_list("US-CTPAT"), now=datetime(2027, 1, 1, tzinfo=UTC))
    with pytest.raises(ExpiredError):  # at its validUntil it has ceased to be valid
        load_trust_list(
            sample_trust_list("US-CTPAT"), now=datetime(2026, 3, 2, 23, 59, 59, tzinfo=UTC)
        )
    with pytest.raises(NotYetValidError):
        load_trust_list(sample_trust_list("US-CTPAT"), now=datetime(2024, 1, 1, tzinfo=UTC))


def test_a_list_that_states_no_end_is_refused(us: TrustList) -> None:
    """A list with neither validUntil nor nextUpdate decided forever: an agency that never
    publishes again (or a replayed old list) kept every partner it once listed trusted."""
    endless = deepcopy(sample_trust_list("US-CTPAT"))
    del endless["validUntil"]
    assert "nextUpdate" not in endless["credentialSubject"]
    with pytest.raises(MalformedError, match="until when") as caught:
        load_trust_list(endless, now=NOW)
    assert caught.value.pointer == "/validUntil"
    # one built by hand decides nothing
    forever = dataclasses.replace(us, valid_until=None, next_update=None)
    decision = forever.evaluate(EU, AEO, now=NOW, tier="AEOF")
    assert not decision.trusted and "until when" in decision.reason
    assert forever.refusal_at(NOW) is not None
    # a next update alone bounds it
    assert dataclasses.replace(forever, next_update=NOW + timedelta(days=1)).refusal_at(NOW) is None


def test_load_refuses_a_list_from_someone_else() -> None:
    with pytest.raises(UntrustedIssuerError):
        load_trust_list(sample_trust_list("US-CTPAT"), now=NOW, expected_issuer=EU)


def test_load_refuses_a_broken_list() -> None:
    broken = deepcopy(sample_trust_list("US-CTPAT"))
    del broken["credentialSubject"]["recognisedIssuers"][0]["mutualRecognition"]
    with pytest.raises(SchemaMismatchError) as caught:
        load_trust_list(broken, now=NOW)
    assert caught.value.pointer == "/credentialSubject/recognisedIssuers/0/mutualRecognition"
    aeo = aeo_certificate("us-prairie")
    with pytest.raises(MalformedError, match="not an MRATrustListCredential"):
        load_trust_list(aeo, now=NOW)


# -- signed lists (vcred.issue / vcred.verify) -------------------------------------------------


@pytest.fixture(scope="module")
def agency() -> tuple[KeyPair, str]:
    key = KeyPair.generate("ed25519")
    return key, vcred.did_key(key.public)


def test_signed_trust_list_round_trip(agency: tuple[KeyPair, str]) -> None:
    key, did = agency
    token = vcred.issue(us_list(issuer=did), key)
    trust = load_signed_trust_list(token, now=NOW, expected_issuer=did)
    assert trust.issuer == did
    assert trust.evaluate(EU, AEO, now=NOW, tier="AEOS").trusted


def test_trust_list_with_a_bad_signature_is_refused(agency: tuple[KeyPair, str]) -> None:
    key, did = agency
    header, payload, signature = str(vcred.issue(us_list(issuer=did), key)).split(".")
    forged = f"{header}.{payload}.{'A' if signature[0] != 'A' else 'B'}{signature[1:]}"
    with pytest.raises(CryptographicError, match="trust list refused"):
        load_signed_trust_list(forged, now=NOW, expected_issuer=did)


def test_trust_list_with_an_edited_payload_is_refused(agency: tuple[KeyPair, str]) -> None:
    key, did = agency
    header, payload, signature = str(vcred.issue(us_list(issuer=did), key)).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    subject = claims.get("vc", claims)["credentialSubject"]
    subject["recognisedIssuers"][0]["id"] = "did:web:attacker.example"
    edited = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    with pytest.raises(CryptographicError):
        load_signed_trust_list(f"{header}.{edited}.{signature}", now=NOW, expected_issuer=did)


def test_trust_list_signed_by_another_agency_is_refused(agency: tuple[KeyPair, str]) -> None:
    _, did = agency
    other = KeyPair.generate("ed25519")
    other_did = vcred.did_key(other.public)
    token = vcred.issue(us_list(issuer=other_did), other)
    with pytest.raises(UntrustedIssuerError, match="not by"):
        load_signed_trust_list(token, now=NOW, expected_issuer=did)


def test_a_next_update_that_is_no_moment_is_malformed(agency: tuple[KeyPair, str]) -> None:
    # 23:59:60 passes the schema (RFC 3339 allows a leap second) but is no datetime: the
    # ValueError came out of the loader, past the feed's VcredError handling
    key, did = agency
    unsigned = build_trust_list(
        [entry()],
        issuer=did,
        programme="US-CTPAT",
        valid_from=datetime(2025, 1, 1, tzinfo=UTC),
        valid_until=datetime(2026, 1, 1, tzinfo=UTC),
        sequence=1,
        next_update=datetime(2025, 7, 1, tzinfo=UTC),
    )
    unsigned["credentialSubject"]["nextUpdate"] = "2025-06-30T23:59:60Z"
    token = vcred.issue(unsigned, key)
    with pytest.raises(MalformedError) as caught:
        load_signed_trust_list(token, now=NOW, expected_issuer=did)
    assert caught.value.pointer == "/credentialSubject/nextUpdate"


def test_error_class_maps_codes_back_to_their_class() -> None:
    from vcred.errors import ResolutionError, VcredError, error_class

    assert error_class("UNTRUSTED_ISSUER") is UntrustedIssuerError
    assert error_class("DID_RESOLUTION") is ResolutionError  # not its UnreachableError child
    assert error_class("SCHEMA_MISMATCH") is SchemaMismatchError
    assert error_class("NO_SUCH_CODE") is VcredError


def test_an_expired_trust_list_trusts_nobody(us: TrustList) -> None:
    # loaded while valid, consulted after its validUntil (a verifier that ran for months)
    assert us.valid_until is not None
    later = us.valid_until + timedelta(seconds=1)
    decision = us.evaluate(EU, AEO, now=later, tier="AEOF")
    assert not decision.trusted
    assert decision.code == "UNTRUSTED_ISSUER"
    assert "expired" in decision.reason
    # it ceases to be valid at its validUntil (VCDM 2.0 §4.9), as every credential does
    assert not us.evaluate(EU, AEO, now=us.valid_until, tier="AEOF").trusted
    just_before = us.valid_until - timedelta(microseconds=1)
    assert us.evaluate(EU, AEO, now=just_before, tier="AEOF").trusted
