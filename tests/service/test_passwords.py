"""Officer passwords: werkzeug's scrypt hashes, the hashes stored before them still verify,
and an unknown officer costs a hash too."""

from __future__ import annotations

import base64
import hashlib

import pytest

from vcred_service.passwords import (
    METHOD,
    SCRYPT_N,
    SCRYPT_P,
    SCRYPT_R,
    hash_password,
    verify_password,
)

PASSWORD = "correct horse battery"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def stored_before_werkzeug(password: str, salt: bytes) -> str:
    """A hash as vcred_service made it by hand (scrypt$N$r$p$salt$hash, 32 bytes)."""
    derived = hashlib.scrypt(
        password.encode(),
        salt=salt,
        n=SCRYPT_N,
        r=SCRYPT_R,
        p=SCRYPT_P,
        maxmem=64 * 1024 * 1024,
        dklen=32,
    )
    return "$".join(
        ["scrypt", str(SCRYPT_N), str(SCRYPT_R), str(SCRYPT_P), _b64(salt), _b64(derived)]
    )


def test_a_new_hash_is_werkzeugs_scrypt_with_our_parameters() -> None:
    stored = hash_password(PASSWORD)
    assert stored.startswith(METHOD + "$") and METHOD == "scrypt:32768:8:1"
    assert verify_password(PASSWORD, stored)
    assert not verify_password(PASSWORD + "!", stored)
    assert hash_password(PASSWORD) != stored  # salted


def test_a_hash_stored_before_werkzeug_still_verifies() -> None:
    stored = stored_before_werkzeug(PASSWORD, b"0123456789abcdef")
    assert verify_password(PASSWORD, stored)
    assert not verify_password("wrong horse battery", stored)


def test_an_unknown_officer_is_refused_after_the_same_work() -> None:
    assert verify_password(PASSWORD, None) is False


@pytest.mark.parametrize("stored", ["", "scrypt$1", "md5$x$y", "nothing:1$a$b", "scrypt:x:y:z$s$h"])
def test_a_malformed_stored_hash_never_verifies(stored: str) -> None:
    assert verify_password(PASSWORD, stored) is False
