"""OAuth 2.0 clients of the built-in token endpoint, stored beside each service's own tables.

A client is registered by the CLI (``vcred issuer client create``, ``vcred verifier client
create``): its id is public, its secret (256 bits of randomness) is shown once and only its
SHA-256 is stored — a fast hash is enough for a high-entropy secret, as for API tokens
(``issuer_app.hashing``). The secret is compared in constant time, and an unknown client
costs the same work as a known one.

The table has its own ``MetaData`` and is created on first use, so a database set up before
OAuth existed needs no schema upgrade (SQLite by default, PostgreSQL in production).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import (
    Column,
    Connection,
    Engine,
    MetaData,
    String,
    Table,
    Text,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Row

from vcred.errors import UsageError
from vcred_service.bootstrap import create_tables

CLIENT_ID_PREFIX: Final = "vcc"
_CLIENT_ID: Final = re.compile(r"vcc_[0-9a-f]{16}")
#: The digest a missing client is compared against, so that it costs what a known one costs.
_NO_DIGEST: Final = "0" * 64


#: Records a change in the caller's store inside the same transaction: (connection, action
#: — ``client-create`` / ``client-revoke`` —, client id, details).
Recorder = Callable[[Connection, str, str, dict[str, Any]], None]


@dataclass(frozen=True, slots=True)
class NewClient:
    """A client just registered: ``secret`` is shown once and never stored."""

    client_id: str
    secret: str
    scopes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Client:
    """An authenticated client: its id and the scopes it was registered with."""

    client_id: str
    scopes: tuple[str, ...]


def client_table(metadata: MetaData, prefix: str = "") -> Table:
    return Table(
        f"{prefix}oauth_clients",
        metadata,
        Column("client_id", String(64), primary_key=True),
        Column("secret_digest", String(64), nullable=False),  # SHA-256 hex of the secret
        Column("scopes", Text, nullable=False),  # space-separated (RFC 6749 §3.3)
        Column("label", Text, nullable=False),
        Column("created", String(32), nullable=False),
        Column("revoked", String(32), nullable=True),
    )


def secret_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


class OAuthClients:
    """The clients that may use ``POST /oauth/token`` (client_credentials grant)."""

    def __init__(self, engine: Engine, *, prefix: str = "") -> None:
        self.engine = engine
        self.metadata = MetaData()
        self.prefix = prefix
        self.table = client_table(self.metadata, prefix)
        self._created = False

    def create(self) -> None:
        """Create the table if it does not exist (safe when several workers start at once)."""
        if self._created:
            return
        create_tables(self.engine, self.metadata, f"oauth-clients:{self.prefix}")
        self._created = True

    def register(
        self, scopes: Iterable[str], *, label: str, created: str, record: Recorder | None = None
    ) -> NewClient:
        """Register a client with ``scopes``; ``record`` (the issuer's audit log) runs in the
        same transaction. Raises UsageError for an empty or bad scope."""
        wanted = tuple(dict.fromkeys(s.strip() for s in scopes if s.strip()))
        if not wanted:
            raise UsageError("a client needs at least one scope")
        for scope in wanted:
            if not _is_scope_token(scope):
                raise UsageError(f"{scope[:40]!r} is not a scope (RFC 6749 §3.3)")
        self.create()
        client_id = f"{CLIENT_ID_PREFIX}_{secrets.token_hex(8)}"
        secret = secrets.token_urlsafe(32)
        with self.engine.begin() as conn:
            conn.execute(
                insert(self.table).values(
                    client_id=client_id,
                    secret_digest=secret_digest(secret),
                    scopes=" ".join(wanted),
                    label=label,
                    created=created,
                    revoked=None,
                )
            )
            if record is not None:
                record(conn, "client-create", client_id, {"scopes": list(wanted), "label": label})
        return NewClient(client_id=client_id, secret=secret, scopes=wanted)

    def revoke(self, client_id: str, *, at: str, record: Recorder | None = None) -> None:
        """Revoke a client (its tokens already issued live until they expire). Raises
        UsageError for an unknown or already revoked client."""
        self.create()
        with self.engine.begin() as conn:
            done = conn.execute(
                update(self.table)
                .where(self.table.c.client_id == client_id, self.table.c.revoked.is_(None))
                .values(revoked=at)
            ).rowcount
            if not done:
                raise UsageError(f"no active client {client_id[:80]!r}")
            if record is not None:
                record(conn, "client-revoke", client_id, {})

    def drop(self) -> None:
        """Drop the table (tests and uninstalling)."""
        self.metadata.drop_all(self.engine)
        self._created = False

    def rows(self) -> list[Row[Any]]:
        self.create()
        with self.engine.connect() as conn:
            return list(conn.execute(select(self.table).order_by(self.table.c.created)))

    def authenticate(self, client_id: str, secret: str) -> Client | None:
        """The client if ``secret`` is its secret and it is not revoked; else None."""
        row = None
        if _CLIENT_ID.fullmatch(client_id):
            self.create()
            with self.engine.connect() as conn:
                row = conn.execute(
                    select(self.table).where(self.table.c.client_id == client_id)
                ).one_or_none()
        stored = row.secret_digest if row is not None else _NO_DIGEST
        # constant time, and the same work whether or not the client exists
        matches = hmac.compare_digest(secret_digest(secret), stored)
        if row is None or not matches or row.revoked is not None:
            return None
        return Client(client_id=row.client_id, scopes=tuple(row.scopes.split()))


def _is_scope_token(scope: str) -> bool:
    """RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )."""
    return bool(scope) and all(c == "!" or "#" <= c <= "[" or "]" <= c <= "~" for c in scope)
