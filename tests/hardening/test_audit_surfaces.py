"""The surfaces that answer for the past or for many, probed as an attacker would: verifying
as of a moment (``options.asOf``, ``Verifier(at=…)``, the issuer's status lists served as of a
timestamp), verification receipts and the verifier's audit chain, batch verification
(docs/security.md §13.9).

The issuer here is a real issuer app on SQLite with a test clock; the verifier app is the one
of tests/verifier (a US issuer on did:web served by a local server, an EU trust list).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from issuer_app import create_app as create_issuer_app
from issuer_app import issuer_of
from tests.issuer.conftest import (
    PUBLIC_URL,
    ApiClient,
    AppFetcher,
    Clock,
    auth,
    credential,
    make_config,
)
from tests.issuer.test_api import payload_of, secured_of
from tests.verifier.conftest import NOW, Agency, MakeApp
from tests.verifier.test_batch import FakeClock, post_batch
from tests.verifier.test_receipts import receipt_claims, verify_with_receipt
from vcred import Verifier
from vcred.errors import MalformedError, UsageError
from vcred.keys import KeyPair
from vcred.model import parse_datetime
from vcred.net import DEFAULT_MAX_BYTES
from vcred.status import StatusListCache, as_of_url
from vcred.status.listcred import format_datetime
from verifier_app import VerifierConfig
from verifier_app import create_app as create_verifier_app
from verifier_app.service import LIMITER
from verifier_app.storage import HistoryEntry, _from_spool, _spooled

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
        parse_datetime(moment, pointer="/validFrom", in_utc=True)
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


# --- as of a moment: what the verifier records and signs ------------------------------------


def _revoked_after(issuer_app: Flask, clock: Clock) -> tuple[str, datetime, str]:
    """A credential of the issuer app, revoked two hours after it was issued; the secured
    credential, a moment an hour after issuance (good then) and its revocation list URL.
    The clock is left 30 days after the revocation."""
    api = ApiClient(issuer_app)
    document = credential()
    issued = api.issue(document, auth(issuer_app)).get_json()
    list_url = str(payload_of(issued)["credentialStatus"][0]["statusListCredential"])
    assert issuer_app.test_client().get(list_url.removeprefix(PUBLIC_URL)).status_code == 200
    good_then = clock.now + timedelta(hours=1)
    clock.advance(hours=2)
    _set_status(issuer_app, document["id"], "revoked")
    clock.advance(days=30)
    return str(secured_of(issued)), good_then, list_url


def _set_status(issuer_app: Flask, credential_id: str, status: str) -> None:
    changed = ApiClient(issuer_app).post(
        "/credentials/status",
        json={
            "credentialId": credential_id,
            "credentialStatus": [{"type": "BitstringStatusListEntry", "status": status}],
        },
        headers=auth(issuer_app),
    )
    assert changed.status_code == 200, changed.get_json()


@pytest.fixture
def verifier_app(issuer_app: Flask, issuer_clock: Clock, tmp_path: Path) -> Iterator[Flask]:
    """A verifier of the issuer app's credentials (no trust list), giving receipts."""
    key_file = tmp_path / "receipt.jwk"
    key_file.write_text(json.dumps(KeyPair.generate().private_jwk()))
    config = VerifierConfig(
        data_dir=tmp_path / "verifier",
        clock=issuer_clock,
        rate_per_second=0,
        receipt_key=key_file,
    )
    app = create_verifier_app(config, fetcher=AppFetcher(issuer_app))
    app.config["TESTING"] = True
    yield app
    app.extensions["vcred_verifier"].close()


def _receipt_subject(token: str, clock: Clock) -> dict[str, Any]:
    result = Verifier(clock=clock).verify(token)
    assert result.verified and result.credential is not None, result.to_dict()
    subject: dict[str, Any] = result.credential["credentialSubject"]
    return subject


