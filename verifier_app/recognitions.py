"""Recognitions: what a trader's accepted AEO certificate leaves behind at this verifier.

A trader that presents its home programme's AEO certificate (OpenID4VP, or the VC API's
challenge path) and is trusted under a mutual recognition arrangement gets a *recognition*:
which trader (every identifier the certificate states), its home programme and level, the
arrangement and its benefits, until when (the earlier of the certificate's end — its validity
as verified, ``validUntil`` or an earlier JWT / CWT ``exp`` — and the arrangement's end),
the certificate's digest and status entries, and the trust list
(id and sequence) the decision was made under. Border systems ask about a party by one of its
identifiers (:meth:`Recognitions.answer`); a refresher re-checks the status entries of every
live recognition (:meth:`Recognitions.refresh`), so a suspension at home ends the
recognition here within the status freshness bound. Officers note decisions; every change
is an event of the recognition's history.

Kept in the verifier's database (SQLite or PostgreSQL, tables declared on its ``MetaData``).
Several processes may refresh: a lease row lets one of them work at a time.
"""

from __future__ import annotations

import dataclasses
import json
import re
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from time import monotonic
from typing import Any, Final, Literal

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Engine,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    and_,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from vcred.customs.builders import AEO_CERTIFICATE_TYPE
from vcred.customs.identifiers import SCHEMES, check_identifier
from vcred.customs.programmes import BENEFITS, active_registry
from vcred.errors import MalformedError, RevokedError, SuspendedError, VcredError
from vcred.integrity import ecdsa_sd
from vcred.jsonld import ContextLoader, canonicalize_document
from vcred.model import parse_datetime
from vcred.sdjwt import DC_SD_JWT, VC_SD_JWT
from vcred.status import EntryStatus
from vcred.trust import RecognisedIssuer, TrustDecision, TrustList
from vcred.verifier import VerificationResult, Verifier, detect
from vcred_service.db import as_utc
from verifier_app.receipts import digest_sri, input_digest

#: Why a party is not recognised at a moment (the query's ``reason``).
Reason = Literal[
    "NOT_FOUND",
    "REFUSED_BY_OFFICER",
    "REVOKED",
    "NOT_YET_VALID",
    "EXPIRED",
    "ARRANGEMENT_NOT_IN_FORCE",
    "ISSUER_NO_LONGER_TRUSTED",
    "SUSPENDED_BY_HOME_AGENCY",
    "STATUS_UNKNOWN",
    "IDENTIFIER_CONTESTED",
    "NOT_YET_RECOGNISED",
]
REASONS: Final[tuple[str, ...]] = Reason.__args__  # type: ignore[attr-defined]
#: What the last status check found.
StatusState = Literal["active", "suspended", "revoked", "unknown"]
#: An officer's word on a recognition.
DECISIONS: Final = ("confirmed", "refused", "note")
LEASE: Final = "recognition-refresh"
_TEXT: Final = 512
_SCHEME_LENGTH: Final = 64
_VALUE_LENGTH: Final = 128
_PRIVATE_SCHEME: Final = "X-"
#: A query's ``at`` as a date: an XML Schema date without its optional offset.
_DATE: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class UnknownSchemeError(MalformedError):
    """The query names an identifier scheme this verifier does not know (answered 400)."""

    code = "UNKNOWN_SCHEME"
    title = "Unknown identifier scheme"


def recognition_tables(metadata: MetaData, prefix: str) -> tuple[Table, Table, Table, Table, Table]:
    """The recognitions, their identifiers, their history, the refresher's lease and the
    keys each certificate was signed with."""
    recognitions = Table(
        f"{prefix}recognitions",
        metadata,
        Column("id", String(40), primary_key=True),
        Column("digest", String(64), nullable=False, unique=True),
        Column("created", DateTime(timezone=True), nullable=False),
        Column("channel", String(16), nullable=False),
        Column("trader", String(_TEXT)),
        Column("issuer", String(_TEXT), nullable=False),
        Column("programme", String(64), nullable=False),
        Column("level", String(64)),
        Column("arrangement", Text, nullable=False),  # JSON: the TrustedArrangement
        Column("benefits", Text, nullable=False),  # JSON array of benefit codes
        Column("valid_from", DateTime(timezone=True)),
        Column("credential_until", DateTime(timezone=True)),
        Column("valid_until", DateTime(timezone=True)),
        Column("status_entries", Text, nullable=False),  # JSON: the credentialStatus
        Column("trust_list", String(_TEXT)),
        Column("trust_sequence", BigInteger),
        Column("status", String(16), nullable=False),
        Column("status_checked", DateTime(timezone=True)),
        Column("status_detail", String(_TEXT)),
        Column("decision", String(16)),
        Column("decided_by", String(128)),
    )
    identifiers = Table(
        f"{prefix}recognition_ids",
        metadata,
        Column("recognition", String(40), ForeignKey(recognitions.c.id), primary_key=True),
        Column("scheme", String(_SCHEME_LENGTH), primary_key=True),
        Column("value", String(_VALUE_LENGTH), primary_key=True, index=True),
    )
    events = Table(
        f"{prefix}recognition_events",
        metadata,
        Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
        Column("recognition", String(40), ForeignKey(recognitions.c.id), index=True),
        Column("at", DateTime(timezone=True), nullable=False),
        Column("actor", String(128), nullable=False),
        Column("action", String(32), nullable=False),
        Column("detail", String(_TEXT), nullable=False, default=""),
    )
    leases = Table(
        f"{prefix}leases",
        metadata,
        Column("name", String(64), primary_key=True),
        Column("holder", String(64), nullable=False),
        Column("until", DateTime(timezone=True), nullable=False),
    )
    # a table of its own, not a column: create_all adds it to an existing database
    keys = Table(
        f"{prefix}recognition_keys",
        metadata,
        Column("recognition", String(40), ForeignKey(recognitions.c.id), primary_key=True),
        Column("thumbprint", String(64), primary_key=True),
        Column("judged_at", DateTime(timezone=True), nullable=False),
    )
    return recognitions, identifiers, events, leases, keys


