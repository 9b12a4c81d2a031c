"""UTC offsets beyond ±14:00 are no XML Schema dateTimeStamp (docs/security.md §13.19).

XML Schema 1.1 (https://www.w3.org/TR/xmlschema11-2/#dateTimeStamp, the type VCDM 2.0 §4.9
names for ``validFrom`` and ``validUntil``) limits a time zone offset to -14:00..+14:00
(``timezoneFrag``). ``2026-01-01T00:00:00+23:59`` was read by the status lists' parser (and
through it ``options.asOf``, the issuer's ``?timestamp=``) and by the trust list's loader;
the credentials' parser refused it. One parser now reads them all, and each place is tried.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from issuer_app import create_app as create_issuer_app
from issuer_app import issuer_of
from tests.hardening.test_audit_surfaces import _issued_list_path
from tests.issuer.conftest import Clock, make_config
from tests.verifier.conftest import Agency, MakeApp, eu_trust_list
from vcred import did_key
from vcred.errors import MalformedError
from vcred.keys import KeyPair
from vcred.model import parse_datetime
from vcred.status.listcred import build_status_list_credential, parse_status_list_credential
from vcred.trust import load_trust_list

#: Offsets past the range, a minute past its ends and the example of the review.
BEYOND = [
    "2026-01-01T00:00:00+23:59",
    "2026-01-01T00:00:00+14:01",
    "2026-01-01T00:00:00-14:01",
    "2026-01-01T00:00:00+14:30",
    "2026-01-01T00:00:00-15:00",
]
#: The range's ends and a minute inside them: dateTimeStamps.
WITHIN = [
    "2026-01-01T00:00:00+14:00",
    "2026-01-01T00:00:00-14:00",
    "2026-01-01T00:00:00+13:59",
    "2026-01-01T00:00:00-13:59",
]
LIST_URL = "https://issuer.example/status/1"


@pytest.mark.parametrize("stamp", BEYOND)
def test_an_offset_beyond_fourteen_hours_is_malformed(stamp: str) -> None:
    with pytest.raises(MalformedError) as raised:
        parse_datetime(stamp, pointer="/validFrom")
    assert raised.value.pointer == "/validFrom"


@pytest.mark.parametrize("stamp", WITHIN)
def test_an_offset_within_fourteen_hours_is_read(stamp: str) -> None:
    moment = parse_datetime(stamp, pointer="/validFrom")
    assert moment.utcoffset() is not None
    assert abs(moment.utcoffset() or timedelta()) <= timedelta(hours=14)


def _status_list(**dates: str) -> dict[str, Any]:
    document = build_status_list_credential(
        list_url=LIST_URL,
        issuer="did:example:issuer",
        purpose="revocation",
        bitstring=bytes(16384),
        valid_from=datetime(2026, 1, 1, tzinfo=UTC),
    )
    document.update(dates)
    return document


@pytest.mark.parametrize("name", ["validFrom", "validUntil"])
def test_a_status_list_dated_with_an_offset_beyond_fourteen_hours_is_malformed(name: str) -> None:
    # Attack: a status list whose validUntil reads "+23:59" ends almost a day off what any
    # conforming reader computes; it was read as the moment Python makes of it
    document = _status_list(**{name: BEYOND[0]})
    with pytest.raises(MalformedError) as raised:
        parse_status_list_credential(document, url=LIST_URL)
    assert raised.value.pointer == f"/{name}"
    assert parse_status_list_credential(_status_list(**{name: WITHIN[0]}), url=LIST_URL)


def test_a_credential_dated_with_an_offset_beyond_fourteen_hours_is_malformed(
    agency: Agency,
) -> None:
    # pinned: the credentials' parser refused it already (the others now share it)
    document = agency.aeo_certificate()
    document["validFrom"] = "2026-01-01T00:00:00+23:59"
    with pytest.raises(MalformedError) as raised:  # the issuer refuses to sign it
        agency.issue(document)
    assert raised.value.pointer == "/validFrom"


def test_a_trust_list_dated_with_an_offset_beyond_fourteen_hours_is_malformed() -> None:
    document = eu_trust_list(did_key(KeyPair.generate("ed25519").public))
    now = datetime(2026, 6, 1, tzinfo=UTC)
    assert load_trust_list(copy.deepcopy(document), now=now)  # as built: loads
    document["validFrom"] = BEYOND[0]
    with pytest.raises(MalformedError) as raised:
        load_trust_list(document, now=now)
    assert raised.value.pointer == "/validFrom"


def test_the_schemas_datetime_stamp_refuses_an_offset_beyond_fourteen_hours() -> None:
    # the project's JSON Schema (schemas/defs-v1.json, dateTimeStamp) says the same: read from
    # the file (an editable install may map vcred.schemas to another checkout)
    defs = json.loads((Path(__file__).parents[2] / "schemas" / "defs-v1.json").read_text())
    pattern = re.compile(defs["$defs"]["dateTimeStamp"]["pattern"])
    assert not [stamp for stamp in BEYOND if pattern.search(stamp)]
    assert all(pattern.search(stamp) for stamp in WITHIN)


@pytest.mark.parametrize("receipt", [False, True])
def test_an_as_of_moment_with_an_offset_beyond_fourteen_hours_is_a_400(
    make_app: MakeApp, agency: Agency, tmp_path: Path, receipt: bool
) -> None:
    # options.asOf on both routes, with and without a receipt (whose verifiedAsOf it is)
    options: dict[str, Any] = {"asOf": "2026-05-01T00:00:00+23:59"}
    overrides: dict[str, Any] = {}
    if receipt:
        key_file = tmp_path / "receipt-key.jwk"
        key_file.write_text(json.dumps(KeyPair.generate().private_jwk()))
        overrides["receipt_key"] = key_file
        options["receipt"] = True
    client = make_app(**overrides).test_client()
    token = agency.issue(agency.aeo_certificate())
    one = client.post(
        "/credentials/verify", json={"verifiableCredential": token, "options": options}
    )
    assert one.status_code == 400, one.get_data(as_text=True)
    assert one.get_json().get("pointer") == "/options/asOf"
    many = client.post(
        "/credentials/verify-batch", json={"verifiableCredentials": [token], "options": options}
    )
    assert many.status_code == 400, many.get_data(as_text=True)
    assert many.get_json().get("pointer") == "/options/asOf"
    within = dict(options, asOf="2026-05-01T00:00:00+14:00")
    verdict = client.post(
        "/credentials/verify", json={"verifiableCredential": token, "options": within}
    ).get_json()
    assert "verified" in verdict, verdict  # verified as of then (not a refused request)


@pytest.fixture
def issuer_app(tmp_path: Path) -> Iterator[Flask]:
    app = create_issuer_app(make_config(tmp_path / "issuer", "sqlite", clock=Clock()))
    app.config["TESTING"] = True
    yield app
    issuer_of(app).close()


def test_the_issuers_timestamp_with_an_offset_beyond_fourteen_hours_is_a_400(
    issuer_app: Flask,
) -> None:
    path = _issued_list_path(issuer_app)
    client = issuer_app.test_client()
    answer = client.get(path, query_string={"timestamp": "2026-01-01T00:00:00+23:59"})
    assert answer.status_code == 400, answer.get_data(as_text=True)
    assert answer.get_json()["pointer"] == "/timestamp"
