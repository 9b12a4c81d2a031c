"""A status answer never rests on a list older than ``status_max_age`` (docs/security.md
§13.5): cut a verifier off from the issuer's status server and a revoked credential used to
keep verifying on the last copy, forever, with only a STATUS_STALE warning. Past the bound
(24 h by default) the status check fails with STATUS_UNAVAILABLE; below it the stale copy
answers with STATUS_STALE. Through the library (online, host down or failing, offline) and
through the verifier service (config, environment, command line, TOML)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner
from flask import Flask

from tests.hardening.status_lists import presented, signed_list
from tests.httpserver import LocalServer
from tests.verifier.conftest import DOMAIN, NOW, US_HOST, Agency, MakeApp
from vcred import Verifier, did_key, issue
from vcred.cli import main
from vcred.did import Resolver
from vcred.errors import UsageError
from vcred.keys import KeyPair
from vcred.net import GuardedFetcher
from vcred.status import DEFAULT_STATUS_MAX_AGE, MutableBitstring, StatusListCache
from vcred.verifier import VerificationResult
from verifier_app.config import VerifierConfig

STATUS_HOST = "status.us-customs.example"
DAY = timedelta(hours=24)
SECOND = timedelta(seconds=1)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


class StatusServer:
    """The issuer's status lists on a server of their own, which can go away or fail."""

    def __init__(self, agency: Agency) -> None:
        self.agency = agency
        self.server = LocalServer()
        self.server.start()
        self.up = True

    def publish(self, **subject: Any) -> str:
        """A new signed list (all zeros), served here; returns its URL."""
        url = f"https://{STATUS_HOST}/status/{secrets.token_hex(6)}"
        self.server.serve(urlsplit(url).path, signed_list(self.agency, url, **subject))
        return url

    def revoke(self, url: str, **subject: Any) -> None:
        """Serve the list at ``url`` again, with index 7 (what ``credential`` uses) set."""
        bits = MutableBitstring()
        bits.set(7, 1)
        signed = signed_list(self.agency, url, encodedList=bits.encode(), **subject)
        self.server.serve(urlsplit(url).path, signed)

    def cut_off(self, how: str) -> None:
        """``down``: nothing listens any more; ``failing``: every answer is a 503."""
        if how == "failing":
            for path, (_, headers, body) in list(self.server.routes.items()):
                self.server.routes[path] = (503, headers, body)
        elif self.up:
            self.server.stop()
            self.up = False

    @property
    def host_map(self) -> dict[str, str]:
        return {US_HOST: self.agency.server.origin, STATUS_HOST: self.server.origin}


@pytest.fixture
def status_server(agency: Agency) -> Iterator[StatusServer]:
    server = StatusServer(agency)
    yield server
    server.cut_off("down")


def credential(agency: Agency, list_url: str, *, holder: str | None = None) -> str:
    document = agency.aeo_certificate(holder=holder, status=False)
    document["credentialStatus"] = {
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": "7",
        "statusListCredential": list_url,
    }
    return str(issue(document, agency.signer))


def verifier(server: StatusServer, clock: Clock, **options: Any) -> Verifier:
    fetcher = GuardedFetcher(host_map=server.host_map)
    resolver = Resolver(fetcher=fetcher, clock=lambda: clock().timestamp())
    return Verifier(fetcher=fetcher, resolver=resolver, clock=clock, **options)


def stale_warnings(result: VerificationResult) -> list[str]:
    return [w.message for w in result.warnings if w.code == "STATUS_STALE"]


def assert_unavailable(result: VerificationResult) -> None:
    assert not result.verified
    assert result.codes == ("STATUS_UNAVAILABLE",), result.errors
    assert result.errors[0].path == "/credentialStatus/statusListCredential"
    assert stale_warnings(result) == []


# -- the library -----------------------------------------------------------------------------


def test_the_default_bound_is_24_hours() -> None:
    assert DEFAULT_STATUS_MAX_AGE == DAY
    assert Verifier().status_max_age == DAY
    assert VerifierConfig().status_max_age == DAY


@pytest.mark.parametrize("outage", ["down", "failing"])
@pytest.mark.parametrize("after", [2 * 60 * 60, DAY.total_seconds() - 1, DAY.total_seconds()])
def test_below_the_bound_the_stale_list_answers_with_a_warning(
    agency: Agency, status_server: StatusServer, outage: str, after: float
) -> None:
    clock = Clock()
    token = credential(agency, status_server.publish())
    checker = verifier(status_server, clock)
    assert checker.verify(token).verified
    status_server.cut_off(outage)
    clock.now += timedelta(seconds=after)
    result = checker.verify(token)
    assert result.verified, result.errors
    assert stale_warnings(result) == [
        f"status from a list fetched {int(after)} s ago (the list could not be refreshed)"
    ]


