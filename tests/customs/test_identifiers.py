"""Identifier schemes: forms and check digits."""

from __future__ import annotations

import pytest

from vcred.customs.identifiers import (
    SCHEMES,
    check_identifier,
    construct_mid,
    gs1_check_digit,
    japan_corporate_number_check,
    lei_check,
    luhn_check,
    mrn_check,
    mrn_check_character,
)
from vcred.errors import MalformedError

P = "/credentialSubject/identifier/0"


@pytest.mark.parametrize("scheme", sorted(SCHEMES))
def test_each_scheme_accepts_its_example(scheme: str) -> None:
    example = SCHEMES[scheme].example
    assert check_identifier({"scheme": scheme, "value": example}, P) == {
        "scheme": scheme,
        "value": example,
    }


def test_lei_check_digits_gleif_own_lei() -> None:
    # GLEIF's own LEI (https://search.gleif.org/#/record/506700GE1G29325QX363).
    assert lei_check("506700GE1G29325QX363")
    assert not lei_check("506700GE1G29325QX364")


def test_japan_corporate_number_of_the_national_tax_agency() -> None:
    # The National Tax Agency's own corporate number.
    assert japan_corporate_number_check("7000012050002")
    assert not japan_corporate_number_check("6000012050002")


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("DE1234567890123456", "16 characters after the country code"),
        ("de123456789", "lower case"),
        ("ZZ123456789", "not a country"),
        ("DE12345 6789", "a space"),
        ("D", "no number"),
    ],
)
def test_malformed_eori_is_refused(value: str, why: str) -> None:
    with pytest.raises(MalformedError, match="not a valid Economic Operators") as caught:
        check_identifier({"scheme": "EORI", "value": value}, P)
    assert caught.value.pointer == f"{P}/value", why


def test_xi_eori_for_northern_ireland_is_accepted() -> None:
    assert check_identifier({"scheme": "EORI", "value": "XI123456789000"}, P)


@pytest.mark.parametrize(
    ("scheme", "value"),
    [("LEI", "506700GE1G29325QX364"), ("JP-CN", "6000012050002"), ("US-EIN", "123456789")],
)
def test_bad_check_digits_or_form(scheme: str, value: str) -> None:
    with pytest.raises(MalformedError) as caught:
        check_identifier({"scheme": scheme, "value": value}, P)
    assert caught.value.pointer == f"{P}/value"


def test_unknown_scheme_names_the_known_ones() -> None:
    with pytest.raises(MalformedError, match="unknown identifier scheme 'VAT'") as caught:
        check_identifier({"scheme": "VAT", "value": "123"}, P)
    assert caught.value.pointer == f"{P}/scheme"


def test_private_schemes() -> None:
    assert check_identifier({"scheme": "X-PORT-ID", "value": "ab/12"}, P)["scheme"] == "X-PORT-ID"
    with pytest.raises(MalformedError):
        check_identifier({"scheme": "X-PORT-ID", "value": " spaces "}, P)


def test_extra_members_and_missing_ones() -> None:
    with pytest.raises(MalformedError) as caught:
        check_identifier({"scheme": "EORI", "value": "DE1", "issued": "2020"}, P)
    assert caught.value.pointer == f"{P}/issued"
    with pytest.raises(MalformedError) as caught:
        check_identifier({"scheme": "EORI"}, P)
    assert caught.value.pointer == f"{P}/value"


