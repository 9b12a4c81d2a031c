"""The Redis the shared rate-limit tests use (127.0.0.1:6379), and a mark that skips them,
with the reason, where it cannot be reached."""

from __future__ import annotations

import pytest

REDIS_URL = "redis://127.0.0.1:6379/0"
SLOW = 0.001  # tokens per second: nothing comes back while a test runs


def _redis_up() -> bool:
    import redis

    try:
        with redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1) as client:
            return bool(client.ping())
    except redis.RedisError:
        return False


needs_redis = pytest.mark.skipif(not _redis_up(), reason="no Redis at 127.0.0.1:6379")
