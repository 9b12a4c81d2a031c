"""The issuer's own tables: keys, issued-credential records, tokens, officers and their
sessions (:mod:`vcred_service.officers`), idempotency, the audit chain and the signed status
lists — beside the status-list tables of :class:`~issuer_app.store.status.SqlIndexStore`, in
the same database and transactions.

Methods that take a ``conn`` run inside the caller's transaction (an issuance writes its
allocations, its record, its idempotency answer and its audit entry in one); the others open
their own. Times are stored as XML Schema dateTimeStamps in UTC (``2026-06-01T12:00:00Z``),
which sort as strings.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Final

from sqlalchemy import (
    Column,
    Connection,
    Engine,
    Index,
    Integer,
    MetaData,
    Select,
    String,
    Table,
    Text,
    and_,
    bindparam,
    delete,
    func,
    insert,
    inspect,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.engine import Row

from issuer_app.oid4vci_store import OFFERS_TABLE
from issuer_app.store.db import make_engine
from issuer_app.store.list_versions import ListVersions
from issuer_app.store.status import SqlIndexStore
from vcred import audit
from vcred.errors import UsageError
from vcred.status import MIN_ENTRIES
from vcred_service.audit_chain import AuditChain, chain_tables, pending_table
from vcred_service.bootstrap import bootstrap_lock
from vcred_service.db import insert_all_ignore as _insert_all_ignore
from vcred_service.db import insert_ignore as _insert_ignore
from vcred_service.officers import officer_table, session_table
from vcred_service.roles import role_table

#: 2: Idempotency-Keys scoped per principal (table ``idempotency_keys``), officer sessions.
#: 3: officer roles (``officer_roles``), four-eyes requests (``approvals``) and every signed
#: status list version (``status_list_versions``).
#: 4: audit entries recorded while another transaction held the chain's head wait in
#: ``audit_pending`` (:meth:`vcred_service.audit_chain.AuditChain.record`).
#: 5: status list versions kept under their ``validFrom`` to the microsecond
#: (:func:`issuer_app.store.list_versions.moment_key`).
#: 6: PostgreSQL keeps a stored credential in its row (:data:`IN_ROW`).
SCHEMA_VERSION: Final = "6"
#: The role officers made before roles existed get at the upgrade to schema 3: what they
#: could do on the officer pages then (issue, suspend, reinstate, revoke), nothing more.
UPGRADED_OFFICER_ROLE: Final = "supervisor"
#: How long a status list version is kept after it went out of force (issuer config).
DEFAULT_LIST_RETENTION: Final = timedelta(days=400)
#: PostgreSQL storage parameters of the tables that keep a secured credential a row (the
#: record, an Idempotency-Key's answer). A vc+jwt of an AEO certificate is about 2.4 KB, past
#: the 2 KB at which PostgreSQL by default tries to compress a row's largest text (pglz, in
#: vain: base64url hardly compresses) and then moves it to the TOAST table in chunks, each a
#: heap and an index insert. Up to the largest target, 8,160 bytes, the row is written as it
#: is: about a tenth less of the server's work per issuance (docs/performance.md); larger
#: rows are still compressed and moved out.
IN_ROW: Final = {"toast_tuple_target": 8160}


@dataclass(frozen=True, slots=True)
class Tables:
    meta: Table
    keys: Table
    credentials: Table
    tokens: Table
    officers: Table
    sessions: Table
    roles: Table
    approvals: Table
    idempotency: Table
    audit: Table
    audit_head: Table
    audit_pending: Table
    published: Table


def issuer_tables(metadata: MetaData, prefix: str = "") -> Tables:
    p = prefix
    audit_entries, audit_head = chain_tables(metadata, p)
    return Tables(
        meta=Table(
            f"{p}meta",
            metadata,
            Column("name", String(64), primary_key=True),
            Column("value", Text, nullable=False),
        ),
        keys=Table(
            f"{p}keys",
            metadata,
            Column("tag", String(32), primary_key=True),
            Column("kind", String(16), nullable=False),
            Column("pem", Text, nullable=False),  # PKCS#8, encrypted with the passphrase
            Column("created", String(32), nullable=False),
            Column("retired", String(32), nullable=True),
        ),
        credentials=Table(
            f"{p}credentials",
            metadata,
            Column("record_id", String(36), primary_key=True),
            Column("credential_id", String(2048), nullable=True, unique=True),
            Column("issuer", String(2048), nullable=False),
            Column("key_tag", String(32), nullable=False),
            Column("subject_id", String(2048), nullable=True),
            Column("subject_name", String(512), nullable=True),
            Column("types", Text, nullable=False),  # JSON array
            Column("main_type", String(128), nullable=False),
            Column("format", String(64), nullable=False),
            Column("digest", String(64), nullable=False),  # SHA-256 of the secured form
            Column("status", String(16), nullable=False),
            Column("status_entries", Text, nullable=False),  # JSON: [{purpose, list, index}]
            Column("valid_from", String(32), nullable=True),
            Column("valid_until", String(32), nullable=True),
            Column("created", String(32), nullable=False),
            Column("actor", String(256), nullable=False),
            Column("secured", Text, nullable=True),  # only when store_credentials
            Index(f"{p}ix_credentials_created", "created"),
            Index(f"{p}ix_credentials_subject", "subject_name"),
            postgresql_with=IN_ROW,
        ),
        tokens=Table(
            f"{p}tokens",
            metadata,
            Column("id", String(32), primary_key=True),
            Column("digest", String(64), nullable=False),  # SHA-256 of the whole token
            Column("scopes", String(128), nullable=False),
            Column("label", String(200), nullable=False),
            Column("created", String(32), nullable=False),
            Column("revoked", String(32), nullable=True),
        ),
        officers=officer_table(metadata, p),
        sessions=session_table(metadata, p),
        roles=role_table(metadata, p),
        # four-eyes requests (issuer_app.approvals): one officer asks, another decides
        approvals=Table(
            f"{p}approvals",
            metadata,
            Column("id", String(36), primary_key=True),
            Column("action", String(32), nullable=False),  # revoke | trust-list
            Column("target", String(2048), nullable=True),  # the record id (revoke)
            Column("payload", Text, nullable=False),  # JSON: what the approval will do
            Column("summary", String(512), nullable=False),
            Column("requested_by", String(100), nullable=False),
            Column("requested_at", String(32), nullable=False),
            Column("state", String(16), nullable=False),  # pending|approved|rejected|failed
            Column("decided_by", String(100), nullable=True),
            Column("decided_at", String(32), nullable=True),
            Column("outcome", Text, nullable=True),  # what approving produced, or why not
            Index(f"{p}ix_approvals_state", "state"),
        ),
        # one key space per principal (the API token's actor): a key is the client's own
        idempotency=Table(
            f"{p}idempotency_keys",
            metadata,
            Column("principal", String(256), primary_key=True),
            Column("key", String(255), primary_key=True),
            Column("request_digest", String(64), nullable=False),
            Column("status", Integer, nullable=False),
            Column("body", Text, nullable=False),
            Column("record_id", String(36), nullable=True),
            Column("created", String(32), nullable=False),
            postgresql_with=IN_ROW,
        ),
        audit=audit_entries,
        audit_head=audit_head,
        audit_pending=pending_table(metadata, p),
        published=Table(
            f"{p}published_lists",
            metadata,
            Column("signer", String(32), primary_key=True),
            Column("list_id", String(64), primary_key=True),
            Column("version", Integer, nullable=False),
            Column("format", String(64), nullable=False),
            Column("media_type", String(64), nullable=False),
            Column("document", Text, nullable=False),
            Column("signed_at", String(32), nullable=False),
        ),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordQuery:
    """A search over issued credentials (officer UI, admin API)."""

    text: str | None = None
    type: str | None = None
    status: str | None = None
    limit: int = 50
    offset: int = 0


class IssuerStore:
    """All of one issuer's persistent state in one database (SQLite or PostgreSQL)."""

    def __init__(
        self,
        engine: Engine | str,
        *,
        prefix: str = "",
        capacity: int = MIN_ENTRIES,
        list_retention: timedelta = DEFAULT_LIST_RETENTION,
    ) -> None:
        self.engine = make_engine(engine) if isinstance(engine, str) else engine
        self.prefix = prefix
        self.metadata = MetaData()
        self.index = SqlIndexStore(
            self.engine, prefix=prefix, capacity=capacity, metadata=self.metadata
        )
        self.t = issuer_tables(self.metadata, prefix)
        self.list_versions = ListVersions(self.engine, self.metadata, prefix)
        self.chain = AuditChain(
            self.engine,
            self.metadata,
            prefix,
            tables=(self.t.audit, self.t.audit_head),
            pending=self.t.audit_pending,
        )
        credentials = self.t.credentials
        #: an issued credential's row, every column named (it runs inside a WITH too)
        self._insert_record = insert(credentials).values(
            {column.name: bindparam(column.name) for column in credentials.c}
        )
        keys, tokens = self.t.keys, self.t.tokens
        current = (
            select(tokens.c.revoked.is_(None))
            .where(tokens.c.id == bindparam("token_id"))
            .scalar_subquery()
        )
        #: :meth:`key_retired_or_token_revoked`'s statement (built once: the issuance's path)
        self._key_and_token = (
            select(keys.c.retired, current.label("token_current"))
            .where(keys.c.tag == bindparam("tag"))
            .with_for_update(read=True, of=keys)
        )
        #: PostgreSQL: the same, with status places claimed in it (:meth:`claim_places_checked`)
        self._key_token_and_places = _with_places_claimed(
            self._key_and_token, self.index.entries_table
        )
        #: How long a status list version stays kept after it went out of force.
        self.list_retention = list_retention

    # -- lifecycle ---------------------------------------------------------------------------

    def initialised(self) -> bool:
        """Whether the tables exist in the current schema version (the cheap start path)."""
        return self.schema_version() == SCHEMA_VERSION

    def schema_version(self) -> str | None:
        """The schema version the database was set up (or last upgraded) with; None: none.
        Raises DBAPIError when the database cannot be reached (that is not "none")."""
        with self.engine.connect() as conn:
            if not inspect(conn).has_table(self.t.meta.name):
                return None
            value: str | None = conn.execute(
                select(self.t.meta.c.value).where(self.t.meta.c.name == "schema")
            ).scalar_one_or_none()
        return value

    def bootstrap(self, first_start: Callable[[Connection], None]) -> bool:
        """Create the tables and run ``first_start`` once per database; whether it ran here.

        A database of an older schema version is upgraded (:meth:`_upgrade`). Safe when
        several processes start at once: they take the first-start lock
        (:func:`vcred_service.bootstrap.bootstrap_lock`) one after the other.
        """
        with bootstrap_lock(self.engine, f"issuer:{self.prefix}"), self.engine.begin() as conn:
            self.metadata.create_all(conn)
            _insert_ignore(conn, self.t.audit_head, {"id": 1, "seq": 0, "hash": audit.GENESIS})
            done = conn.execute(
                select(self.t.meta.c.value).where(self.t.meta.c.name == "schema")
            ).scalar_one_or_none()
            if done is not None:
                if done != SCHEMA_VERSION:
                    self._upgrade(conn, done)
                    self.set_meta(conn, "schema", SCHEMA_VERSION)
                return False
            first_start(conn)
            self.set_meta(conn, "schema", SCHEMA_VERSION)
            return True

    def _upgrade(self, conn: Connection, version: str) -> None:
        """Bring a database of schema ``version`` up to :data:`SCHEMA_VERSION` (the new
        tables exist already: ``create_all``). Raises UsageError for an unknown version.

        1 → 2: the answers of the shared ``idempotency`` table move to ``idempotency_keys``
        under the principal that issued them (the record's actor); placeholders of requests
        that never finished are dropped.

        2 → 3: every existing officer gets :data:`UPGRADED_OFFICER_ROLE`, so that the officers
        of an upgraded issuer keep doing what they did (new accounts get the least role);
        ``status_list_versions`` is new (no rows: the lists signed from now on are kept).

        3 → 4: ``audit_pending`` is new (empty).

        4 → 5: the status list versions' keys, kept to the second, are written to the
        microsecond (:meth:`ListVersions.widen_keys`).

        5 → 6: on PostgreSQL, the tables that keep a credential get :data:`IN_ROW` (rows
        written from then on).
        """
        if version not in ("1", "2", "3", "4", "5"):
            raise UsageError(f"unknown issuer schema version {version!r}")
        self._keep_in_row(conn)
        if version == "5":
            return
        self.list_versions.widen_keys(conn)
        if version in ("3", "4"):
            return
        if version == "1":
            self._move_idempotency(conn)
        officers, roles = self.t.officers, self.t.roles
        for name in conn.execute(select(officers.c.name)).scalars():
            _insert_ignore(conn, roles, {"name": name, "role": UPGRADED_OFFICER_ROLE})

    def _keep_in_row(self, conn: Connection) -> None:
        """Schema 5 → 6 (see :meth:`_upgrade`): what ``create_all`` gives a new database."""
        if conn.dialect.name != "postgresql":
            return
        settings = ", ".join(f"{name} = {value}" for name, value in IN_ROW.items())
        quoted = conn.dialect.identifier_preparer.format_table
        for table in (self.t.credentials, self.t.idempotency):
            conn.execute(text(f"ALTER TABLE {quoted(table)} SET ({settings})"))

    def _move_idempotency(self, conn: Connection) -> None:
        """Schema 1 → 2 (see :meth:`_upgrade`)."""
        old = Table(
            f"{self.prefix}idempotency",
            MetaData(),
            Column("key", String(255), primary_key=True),
            Column("request_digest", String(64)),
            Column("status", Integer),
            Column("body", Text),
            Column("record_id", String(36)),
            Column("created", String(32)),
        )
        if not inspect(conn).has_table(old.name):
            return
        creds = self.t.credentials
        answered = conn.execute(
            select(old, creds.c.actor).join(creds, creds.c.record_id == old.c.record_id)
        )
        for row in answered:
            _insert_ignore(
                conn,
                self.t.idempotency,
                {
                    "principal": row.actor,
                    "key": row.key,
                    "request_digest": row.request_digest,
                    "status": row.status,
                    "body": row.body,
                    "record_id": row.record_id,
                    "created": row.created,
                },
            )
        old.drop(conn)

    def drop_tables(self) -> None:
        """Drop the issuer's tables, and the OpenID4VCI offers table made beside them
        (:class:`issuer_app.oid4vci_store.OfferStore`, same prefix) when there is one."""
        self.metadata.drop_all(self.engine)
        Table(self.prefix + OFFERS_TABLE, MetaData()).drop(self.engine, checkfirst=True)

    def close(self) -> None:
        self.engine.dispose()

    # -- meta --------------------------------------------------------------------------------

    def get_meta(
        self, name: str, conn: Connection | None = None, *, lock: bool = False
    ) -> str | None:
        """``name``'s value; ``lock``: its row locked to the end of ``conn``'s transaction, for
        a writer whose value rests on the one read (PostgreSQL; SQLite's BEGIN IMMEDIATE
        serialises the transactions anyway)."""
        query = select(self.t.meta.c.value).where(self.t.meta.c.name == name)
        if lock:
            query = query.with_for_update()
        if conn is not None:
            return conn.execute(query).scalar_one_or_none()
        with self.engine.connect() as own:
            return own.execute(query).scalar_one_or_none()

    def set_meta(self, conn: Connection, name: str, value: str) -> None:
        meta = self.t.meta
        changed = conn.execute(update(meta).where(meta.c.name == name).values(value=value))
        if not changed.rowcount:
            _insert_ignore(conn, meta, {"name": name, "value": value})

    def add_meta(self, conn: Connection, name: str, value: str) -> bool:
        """Set ``name`` unless it is set (of racing writers the first wins); whether it was."""
        return _insert_ignore(conn, self.t.meta, {"name": name, "value": value})

    def bump_keys_version(self, conn: Connection) -> None:
        current = int(self.get_meta("keys_version", conn) or "0")
        self.set_meta(conn, "keys_version", str(current + 1))

    # -- keys --------------------------------------------------------------------------------

    def key_rows(self) -> list[Row[Any]]:
        with self.engine.connect() as conn:
            return list(conn.execute(select(self.t.keys).order_by(self.t.keys.c.created)))

    def insert_key(self, conn: Connection, *, tag: str, kind: str, pem: str, created: str) -> None:
        conn.execute(
            insert(self.t.keys).values(tag=tag, kind=kind, pem=pem, created=created, retired=None)
        )
        self.bump_keys_version(conn)

    def key_retired(self, conn: Connection, tag: str, *, exclusive: bool = False) -> str | None:
        """When the key ``tag`` was retired (None: current), read with a row lock held to the
        end of ``conn``'s transaction: shared for a signer, ``exclusive`` for a retirement.

        A signature made while the shared lock is held is therefore dated before any
        retirement (PostgreSQL; SQLite's BEGIN IMMEDIATE serialises the transactions anyway).
        Raises UsageError for an unknown key.
        """
        keys = self.t.keys
        query = select(keys.c.retired).where(keys.c.tag == tag)
        row = conn.execute(query.with_for_update(read=not exclusive)).first()
        if row is None:
            raise UsageError(f"no key {tag!r}")
        retired: str | None = row.retired
        return retired

    def key_retired_or_token_revoked(
        self, conn: Connection, tag: str, token_id: str
    ) -> tuple[str | None, bool]:
        """:meth:`key_retired` (shared lock) and :meth:`token_revoked` in one statement: when
        the key ``tag`` was retired, and whether the token ``token_id`` is revoked (or
        unknown). Raises UsageError for an unknown key."""
        row = conn.execute(self._key_and_token, {"tag": tag, "token_id": token_id}).first()
        if row is None:
            raise UsageError(f"no key {tag!r}")
        return row.retired, row.token_current is not True

    def claim_places_checked(
        self, conn: Connection, rows: Sequence[Mapping[str, Any]], *, tag: str, token_id: str
    ) -> tuple[str | None, bool, set[tuple[Any, ...]] | None]:
        """:meth:`key_retired_or_token_revoked`, and the status places ``rows`` claimed as
        :func:`vcred_service.db.insert_all_ignore` claims them (the ``(list_id, idx)`` of those
        inserted) — on PostgreSQL in one statement (a data-modifying WITH: a round trip saved),
        elsewhere just after, and only for a current key and token. Raises UsageError for an
        unknown key.

        A refused token or a retired key is for the caller to raise on, which rolls the claimed
        places back with its transaction.
        """
        if conn.dialect.name != "postgresql":
            retired, revoked = self.key_retired_or_token_revoked(conn, tag, token_id)
            if retired is not None or revoked:
                return retired, revoked, set()
            entries = self.index.entries_table
            key = (entries.c.list_id, entries.c.idx)
            return retired, revoked, _insert_all_ignore(conn, entries, rows, key=key)
        parameters: dict[str, Any] = {"tag": tag, "token_id": token_id}
        columns = self.index.entries_table.c.keys()
        parameters |= {_PLACE_PARAM + name: [row[name] for row in rows] for name in columns}
        row = conn.execute(self._key_token_and_places, parameters).first()
        if row is None:
            raise UsageError(f"no key {tag!r}")
        claimed = {(list_id, idx) for list_id, idx in row.claimed or ()}
        return row.retired, row.token_current is not True, claimed

    def retire_key(self, conn: Connection, tag: str, *, at: str) -> None:
        keys = self.t.keys
        current = conn.execute(
            select(func.count()).select_from(keys).where(keys.c.retired.is_(None))
        ).scalar_one()
        row = conn.execute(select(keys).where(keys.c.tag == tag)).first()
        if row is None:
            raise UsageError(f"no key {tag!r}")
        if row.retired is not None:
            raise UsageError(f"key {tag} was already retired on {row.retired}")
        if current <= 1:
            raise UsageError("this is the last current key: add another before retiring it")
        conn.execute(update(keys).where(keys.c.tag == tag).values(retired=at))
        self.bump_keys_version(conn)

    # -- tokens ------------------------------------------------------------------------------

    def insert_token(
        self, conn: Connection, *, id: str, digest: str, scopes: str, label: str, created: str
    ) -> None:
        conn.execute(
            insert(self.t.tokens).values(
                id=id, digest=digest, scopes=scopes, label=label, created=created, revoked=None
            )
        )

    def token(self, token_id: str) -> Row[Any] | None:
        with self.engine.connect() as conn:
            return conn.execute(select(self.t.tokens).where(self.t.tokens.c.id == token_id)).first()

    def token_revoked(self, conn: Connection, token_id: str) -> bool:
        """Whether the token ``token_id`` is revoked (or unknown), inside ``conn``'s
        transaction."""
        tokens = self.t.tokens
        row = conn.execute(select(tokens.c.revoked).where(tokens.c.id == token_id)).first()
        return row is None or row.revoked is not None

    def tokens(self) -> list[Row[Any]]:
        with self.engine.connect() as conn:
            return list(conn.execute(select(self.t.tokens).order_by(self.t.tokens.c.created)))

    def revoke_token(self, conn: Connection, token_id: str, *, at: str) -> None:
        tokens = self.t.tokens
        row = conn.execute(select(tokens).where(tokens.c.id == token_id)).first()
        if row is None:
            raise UsageError(f"no token {token_id!r}")
        if row.revoked is not None:
            raise UsageError(f"token {token_id} was already revoked on {row.revoked}")
        conn.execute(update(tokens).where(tokens.c.id == token_id).values(revoked=at))

    # -- idempotency -------------------------------------------------------------------------

    def claim_idempotency(self, conn: Connection, principal: str, key: str) -> Row[Any] | None:
        """The stored answer for ``principal``'s ``key``, or None (the key is new to it).

        On PostgreSQL the read waits on an uncommitted answer for the same key: the caller
        locks the key first with :meth:`lock_idempotency`.
        """
        idem = self.t.idempotency
        return conn.execute(
            select(idem).where(idem.c.principal == principal, idem.c.key == key)
        ).first()

    def lock_idempotency(
        self, conn: Connection, principal: str, key: str, *, digest: str, at: str
    ) -> bool:
        """Insert a placeholder for ``principal``'s ``key``; False when an answer is (or was
        just) stored.

        Of two requests racing with one key, the second's insert waits for the first's
        transaction (unique key): it inserts if the first rolled back, else finds its answer.
        """
        return _insert_ignore(
            conn,
            self.t.idempotency,
            {
                "principal": principal,
                "key": key,
                "request_digest": digest,
                "status": 0,
                "body": "",
                "record_id": None,
                "created": at,
            },
        )

    def store_answer(
        self,
        conn: Connection,
        principal: str,
        key: str,
        *,
        status: int,
        body: str,
        record_id: str | None,
    ) -> None:
        idem = self.t.idempotency
        conn.execute(
            update(idem)
            .where(idem.c.principal == principal, idem.c.key == key)
            .values(status=status, body=body, record_id=record_id)
        )

    def purge_idempotency(self, before: str) -> int:
        idem = self.t.idempotency
        with self.engine.begin() as conn:
            return int(conn.execute(delete(idem).where(idem.c.created < before)).rowcount)

    # -- issued credentials ------------------------------------------------------------------

    def credential_id_taken(self, conn: Connection, credential_id: str) -> bool:
        creds = self.t.credentials
        found = conn.execute(
            select(creds.c.record_id).where(creds.c.credential_id == credential_id)
        ).first()
        return found is not None

    def record(self, record_id: str) -> Row[Any] | None:
        with self.engine.connect() as conn:
            return conn.execute(
                select(self.t.credentials).where(self.t.credentials.c.record_id == record_id)
            ).first()

    def record_for_update(
        self, conn: Connection, credential_id: str, *, by_record: bool = False
    ) -> Row[Any] | None:
        """The record of a credential by its id (or record id), locked for a status change;
        ``by_record``: by its record id only (the officer pages, four-eyes requests)."""
        creds = self.t.credentials
        where = (
            creds.c.record_id == credential_id
            if by_record
            else or_(creds.c.credential_id == credential_id, creds.c.record_id == credential_id)
        )
        return conn.execute(select(creds).where(where).with_for_update()).first()

    def set_record_status(self, conn: Connection, record_id: str, status: str) -> None:
        creds = self.t.credentials
        conn.execute(update(creds).where(creds.c.record_id == record_id).values(status=status))

    def search(self, query: RecordQuery) -> tuple[list[Row[Any]], int]:
        """The records matching ``query``, newest first, and how many match in all."""
        creds = self.t.credentials
        conditions = []
        if query.text:
            needle = query.text.replace("\x00", "").strip()
            pattern = "%" + _escape_like(needle.lower()) + "%"
            conditions.append(
                or_(
                    func.lower(creds.c.subject_name).like(pattern, escape="\\"),
                    creds.c.subject_id == needle,
                    creds.c.credential_id == needle,
                    creds.c.record_id == needle,
                )
            )
        if query.type:
            pattern = "%" + _escape_like(json.dumps(query.type, ensure_ascii=True)) + "%"
            conditions.append(creds.c.types.like(pattern, escape="\\"))
        if query.status:
            conditions.append(creds.c.status == query.status.replace("\x00", ""))
        where = and_(*conditions) if conditions else None
        listing = select(creds).order_by(creds.c.created.desc(), creds.c.record_id)
        counting = select(func.count()).select_from(creds)
        if where is not None:
            listing, counting = listing.where(where), counting.where(where)
        with self.engine.connect() as conn:
            rows = list(conn.execute(listing.limit(query.limit).offset(query.offset)))
            total = int(conn.execute(counting).scalar_one())
        return rows, total

    def record_types(self) -> list[str]:
        creds = self.t.credentials
        with self.engine.connect() as conn:
            return sorted(
                str(t) for t in conn.execute(select(creds.c.main_type).distinct()).scalars()
            )

    # -- audit -------------------------------------------------------------------------------

    def append_audit(
        self,
        conn: Connection,
        *,
        at: str,
        actor: str,
        action: str,
        target: str | None,
        details: Mapping[str, Any],
        record: Mapping[str, Any] | None = None,
    ) -> None:
        """Add an entry to the chain inside the caller's transaction, without waiting for
        another transaction's (:meth:`vcred_service.audit_chain.AuditChain.record`);
        ``record``: an issued credential's row (every column), inserted in the same round
        trip."""
        self.chain.record(
            conn,
            at=at,
            actor=actor,
            action=action,
            target=target,
            details=details,
            alongside=None if record is None else (self._insert_record, record),
        )

    def audit_entries(self, *, batch: int = 1000) -> Iterator[dict[str, Any]]:
        """The whole chain, oldest first, as entries ready to export."""
        return self.chain.entries(batch=batch)

    def audit_head(self) -> tuple[int, str]:
        return self.chain.head()

    def recent_audit(self, target: str, *, limit: int = 20) -> list[Row[Any]]:
        self.chain.seal()  # what is pending shows too
        table = self.t.audit
        with self.engine.connect() as conn:
            return list(
                conn.execute(
                    select(table)
                    .where(table.c.target == target)
                    .order_by(table.c.seq.desc())
                    .limit(limit)
                )
            )

    # -- signed status lists ------------------------------------------------------------------

    def published(self, signer: str, list_id: str) -> Row[Any] | None:
        table = self.t.published
        with self.engine.connect() as conn:
            return conn.execute(
                select(table).where(table.c.signer == signer, table.c.list_id == list_id)
            ).first()

    def publish(self, values: Mapping[str, Any]) -> None:
        """Keep a signed list (replacing an older version; a newer one is never replaced)."""
        table = self.t.published
        with self.engine.begin() as conn:
            where = (table.c.signer == values["signer"], table.c.list_id == values["list_id"])
            changed = conn.execute(
                update(table).where(*where, table.c.version <= values["version"]).values(**values)
            )
            if not changed.rowcount:
                _insert_ignore(conn, table, dict(values))
            # every signed version, for the lists as of a moment
            self.list_versions.keep(conn, dict(values), retention=self.list_retention)