@pytest.mark.parametrize("outage", ["down", "failing"])
@pytest.mark.parametrize("after", [DAY + SECOND, DAY + timedelta(hours=1), timedelta(days=30)])
def test_past_the_bound_the_status_is_unavailable(
    agency: Agency, status_server: StatusServer, outage: str, after: timedelta
) -> None:
    clock = Clock()
    token = credential(agency, status_server.publish())
    checker = verifier(status_server, clock)
    assert checker.verify(token).verified
    status_server.cut_off(outage)
    clock.now += after
    result = checker.verify(token)
    assert_unavailable(result)
    assert f"{int(after.total_seconds())} s old" in result.errors[0].message


def test_a_revocation_hidden_by_an_outage_stops_verifying_after_the_bound(
    agency: Agency, status_server: StatusServer
) -> None:
    clock = Clock()
    list_url = status_server.publish()
    token = credential(agency, list_url)
    checker = verifier(status_server, clock)
    assert checker.verify(token).verified
    status_server.revoke(list_url)  # revoked at the issuer, but this verifier is cut off
    status_server.cut_off("down")
    clock.now += timedelta(hours=23)
    assert checker.verify(token).verified  # the old copy, said to be stale …
    clock.now += timedelta(hours=2)
    assert_unavailable(checker.verify(token))  # … but not for more than a day


def test_when_the_server_is_back_the_list_is_fetched_again(
    agency: Agency, status_server: StatusServer
) -> None:
    clock = Clock()
    list_url = status_server.publish()
    token = credential(agency, list_url)
    checker = verifier(status_server, clock)
    assert checker.verify(token).verified
    status_server.cut_off("failing")
    clock.now += DAY * 2
    assert_unavailable(checker.verify(token))
    status_server.revoke(list_url)  # answers again (with the revocation)
    assert checker.verify(token).codes == ("REVOKED",)


@pytest.mark.parametrize(
    ("bound", "verified"), [(timedelta(hours=3), True), (timedelta(hours=1), False)]
)
def test_the_bound_is_configurable(
    agency: Agency, status_server: StatusServer, bound: timedelta, verified: bool
) -> None:
    clock = Clock()
    token = credential(agency, status_server.publish())
    checker = verifier(status_server, clock, status_max_age=bound)
    assert checker.verify(token).verified
    status_server.cut_off("down")
    clock.now += timedelta(hours=2)
    result = checker.verify(token)
    if verified:
        assert result.verified and stale_warnings(result)
    else:
        assert_unavailable(result)


def test_a_list_within_its_ttl_is_fetched_again_once_past_the_bound(
    agency: Agency, status_server: StatusServer
) -> None:
    # the cache would keep the list a week (its ttl and the cache's cap); the bound is an hour
    clock = Clock()
    week = int(timedelta(days=7) / timedelta(milliseconds=1))
    list_url = status_server.publish(ttl=week)
    token = credential(agency, list_url)
    cache = StatusListCache(default_ttl=timedelta(days=7), max_ttl=timedelta(days=7))
    checker = verifier(status_server, clock, status_cache=cache, status_max_age=timedelta(hours=1))
    assert checker.verify(token).verified
    status_server.revoke(list_url, ttl=week)
    clock.now += timedelta(minutes=30)
    assert checker.verify(token).verified  # fresh enough: the cached copy answers
    clock.now += timedelta(hours=1)
    assert checker.verify(token).codes == ("REVOKED",)  # fetched again within its "ttl"


@pytest.mark.parametrize(("after", "verified"), [(DAY - SECOND, True), (DAY + SECOND, False)])
def test_offline_mode_honours_the_bound(
    agency: Agency, status_server: StatusServer, after: timedelta, verified: bool
) -> None:
    clock = Clock()
    token = credential(agency, status_server.publish())
    online = verifier(status_server, clock)
    assert online.verify(token).verified
    offline = verifier(status_server, clock, offline=True, status_cache=online.status_cache)
    status_server.cut_off("down")
    clock.now += after
    result = offline.verify(token)
    if verified:
        assert result.verified and stale_warnings(result), result.errors
    else:
        assert_unavailable(result)


@pytest.mark.parametrize(
    ("after", "verified"), [(timedelta(hours=23), True), (DAY + SECOND, False)]
)
def test_the_bound_holds_for_credentials_inside_a_presentation(
    agency: Agency, status_server: StatusServer, after: timedelta, verified: bool
) -> None:
    clock = Clock()
    holder = KeyPair.generate("ed25519")
    token = credential(agency, status_server.publish(), holder=did_key(holder.public))
    checker = verifier(status_server, clock)
    assert checker.verify(token).verified
    status_server.cut_off("down")
    clock.now += after
    vp, challenge = presented(token, holder, now=clock.now)
    result = checker.verify_presentation(vp, challenge=challenge, domain=DOMAIN)
    (inner,) = result.credentials
    assert result.verified is verified
    if verified:
        assert stale_warnings(inner), inner.errors
    else:
        assert_unavailable(inner)


