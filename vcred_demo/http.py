"""A small JSON-over-HTTP client for the demo: the services are only ever reached this way."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    body: Any


def call(method: str, url: str, body: Any = None, *, token: str | None = None) -> Reply:
    """Send ``body`` as JSON; return the status and the decoded answer (4xx/5xx included)."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)  # noqa: S310 - loopback
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return Reply(response.status, _decode(response.read()))
    except urllib.error.HTTPError as error:
        return Reply(error.code, _decode(error.read()))


def _decode(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", errors="replace")


def post(url: str, body: Any, *, token: str | None = None) -> Reply:
    return call("POST", url, body, token=token)


def get(url: str, *, token: str | None = None) -> Reply:
    return call("GET", url, token=token)
