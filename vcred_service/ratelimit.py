"""A token-bucket rate limiter per client address, in process memory.

Each worker process limits on its own; behind several workers the effective limit is the
per-process rate times the worker count (documented in the services' README section) —
unless a Redis URL is configured: :func:`make_limiter` then shares the counters of every
worker and machine (:mod:`vcred_service.shared_limits`).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from vcred.errors import UsageError
from vcred_service.problems import ProblemError


@dataclass(slots=True)
class RateLimiter:
    """``rate`` requests per second with bursts up to ``burst``, per key (client address)."""

    rate: float
    burst: int
    clock: Callable[[], float] = time.monotonic
    max_keys: int = 100_000
    _buckets: OrderedDict[str, tuple[float, float]] = field(default_factory=OrderedDict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def allow(self, key: str, *, cost: float = 1.0) -> float:
        """0.0 if the request may go ahead, else the seconds to wait before the next one.

        ``cost``: what the request is worth in requests (a batch of N items costs N). One
        larger than ``burst`` goes ahead on a full bucket and leaves it in debt, so that over
        time a client never gets more than ``rate`` items per second, however it groups them.
        """
        if cost <= 0:
            raise UsageError("a request costs more than nothing")
        needed = min(cost, float(self.burst))
        now = self.clock()
        with self._lock:
            tokens, last = self._buckets.get(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - last) * self.rate)
            if tokens >= needed:
                self._buckets[key] = (tokens - cost, now)
                wait = 0.0
            else:
                self._buckets[key] = (tokens, now)
                wait = (needed - tokens) / self.rate
            self._buckets.move_to_end(key)
            while len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
        return wait

    def peek(self, key: str) -> float:
        """Like :meth:`allow`, without spending a token: 0.0 if a request would go ahead."""
        now = self.clock()
        with self._lock:
            tokens, last = self._buckets.get(key, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - last) * self.rate)
        return 0.0 if tokens >= 1.0 else (1.0 - tokens) / self.rate

    def check(self, key: str, *, cost: float = 1.0) -> None:
        """Raise a 429 problem if ``key`` is over its rate (``cost``: see :meth:`allow`)."""
        wait = self.allow(key, cost=cost)
        if wait > 0:
            raise too_many_requests(wait)

    def refund(self, key: str) -> None:
        """Give back the token one request took (:meth:`allow`), the bucket never past full:
        for a limit on what a request turns out to be (a wrong password), taken before it is
        known so that requests at once cannot all read the same last token."""
        now = self.clock()
        with self._lock:
            tokens, last = self._buckets.get(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - last) * self.rate + 1.0)
            self._buckets[key] = (tokens, now)


def client_key(environ: Mapping[str, Any]) -> str:
    """The key a request is limited by: its client address (``REMOTE_ADDR``, as any ProxyFix
    in front left it; Flask's ``request.remote_addr``)."""
    address: str | None = environ.get("REMOTE_ADDR")
    return address or "unknown"


def too_many_requests(wait: float) -> ProblemError:
    """The 429 problem for a client that must wait ``wait`` seconds (``Retry-After``)."""
    return ProblemError(
        429,
        "Too Many Requests",
        f"rate limit exceeded; retry in {wait:.1f} s",
        retry_after=max(1, int(wait + 0.999)),
    )


class Limiter(Protocol):
    """What the services ask of a rate limiter (in process, or shared through Redis)."""

    #: Requests per second (what one more request adds to a wait: ``1 / rate``).
    rate: float

    def allow(self, key: str, *, cost: float = 1.0) -> float: ...

    def peek(self, key: str) -> float: ...

    def check(self, key: str, *, cost: float = 1.0) -> None: ...

    def refund(self, key: str) -> None: ...


def make_limiter(
    rate: float, burst: int, *, url: str | None, deployment: tuple[str, ...], name: str
) -> Limiter:
    """An in-process limiter, or with ``url`` (Redis) one whose counters every worker and
    machine of ``deployment`` (the service, its public name, its table prefix) share."""
    if url is None:
        return RateLimiter(rate=rate, burst=burst)
    from vcred_service.shared_limits import RedisRateLimiter

    digest = hashlib.sha256("\n".join(deployment).encode()).hexdigest()[:16]
    namespace = f"vcred:{deployment[0]}:{digest}:{name}"
    return RedisRateLimiter(rate=rate, burst=burst, url=url, namespace=namespace)
