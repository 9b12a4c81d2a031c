"""API tokens: how they are made, stored and checked.

API tokens are ``vci_<id>_<secret>``: 256 bits of randomness; only the SHA-256 of the whole
token is stored (a fast hash is enough for a high-entropy secret), looked up by ``id`` and
compared in constant time. Officer passwords (both services) are :mod:`vcred_service.passwords`.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from typing import Final

TOKEN_PREFIX: Final = "vci"  # noqa: S105 - the token prefix, not a token
SCOPES: Final = ("issue", "status", "admin", "trust-list")
#: What ``admin`` includes. Never ``trust-list``: a token signs trust lists only when it was
#: made for that (docs/security.md §13.2).
ADMIN_INCLUDES: Final = ("issue", "status")


def open_without_token(scope: str, *, insecure_no_auth: bool) -> bool:
    """Whether a call needing ``scope`` is answered without a token: only under
    ``--insecure-no-auth``, which stands for an admin token — trust lists still need one."""
    return insecure_no_auth and scope in ADMIN_INCLUDES


_TOKEN: Final = re.compile(r"vci_([0-9a-f]{12})_([A-Za-z0-9_-]{43})")


@dataclass(frozen=True, slots=True)
class NewToken:
    """A token just created: ``token`` is shown once and never stored."""

    id: str
    token: str
    digest: str


def new_token() -> NewToken:
    token_id = secrets.token_hex(6)
    token = f"{TOKEN_PREFIX}_{token_id}_{secrets.token_urlsafe(32)}"
    return NewToken(id=token_id, token=token, digest=token_digest(token))


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_id_of(token: str) -> str | None:
    """The id part of a presented token, or None if it does not have our shape."""
    match = _TOKEN.fullmatch(token)
    return match.group(1) if match else None


def token_matches(token: str, digest: str) -> bool:
    return hmac.compare_digest(token_digest(token), digest)


def parse_scopes(value: str) -> tuple[str, ...]:
    """``"issue,status"`` → ("issue", "status"); raises ValueError for an unknown scope."""
    scopes = tuple(dict.fromkeys(s.strip() for s in value.split(",") if s.strip()))
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown or not scopes:
        raise ValueError(f"scopes are some of {', '.join(SCOPES)}; got {value!r}")
    return scopes
