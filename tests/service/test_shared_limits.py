"""Rate-limit counters shared through Redis (127.0.0.1:6379): every worker and machine of a
deployment spends from one bucket per client address; other deployments have their own; a
lost Redis degrades to per-worker limits instead of stopping the service."""

from __future__ import annotations

import logging
import os
import secrets
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.redis_server import REDIS_URL, SLOW, needs_redis
from vcred.errors import UsageError
from vcred_service.ratelimit import RateLimiter, make_limiter
from vcred_service.shared_limits import RedisRateLimiter


@pytest.fixture
def deployment() -> tuple[str, ...]:
    return ("verifier", f"test-{secrets.token_hex(6)}", "verifier_")


def _worker(deployment: tuple[str, ...], *, burst: int = 3) -> RedisRateLimiter:
    made = make_limiter(SLOW, burst, url=REDIS_URL, deployment=deployment, name="api")
    assert isinstance(made, RedisRateLimiter)
    return made


@needs_redis
def test_two_workers_spend_from_one_bucket(deployment: tuple[str, ...]) -> None:
    first, second = _worker(deployment), _worker(deployment)
    assert [first.allow("203.0.113.5"), second.allow("203.0.113.5")] == [0.0, 0.0]
    assert first.allow("203.0.113.5") == 0.0
    assert second.allow("203.0.113.5") > 0  # the third of the other worker was the last
    assert first.peek("203.0.113.5") > 0
    assert second.allow("203.0.113.6") == 0.0  # another address, its own bucket


@needs_redis
def test_a_batch_costs_its_items_in_the_shared_bucket(deployment: tuple[str, ...]) -> None:
    first, second = _worker(deployment, burst=5), _worker(deployment, burst=5)
    assert first.allow("a", cost=4) == 0.0
    assert second.allow("a", cost=2) > 0  # one token left across both workers: refused
    assert second.allow("a") == 0.0  # and refused batches cost nothing
    assert first.allow("a") > 0
    with pytest.raises(UsageError):
        first.allow("a", cost=0)


@needs_redis
def test_a_batch_larger_than_the_burst_goes_ahead_on_a_full_bucket_and_leaves_debt(
    deployment: tuple[str, ...],
) -> None:
    limiter = _worker(deployment, burst=3)
    assert limiter.allow("a", cost=10) == 0.0
    assert limiter.peek("a") > 0
    assert limiter.allow("a") > 0


