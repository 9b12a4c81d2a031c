"""Identifier schemes for traders: EORI, CTPAT account, SVI number, LEI, national numbers.

An identifier in a credential is ``{"scheme": "EORI", "value": "DE123456789012345"}``.
Schemes whose issuing body publishes a check digit are checked (LEI, Japan Corporate
Number, NZBN …); the others are checked for form only. Private schemes start with ``X-``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

from ..errors import MalformedError
from ._codes import COUNTRIES
from ._fields import child, mapping, no_extra, required
from .programmes import active_registry


@dataclass(frozen=True, slots=True)
class IdentifierScheme:
    code: str
    name: str
    pattern: re.Pattern[str]
    example: str
    check: Callable[[str], bool] | None = None
    source: str = ""


def _eori_prefix(value: str) -> bool:
    # Commission Implementing Regulation (EU) 2015/2447 Annex 12-01: the EORI number starts
    # with the code of the Member State that assigned it; HMRC assigns XI numbers for
    # Northern Ireland under the Windsor Framework.
    return value[:2] in COUNTRIES or value[:2] == "XI"


def lei_check(value: str) -> bool:
    """ISO 17442 check digits: ISO 7064 MOD 97-10 over the 20 characters (letters A=10…Z=35)."""
    return int("".join(str(int(c, 36)) for c in value)) % 97 == 1


def japan_corporate_number_check(value: str) -> bool:
    """Japan Corporate Number check digit (National Tax Agency): the first of 13 digits.

    check = 9 − (Σ Pn·Qn mod 9), Pn the n-th digit of the 12-digit base counted from the
    right, Qn = 1 for odd n and 2 for even n (MOF Ordinance No. 70 of 2014, Art. 2).
    https://www.houjin-bangou.nta.go.jp/en/setsumei/
    """
    base = value[1:13]
    total = sum(int(d) * (1 if n % 2 else 2) for n, d in enumerate(reversed(base), start=1))
    return int(value[0]) == 9 - total % 9


def luhn_check(digits: str) -> bool:
    """The Luhn (mod 10) checksum: from the right, every second digit doubled (ISO/IEC 7812-1)."""
    total = 0
    for n, d in enumerate(reversed(digits)):
        value = int(d) * (2 if n % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def gs1_check_digit(digits: str) -> str:
    """The check digit of a GS1 key (GTIN, GLN …) whose other digits are ``digits``: from the
    right, weights 3, 1, 3 …; the digit that brings the sum to a multiple of 10 (GS1 General
    Specifications, "Check digit calculation").
    """
    total = sum(int(d) * (1 if n % 2 else 3) for n, d in enumerate(reversed(digits)))
    return str(-total % 10)


def nzbn_check(value: str) -> bool:
    """An NZBN is a GS1 Global Location Number: 13 digits, the last its GS1 check digit."""
    return value[-1] == gs1_check_digit(value[:-1])


def canada_bn_check(value: str) -> bool:
    """Canadian Business Number: Luhn over its first 9 digits (a program account's
    identifier and reference number carry no check). The program identifiers are RC
    (corporate income tax), RM (import/export), RP (payroll) and RT (GST/HST).
    https://www.canada.ca/en/services/taxes/business-number.html
    """
    return luhn_check(value[:9])


_KR_BRN_WEIGHTS: Final = (1, 3, 7, 1, 3, 7, 1, 3, 5)


def korea_brn_check(value: str) -> bool:
    """Korean business registration number check digit (National Tax Service).

    Digits 1–9 weighted 1,3,7,1,3,7,1,3,5, plus ⌊digit9·5/10⌋; the tenth digit is
    (10 − total mod 10) mod 10. The tax office part is at least 101, the business type
    part is not 00 and the serial is not 0000.
    """
    digits = [int(d) for d in value.replace("-", "")]
    if int(value[:3]) < 101 or digits[3:5] == [0, 0] or digits[5:9] == [0, 0, 0, 0]:
        return False
    total = sum(w * d for w, d in zip(_KR_BRN_WEIGHTS, digits, strict=False))
    total += digits[8] * 5 // 10
    return digits[9] == (10 - total % 10) % 10


# SAT's character values for the RFC check character: the index in this string (Ñ = 38).
_RFC_ALPHABET: Final = "0123456789ABCDEFGHIJKLMN&OPQRSTUVWXYZ Ñ"


def mexico_rfc_check(value: str) -> bool:
    """Mexican RFC: a real date of incorporation (or birth), and the homoclave's check
    character — modulo 11 over the first 11 (company, padded with a leading space) or 12
    (person) characters weighted 13 … 2; 11 gives 0 and 10 gives A.

    SAT, "Algoritmo para generar el RFC con homoclave" (the check character step).
    """
    start = len(value) - 9
    try:
        date(
            2000 + int(value[start : start + 2]),
            int(value[start + 2 : start + 4]),
            int(value[start + 4 : start + 6]),
        )
    except ValueError:
        return False
    base = value[:-1].rjust(12)
    total = sum(_RFC_ALPHABET.index(c) * (13 - i) for i, c in enumerate(base))
    remainder = (11 - total % 11) % 11
    return value[-1] == ("A" if remainder == 10 else str(remainder))


# GB 32100-2015's characters and their values: the index in this string (no I, O, S, V, Z).
_USCC_ALPHABET: Final = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def china_uscc_check(value: str) -> bool:
    """China Unified Social Credit Code check character (GB 32100-2015): the 18th character
    is the one whose value is (31 − Σ Cᵢ·Wᵢ mod 31) mod 31 over the first 17, Wᵢ = 3^(i−1)
    mod 31 (1, 3, 9, 27, 19, 26, …)."""
    total = sum(_USCC_ALPHABET.index(c) * pow(3, i, 31) for i, c in enumerate(value[:17]))
    return value[17] == _USCC_ALPHABET[-total % 31]


def _ein_prefix(value: str) -> bool:
    # The IRS assigns EINs only under these campus and Internet prefixes ("How EINs are
    # assigned and valid EIN prefixes"): 00, 07–09, 17–19, 28, 29, 49, 69, 70, 78, 79, 89,
    # 96 and 97 are never issued.
    # https://www.irs.gov/businesses/small-businesses-self-employed/how-eins-are-assigned-and-valid-ein-prefixes
    return value[:2] in _EIN_PREFIXES


_EIN_PREFIXES: Final = frozenset(
    f"{n:02d}"
    for n in (
        *range(1, 7),
        *range(10, 17),
        *range(20, 28),
        *range(30, 40),
        *range(40, 49),
        *range(50, 69),
        *range(71, 78),
        *range(80, 89),
        *range(90, 96),
        98,
        99,
    )
)


def us_ior_check(value: str) -> bool:
    """An importer of record number (CBP Form 5106): its IRS form carries a valid EIN."""
    return len(value) != 12 or _ein_prefix(value)


# 19 CFR Part 102 Appendix: a Canadian manufacturer's MID starts with its province's code,
# never "CA".
CANADIAN_PROVINCE_CODES: Final[dict[str, str]] = {
    "XA": "Alberta",
    "XC": "British Columbia",
    "XM": "Manitoba",
    "XB": "New Brunswick",
    "XW": "Newfoundland and Labrador",
    "XT": "Northwest Territories",
    "XN": "Nova Scotia",
    "XV": "Nunavut",
    "XO": "Ontario",
    "XP": "Prince Edward Island",
    "XQ": "Quebec",
    "XS": "Saskatchewan",
    "XY": "Yukon",
}
# After the country: the name part (the first three characters of each of the first two
# words, digits kept), the largest number of the street line (up to 4 digits), the first
# three letters of the city. 15 characters at most.
_MID_BODY: Final = re.compile(r"[A-Z0-9]{1,6}?[0-9]{0,4}[A-Z]{1,3}")


def us_mid_check(value: str) -> bool:
    """A Manufacturer Identification Code built by CBP's rules (19 CFR Part 102 Appendix):
    an ISO 3166-1 country other than CA (a Canadian province code instead), then name,
    address number and city parts. Whether the parts were taken from the right words can
    only be checked against the manufacturer's name and address: :func:`construct_mid`.
    """
    country = value[:2]
    if country == "CA" or (country not in COUNTRIES and country not in CANADIAN_PROVINCE_CODES):
        return False
    return _MID_BODY.fullmatch(value[2:]) is not None


_MID_IGNORED_WORDS: Final = frozenset({"A", "AN", "AND", "OF", "THE"})
_STREET_NUMBER: Final = re.compile(r"(?<![A-Z0-9])[0-9](?:[0-9,\- ]*[0-9])?(?![A-Z0-9])")


def construct_mid(*, country: str, name: str, street: str, city: str) -> str:
    """The MID of a manufacturer, built by CBP's rules (19 CFR Part 102 Appendix).

    ``country``: the ISO 3166-1 code of the country of origin, or for Canada the province
    code (XQ …). Name: the first three characters of each of the first two words, ignoring
    the English words a, an, and, of, the; initials written together (A.B.C.) and
    hyphenated words are one word. Address: the first four digits of the largest number on
    the street line (punctuation between numbers ignored; a number that is a street name,
    "12th", is not used). City: its first three letters.

    Raises MalformedError for a country code a MID cannot start with.
    """
    if country == "CA" or (country not in COUNTRIES and country not in CANADIAN_PROVINCE_CODES):
        raise MalformedError(f"{country!r} cannot start a MID (Canada: use the province code)")
    words = []
    for raw in name.upper().split():
        word = re.sub(r"[^A-Z0-9]", "", raw)
        if word and word not in _MID_IGNORED_WORDS:
            words.append(word)
    name_part = "".join(word[:3] for word in words[:2])
    # Numbers on the street line; separators between groups of digits join them, a group
    # glued to letters ("12th") names a street.
    numbers = [re.sub(r"[^0-9]", "", run) for run in _STREET_NUMBER.findall(street.upper())]
    address_part = max(numbers, key=int)[:4] if numbers else ""
    city_part = re.sub(r"[^A-Z]", "", city.upper())[:3]
    return f"{country}{name_part}{address_part}{city_part}"[:15]


def mrn_check_character(value: str) -> str:
    """The check character of an EU Movement Reference Number (its 18th character).

    ISO 6346-based (EC document DGXXI/0879/99 Rev.1, UCC Annex B data element 12 03 002
    000): digits count as themselves, letters A=10 upwards skipping multiples of 11; each of
    the first 17 values is multiplied by 2^position, the sum taken modulo 11, 10 giving 0.
    """
    total = sum(_ISO6346_VALUES[c] << i for i, c in enumerate(value[:17]))
    return str(total % 11 % 10)


def _iso6346_values() -> dict[str, int]:
    values = {str(d): d for d in range(10)}
    n = 10
    for letter in "ABCDEFGHIJKLMNOPQRSTUVWXYZ":
        if n % 11 == 0:
            n += 1
        values[letter] = n
        n += 1
    return values


_ISO6346_VALUES: Final = _iso6346_values()


def mrn_check(value: str) -> bool:
    """An EU MRN: the issuing country's code and the check character (see above)."""
    return (value[2:4] in COUNTRIES or value[2:4] == "XI") and value[17] == mrn_check_character(
        value
    )