#: The prefix of the array parameters of :func:`_with_places_claimed` (one per column).
_PLACE_PARAM: Final = "place_"


def _with_places_claimed(query: Select[Any], entries: Table) -> Select[Any]:
    """PostgreSQL: ``query`` with status places (one array parameter per column of
    ``entries``, the rows in the order to insert them) inserted into ``entries`` unless taken,
    and a column ``claimed``: the ``[list_id, idx]`` of those inserted (a JSON array; null for
    none)."""
    # arrays of text, not of the columns' varchar(n): the INSERT's own assignment checks lengths
    arrays = [
        func.unnest(
            bindparam(
                _PLACE_PARAM + column.name,
                type_=ARRAY(Integer if isinstance(column.type, Integer) else Text),
            )
        )
        for column in entries.c
    ]
    claimed = (
        postgresql_insert(entries)
        .from_select(entries.c.keys(), select(*arrays))
        .on_conflict_do_nothing()
        .returning(entries.c.list_id, entries.c.idx)
        .cte("claimed")
    )
    pairs = select(func.json_agg(func.json_build_array(claimed.c.list_id, claimed.c.idx)))
    return query.add_columns(pairs.scalar_subquery().label("claimed")).add_cte(claimed)


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def dump_json(value: Any) -> str:
    """Compact JSON (control characters such as U+0000, which PostgreSQL text cannot hold,
    are always escaped by the encoder)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def storable(value: str) -> bool:
    """Whether a string can be a key or a query parameter in every database we use."""
    return "\x00" not in value


def load_json_list(value: str) -> Sequence[Any]:
    loaded = json.loads(value)
    return loaded if isinstance(loaded, list) else []