@dataclass(frozen=True, slots=True, kw_only=True)
class Recognition:
    """One recognition as kept (dates in UTC)."""

    id: str
    digest: str
    created: datetime
    channel: str
    trader: str | None
    issuer: str
    programme: str
    level: str | None
    arrangement: Mapping[str, Any]
    benefits: tuple[str, ...]
    valid_from: datetime | None
    credential_until: datetime | None
    valid_until: datetime | None
    status_entries: Sequence[Mapping[str, Any]]
    trust_list: str | None
    trust_sequence: int | None
    status: str
    status_checked: datetime | None
    status_detail: str | None
    decision: str | None
    decided_by: str | None
    identifiers: tuple[tuple[str, str], ...] = ()
    signing_keys: tuple[tuple[str, datetime], ...] = ()
    """(JWK thumbprint, moment judged at) of each key the certificate was trusted with."""

    def reason_at(
        self, at: datetime, *, now: datetime, max_age: timedelta, trust: TrustList | None
    ) -> Reason | None:
        """Why this recognition does not hold at ``at`` (None: it does), as known ``now``.

        The status is the last one checked: older than ``max_age`` it vouches for nothing.
        ``trust``: the trust list held now (None: none). The recognition holds only while it
        still recognises the issuer under the same arrangement — a partner removed from the
        list, a key it signed with no longer pinned for that moment, or a list that no
        longer decides, ends it — and at ``at`` inside that arrangement's window as the list
        states it now (narrowed when it was suspended); and not before it was made.
        """
        if self.decision == "refused":
            return "REFUSED_BY_OFFICER"
        if self.status == "revoked":
            return "REVOKED"
        refused = self._claim_refusal(at, now=now, trust=trust)
        if refused is not None:
            return refused
        if at < self.created:
            # nothing was established here then: not the trader's status at home (a
            # suspension lifted before it presented is not known), nor a benefit request
            return "NOT_YET_RECOGNISED"
        if self.status == "suspended":
            return "SUSPENDED_BY_HOME_AGENCY"
        if self.status != "active" or self.status_checked is None:
            return "STATUS_UNKNOWN"
        if now - self.status_checked > max_age:
            return "STATUS_UNKNOWN"
        return None

    def claims_at(self, at: datetime, *, now: datetime, trust: TrustList | None) -> bool:
        """Whether its issuer, one the trust list held now makes competent, states its
        identifiers for ``at``: a certificate not revoked, valid at ``at``, under an arrangement
        in force then — whatever an officer decided on it or its last status check found
        (suspended, or unknown): those say whether it is recognised, not whose the
        identifiers are."""
        return self.status != "revoked" and self._claim_refusal(at, now=now, trust=trust) is None

    def _claim_refusal(
        self, at: datetime, *, now: datetime, trust: TrustList | None
    ) -> Reason | None:
        """Why its certificate, as the trust list held now judges its issuer, does not speak
        for ``at`` (None: it does)."""
        if self.valid_from is not None and at < self.valid_from:
            return "NOT_YET_VALID"
        if self.credential_until is not None and at > self.credential_until:
            return "EXPIRED"
        entry = _still_recognised(trust, self, now=now)
        if entry is None:
            return "ISSUER_NO_LONGER_TRUSTED"
        if not _in_force(self.arrangement, at) or not _in_force(entry.mra.as_dict(), at):
            return "ARRANGEMENT_NOT_IN_FORCE"
        return None

    def evidence(self) -> dict[str, Any]:
        return {
            "recognition": self.id,
            "credentialDigest": self.digest,
            "issuer": self.issuer,
            "trustList": {"id": self.trust_list, "sequenceNumber": self.trust_sequence},
            "statusEntries": list(self.status_entries),
            "lastStatusCheck": {
                "at": _stamp(self.status_checked),
                "result": self.status,
                "detail": self.status_detail,
            },
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "trader": self.trader,
            "identifiers": [{"scheme": s, "value": v} for s, v in self.identifiers],
            "programme": self.programme,
            "level": self.level,
            "arrangement": dict(self.arrangement),
            "benefits": [{"code": c, "description": BENEFITS.get(c, c)} for c in self.benefits],
            "validUntil": _stamp(self.valid_until),
            "created": _stamp(self.created),
            "decision": self.decision,
            "decidedBy": self.decided_by,
            **self.evidence(),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    at: datetime
    actor: str
    action: str
    detail: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RefreshReport:
    """What one refresh did: ``None`` checked when another process held the lease."""

    checked: int | None
    changed: tuple[str, ...] = ()
    errors: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "leased": self.checked is not None,
            "checked": self.checked or 0,
            "changed": list(self.changed),
            "errors": list(self.errors),
        }


