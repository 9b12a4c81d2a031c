"""Every sample credential validates against its schema; breaking one is caught and located."""

from __future__ import annotations

import json
import re
from copy import deepcopy
from importlib.resources import files
from typing import Any

import pytest

from vcred.customs._codes import COUNTRIES, CURRENCIES, INCOTERMS_2020, TRANSPORT_MODES
from vcred.customs.programmes import PROGRAMMES, TRADE_ROLES
from vcred.customs.samples import (
    TRADERS,
    aeo_certificate,
    all_samples,
    export_billing_attestation,
    sample_trust_list,
)
from vcred.errors import SchemaMismatchError, SchemaViolationsError
from vcred.schema import check_schema

SAMPLES = {
    **all_samples(),
    **{f"trust-list:{p}": sample_trust_list(p) for p in ("US-CTPAT", "EU-AEO", "JP-AEO")},
}


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_every_sample_validates_against_its_schema(name: str) -> None:
    credential = SAMPLES[name]
    assert check_schema(credential) == (credential["credentialSchema"]["id"],)


def test_samples_cover_several_countries_and_programmes() -> None:
    assert len({t["country"] for t in TRADERS.values()}) >= 8
    assert len({t["certification"]["programme"] for t in TRADERS.values()}) >= 8


def test_sample_names_are_plainly_fictional() -> None:
    words = (
        "Example",
        "Beispiel",
        "Exemple",
        "Ejemplo",
        "Contoh",
        "Yesi",
        "Rei",
        "Sample",
        "Specimen",
    )
    for trader in TRADERS.values():
        assert any(w in trader["legalName"] for w in words), trader["legalName"]


def _drop(document: dict[str, Any], pointer: str) -> None:
    *parents, last = pointer.strip("/").split("/")
    node: Any = document
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    del node[last]


@pytest.mark.parametrize(
    ("sample", "pointer"),
    [
        ("aeo:de-beispiel", "/credentialSubject/legalName"),
        ("aeo:de-beispiel", "/credentialSubject/certification/programme"),
        ("aeo:us-prairie", "/credentialSubject/certification/tier"),
        ("aeo:jp-rei", "/credentialSubject/identifier"),
        ("aeo:jp-rei", "/validUntil"),
        ("export:de-to-us", "/credentialSubject/invoice/currency"),
        ("export:de-to-us", "/credentialSubject/lineItems/1/hsCode"),
        ("export:us-to-jp", "/credentialSubject/exitDate"),
        ("export:us-to-jp", "/credentialSubject/exportDeclaration/value"),
        ("export:jp-to-us", "/validFrom"),
        ("export:jp-to-us", "/issuer"),
        ("trust-list:US-CTPAT", "/credentialSubject/recognisedIssuers/0/mutualRecognition/since"),
    ],
)
def test_missing_required_field_is_located(sample: str, pointer: str) -> None:
    credential = deepcopy(SAMPLES[sample])
    _drop(credential, pointer)
    with pytest.raises(SchemaMismatchError) as caught:
        check_schema(credential)
    assert caught.value.code == "SCHEMA_MISMATCH"
    assert caught.value.pointer == pointer
    assert pointer.rsplit("/", 1)[1] in caught.value.message


def test_every_violation_is_reported() -> None:
    credential = aeo_certificate("de-beispiel")
    subject = credential["credentialSubject"]
    subject["country"] = "ZZ"
    # Which levels a programme has is registry data; the schema checks a level's form.
    subject["certification"]["tier"] = "tier 1"
    del subject["legalName"]
    with pytest.raises(SchemaViolationsError) as caught:
        check_schema(credential)
    found = {v.pointer: v.message for v in caught.value.violations}
    assert set(found) == {
        "/credentialSubject/country",
        "/credentialSubject/certification/tier",
        "/credentialSubject/legalName",
    }
    assert "ISO 3166-1" in found["/credentialSubject/country"]
    assert "expected form" in found["/credentialSubject/certification/tier"]
    assert "and 2 more" in caught.value.message
    assert all(v.as_dict()["code"] == "SCHEMA_MISMATCH" for v in caught.value.violations)


def test_withheld_amounts_still_validate() -> None:
    # An SD-JWT holder may withhold the disclosable amounts: the schema does not need them.
    credential = export_billing_attestation("de-to-us")
    subject = credential["credentialSubject"]
    del subject["invoice"]["totalAmount"]
    for item in subject["lineItems"]:
        del item["unitPrice"], item["amount"]
    check_schema(credential)


def test_amount_as_a_json_number_fails_the_schema() -> None:
    credential = export_billing_attestation("de-to-us")
    credential["credentialSubject"]["invoice"]["totalAmount"] = 184250.0
    with pytest.raises(SchemaMismatchError) as caught:
        check_schema(credential)
    assert caught.value.pointer == "/credentialSubject/invoice/totalAmount"


def test_schema_code_lists_equal_the_python_tables() -> None:
    defs = json.loads(files("vcred.schemas").joinpath("defs-v1.json").read_text())["$defs"]
    assert set(defs["countryCode"]["enum"]) == set(COUNTRIES)
    assert set(defs["currencyCode"]["enum"]) == set(CURRENCIES)
    assert defs["incoterms"]["enum"] == list(INCOTERMS_2020)
    assert defs["transportMode"]["enum"] == list(TRANSPORT_MODES)
    assert defs["tradeRole"]["enum"] == list(TRADE_ROLES)


def test_schema_does_not_enumerate_the_registry_but_accepts_its_codes() -> None:
    # Programmes are registry data: the schema's pattern accepts every registry code and level.
    defs = json.loads(files("vcred.schemas").joinpath("defs-v1.json").read_text())["$defs"]
    assert "enum" not in defs["programme"]
    programme = re.compile(defs["programme"]["pattern"])
    level = re.compile(defs["programmeLevel"]["pattern"])
    for code, found in PROGRAMMES.items():
        assert programme.fullmatch(code), code
        assert all(level.fullmatch(tier) for tier in found.tiers), code
