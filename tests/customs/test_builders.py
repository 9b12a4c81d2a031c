"""The builders accept good input and refuse bad input with a clear message and a pointer."""

from __future__ import annotations

from copy import deepcopy
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from vcred.customs.builders import (
    AEO_CERTIFICATE_SCHEMA,
    CUSTOMS_CONTEXT,
    DISCLOSABLE_BILLING_PATHS,
    EXPORT_BILLING_SCHEMA,
    VC_V2_CONTEXT,
    build_aeo_certificate,
    build_export_billing_attestation,
    disclosable_billing_claims,
)
from vcred.customs.samples import AEO_VALID_UNTIL, EXPORTS, ISSUED_AT, TRADERS
from vcred.errors import MalformedError

ISSUER = "did:web:customs.example"
S = "/credentialSubject"


def aeo(subject: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    options: dict[str, Any] = {
        "issuer": ISSUER,
        "valid_from": ISSUED_AT,
        "valid_until": AEO_VALID_UNTIL,
        **overrides,
    }
    return build_aeo_certificate(subject, **options)


def export(subject: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    options: dict[str, Any] = {"issuer": ISSUER, "valid_from": ISSUED_AT, **overrides}
    return build_export_billing_attestation(subject, **options)


def trader() -> dict[str, Any]:
    return deepcopy(TRADERS["de-beispiel"])


def shipment() -> dict[str, Any]:
    return deepcopy(EXPORTS["de-to-us"])


def refused(build: Any, subject: dict[str, Any], pointer: str, match: str) -> None:
    with pytest.raises(MalformedError, match=match) as caught:
        build(subject)
    assert caught.value.pointer == pointer
    assert caught.value.code == "MALFORMED"


# -- good input --------------------------------------------------------------------------


def test_aeo_certificate_envelope() -> None:
    vc = aeo(trader(), credential_id="urn:uuid:0b6a1c1e-8f0e-4a53-9d43-4c1f6bd2a3f1")
    assert vc["@context"] == [VC_V2_CONTEXT, CUSTOMS_CONTEXT]
    assert vc["type"] == ["VerifiableCredential", "AEOCertificateCredential"]
    assert vc["credentialSchema"] == {"id": AEO_CERTIFICATE_SCHEMA, "type": "JsonSchema"}
    assert vc["validFrom"] == "2025-03-03T09:00:00Z"
    assert vc["validUntil"] == "2028-03-02T23:59:59Z"
    assert vc["issuer"] == ISSUER
    subject = vc["credentialSubject"]
    assert subject["type"] == "Organization"
    assert subject["certification"]["type"] == "AEOCertification"
    # The EU programme is run by each Member State: the authority is the trader's.
    assert subject["certification"]["administeringAuthority"]["country"] == "DE"


def test_aeo_certificate_fills_the_authority_from_the_programme_table() -> None:
    vc = aeo(deepcopy(TRADERS["us-prairie"]))
    authority = vc["credentialSubject"]["certification"]["administeringAuthority"]
    assert authority == {"name": "U.S. Customs and Border Protection (CBP)", "country": "US"}


def test_builder_does_not_change_its_input() -> None:
    subject = trader()
    before = deepcopy(subject)
    aeo(subject)
    assert subject == before


def test_times_are_written_in_utc() -> None:
    tokyo = timezone(timedelta(hours=9))
    vc = aeo(trader(), valid_from=datetime(2025, 3, 3, 18, 0, 0, 123456, tzinfo=tokyo))
    assert vc["validFrom"] == "2025-03-03T09:00:00Z"


def test_export_billing_attestation_envelope() -> None:
    vc = export(
        shipment(),
        valid_until=ISSUED_AT + timedelta(days=365),
        credential_status=[{"type": "BitstringStatusListEntry", "statusPurpose": "revocation"}],
    )
    assert vc["type"] == ["VerifiableCredential", "ExportBillingAttestation"]
    assert vc["credentialSchema"]["id"] == EXPORT_BILLING_SCHEMA
    assert vc["credentialStatus"][0]["statusPurpose"] == "revocation"
    assert [i["type"] for i in vc["credentialSubject"]["lineItems"]] == ["ExportLineItem"] * 2


def test_disclosable_claims_are_the_amounts_the_consignee_and_the_goods() -> None:
    vc = export(shipment())
    assert disclosable_billing_claims(vc) == (
        f"{S}/consignee",
        f"{S}/invoice/totalAmount",
        f"{S}/lineItems/0/description",
        f"{S}/lineItems/0/unitPrice",
        f"{S}/lineItems/0/amount",
        f"{S}/lineItems/1/description",
        f"{S}/lineItems/1/unitPrice",
        f"{S}/lineItems/1/amount",
    )
    assert DISCLOSABLE_BILLING_PATHS == (
        "$.credentialSubject.consignee",
        "$.credentialSubject.invoice.totalAmount",
        "$.credentialSubject.invoice.freightAmount",
        "$.credentialSubject.invoice.insuranceAmount",
        "$.credentialSubject.lineItems[*].description",
        "$.credentialSubject.lineItems[*].unitPrice",
        "$.credentialSubject.lineItems[*].amount",
    )


# -- the amounts add up (ISO 4217 minor units) ------------------------------------------------


def test_freight_and_insurance_count_in_the_total() -> None:
    subject = shipment()
    subject["invoice"].update(
        {"freightAmount": "3150.00", "insuranceAmount": "420.50", "totalAmount": "187820.50"}
    )
    invoice = export(subject)["credentialSubject"]["invoice"]
    assert (invoice["freightAmount"], invoice["insuranceAmount"]) == ("3150.00", "420.50")
    assert f"{S}/invoice/freightAmount" in disclosable_billing_claims(export(subject))
    subject["invoice"]["totalAmount"] = "184250.00"
    refused(export, subject, f"{S}/invoice/totalAmount", "187820.50 EUR, not 184250.00")


def test_a_line_amount_must_be_quantity_times_unit_price() -> None:
    subject = shipment()
    subject["lineItems"][1]["amount"] = "11250.01"
    subject["invoice"]["totalAmount"] = "184250.01"
    refused(export, subject, f"{S}/lineItems/1/amount", "11250.00 EUR, not 11250.01")


def test_the_total_must_be_the_sum_of_the_lines() -> None:
    subject = shipment()
    subject["invoice"]["totalAmount"] = "184250.10"
    refused(export, subject, f"{S}/invoice/totalAmount", "sum of the lines")


def test_a_line_amount_is_rounded_half_up_to_the_minor_unit() -> None:
    subject = shipment()
    subject["lineItems"][1].update({"quantity": "3", "unitPrice": "0.125", "amount": "0.38"})
    subject["invoice"]["totalAmount"] = "173000.38"
    assert export(subject)["credentialSubject"]["lineItems"][1]["amount"] == "0.38"


@pytest.mark.parametrize(
    ("currency", "amount", "ok"),
    [
        ("JPY", "100", True),
        ("JPY", "100.0", False),
        ("KWD", "1.125", True),
        ("EUR", "1.125", False),
    ],
)
def test_amounts_respect_the_currency_minor_unit(currency: str, amount: str, ok: bool) -> None:
    subject = shipment()
    subject["invoice"]["currency"] = currency
    subject["lineItems"] = [
        {**subject["lineItems"][0], "quantity": "1", "unitPrice": amount, "amount": amount}
    ]
    subject["invoice"]["totalAmount"] = amount
    if ok:
        assert export(subject)["credentialSubject"]["invoice"]["totalAmount"] == amount
    else:
        refused(export, subject, f"{S}/invoice/totalAmount", "ISO 4217 minor unit")


# -- the export declaration ---------------------------------------------------------------------


def test_office_of_export_and_acceptance_date() -> None:
    subject = shipment()
    subject["exportDeclaration"] = {
        "scheme": "MRN",
        "value": "25DE3105EX00417363",
        "officeOfExport": {"officeCode": "DE003105", "country": "DE"},
        "acceptanceDate": "2025-02-25",
    }
    declared = export(subject)["credentialSubject"]["exportDeclaration"]
    assert declared["officeOfExport"] == {
        "type": "Place",
        "officeCode": "DE003105",
        "country": "DE",
    }
    assert declared["acceptanceDate"] == "2025-02-25"
    subject["exportDeclaration"]["acceptanceDate"] = "2025-02-28"
    refused(export, subject, f"{S}/exportDeclaration/acceptanceDate", "accepted after")


def test_no_export_declaration_required_states_why() -> None:
    subject = shipment()
    del subject["exportDeclaration"]
    subject["exportDeclarationNotRequired"] = {
        "reason": "crude oil by pipeline under a periodic summary declaration",
        "legalBasis": "a national exemption (example)",
    }
    vc = export(subject)
    assert "exportDeclaration" not in vc["credentialSubject"]
    assert vc["credentialSubject"]["exportDeclarationNotRequired"]["reason"].startswith("crude")


def test_a_declaration_or_its_absence_but_not_both() -> None:
    subject = shipment()
    subject["exportDeclarationNotRequired"] = {"reason": "exempt"}
    refused(export, subject, f"{S}/exportDeclaration", "one of the two")
    del subject["exportDeclaration"], subject["exportDeclarationNotRequired"]
    refused(export, subject, f"{S}/exportDeclaration", "one of the two")
    subject["exportDeclarationNotRequired"] = {}
    refused(export, subject, f"{S}/exportDeclarationNotRequired/reason", "required")


# -- bad AEO input -------------------------------------------------------------------------


def test_malformed_eori() -> None:
    subject = trader()
    subject["identifier"][0]["value"] = "DE12345678901234567"
    refused(aeo, subject, f"{S}/identifier/0/value", "not a valid Economic Operators")


@pytest.mark.parametrize("country", ["XX", "de", "DEU", "", None])
def test_bad_country(country: Any) -> None:
    subject = trader()
    subject["country"] = country
    message = "is required" if country is None else "ISO 3166-1 alpha-2"
    refused(aeo, subject, f"{S}/country", message)


@pytest.mark.parametrize("day", ["2024-02-30", "20240101", "2024-1-5", "yesterday"])
def test_bad_date(day: str) -> None:
    subject = trader()
    subject["certification"]["lastValidated"] = day
    refused(aeo, subject, f"{S}/certification/lastValidated", "date")


def test_tier_must_belong_to_the_programme() -> None:
    subject = trader()
    subject["certification"]["tier"] = "TIER3"
    refused(aeo, subject, f"{S}/certification/tier", "expected one of AEOC, AEOS, AEOF")


def test_programme_must_run_in_the_traders_country() -> None:
    subject = trader()
    subject["certification"]["programme"] = "JP-AEO"
    subject["certification"]["tier"] = "EXPORTER"
    refused(aeo, subject, f"{S}/certification/programme", "not DE")


def test_unknown_trade_role() -> None:
    subject = trader()
    subject["certification"]["tradeRoles"] = ["exporter", "smuggler"]
    refused(aeo, subject, f"{S}/certification/tradeRoles/1", "trade role")


def test_certification_cannot_start_after_the_credential() -> None:
    subject = trader()
    subject["certification"]["certifiedSince"] = "2025-06-01"
    refused(aeo, subject, f"{S}/certification/certifiedSince", "after validFrom")


def test_unexpected_member_is_refused() -> None:
    subject = trader()
    subject["vatNumber"] = "DE999999999"
    refused(aeo, subject, f"{S}/vatNumber", "unexpected member 'vatNumber'")


def test_wrong_type_is_refused() -> None:
    subject = trader()
    subject["type"] = "Person"
    refused(aeo, subject, f"{S}/type", "type must be 'Organization'")


def test_naive_datetime_is_refused() -> None:
    with pytest.raises(MalformedError, match="timezone-aware") as caught:
        aeo(trader(), valid_from=datetime(2025, 3, 3))
    assert caught.value.pointer == "/validFrom"


def test_valid_until_after_valid_from() -> None:
    with pytest.raises(MalformedError) as caught:
        aeo(trader(), valid_until=ISSUED_AT)
    assert caught.value.pointer == "/validUntil"


def test_issuer_must_be_a_uri() -> None:
    with pytest.raises(MalformedError) as caught:
        aeo(trader(), issuer="German customs")
    assert caught.value.pointer == "/issuer"


# -- bad export input ------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["8459.61", "84596", "84596100001", "8459 61", "abcdef"])
def test_bad_hs_code(code: str) -> None:
    subject = shipment()
    subject["lineItems"][1]["hsCode"] = code
    refused(export, subject, f"{S}/lineItems/1/hsCode", "6 to 10 digits")


@pytest.mark.parametrize("currency", ["EURO", "eur", "XXX", "ZZZ"])
def test_bad_currency(currency: str) -> None:
    subject = shipment()
    subject["invoice"]["currency"] = currency
    refused(export, subject, f"{S}/invoice/currency", "ISO 4217")


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        (184250.0, "decimal strings"),
        (184250, "decimal strings"),
        ("184,250.00", "not a decimal amount"),
        ("-5.00", "not a decimal amount"),
        ("1e5", "not a decimal amount"),
        ("12.1234567", "not a decimal amount"),
        ("", "not a decimal amount"),
    ],
)
def test_bad_amount(amount: Any, message: str) -> None:
    subject = shipment()
    subject["invoice"]["totalAmount"] = amount
    refused(export, subject, f"{S}/invoice/totalAmount", message)


