"""Officer passwords and account names, for both services.

Passwords are hashed with scrypt (memory-hard, RFC 7914) by werkzeug's
``generate_password_hash``, a random salt and the parameters stored beside the hash so they
can be raised later. Hashes stored before (``scrypt$N$r$p$salt$hash``) still verify.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import sys
from typing import Final

import click
from werkzeug.security import check_password_hash, generate_password_hash

from vcred.errors import UsageError

# scrypt: N = 2^15, r = 8, p = 1 needs 32 MiB per hash (RFC 7914 §2; OWASP's floor is 2^17
# with 128 MiB — we stay below so that several workers can log officers in at once).
SCRYPT_N: Final = 2**15
SCRYPT_R: Final = 8
SCRYPT_P: Final = 1
_SCRYPT_MAXMEM: Final = 64 * 1024 * 1024
#: werkzeug's method string: scrypt with the parameters above.
METHOD: Final = f"scrypt:{SCRYPT_N}:{SCRYPT_R}:{SCRYPT_P}"
#: What a name no officer has is checked against (its password was random and thrown away;
#: the answer is False whatever it is): the same work as checking a real officer's.
_UNKNOWN_OFFICER: Final = (
    "scrypt:32768:8:1$BTzNQcME4YIwWCMe$"
    "78725cdabb8734784a3170a691ab33099d58f4460e90e6cf0c70dd0bef50e19a"
    "5001a8efb896edbfc6c048c832c9a848175f26e18e48e050478a52afb3960f91"
)
#: The scheme of the hashes stored before werkzeug made them.
_LEGACY_SCHEME: Final = "scrypt$"
MIN_PASSWORD_LENGTH: Final = 10
MAX_NAME_LENGTH: Final = 100


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=METHOD, salt_length=16)


def verify_password(password: str, stored: str | None) -> bool:
    """Whether ``password`` matches ``stored``; with ``stored`` None (no such officer) a
    hash is still computed, so that the answer takes as long either way."""
    try:
        if stored is None:
            check_password_hash(_UNKNOWN_OFFICER, password)
            return False
        if stored.startswith(_LEGACY_SCHEME):
            return _verify_legacy(password, stored)
        return check_password_hash(stored, password)
    except (ValueError, UnicodeError):  # an unknown method; a password that is not text
        return False


def _verify_legacy(password: str, stored: str) -> bool:
    _, n, r, p, salt, expected = stored.split("$")
    derived = _scrypt(password, _unb64(salt), int(n), int(r), int(p))
    return hmac.compare_digest(derived, _unb64(expected))


def check_password_strength(password: str) -> None:
    """Raise ValueError for a password too weak to protect an officer's account."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"a password has at least {MIN_PASSWORD_LENGTH} characters")


def check_officer_name(name: str) -> None:
    """Raise ValueError for a name that cannot be an officer account's."""
    if not name or len(name) > MAX_NAME_LENGTH or not name.isprintable() or "\x00" in name:
        raise ValueError(f"an officer name is 1–{MAX_NAME_LENGTH} printable characters")


def read_new_password(*, from_stdin: bool) -> str:
    """A new officer's password for ``… officer add``: one line of stdin, or typed twice —
    its strength checked after the first prompt (UsageError), not after both."""
    if from_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True)
    try:
        check_password_strength(password)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    if not from_stdin and click.prompt("Repeat for confirmation", hide_input=True) != password:
        raise UsageError("the two passwords differ")
    return password


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8", "surrogatepass"),
        salt=salt,
        n=n,
        r=r,
        p=p,
        maxmem=_SCRYPT_MAXMEM,
        dklen=32,
    )


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