@pytest.mark.parametrize("bound", [timedelta(0), -SECOND])
def test_a_bound_that_is_not_positive_is_misuse(bound: timedelta) -> None:
    with pytest.raises(UsageError):
        Verifier(status_max_age=bound)


# -- the verifier service --------------------------------------------------------------------


def _verify(app: Flask, token: str) -> tuple[int, list[str], list[str]]:
    response = app.test_client().post("/credentials/verify", json={"verifiableCredential": token})
    body = response.get_json()
    return (
        response.status_code,
        [p["code"] for p in body.get("problemDetails", [])],
        [w["code"] for w in body["warnings"]],
    )


@pytest.mark.parametrize(
    ("options", "after", "expected"),
    [
        ({}, timedelta(hours=23), (200, [], ["STATUS_STALE"])),
        ({}, DAY + SECOND, (400, ["STATUS_UNAVAILABLE"], [])),
        ({}, timedelta(days=6), (400, ["STATUS_UNAVAILABLE"], [])),  # within max_stale (DIDs)
        (
            {"status_max_age": timedelta(hours=1)},
            timedelta(hours=2),
            (400, ["STATUS_UNAVAILABLE"], []),
        ),
        ({"status_max_age": timedelta(days=3)}, timedelta(days=2), (200, [], ["STATUS_STALE"])),
    ],
)
def test_the_verifier_service_honours_the_bound(
    agency: Agency,
    status_server: StatusServer,
    make_app: MakeApp,
    options: dict[str, Any],
    after: timedelta,
    expected: tuple[int, list[str], list[str]],
) -> None:
    clock = Clock()
    token = credential(agency, status_server.publish())
    app = make_app(host_map=status_server.host_map, clock=clock, **options)
    assert _verify(app, token)[0] == 200
    status_server.cut_off("down")
    clock.now += after
    status, codes, warnings = _verify(app, token)
    assert (status, codes, [w for w in warnings if w != "TRUST_NOT_EVALUATED"]) == expected


def test_the_service_takes_the_bound_from_the_environment() -> None:
    config = VerifierConfig.from_env({"VCRED_VERIFIER_STATUS_MAX_AGE": "3600"})
    assert config.status_max_age == timedelta(hours=1)


@pytest.mark.parametrize("value", ["0", "-1", "x", "nan", "inf", "1e400", "1e300"])
def test_an_unusable_bound_in_the_environment_is_named(value: str) -> None:
    with pytest.raises(UsageError, match=r"(?i)status_max_age"):
        VerifierConfig.from_env({"VCRED_VERIFIER_STATUS_MAX_AGE": value})


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> list[Flask]:
    """Apps `vcred serve verifier` would serve (it returns instead of serving)."""
    apps: list[Flask] = []

    def serve(app: Flask, **options: Any) -> None:
        sock = options.get("sock")
        if sock is not None:
            sock.close()  # the port is taken before serving: give it back
        apps.append(app)

    monkeypatch.setattr("verifier_app.cli.serve_forever", serve)
    monkeypatch.delenv("VCRED_VERIFIER_STATUS_MAX_AGE", raising=False)
    return apps


def _serve(tmp_path: Path, *args: str) -> Any:
    return CliRunner().invoke(
        main, ["serve", "verifier", "--port", "0", "--data-dir", str(tmp_path), *args]
    )


def test_the_command_line_and_a_toml_file_set_the_bound(
    tmp_path: Path, started: list[Flask]
) -> None:
    assert _serve(tmp_path, "--status-max-age", "7200").exit_code == 0
    toml = tmp_path / "verifier.toml"
    toml.write_text("[verifier]\nstatus-max-age = 600\n")
    assert _serve(tmp_path, "--config", str(toml)).exit_code == 0
    bounds = [app.extensions["vcred_verifier"].verifier.status_max_age for app in started]
    assert bounds == [timedelta(hours=2), timedelta(minutes=10)]
    for app in started:
        app.extensions["vcred_verifier"].close()


@pytest.mark.parametrize("value", ["0", "-5", "soon", "1e400"])
def test_an_unusable_bound_on_the_command_line_stops_the_start(
    tmp_path: Path, started: list[Flask], value: str
) -> None:
    result = _serve(tmp_path, "--status-max-age", value)
    assert result.exit_code == 2
    assert "cannot start" in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert started == []