def parse_moment(value: str | None, *, pointer: str, now: datetime) -> datetime:
    """A query's ``at``: a date (that day, from 00:00 UTC) or a dateTime with its offset (an
    XML Schema dateTimeStamp: the offset within ±14:00); none: ``now``. Raises
    MalformedError."""
    if value is None or value == "":
        return now
    try:
        if len(value) == 10:
            if not _DATE.fullmatch(value):  # date.fromisoformat also reads 2026-W01-1
                raise ValueError(value)
            return datetime.combine(date.fromisoformat(value), time(), tzinfo=UTC)
        return parse_datetime(value, pointer=pointer, in_utc=True).astimezone(UTC)
    except (ValueError, MalformedError) as exc:
        raise MalformedError(
            "at is a date (2026-12-01) or a dateTime with its offset (2026-12-01T09:00:00Z)",
            pointer=pointer,
        ) from exc


def party(scheme: Any, value: Any, *, pointer: str) -> tuple[str, str]:
    """A queried identifier, checked against its scheme. Raises UnknownSchemeError for a scheme
    not known here, MalformedError for a value its scheme does not allow."""
    if not isinstance(scheme, str) or not scheme:
        raise MalformedError("scheme is a non-empty string", pointer=f"{pointer}/scheme")
    if not isinstance(value, str) or not value:
        raise MalformedError("id is a non-empty string", pointer=f"{pointer}/id")
    private = scheme.startswith(_PRIVATE_SCHEME)
    if not private and scheme not in SCHEMES and active_registry().scheme(scheme) is None:
        raise UnknownSchemeError(
            f"unknown identifier scheme {scheme[:64]!r}", pointer=f"{pointer}/scheme"
        )
    try:
        checked = check_identifier({"scheme": scheme, "value": value}, pointer)
    except MalformedError as error:
        raise MalformedError(error.message, pointer=f"{pointer}/id") from error
    return checked["scheme"], checked["value"]


def _status_keys(entries: Sequence[Any]) -> set[tuple[str, str, str]]:
    """(purpose, list, index) of each well-formed status entry (a list and an index)."""
    return {
        (
            str(entry.get("statusPurpose")),
            entry["statusListCredential"],
            str(entry["statusListIndex"]),
        )
        for entry in entries
        if isinstance(entry, dict)
        and isinstance(entry.get("statusListCredential"), str)
        and entry.get("statusListIndex") is not None
    }


def certificate_digest(
    secured: Any, result: VerificationResult, *, loader: ContextLoader
) -> str | None:
    """What names a verified certificate (``secured``, as presented), however the holder
    showed it; None when nothing of it verified.

    What the holder may change without breaking a signature must not make it another
    certificate (an officer's refusal would not hold): an SD-JWT is named by its
    issuer-signed JWT (header and payload: which disclosures it shows is the holder's
    choice); a derived ecdsa-sd-2023 credential by what its base signature signs (what it
    reveals is the holder's choice too); another Data Integrity credential by its RDF
    dataset, canonicalized (RDFC-1.0): a proof over RDF signs the dataset, not the JSON,
    which may write it otherwise (its types in another order, a value as an array of one).
    JOSE and COSE sign the JSON itself: its JCS digest (:func:`receipts.input_digest`).
    """
    credential = result.credential
    if credential is None:
        return None
    if result.format in (VC_SD_JWT, DC_SD_JWT):
        try:
            token = detect(secured)[1]
        except VcredError:
            return None
        if not isinstance(token, str):
            return None
        issuer_signed = token.split("~", 1)[0]
        return digest_sri(issuer_signed.rpartition(".")[0].encode("ascii"))
    if result.format == "data-integrity":
        derived = _base_signed_data(secured, loader)
        if derived is not None:
            return digest_sri(derived)
        try:
            nquads = canonicalize_document(credential, loader=loader)
        except VcredError:  # a JCS proof signs JSON no dataset carries: that JSON names it
            return input_digest(dict(credential))
        return digest_sri(nquads.encode("utf-8"))
    return input_digest(dict(credential))


