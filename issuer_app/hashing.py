"""API tokens and officer passwords: how they are made, stored and checked.

- API tokens are ``vci_<id>_<secret>``: 256 bits of randomness; only the SHA-256 of the whole
  token is stored (a fast hash is enough for a high-entropy secret), looked up by ``id`` and
  compared in constant time.
- Officer passwords are hashed with scrypt (memory-hard, RFC 7914, ``hashlib.scrypt``), with
  a random salt and the parameters stored beside the hash so they can be raised later.
"""

from __future__ import annotations

import base64
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
_TOKEN: Final = re.compile(r"vci_([0-9a-f]{12})_([A-Za-z0-9_-]{43})")

# scrypt: N = 2^15, r = 8, p = 1 needs 32 MiB per hash (RFC 7914 §2; OWASP's floor is 2^17
# with 128 MiB — we stay below so that several workers can log officers in at once).
SCRYPT_N: Final = 2**15
SCRYPT_R: Final = 8
SCRYPT_P: Final = 1
_SCRYPT_MAXMEM: Final = 64 * 1024 * 1024
MIN_PASSWORD_LENGTH: Final = 10


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


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    derived = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return "$".join(
        ["scrypt", str(SCRYPT_N), str(SCRYPT_R), str(SCRYPT_P), _b64(salt), _b64(derived)]
    )


def verify_password(password: str, stored: str | None) -> bool:
    """Whether ``password`` matches ``stored``; with ``stored`` None (no such officer) a
    hash is still computed, so that the answer takes as long either way."""
    if stored is None:
        _scrypt(password, b"\0" * 16, SCRYPT_N, SCRYPT_R, SCRYPT_P)
        return False
    try:
        scheme, n, r, p, salt, expected = stored.split("$")
        if scheme != "scrypt":
            return False
        derived = _scrypt(password, _unb64(salt), int(n), int(r), int(p))
    except ValueError:
        return False
    return hmac.compare_digest(derived, _unb64(expected))


def check_password_strength(password: str) -> None:
    """Raise ValueError for a password too weak to protect an issuing officer's account."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"a password has at least {MIN_PASSWORD_LENGTH} characters")


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=_SCRYPT_MAXMEM, dklen=32
    )


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