@needs_redis
def test_peeking_spends_nothing(deployment: tuple[str, ...]) -> None:
    limiter = _worker(deployment, burst=1)
    assert [limiter.peek("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.allow("a") == 0.0
    assert limiter.peek("a") > 0


@needs_redis
def test_a_token_given_back_is_spent_again_never_past_a_full_bucket(
    deployment: tuple[str, ...],
) -> None:
    # a sign-in takes its account's token before the password check, gives it back if right
    first, second = _worker(deployment, burst=2), _worker(deployment, burst=2)
    assert [first.allow("a"), second.allow("a")] == [0.0, 0.0]
    assert first.peek("a") > 0
    second.refund("a")
    assert first.allow("a") == 0.0 and second.peek("a") > 0
    for _ in range(3):
        first.refund("a")
    assert [second.allow("a") for _ in range(3)][2] > 0  # full is two, not four


def test_a_token_given_back_without_redis_is_the_workers() -> None:
    limiter = make_limiter(SLOW, 1, url="redis://127.0.0.1:1/0", deployment=("x",), name="x")
    assert limiter.allow("a") == 0.0 and limiter.peek("a") > 0
    limiter.refund("a")
    limiter.refund("a")
    assert limiter.allow("a") == 0.0 and limiter.allow("a") > 0


@needs_redis
def test_other_deployments_and_limits_do_not_share(deployment: tuple[str, ...]) -> None:
    ours = _worker(deployment, burst=1)
    theirs = _worker((*deployment[:2], "other_"), burst=1)
    login = make_limiter(SLOW, 1, url=REDIS_URL, deployment=deployment, name="login")
    assert ours.allow("a") == 0.0 and ours.allow("a") > 0
    assert theirs.allow("a") == 0.0
    assert login.allow("a") == 0.0


def _connections_to_redis() -> int:
    """This process's open TCP connections to the test Redis's port.

    Each socket is read through a duplicate of its descriptor, closed whatever happens: a
    duplicate left open of another descriptor (the browser driver's pipe, say) keeps its
    other end from ever seeing the end of it.
    """
    count = 0
    for fd in Path("/proc/self/fd").iterdir():
        try:
            if not str(fd.readlink()).startswith("socket:"):
                continue
            duplicate = os.dup(int(fd.name))
        except OSError:
            continue  # closed meanwhile (the listing's own descriptor)
        try:
            sock = socket.socket(fileno=duplicate)
        except OSError:
            os.close(duplicate)
            continue
        with sock:
            try:
                count += sock.family in (socket.AF_INET, socket.AF_INET6) and (
                    sock.getpeername()[1] == 6379
                )
            except OSError:
                continue  # not connected
    return count


@needs_redis
@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="reads /proc (Linux)")
def test_the_limiters_of_one_url_share_one_connection(deployment: tuple[str, ...]) -> None:
    # an app builds several limiters (API, sign-in, derive …) and closes none of them: each
    # had its own pool, one connection per limiter, left to the garbage collector
    before = _connections_to_redis()
    names = ("api", "login", "derive", "auth")
    app = [make_limiter(SLOW, 3, url=REDIS_URL, deployment=deployment, name=n) for n in names]
    assert [limiter.allow("a") for limiter in app] == [0.0] * 4
    assert _connections_to_redis() - before <= 1


def test_without_redis_the_limit_falls_back_to_the_worker(
    deployment: tuple[str, ...], caplog: pytest.LogCaptureFixture
) -> None:
    limiter = make_limiter(SLOW, 2, url="redis://127.0.0.1:1/0", deployment=deployment, name="x")
    with caplog.at_level(logging.WARNING, logger="vcred_service"):
        waits = [limiter.allow("a") for _ in range(3)]
    assert waits[:2] == [0.0, 0.0] and waits[2] > 0  # still limited, per worker
    assert caplog.text.count("cannot be reached") == 1  # said once, not per request


def test_without_a_url_the_limiter_is_the_workers_own(deployment: tuple[str, ...]) -> None:
    assert isinstance(make_limiter(1.0, 1, url=None, deployment=deployment, name="x"), RateLimiter)


@pytest.mark.parametrize("url", ["http://127.0.0.1:6379", "127.0.0.1:6379", "postgresql://x"])
def test_a_rate_limit_url_that_is_not_redis_is_refused(tmp_path: Path, url: str) -> None:
    from issuer_app import IssuerConfig
    from verifier_app import VerifierConfig

    with pytest.raises(UsageError, match="VCRED_VERIFIER_RATE_LIMIT_URL must be a redis://"):
        VerifierConfig(data_dir=tmp_path, rate_limit_url=url)
    with pytest.raises(UsageError, match="VCRED_ISSUER_RATE_LIMIT_URL must be a redis://"):
        IssuerConfig(data_dir=tmp_path, passphrase="p" * 12, rate_limit_url=url)


def test_the_rate_limit_url_is_read_from_the_environment(tmp_path: Path) -> None:
    from issuer_app import IssuerConfig
    from verifier_app import VerifierConfig

    verifier = VerifierConfig.from_env({"VCRED_VERIFIER_RATE_LIMIT_URL": REDIS_URL})
    assert verifier.rate_limit_url == REDIS_URL
    issuer = IssuerConfig.from_env(
        {"VCRED_ISSUER_RATE_LIMIT_URL": REDIS_URL, "VCRED_ISSUER_PASSPHRASE": "p" * 12},
        data_dir=tmp_path,
    )
    assert issuer.rate_limit_url == REDIS_URL


@pytest.fixture
def issuer_apps(tmp_path: Path) -> Iterator[list[object]]:
    from issuer_app import create_app, issuer_of
    from tests.issuer.conftest import make_config

    # two issuer processes of one agency (one database), limited together through Redis
    apps = [
        create_app(
            make_config(
                tmp_path / "issuer",
                "sqlite",
                api_rate=SLOW,
                api_burst=2,
                rate_limit_url=REDIS_URL,
                public_url=f"https://issuer-{secrets.token_hex(4)}.example",
            )
        )
    ]
    apps.append(create_app(apps[0].extensions["vcred_issuer"].config))
    yield apps
    for app in apps:
        issuer_of(app).close()  # type: ignore[arg-type]


@needs_redis
def test_two_issuer_processes_share_the_api_limit(issuer_apps: list[object]) -> None:
    clients = [app.test_client() for app in issuer_apps]  # type: ignore[attr-defined]
    statuses = [clients[n % 2].post("/credentials/issue", json={}).status_code for n in range(3)]
    assert 429 not in statuses[:2]  # refused for what they are (no token), not limited
    assert statuses[2] == 429


@needs_redis
def test_two_verifier_processes_share_the_api_limit(tmp_path: Path) -> None:
    from verifier_app import VerifierConfig, create_app

    domain = f"verifier-{secrets.token_hex(4)}.example"
    apps = [
        create_app(
            VerifierConfig(
                data_dir=tmp_path / f"machine{n}",
                domain=domain,
                rate_per_second=SLOW,
                rate_burst=2,
                rate_limit_url=REDIS_URL,
            )
        )
        for n in range(2)
    ]
    try:
        clients = [app.test_client() for app in apps]
        statuses = [clients[n % 2].post("/challenges").status_code for n in range(3)]
        assert statuses == [201, 201, 429]
        # the in-process limit alone would have let the third through (a new bucket there)
    finally:
        for app in apps:
            app.extensions["vcred_verifier"].close()