def _base_signed_data(secured: Any, loader: ContextLoader) -> bytes | None:
    """What the base signature of a derived ecdsa-sd-2023 credential signs (the proof
    options, the proof-scoped key, the mandatory statements: §3.5.1 serializeSignData), the
    same whatever the holder revealed; None for any other credential."""
    proof = secured.get("proof") if isinstance(secured, Mapping) else None
    if not isinstance(proof, Mapping) or proof.get("cryptosuite") != ecdsa_sd.NAME:
        return None
    unsecured = {name: value for name, value in secured.items() if name != "proof"}
    try:
        data = ecdsa_sd.create_verify_data(unsecured, proof, loader=loader)
    except VcredError:  # pragma: no cover - the proof verified with this very data
        return None
    return ecdsa_sd.serialize_sign_data(data.proof_hash, data.public_key, data.mandatory_hash)


class Recognitions:
    """The recognitions of one verifier database."""

    def __init__(self, engine: Engine, metadata: MetaData, prefix: str) -> None:
        self.engine = engine
        self.table, self.ids, self.events, self.leases, self.keys = recognition_tables(
            metadata, prefix
        )

    # -- made by a presentation ------------------------------------------------------------

    def recognise(
        self, result: VerificationResult, *, digest: str, channel: str, now: datetime
    ) -> Recognition | None:
        """The recognition a verified, trusted AEO certificate makes (None for anything
        else). Presented again, the same certificate refreshes its recognition's status.

        It holds within the certificate's validity as the verification read it
        (``result.validity``: ``validFrom`` / ``validUntil`` narrowed by a JWT's or CWT's
        ``nbf`` / ``exp``); a verification that did not establish it makes none."""
        found = self.observe(result, digest=digest, channel=channel, now=now)
        decision = result.trust
        document = result.credential or {}
        if not (result.verified and isinstance(decision, TrustDecision) and decision.trusted):
            return None
        if result.validity is None:
            return None
        if decision.mra is None or AEO_CERTIFICATE_TYPE not in _types(document):
            return None
        subject = document.get("credentialSubject")
        subject = subject if isinstance(subject, dict) else {}
        certification = subject.get("certification")
        certification = certification if isinstance(certification, dict) else {}
        credential_from, credential_until = (_utc_or_none(m) for m in result.validity)
        arrangement_end = (
            datetime.combine(decision.mra.until, time.max, tzinfo=UTC)
            if decision.mra.until is not None
            else None
        )
        ends = [m for m in (credential_until, arrangement_end) if m is not None]
        status = document.get("credentialStatus", [])
        entries = status if isinstance(status, list) else [status]
        if found is not None:
            return self.get(found.id)
        checked = _checked(result.status, now=now)
        recognition_id = "rec-" + secrets.token_urlsafe(12)
        row = {
            "id": recognition_id,
            "digest": digest[:64],
            "created": now,
            "channel": channel,
            "trader": _text(subject.get("legalName")),
            "issuer": result.issuer or "",
            "programme": decision.programme or _text(certification.get("programme")) or "",
            "level": _text(certification.get("tier")),
            "arrangement": json.dumps(decision.mra.as_dict()),
            "benefits": json.dumps(list(decision.benefits or decision.mra.benefits)),
            "valid_from": credential_from,
            "credential_until": credential_until,
            "valid_until": min(ends) if ends else None,
            "status_entries": json.dumps(entries),
            "trust_list": decision.trust_list,
            "trust_sequence": decision.sequence,
            "status": checked.state,
            "status_checked": checked.observed,
            "status_detail": checked.detail,
        }
        identifiers = _identifiers(subject.get("identifier"))
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(self.table).values(**row))
                if identifiers:
                    conn.execute(
                        insert(self.ids),
                        [
                            {"recognition": recognition_id, "scheme": s, "value": v}
                            for s, v in identifiers
                        ],
                    )
                if decision.keys:
                    conn.execute(
                        insert(self.keys),
                        [
                            {"recognition": recognition_id, "thumbprint": t, "judged_at": at}
                            for t, at in dict(decision.keys).items()
                        ],
                    )
                self._event(conn, recognition_id, now, channel, "recognised", checked.detail or "")
        except IntegrityError:  # the same certificate, presented at once through another worker
            return self._by_digest(digest)
        return self.get(recognition_id)

    def observe(
        self, result: VerificationResult, *, digest: str, channel: str, now: datetime
    ) -> Recognition | None:
        """The recognition this certificate made, with the status its verification found
        noted (in its history: presented again), None when it made none. A verification
        that failed counts too when its status check read entries — a suspension or a
        revocation seen makes it fail — so the recognition does not hold on until the
        refresher's next round; one whose status was not checked notes nothing."""
        found = self._by_digest(digest)
        if found is None and result.credential is not None:
            status = result.credential.get("credentialStatus", [])
            entries = status if isinstance(status, list) else [status]
            found = self._by_status(result.issuer or "", entries, validity=result.validity)
        if found is None:
            return None
        if result.verified or result.status:
            checked = _checked(result.status, now=now)
            self.record_check(found, checked, now=now, actor=channel, action="presented")
        return found

    # -- read --------------------------------------------------------------------------------

    def get(self, recognition_id: str) -> Recognition | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(self.table).where(self.table.c.id == recognition_id)
            ).one_or_none()
            if row is None:
                return None
            ids = conn.execute(
                select(self.ids.c.scheme, self.ids.c.value)
                .where(self.ids.c.recognition == recognition_id)
                .order_by(self.ids.c.scheme, self.ids.c.value)
            ).fetchall()
            keys = conn.execute(
                select(self.keys.c.thumbprint, self.keys.c.judged_at)
                .where(self.keys.c.recognition == recognition_id)
                .order_by(self.keys.c.thumbprint)
            ).fetchall()
        return dataclasses.replace(
            _recognition(row, tuple((i.scheme, i.value) for i in ids)),
            signing_keys=tuple((k.thumbprint, as_utc(k.judged_at)) for k in keys),
        )

    def _by_status(
        self,
        issuer: str,
        entries: Sequence[Any],
        *,
        validity: tuple[datetime | None, datetime | None] | None = None,
    ) -> Recognition | None:
        """The recognition of a certificate of ``issuer`` naming one of these status entries:
        the same certificate, whatever its digest. A status index belongs to one credential,
        so the certificate secured in another format (a JWT and Data Integrity of one
        document), issued again, or kept under a digest of another kind (one made before
        certificates were named by what their signature covers, §13.24) is found so — and
        what an officer decided on it, or a suspension seen, holds for every form of it.
        ``validity``: the window the verification read, when it read one — the recognition
        found must hold that same window (an issuer that gives a renewed certificate the
        index of the one it replaces makes a recognition of it, not one ending with the
        old)."""
        named = _status_keys(entries)
        if not named:
            return None
        column = self.table.c.status_entries

        def written(text: str) -> Any:  # the stored JSON (json.dumps) holds this text
            return column.contains(text, autoescape=True)

        def naming(name: str, index: str) -> Any:
            # narrowed in the database to those naming this list and index as json.dumps wrote
            # them (an index a string or, when it reads so, a number); checked exactly below
            indexes = [json.dumps(index), *([index] if index.isascii() and index.isdigit() else [])]
            return and_(
                written(json.dumps(name)[1:-1]),
                or_(*(written(f'"statusListIndex": {i}') for i in indexes)),
            )

        with self.engine.connect() as conn:
            kept = conn.execute(
                select(self.table.c.id, column)
                .where(self.table.c.issuer == issuer, or_(*(naming(n, i) for _, n, i in named)))
                .order_by(self.table.c.created)
            ).all()
        window = None if validity is None else tuple(_utc_or_none(m) for m in validity)
        for recognition_id, stored in kept:
            if named & _status_keys(json.loads(stored)):
                found = self.get(recognition_id)
                if found is not None and (
                    window is None or window == (found.valid_from, found.credential_until)
                ):
                    return found
        return None

    def _by_digest(self, digest: str) -> Recognition | None:
        with self.engine.connect() as conn:
            found = conn.execute(
                select(self.table.c.id).where(self.table.c.digest == digest[:64])
            ).scalar_one_or_none()
        return None if found is None else self.get(str(found))

    def latest(self, limit: int = 200) -> list[Recognition]:
        """The newest recognitions first."""
        with self.engine.connect() as conn:
            ids = list(
                conn.execute(
                    select(self.table.c.id).order_by(self.table.c.created.desc()).limit(limit)
                ).scalars()
            )
        # one connection at a time: SQLite's transactions are taken BEGIN IMMEDIATE
        found = [self.get(str(i)) for i in ids]
        return [r for r in found if r is not None]

    def history(self, recognition_id: str) -> list[Event]:
        table = self.events
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(table).where(table.c.recognition == recognition_id).order_by(table.c.id)
            ).fetchall()
        return [
            Event(at=as_utc(r.at), actor=r.actor, action=r.action, detail=r.detail) for r in rows
        ]

    def of_party(self, scheme: str, value: str) -> list[Recognition]:
        """Every recognition naming ``scheme``/``value``, newest first."""
        with self.engine.connect() as conn:
            ids = list(
                conn.execute(
                    select(self.ids.c.recognition)
                    .join(self.table, self.table.c.id == self.ids.c.recognition)
                    .where(self.ids.c.scheme == scheme, self.ids.c.value == value)
                    .order_by(self.table.c.created.desc())
                ).scalars()
            )
        found = [self.get(str(i)) for i in ids]
        return [r for r in found if r is not None]

    def answer(
        self,
        scheme: str,
        value: str,
        *,
        at: datetime,
        now: datetime,
        max_age: timedelta,
        trust: TrustList | None,
    ) -> dict[str, Any]:
        """The recognition query's answer for one party: the recognition holding at ``at``,
        else why not (the newest recognition's reason). ``trust``: the trust list held now.

        A refusal holds for every recognition of the certificate refused (one made from another
        form of it by another process at the same moment, before either saw the other's).
        An identifier is answered for by one partner: when a certificate of another partner
        on the list (another entry) also states it for ``at`` (:meth:`Recognition.claims_at`),
        whose it is cannot be established — ``IDENTIFIER_CONTESTED``. Else a trader whose
        home agency suspended it, or whom an officer refused, would be answered "recognised"
        through another partner's certificate naming its identifier."""
        asked = {"scheme": scheme, "id": value, "at": _stamp(at)}
        found = self.of_party(scheme, value)
        if not found:
            return {**asked, "recognised": False, "reason": "NOT_FOUND"}
        refused = [r for r in found if r.decision == "refused"]
        reasons = [
            (
                r,
                "REFUSED_BY_OFFICER"
                if any(_same_certificate(r, x) for x in refused)
                else r.reason_at(at, now=now, max_age=max_age, trust=trust),
            )
            for r in found
        ]
        holding = next((r for r, reason in reasons if reason is None), None)
        chosen, reason = (holding, None) if holding is not None else reasons[0]
        if holding is not None:
            partner = _partner(trust, holding)
            if any(
                _partner(trust, r) != partner and r.claims_at(at, now=now, trust=trust)
                for r in found
            ):
                reason = "IDENTIFIER_CONTESTED"
        body: dict[str, Any] = {**asked, "recognised": reason is None}
        if reason is not None:
            body["reason"] = reason
        arrangement = chosen.arrangement
        body.update(
            {
                "trader": chosen.trader,
                "programme": chosen.programme,
                "level": chosen.level,
                "arrangement": {
                    k: arrangement[k] for k in ("id", "name", "since", "until") if k in arrangement
                },
                "benefits": [
                    {"code": c, "description": BENEFITS.get(c, c)} for c in chosen.benefits
                ],
                "validUntil": _stamp(chosen.valid_until),
                "evidence": chosen.evidence(),
            }
        )
        return body

    # -- officers ----------------------------------------------------------------------------

    def decide(
        self, recognition_id: str, *, decision: str, officer: str, note: str, now: datetime
    ) -> None:
        """An officer's decision (``confirmed``, ``refused``) or a ``note``, in the history.
        Raises MalformedError for another word."""
        if decision not in DECISIONS:
            raise MalformedError(f"decision is one of {', '.join(DECISIONS)}", pointer="/decision")
        with self.engine.begin() as conn:
            if decision != "note":
                conn.execute(
                    update(self.table)
                    .where(self.table.c.id == recognition_id)
                    .values(decision=decision, decided_by=officer[:128])
                )
            self._event(conn, recognition_id, now, officer, decision, note)

    # -- the refresher -----------------------------------------------------------------------

    def refresh(
        self, verifier: Verifier, *, holder: str, now: datetime, lease: timedelta
    ) -> RefreshReport:
        """Re-check the status of every live recognition (not revoked, not past its end),
        if this ``holder`` gets the lease; another process holding it does the work."""
        if not self.take_lease(holder, now=now, lease=lease):
            return RefreshReport(checked=None)
        started = renewed = monotonic()
        table = self.table
        changed: list[str] = []
        errors: list[str] = []
        done = 0
        try:
            with self.engine.connect() as conn:
                ids = list(
                    conn.execute(
                        select(table.c.id).where(
                            table.c.status != "revoked",
                            or_(table.c.valid_until.is_(None), table.c.valid_until > now),
                        )
                    ).scalars()
                )
            for recognition_id in ids:
                if monotonic() - renewed > lease.total_seconds() / 3:
                    # still working: hold the lease on (a round outlives any lease length);
                    # lost — this round stalled past it and another took over — stop here
                    renewed = monotonic()
                    at = now + timedelta(seconds=renewed - started)
                    if not self.take_lease(holder, now=at, lease=lease, renewing=True):
                        break
                done += 1
                found = self.get(str(recognition_id))
                if found is None:
                    continue
                checked = _checked_now(verifier, found.issuer, found.status_entries, now=now)
                if checked.state == "unknown":
                    errors.append(f"{found.id}: {checked.detail}")
                if self.record_check(found, checked, now=now, actor="refresher", action="status"):
                    changed.append(found.id)
        finally:  # a failed round must not keep the other processes waiting for the lease
            self.release_lease(holder)
        return RefreshReport(checked=done, changed=tuple(changed), errors=tuple(errors))

    def take_lease(
        self, holder: str, *, now: datetime, lease: timedelta, renewing: bool = False
    ) -> bool:
        """Hold the refresher's lease until ``now + lease`` (free, expired, or already ours);
        ``renewing``: only if still ours (one that expired meanwhile may be another's work)."""
        table = self.leases
        held = table.c.holder == holder
        with self.engine.begin() as conn:
            taken = conn.execute(
                update(table)
                .where(table.c.name == LEASE, held if renewing else or_(table.c.until <= now, held))
                .values(holder=holder, until=now + lease)
            ).rowcount
        if taken or renewing:
            return bool(taken)
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(table).values(name=LEASE, holder=holder, until=now + lease))
        except IntegrityError:
            return False  # held by another process
        return True

    def release_lease(self, holder: str) -> None:
        table = self.leases
        with self.engine.begin() as conn:
            conn.execute(
                update(table)
                .where(table.c.name == LEASE, table.c.holder == holder)
                .values(until=datetime(1970, 1, 1, tzinfo=UTC))
            )

    # -- helpers -----------------------------------------------------------------------------

    def record_check(
        self,
        found: Recognition,
        checked: Checked,
        *,
        now: datetime,
        actor: str,
        action: str,
    ) -> bool:
        """Record a status check; whether the status changed (that goes in the history).

        The check counts from when its lists were fetched, and an older observation never
        replaces a newer one (another process's cache may hold the list from before a
        suspension). An undetermined status keeps the last known one and its time: it ages
        out (STATUS_UNKNOWN past the freshness bound). A revocation is final: nothing seen
        after it (a list that cleared the bit) brings the recognition back.
        """
        table = self.table
        with self.engine.begin() as conn:
            # locked until the commit (SQLite: BEGIN IMMEDIATE), so processes take turns
            current = conn.execute(
                select(table.c.status, table.c.status_checked)
                .where(table.c.id == found.id)
                .with_for_update()
            ).one()
            last = None if current.status_checked is None else as_utc(current.status_checked)
            newer = (
                checked.state != "unknown"
                and current.status != "revoked"
                and (last is None or checked.observed >= last)
            )
            values: dict[str, Any] = {"status_detail": (checked.detail or "")[:_TEXT] or None}
            if newer:
                values.update(status=checked.state, status_checked=checked.observed)
            elif checked.state != "unknown":
                values = {}  # an older list than the one already seen: nothing learnt
            if values:
                conn.execute(update(table).where(table.c.id == found.id).values(**values))
            changed = newer and checked.state != current.status
            if changed or action == "presented":
                detail = f"{checked.state}: {checked.detail or ''}"
                self._event(conn, found.id, now, actor, action, detail)
        return changed

    def _event(
        self, conn: Any, recognition_id: str, at: datetime, actor: str, action: str, detail: str
    ) -> None:
        conn.execute(
            insert(self.events).values(
                recognition=recognition_id,
                at=at,
                actor=actor[:128],
                action=action,
                detail=detail[:_TEXT].replace("\x00", "\ufffd"),
            )
        )