def _verified_as_of_with_receipt(
    issuer_app: Flask, clock: Clock, verifier_app: Flask
) -> tuple[str, datetime, dict[str, Any]]:
    """A credential revoked today, verified as of a moment it was good, with a receipt: the
    credential, the moment and the receipt's subject."""
    token, good_then, _ = _revoked_after(issuer_app, clock)
    options = {"asOf": format_datetime(good_then), "receipt": True}
    answer = verifier_app.test_client().post(
        "/credentials/verify", json={"verifiableCredential": token, "options": options}
    )
    assert answer.status_code == 200, answer.get_json()
    return token, good_then, _receipt_subject(answer.get_json()["receipt"], clock)


def test_the_audit_chain_says_a_verification_was_as_of_a_past_moment(
    issuer_app: Flask, issuer_clock: Clock, verifier_app: Flask
) -> None:
    # Attack: verify a credential revoked today as of a moment it was good: the answer (and
    # its receipt) say "as of T", but the audit chain entry the receipt names recorded a plain
    # verify-credential, verified, at today's date — read later as "valid on that day". The
    # chain must keep what was decided: as of which moment.
    token, good_then, subject = _verified_as_of_with_receipt(issuer_app, issuer_clock, verifier_app)
    assert subject["verifiedAsOf"] == format_datetime(good_then)
    service = verifier_app.extensions["vcred_verifier"]
    (entry,) = [
        e for e in service.storage.audit.entries() if e["seq"] == subject["auditEntry"]["seq"]
    ]
    assert entry["details"]["verified"] is True
    assert entry["details"].get("asOf") == format_datetime(good_then)
    # a batch as of a moment records it too, and a verification of now says no moment
    verifier_app.test_client().post(
        "/credentials/verify-batch",
        json={"verifiableCredentials": [token], "options": {"asOf": format_datetime(good_then)}},
    )
    verifier_app.test_client().post("/credentials/verify", json={"verifiableCredential": token})
    service.storage.flush()
    *_, batched, current = service.storage.audit.entries()
    assert batched["details"].get("asOf") == format_datetime(good_then)
    assert current["details"]["verified"] is False and "asOf" not in current["details"]


def test_a_receipt_as_of_a_moment_says_when_each_list_was_fetched(
    issuer_app: Flask, issuer_clock: Clock, verifier_app: Flask
) -> None:
    # Attack on the receipt's word: a status list fetched today for a moment a month ago was
    # held as fetched *at that moment* (the cache was given the as-of moment as the time), so
    # the receipt said fetchedAt = a month ago — a fetch that never happened — and the list,
    # "fetched" at the only moment it is ever asked about, was never fetched again.
    _, good_then, subject = _verified_as_of_with_receipt(issuer_app, issuer_clock, verifier_app)
    (revocation,) = [s for s in subject["statusLists"] if s["statusPurpose"] == "revocation"]
    assert revocation["fetchedAt"] == format_datetime(issuer_clock.now)
    assert revocation["validFrom"] <= format_datetime(good_then)


def test_a_journaled_moment_and_checks_are_written_after_a_crash_and_old_journals_read() -> None:
    # the moment and the checks are journaled with the entry (a process killed before its
    # write leaves it to the next start); a journal written before they were holds ten fields
    entry = HistoryEntry(
        at=NOW,
        kind="credential",
        channel="api",
        verified=True,
        as_of=NOW - timedelta(days=30),
        checks=("proof",),
    )
    assert _from_spool(json.loads(json.dumps(_spooled(entry))), Path("spool")) == entry
    older = replace(entry, as_of=None, checks=None)
    assert _from_spool(_spooled(entry)[:10], Path("spool")) == older


