"""Identifier schemes: forms and check digits."""

from __future__ import annotations

import pytest

from vcred.customs.identifiers import (
    SCHEMES,
    check_identifier,
    japan_corporate_number_check,
    lei_check,
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