@dataclass(frozen=True, slots=True)
class Checked:
    """One status check: what it found, and when the lists behind it were fetched."""

    state: StatusState
    detail: str | None
    observed: datetime


def _checked_now(
    verifier: Verifier, issuer: str, entries: Sequence[Mapping[str, Any]], *, now: datetime
) -> Checked:
    """The status of a recognition's entries, fetched now (through the verifier's cache);
    the lists must be the credential issuer's, as when it was verified."""
    if not entries:
        return Checked("active", "no status entry", now)
    try:
        report = verifier.check_status({"issuer": issuer, "credentialStatus": list(entries)})
    except VcredError as error:
        return Checked("unknown", f"{error.code}: {error.message}", now)
    return _checked(report.entries, now=now)


def _checked(entries: Iterable[EntryStatus], *, now: datetime) -> Checked:
    """The state of checked entries: revoked, then suspended, then undetermined, else
    active; observed when the least recent list behind them was fetched."""
    found = list(entries)
    errors = [e.error for e in found if e.error is not None]
    fetched = [as_utc(e.fetched_at) for e in found if e.fetched_at is not None]
    observed = min(fetched) if fetched else now
    for kind, state in ((RevokedError, "revoked"), (SuspendedError, "suspended")):
        for error in errors:
            if isinstance(error, kind):
                return Checked(state, f"{error.code}: {error.message}", observed)  # type: ignore[arg-type]
    if errors:
        return Checked("unknown", f"{errors[0].code}: {errors[0].message}", observed)
    return Checked("active", None, observed)


