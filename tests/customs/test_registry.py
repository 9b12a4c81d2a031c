"""The registry as data: bundled files, extension by a data file, and what a file may not say."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterator
from copy import deepcopy
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

import vcred
from vcred.customs._registry import bundled_registry, load_registry_file
from vcred.customs.builders import build_aeo_certificate
from vcred.customs.identifiers import check_identifier
from vcred.customs.programmes import PROGRAMMES, mra_between, registry_in_use, registry_paths
from vcred.customs.registry_schema import schema_registry
from vcred.errors import MalformedError, SchemaMismatchError, UsageError
from vcred.keys import KeyPair
from vcred.schema import check_schema
from vcred.trust import build_trust_list, load_signed_trust_list

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
SOURCE = "https://example.org/kenya-aeo-press-release"

# A new country, added by data alone. Fictional: the test names a real country code, but the
# programme, scheme, arrangement and source here are invented for the test.
NEW_COUNTRY: dict[str, Any] = {
    "identifierSchemes": [
        {
            "code": "KE-PIN",
            "name": "Kenya Revenue Authority personal identification number (test)",
            "pattern": "[AP][0-9]{9}[A-Z]",
            "example": "P051234567Q",
            "sources": [{"url": SOURCE, "confirms": "the PIN format", "facts": ["pattern"]}],
        }
    ],
    "programmes": [
        {
            "id": "KE-AEO",
            "name": "Authorised Economic Operator (Kenya, test)",
            "countries": ["KE"],
            "authority": "Kenya Revenue Authority (test)",
            "levels": [{"code": "AEO", "meaning": "Authorised Economic Operator"}],
            "roles": ["importer", "exporter"],
            "identifierSchemes": ["KE-PIN"],
            "sources": [
                {
                    "url": SOURCE,
                    "confirms": "KRA runs the AEO programme with one level",
                    "facts": ["name", "authority", "levels"],
                }
            ],
        }
    ],
    "arrangements": [
        {
            "id": "urn:vcred:mra:ke-aeo:us-ctpat",
            "name": "US-Kenya mutual recognition (test)",
            "parties": ["US-CTPAT", "KE-AEO"],
            "signed": "2026-01-15",
            "inForce": "2026-02-01",
            "sources": [
                {
                    "url": SOURCE,
                    "confirms": "signed 15 January 2026, in force 1 February 2026",
                    "facts": ["parties", "signed", "inForce"],
                }
            ],
        }
    ],
}


@pytest.fixture
def kenya(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "registry.d"
    folder.mkdir()
    path = folder / "50-kenya.json"
    path.write_text(json.dumps(NEW_COUNTRY), encoding="utf-8")
    with registry_in_use(registry_paths([folder])):
        yield path


def test_bundled_registry_holds_the_programmes_and_arrangements() -> None:
    registry = bundled_registry()
    assert len(registry.programmes) >= 27
    assert len(registry.arrangements) >= 55
    assert registry.files == (
        "vcred/customs/registry/programmes.json",
        "vcred/customs/registry/arrangements.json",
    )


def test_unknown_programme_before_the_country_is_added() -> None:
    assert "KE-AEO" not in PROGRAMMES
    with pytest.raises(MalformedError, match="unknown identifier scheme"):
        check_identifier({"scheme": "KE-PIN", "value": "P051234567Q"}, "/i")


def test_a_new_country_by_data_alone_is_issued_verified_and_trusted(kenya: Path) -> None:
    assert PROGRAMMES["KE-AEO"].authority == "Kenya Revenue Authority (test)"
    mra = mra_between("KE-AEO", "US-CTPAT")
    assert mra is not None and mra.since is not None and mra.since.isoformat() == "2026-02-01"

    ke_key = KeyPair.generate("ed25519")
    ke_did = vcred.did_key(ke_key.public)
    certificate = build_aeo_certificate(
        {
            "legalName": "Mfano Exporters Ltd",
            "country": "KE",
            "identifier": [{"scheme": "KE-PIN", "value": "P051234567Q"}],
            "certification": {
                "programme": "KE-AEO",
                "tier": "AEO",
                "tradeRoles": ["exporter"],
                "certifiedSince": "2025-11-03",
            },
        },
        issuer=ke_did,
        valid_from=NOW,
        valid_until=NOW.replace(year=2029),
    )
    token = vcred.issue(certificate, ke_key, now=NOW)

    us_key = KeyPair.generate("ed25519")
    us_did = vcred.did_key(us_key.public)
    trust_list = build_trust_list(
        [
            {
                "issuer": ke_did,
                "programme": "KE-AEO",
                "country": "KE",
                "acceptedCredentialTypes": ["AEOCertificateCredential"],
            }
        ],
        issuer=us_did,
        programme="US-CTPAT",
        valid_from=NOW,
        valid_until=NOW.replace(year=2027),
    )
    trust = load_signed_trust_list(vcred.issue(trust_list, us_key, now=NOW), now=NOW, anchor=us_did)
    verifier = dataclasses.replace(vcred.Verifier(clock=lambda: NOW), trust=trust)
    result = verifier.verify(token)
    assert result.verified, result.errors
    assert result.trust is not None and result.trust.trusted
    assert result.trust.mra is not None
    assert result.trust.mra.id == "urn:vcred:mra:ke-aeo:us-ctpat"


def test_a_wrong_identifier_under_a_data_scheme_is_refused(kenya: Path) -> None:
    with pytest.raises(MalformedError) as caught:
        check_identifier({"scheme": "KE-PIN", "value": "X051234567Q"}, "/credentialSubject/i")
    assert caught.value.pointer == "/credentialSubject/i/value"


def test_a_later_file_replaces_an_arrangement(tmp_path: Path) -> None:
    ended = deepcopy(NEW_COUNTRY)
    ended["arrangements"][0]["ended"] = "2026-02-28"
    ended["arrangements"][0]["sources"][0]["facts"].append("ended")
    first, second = tmp_path / "10.json", tmp_path / "20.json"
    first.write_text(json.dumps(NEW_COUNTRY))
    second.write_text(json.dumps({"arrangements": ended["arrangements"]}))
    registry = registry_paths([tmp_path])
    mra = registry.between("US-CTPAT", "KE-AEO")
    assert mra is not None and mra.until is not None
    assert mra.in_force(datetime(2026, 2, 28).date())
    assert not mra.in_force(datetime(2026, 3, 1).date())


def _refused(data: dict[str, Any], pointer: str | None, match: str) -> None:
    with pytest.raises(MalformedError, match=match) as caught:
        bundled_registry().with_data(data, name="agency.json")
    assert caught.value.pointer == pointer
    assert caught.value.message.startswith("agency.json: ")


def test_a_fact_without_a_source_is_refused() -> None:
    data = deepcopy(NEW_COUNTRY)
    data["arrangements"][0]["sources"][0]["facts"] = ["parties", "signed"]
    _refused(data, "/arrangements/0/inForce", "no source confirms 'inForce'")


def test_an_unconfirmed_fact_is_accepted_when_listed() -> None:
    data = deepcopy(NEW_COUNTRY)
    data["arrangements"][0]["sources"][0]["facts"] = ["parties", "signed"]
    data["arrangements"][0]["unconfirmed"] = ["inForce"]
    assert bundled_registry().with_data(data, name="agency.json").between("KE-AEO", "US-CTPAT")


def test_a_registry_file_that_breaks_the_schema_is_refused_with_a_pointer() -> None:
    data = deepcopy(NEW_COUNTRY)
    data["programmes"][0]["id"] = "kenya"
    _refused(data, "/programmes/0/id", "does not match")


def test_an_unknown_party_is_refused() -> None:
    data = {"arrangements": deepcopy(NEW_COUNTRY["arrangements"])}
    _refused(data, "/arrangements/0/parties/1", "unknown programme 'KE-AEO'")


def test_recognised_levels_must_be_levels_of_the_party() -> None:
    data = deepcopy(NEW_COUNTRY)
    data["arrangements"][0]["recognisedLevels"] = {"KE-AEO": ["AEOS"]}
    data["arrangements"][0]["sources"][0]["facts"].append("recognisedLevels")
    _refused(data, "/arrangements/0/recognisedLevels/KE-AEO", "not a level of KE-AEO")


def test_in_force_before_signed_is_refused() -> None:
    data = deepcopy(NEW_COUNTRY)
    data["arrangements"][0]["inForce"] = "2025-12-01"
    _refused(data, "/arrangements/0/inForce", "before it was signed")


def test_one_file_stating_an_arrangement_twice_is_refused() -> None:
    # two records of one pair in one file (one ended, one not): the last silently won, so
    # which of the file's contradictory answers applied hung on the order of its lines
    data = deepcopy(NEW_COUNTRY)
    ended = deepcopy(data["arrangements"][0])
    ended["ended"] = "2026-02-28"
    ended["sources"][0]["facts"].append("ended")
    data["arrangements"] = [ended, data["arrangements"][0]]
    _refused(data, "/arrangements/1/parties", "KE-AEO and US-CTPAT twice")


def test_one_file_stating_a_programme_twice_is_refused() -> None:
    data = deepcopy(NEW_COUNTRY)
    other = deepcopy(data["programmes"][0])
    other["levels"] = [{"code": "AEOS", "meaning": "AEO security"}]
    data["programmes"].append(other)
    _refused(data, "/programmes/1/id", "KE-AEO twice")


def test_a_country_that_is_not_iso_3166_is_refused() -> None:
    data = deepcopy(NEW_COUNTRY)
    data["programmes"][0]["countries"] = ["ZZ"]
    _refused(data, "/programmes/0/countries/0", "ISO 3166-1")


def test_a_built_in_identifier_scheme_cannot_be_replaced() -> None:
    data = deepcopy(NEW_COUNTRY)
    data["identifierSchemes"][0]["code"] = "EORI"
    _refused(data, "/identifierSchemes/0/code", "built-in")


def test_a_scheme_whose_example_fails_it_is_refused() -> None:
    data = deepcopy(NEW_COUNTRY)
    data["identifierSchemes"][0]["example"] = "Q051234567Q"
    _refused(data, "/identifierSchemes/0/example", "not valid")


def test_a_missing_registry_path_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no registry file"):
        registry_paths([tmp_path / "absent"])


def test_an_unreadable_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text("{not json")
    with pytest.raises(MalformedError, match=re.escape(f"the registry file {path} is not JSON")):
        load_registry_file(path)


def test_the_completed_schema_checks_programme_and_tier_against_the_registry(
    kenya: Path,
) -> None:
    certificate = build_aeo_certificate(
        {
            "legalName": "Mfano Exporters Ltd",
            "country": "KE",
            "identifier": [{"scheme": "KE-PIN", "value": "P051234567Q"}],
            "certification": {
                "programme": "KE-AEO",
                "tier": "AEO",
                "tradeRoles": ["exporter"],
                "certifiedSince": "2025-11-03",
            },
        },
        issuer="did:web:kra.example",
        valid_from=NOW,
        valid_until=NOW.replace(year=2029),
    )
    schemas = schema_registry()
    assert check_schema(certificate, registry=schemas)
    certificate["credentialSubject"]["certification"]["tier"] = "AEOS"
    with pytest.raises(SchemaMismatchError) as caught:
        check_schema(certificate, registry=schemas)
    assert caught.value.pointer == "/credentialSubject/certification/tier"
    certificate["credentialSubject"]["certification"]["programme"] = "XX-AEO"
    with pytest.raises(SchemaMismatchError) as caught:
        check_schema(certificate, registry=schemas)
    assert caught.value.pointer == "/credentialSubject/certification/programme"


def _arrangement_dated(**dates: str) -> Any:
    """The test arrangement with only these dates (each confirmed by the source)."""
    data = deepcopy(NEW_COUNTRY)
    item = data["arrangements"][0]
    for name in ("signed", "inForce"):
        del item[name]
    item.update(dates)
    item["sources"][0]["facts"] = ["parties", *dates]
    mra = bundled_registry().with_data(data, name="agency.json").between("US-CTPAT", "KE-AEO")
    assert mra is not None
    return mra


@pytest.mark.parametrize("start", ["signed", "inForce", "listedSince"])
def test_a_partial_start_date_begins_trust_at_the_end_of_its_period(start: str) -> None:
    # "2026-02" says only that recognition began some day in February: before its last day
    # it is not certain (it was read as 1 February, trusting up to four weeks early)
    mra = _arrangement_dated(**{start: "2026-02"})
    assert mra.since == date(2026, 2, 28)
    assert not mra.in_force(date(2026, 2, 27))
    assert mra.in_force(date(2026, 2, 28))
    assert _arrangement_dated(**{start: "2025"}).since == date(2025, 12, 31)


def test_a_partial_end_date_ends_trust_at_the_start_of_its_period() -> None:
    # "ended 2026-05": its last day was some day in May; after 1 May it is not certain
    mra = _arrangement_dated(inForce="2026-02-01", ended="2026-05")
    assert mra.until == date(2026, 5, 1)
    assert mra.in_force(date(2026, 5, 1))
    assert not mra.in_force(date(2026, 5, 2))
    assert _arrangement_dated(inForce="2026-02-01", ended="2027").until == date(2027, 1, 1)


def test_dates_that_may_agree_are_not_refused_as_contradictory() -> None:
    # started and ended in the same month: consistent (it is simply never certainly in force)
    mra = _arrangement_dated(inForce="2026-02", ended="2026-02")
    assert not any(mra.in_force(date(2026, 2, day)) for day in range(1, 29))
