"""Numbers in status entries and in the status lists they point to (docs/security.md §13.5):
every one is bounded before it becomes a duration or a size. Out of range in the credential:
MALFORMED at the member; out of range in a list the issuer really signed: a status code, never
an exception (a ttl of 10**400 ms made timedelta overflow out of ``verify()``)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from issuer_app import IssuerConfig
from tests.hardening.status_lists import (
    credential_on,
    library_verifier,
    publish_list,
    service_codes,
)
from tests.issuer.conftest import make_config
from tests.verifier.conftest import LIST_BASE, NOW, Agency, MakeApp
from vcred.errors import UsageError
from vcred.status import MutableBitstring, build_status_list_credential
from vcred.status.listcred import MAX_TTL_MS

BEYOND_ANY_DURATION = 10**400

# credentialSubject members of a signed list → refused with STATUS_VERIFICATION
HOSTILE_LIST_NUMBERS: dict[str, dict[str, Any]] = {
    "ttl-10**400": {"ttl": BEYOND_ANY_DURATION},
    "ttl-past-timedelta": {"ttl": 10**20},
    "ttl-2**53": {"ttl": MAX_TTL_MS + 1},
    "ttl-negative": {"ttl": -1},
    "ttl-1e308": {"ttl": 1e308},
    "ttl-fraction": {"ttl": 1.5},
    "ttl-nan": {"ttl": float("nan")},
    "ttl-infinity": {"ttl": float("inf")},
    "ttl-string": {"ttl": "300000"},
    "ttl-boolean": {"ttl": True},
    "statusSize-10**400": {"statusSize": BEYOND_ANY_DURATION},
    "statusSize-2**64": {"statusSize": 2**64},
    "statusSize-33": {"statusSize": 33},
    "statusSize-0": {"statusSize": 0},
    "statusSize-negative": {"statusSize": -1},
    "statusSize-float": {"statusSize": 1.0},
    "statusSize-string": {"statusSize": "1"},
}

# credentialStatus members of the credential → (code, pointer)
HOSTILE_ENTRY_NUMBERS: dict[str, tuple[dict[str, Any], str, str]] = {
    "index-10**400": (
        {"statusListIndex": BEYOND_ANY_DURATION},
        "MALFORMED",
        "/credentialStatus/statusListIndex",
    ),
    "index-21-digits": (
        {"statusListIndex": "1" * 21},
        "MALFORMED",
        "/credentialStatus/statusListIndex",
    ),
    "index-20-digits-past-the-list": (
        {"statusListIndex": "9" * 20},
        "STATUS_RANGE",
        "/credentialStatus/statusListIndex",
    ),
    "index-negative": ({"statusListIndex": "-1"}, "MALFORMED", "/credentialStatus/statusListIndex"),
    "index-exponent": (
        {"statusListIndex": "1e3"},
        "MALFORMED",
        "/credentialStatus/statusListIndex",
    ),
    "index-hex": ({"statusListIndex": "0x10"}, "MALFORMED", "/credentialStatus/statusListIndex"),
    "index-number": ({"statusListIndex": 7}, "MALFORMED", "/credentialStatus/statusListIndex"),
    "index-1e308": ({"statusListIndex": 1e308}, "MALFORMED", "/credentialStatus/statusListIndex"),
    "statusSize-10**400": (
        {"statusSize": BEYOND_ANY_DURATION},
        "MALFORMED",
        "/credentialStatus/statusSize",
    ),
    "statusSize-33": ({"statusSize": 33}, "MALFORMED", "/credentialStatus/statusSize"),
    "statusSize-0": ({"statusSize": 0}, "MALFORMED", "/credentialStatus/statusSize"),
    "statusSize-1e308": ({"statusSize": 1e308}, "MALFORMED", "/credentialStatus/statusSize"),
    "statusSize-boolean": ({"statusSize": True}, "MALFORMED", "/credentialStatus/statusSize"),
    "statusMessage-status-17-hex-digits": (
        {
            "statusSize": 2,
            "statusMessage": [
                {"status": "0x" + "f" * 17, "message": "x"},
                {"status": "0x1", "message": "y"},
                {"status": "0x2", "message": "z"},
                {"status": "0x3", "message": "w"},
            ],
        },
        "MALFORMED",
        "/credentialStatus/statusMessage/0/status",
    ),
    "statusMessage-status-number": (
        {"statusSize": 2, "statusMessage": [{"status": 0, "message": "x"}] * 4},
        "MALFORMED",
        "/credentialStatus/statusMessage/0/status",
    ),
}


@pytest.mark.parametrize("ttl", [0, 1, MAX_TTL_MS])
def test_a_ttl_within_range_is_read(agency: Agency, ttl: int) -> None:
    token = credential_on(agency, publish_list(agency, ttl=ttl))
    result = library_verifier(agency).verify(token)
    assert result.verified, result.errors


@pytest.mark.parametrize("case", HOSTILE_LIST_NUMBERS, ids=str)
def test_hostile_list_numbers_are_refused_by_the_library(agency: Agency, case: str) -> None:
    token = credential_on(agency, publish_list(agency, **HOSTILE_LIST_NUMBERS[case]))
    result = library_verifier(agency).verify(token)
    assert result.codes == ("STATUS_VERIFICATION",), result.errors
    (problem,) = result.errors
    assert problem.path == "/credentialStatus/statusListCredential"
    (member,) = HOSTILE_LIST_NUMBERS[case]
    # NaN and Infinity are not JSON: the signed list itself is refused before its members
    not_json = case in ("ttl-nan", "ttl-infinity")
    assert ("is not JSON" if not_json else f"(at /credentialSubject/{member})") in problem.message


@pytest.mark.parametrize("case", HOSTILE_LIST_NUMBERS, ids=str)
def test_hostile_list_numbers_are_refused_by_the_verifier_service(
    agency: Agency, make_app: MakeApp, case: str
) -> None:
    token = credential_on(agency, publish_list(agency, **HOSTILE_LIST_NUMBERS[case]))
    assert service_codes(make_app().test_client(), token) == (400, ["STATUS_VERIFICATION"])


@pytest.mark.parametrize("suite", ["eddsa-rdfc-2022", "eddsa-jcs-2022"])
@pytest.mark.parametrize("case", ["ttl-10**400", "ttl-past-timedelta", "statusSize-10**400"])
def test_hostile_list_numbers_in_a_json_list_are_refused(
    agency: Agency, make_app: MakeApp, suite: str, case: str
) -> None:
    # a Data Integrity list: its numbers reach JSON-LD (10**400 is no xsd:double: that was an
    # OverflowError out of verify()) before its proof is checked; no library signs such a
    # list, so the numbers are changed after signing
    list_url = publish_list(agency, suite)
    path = list_url.removeprefix(LIST_BASE.removesuffix("/status/"))
    document = json.loads(agency.server.routes[path][2])
    document["credentialSubject"].update(HOSTILE_LIST_NUMBERS[case])
    agency.server.serve(path, json.dumps(document).encode())
    token = credential_on(agency, list_url)
    result = library_verifier(agency).verify(token)
    assert result.codes == ("STATUS_VERIFICATION",), result.errors
    assert service_codes(make_app().test_client(), token) == (400, ["STATUS_VERIFICATION"])


@pytest.mark.parametrize("case", HOSTILE_ENTRY_NUMBERS, ids=str)
def test_hostile_entry_numbers_are_refused_by_the_library(agency: Agency, case: str) -> None:
    entry, code, pointer = HOSTILE_ENTRY_NUMBERS[case]
    token = credential_on(agency, publish_list(agency), **entry)
    result = library_verifier(agency).verify(token)
    assert result.codes == (code,), result.errors
    assert result.errors[0].path == pointer


@pytest.mark.parametrize("case", HOSTILE_ENTRY_NUMBERS, ids=str)
def test_hostile_entry_numbers_are_refused_by_the_verifier_service(
    agency: Agency, make_app: MakeApp, case: str
) -> None:
    entry, code, pointer = HOSTILE_ENTRY_NUMBERS[case]
    token = credential_on(agency, publish_list(agency), **entry)
    response = (
        make_app().test_client().post("/credentials/verify", json={"verifiableCredential": token})
    )
    assert response.status_code == 400
    problems = response.get_json()["problemDetails"]
    assert [(p["code"], p.get("pointer")) for p in problems] == [(code, pointer)]


@pytest.mark.parametrize(
    "ttl", [timedelta(milliseconds=-1), timedelta(milliseconds=MAX_TTL_MS + 1), timedelta.max]
)
def test_an_issuer_never_signs_a_ttl_a_verifier_refuses(ttl: timedelta) -> None:
    with pytest.raises(UsageError):
        build_status_list_credential(
            list_url="https://x.example/1",
            issuer="did:example:issuer",
            purpose="revocation",
            bitstring=MutableBitstring(),
            valid_from=NOW,
            ttl=ttl,
        )


# -- the issuer service: its lists' ttl comes from its configuration -------------------------


@pytest.mark.parametrize(
    "ttl", [timedelta(seconds=-1), timedelta(milliseconds=MAX_TTL_MS + 1), timedelta.max]
)
def test_an_issuer_service_never_starts_with_a_ttl_a_verifier_refuses(
    tmp_path: Path, ttl: timedelta
) -> None:
    with pytest.raises(UsageError, match="status_list_ttl"):
        make_config(tmp_path, "sqlite", status_list_ttl=ttl)


@pytest.mark.parametrize("value", ["-1", "nan", "inf", "1e400", "five minutes"])
def test_an_unusable_status_ttl_in_the_issuer_environment_is_named(
    tmp_path: Path, value: str
) -> None:
    environ = {"VCRED_ISSUER_PASSPHRASE": "x" * 20, "VCRED_ISSUER_STATUS_TTL": value}
    with pytest.raises(UsageError, match=r"(?i)status_(list_)?ttl"):
        IssuerConfig.from_env(environ, data_dir=tmp_path)