def _still_recognised(
    trust: TrustList | None, recognition: Recognition, *, now: datetime
) -> RecognisedIssuer | None:
    """The entry of the trust list held now that still recognises the recognition's issuer
    for an AEO certificate of its level under the same arrangement, signed with keys it
    pins, None when there is none — the certificate's type no longer accepted from it, its
    level (or a level not read) not one the arrangement now recognises, a key not pinned for
    the moment it was judged at (or no key kept: one made before keys were kept) — or the
    list decides nothing now (:meth:`TrustList.refusal_at`): fail closed."""
    if trust is None or trust.refusal_at(now) is not None:
        return None
    entry = trust.recognised(recognition.issuer)
    if entry is None or entry.mra.id != recognition.arrangement.get("id"):
        return None
    if AEO_CERTIFICATE_TYPE not in entry.accepted_types:
        return None
    tiers = entry.mra.recognised_tiers
    if tiers is not None and recognition.level not in tiers:
        return None
    if entry.pinned_keys and not recognition.signing_keys:
        return None
    for thumbprint, at in recognition.signing_keys:
        if entry.pinned_keys and not any(p.admits(thumbprint, at) for p in entry.pinned_keys):
            return None
    return entry


def _same_certificate(one: Recognition, other: Recognition) -> bool:
    """Whether two recognitions are of one certificate: an issuer's status entry (purpose,
    list, index) belongs to one credential."""
    return one.issuer == other.issuer and bool(
        _status_keys(one.status_entries) & _status_keys(other.status_entries)
    )


