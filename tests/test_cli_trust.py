"""``vcred trust-list build | sign | show | diff | verify`` and ``vcred --registry``."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import vcred
from vcred.cli import main
from vcred.customs.programmes import active_registry, use_registry
from vcred.keys import KeyPair

START = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)
PARTNER_KEY = KeyPair.generate("ed25519")


def stamp(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


@pytest.fixture
def agency(tmp_path: Path) -> tuple[Path, str]:
    key = KeyPair.generate("ed25519")
    path = tmp_path / "trust-list-key.json"
    path.write_text(json.dumps(key.private_jwk()))
    return path, vcred.did_key(key.public)


def spec(did: str, **overrides: Any) -> dict[str, Any]:
    return {
        "issuer": did,
        "programme": "US-CTPAT",
        "id": "urn:example:cbp-list",
        "validFrom": stamp(START),
        "nextUpdate": stamp(START + timedelta(days=7)),
        "validUntil": stamp(START + timedelta(days=30)),
        "recognisedIssuers": [
            {
                "issuer": "did:web:zoll.example",
                "programme": "EU-AEO",
                "country": "DE",
                "acceptedCredentialTypes": ["AEOCertificateCredential"],
                "pinnedKeys": [
                    {"jwkThumbprint": PARTNER_KEY.public.thumbprint(), "notBefore": stamp(START)}
                ],
            }
        ],
        **overrides,
    }


def run(*args: str) -> Any:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def build_and_sign(
    tmp_path: Path, agency: tuple[Path, str], name: str, *extra: str, **overrides: Any
) -> Path:
    key, did = agency
    source = tmp_path / f"{name}-spec.json"
    source.write_text(json.dumps(spec(did, **overrides)))
    built = run("trust-list", "build", str(source), *extra)
    assert built.exit_code == 0, built.output
    unsigned = tmp_path / f"{name}.json"
    unsigned.write_text(built.stdout)
    signed = run("trust-list", "sign", str(unsigned), "--key", str(key))
    assert signed.exit_code == 0, signed.output
    path = tmp_path / f"{name}.jwt"
    path.write_text(signed.output.strip())
    return path


def test_build_sign_show_diff_verify(tmp_path: Path, agency: tuple[Path, str]) -> None:
    _, did = agency
    first = build_and_sign(tmp_path, agency, "first")
    shown = run("trust-list", "show", str(first), "--anchor", did)
    assert shown.exit_code == 0, shown.output
    summary = json.loads(shown.output)
    assert summary["sequenceNumber"] == 1
    assert summary["recognisedIssuers"][0]["pinnedKeys"][0]["jwkThumbprint"]

    second = build_and_sign(
        tmp_path,
        agency,
        "second",
        "--previous",
        str(first),
        recognisedIssuers=[],
    )
    summary = json.loads(run("trust-list", "show", str(second), "--anchor", did).output)
    assert summary["sequenceNumber"] == 2
    assert summary["replaces"]["sequenceNumber"] == 1
    changes = json.loads(run("trust-list", "diff", str(first), str(second), "--anchor", did).output)
    assert changes["removed"] == ["did:web:zoll.example"]

    ok = run("trust-list", "verify", str(second), "--anchor", did, "--previous", str(first))
    assert ok.exit_code == 0, ok.output
    assert "#2" in ok.output


def test_verify_refuses_a_rollback_in_one_line(tmp_path: Path, agency: tuple[Path, str]) -> None:
    _, did = agency
    first = build_and_sign(tmp_path, agency, "first")
    second = build_and_sign(tmp_path, agency, "second", "--previous", str(first))
    refused = run("trust-list", "verify", str(first), "--anchor", did, "--previous", str(second))
    assert refused.exit_code == 1
    assert "TRUST_LIST_SEQUENCE" in refused.output
    assert len(refused.output.strip().splitlines()) == 1


def test_verify_refuses_a_successor_that_names_no_predecessor_in_one_line(
    tmp_path: Path, agency: tuple[Path, str]
) -> None:
    # list 2 built without --previous: numbered after list 1, signed by the right key, but
    # nothing shows it replaces list 1
    _, did = agency
    first = build_and_sign(tmp_path, agency, "first")
    second = build_and_sign(tmp_path, agency, "second", sequenceNumber=2)
    source = tmp_path / "second-spec.json"
    warned = run("trust-list", "build", str(source))
    assert warned.stderr == (
        "vcred: warning: list 2 names no list it replaces (give --previous): a verifier "
        "holding an earlier list refuses it\n"
    )
    assert run("trust-list", "build", str(tmp_path / "first-spec.json")).stderr == ""
    refused = run("trust-list", "verify", str(second), "--anchor", did, "--previous", str(first))
    assert refused.exit_code == 1
    assert refused.output.startswith("vcred: refused: TRUST_LIST_SEQUENCE: ")
    assert "does not name the list it replaces" in refused.output
    assert len(refused.output.strip().splitlines()) == 1
    # alone (nothing held), it is a good list
    assert run("trust-list", "verify", str(second), "--anchor", did).exit_code == 0


def test_verify_links_a_list_that_skips_numbers_through_the_lists_between(
    tmp_path: Path, agency: tuple[Path, str]
) -> None:
    # list 4 against list 1 held: only lists 2 and 3 show that it descends from list 1 (a
    # list 4 naming a list 3 never published would otherwise pass as "missed")
    _, did = agency
    lists = [build_and_sign(tmp_path, agency, "list-1")]
    for number in (2, 3, 4):
        lists.append(
            build_and_sign(tmp_path, agency, f"list-{number}", "--previous", str(lists[-1]))
        )
    first, second, third, fourth = (str(path) for path in lists)
    verify = ("trust-list", "verify", fourth, "--anchor", did, "--previous", first)
    refused = run(*verify)
    assert refused.exit_code == 1
    assert refused.output.startswith("vcred: refused: TRUST_LIST_SEQUENCE: ")
    assert "has not seen" in refused.output
    assert len(refused.output.strip().splitlines()) == 1
    ok = run(*verify, "--between", third, "--between", second)  # any order
    assert ok.exit_code == 0, ok.output
    assert "#4" in ok.output
    # a link missing; another list 2 (a branch beside list 1's successor): refused
    assert "has not seen" in run(*verify, "--between", third).output
    stray = build_and_sign(tmp_path, agency, "stray-2", "--previous", first, recognisedIssuers=[])
    forked = run(*verify, "--between", str(stray), "--between", third)
    assert forked.exit_code == 1 and "fork" in forked.output
    assert len(forked.output.strip().splitlines()) == 1
    # what is not a list, or --between without the list held: one line, no traceback
    junk = tmp_path / "junk.jwt"
    junk.write_text("not a trust list")
    broken = run(*verify, "--between", str(junk), "--between", second)
    assert broken.exit_code == 1 and broken.output.startswith(f"vcred: {junk} refused: ")
    assert len(broken.output.strip().splitlines()) == 1
    alone = run("trust-list", "verify", fourth, "--anchor", did, "--between", second)
    assert alone.exit_code == 2 and "--previous" in alone.output
    assert len(alone.output.strip().splitlines()) == 1


def test_verify_refuses_another_anchor(tmp_path: Path, agency: tuple[Path, str]) -> None:
    first = build_and_sign(tmp_path, agency, "first")
    other = vcred.did_key(KeyPair.generate("ed25519").public)
    refused = run("trust-list", "verify", str(first), "--anchor", other)
    assert refused.exit_code == 1
    assert "UNTRUSTED_ISSUER" in refused.output


def test_build_refuses_unknown_members_and_bad_times(
    tmp_path: Path, agency: tuple[Path, str]
) -> None:
    _, did = agency
    source = tmp_path / "spec.json"
    source.write_text(json.dumps(spec(did, colour="blue")))
    assert "unknown specification members: colour" in run("trust-list", "build", str(source)).output
    source.write_text(json.dumps(spec(did, validFrom="2026-01-01")))
    answer = run("trust-list", "build", str(source))
    assert answer.exit_code == 2
    assert "time zone" in answer.output


def test_sign_with_a_did_web_method_needs_the_trust_list_role(
    tmp_path: Path, agency: tuple[Path, str]
) -> None:
    key, did = agency
    unsigned = tmp_path / "list.json"
    source = tmp_path / "spec.json"
    source.write_text(json.dumps(spec(did)))
    unsigned.write_text(run("trust-list", "build", str(source)).output)
    refused = run(
        "trust-list", "sign", str(unsigned), "--key", str(key), "--method", "did:web:x.example#k1"
    )
    assert refused.exit_code == 2
    assert "#trust-list-" in refused.output


def test_registry_option_adds_a_country(tmp_path: Path) -> None:
    registry = tmp_path / "kenya.json"
    registry.write_text(
        json.dumps(
            {
                "programmes": [
                    {
                        "id": "KE-AEO",
                        "name": "Authorised Economic Operator (Kenya, test)",
                        "countries": ["KE"],
                        "authority": "Kenya Revenue Authority (test)",
                        "levels": [{"code": "AEO", "meaning": "AEO"}],
                        "sources": [
                            {
                                "url": "https://example.org/ke",
                                "confirms": "test",
                                "facts": ["name", "authority", "levels"],
                            }
                        ],
                    }
                ]
            }
        )
    )
    before = active_registry()
    try:
        answer = run("--registry", str(registry), "did", "create", "--help")
        assert answer.exit_code == 0
        assert "KE-AEO" in active_registry().programmes
    finally:
        use_registry(before)
    registry.write_text('{"programmes": [{"id": "kenya"}]}')
    refused = CliRunner().invoke(main, ["--registry", str(registry), "did", "create", "--help"])
    assert refused.exit_code == 2
    assert "the registry is refused" in refused.output


@pytest.mark.parametrize(
    "moment",
    [
        "2026-06-01T00:00:00+23:59",  # beyond XML Schema's ±14:00: a day off a conforming reader
        "2026-06-01T00:00:00-15:00",
        "2026-06-01T00:00:00",  # no time zone
        "2026-06-01T23:59:60Z",  # a leap second
        "2026-02-29T00:00:00Z",  # no such day
        "0001-01-01T00:00:00+14:00",  # no UTC moment
        20260601,
    ],
)
def test_build_reads_a_moment_as_every_list_reader_does(
    tmp_path: Path, agency: tuple[Path, str], moment: Any
) -> None:
    """The moments of the list an agency builds are read by the one dateTimeStamp reader
    (``vcred.model.parse_datetime``), as verifiers read the list: an offset beyond ±14:00 was
    taken as Python makes it (``datetime.fromisoformat``), a list in force almost a day
    before (or after) what its specification meant to a conforming reader."""
    _, did = agency
    source = tmp_path / "spec.json"
    source.write_text(json.dumps(spec(did, validFrom=moment)))
    answer = run("trust-list", "build", str(source))
    assert answer.exit_code == 2, answer.output
    assert "validFrom is an XML Schema dateTimeStamp, with its time zone" in answer.output
    offset = spec(did, validFrom=stamp(START).replace("Z", "+14:00"))  # the edge still reads
    source.write_text(json.dumps(offset))
    assert run("trust-list", "build", str(source)).exit_code == 0
