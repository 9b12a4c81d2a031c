"""One time budget per verification (``Verifier.time_budget``, vcred/net.py::time_budget):
a credential naming eight slow status lists, or a presentation of credentials from slow
did:web hosts, costs one budget — not one fetch deadline per list or DID. What the budget
cuts off fails fast with its unavailable code and a message naming the budget, and no stale
copy stands in for it."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from tests.hardening.corpus import base_credential
from tests.hardening.test_urls import codes
from tests.httpserver import LocalServer, local_server
from tests.verifier.conftest import NOW, MakeApp
from vcred import Verifier, did_key, issue, present
from vcred.did import Resolver, did_web_document
from vcred.errors import TimeBudgetError, UnreachableError, UsageError
from vcred.issuing import signer_for
from vcred.keys import KeyPair
from vcred.net import DEFAULT_MAX_BYTES, GuardedFetcher, budget_left, time_budget
from verifier_app import VerifierConfig

SLOW_HOST = "slow-lists.example"
LISTS = 8
#: each list takes ~1.25 s to arrive (25 chunks of 16 bytes, 50 ms apart): eight of them would
#: take 10 s one after the other
SLOW_BODY = b"x" * 400
BUDGET = timedelta(seconds=1)


@pytest.fixture
def slow_server() -> Iterator[LocalServer]:
    with local_server() as server:
        for i in range(LISTS):
            server.serve(f"/status/{i}", SLOW_BODY)
            server.slow[f"/status/{i}"] = 0.05
        yield server


KEY = KeyPair.generate("ed25519")


def eight_lists_credential() -> str:
    entries = [
        {
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": "5",
            "statusListCredential": f"https://{SLOW_HOST}/status/{i}",
        }
        for i in range(LISTS)
    ]
    credential = base_credential(did_key(KEY.public), credentialStatus=entries)
    return str(issue(credential, KEY))


def test_eight_slow_status_lists_cost_one_budget_not_eight_deadlines(
    slow_server: LocalServer,
) -> None:
    fetcher = GuardedFetcher(host_map={SLOW_HOST: slow_server.origin})  # 5 s deadline each
    verifier = Verifier(fetcher=fetcher, clock=lambda: NOW, time_budget=BUDGET)
    started = time.monotonic()
    result = verifier.verify(eight_lists_credential())
    elapsed = time.monotonic() - started
    assert elapsed < 2.0, elapsed  # one budget (1 s), not 8 x 1.25 s
    assert len(result.status) == LISTS
    for entry in result.status:
        assert entry.error is not None and entry.error.code == "STATUS_UNAVAILABLE"
        assert "time budget of 1 s is spent" in entry.error.message
        assert not entry.stale
    assert len(slow_server.hits) < LISTS  # the lists after the budget were never requested
    assert not result.verified


def test_while_the_budget_lasts_each_fetch_keeps_its_own_deadline(
    slow_server: LocalServer,
) -> None:
    # a budget of about two fetch deadlines: the first lists time out on their own deadline
    # (the host's fault: a stale copy could stand in), the rest on the budget
    fetcher = GuardedFetcher(host_map={SLOW_HOST: slow_server.origin}, deadline=0.3)
    verifier = Verifier(fetcher=fetcher, clock=lambda: NOW, time_budget=timedelta(seconds=0.75))
    result = verifier.verify(eight_lists_credential())
    messages = [entry.error.message for entry in result.status if entry.error is not None]
    assert len(messages) == LISTS
    assert "took longer than 0.3s" in messages[0]
    own = sum("took longer than 0.3s" in m for m in messages)
    assert 1 <= own <= 2
    assert sum("time budget of 0.75 s" in m for m in messages) == LISTS - own


class NoWatchdog:
    """A watchdog that never fires: the socket's own timeout is then what ends a silent read."""

    def __init__(self, interval: float, function: Any) -> None:
        self.daemon = True

    def start(self) -> None:
        pass

    def cancel(self) -> None:
        pass