def _partner(trust: TrustList | None, recognition: Recognition) -> str:
    """Which partner of the trust list held now speaks through the recognition's issuer: its
    entry (one entry may name several DIDs), else the issuer's DID."""
    entry = None if trust is None else trust.recognised(recognition.issuer)
    return recognition.issuer if entry is None else entry.issuer


def _in_force(arrangement: Mapping[str, Any], at: datetime) -> bool:
    since, until = arrangement.get("since"), arrangement.get("until")
    day = at.date()
    if isinstance(since, str) and day < date.fromisoformat(since):
        return False
    return not (isinstance(until, str) and day > date.fromisoformat(until))


def _identifiers(value: Any) -> list[tuple[str, str]]:
    """The certificate's identifiers (verified with it), each once — exactly as stated: one
    longer than its column holds is left out, not cut (its prefix, which a query may name,
    is no identifier the issuer signed)."""
    items = value if isinstance(value, list) else [value] if value is not None else []
    found: dict[tuple[str, str], None] = {}
    for item in items:
        if isinstance(item, dict):
            scheme, number = item.get("scheme"), item.get("value")
            if (
                isinstance(scheme, str)
                and isinstance(number, str)
                and len(scheme) <= _SCHEME_LENGTH
                and len(number) <= _VALUE_LENGTH
            ):
                found[(scheme, number)] = None
    return list(found)