SCHEMES: Final[dict[str, IdentifierScheme]] = {
    s.code: s
    for s in (
        IdentifierScheme(
            "EORI",
            "Economic Operators Registration and Identification number (EU, UK)",
            re.compile(r"[A-Z]{2}[A-Z0-9]{1,15}"),
            "DE123456789012345",
            _eori_prefix,
            "https://taxation-customs.ec.europa.eu/customs-4/customs-procedures-import-and-export-0/"
            "customs-procedures/economic-operators-registration-and-identification-number-eori_en",
        ),
        # CBP assigns CTPAT account numbers in the CTPAT Portal and publishes no format; the
        # numbers it shows (the W3C-CCG CTPAT example: 12008) are digits. Letters and digits
        # only, to keep out free text.
        IdentifierScheme(
            "CTPAT",
            "CTPAT account number (CBP)",
            re.compile(r"[A-Z0-9]{4,20}"),
            "12008",
            source="https://w3c-ccg.github.io/traceability-vocab/#CTPATCertificate",
        ),
        IdentifierScheme(
            "SVI",
            "CTPAT Status Verification Interface number (CBP)",
            re.compile(r"[A-Z0-9]{4,20}"),
            "57118961",
        ),
        IdentifierScheme(
            "LEI",
            "Legal Entity Identifier (ISO 17442)",
            re.compile(r"[A-Z0-9]{18}[0-9]{2}"),
            "506700GE1G29325QX363",
            lei_check,
            "https://www.gleif.org/en/about-lei/iso-17442-the-lei-code-structure",
        ),
        IdentifierScheme(
            "US-EIN",
            "U.S. Employer Identification Number (IRS)",
            re.compile(r"[0-9]{2}-[0-9]{7}"),
            "12-3456789",
            _ein_prefix,
            "https://www.irs.gov/businesses/small-businesses-self-employed/"
            "how-eins-are-assigned-and-valid-ein-prefixes",
        ),
        # CBP Form 5106 (19 CFR 24.5): the IRS number with a 2-character suffix (no O, I or
        # Z), a Social Security number, or a CBP-assigned number (year, district/port,
        # serial).
        IdentifierScheme(
            "US-IOR",
            "U.S. importer of record number (CBP Form 5106)",
            re.compile(
                r"[0-9]{2}-[0-9]{7}[A-HJ-NP-Y0-9]{2}|[0-9]{3}-[0-9]{2}-[0-9]{4}|[0-9]{6}-[0-9]{5}"
            ),
            "27-481516300",
            us_ior_check,
            "https://www.cbp.gov/document/forms/form-5106-create-update-importer-identity-form",
        ),
        IdentifierScheme(
            "US-MID",
            "U.S. Manufacturer Identification Code (MID, 19 CFR Part 102 Appendix)",
            re.compile(r"[A-Z]{2}[A-Z0-9]{2,13}"),
            "HKBLUGAR1187KOW",
            us_mid_check,
            "https://www.ecfr.gov/current/title-19/chapter-I/part-102/appendix-Appendix%20to%20Part%20102",
        ),
        IdentifierScheme(
            "JP-CN",
            "Japan Corporate Number (houjin bangou, National Tax Agency)",
            re.compile(r"[1-9][0-9]{12}"),
            "7000012050002",
            japan_corporate_number_check,
            "https://www.houjin-bangou.nta.go.jp/en/",
        ),
        IdentifierScheme(
            "KR-BRN",
            "Korea business registration number (National Tax Service)",
            re.compile(r"[0-9]{3}-[0-9]{2}-[0-9]{5}"),
            "116-82-00276",
            korea_brn_check,
            "https://www.oecd.org/tax/automatic-exchange/crs-implementation-and-assistance/"
            "tax-identification-numbers/Korea-TIN.pdf",
        ),
        IdentifierScheme(
            "CA-BN",
            "Canada Business Number, optionally with a program account (CRA)",
            re.compile(r"[0-9]{9}((RC|RM|RP|RT)[0-9]{4})?"),
            "123026635RM0001",
            canada_bn_check,
            "https://www.canada.ca/en/services/taxes/business-number.html",
        ),
        IdentifierScheme(
            "MX-RFC",
            "Mexico Registro Federal de Contribuyentes (SAT)",
            re.compile(r"[A-ZÑ&]{3,4}[0-9]{6}[A-Z0-9]{2}[0-9A]"),
            "OME910101TA3",
            mexico_rfc_check,
            "https://www.sat.gob.mx/",
        ),
        IdentifierScheme(
            "SG-UEN",
            "Singapore Unique Entity Number",
            re.compile(r"[0-9]{8}[A-Z]|[0-9]{9}[A-Z]|[TSR][0-9]{2}[A-Z]{2}[0-9]{4}[A-Z]"),
            "201912345K",
        ),
        IdentifierScheme(
            "GB-CRN",
            "UK company registration number (Companies House)",
            re.compile(r"[0-9]{8}|[A-Z]{2}[0-9]{6}"),
            "01234567",
        ),
        IdentifierScheme(
            "CN-USCC",
            "China Unified Social Credit Code",
            re.compile(r"[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}"),
            "91350100M000100Y43",
            china_uscc_check,
            "https://www.chinesestandard.net/PDF/English.aspx/GB32100-2015",
        ),
        IdentifierScheme(
            "NZBN",
            "New Zealand Business Number",
            re.compile(r"94[0-9]{11}"),
            "9429000000000",
            nzbn_check,
            "https://www.nzbn.govt.nz/",
        ),
        IdentifierScheme(
            "EU-VAT",
            "EU VAT identification number (VIES)",
            re.compile(r"[A-Z]{2}[A-Z0-9]{2,12}"),
            "DE123456789",
        ),
        IdentifierScheme(
            "DUNS",
            "Dun & Bradstreet D-U-N-S number",
            re.compile(r"[0-9]{9}"),
            "123456789",
        ),
    )
}

