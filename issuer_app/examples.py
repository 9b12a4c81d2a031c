"""What the officer forms suggest, from the agency's own programme and country.

A US CBP officer's form shows a CTPAT number, an ITN and US dollars; a German one an EORI
"DE…", an MRN and euros. The examples are placeholders (shown as "e.g. …", never values);
the currency is a default value, the country's own (Babel's territory data). Without a
configured country the forms suggest nothing rather than another agency's numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from babel.numbers import get_territory_currencies

from vcred.customs.identifiers import gs1_check_digit, mrn_check_character
from vcred.customs.programmes import PROGRAMMES


@dataclass(frozen=True, slots=True, kw_only=True)
class FormExamples:
    """The examples of one country's forms (empty strings: no example to give)."""

    identifier: str = ""
    declaration_scheme: str = "NATIONAL"
    declaration: str = ""
    exit_office: str = ""
    origin: str = ""
    amount: str = "48250.00"
    currency: str = ""


_EU_COUNTRIES: Final = PROGRAMMES["EU-AEO"].countries


def _nzbn(first12: str) -> str:
    """An NZBN example ending in the GS1 check digit it must have."""
    return first12 + gs1_check_digit(first12)


#: Per country: an operator identifier (a scheme code of vcred.customs.identifiers and a
#: value), the export declaration's scheme and a number in its shape, an office of exit code.
#: Numbers are made up, in each scheme's published format (and check digit).
_BY_COUNTRY: Final[dict[str, FormExamples]] = {
    "US": FormExamples(
        identifier="CTPAT 48120",
        declaration_scheme="ITN",
        declaration="X20260415123456",
        exit_office="2704",
    ),
    "GB": FormExamples(
        identifier="EORI GB123456789000",
        declaration_scheme="MRN",
        declaration="26GB5B7C3A1F9E2D05",
        exit_office="GB000060",
    ),
    "JP": FormExamples(identifier="JP-CN 9234567890123", declaration="1234567890"),
    "CA": FormExamples(identifier="CA-BN 123456782RM0001", declaration="20261234567890"),
    "MX": FormExamples(identifier="MX-RFC ABC010101AB1", declaration="26 47 3807 6001234"),
    "KR": FormExamples(identifier="KR-BRN 123-45-67891", declaration="12345-26-123456X"),
    "SG": FormExamples(identifier="SG-UEN 201912345K", declaration="20261234567"),
    "CN": FormExamples(identifier="CN-USCC 91310000MA1FL1234Q", declaration="222020261234567890"),
    "NZ": FormExamples(identifier=f"NZBN {_nzbn('942900004711')}", declaration="2026123456"),
}


def _mrn(first17: str) -> str:
    """An MRN example whose 18th character is the check character it must have."""
    return first17 + mrn_check_character(first17)


def _eu(country: str) -> FormExamples:
    return FormExamples(
        identifier=f"EORI {country}4711000000815",
        declaration_scheme="MRN",
        declaration=_mrn(f"26{country}5B7C3A1F9E2D0"),
        exit_office=f"{country}004851",
    )


def form_examples(country: str | None) -> FormExamples:
    """The examples for an agency of ``country`` (ISO 3166-1 alpha-2; None: none)."""
    if not country:
        return FormExamples()
    base = _eu(country) if country in _EU_COUNTRIES else _BY_COUNTRY.get(country, FormExamples())
    currencies = get_territory_currencies(country)
    return FormExamples(
        identifier=base.identifier,
        declaration_scheme=base.declaration_scheme,
        declaration=base.declaration,
        exit_office=base.exit_office,
        origin=country,
        amount=base.amount,
        currency=currencies[0] if currencies else "",
    )