def _types(document: Mapping[str, Any]) -> set[str]:
    kind = document.get("type", [])
    return {kind} if isinstance(kind, str) else {t for t in kind if isinstance(t, str)}


def _text(value: Any) -> str | None:
    return value[:_TEXT].replace("\x00", "\ufffd") if isinstance(value, str) else None


def _utc_or_none(moment: datetime | None) -> datetime | None:
    return None if moment is None else as_utc(moment)


def _stamp(moment: datetime | None) -> str | None:
    return None if moment is None else as_utc(moment).isoformat().replace("+00:00", "Z")


def _recognition(row: Any, identifiers: tuple[tuple[str, str], ...]) -> Recognition:
    return Recognition(
        id=row.id,
        digest=row.digest,
        created=as_utc(row.created),
        channel=row.channel,
        trader=row.trader,
        issuer=row.issuer,
        programme=row.programme,
        level=row.level,
        arrangement=json.loads(row.arrangement),
        benefits=tuple(json.loads(row.benefits)),
        valid_from=_utc_or_none(row.valid_from),
        credential_until=_utc_or_none(row.credential_until),
        valid_until=_utc_or_none(row.valid_until),
        status_entries=json.loads(row.status_entries),
        trust_list=row.trust_list,
        trust_sequence=row.trust_sequence,
        status=row.status,
        status_checked=_utc_or_none(row.status_checked),
        status_detail=row.status_detail,
        decision=row.decision,
        decided_by=row.decided_by,
        identifiers=identifiers,
    )
