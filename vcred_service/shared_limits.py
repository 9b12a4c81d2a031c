"""Rate-limit counters that every worker and machine of a service share, in Redis.

The in-process :class:`~vcred_service.ratelimit.RateLimiter` limits each worker on its own:
behind N workers on M machines a client gets N×M times the configured rate. Given a Redis
URL (``VCRED_VERIFIER_RATE_LIMIT_URL``, ``VCRED_ISSUER_RATE_LIMIT_URL``), the same token
bucket lives in Redis instead, one hash per client address, updated by one Lua script — a
single atomic step per request, on Redis's own clock, so machines with drifting clocks agree
(https://redis.io/docs/latest/develop/interact/programmability/eval-intro/). Redis rather
than the service's database: a counter written at every request would make each one a
write transaction (on SQLite, one at a time).

If Redis cannot be reached the limiter falls back to its in-process bucket (logged, at most
once a minute): a lost Redis weakens the limit to per-worker, it does not stop the service.

Every limiter of a process that names one URL (an app has several: API, sign-in, derive …;
a test process builds many apps) shares one client and its connection pool, which lives as
long as the process: a limiter has no close of its own to forget, and a worker holds one
connection per thread at most rather than one per limiter. redis-py's pool notices a fork and
opens new connections in the child.
"""

from __future__ import annotations

import functools
import logging
import time
from dataclasses import dataclass, field
from typing import Any, Final

from vcred.errors import UsageError
from vcred_service.db import redacted_url
from vcred_service.ratelimit import RateLimiter, too_many_requests

_log = logging.getLogger("vcred_service")
SCHEMES: Final = ("redis://", "rediss://", "unix://")
_WARN_EVERY_S: Final = 60.0

# KEYS[1]: the bucket; ARGV: rate (per second), burst, tokens to spend (the request's cost,
# 0 to peek, -1 to give one back, never past full). A cost above the burst goes ahead on a
# full bucket and leaves it in debt.
# Returns the seconds to wait (as a string: Lua numbers become integers in replies).
_BUCKET: Final = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local rate, burst, spend = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
local needed = math.max(1, math.min(spend, burst))
local wait = 0
if spend < 0 then
  tokens = math.min(burst, tokens - spend)
elseif tokens >= needed then
  tokens = tokens - spend
else
  wait = (needed - tokens) / rate
end
if spend ~= 0 then
  redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
  -- kept until it would be full again (a batch's debt included)
  redis.call('PEXPIRE', KEYS[1], math.ceil((burst - tokens) / rate * 1000) + 1000)
end
return tostring(wait)
"""


def check_url(url: str, *, setting: str) -> str:
    """``url`` if it is a Redis URL. Raises UsageError."""
    if not url.startswith(SCHEMES):
        raise UsageError(f"{setting} must be a redis://, rediss:// or unix:// URL")
    return url


@dataclass(slots=True)
class RedisRateLimiter:
    """``rate`` requests per second, bursts up to ``burst``, per key, shared through Redis
    under ``namespace`` (a service, its deployment and the limit's name)."""

    rate: float
    burst: int
    url: str
    namespace: str
    local: RateLimiter = field(init=False)
    _client: Any = field(init=False, repr=False)
    _script: Any = field(init=False, repr=False)
    _warned: float = field(default=float("-inf"), init=False)

    def __post_init__(self) -> None:
        check_url(self.url, setting="the rate-limit URL")
        self.local = RateLimiter(rate=self.rate, burst=self.burst)
        self._client = _client(self.url)
        self._script = self._client.register_script(_BUCKET)

    def allow(self, key: str, *, cost: float = 1.0) -> float:
        """0.0 if the request may go ahead, else the seconds to wait before the next one
        (``cost``: as :meth:`RateLimiter.allow`)."""
        if cost <= 0:
            raise UsageError("a request costs more than nothing")
        return self._run(key, spend=cost)

    def peek(self, key: str) -> float:
        """Like :meth:`allow`, without spending a token."""
        return self._run(key, spend=0)

    def check(self, key: str, *, cost: float = 1.0) -> None:
        """Raise a 429 problem if ``key`` is over its rate."""
        wait = self.allow(key, cost=cost)
        if wait > 0:
            raise too_many_requests(wait)

    def refund(self, key: str) -> None:
        """Give back the token one request took (:meth:`RateLimiter.refund`)."""
        self._run(key, spend=-1.0)

    def _run(self, key: str, *, spend: float) -> float:
        import redis

        try:
            reply = self._script(
                keys=[f"{self.namespace}:{key}"], args=[self.rate, self.burst, spend]
            )
            return float(reply)
        except redis.RedisError:
            now = time.monotonic()
            if now - self._warned >= _WARN_EVERY_S:
                self._warned = now
                _log.warning(
                    "Redis at %s cannot be reached: rate limits are per worker",
                    redacted_url(self.url),
                )
            if spend < 0:
                self.local.refund(key)
                return 0.0
            return self.local.allow(key, cost=spend) if spend else self.local.peek(key)


@functools.lru_cache(maxsize=16)  # the C cache takes no lock: nothing to renew after a fork
def _client(url: str) -> Any:
    """The process's client of the Redis at ``url`` (connecting at its first command)."""
    import redis

    # short timeouts: a request waits at most this long for a slow Redis, then falls back
    return redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