def test_quantity_must_be_positive() -> None:
    subject = shipment()
    subject["lineItems"][0]["quantity"] = "0"
    refused(export, subject, f"{S}/lineItems/0/quantity", "greater than zero")


@pytest.mark.parametrize("rule", ["DAT", "fob", "FOB 2020", "DDU"])
def test_incoterms_must_be_2020_rules(rule: str) -> None:
    # DAT and DDU are Incoterms 2010 / 2000 rules that Incoterms 2020 no longer has.
    subject = shipment()
    subject["invoice"]["incoterms"] = rule
    refused(export, subject, f"{S}/invoice/incoterms", "not an Incoterms 2020 rule")


def test_bad_origin_country() -> None:
    subject = shipment()
    subject["lineItems"][0]["originCountry"] = "EU"
    refused(export, subject, f"{S}/lineItems/0/originCountry", "ISO 3166-1")


def test_bad_exit_date() -> None:
    subject = shipment()
    subject["exitDate"] = "2025-13-01"
    refused(export, subject, f"{S}/exitDate", "date")


def test_exit_cannot_be_after_the_attestation() -> None:
    subject = shipment()
    subject["exitDate"] = "2025-03-04"
    refused(export, subject, f"{S}/exitDate", "after validFrom")


@pytest.mark.parametrize("destination", ["DE", "FR"])
def test_destination_must_be_outside_the_customs_territory(destination: str) -> None:
    subject = shipment()
    subject["destinationCountry"] = destination
    refused(export, subject, f"{S}/destinationCountry", "not an export")