class ReplayingFetcher:
    """The issuer app, except at the URLs given: there it answers with the bytes given (a
    mirror, a CDN or the web host serving another version)."""

    def __init__(self, app: Flask, replayed: dict[str, bytes]) -> None:
        self.inner = AppFetcher(app)
        self.replayed = replayed

    def fetch(self, url: str, *, accept: str, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
        if url in self.replayed:
            return self.replayed[url]
        return self.inner.fetch(url, accept=accept, max_bytes=max_bytes)


def test_a_version_served_as_of_a_moment_older_than_one_known_in_force_then_is_refused(
    issuer_app: Flask, issuer_clock: Clock
) -> None:
    # Attack: the host serving ?timestamp=T answers with the version signed before the
    # revocation, though T is after it. The version's signature and its validFrom (before T)
    # are fine; only the successor's validFrom, which the issuer sends in an unsigned header,
    # says it was out of force at T. But the verifier holds the current version, in force
    # since before T: at T the version in force was that one (or a later one), never an
    # older one saying something else — refused as a rollback, as §13.8 refuses one now.
    token, good_then, list_url = _revoked_after(issuer_app, issuer_clock)
    after_revocation = good_then + timedelta(hours=2)
    before = AppFetcher(issuer_app).fetch(as_of_url(list_url, good_then), accept="*/*")
    fetcher = ReplayingFetcher(issuer_app, {as_of_url(list_url, after_revocation): before})
    cache = StatusListCache()

    def verifier(at: datetime | None = None) -> Verifier:
        return Verifier(fetcher=fetcher, clock=issuer_clock, status_cache=cache, at=at)

    assert verifier().verify(token).codes == ("REVOKED",)  # the current version, held
    replayed = verifier(after_revocation).verify(token)
    assert not replayed.verified
    assert replayed.codes == ("STATUS_VERIFICATION",)
    # as of a moment before the revocation the honest answer still verifies
    assert verifier(good_then).verify(token).verified


# --- receipts: what was checked, and nothing else -------------------------------------------


def test_a_receipt_names_no_trust_list_the_decision_did_not_consult(
    receipt_app: Flask, agency: Agency
) -> None:
    # Attack: options.checks ["proof"] on a revoked credential of a partner: verified (only
    # the proof was asked for), and the receipt named the verifier's trust list as a version
    # the decision rests on — read as "checked against the MRA list" — while the audit chain
    # entry said verified, with nothing of what was left out. A receipt names the trust list
    # only when the trust check ran, and the chain keeps which checks a narrowed request ran.
    certificate = agency.aeo_certificate()
    token = agency.issue(certificate)
    agency.set(certificate, "revoked")
    proof_only = verify_with_receipt(receipt_app, token, checks=["proof"])
    assert proof_only["verified"] is True
    subject = receipt_claims(proof_only["receipt"])["credentialSubject"]
    assert [c["check"] for c in subject["checks"]] == ["proof"]
    assert "trustList" not in subject and subject["statusLists"] == []
    trusted = verify_with_receipt(receipt_app, token, checks=["trust"])
    assert "trustList" in receipt_claims(trusted["receipt"])["credentialSubject"]
    service = receipt_app.extensions["vcred_verifier"]
    *_, narrowed, with_trust = service.storage.audit.entries()
    assert narrowed["details"]["verified"] is True
    assert narrowed["details"].get("checks") == ["proof"]
    assert with_trust["details"].get("checks") == ["proof", "issuer", "trust"]
    everything = verify_with_receipt(receipt_app, token)
    assert everything["verified"] is False
    *_, full = service.storage.audit.entries()
    assert "checks" not in full["details"]  # all of them: the chain says so by saying nothing


def test_a_version_that_came_into_force_after_the_moment_does_not_answer_for_it(
    issuer_app: Flask, issuer_clock: Clock
) -> None:
    # Attack: the tolerance for the issuer's clock (60 s), meant for a list signed in the
    # very second it is fetched, let a version that came into force up to a minute *after* T
    # answer for T. A credential suspended at S and reinstated 30 s later, verified as of
    # S + 10 s with the reinstated version served for that moment: not suspended. No honest
    # issuer serves for T a version from after T: as of a moment, no tolerance.
    api = ApiClient(issuer_app)
    document = credential()
    issued = api.issue(document, auth(issuer_app)).get_json()
    token = str(secured_of(issued))
    suspension = str(payload_of(issued)["credentialStatus"][1]["statusListCredential"])
    _set_status(issuer_app, document["id"], "suspended")
    suspended_at = issuer_clock.now
    issuer_clock.advance(seconds=30)
    _set_status(issuer_app, document["id"], "active")
    reinstated = AppFetcher(issuer_app).fetch(suspension, accept="*/*")
    issuer_clock.advance(days=1)
    moment = suspended_at + timedelta(seconds=10)
    honest = Verifier(fetcher=AppFetcher(issuer_app), clock=issuer_clock, at=moment)
    assert honest.verify(token).codes == ("SUSPENDED",)
    fetcher = ReplayingFetcher(issuer_app, {as_of_url(suspension, moment): reinstated})
    replayed = Verifier(fetcher=fetcher, clock=issuer_clock, at=moment).verify(token)
    assert replayed.codes == ("STATUS_VERIFICATION",)


# --- batches: the rate counts what was read -------------------------------------------------


def test_a_batch_the_rate_refuses_still_costs_the_request_it_was(
    make_app: MakeApp, agency: Agency
) -> None:
    # Attack: with two requests' worth left in the bucket, send batches of three, each as
    # large as the batch body limit allows: each body was read and parsed, then refused
    # (429) at no cost, so the bucket never emptied — unlimited parsing for the price of
    # none. A refused batch now costs one request, as an unreadable one does; once the
    # bucket is empty the 429 comes before any body is read.
    app = make_app(rate_per_second=1, rate_burst=10)
    app.extensions[LIMITER].clock = FakeClock()
    client = app.test_client()
    token = agency.issue(agency.aeo_certificate())
    assert post_batch(client, [token] * 8).status_code == 200
    assert [post_batch(client, [token] * 3).status_code for _ in range(5)] == [429] * 5
    single = client.post("/credentials/verify", json={"verifiableCredential": token})
    assert single.status_code == 429


def test_lists_held_as_of_past_moments_never_push_the_current_ones_out(
    issuer_app: Flask, issuer_clock: Clock
) -> None:
    # Attack: the cache is a bounded LRU shared by current and as-of lists, and every
    # distinct asOf (to the second: the caller picks it) holds one more list. Enough of them
    # pushed the current lists out — and with them the versions the rollback checks compare
    # with (§13.8, and the one above): then an older version served now, or for a moment, was
    # taken again. Lists as of past moments are held apart, in a bounded room of their own.
    token, good_then, list_url = _revoked_after(issuer_app, issuer_clock)
    cache = StatusListCache(max_entries=4)
    fetcher = AppFetcher(issuer_app)
    assert Verifier(fetcher=fetcher, clock=issuer_clock, status_cache=cache).verify(token).codes
    assert list_url in cache._entries
    for second in range(12):
        at = good_then + timedelta(seconds=second)
        as_of = Verifier(fetcher=fetcher, clock=issuer_clock, status_cache=cache, at=at)
        assert as_of.verify(token).verified
    assert list_url in cache._entries
    assert len(cache) <= 4


def test_as_of_a_moment_before_the_list_existed_the_status_is_not_established(
    issuer_app: Flask, issuer_clock: Clock
) -> None:
    # pinned: the credential was valid then (validFrom 2026-01-01), its list had no version
    # yet (first signed at issuance, 2026-06-01): the issuer answers 404, and the status as
    # of then is not established — never the current list standing in for it
    api = ApiClient(issuer_app)
    issued = api.issue(credential(), auth(issuer_app)).get_json()
    before = issuer_clock.now - timedelta(days=30)
    fetcher = AppFetcher(issuer_app)
    result = Verifier(fetcher=fetcher, clock=issuer_clock, at=before).verify(secured_of(issued))
    assert not result.verified
    assert set(result.codes) == {"STATUS_UNAVAILABLE"}
    assert all("timestamp=" in url for url in fetcher.hits if "/status/" in url)


# --- receipts read without the chain (adversarial review of 2026-12-06) --------------------


def test_a_receipt_of_a_narrowed_verdict_names_the_checks_left_out(
    receipt_app: Flask, agency: Agency
) -> None:
    # Attack: options.checks ["proof"] on a revoked credential: verified, and the receipt —
    # a credential anyone may be shown without the audit chain — said `verified: true` with
    # one check listed and nothing saying status, validity and trust were not asked for
    # (read as "the verifier found it good"). The receipt names the checks left out itself.
    certificate = agency.aeo_certificate()
    token = agency.issue(certificate)
    agency.set(certificate, "revoked")
    proof_only = receipt_claims(
        verify_with_receipt(receipt_app, token, checks=["proof"])["receipt"]
    )
    subject = proof_only["credentialSubject"]
    assert subject["verified"] is True
    assert subject["checksNotRequested"] == ["issuer", "validity", "status", "schema", "trust"]
    trusted = verify_with_receipt(receipt_app, token, checks=["trust"])
    narrowed = receipt_claims(trusted["receipt"])["credentialSubject"]
    assert narrowed["checksNotRequested"] == ["validity", "status", "schema"]
    everything = receipt_claims(verify_with_receipt(receipt_app, token)["receipt"])
    assert everything["credentialSubject"]["verified"] is False
    assert "checksNotRequested" not in everything["credentialSubject"]


def test_a_receipt_and_the_chain_state_a_sub_second_as_of_moment_exactly(
    receipt_app: Flask, agency: Agency
) -> None:
    # Attack: a credential valid from 00:00:00.5, verified as of 00:00:00.7 — valid then —
    # got a receipt (and an audit entry) saying "verified as of 00:00:00": a moment it was
    # not valid yet. The moment judged is stated as judged, to the microsecond.
    certificate = agency.aeo_certificate(status=False)
    certificate["validFrom"] = "2026-05-01T00:00:00.5Z"
    token = agency.issue(certificate)
    body = verify_with_receipt(
        receipt_app, token, checks=["validity"], asOf="2026-05-01T00:00:00.7Z"
    )
    assert body["verified"] is True
    subject = receipt_claims(body["receipt"])["credentialSubject"]
    assert subject["verifiedAsOf"] == "2026-05-01T00:00:00.700000Z"
    # to the second, the moment named would be one the credential was not valid yet
    assert parse_datetime(subject["verifiedAsOf"], pointer="") > parse_datetime(
        certificate["validFrom"], pointer=""
    )
    service = receipt_app.extensions["vcred_verifier"]
    (entry,) = [
        e for e in service.storage.audit.entries() if e["seq"] == subject["auditEntry"]["seq"]
    ]
    assert entry["details"]["asOf"] == "2026-05-01T00:00:00.700000Z"
    whole = verify_with_receipt(receipt_app, token, asOf="2026-05-01T00:00:01Z")
    assert receipt_claims(whole["receipt"])["credentialSubject"]["verifiedAsOf"] == (
        "2026-05-01T00:00:01Z"
    )


# --- reviewed as invariants (docs/security.md §13.31) --------------------------------------


class _IgnoringTimestamp:
    """A host serving a list's URL that answers every ``?timestamp=`` with its current list
    (a static web host, a CDN dropping the query)."""

    def __init__(self, app: Flask) -> None:
        self.inner = AppFetcher(app)
        self.hits: list[str] = []

    def fetch(self, url: str, *, accept: str, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
        self.hits.append(url)
        plain = url.partition("?")[0] if "/status/" in url else url
        return self.inner.fetch(plain, accept=accept, max_bytes=max_bytes)


@pytest.mark.parametrize("ahead", [timedelta(microseconds=1), timedelta(days=100)])
def test_the_status_as_of_a_moment_to_come_is_not_established(
    issuer_app: Flask, issuer_clock: Clock, ahead: timedelta
) -> None:
    # Attack: the library verifies as of a moment after its clock's time (the VC API refuses
    # such an asOf; Verifier(at=…) took it), the list's host serving its current version for
    # any timestamp: its validFrom (before T) passed, and the credential was "not revoked"
    # on a day to come — a version nobody has signed yet. Not established, nothing fetched.
    issued = ApiClient(issuer_app).issue(credential(), auth(issuer_app)).get_json()
    fetcher = _IgnoringTimestamp(issuer_app)
    at = issuer_clock.now + ahead
    result = Verifier(fetcher=fetcher, clock=issuer_clock, at=at).verify(secured_of(issued))
    assert not result.verified
    assert set(result.codes) == {"STATUS_UNAVAILABLE"}
    assert not [url for url in fetcher.hits if "/status/" in url]
    # the moment itself (the clock's time) is no moment to come: the current version answers
    now = Verifier(fetcher=fetcher, clock=issuer_clock, at=issuer_clock.now)
    assert now.verify(secured_of(issued)).verified


def test_as_of_a_moment_before_the_retention_the_status_is_not_established(
    tmp_path: Path, issuer_clock: Clock
) -> None:
    # pinned: the versions in force before the issuer's retention window are pruned; as of
    # a moment then the issuer answers 404 and the status is not established — neither the
    # oldest version kept nor the current one stands in for it
    app = create_issuer_app(
        make_config(
            tmp_path / "retained", "sqlite", clock=issuer_clock,
            status_history_retention=timedelta(days=10),
        )
    )  # fmt: skip
    try:
        document, other = credential(), credential()
        issued = ApiClient(app).issue(document, auth(app)).get_json()
        later = ApiClient(app).issue(other, auth(app)).get_json()
        list_url = str(payload_of(issued)["credentialStatus"][0]["statusListCredential"])
        assert payload_of(later)["credentialStatus"][0]["statusListCredential"] == list_url
        assert app.test_client().get(list_url.removeprefix(PUBLIC_URL)).status_code == 200
        long_ago = issuer_clock.now + timedelta(hours=1)
        issuer_clock.advance(days=1)
        _set_status(app, document["id"], "revoked")
        issuer_clock.advance(days=30)
        # a version of the list signed 30 days on: the first (in force long ago) is pruned
        _set_status(app, other["id"], "revoked")
        pruned = app.test_client().get(as_of_url(list_url, long_ago).removeprefix(PUBLIC_URL))
        assert pruned.status_code == 404
        fetcher = AppFetcher(app)
        result = Verifier(fetcher=fetcher, clock=issuer_clock, at=long_ago).verify(
            secured_of(issued)
        )
        assert not result.verified
        assert "STATUS_UNAVAILABLE" in result.codes
        assert "REVOKED" not in result.codes  # no later version answered for it either
    finally:
        issuer_of(app).close()


def test_verify_as_of_a_moment_per_call_answers_as_a_verifier_as_of_it(
    issuer_app: Flask, issuer_clock: Clock
) -> None:
    # ``Verifier.verify(…, at=T)`` (as ``vcred.verify(…, at=T)``): the verifier as of T for
    # that call, its caches shared; the boundaries exactly — the revocation's version is in
    # force from its validFrom on, not a microsecond before; an offset names the same moment
    token, good_then, _ = _revoked_after(issuer_app, issuer_clock)
    revoked_at = good_then + timedelta(hours=1)  # the list signed at the revocation
    cache = StatusListCache()
    verifier = Verifier(fetcher=AppFetcher(issuer_app), clock=issuer_clock, status_cache=cache)
    india = timezone(timedelta(hours=5, minutes=30))
    expected = {
        good_then: (),
        revoked_at - timedelta(microseconds=1): (),
        revoked_at: ("REVOKED",),
        revoked_at.astimezone(india): ("REVOKED",),
        (revoked_at - timedelta(microseconds=1)).astimezone(india): (),
        issuer_clock.now: ("REVOKED",),
    }
    for moment, codes in expected.items():
        assert verifier.verify(token, at=moment).codes == codes, moment
        alone = Verifier(fetcher=AppFetcher(issuer_app), clock=issuer_clock, at=moment)
        assert alone.verify(token).codes == codes, moment
    assert verifier.at is None  # the call's moment is the call's
    assert verifier.verify(token).codes == ("REVOKED",)
    with pytest.raises(UsageError):
        verifier.verify(token, at=datetime(2026, 6, 1))  # naive: misuse, as Verifier(at=…)
    with pytest.raises(UsageError):
        verifier.verify(token, at="2026-06-01T13:00:00Z")  # type: ignore[arg-type]
