"""Identifier schemes for traders: EORI, CTPAT account, SVI number, LEI, national numbers.

An identifier in a credential is ``{"scheme": "EORI", "value": "DE123456789012345"}``.
Schemes whose issuing body publishes a check digit are checked (LEI, Japan Corporate
Number); the others are checked for form only. Private schemes start with ``X-``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from ..errors import MalformedError
from ._codes import COUNTRIES
from ._fields import child, mapping, no_extra, required


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
    right, Qn = 1 for odd n and 2 for even n.
    https://www.houjin-bangou.nta.go.jp/en/setsumei/
    """
    base = value[1:]
    total = sum(int(d) * (1 if n % 2 else 2) for n, d in enumerate(reversed(base), start=1))
    return int(value[0]) == 9 - total % 9


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
        # CBP assigns CTPAT account numbers and SVI numbers in the CTPAT Portal and publishes
        # no format; we accept letters and digits only, to keep out free text.
        IdentifierScheme(
            "CTPAT",
            "CTPAT account number (CBP)",
            re.compile(r"[A-Z0-9]{4,20}"),
            "12008",
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
            "123-45-67890",
        ),
        IdentifierScheme(
            "CA-BN",
            "Canada Business Number, optionally with a program account (CRA)",
            re.compile(r"[0-9]{9}([A-Z]{2}[0-9]{4})?"),
            "123456789RM0001",
        ),
        IdentifierScheme(
            "MX-RFC",
            "Mexico Registro Federal de Contribuyentes (SAT)",
            re.compile(r"[A-ZÑ&]{3,4}[0-9]{6}[A-Z0-9]{3}"),
            "ABC010101AB1",
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
            "91110000100000000X",
        ),
        IdentifierScheme(
            "NZBN",
            "New Zealand Business Number",
            re.compile(r"94[0-9]{11}"),
            "9429000000000",
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
    known = SCHEMES.get(scheme)
    if known is None:
        raise MalformedError(
            f"unknown identifier scheme {scheme!r}; known: {', '.join(SCHEMES)} "
            "(or a private scheme starting with 'X-')",
            pointer=child(pointer, "scheme"),
        )
    if not known.pattern.fullmatch(number) or (known.check and not known.check(number)):
        raise MalformedError(
            f"{number!r} is not a valid {known.name}; for example {known.example!r}",
            pointer=child(pointer, "value"),
        )
    return {"scheme": scheme, "value": number}
