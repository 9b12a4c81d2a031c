"""The issuer itself, without HTTP: issue, change status, publish lists, manage keys and
accounts. The Flask views (``api``, ``ui``) and the CLI are thin layers over :class:`Issuer`.

An issuance is one database transaction: claim the Idempotency-Key, allocate a revocation and
a suspension index, sign, write the record, store the answer and append the audit entry. A
process killed at any point leaves all of it or none of it.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import logging
import re
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any, Final, Literal, NoReturn

from sqlalchemy import Connection
from sqlalchemy.engine import Row
from sqlalchemy.exc import DBAPIError, IntegrityError

from issuer_app import formats, hashing
from issuer_app.approvals import Approvals
from issuer_app.config import IssuerConfig, status_size_for
from issuer_app.keyring import WEB, IssuerKey, KeyRing, key_tag
from issuer_app.keystore import KeyStore
from issuer_app.store.list_versions import ListVersion
from issuer_app.store.records import (
    IssuerStore,
    RecordQuery,
    dump_json,
    load_json_list,
    storable,
)
from vcred import jose, model, values
from vcred.customs.builders import (
    AEO_CERTIFICATE_SCHEMA,
    AEO_CERTIFICATE_TYPE,
    EXPORT_BILLING_SCHEMA,
    EXPORT_BILLING_TYPE,
    MRA_TRUST_LIST_SCHEMA,
    MRA_TRUST_LIST_TYPE,
)
from vcred.customs.registry_schema import schema_registry
from vcred.errors import (
    MalformedError,
    SchemaViolationsError,
    UsageError,
    VcredError,
)
from vcred.integrity.suites import JCS_INT_MAX, canonical_json
from vcred.issuing import issue as secure
from vcred.jsonld import ContextLoader, default_loader, signed_view
from vcred.keys import KEY_KINDS
from vcred.schema import bundled_registry, check_schema
from vcred.status import (
    BitstringStatusListEntry,
    IndexStore,
    StatusMessage,
    set_credential_status,
    set_status_value,
    status_list_credential_for,
)
from vcred.status.entry import UNDEFINED_MESSAGE, is_bitstring_entry
from vcred.status.listcred import format_datetime, format_moment
from vcred.trust import list_digest
from vcred.urls import is_url, parse_url
from vcred_service.contexts import load_context_folder
from vcred_service.discovery import did_services
from vcred_service.officers import OfficerAccounts, OfficerSessions
from vcred_service.problems import ProblemError
from vcred_service.requests import request_options
from vcred_service.roles import DEFAULT_ROLE, OfficerRoles, Role

_log = logging.getLogger("issuer_app")

PURPOSES: Final = ("revocation", "suspension")
#: The status purpose whose values carry a configured message (IssuerConfig.status_messages).
MESSAGE_PURPOSE: Final = "message"
STATUS_V1_CONTEXT: Final = "https://www.w3.org/ns/credentials/status/v1"
#: The JSON Schema every credential of our types must satisfy, listed or not.
TYPE_SCHEMAS: Final = {
    AEO_CERTIFICATE_TYPE: AEO_CERTIFICATE_SCHEMA,
    EXPORT_BILLING_TYPE: EXPORT_BILLING_SCHEMA,
    MRA_TRUST_LIST_TYPE: MRA_TRUST_LIST_SCHEMA,
}
#: The meta row holding the trust-list key (encrypted PKCS#8 PEM, JSON).
TRUST_LIST_KEY: Final = "trust_list_key"
#: The meta row holding the trust list this agency publishes (GET /trust-lists/current).
PUBLISHED_TRUST_LIST: Final = "published_trust_list"
#: Every list published with a sequence number, kept under ``trust_list:<n>`` (the row
#: :data:`PUBLISHED_TRUST_LIST` holds, as it was published): ``GET /trust-lists/<n>``, from
#: which a verifier that missed lists walks back to the one it holds (vcred.trustfeed).
PUBLISHED_TRUST_LIST_NUMBERED: Final = "trust_list:{}"
#: The type names (last segment of a term or IRI) that make a document a trust list.
_TRUST_LIST_NAMES: Final = frozenset({MRA_TRUST_LIST_TYPE, "MRATrustList"})
#: Status list credentials (and their subjects), of every kind a verifier reads: this issuer
#: signs its own lists as statuses change, never one a caller brings.
_STATUS_LIST_NAMES: Final = frozenset(
    {
        "BitstringStatusListCredential",
        "BitstringStatusList",
        "StatusList2021Credential",
        "StatusList2021",
        "RevocationList2020Credential",
        "RevocationList2020",
    }
)
MAX_IDEMPOTENCY_KEY: Final = 255
#: Credential ids are a unique index: PostgreSQL's B-tree rows hold about 2.7 KB.
MAX_CREDENTIAL_ID: Final = 1000
Status = Literal["active", "suspended", "revoked"]
#: What a caller adds to an action's own transaction (the action's answer at hand): the
#: four-eyes rule ends its request there, so that action and request commit together.
InTransaction = Callable[[Connection, Mapping[str, Any]], None]
#: Status list ids and signer names (key ids, "web") as they appear in URLs.
_LIST_NAME: Final = re.compile(r"[A-Za-z0-9_-]{1,64}")


@dataclass(frozen=True, slots=True)
class MessageStatus:
    """A value of the ``message`` status purpose, as POST /credentials/status sets it."""

    value: int


@dataclass(frozen=True, slots=True)
class MessageState:
    """A credential's ``message`` status: its value, and the messages it was issued with
    (its entry commits to them, §2.1: the configuration of the day does not change them)."""

    value: int
    messages: tuple[str, ...]

    @property
    def message(self) -> str | None:
        return self.messages[self.value] if self.value < len(self.messages) else None


@dataclass(frozen=True, slots=True)
class Answer:
    """An HTTP answer the service computed (and may have stored for replay)."""

    status: int
    body: dict[str, Any]
    replayed: bool = False
    record_id: str | None = None


@dataclass(frozen=True, slots=True)
class Published:
    """A signed status list, ready to serve."""

    media_type: str
    body: str
    version: int
    signed_at: str


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: an API token (``token:<id>``), an officer, or the CLI."""

    actor: str
    scopes: tuple[str, ...]
    #: The API token's id (None: not an API token).
    token_id: str | None = None

    def allows(self, scope: str) -> bool:
        if scope in self.scopes:
            return True
        return "admin" in self.scopes and scope in hashing.ADMIN_INCLUDES


@dataclass(slots=True)
class _Prepared:
    document: dict[str, Any]
    format: str
    key: IssuerKey
    signer: Any
    credential_id: str | None
    issuer: str
    #: whether the credential gets status entries (VCDM 2.0 only: see _prepare_credential)
    with_status: bool = True
    #: the caller's own credentialStatus (the service allocates none for this credential)
    caller_status: bool = False
    #: extra keywords for the format (ecdsa-sd-2023's mandatory pointers)
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _IdempotencyKey:
    """A request's Idempotency-Key and the digest of its body: the digest is computed only
    for a request with a key (nothing else uses it)."""

    key: str
    digest: str


@dataclass(slots=True)
class _KeyCache:
    ring: KeyRing
    version: str | None
    checked: float
    lock: threading.Lock = field(default_factory=threading.Lock)


def problem(error: VcredError, *, base: str = "") -> ProblemError:
    """A library error as problem details; its pointer prefixed with ``base`` (where the
    document sits in the request). Schema violations are listed one by one."""
    extra: dict[str, Any] = {"code": error.code}
    if error.pointer is not None:
        extra["pointer"] = base + error.pointer
    if isinstance(error, SchemaViolationsError) and error.violations:
        extra["errors"] = [
            {"detail": v.message, "pointer": base + (v.pointer or "")} for v in error.violations
        ]
    title = error.title if not isinstance(error, UsageError) else "Bad request"
    return ProblemError(error.http_status, title, error.message, type_=error.problem_type, **extra)


def request_digest(body: Mapping[str, Any]) -> str:
    """SHA-256 of a request body in its JCS form (RFC 8785): equal JSON, equal digest."""
    try:
        canonical = canonical_json(dict(body))
    except MalformedError:
        canonical = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(canonical).hexdigest()


def secured_digest(secured: str | dict[str, Any]) -> str:
    data = secured.encode() if isinstance(secured, str) else canonical_json(secured)
    return hashlib.sha256(data).hexdigest()


