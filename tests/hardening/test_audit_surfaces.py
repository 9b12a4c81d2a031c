"""The surfaces that answer for the past or for many, probed as an attacker would: verifying
as of a moment (``options.asOf``, ``Verifier(at=…)``, the issuer's status lists served as of a
timestamp), verification receipts and the verifier's audit chain, batch verification
(docs/security.md §13.9).

The issuer here is a real issuer app on SQLite with a test clock; the verifier app is the one
of tests/verifier (a US issuer on did:web served by a local server, an EU trust list).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask

from issuer_app import create_app as create_issuer_app
from issuer_app import issuer_of
from tests.issuer.conftest import (
    PUBLIC_URL,
    ApiClient,
    Clock,
    auth,
    credential,
    make_config,
)
from tests.issuer.test_api import payload_of
from tests.verifier.conftest import Agency, MakeApp
from vcred import Verifier
from vcred.errors import MalformedError, UsageError
from vcred.status.listcred import format_datetime, parse_datetime

# moments a dateTimeStamp can write that no UTC datetime holds, or that sit at its edges
CALENDAR_EDGES = [
    "0001-01-01T00:00:00+14:00",  # the year 0 once in UTC
    "9999-12-31T23:59:59-14:00",  # the year 10000 once in UTC
    "0001-01-01T00:00:00Z",  # minus any tolerance or grace: before the year 1
]


@pytest.fixture
def issuer_clock() -> Clock:
    return Clock()


@pytest.fixture
def issuer_app(tmp_path: Path, issuer_clock: Clock) -> Iterator[Flask]:
    app = create_issuer_app(make_config(tmp_path / "issuer", "sqlite", clock=issuer_clock))
    app.config["TESTING"] = True
    yield app
    issuer_of(app).close()


def _issued_list_path(app: Flask) -> str:
    """Issue a credential; the path of its revocation list, signed once (in force from now)."""
    api = ApiClient(app)
    issued = api.issue(credential(), auth(app)).get_json()
    list_url = payload_of(issued)["credentialStatus"][0]["statusListCredential"]
    path = str(list_url).removeprefix(PUBLIC_URL)
    assert app.test_client().get(path).status_code == 200
    return path


# --- as of a moment: the calendar's edges -----------------------------------------------------


@pytest.mark.parametrize("moment", CALENDAR_EDGES)
def test_an_as_of_moment_at_the_calendars_edge_is_a_400_not_a_500(
    make_app: MakeApp, agency: Agency, moment: str
) -> None:
    # Attack: options.asOf with an offset that carries it past the year 1 or 9999 once in
    # UTC, or the year 1 itself (the trust list in force then is looked up with the grace
    # subtracted): an OverflowError out of the service, a 500, on both routes.
    client = make_app().test_client()
    token = agency.issue(agency.aeo_certificate())
    one = client.post(
        "/credentials/verify", json={"verifiableCredential": token, "options": {"asOf": moment}}
    )
    assert one.status_code == 400, one.get_data(as_text=True)
    assert one.get_json()["pointer"] == "/options/asOf"
    many = client.post(
        "/credentials/verify-batch",
        json={"verifiableCredentials": [token], "options": {"asOf": moment}},
    )
    assert many.status_code == 400, many.get_data(as_text=True)
    assert many.get_json()["pointer"] == "/options/asOf"


@pytest.mark.parametrize("moment", CALENDAR_EDGES[:2])
def test_a_datetime_stamp_no_utc_datetime_holds_is_malformed(moment: str) -> None:
    with pytest.raises(MalformedError) as raised:
        parse_datetime(moment, pointer="/validFrom")
    assert raised.value.pointer == "/validFrom"


def test_a_verifier_as_of_a_moment_at_the_calendars_edge_is_refused_as_misuse() -> None:
    # the library's caller chooses at: one whose windows (± the clock skew) overflow is
    # refused when the verifier is made, not an OverflowError out of verify()
    for at in (datetime.min.replace(tzinfo=UTC), datetime(9999, 12, 31, 23, 59, tzinfo=UTC)):
        with pytest.raises(UsageError):
            Verifier(at=at)


@pytest.mark.parametrize("moment", CALENDAR_EDGES[:2])
def test_the_issuer_answers_a_timestamp_past_the_calendar_with_a_400(
    issuer_app: Flask, moment: str
) -> None:
    path = _issued_list_path(issuer_app)
    answer = issuer_app.test_client().get(path, query_string={"timestamp": moment})
    assert answer.status_code == 400, answer.get_data(as_text=True)
    assert answer.get_json()["pointer"] == "/timestamp"


def test_a_timestamp_before_the_year_1000_is_no_version_of_the_list(issuer_app: Flask) -> None:
    # Attack: GET /status/…?timestamp=0999-… — the versions are looked up by comparing
    # dateTimeStamps as text, and the moment was written "999-01-01T…" (strftime does not pad
    # the year): "9" sorts after "2026", so the current version was served as the one in
    # force a thousand years before the list existed (200, no Status-List-Valid-Until).
    path = _issued_list_path(issuer_app)
    for moment in ("0999-06-01T00:00:00Z", "0001-01-01T00:00:00Z"):
        answer = issuer_app.test_client().get(path, query_string={"timestamp": moment})
        assert answer.status_code == 404, (moment, answer.status_code)
        assert answer.get_json()["code"] == "STATUS_VERSION_UNAVAILABLE"


def test_a_moment_before_the_year_1000_is_written_as_a_datetime_stamp() -> None:
    written = format_datetime(datetime(999, 6, 1, tzinfo=UTC))
    assert written == "0999-06-01T00:00:00Z"
    assert parse_datetime(written, pointer="") == datetime(999, 6, 1, tzinfo=UTC)