# Valid and invalid examples per scheme: each invalid one says what rejects it. Sources: the
# scheme's `source` (vcred.customs.identifiers) and the worked examples of
# ../shared/domain/identifier-schemes.json (GLEIF, NTA, stdnum test vectors, CBP's MID rules).
VALID: dict[str, tuple[str, ...]] = {
    "EORI": ("DE470915538000001", "NL859302217", "GB123456789000", "XI123456789000"),
    "US-MID": (
        "HKBLUGAR1187KOW",
        "XQMAPCRE2250LAV",
        "TWKTSPRE88TAI",
        "AUOZR92MEL",
        "DENORBAN12DUI",
        "MXACEDEL2250MON",
    ),
    "US-IOR": ("27-481516300", "252704-01234", "123-45-6789"),
    "US-EIN": ("12-3456789", "74-2960318", "98-7654321"),
    "CTPAT": ("12008", "68412"),
    "JP-CN": ("7000012050002", "7123456789012", "5835678256246", "3180001073512"),
    "CA-BN": ("847312956", "123026635", "847312956RM0001", "123026635RC0001"),
    "MX-RFC": ("OME910101TA3", "EAU150101AB8"),
    "KR-BRN": ("214-87-07132", "116-82-00276", "134-86-72683"),
    "LEI": ("506700GE1G29325QX363",),
    "NZBN": ("9429000000000", "9429000000017", "9429000047111"),
    # a worked example of GB 32100-2015's check character, and one in published guides
    "CN-USCC": ("91350100M000100Y43", "91420000737944946L"),
}
INVALID: dict[str, tuple[tuple[str, str], ...]] = {
    "EORI": (
        ("DE4709155380000012", "format: 16 characters after the country code"),
        ("470915538000001", "format: no country code"),
        ("ZZ123456789", "the prefix is not a country"),
    ),
    "US-MID": (
        ("CAMAPCRE2250LAV", "CA is never a MID country: Canadian MIDs use the province code"),
        ("XQ MAPCRE 2250 LAV", "format: spaces"),
        ("XQMAPCRE22500LAVAL", "format: longer than 15 characters"),
        ("ZZMAPCRE2250LAV", "not a country"),
        ("HKBLUGAR1187", "construction: no city part"),
    ),
    "US-IOR": (
        ("27-4815163OI", "format: the suffix may not contain O or I"),
        ("27-4815163", "format: the IRS form needs its 2-character suffix"),
        ("07-481516300", "07 is not an EIN prefix the IRS assigns"),
    ),
    "US-EIN": (
        ("123456789", "format: no hyphen"),
        ("00-1234567", "00 is not an EIN prefix"),
        ("89-1234567", "89 is not an EIN prefix"),
    ),
    "CTPAT": (("9", "format: too short"), ("CTP-000123456", "format: a hyphen")),
    "JP-CN": (
        ("2835678256246", "check digit: 5 expected"),
        ("0123456789012", "format: the first digit is never 0"),
    ),
    "CA-BN": (
        ("847312957", "Luhn"),
        ("847312957RM0001", "Luhn on the BN9 part"),
        ("847312956RX0001", "format: RX is not a program identifier"),
    ),
    "MX-RFC": (
        ("OME910101TA4", "check character: 3 expected"),
        ("OME910231TA3", "construction: 31 February"),
        ("AR12%$34567", "format"),
    ),
    "KR-BRN": (
        ("116-82-00278", "check digit: 6 expected"),
        ("123-45-67890", "check digit"),
        ("100-82-00276", "construction: the tax office part is at least 101"),
    ),
    "LEI": (("506700GE1G29325QX364", "check digits"),),
    "NZBN": (
        ("9429041234567", "GS1 check digit: 3 expected"),
        ("9429000000001", "GS1 check digit: 0 expected"),
        ("942900000000", "format: 12 digits"),
        ("9529000000007", "format: an NZBN starts with 94"),
    ),
    "CN-USCC": (
        ("91110000100000000X", "check character: R expected"),
        ("91350100M000100Y44", "check character: 3 expected"),
        ("91350100M000100I43", "format: I is not a GB 32100 character"),
    ),
}


@pytest.mark.parametrize(
    ("scheme", "value"), [(s, v) for s, values in VALID.items() for v in values]
)
def test_valid_identifier_examples(scheme: str, value: str) -> None:
    assert check_identifier({"scheme": scheme, "value": value}, P)["value"] == value