def test_a_socket_timeout_at_the_deadline_is_the_deadline(
    slow_server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the watchdog and the socket's timeout both fire at the deadline; whichever comes first,
    # the fetch took too long (the host's fault) — not "failed: TimeoutError"
    monkeypatch.setattr("vcred.net.threading.Timer", NoWatchdog)
    slow_server.serve("/silent", SLOW_BODY)
    slow_server.slow["/silent"] = 1.0  # one chunk, then a second of silence
    fetcher = GuardedFetcher(host_map={SLOW_HOST: slow_server.origin}, deadline=0.3)
    with pytest.raises(UnreachableError, match=r"took longer than 0\.3s"):
        fetcher.fetch(f"https://{SLOW_HOST}/silent", accept="application/json")
    with time_budget(0.3), pytest.raises(TimeBudgetError, match="was cut short"):
        GuardedFetcher(host_map={SLOW_HOST: slow_server.origin}).fetch(
            f"https://{SLOW_HOST}/silent", accept="application/json"
        )


class SleepyFetcher:
    """Any Fetcher (not only GuardedFetcher): each fetch takes ``delay`` seconds, then fails."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.urls: list[str] = []

    def fetch(self, url: str, *, accept: str, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
        self.urls.append(url)
        time.sleep(self.delay)
        raise UnreachableError(f"{url} did not answer")


def test_the_status_path_honours_the_budget_whatever_the_fetcher() -> None:
    fetcher = SleepyFetcher(0.4)
    verifier = Verifier(fetcher=fetcher, clock=lambda: NOW, time_budget=BUDGET)
    started = time.monotonic()
    result = verifier.verify(eight_lists_credential())
    assert time.monotonic() - started < 2.0
    assert 2 <= len(fetcher.urls) <= 3  # 0.4 s each: the fourth would start past the budget
    spent = [e for e in result.status if e.error and "time budget" in e.error.message]
    assert len(spent) == LISTS - len(fetcher.urls)


def did_web_credential(host: str) -> str:
    key = KeyPair.generate("ed25519")
    return str(issue(base_credential(f"did:web:{host}"), signer_for(key, did=f"did:web:{host}")))


def test_a_presentation_of_credentials_from_slow_did_web_hosts_costs_one_budget() -> None:
    hosts = [f"agency{i}.example" for i in range(6)]
    fetcher = SleepyFetcher(0.4)
    verifier = Verifier(fetcher=fetcher, clock=lambda: NOW, time_budget=BUDGET)
    vp = present([did_web_credential(h) for h in hosts], KeyPair.generate(), now=NOW)
    started = time.monotonic()
    result = verifier.verify_presentation(vp)
    assert time.monotonic() - started < 2.0  # not 6 x 0.4 s: the credentials share the budget
    assert 2 <= len(fetcher.urls) <= 3
    inner = [p for r in result.credentials for p in r.errors if p.code == "DID_RESOLUTION"]
    assert len(inner) == len(hosts)
    spent = sum("time budget of 1 s is spent" in p.message for p in inner)
    assert spent == len(hosts) - len(fetcher.urls)


def test_a_spent_budget_never_lets_a_stale_did_document_stand_in() -> None:
    did = "did:web:agency.example"
    document = json.dumps(did_web_document(did, [KEY.public])).encode()

    class Once:
        def __init__(self) -> None:
            self.calls = 0

        def fetch(self, url: str, *, accept: str, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
            self.calls += 1
            if self.calls == 1:
                return document
            raise UnreachableError("the host is down")

    now = [0.0]
    resolver = Resolver(fetcher=Once(), web_ttl=60, max_stale=3600, clock=lambda: now[0])
    resolver.resolve(did)
    now[0] = 120.0  # expired, within max_stale
    assert resolver.resolve(did).id == did  # the host is down: the stale copy stands in
    with time_budget(0.001):
        time.sleep(0.01)
        with pytest.raises(TimeBudgetError, match=r"time budget of 0\.001 s"):
            resolver.resolve(did)  # the budget is ours, not the host's: no stale copy


def test_a_nested_budget_never_outlasts_the_outer_one() -> None:
    with time_budget(0.05) as outer, time_budget(10) as inner:
        assert inner is outer
        time.sleep(0.06)
        with pytest.raises(TimeBudgetError):
            budget_left("a fetch")
    assert budget_left("a fetch outside any budget") is None


def test_the_budget_must_be_positive() -> None:
    with pytest.raises(UsageError):
        Verifier(time_budget=timedelta(0))
    with pytest.raises(UsageError):
        VerifierConfig(time_budget=timedelta(seconds=-1))
    config = VerifierConfig.from_env({"VCRED_VERIFIER_TIME_BUDGET": "2.5"})
    assert config.time_budget == timedelta(seconds=2.5)


def test_eight_slow_status_lists_through_the_verifier_service_cost_one_budget(
    make_app: MakeApp, slow_server: LocalServer
) -> None:
    app = make_app(time_budget=BUDGET, host_map={SLOW_HOST: slow_server.origin})
    assert app.extensions["vcred_verifier"].verifier.time_budget == BUDGET
    client = app.test_client()
    started = time.monotonic()
    response = client.post(
        "/credentials/verify", json={"verifiableCredential": eight_lists_credential()}
    )
    assert time.monotonic() - started < 2.0
    assert response.status_code == 400
    body: dict[str, Any] = response.get_json()
    assert "STATUS_UNAVAILABLE" in codes(response)
    assert any("time budget" in p.get("detail", "") for p in body["problemDetails"])