@pytest.mark.parametrize(
    ("scheme", "value", "where"),
    [
        ("MRN", "25DE47110000123", "value"),
        ("MRN", "25ZZ471100001234E5", "value"),
        ("ITN", "20250224123456", "value"),
        ("EAD", "123", "scheme"),
    ],
)
def test_bad_export_declaration(scheme: str, value: str, where: str) -> None:
    subject = shipment()
    subject["exportDeclaration"] = {"scheme": scheme, "value": value}
    with pytest.raises(MalformedError) as caught:
        export(subject)
    assert caught.value.pointer == f"{S}/exportDeclaration/{where}"


def test_mrn_with_a_wrong_check_character_is_refused() -> None:
    subject = shipment()
    subject["exportDeclaration"] = {"scheme": "MRN", "value": "25DE3105EX00417364"}
    refused(export, subject, f"{S}/exportDeclaration/value", "check character")
    subject["exportDeclaration"] = {"scheme": "MRN", "value": "25DE3105EX00417363"}
    assert export(subject)["credentialSubject"]["exportDeclaration"]["value"].endswith("3")


def test_transport_mode_is_a_rec_19_code() -> None:
    subject = shipment()
    subject["modeOfTransport"] = "sea"
    refused(export, subject, f"{S}/modeOfTransport", "Recommendation 19")


def test_line_items_are_required() -> None:
    subject = shipment()
    subject["lineItems"] = []
    refused(export, subject, f"{S}/lineItems", "at least 1")


def test_missing_consignee() -> None:
    subject = shipment()
    del subject["consignee"]
    refused(export, subject, f"{S}/consignee", "'consignee' is required")


def test_party_identifier_errors_point_into_the_party() -> None:
    subject = shipment()
    subject["exporter"]["identifier"][0]["value"] = "DE 4711"
    refused(export, subject, f"{S}/exporter/identifier/0/value", "Economic Operators")


def test_export_issued_now_is_fine() -> None:
    vc = export(shipment(), valid_from=datetime.now(UTC))
    assert vc["credentialSubject"]["exitDate"] == "2025-02-27"