class Issuer:
    """One agency's issuer over its store; thread-safe; one per app (no module state)."""

    def __init__(
        self,
        config: IssuerConfig,
        store: IssuerStore,
        *,
        first_start: bool,
        keystore: KeyStore | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.keystore = keystore or KeyStore(config)
        self.first_start = first_start
        #: the JSON-LD contexts this issuer knows (signs with, and accepts in a credential)
        self.contexts: ContextLoader = (
            load_context_folder(config.contexts_dir) if config.contexts_dir else default_loader()
        )
        self.offered = formats.check_offered(config.formats)
        if config.default_format not in self.offered:
            raise UsageError(
                f"the default format {config.default_format!r} is not among the offered ones"
            )
        if config.status_list_format in formats.BINARY_FORMATS:
            # verifiers fetch status lists as JSON or a compact JWT (vcred.status)
            raise UsageError(f"status lists cannot be published as {config.status_list_format}")
        self.officers = OfficerAccounts(store.engine, store.t.officers)
        self.roles = OfficerRoles(store.engine, store.t.roles)
        self.approvals = Approvals(self)
        self.sessions = OfficerSessions(
            store.engine,
            store.t.sessions,
            idle=config.session_idle_timeout,
            lifetime=config.session_lifetime,
            clock=config.clock,
        )
        #: the ``statusMessage`` of the ``message`` entry of new credentials
        self.status_messages = tuple(
            StatusMessage(status=i, message=text) for i, text in enumerate(config.status_messages)
        )
        try:
            ring = self._load_keyring()
        except VcredError:
            self.keystore.close()  # the token's login is the process's: not left behind
            raise
        self._keys = _KeyCache(ring=ring, version=None, checked=0.0)
        self._keys.version = store.get_meta("keys_version")
        self._keys.checked = time.monotonic()
        self._purged = 0.0
        #: Lists known to have a signed (kept) version: their first is signed at issuance.
        self._lists_kept: set[tuple[str, str]] = set()
        #: API tokens found valid here: id → (digest, scopes), which never change once made
        #: (revocation is what changes: see :meth:`authenticate`).
        self._tokens: dict[str, tuple[str, tuple[str, ...]]] = {}

    # -- opening -----------------------------------------------------------------------------

    @classmethod
    def open(cls, config: IssuerConfig) -> Issuer:
        """Open (and on first start, set up) the issuer of ``config``.

        First start — once per database, whichever process gets there first — creates the
        tables, one key of each configured type (encrypted with the passphrase) and the
        session secret. Later starts only read.
        """
        config.data_dir.mkdir(parents=True, exist_ok=True)
        store = IssuerStore(
            config.sqlalchemy_url,
            prefix=config.table_prefix,
            capacity=config.status_list_capacity,
            list_retention=config.status_history_retention,
        )
        keystore: KeyStore | None = None
        try:
            keystore = KeyStore(config)
            first = False
            if not store.initialised():
                first = store.bootstrap(lambda conn: _first_start(config, store, keystore, conn))
            if not first:
                _warn_if_moved(config, store)
            return cls(config, store, first_start=first, keystore=keystore)
        except BaseException:  # a start that cannot serve, for whatever reason, leaves nothing open
            store.close()
            if keystore is not None:
                keystore.close()
            raise

    @classmethod
    def open_existing(cls, config: IssuerConfig) -> Issuer:
        """The issuer of a database that was set up already (the admin commands).

        Without a configured domain, the one it was set up with is used. Raises UsageError
        when there is no issuer in that database.
        """
        store = IssuerStore(
            config.sqlalchemy_url,
            prefix=config.table_prefix,
            capacity=config.status_list_capacity,
            list_retention=config.status_history_retention,
        )
        try:
            if store.schema_version() is None:
                raise UsageError(
                    f"no issuer is set up for {config.data_dir} (or its DATABASE_URL): "
                    "start it once with `vcred serve issuer`"
                )
            if not store.initialised():
                store.bootstrap(_already_set_up)  # an older schema: upgraded here
            domain = store.get_meta("domain")
            if config.domain is None and domain:
                config = dataclasses.replace(config, domain=domain)
            return cls(config, store, first_start=False)
        except BaseException:  # as open(): nothing is left open
            store.close()
            raise

    def close(self) -> None:
        self.store.close()
        self.keystore.close()

    def now(self) -> datetime:
        return self.config.clock()

    def stamp(self) -> str:
        return format_datetime(self.now())

    # -- keys --------------------------------------------------------------------------------

    def keyring(self) -> KeyRing:
        """The keys, reloaded when the CLI changed them (checked every key_refresh_seconds)."""
        cache = self._keys
        if time.monotonic() - cache.checked < self.config.key_refresh_seconds:
            return cache.ring
        with cache.lock:
            version = self.store.get_meta("keys_version")
            if version != cache.version:
                cache.ring = self._load_keyring()
                cache.version = version
            cache.checked = time.monotonic()
            return cache.ring

    def _forget_keyring(self) -> None:
        """Read the stored keys again at the next :meth:`keyring` call, whatever the TTL."""
        self._keys.checked = float("-inf")
        self._keys.version = None

    def _load_keyring(self) -> KeyRing:
        keys = [
            IssuerKey(
                tag=row.tag,
                kind=row.kind,
                created=row.created,
                retired=row.retired,
                pair=self.keystore.open(row.kind, row.pem, tag=row.tag),
            )
            for row in self.store.key_rows()
        ]
        if not any(k.current for k in keys):
            raise UsageError("the issuer has no current key")
        return KeyRing.of(
            keys,
            did_web=self.config.did_web,
            preference=self.config.key_types,
            trust_list=self._load_trust_list_key(),
        )

    def _load_trust_list_key(self) -> IssuerKey | None:
        stored = self.store.get_meta(TRUST_LIST_KEY)
        if stored is None:
            return None
        row = json.loads(stored)
        kind = row.get("kind", "ed25519")
        pair = self.keystore.open(kind, row["pem"], tag=row["tag"])
        return IssuerKey(
            tag=row["tag"], kind=pair.kind, created=row["created"], retired=None, pair=pair
        )

    def trust_list_key(self, *, actor: str) -> IssuerKey:
        """The trust-list key, made now if this database was set up before it existed."""
        found = self.keyring().trust_list or self._load_keyring().trust_list
        if found is not None:
            return found
        with self.store.engine.begin() as conn:
            made = _insert_trust_list_key(self.keystore, self.store, conn, created=self.stamp())
            if made is not None:
                self.store.append_audit(
                    conn,
                    at=self.stamp(),
                    actor=actor,
                    action="trust-list-key-add",
                    target=made.tag,
                    details=made.describe(),
                )
        self._keys.checked = 0.0
        found = self._load_keyring().trust_list
        if found is None:  # pragma: no cover - the row was just written or already there
            raise UsageError("the trust-list key could not be created")
        return found

    def add_key(self, kind: str, *, actor: str, hsm: bool | None = None) -> IssuerKey:
        """Make a key (``hsm``: in the HSM; None: there in HSM-only mode, else in the
        database); it signs from the next keyring refresh on. Raises UsageError."""
        if kind not in KEY_KINDS:
            raise UsageError(f"unknown key type {kind!r}; expected one of {', '.join(KEY_KINDS)}")
        with self.store.engine.begin() as conn:
            key = _insert_new_key(
                self.keystore, self.store, conn, kind, created=self.stamp(), hsm=hsm
            )
            self.store.append_audit(
                conn,
                at=self.stamp(),
                actor=actor,
                action="key-add",
                target=key.tag,
                details=key.describe(),
            )
        self._keys.checked = 0.0
        return key

    def retire_key(self, reference: str, *, actor: str) -> IssuerKey:
        """Retire a key: from its returned ``retired`` time on it signs nothing new, and the
        did:web document says so (``revoked``).

        The time is taken once no signature with the key is in progress (the key's row is
        locked), rounded up to the next whole second: every time this service writes into a
        signature (``iat``, ``created``) is truncated to the second, so whatever the key
        signed before is dated strictly before it.
        """
        found = self.keyring().find(reference) or self._load_keyring().find(reference)
        if found is None:
            raise UsageError(f"no key {reference!r} (see `vcred issuer key list`)")
        with self.store.engine.begin() as conn:
            self.store.key_retired(conn, found.tag, exclusive=True)
            at = format_datetime(self.now().replace(microsecond=0) + timedelta(seconds=1))
            self.store.retire_key(conn, found.tag, at=at)
            self.store.append_audit(
                conn,
                at=self.stamp(),
                actor=actor,
                action="key-retire",
                target=found.tag,
                details={"id": found.tag, "didKey": found.did_key, "revoked": at},
            )
        self._forget_keyring()
        return dataclasses.replace(found, retired=at)

    def did_document(self) -> dict[str, Any] | None:
        """The did:web document with the agency's service endpoints (None: no domain)."""
        document = self.keyring().did_document()
        if document is not None:
            document["service"] = did_services(
                document["id"],
                public_url=self.config.public_url,
                endpoints=self.config.did_services,
            )
        return document

    # -- issuing -----------------------------------------------------------------------------

    def issue_request(
        self,
        body: Mapping[str, Any],
        *,
        actor: str,
        idempotency_key: str | None = None,
        token_id: str | None = None,
    ) -> Answer:
        """``POST /credentials/issue``: validate, then issue once (per Idempotency-Key).

        Keys are scoped to ``actor`` (the API token): another client's key is not this one's.
        ``token_id``: the API token the request came with, checked not revoked in the
        transaction that issues (or reads the stored answer). Raises ProblemError
        (400/409/422) for what cannot be issued, RevokedTokenError for a revoked token.
        """
        idempotency = None
        if idempotency_key is not None:
            _check_idempotency_key(idempotency_key)
            idempotency = _IdempotencyKey(idempotency_key, request_digest(body))
            stored = self._stored_answer(actor, idempotency, token_id)
            if stored is not None:
                return stored
        rolled_back = key_choices = 0
        while True:
            prepared = self._prepare(body)
            try:
                return self._issue(
                    prepared, actor=actor, idempotency=idempotency, token_id=token_id
                )
            except _RolledBackError as exc:
                # nothing was committed — the pooled connection was dead (the pool has dropped
                # every connection as old as it), or PostgreSQL broke a deadlock with another
                # issuance whose random status places crossed this one's (again and again
                # when many issue into small lists): once more, after a random pause that
                # keeps the two from crossing in step
                rolled_back += 1
                if rolled_back > _ROLLBACK_RETRIES:
                    raise exc.error from None
                time.sleep(secrets.randbelow(20 * rolled_back) / 1000)
            except _KeyRetiredMeanwhileError:
                # another process retired the key this worker's cached keyring chose: again
                key_choices += 1
                if key_choices >= _KEY_CHOICES:
                    raise ProblemError(
                        409,
                        "Conflict",
                        "the issuer's keys kept changing while this credential was signed: "
                        "send it again",
                        code="KEYS_CHANGING",
                    ) from None
                self._forget_keyring()

    def issue_credential(
        self, credential: Mapping[str, Any], *, actor: str, fmt: str | None = None
    ) -> Answer:
        """Issue a credential built here (the officer UI): same checks, same transaction."""
        body: dict[str, Any] = {"credential": dict(credential)}
        if fmt is not None:
            body["options"] = {"format": fmt}
        return self.issue_request(body, actor=actor)

    def issue_trust_list(
        self, body: Mapping[str, Any], *, actor: str, within: InTransaction | None = None
    ) -> Answer:
        """``POST /trust-lists/issue``: sign the agency's MRA trust list with its trust-list key.

        The credential must be an ``MRATrustListCredential`` that passes its schema, issued
        as the agency's did:web (or, without a domain, the trust-list key's did:key). Raises
        ProblemError 400/422 for what cannot be signed. ``within`` runs in the transaction
        that publishes the list, with the answer's body.
        """
        credential = body.get("credential")
        if not isinstance(credential, dict):
            raise ProblemError(
                400,
                "Bad request",
                "the request needs a credential (an MRATrustListCredential)",
                code="MALFORMED",
                pointer="/credential",
            )
        key = self.trust_list_key(actor=actor)
        issuer, signer = self.keyring().trust_list_signer()
        try:
            options = request_options(body, formats.FORMAT_OPTIONS, members=("credential",))
            fmt = formats.choose(options, offered=self.offered, default=formats.VC_JWT)
            if key.kind not in formats.key_kinds(fmt):
                raise MalformedError(
                    f"the trust-list key is {key.kind.upper()}: {fmt} cannot use it",
                    pointer="/options/format",
                )
        except VcredError as exc:
            raise problem(exc) from exc
        before = _published(self.store.get_meta(PUBLISHED_TRUST_LIST))
        try:
            document = _trust_list_document(credential, issuer)
        except VcredError as exc:
            raise problem(exc, base="/credential") from exc
        _name_predecessor(document, before)
        try:
            secured = formats.as_text(secure(document, signer, format=fmt, now=self.now()))
        except VcredError as exc:
            raise problem(exc, base="/credential") from exc
        sequence = document["credentialSubject"].get("sequenceNumber")
        meanwhile = ProblemError(
            409,
            "Trust list out of sequence",
            "another trust list was published while this one was signed: send it again",
            code="TRUST_LIST_SEQUENCE",
            pointer="/credential/credentialSubject/sequenceNumber",
        )
        stored = json.dumps(
            {
                "secured": secured,
                "format": fmt,
                "sequenceNumber": sequence,
                "digest": list_digest(_served(secured)),
            }
        )
        with self.store.engine.begin() as conn:
            # locked to the commit: a publication racing this one waits, then sees it
            published = _published(self.store.get_meta(PUBLISHED_TRUST_LIST, conn, lock=True))
            if _published_digest(published) != _published_digest(before):
                # the list signed names a predecessor that is no longer the one published
                raise meanwhile
            if published is None:  # no row to lock: of racing first lists, one is stored
                if not self.store.add_meta(conn, PUBLISHED_TRUST_LIST, stored):
                    raise meanwhile
            else:
                self.store.set_meta(conn, PUBLISHED_TRUST_LIST, stored)
            if sequence is not None and not self.store.add_meta(
                conn, PUBLISHED_TRUST_LIST_NUMBERED.format(sequence), stored
            ):
                raise meanwhile  # a list of this number was published before: never replaced
            self.store.append_audit(
                conn,
                at=self.stamp(),
                actor=actor,
                action="trust-list-issue",
                target=str(document.get("id") or ""),
                details={
                    "credentialId": document.get("id"),
                    "issuer": issuer,
                    "key": key.tag,
                    "format": fmt,
                    "digest": secured_digest(secured),
                    "recognisedIssuers": [
                        entry.get("id")
                        for entry in document["credentialSubject"]["recognisedIssuers"]
                    ],
                },
            )
            answer = Answer(status=201, body={"verifiableCredential": formats.wrap(secured, fmt)})
            if within is not None:
                within(conn, answer.body)
        return answer

    def check_request(self, body: Mapping[str, Any]) -> None:
        """Check a ``POST /credentials/issue`` body as :meth:`issue_request` would, without
        signing (an OpenID4VCI offer is checked when made). Raises ProblemError."""
        self._prepare(body)

    def published_trust_list(self, sequence: int | None = None) -> tuple[str, str] | None:
        """The trust list this agency publishes (the last one signed), or the one it published
        numbered ``sequence``, as it is served: its text (what its successor's ``replaces``
        digests) and media type; None when there is none.

        A list published before lists were kept by number is found only while it is the
        current one (:data:`PUBLISHED_TRUST_LIST_NUMBERED`)."""
        current = _published(self.store.get_meta(PUBLISHED_TRUST_LIST))
        published = current
        if sequence is not None:
            published = _published(
                self.store.get_meta(PUBLISHED_TRUST_LIST_NUMBERED.format(sequence))
            )
            if published is None and current is not None:
                published = current if current.get("sequenceNumber") == sequence else None
        if published is None:
            return None
        media = formats.COMPACT_MEDIA_TYPES.get(published["format"], "application/json")
        return _served(published["secured"]), media

    def _stored_answer(
        self, principal: str, idempotency: _IdempotencyKey, token_id: str | None
    ) -> Answer | None:
        with self.store.engine.connect() as conn:
            self._check_token(conn, token_id)
            row = self.store.claim_idempotency(conn, principal, idempotency.key)
        return None if row is None else _replay(row, idempotency.digest)

    def _check_token(self, conn: Connection, token_id: str | None) -> None:
        """Raise RevokedTokenError if the API token ``token_id`` is revoked (None: no token)."""
        if token_id is not None and self.store.token_revoked(conn, token_id):
            self._refuse_token(token_id)

    def _check_key_and_token(self, conn: Connection, tag: str, token_id: str | None) -> None:
        """:meth:`_check_token`, and raise _KeyRetiredMeanwhileError if the key ``tag`` was
        retired — in one statement when there is a token — with the key row share-locked
        until ``conn``'s transaction ends."""
        if token_id is None:
            retired, revoked = self.store.key_retired(conn, tag), False
        else:
            retired, revoked = self.store.key_retired_or_token_revoked(conn, tag, token_id)
        self._refuse_if(tag, token_id, retired=retired, revoked=revoked)

    def _claim_places_checked(
        self, conn: Connection, tag: str, token_id: str, rows: Sequence[Mapping[str, Any]]
    ) -> set[tuple[Any, ...]] | None:
        """The status places ``rows`` claimed (:data:`issuer_app.store.status.ClaimPlaces`) in
        the statement that makes :meth:`_check_key_and_token`'s checks, with its refusals."""
        retired, revoked, claimed = self.store.claim_places_checked(
            conn, rows, tag=tag, token_id=token_id
        )
        self._refuse_if(tag, token_id, retired=retired, revoked=revoked)
        return claimed

    def _refuse_if(
        self, tag: str, token_id: str | None, *, retired: str | None, revoked: bool
    ) -> None:
        """RevokedTokenError for a revoked token, then _KeyRetiredMeanwhileError for a retired
        key."""
        if token_id is not None and revoked:
            self._refuse_token(token_id)
        if retired is not None:
            raise _KeyRetiredMeanwhileError(tag)

    def _refuse_token(self, token_id: str) -> NoReturn:
        self._tokens.pop(token_id, None)
        raise RevokedTokenError(token_id)

    def _loader_for(self, fmt: str) -> dict[str, Any]:
        """The ``loader`` keyword for a Data Integrity format (JOSE formats take none)."""
        return {} if fmt in formats.COMPACT_MEDIA_TYPES else {"loader": self.contexts}

    def _prepare(self, body: Mapping[str, Any]) -> _Prepared:
        credential = body.get("credential")
        if not isinstance(credential, dict):
            raise ProblemError(
                400,
                "Bad request",
                "the request needs a credential (a JSON object)",
                type_=model_problem_type(),
                code="MALFORMED",
                pointer="/credential",
            )
        if names_a_trust_list(credential):
            raise ProblemError(
                403,
                "Forbidden",
                "this route does not sign trust lists: an MRA trust list is signed with the "
                "trust-list key at POST /trust-lists/issue, by a token with the trust-list scope",
                code="TRUST_LIST_REFUSED",
                pointer="/credential/type",
            )
        if names_a_status_list(credential):
            # a list signed by this issuer's key under one of its lists' URLs would undo
            # revocations for whoever is served it: only the status machinery signs lists
            raise ProblemError(
                403,
                "Forbidden",
                "this route does not sign status lists: the issuer signs its own lists as "
                "statuses change (POST /credentials/status, a token with the status scope)",
                code="STATUS_LIST_REFUSED",
                pointer="/credential/type",
            )
        try:
            options = request_options(body, formats.ISSUE_OPTIONS, members=("credential",))
            fmt = formats.choose(options, offered=self.offered, default=self.config.default_format)
            extra = formats.mandatory_pointers(options, fmt)
            extra |= formats.holder_binding(options, fmt, credential)
            _check_status_request(options)
            credential_id = _credential_id(options, credential)
        except VcredError as exc:
            raise problem(exc) from exc
        try:
            prepared = self._prepare_credential(credential, options, fmt, credential_id)
        except VcredError as exc:
            raise problem(exc, base="/credential") from exc
        if not prepared.with_status and options.get("credentialStatus") is not None:
            # a status asked for by name is refused, never dropped: the caller would think
            # the credential revocable
            raise problem(
                MalformedError(
                    "a VC 1.1 credential is issued without status: issue VCDM 2.0 for one",
                    pointer="/options/credentialStatus",
                )
            )
        prepared.extra = extra
        return prepared

    def _prepare_credential(
        self,
        credential: dict[str, Any],
        options: Mapping[str, Any],
        fmt: str,
        credential_id: str | None,
    ) -> _Prepared:
        document = model.copy_json(credential)  # deepcopy for JSON, faster
        named = document.get("issuer")
        if isinstance(named, dict):
            named = named.get("id")
        if named is not None and not isinstance(named, str):
            raise MalformedError("issuer must be a URL or an object with an id", pointer="/issuer")
        if "issuer" not in document and not self.config.fill_issuer:
            raise MalformedError(
                "the credential needs an issuer (one of this service's DIDs)", pointer="/issuer"
            )
        key, signer = self.keyring().signer_for_issuer(named, formats.key_kinds(fmt))
        issuer = named or signer.key_id.split("#", 1)[0]
        if "issuer" not in document:
            document["issuer"] = issuer
        if "proof" in document:
            raise MalformedError(
                "leave proof out: send the credential without proof, the issuer secures it",
                pointer="/proof",
            )
        caller_status = "credentialStatus" in document
        if caller_status:
            self._check_caller_status(document, options)
        version = model.validate_credential(document)
        # the issuer signs only JSON that means, under known contexts, what it says
        signed_view(document, loader=self.contexts, allow_inline=self.config.allow_inline_contexts)
        _check_our_schemas(document)
        credential_id = document.get("id", credential_id)
        if credential_id is not None and (not isinstance(credential_id, str) or not credential_id):
            raise MalformedError("id must be a URL", pointer="/id")
        if credential_id is not None and (
            len(credential_id.encode()) > MAX_CREDENTIAL_ID or not storable(credential_id)
        ):
            raise MalformedError(
                f"this issuer takes credential ids of up to {MAX_CREDENTIAL_ID} bytes, "
                "without U+0000",
                pointer="/id",
            )
        return _Prepared(
            document=document,
            format=fmt,
            key=key,
            signer=signer,
            credential_id=credential_id,
            issuer=issuer,
            # A VC 1.1 credential is issued without status: the v1 context does not define
            # BitstringStatusListEntry, and adding the status/v1 context to a 1.1 document
            # makes it one no other verifier's loader knows (the W3C Data Integrity suites
            # fail on it). The v1 world's StatusList2021 is verify-only here.
            with_status=version != "1.1",
            caller_status=caller_status,
        )

    def _check_caller_status(self, document: Mapping[str, Any], options: Mapping[str, Any]) -> None:
        """A ``credentialStatus`` the caller manages (VC API): then this service manages none
        for the credential. Its Bitstring Status List entries must be well formed (§2.1) and
        not in this service's own lists (their places are allocated here, one per
        credential); a status the service is asked for too (``options.credentialStatus``)
        is refused. Raises MalformedError.
        """
        if options.get("credentialStatus") is not None:
            raise MalformedError(
                "credentialStatus comes from the caller or from this service "
                "(options.credentialStatus), not both",
                pointer="/credentialStatus",
            )
        status = document["credentialStatus"]
        listed = status if isinstance(status, list) else [status]
        if not listed:
            raise MalformedError("credentialStatus must not be empty", pointer="/credentialStatus")
        own = parse_url(self.config.public_url)
        for i, raw in enumerate(listed):
            pointer = f"/credentialStatus/{i}" if isinstance(status, list) else "/credentialStatus"
            if not isinstance(raw, dict) or not is_bitstring_entry(raw):
                raise MalformedError(
                    "a credentialStatus of the caller must be a BitstringStatusListEntry",
                    pointer=pointer,
                )
            entry = BitstringStatusListEntry.parse(raw, pointer=pointer)
            where = parse_url(
                entry.list_url,
                pointer=f"{pointer}/statusListCredential",
                what="statusListCredential",
            )
            if (where.scheme, where.host, where.effective_port) == (
                own.scheme,
                own.host,
                own.effective_port,
            ):
                raise MalformedError(
                    "this service's status lists hold only the places it allocates",
                    pointer=f"{pointer}/statusListCredential",
                )

    def _issue(
        self,
        prepared: _Prepared,
        *,
        actor: str,
        idempotency: _IdempotencyKey | None,
        token_id: str | None,
    ) -> Answer:
        store, index = self.store, self.store.index
        record_id = uuid.uuid4().hex
        keyring = self.keyring()
        list_name = keyring.list_name(prepared.issuer)
        at = self.stamp()
        kinds = self._status_kinds(prepared)
        # Without an Idempotency-Key the key and the token are checked in the statement that
        # claims the status places (the transaction's first write; only a worker with no open
        # list cached looks one up before it): a refused token gets its 401 before any other
        # answer, and its transaction keeps nothing. With a key, they are checked before its
        # stored answer is looked up.
        checks_with_places = idempotency is None and token_id is not None and bool(kinds)
        committing = False
        try:
            with store.engine.begin() as conn:
                # the key row stays share-locked to the commit: it signs before any retirement
                if not checks_with_places:
                    self._check_key_and_token(conn, prepared.key.tag, token_id)
                if idempotency is not None and not store.lock_idempotency(
                    conn, actor, idempotency.key, digest=idempotency.digest, at=at
                ):
                    # answered in between (or by a racing request that just committed)
                    row = store.claim_idempotency(conn, actor, idempotency.key)
                    if row is not None:
                        return _replay(row, idempotency.digest)
                claim = None
                if checks_with_places and token_id is not None:
                    claim = partial(self._claim_places_checked, conn, prepared.key.tag, token_id)
                places = (
                    index.bound(conn).allocate_all(kinds, credential_id=record_id, claim=claim)
                    if kinds
                    else []
                )
                if prepared.credential_id is not None and store.credential_id_taken(
                    conn, prepared.credential_id
                ):
                    raise _duplicate(prepared.credential_id)
                document = prepared.document
                if places:
                    document["credentialStatus"] = [
                        place.entry(
                            self.list_url(list_name, place.list_id),
                            **self._entry_messages(place.purpose),
                        ).to_json()
                        for place in places
                    ]
                try:
                    secured = formats.as_text(
                        secure(  # dated after the check: before any retirement
                            document,
                            prepared.signer,
                            format=prepared.format,
                            now=self.now(),
                            **prepared.extra,
                            **self._loader_for(prepared.format),
                        )
                    )
                except VcredError as exc:
                    raise problem(exc, base="/credential") from exc
                body = {"verifiableCredential": formats.wrap(secured, prepared.format)}
                record = _record(
                    record_id=record_id,
                    prepared=prepared,
                    secured=secured,
                    places=[
                        (p.purpose, p.list_id, p.index, self.list_url(list_name, p.list_id))
                        for p in places
                    ],
                    messages=self.config.status_messages,
                    at=at,
                    actor=actor,
                    keep=self.config.store_credentials,
                )
                if idempotency is not None:
                    store.store_answer(
                        conn,
                        actor,
                        idempotency.key,
                        status=201,
                        body=dump_json(body),
                        record_id=record_id,
                    )
                store.append_audit(
                    conn,
                    at=at,
                    actor=actor,
                    action="issue",
                    target=prepared.credential_id or record_id,
                    details={
                        "recordId": record_id,
                        "credentialId": prepared.credential_id,
                        "types": json.loads(record["types"]),
                        "format": prepared.format,
                        "issuer": prepared.issuer,
                        "key": prepared.key.tag,
                        "digest": record["digest"],
                        "status": json.loads(record["status_entries"]),
                    },
                    record=record,
                )
                committing = True
        except IntegrityError as exc:
            index.forget_open_lists()
            if prepared.credential_id is not None and self._id_taken(prepared.credential_id):
                raise _duplicate(prepared.credential_id) from exc
            if idempotency is not None:
                stored = self._stored_answer(actor, idempotency, token_id)
                if stored is not None:
                    return stored
            raise
        except DBAPIError as exc:
            index.forget_open_lists()
            if not committing and (exc.connection_invalidated or _deadlock(exc)):
                # lost or ended before the commit was sent: nothing of this issuance was kept
                raise _RolledBackError(exc) from exc
            raise
        except BaseException:
            index.forget_open_lists()  # a list opened in the rolled-back transaction is gone
            raise
        self._maybe_purge()
        self._keep_first_versions(list_name, [place.list_id for place in places])
        return Answer(status=201, body=body, record_id=record_id)

    def _status_kinds(self, prepared: _Prepared) -> list[tuple[str, int]]:
        """The status places a credential gets, as ``(purpose, status_size)``: none for one
        with the caller's own status or without status (VC 1.1)."""
        if prepared.caller_status or not prepared.with_status:
            return []
        kinds = [(purpose, 1) for purpose in PURPOSES]
        if self.config.status_messages:
            kinds.append((MESSAGE_PURPOSE, self.config.status_size))
        return kinds

    def _keep_first_versions(self, signer_name: str, list_ids: Sequence[str]) -> None:
        """Sign (and keep) a list's first version as soon as a credential names it, so that
        the version in force from that issuance on is known (GET /status/…?timestamp=)."""
        for list_id in list_ids:
            if (signer_name, list_id) in self._lists_kept:
                continue
            if self.store.published(signer_name, list_id) is None:
                self.status_list(signer_name, list_id)
            self._lists_kept.add((signer_name, list_id))

    def _id_taken(self, credential_id: str) -> bool:
        with self.store.engine.connect() as conn:
            return self.store.credential_id_taken(conn, credential_id)

    def _maybe_purge(self) -> None:
        """Forget Idempotency-Keys older than idempotency_ttl (at most once an hour)."""
        if time.monotonic() - self._purged < 3600:
            return
        self._purged = time.monotonic()
        self.store.purge_idempotency(format_datetime(self.now() - self.config.idempotency_ttl))

    def list_url(self, signer: str, list_id: str) -> str:
        return f"{self.config.public_url}/status/{signer}/{list_id}"

    def _entry_messages(self, purpose: str) -> dict[str, Any]:
        """The ``statusMessage`` / ``statusReference`` of a new entry of ``purpose``."""
        if purpose != MESSAGE_PURPOSE:
            return {}
        return {
            "status_messages": self.status_messages,
            "status_reference": self.config.status_reference,
        }

    # -- status ------------------------------------------------------------------------------

    def change_status(
        self,
        credential_id: str,
        status: Status | MessageStatus,
        *,
        actor: str,
        within: InTransaction | None = None,
        by_record: bool = False,
    ) -> dict[str, Any]:
        """Suspend, reinstate (``active``) or revoke a credential, by its id or record id
        (``by_record``: by its record id only); or set the value of its ``message`` status.

        Raises ProblemError 404 for an unknown credential, 400 for a change that is not
        allowed (a revoked credential stays revoked; a message value past the statusSize).
        ``within`` runs in the transaction that changes the status, with ``{"status": …}``.
        """
        store = self.store
        with store.engine.begin() as conn:
            row = (
                store.record_for_update(conn, credential_id, by_record=by_record)
                if storable(credential_id)
                else None
            )
            if row is None:
                raise ProblemError(
                    404, "Not Found", f"no credential {credential_id[:200]!r} was issued here"
                )
            issued = _issued_messages(row)
            if isinstance(status, MessageStatus):
                _check_message_value(status.value, issued)
            bound = store.index.bound(conn)
            before = _current_status(bound, row.record_id)
            message_before = _message_value(bound, row.record_id)
            try:
                if isinstance(status, MessageStatus):
                    set_status_value(bound, row.record_id, MESSAGE_PURPOSE, status.value)
                else:
                    set_credential_status(bound, row.record_id, status)
            except UsageError as exc:
                where = {"pointer": "/status"} if isinstance(status, MessageStatus) else {}
                raise ProblemError(
                    400, "Bad request", exc.message, code="STATUS_CHANGE_REFUSED", **where
                ) from exc
            after = _current_status(bound, row.record_id)
            message_after = _message_value(bound, row.record_id)
            store.set_record_status(conn, row.record_id, after)
            store.append_audit(
                conn,
                at=self.stamp(),
                actor=actor,
                action=_audit_action(status),
                target=row.credential_id or row.record_id,
                details={
                    "recordId": row.record_id,
                    "credentialId": row.credential_id,
                    "requested": status if isinstance(status, str) else hex(status.value),
                    "before": before,
                    "after": after,
                    **(
                        {"messageBefore": hex(message_before), "messageAfter": hex(message_after)}
                        if message_after is not None and message_before is not None
                        else {}
                    ),
                },
            )
            if within is not None:
                within(conn, {"status": after})
        answer: dict[str, Any] = {
            "credentialId": row.credential_id or row.record_id,
            "status": after,
            "credentialStatus": [
                _entry_summary(entry) for entry in load_json_list(row.status_entries)
            ],
        }
        if message_after is not None and issued is not None:
            state = MessageState(value=message_after, messages=issued)
            answer["statusMessage"] = {"status": hex(state.value), "message": state.message}
        # signed now, so that the version in force from this moment is kept as such
        self._publish_lists_of(load_json_list(row.status_entries))
        return answer

    def _publish_lists_of(self, entries: Sequence[Any]) -> None:
        """Sign (and keep) the current version of each of our lists a record's
        ``status_entries`` name."""
        base = f"{self.config.public_url}/status/"
        for entry in entries:
            url = entry.get("url") if isinstance(entry, dict) else None
            if isinstance(url, str) and url.startswith(base):
                signer_name, _, list_id = url[len(base) :].partition("/")
                self.status_list(signer_name, list_id)

    def status_list_at(
        self, signer_name: str, list_id: str, moment: datetime
    ) -> ListVersion | None:
        """The version of list ``list_id`` that was in force at ``moment`` (None: no such
        list, or no version of it then — not yet published, or past the retention)."""
        if self.status_list(signer_name, list_id) is None:  # the current one kept too
            return None
        return self.store.list_versions.in_force(signer_name, list_id, moment)

    def message_state(self, record_id: str) -> MessageState | None:
        """A credential's ``message`` status (None: it has none)."""
        row = self.record(record_id)
        issued = None if row is None else _issued_messages(row)
        value = _message_value(self.store.index, record_id)
        return None if issued is None or value is None else MessageState(value, issued)

    def status_list(self, signer_name: str, list_id: str) -> Published | None:
        """The signed list ``list_id`` as published under ``signer_name`` (None: no such list).

        Signed again only when the list changed since it was last signed (any process).
        """
        if not (_LIST_NAME.fullmatch(signer_name) and _LIST_NAME.fullmatch(list_id)):
            return None
        try:
            info = self.store.index.list_info(list_id)  # the version first, then the bits
        except UsageError:
            return None
        fmt = self.config.status_list_format
        keyring = self.keyring()
        found = keyring.list_signer(signer_name, formats.key_kinds(fmt))
        if found is None:
            return None
        issuer, signer = found
        if signer.key.kind not in formats.key_kinds(fmt):
            fmt = formats.DATA_INTEGRITY if formats.is_data_integrity(fmt) else formats.VC_JWT
        row = self.store.published(signer_name, list_id)
        if (
            row is not None
            and row.version == info.version
            and row.format == fmt
            and _signed_by(row.document) == signer.key_id  # not a key retired since
        ):
            return Published(
                media_type=row.media_type,
                body=row.document,
                version=row.version,
                signed_at=row.signed_at,
            )
        now = self.now()
        url = self.list_url(signer_name, list_id)
        unsigned = status_list_credential_for(
            self.store.index,
            list_id,
            list_url=url,
            issuer=issuer,
            valid_from=now,
            ttl=self.config.status_list_ttl,
        )
        with self.store.engine.begin() as conn:
            # a key found current here signs before any retirement (dated before the check)
            retired = signer_name == WEB and self._retired_meanwhile(conn, keyring, signer.key_id)
            secured = (
                None
                if retired
                else secure(unsigned, signer, format=fmt, now=now, **self._loader_for(fmt))
            )
        if secured is None:  # chosen from a stale keyring: the reloaded one names the current key
            return self.status_list(signer_name, list_id)
        document = secured if isinstance(secured, str) else dump_json(secured)
        published = Published(
            media_type=formats.media_type(fmt),
            body=document,
            version=info.version,
            signed_at=format_moment(now),  # its validFrom, exactly
        )
        self.store.publish(
            {
                "signer": signer_name,
                "list_id": list_id,
                "version": info.version,
                "format": fmt,
                "media_type": published.media_type,
                "document": document,
                "signed_at": published.signed_at,
            }
        )
        return published

    def _retired_meanwhile(self, conn: Connection, keyring: KeyRing, method_id: str) -> bool:
        """Whether the did:web key ``method_id`` (chosen from this worker's cached ``keyring``)
        was retired by another process; the row stays locked until ``conn`` ends, so a key
        found current signs before any retirement. Retired: the keyring is reloaded."""
        key = keyring.find(method_id)
        if key is None or self.store.key_retired(conn, key.tag) is None:
            return False
        self._forget_keyring()
        return True

    # -- records -----------------------------------------------------------------------------

    def search(self, query: RecordQuery) -> tuple[list[Row[Any]], int]:
        return self.store.search(query)

    def record(self, record_id: str) -> Row[Any] | None:
        return self.store.record(record_id) if storable(record_id) else None

    # -- tokens and officers -----------------------------------------------------------------

    def create_token(
        self, scopes: Sequence[str], *, label: str = "", actor: str
    ) -> hashing.NewToken:
        scopes = hashing.parse_scopes(",".join(scopes))
        if "\x00" in label:  # PostgreSQL text cannot hold it (it raised: a 500 on the page)
            raise ValueError("a token label cannot hold U+0000 (NUL)")
        made = hashing.new_token()
        with self.store.engine.begin() as conn:
            at = self.stamp()
            self.store.insert_token(
                conn,
                id=made.id,
                digest=made.digest,
                scopes=",".join(scopes),
                label=label[:200],
                created=at,
            )
            self.store.append_audit(
                conn,
                at=at,
                actor=actor,
                action="token-create",
                target=made.id,
                details={"id": made.id, "scopes": list(scopes), "label": label[:200]},
            )
        return made

    def revoke_token(self, token_id: str, *, actor: str) -> None:
        with self.store.engine.begin() as conn:
            at = self.stamp()
            self.store.revoke_token(conn, token_id, at=at)
            self._tokens.pop(token_id, None)
            self.store.append_audit(
                conn,
                at=at,
                actor=actor,
                action="token-revoke",
                target=token_id,
                details={"id": token_id},
            )

    def authenticate(
        self, presented: str, *, revocation_checked_later: bool = False
    ) -> Principal | None:
        """The principal of a presented API token, or None for an unknown / revoked one.

        ``revocation_checked_later``: the caller checks in its own transaction that the token
        is not revoked (:meth:`issue_request` with ``token_id``), so a token this process
        found valid before is not looked up again — its digest and scopes never change.
        """
        token_id = hashing.token_id_of(presented)
        if token_id is None:
            return None
        known = self._tokens.get(token_id) if revocation_checked_later else None
        if known is not None:
            digest, scopes = known
            if not hashing.token_matches(presented, digest):
                return None
            return Principal(actor=f"token:{token_id}", scopes=scopes, token_id=token_id)
        row = self.store.token(token_id)
        if row is None or row.revoked is not None:
            hashing.token_matches(presented, "0" * 64)  # same work either way
            return None
        if not hashing.token_matches(presented, row.digest):
            return None
        scopes = tuple(row.scopes.split(","))
        if len(self._tokens) >= _TOKENS_KEPT:
            self._tokens.clear()  # a bound, never reached by an agency's few clients
        self._tokens[token_id] = (row.digest, scopes)
        return Principal(actor=f"token:{token_id}", scopes=scopes, token_id=token_id)

    def add_officer(
        self, name: str, password: str | None, *, role: Role = DEFAULT_ROLE, actor: str
    ) -> None:
        """Create an officer account with its role (audited); ``password`` None: it signs in
        through the agency's identity provider only. Raises UsageError for a bad name, a weak
        password or a name already taken."""
        with self.store.engine.begin() as conn:
            at = self.stamp()
            self.officers.insert(conn, name=name, password=password, created=at)
            self.roles.set(conn, name, role)
            self.store.append_audit(
                conn,
                at=at,
                actor=actor,
                action="officer-add",
                target=name,
                details={"role": role, "password": password is not None},
            )

    def set_officer_role(self, name: str, role: Role, *, actor: str) -> Role | None:
        """Give an officer another role (audited); the role it had. Raises UsageError for an
        unknown officer. The officer's sessions carry on: each request reads the role."""
        if self.officers.row(name) is None:
            raise UsageError(f"there is no officer {name!r}")
        with self.store.engine.begin() as conn:
            before = self.roles.set(conn, name, role)
            self.store.append_audit(
                conn,
                at=self.stamp(),
                actor=actor,
                action="officer-role",
                target=name,
                details={"before": before, "after": role},
            )
        return before

    def end_session(self, handle: str, *, actor: str) -> str:
        """End another officer's session by its listed handle (audited); whose it was.
        Raises UsageError for a handle of no live session."""
        with self.store.engine.begin() as conn:  # ended and audited together, or neither
            officer = self.sessions.end_by_handle(handle, conn=conn)
            if officer is None:
                raise UsageError(f"no live session {handle[:40]!r}")
            self.audit_event(actor, "session-end", officer, {"session": handle}, conn=conn)
        return officer

    def end_sessions_of(self, officer: str, *, actor: str) -> int:
        """End every session of an officer (audited); how many there were."""
        with self.store.engine.begin() as conn:
            ended = self.sessions.end_all(officer, conn=conn)
            self.audit_event(actor, "session-end", officer, {"sessions": ended}, conn=conn)
        return ended

    def record_refusal(self, officer: str, permission: str, path: str) -> None:
        """An officer tried what their role does not allow: recorded in the audit chain."""
        self.audit_event(
            f"officer:{officer}",
            "officer-refused",
            officer,
            {"permission": permission, "role": self.roles.role(officer), "path": path[:512]},
        )

    def audit_event(
        self,
        actor: str,
        action: str,
        target: str | None,
        details: Mapping[str, Any],
        *,
        conn: Connection | None = None,
    ) -> None:
        """Append one entry to the audit chain: in the caller's transaction ``conn`` (what it
        records commits with it, or neither), else in a transaction of its own."""
        if conn is None:
            with self.store.engine.begin() as own:
                self.audit_event(actor, action, target, details, conn=own)
            return
        self.store.append_audit(
            conn, at=self.stamp(), actor=actor, action=action, target=target, details=details
        )

    def check_officer(self, name: str, password: str) -> bool:
        return self.officers.check(name, password)

    def officer_active(self, name: str) -> bool:
        return self.officers.active(name)

    def session_secret(self) -> str:
        secret = self.store.get_meta("session_secret")
        if secret is None:
            raise UsageError("the issuer database has no session secret: was it set up?")
        return secret


# -- helpers ---------------------------------------------------------------------------------


def model_problem_type() -> str:
    return MalformedError.problem_type


#: How often issuance chooses a key again when the chosen one was retired meanwhile.
_KEY_CHOICES: Final = 3
#: How often an issuance rolled back before its commit (a deadlock, a dead connection) is
#: tried again: each try draws new status places
_ROLLBACK_RETRIES: Final = 4
#: API tokens remembered as valid at most (see Issuer.authenticate).
_TOKENS_KEPT: Final = 1024


class RevokedTokenError(ProblemError):
    """The API token of a request was revoked (or is unknown) when its transaction ran."""

    def __init__(self, token_id: str) -> None:
        super().__init__(401, "Unauthorized", "the API token is unknown or revoked")
        self.token_id = token_id


class _RolledBackError(Exception):
    """The database connection was lost, or the transaction ended by a deadlock, before an
    issuance's commit was sent: nothing of it was kept (issue again)."""

    def __init__(self, error: DBAPIError) -> None:
        super().__init__(str(error))
        self.error = error


def _deadlock(error: DBAPIError) -> bool:
    """Whether PostgreSQL ended the transaction to break a deadlock (SQLSTATE 40P01)."""
    return getattr(error.orig, "sqlstate", None) == _DEADLOCK_DETECTED


_DEADLOCK_DETECTED: Final = "40P01"


class _KeyRetiredMeanwhileError(Exception):
    """The key a cached keyring chose was retired by another process (issue again)."""


def _signed_by(document: str) -> str | None:
    """The verification method that signed a list we published (a compact JWS or a Data
    Integrity document with one proof); None if it cannot be told. Not verified: our own."""
    try:
        if document.startswith("{"):
            proof = json.loads(document).get("proof")
            method = proof.get("verificationMethod") if isinstance(proof, dict) else None
        else:
            method = jose.unverified_header(document).get("kid")
    except (VcredError, ValueError, AttributeError):
        return None
    return method if isinstance(method, str) else None


def _first_start(
    config: IssuerConfig, store: IssuerStore, keystore: KeyStore, conn: Connection
) -> None:
    at = format_datetime(config.clock())
    made = [_insert_new_key(keystore, store, conn, kind, created=at) for kind in config.key_types]
    trust_list_key = _insert_trust_list_key(keystore, store, conn, created=at)
    store.set_meta(conn, "session_secret", secrets.token_hex(32))
    store.set_meta(conn, "public_url", config.public_url)
    if config.domain is not None:
        store.set_meta(conn, "domain", config.domain)
    store.append_audit(
        conn,
        at=at,
        actor="system",
        action="initialise",
        target=config.did_web,
        details={
            "keys": [k.describe() for k in made],
            "trustListKey": trust_list_key.describe() if trust_list_key else None,
            "programme": config.programme,
        },
    )


def _credential_id(options: Mapping[str, Any], credential: Mapping[str, Any]) -> str | None:
    """``options.credentialId`` (VC API): the identifier of a credential that has no ``id``;
    for one that has, the same value or a 400 (two identifiers for one credential). Raises
    MalformedError."""
    wanted = options.get("credentialId")
    if wanted is None:
        return None
    # a URL, as credential.id must be: never a bare record id (32 hex digits), which would
    # then name two records, and a status change by record id could land on the other one
    if not isinstance(wanted, str) or not is_url(wanted):
        raise MalformedError("options.credentialId must be a URL", pointer="/options/credentialId")
    if "id" in credential and credential["id"] != wanted:
        raise MalformedError(
            "options.credentialId names a credential without an id; this one has "
            "credential.id, and another",
            pointer="/options/credentialId",
        )
    return wanted


def _check_status_request(options: Mapping[str, Any]) -> None:
    """``options.credentialStatus`` (VC API: the status the service is asked to add) names
    the one kind this service manages. Raises MalformedError."""
    requested = options.get("credentialStatus")
    if requested is not None and not (
        isinstance(requested, dict) and is_bitstring_entry(requested)
    ):
        raise MalformedError(
            "this service manages status as BitstringStatusListEntry only",
            pointer="/options/credentialStatus",
        )


def names_a_trust_list(credential: Mapping[str, Any]) -> bool:
    """Whether a credential is (or claims to be) an MRA trust list: by its type, a subject's
    type (as a term or an IRI) or its schema — whatever the shape of those members."""
    if _states_a_type(credential, _TRUST_LIST_NAMES):
        return True
    return any(
        isinstance(entry, Mapping) and entry.get("id") == MRA_TRUST_LIST_SCHEMA
        for entry in values.values(credential.get("credentialSchema"))
    )


def names_a_status_list(credential: Mapping[str, Any]) -> bool:
    """Whether a credential is (or claims to be) a status list, by its type or a subject's."""
    return _states_a_type(credential, _STATUS_LIST_NAMES)


def _states_a_type(credential: Mapping[str, Any], names: frozenset[str]) -> bool:
    """Whether the credential's type or a subject's type is one of ``names`` (as a term or an
    IRI ending in it), whatever the shape of those members."""
    stated = [credential.get("type")]
    stated += [
        s.get("type")
        for s in values.values(credential.get("credentialSubject"))
        if isinstance(s, Mapping)
    ]
    return any(
        isinstance(name, str) and re.split(r"[#/:]", name)[-1] in names
        for member in stated
        for name in values.values(member)
    )


def _published(stored: str | None) -> dict[str, Any] | None:
    return None if stored is None else dict(json.loads(stored))


def _served(secured: str | dict[str, Any]) -> str:
    """A published trust list as ``GET /trust-lists/current`` serves it: a compact one as
    is, a Data Integrity one as JSON of fixed bytes, for the digest its successor names."""
    if isinstance(secured, str):
        return secured
    # the bytes Flask's jsonify served before (outside debug mode; the app sorts no keys:
    # they stay in the order signed), without its newline, which a verifier strips: a list
    # fetched then keeps its digest
    return json.dumps(secured, ensure_ascii=True, separators=(",", ":"))


def _published_digest(published: Mapping[str, Any] | None) -> str | None:
    """The digest (:func:`vcred.trust.list_digest`) of the list published, of the bytes
    served — computed, never the digest stored beside it (a Data Integrity list published
    before has none, or that of bytes served otherwise)."""
    if published is None:
        return None
    return list_digest(_served(published["secured"]))


def _name_predecessor(document: dict[str, Any], published: Mapping[str, Any] | None) -> None:
    """Make the trust list ``document`` (checked) the successor of the one ``published``:
    a higher sequence number, and ``replaces`` naming the published list's number and digest
    — set here when the document names none. Verifiers refuse a successor that does not name
    the list they hold (:func:`vcred.trustfeed.check_succession`): never publish one. Raises
    ProblemError 409 (TRUST_LIST_SEQUENCE) for a number that does not grow or another
    predecessor named."""
    held = published.get("sequenceNumber") if published else None
    if published is None or held is None:
        return  # the first list (or one after a list without a number): nothing to name
    subject = document["credentialSubject"]
    sequence = subject.get("sequenceNumber")
    if sequence is None or sequence <= held:
        raise ProblemError(
            409,
            "Trust list out of sequence",
            f"the published trust list has sequence number {held}; a new one needs a "
            "higher sequenceNumber",
            code="TRUST_LIST_SEQUENCE",
            pointer="/credential/credentialSubject/sequenceNumber",
        )
    predecessor = {"sequenceNumber": held, "digest": _published_digest(published)}
    named = subject.setdefault("replaces", predecessor)
    if named != predecessor:
        raise ProblemError(
            409,
            "Trust list out of sequence",
            f"the list replaces list {named.get('sequenceNumber')} "
            f"({named.get('digest')}), not the one published (list {held}, "
            f"{predecessor['digest']}): leave replaces out, the issuer names the published list",
            code="TRUST_LIST_SEQUENCE",
            pointer="/credential/credentialSubject/replaces",
        )


def _trust_list_document(credential: Mapping[str, Any], issuer: str) -> dict[str, Any]:
    """The trust list to sign, checked: its type, its issuer (this agency), no status or
    proof, VCDM and its schema, an end (``validUntil`` or ``nextUpdate``). Raises
    MalformedError / SchemaViolationsError."""
    document = copy.deepcopy(dict(credential))
    if MRA_TRUST_LIST_TYPE not in model.types_of(document):
        raise MalformedError(f"not an {MRA_TRUST_LIST_TYPE}", pointer="/type")
    named = document.setdefault("issuer", issuer)
    if values.identifier(named, "/issuer") != issuer:
        raise MalformedError(f"this agency's trust lists are issued as {issuer}", pointer="/issuer")
    for reserved in ("credentialStatus", "proof"):
        if reserved in document:
            raise MalformedError(f"a trust list to sign has no {reserved}", pointer=f"/{reserved}")
    model.validate_credential(document)
    _check_our_schemas(document)
    sequence = document["credentialSubject"].get("sequenceNumber")
    if isinstance(sequence, int) and sequence > JCS_INT_MAX:
        # kept and served by number (GET /trust-lists/<n>); past 2^53 - 1 a verifier's JSON
        # reads the number inexactly
        raise MalformedError(
            f"a trust list's sequenceNumber is at most {JCS_INT_MAX}",
            pointer="/credentialSubject/sequenceNumber",
        )
    if "validUntil" not in document and "nextUpdate" not in document["credentialSubject"]:
        # verifiers refuse such a list (vcred.trust.load_trust_list): it would decide forever
        raise MalformedError(
            "a trust list states until when it holds: validUntil, or a nextUpdate",
            pointer="/validUntil",
        )
    return document


def _insert_trust_list_key(
    keystore: KeyStore, store: IssuerStore, conn: Connection, *, created: str
) -> IssuerKey | None:
    """Make the Ed25519 trust-list key unless there is one (in the HSM in HSM-only mode);
    the key made, or None."""
    if store.get_meta(TRUST_LIST_KEY, conn) is not None:
        return None  # not made for nothing (an HSM keeps what it makes)
    pair, stored = keystore.make("ed25519")
    tag = key_tag(pair.public)
    row = json.dumps({"tag": tag, "kind": pair.kind, "pem": stored, "created": created})
    if not store.add_meta(conn, TRUST_LIST_KEY, row):
        return None
    store.bump_keys_version(conn)
    return IssuerKey(tag=tag, kind=pair.kind, created=created, retired=None, pair=pair)


def _already_set_up(_conn: Connection) -> None:
    raise UsageError("the issuer database lost its schema version while being upgraded")


def _warn_if_moved(config: IssuerConfig, store: IssuerStore) -> None:
    """Credentials carry the did:web and the status list URLs: moving them breaks those."""
    for name, now in (("domain", config.domain), ("public_url", config.public_url)):
        before = store.get_meta(name)
        if before is not None and before != now:
            _log.warning(
                "this issuer was set up with %s %s and now runs with %s: credentials issued "
                "before point at the old one",
                name,
                before,
                now,
            )


def _insert_new_key(
    keystore: KeyStore,
    store: IssuerStore,
    conn: Connection,
    kind: str,
    *,
    created: str,
    hsm: bool | None = None,
) -> IssuerKey:
    pair, stored = keystore.make(kind, hsm=hsm)
    tag = key_tag(pair.public)
    store.insert_key(conn, tag=tag, kind=kind, pem=stored, created=created)
    return IssuerKey(tag=tag, kind=pair.kind, created=created, retired=None, pair=pair)


def _check_idempotency_key(key: str) -> None:
    if not key or len(key) > MAX_IDEMPOTENCY_KEY or not key.isascii() or not key.isprintable():
        raise ProblemError(
            400,
            "Bad request",
            f"Idempotency-Key must be 1–{MAX_IDEMPOTENCY_KEY} printable ASCII characters",
            code="MALFORMED",
        )


def _replay(row: Row[Any], digest: str) -> Answer:
    if row.request_digest != digest:
        raise ProblemError(
            422,
            "Idempotency-Key reused",
            "this Idempotency-Key was already used with a different request body",
            code="IDEMPOTENCY_KEY_REUSED",
        )
    return Answer(
        status=int(row.status), body=json.loads(row.body), replayed=True, record_id=row.record_id
    )


def _duplicate(credential_id: str) -> ProblemError:
    return ProblemError(
        409,
        "Conflict",
        f"a credential with id {credential_id[:200]!r} was already issued; give each "
        "credential its own id (or retry with the same Idempotency-Key)",
        code="DUPLICATE_CREDENTIAL_ID",
        pointer="/credential/id",
    )


def _check_our_schemas(document: Mapping[str, Any]) -> None:
    """Validate the credential's known ``credentialSchema`` entries, and our types' schemas.

    A schema this service does not hold is not fetched (nor refused): issuing is not the
    place to enforce a third party's schema.
    """
    # the bundled schemas, with the AEO programmes and levels of the registry in use
    registry = schema_registry(bundled_registry())
    entries: list[dict[str, Any]] = []
    listed = document.get("credentialSchema")
    for entry in listed if isinstance(listed, list) else [listed] if listed else []:
        if (
            isinstance(entry, dict)
            and entry.get("type") == "JsonSchema"
            and entry.get("id") in registry
        ):
            entries.append(entry)
    types = model.types_of(document)
    for credential_type, schema_id in TYPE_SCHEMAS.items():
        if credential_type in types and all(e.get("id") != schema_id for e in entries):
            entries.append({"id": schema_id, "type": "JsonSchema"})
    if entries:
        check_schema({**document, "credentialSchema": entries}, registry=registry)


def _record(
    *,
    record_id: str,
    prepared: _Prepared,
    secured: str | dict[str, Any],
    places: list[tuple[str, str, int, str]],
    at: str,
    actor: str,
    keep: bool,
    messages: tuple[str, ...] = (),
) -> dict[str, Any]:
    document = prepared.document
    types = model.types_of(document)
    specific = [t for t in types if t != "VerifiableCredential"]
    subject = document.get("credentialSubject")
    if isinstance(subject, list):
        subject = subject[0] if subject else {}
    subject = subject if isinstance(subject, dict) else {}
    name = subject.get("legalName") or subject.get("name")
    if name is None and isinstance(subject.get("exporter"), dict):
        name = subject["exporter"].get("legalName")
    valid_from = document.get("validFrom") or document.get("issuanceDate")
    valid_until = document.get("validUntil") or document.get("expirationDate")
    return {
        "record_id": record_id,
        "credential_id": prepared.credential_id,
        "issuer": prepared.issuer,
        "key_tag": prepared.key.tag,
        "subject_id": _text(subject.get("id"), 2048),
        "subject_name": _text(name, 512),
        "types": dump_json(types),
        "main_type": _text(specific[-1] if specific else "VerifiableCredential", 128),
        "format": prepared.format,
        "digest": secured_digest(secured),
        "status": "active",
        "status_entries": dump_json(
            [
                {"purpose": p, "list": list_id, "index": i, "url": url}
                | ({"messages": list(messages)} if p == MESSAGE_PURPOSE else {})
                for p, list_id, i, url in places
            ]
        ),
        "valid_from": valid_from[:32] if isinstance(valid_from, str) else None,
        "valid_until": valid_until[:32] if isinstance(valid_until, str) else None,
        "created": at,
        "actor": actor[:256],
        "secured": (secured if isinstance(secured, str) else dump_json(secured)) if keep else None,
    }


def _text(value: Any, limit: int) -> str | None:
    """A string kept for search: cut to ``limit`` characters, without U+0000."""
    return value.replace("\x00", "")[:limit] if isinstance(value, str) else None


def _message_value(store: IndexStore, record_id: str) -> int | None:
    """The value of a credential's ``message`` status; None when it has no such entry."""
    for place in store.allocations(record_id):
        if place.purpose == MESSAGE_PURPOSE:
            return store.get_status(place.list_id, place.index)
    return None


def _audit_action(status: Status | MessageStatus) -> str:
    return f"status-{status}" if isinstance(status, str) else f"status-message-{hex(status.value)}"


def _entry_summary(entry: Mapping[str, Any]) -> dict[str, Any]:
    """A stored status entry as the VC API answers it (without the messages)."""
    out: dict[str, Any] = {
        "type": "BitstringStatusListEntry",
        "statusPurpose": entry["purpose"],
        "statusListIndex": str(entry["index"]),
        "statusListCredential": entry["url"],
    }
    size = status_size_for(len(entry.get("messages", ())))
    if size > 1:
        out["statusSize"] = size
    return out


def _issued_messages(row: Row[Any]) -> tuple[str, ...] | None:
    """The messages a credential's ``message`` entry was issued with (None: it has none)."""
    for entry in load_json_list(row.status_entries):
        if entry.get("purpose") == MESSAGE_PURPOSE:
            return tuple(entry.get("messages", ()))
    return None


def _check_message_value(value: int, issued: tuple[str, ...] | None) -> None:
    """A value its credential gives a meaning: a verifier cannot act on any other."""
    if issued is None:
        raise ProblemError(
            400,
            "Bad request",
            "this credential has no message status entry",
            code="STATUS_CHANGE_REFUSED",
            pointer="/credentialStatus",
        )
    if value >= len(issued) or issued[value] == UNDEFINED_MESSAGE:
        raise ProblemError(
            400,
            "Bad request",
            f"status {hex(value)} has no defined message in this credential",
            code="STATUS_CHANGE_REFUSED",
            pointer="/status",
        )


def _current_status(store: IndexStore, record_id: str) -> Status:
    values = {a.purpose: store.get_status(a.list_id, a.index) for a in store.allocations(record_id)}
    if values.get("revocation"):
        return "revoked"
    if values.get("suspension"):
        return "suspended"
    return "active"
