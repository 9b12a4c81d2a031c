"""The wallet's file: one SQLite database whose secrets are sealed under a passphrase.

The passphrase gives an AES-256-GCM key through scrypt (:func:`vcred.keys.derive_sealing_key`,
salt and costs kept in the file). The holder's key and every credential are sealed, each row
with its own name as associated data, so a row cannot be swapped for another; what a listing
shows without the passphrase (ids, types, issuers, dates) is sealed too: only the row ids and
the KDF parameters are in the clear. A check value opens only with the right passphrase.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any, Final

from vcred.errors import CryptographicError, UsageError
from vcred.keys import SCRYPT_COST, derive_sealing_key, seal, unseal

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sealed (
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    created TEXT NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (kind, name)
);
"""
_CHECK: Final = b"vcred wallet v1"


class SealedStore:
    """Sealed JSON values by (kind, name) in one SQLite file."""

    def __init__(self, path: Path, key: bytes) -> None:
        self.path = path
        self._key = key

    @classmethod
    def create(cls, path: Path, passphrase: str) -> SealedStore:
        """A new store at ``path``. Raises UsageError when the file exists."""
        if path.exists():
            raise UsageError(f"{path} exists already: open it, or choose another file")
        salt = os.urandom(16)
        key = derive_sealing_key(passphrase, salt, **SCRYPT_COST)
        path.parent.mkdir(parents=True, exist_ok=True)
        # the file holds the holder's key: only its owner reads it
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        os.close(fd)
        with closing(sqlite3.connect(path)) as db, db:
            db.executescript(_SCHEMA)
            kdf = {"kdf": "scrypt", "salt": salt.hex(), **SCRYPT_COST}
            db.execute("INSERT INTO meta VALUES ('kdf', ?)", (json.dumps(kdf),))
            check = seal(key, _CHECK, aad=b"check").hex()
            db.execute("INSERT INTO meta VALUES ('check', ?)", (check,))
        return cls(path, key)

    @classmethod
    def open(cls, path: Path, passphrase: str) -> SealedStore:
        """The store at ``path``. Raises UsageError for a missing file, a file that is not a
        wallet, or a wrong passphrase."""
        if not path.is_file():
            raise UsageError(f"no wallet at {path}: make one with `vcred wallet init`")
        try:
            with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
                meta = dict(db.execute("SELECT name, value FROM meta").fetchall())
            kdf = json.loads(meta["kdf"])
            salt = bytes.fromhex(kdf["salt"])
            key = derive_sealing_key(passphrase, salt, n=kdf["n"], r=kdf["r"], p=kdf["p"])
            opened = unseal(key, bytes.fromhex(meta["check"]), aad=b"check")
        except (sqlite3.DatabaseError, KeyError, ValueError, TypeError) as exc:
            raise UsageError(f"{path} is not a vcred wallet") from exc
        except CryptographicError as exc:
            raise UsageError("wrong passphrase for this wallet") from exc
        if opened != _CHECK:
            raise UsageError("wrong passphrase for this wallet")
        return cls(path, key)

    def put(self, kind: str, name: str, value: Any, *, created: str) -> None:
        """Keep ``value`` under (kind, name). Raises UsageError when the name is taken."""
        data = seal(self._key, json.dumps(value).encode(), aad=_aad(kind, name))
        try:
            with closing(sqlite3.connect(self.path)) as db, db:
                db.execute(
                    "INSERT INTO sealed (kind, name, created, data) VALUES (?, ?, ?, ?)",
                    (kind, name, created, data),
                )
        except sqlite3.IntegrityError as exc:
            raise UsageError(f"the wallet holds a {kind} {name!r} already") from exc

    def get(self, kind: str, name: str) -> Any | None:
        with closing(sqlite3.connect(self.path)) as db:
            row = db.execute(
                "SELECT data FROM sealed WHERE kind = ? AND name = ?", (kind, name)
            ).fetchone()
        return None if row is None else self._open(kind, name, row[0])

    def items(self, kind: str) -> Iterator[tuple[str, str, Any]]:
        """(name, created, value) of every value of ``kind``, oldest first."""
        with closing(sqlite3.connect(self.path)) as db:
            rows = db.execute(
                "SELECT name, created, data FROM sealed WHERE kind = ? ORDER BY created, name",
                (kind,),
            ).fetchall()
        for name, created, data in rows:
            yield name, created, self._open(kind, name, data)

    def _open(self, kind: str, name: str, data: bytes) -> Any:
        try:
            return json.loads(unseal(self._key, data, aad=_aad(kind, name)))
        except CryptographicError as exc:
            raise UsageError(f"the wallet's {kind} {name!r} was altered") from exc


def _aad(kind: str, name: str) -> bytes:
    return f"{kind}\x00{name}".encode()