@pytest.mark.parametrize(
    ("scheme", "value", "why"),
    [(s, v, why) for s, cases in INVALID.items() for v, why in cases],
)
def test_invalid_identifier_examples_are_refused_with_a_pointer(
    scheme: str, value: str, why: str
) -> None:
    with pytest.raises(MalformedError, match="is not a valid") as caught:
        check_identifier({"scheme": scheme, "value": value}, P)
    assert caught.value.pointer == f"{P}/value", why


def test_every_checked_scheme_has_valid_and_invalid_examples() -> None:
    checked = {code for code, s in SCHEMES.items() if s.check is not None}
    assert checked <= VALID.keys() & INVALID.keys()


@pytest.mark.parametrize(
    ("name", "street", "city", "country", "mid"),
    [
        # 19 CFR Part 102 Appendix and the worked examples of CBP / FedEx
        (
            "The Blue-Heron Garment and Knitting Co., Ltd.",
            "1187 Lantern Bay Road, Unit 7",
            "Kowloon",
            "HK",
            "HKBLUGAR1187KOW",
        ),
        (
            "Maple Crest Furniture Inc.",
            "2250 Boulevard Industriel, Suite 310",
            "Laval",
            "XQ",
            "XQMAPCRE2250LAV",
        ),
        (
            "K.T.S. Precision Gear Co., Ltd.",
            "No. 88, Sec. 2, Gongye 9th Rd.",
            "Taichung",
            "TW",
            "TWKTSPRE88TAI",
        ),
        ("Ozrock", "92 Alice Springs Road", "Melbourne", "AU", "AUOZR92MEL"),
        ("A.B.C. Company", "11455 Main Street Suite 9999", "Omaha", "US", "USABCCOM1145OMA"),
        (
            "The Garment and Textiles Company Co. Ltd",
            "12,34,56 Akasaka Road",
            "Tokyo",
            "JP",
            "JPGARTEX1234TOK",
        ),
        ("Rawles-Aden Corp.", "7 12th Street", "Tokyo", "JP", "JPRAWCOR7TOK"),
        ("20th Century Fox", "Hauptstrasse", "Berlin", "DE", "DE20TCENBER"),
        ("Concept 2000", "12-34 56 Akasaka Road", "Osaka", "JP", "JPCON2001234OSA"),
    ],
)
def test_mid_construction_rules(name: str, street: str, city: str, country: str, mid: str) -> None:
    assert construct_mid(country=country, name=name, street=street, city=city) == mid
    assert check_identifier({"scheme": "US-MID", "value": mid}, P)["value"] == mid


def test_mid_for_canada_needs_the_province_code() -> None:
    with pytest.raises(MalformedError, match="province"):
        construct_mid(country="CA", name="Maple Crest", street="1 Rue", city="Laval")


@pytest.mark.parametrize(
    ("mrn", "check"), [("06DE586600006143E1", "1"), ("25DE3105EX00417363", "3")]
)
def test_mrn_check_character(mrn: str, check: str) -> None:
    # 06DE586600006143E1: the German export MRN published as an example (riege.com).
    assert mrn_check_character(mrn) == check
    assert mrn_check(mrn)
    assert not mrn_check(mrn[:17] + str((int(check) + 1) % 10))


def test_iso6346_letter_values_skip_multiples_of_eleven() -> None:
    # ISO 6346: A=10, B=12 (11 skipped), K=21, L=23 (22 skipped), U=32, V=34 (33 skipped),
    # Z=38. One letter at position 0 (weight 1), zeros elsewhere: the value mod 11 mod 10.
    for letter, value in {"A": 10, "B": 12, "K": 21, "L": 23, "U": 32, "V": 34, "Z": 38}.items():
        assert mrn_check_character(letter + "0" * 16) == str(value % 11 % 10), letter


@pytest.mark.parametrize(
    "key",
    # GTIN-13 and EAN-8 numbers of published check digit examples, and a GLN (an NZBN)
    ["6291041500213", "5901234123457", "96385074", "9429000000000"],
)
def test_gs1_check_digit(key: str) -> None:
    assert gs1_check_digit(key[:-1]) == key[-1]


def test_luhn() -> None:
    assert luhn_check("79927398713")
    assert not luhn_check("79927398710")