_PRIVATE_SCHEME: Final = re.compile(r"X-[A-Z0-9-]{1,29}")
_PRIVATE_VALUE: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9/._-]{0,63}")


def _registered_scheme(code: str) -> IdentifierScheme | None:
    """A scheme a registry file added (docs/trust-fabric.md)."""
    return active_registry().schemes.get(code)


def check_identifier(value: Any, pointer: str) -> dict[str, str]:
    """Check one ``{scheme, value}`` identifier and return it as a new dict.

    Raises MalformedError with the pointer of the faulty member.
    """
    entry = mapping(value, pointer)
    no_extra(entry, {"scheme", "value"}, pointer)
    scheme = required(entry, "scheme", pointer)
    number = required(entry, "value", pointer)
    if not isinstance(scheme, str):
        raise MalformedError("the scheme is a string", pointer=child(pointer, "scheme"))
    if not isinstance(number, str):
        raise MalformedError("the identifier value is a string", pointer=child(pointer, "value"))
    if _PRIVATE_SCHEME.fullmatch(scheme):
        if not _PRIVATE_VALUE.fullmatch(number):
            raise MalformedError(
                "a private identifier is 1–64 letters, digits, '/', '.', '_' or '-'",
                pointer=child(pointer, "value"),
            )
        return {"scheme": scheme, "value": number}
    known = SCHEMES.get(scheme) or _registered_scheme(scheme)
    if known is None:
        raise MalformedError(
            f"unknown identifier scheme {scheme!r}; known: {', '.join(SCHEMES)} (and any a "
            "registry file adds) "
            "(or a private scheme starting with 'X-')",
            pointer=child(pointer, "scheme"),
        )
    if not known.pattern.fullmatch(number) or (known.check and not known.check(number)):
        raise MalformedError(
            f"{number!r} is not a valid {known.name}; for example {known.example!r}",
            pointer=child(pointer, "value"),
        )
    return {"scheme": scheme, "value": number}
