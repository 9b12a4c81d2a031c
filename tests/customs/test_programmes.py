"""The programmes table and the MRA table hold together."""

from __future__ import annotations

from datetime import date
from itertools import combinations

import pytest

from vcred.customs._codes import COUNTRIES, EU_MEMBER_STATES
from vcred.customs.programmes import (
    BENEFITS,
    MRAS,
    PROGRAMMES,
    mra_between,
    mra_by_id,
    mras_for,
    programme,
    programmes_for_country,
)
from vcred.errors import UsageError

REQUIRED_PROGRAMMES = {
    "US-CTPAT": {"TIER1", "TIER2", "TIER3", "TRADE_COMPLIANCE"},
    "EU-AEO": {"AEOC", "AEOS", "AEOF"},
    "UK-AEO": {"AEOC", "AEOS"},
    "JP-AEO": None,
    "CA-PIP": None,
    "MX-OEA": None,
    "KR-AEO": {"A", "AA", "AAA"},
    "SG-STP": {"STP", "STP-PLUS"},
}


@pytest.mark.parametrize(("code", "tiers"), sorted(REQUIRED_PROGRAMMES.items()))
def test_required_programmes_and_tiers(code: str, tiers: set[str] | None) -> None:
    found = programme(code)
    assert found.authority
    assert found.countries <= set(COUNTRIES)
    if tiers is not None:
        assert set(found.tiers) == tiers


def test_eu_programme_covers_the_member_states() -> None:
    assert PROGRAMMES["EU-AEO"].countries == EU_MEMBER_STATES
    assert len(EU_MEMBER_STATES) == 27
    assert [p.code for p in programmes_for_country("FR")] == ["EU-AEO"]


def test_unknown_programme_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="unknown AEO programme"):
        programme("XX-AEO")


@pytest.mark.parametrize("mra", MRAS, ids=lambda m: m.id)
def test_every_mra_references_known_programmes(mra) -> None:  # type: ignore[no-untyped-def]
    first, second = mra.programmes
    assert first in PROGRAMMES
    assert second in PROGRAMMES
    assert first < second
    assert mra.id == f"urn:vcred:mra:{first.lower()}:{second.lower()}"
    assert set(mra.recognised_tiers) <= set(mra.programmes)
    for code, tiers in mra.recognised_tiers.items():
        assert tiers <= set(PROGRAMMES[code].tiers)
    assert set(mra.benefits) <= set(BENEFITS)
    assert mra.source
    assert mra.verified or mra.note, "an unverified MRA says why"


@pytest.mark.parametrize("mra", MRAS, ids=lambda m: m.id)
def test_mra_dates_are_consistent(mra) -> None:  # type: ignore[no-untyped-def]
    parts = [int(p) for p in mra.signed.split("-")]
    signed = date(parts[0], parts[1], parts[2] if len(parts) == 3 else 1)
    assert date(2007, 1, 1) <= signed <= date(2025, 12, 31)
    assert mra.since >= signed
    if mra.effective is not None:
        assert mra.effective >= signed


def test_no_pair_appears_twice() -> None:
    pairs = [frozenset(m.programmes) for m in MRAS]
    assert len(pairs) == len(set(pairs))


def test_lookups_are_symmetric() -> None:
    for a, b in combinations(PROGRAMMES, 2):
        assert mra_between(a, b) is mra_between(b, a)
        found = mra_between(a, b)
        if found is not None:
            assert found.partner_of(a) == b
            assert found.partner_of(b) == a
            assert found in list(mras_for(a))
            assert found in list(mras_for(b))
            assert mra_by_id(found.id) is found


@pytest.mark.parametrize(
    ("a", "b", "since"),
    [
        ("US-CTPAT", "EU-AEO", date(2012, 7, 1)),
        ("US-CTPAT", "JP-AEO", date(2009, 6, 26)),
        ("EU-AEO", "JP-AEO", date(2011, 5, 24)),
        ("US-CTPAT", "CA-PIP", date(2008, 6, 1)),
        ("US-CTPAT", "KR-AEO", date(2010, 6, 25)),
        ("US-CTPAT", "MX-OEA", date(2014, 10, 1)),
        ("US-CTPAT", "SG-STP", date(2014, 12, 1)),
        ("EU-AEO", "CN-AEO", date(2015, 11, 1)),
        ("EU-AEO", "UK-AEO", date(2021, 1, 1)),
        ("US-CTPAT", "UK-AEO", date(2021, 1, 1)),
        ("CA-PIP", "JP-AEO", date(2010, 6, 25)),
        ("CA-PIP", "KR-AEO", date(2010, 6, 25)),
        ("JP-AEO", "KR-AEO", date(2011, 5, 1)),
    ],
)
def test_known_arrangements(a: str, b: str, since: date) -> None:
    mra = mra_between(a, b)
    assert mra is not None
    assert mra.since == since


def test_pairs_without_an_arrangement() -> None:
    # The EU has no AEO MRA with Korea, Canada or Singapore; the US none with China.
    assert mra_between("EU-AEO", "KR-AEO") is None
    assert mra_between("EU-AEO", "CA-PIP") is None
    assert mra_between("US-CTPAT", "CN-AEO") is None


def test_eu_recognises_only_security_certificates() -> None:
    for mra in mras_for("EU-AEO"):
        assert mra.recognises("EU-AEO", "AEOF")
        assert mra.recognises("EU-AEO", "AEOS")
        assert not mra.recognises("EU-AEO", "AEOC")


def test_in_force_is_inclusive_of_both_ends() -> None:
    mra = mra_between("US-CTPAT", "EU-AEO")
    assert mra is not None
    assert not mra.in_force(date(2012, 6, 30))
    assert mra.in_force(date(2012, 7, 1))


def test_partner_of_a_stranger_is_a_usage_error() -> None:
    mra = mra_between("US-CTPAT", "EU-AEO")
    assert mra is not None
    with pytest.raises(UsageError):
        mra.partner_of("JP-AEO")


def test_unverified_arrangements_are_few_and_flagged() -> None:
    assert {m.id for m in MRAS if not m.verified} == {"urn:vcred:mra:jp-aeo:uk-aeo"}
