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
    first_day,
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
    assert mra.verified, "every MRA in the bundled registry has a source for its parties"


@pytest.mark.parametrize("mra", MRAS, ids=lambda m: m.id)
def test_mra_dates_are_consistent(mra) -> None:  # type: ignore[no-untyped-def]
    if mra.signed is not None:
        signed = first_day(mra.signed)
        assert date(2007, 1, 1) <= signed <= date(2026, 12, 31)
        assert mra.since >= signed
    if mra.effective is not None and mra.signed is not None:
        assert mra.effective >= first_day(mra.signed)
    assert mra.since is not None or not mra.in_force(date(2026, 1, 1))


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
        ("US-CTPAT", "EU-AEO", date(2012, 7, 31)),
        ("US-CTPAT", "JP-AEO", date(2009, 6, 30)),
        ("EU-AEO", "JP-AEO", date(2011, 5, 24)),
        ("US-CTPAT", "CA-PIP", date(2008, 6, 30)),
        ("US-CTPAT", "KR-AEO", date(2010, 6, 30)),
        ("US-CTPAT", "MX-OEA", date(2014, 10, 17)),
        ("US-CTPAT", "SG-STP", date(2014, 12, 1)),
        ("EU-AEO", "CN-AEO", date(2015, 11, 1)),
        ("EU-AEO", "UK-AEO", date(2021, 1, 1)),
        # concluded 21 January 2021 (CBP / HMRC announcement)
        ("US-CTPAT", "UK-AEO", date(2021, 1, 21)),
        # the EU-Canada JCCC decision: in force 1 August 2025
        ("EU-AEO", "CA-PIP", date(2025, 8, 1)),
        ("EU-AEO", "MD-AEO", date(2022, 11, 1)),
        ("EU-AEO", "CH-AEO", date(2009, 7, 1)),
        ("EU-AEO", "NO-AEO", date(2009, 7, 1)),
        ("US-CTPAT", "TW-AEO", date(2012, 11, 30)),
        ("US-CTPAT", "IL-AEO", date(2014, 6, 30)),
        ("US-CTPAT", "JO-GL", date(2008, 6, 30)),
        ("US-CTPAT", "DO-OEA", date(2015, 12, 7)),
        ("US-CTPAT", "PE-OEA", date(2018, 9, 30)),
        ("US-CTPAT", "IN-AEO", date(2021, 9, 30)),
        ("US-CTPAT", "UY-OEC", date(2022, 7, 31)),
        ("US-CTPAT", "BR-OEA", date(2022, 9, 30)),
        ("US-CTPAT", "GT-OEA", date(2023, 4, 17)),
        ("US-CTPAT", "CO-OEA", date(2023, 4, 17)),
        ("CA-PIP", "JP-AEO", date(2010, 6, 30)),
        ("CA-PIP", "KR-AEO", date(2010, 6, 30)),
        ("JP-AEO", "KR-AEO", date(2011, 5, 31)),
        ("SG-STP", "IN-AEO", date(2025, 5, 20)),
    ],
)
def test_known_arrangements(a: str, b: str, since: date) -> None:
    # a month or year the source gives is read as its last day (fail closed: before it, that
    # recognition had begun is not certain)
    mra = mra_between(a, b)
    assert mra is not None
    assert mra.since == since


def test_pairs_without_an_arrangement() -> None:
    # The EU has no AEO MRA with Korea or Singapore; the US none with China.
    assert mra_between("EU-AEO", "KR-AEO") is None
    assert mra_between("EU-AEO", "SG-STP") is None
    assert mra_between("US-CTPAT", "CN-AEO") is None


def test_eu_canada_is_in_force_from_1_august_2025() -> None:
    mra = mra_between("EU-AEO", "CA-PIP")
    assert mra is not None
    assert not mra.in_force(date(2025, 7, 31))
    assert mra.in_force(date(2025, 8, 1))
    assert mra.recognised_tiers == {"EU-AEO": frozenset({"AEOS", "AEOF"})}


def test_an_arrangement_without_any_date_is_never_in_force() -> None:
    # UK-Switzerland: no source gives a signing or in-force date.
    mra = mra_between("UK-AEO", "CH-AEO")
    assert mra is not None
    assert mra.since is None
    assert not mra.in_force(date(2026, 1, 1))


@pytest.mark.parametrize(
    "code",
    [
        "TW-AEO",
        "IL-AEO",
        "JO-GL",
        "DO-OEA",
        "PE-OEA",
        "IN-AEO",
        "UY-OEC",
        "BR-OEA",
        "GT-OEA",
        "CO-OEA",
        "CH-AEO",
        "NO-AEO",
        "MD-AEO",
        "AU-ATT",
        "HK-AEO",
        "MY-AEO",
        "TH-AEO",
    ],
)
def test_programmes_beyond_the_first_ten(code: str) -> None:
    found = programme(code)
    assert found.sources, "a source confirms the programme"
    assert found.countries <= set(COUNTRIES)
    assert list(mras_for(code)), "each has at least one arrangement"


def test_every_stated_fact_has_a_source_or_is_unconfirmed() -> None:
    for found in PROGRAMMES.values():
        sourced = {fact for s in found.sources for fact in s.facts}
        assert {"name", "authority", "levels"} <= sourced | set(found.unconfirmed), found.code
    for mra in MRAS:
        sourced = {fact for s in mra.sources for fact in s.facts}
        stated = {"parties"} | {
            fact
            for fact, value in (
                ("signed", mra.signed),
                ("inForce", mra.effective),
                ("listedSince", mra.listed_since),
                ("ended", mra.until),
                ("recognisedLevels", mra.recognised_tiers or None),
            )
            if value is not None
        }
        assert stated <= sourced | set(mra.unconfirmed), mra.id
        assert all(s.url.startswith(("https://", "http://")) for s in mra.sources)


def test_eu_recognises_only_security_certificates() -> None:
    for mra in mras_for("EU-AEO"):
        assert mra.recognises("EU-AEO", "AEOF")
        assert mra.recognises("EU-AEO", "AEOS")
        assert not mra.recognises("EU-AEO", "AEOC")


def test_recognises_fails_closed_on_a_tier_it_cannot_place() -> None:
    # as TrustList.evaluate: no tier where the MRA recognises only some, or a tier that is
    # none of the programme's, is not recognised (both were)
    mra = mra_between("US-CTPAT", "EU-AEO")
    assert mra is not None
    assert not mra.recognises("EU-AEO", None)
    assert not mra.recognises("US-CTPAT", "AEOS")
    assert not mra.recognises("US-CTPAT", "tier3")
    assert mra.recognises("US-CTPAT", "TIER3")
    assert mra.recognises("US-CTPAT", None)  # every US tier: the programme is recognised


def test_in_force_is_inclusive_of_both_ends() -> None:
    mra = mra_between("US-CTPAT", "EU-AEO")
    assert mra is not None
    assert not mra.in_force(date(2012, 7, 30))  # "in force 2012-07": certain on its last day
    assert mra.in_force(date(2012, 7, 31))


def test_partner_of_a_stranger_is_a_usage_error() -> None:
    mra = mra_between("US-CTPAT", "EU-AEO")
    assert mra is not None
    with pytest.raises(UsageError):
        mra.partner_of("JP-AEO")


def test_the_unconfirmed_uk_japan_arrangement_is_not_in_the_registry() -> None:
    # Reported as a UK continuity arrangement, but no public source confirms it.
    assert mra_between("UK-AEO", "JP-AEO") is None
