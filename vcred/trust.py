"""The MRA trust list: which foreign issuers a verifying customs agency recognises, and why.

The list is itself a credential (``MRATrustListCredential``) signed by the verifying agency
with its trust-list key, so it can be published and checked (DESIGN §7); it is loaded only
under a :class:`TrustAnchor` (docs/security.md §13.2). Each entry names an issuer DID, its country
and AEO programme, the credential types accepted from it, and the mutual recognition
arrangement (MRA) that makes it trusted, with its dates and benefits.

:meth:`TrustList.evaluate` answers "is this issuer trusted for this credential, today?" with a
:class:`TrustDecision`; anything not on the list, outside the MRA's dates, of a type not
accepted, or of a tier the MRA does not cover is untrusted (code ``UNTRUSTED_ISSUER``).
Every rule establishes its input or fails closed: what it cannot read — absent, of an
unreadable shape, several different values — is untrusted too (``TRUST_INPUT_UNESTABLISHED``).
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Final

from . import model, values
from ._json import loads_local
from .customs import _fields as f
from .customs.builders import (
    AEO_CERTIFICATE_TYPE,
    MRA_TRUST_LIST_SCHEMA,
    MRA_TRUST_LIST_TYPE,
    envelope,
)
from .customs.programmes import (
    BENEFITS,
    PROGRAMMES,
    TRADE_ROLES,
    MutualRecognition,
    mra_between,
)
from .did.document import is_did
from .errors import (
    ExpiredError,
    MalformedError,
    NotYetValidError,
    StatusUnavailableError,
    TrustAnchorError,
    TrustInputError,
    UntrustedIssuerError,
    UsageError,
)
from .schema import check_schema
from .verifier import Verifier

__all__ = [
    "TRUST_LIST_KEY_PREFIX",
    "PinnedKey",
    "RecognisedIssuer",
    "TrustAnchor",
    "TrustDecision",
    "TrustList",
    "TrustedArrangement",
    "build_trust_list",
    "list_digest",
    "load_signed_trust_list",
    "load_trust_list",
]

_BASE_TYPES: Final = frozenset({"VerifiableCredential"})
#: what verifies a trust list: its status too — an agency may revoke a list it signed
_TRUST_LIST_CHECKS: Final = ("proof", "issuer", "validity", "status")
_S: Final = "/credentialSubject"
_CERT: Final = f"{_S}/certification"
_TIER: Final = f"{_CERT}/tier"
_NO_ISSUER: Final = "(none)"
#: The fragment prefix of a trust-list key's verification method (the key role).
TRUST_LIST_KEY_PREFIX: Final = "trust-list-"
_SINGLE_KEY_DIDS: Final = ("did:key:", "did:jwk:")
_DIGEST: Final = re.compile(r"sha256-[A-Za-z0-9+/]{43}=")
_THUMBPRINT: Final = re.compile(r"[A-Za-z0-9_-]{43}")


@dataclass(frozen=True, slots=True, kw_only=True)
class TrustedArrangement:
    """The MRA behind an entry, as the trust list states it (dates are inclusive)."""

    id: str
    name: str
    programmes: tuple[str, str]
    since: date
    until: date | None = None
    recognised_tiers: frozenset[str] | None = None
    benefits: tuple[str, ...] = ()
    source: str = ""

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "programmes": list(self.programmes),
            "since": self.since.isoformat(),
        }
        if self.until is not None:
            out["until"] = self.until.isoformat()
        if self.recognised_tiers is not None:
            out["recognisedTiers"] = sorted(self.recognised_tiers)
        out["benefits"] = [
            {"code": code, "description": BENEFITS.get(code, code)} for code in self.benefits
        ]
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class PinnedKey:
    """A key a recognised issuer signs with (RFC 7638 JWK thumbprint), and when it may sign.

    A rotated key keeps its window: credentials it signed inside it stay trusted.
    """

    thumbprint: str
    not_before: datetime
    not_after: datetime | None = None

    def admits(self, thumbprint: str, signed_at: datetime) -> bool:
        return (
            hmac.compare_digest(self.thumbprint, thumbprint)
            and self.not_before <= signed_at
            and (self.not_after is None or signed_at <= self.not_after)
        )

    def as_dict(self) -> dict[str, Any]:
        out = {"jwkThumbprint": self.thumbprint, "notBefore": _stamp(self.not_before)}
        if self.not_after is not None:
            out["notAfter"] = _stamp(self.not_after)
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class RecognisedIssuer:
    """One foreign issuer on the list: its DIDs, its pinned keys (none: any key its DID
    document holds), the credential types accepted from it and the arrangement."""

    issuer: str
    country: str
    programme: str
    accepted_types: frozenset[str]
    mra: TrustedArrangement
    name: str | None = None
    dids: frozenset[str] = frozenset()
    pinned_keys: tuple[PinnedKey, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class TrustDecision:
    """Whether an issuer is trusted for a credential, under which MRA, with which benefits."""

    trusted: bool
    issuer: str
    reason: str
    programme: str | None = None
    mra: TrustedArrangement | None = None
    benefits: tuple[str, ...] = ()
    code: str | None = None
    pointer: str | None = None
    """Where the input the decision could not establish sits (None: the issuer)."""
    trust_list: str | None = None
    """The trust list the decision was made under (its id, else its issuer)."""
    sequence: int | None = None
    """That list's sequence number (None: a list without one)."""
    keys: tuple[tuple[str, datetime], ...] = ()
    """(JWK thumbprint, moment judged at) of each signing key a trusted credential was
    decided with (:meth:`TrustList.evaluate_credential` given ``signing_keys``): what a
    decision kept for later must judge again against the pins of a later list."""

    def error(self) -> UntrustedIssuerError | None:
        """The error a verifier reports for an untrusted decision (None when trusted)."""
        if self.trusted:
            return None
        cls = TrustInputError if self.code == TrustInputError.code else UntrustedIssuerError
        return cls(self.reason, pointer=self.pointer or "/issuer")

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "trusted": self.trusted,
            "issuer": self.issuer,
            "reason": self.reason,
        }
        if self.code is not None:
            out["code"] = self.code
        if self.pointer is not None:
            out["pointer"] = self.pointer
        if self.programme is not None:
            out["programme"] = self.programme
        if self.mra is not None:
            out["mra"] = self.mra.as_dict()
        if self.benefits:
            out["benefits"] = [
                {"code": code, "description": BENEFITS.get(code, code)} for code in self.benefits
            ]
        if self.trust_list is not None:
            out["trustList"] = {"id": self.trust_list, "sequenceNumber": self.sequence}
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class TrustAnchor:
    """Who may sign a trust list: the verifying agency's DID and its trust-list key.

    ``method``: that key's verification method (a DID URL of ``did``, or just ``#fragment``).
    Without it, the trust-list key *role*: a method of ``did`` whose fragment begins with
    ``trust-list-`` — the issuer service publishes its trust-list key under that name and
    signs nothing else with it, so a list signed by an ordinary issuing key of the same DID
    is refused. A did:key (or did:jwk) is a single key: naming it names the key.

    Raises UsageError for a ``did`` that is not a DID or a ``method`` of another DID.
    """

    did: str
    method: str | None = None

    def __post_init__(self) -> None:
        if not is_did(self.did) or "#" in self.did:
            raise UsageError(f"a trust anchor is a DID, not {self.did[:200]!r}")
        if self.method is None:
            return
        method = f"{self.did}{self.method}" if self.method.startswith("#") else self.method
        if not method.startswith(f"{self.did}#") or len(method) == len(self.did) + 1:
            raise UsageError(
                f"the trust anchor's method must be a verification method of {self.did}, "
                f"not {self.method[:200]!r}"
            )
        object.__setattr__(self, "method", method)

    def admits(self, method: str | None) -> bool:
        """Whether a list signed with verification method ``method`` comes from this anchor."""
        if method is None:
            return False
        did, _, fragment = method.partition("#")
        if did != self.did:
            return False
        if self.method is not None:
            return method == self.method
        if did.startswith(_SINGLE_KEY_DIDS):
            return True
        return fragment.startswith(TRUST_LIST_KEY_PREFIX)

    def describe(self) -> str:
        if self.method is not None:
            return self.method
        if self.did.startswith(_SINGLE_KEY_DIDS):
            return self.did
        return f"a {self.did}#{TRUST_LIST_KEY_PREFIX}… key"


@dataclass(frozen=True, slots=True, kw_only=True)
class TrustList:
    """A verifying agency's MRA trust list (parsed from a verified trust list credential)."""

    issuer: str
    authority: str
    country: str
    programme: str
    entries: tuple[RecognisedIssuer, ...]
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    id: str | None = None
    sequence: int | None = None
    next_update: datetime | None = None
    replaces: tuple[int, str] | None = None
    """(sequence number, digest) of the list this one replaces, as it states them."""
    digest: str | None = None
    """SHA-256 of the secured form it was loaded from (sha256-<base64>), when known."""
    grace: timedelta = timedelta(0)
    """How long past ``next_update`` it may still decide (the verifier's setting)."""
    _by_issuer: dict[str, RecognisedIssuer] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Raises UsageError for a DID named twice (an entry's ``issuer`` or one of its
        ``dids``): the order of the entries would choose which decides — refused as the
        loader refuses such a list (``_one_entry_per_did``)."""
        by_issuer: dict[str, RecognisedIssuer] = {}
        for entry in self.entries:
            for did in (entry.issuer, *sorted(entry.dids)):
                if did in by_issuer:
                    raise UsageError(
                        f"an issuer may appear only once on a trust list (by its id or its "
                        f"dids): {did[:200]} is named twice"
                    )
                by_issuer[did] = entry
        object.__setattr__(self, "_by_issuer", by_issuer)

    @property
    def label(self) -> str:
        """How a verdict names this list: its id (else its issuer) and sequence number."""
        name = self.id or self.issuer
        return name if self.sequence is None else f"{name} #{self.sequence}"

    def stale_at(self) -> datetime | None:
        """When it stops deciding: ``next_update`` plus the grace (None: no next update)."""
        return None if self.next_update is None else self.next_update + self.grace

    def _named(self, decision: TrustDecision) -> TrustDecision:
        return dataclasses.replace(
            decision, trust_list=self.id or self.issuer, sequence=self.sequence
        )

    def recognised(self, issuer: str) -> RecognisedIssuer | None:
        """The list's entry for ``issuer`` (None when it is not on the list): its name,
        country and programme, to show an officer who the issuer is. Not a trust decision."""
        return self._by_issuer.get(issuer)

    def key_refusal(
        self,
        issuer: str,
        signing_keys: Sequence[tuple[str, datetime | None]],
        *,
        now: datetime,
    ) -> str | None:
        """Why a document ``issuer`` signed with ``signing_keys`` — (JWK thumbprint, signing
        time or None) — is not signed with the keys this list pins for it, each inside its
        window (as :meth:`evaluate_credential` judges a credential's keys); None when it is,
        or when the list pins none for ``issuer`` or does not name it. Not a trust decision:
        what else an issuer signs (its status lists) is held to its credentials' keys.
        Raises UsageError for a naive ``now``."""
        _require_aware(now)
        entry = self._by_issuer.get(issuer)
        if entry is None:
            return None
        refused = _refuse_keys(entry, issuer, signing_keys, now)
        return None if refused is None else refused.reason

    def evaluate(
        self,
        issuer: str | Mapping[str, Any],
        credential_types: Iterable[str],
        *,
        now: datetime,
        tier: str | None = None,
    ) -> TrustDecision:
        """Decide whether ``issuer`` is trusted for a credential of ``credential_types`` on ``now``.

        ``tier``: the certification tier the credential states (AEO certificates), checked
        against the tiers the MRA recognises; an AEO certificate without one is untrusted
        where the MRA recognises only some tiers. Before the list's own ``validFrom`` and
        after its ``validUntil`` nobody is trusted (a list is loaded once and consulted for
        as long as it is held, and ``now`` may be a past moment). Never
        raises for an untrusted issuer: the decision says why (code UNTRUSTED_ISSUER, or
        TRUST_INPUT_UNESTABLISHED for an input that cannot be read). Raises UsageError for a
        naive ``now``.
        """
        _require_aware(now)
        try:
            issuer_id = values.identifier(issuer, "/issuer")
        except MalformedError as exc:
            return self._named(_unestablished(_NO_ISSUER, exc))
        types = frozenset(credential_types)
        refused = self._screen(issuer_id, types, now)
        if refused is not None:
            return self._named(refused)
        stated = None if tier is None else _Certification(tier=tier)
        return self._named(self._certified(self._by_issuer[issuer_id], types, stated))

    def evaluate_credential(
        self,
        credential: Mapping[str, Any],
        *,
        now: datetime,
        signing_keys: Sequence[tuple[str, datetime | None]] | None = None,
    ) -> TrustDecision:
        """:meth:`evaluate` a verified credential: its issuer, types and, for a credential
        stating an AEO certification, its programme, tier and trade roles.

        Every input is read through :mod:`vcred.values` (a value or an array of one, a
        literal or ``{"@value": …}``, an id or ``{"id": …}``); an input a rule needs that is
        absent, unreadable or several different values makes the credential untrusted (code
        TRUST_INPUT_UNESTABLISHED, pointer to the value).

        ``signing_keys``: (JWK thumbprint, signing time or None) of each key whose proof
        verified; an issuer with pinned keys is trusted only when every one is pinned and
        signed inside its window (the signing time, else — or when it is after ``now`` —
        ``now``). Not given, such an issuer
        is untrusted: the keys cannot be checked. Raises UsageError for a naive ``now``.
        """
        _require_aware(now)
        return self._named(self._evaluate_credential(credential, now, signing_keys))

    def _evaluate_credential(
        self,
        credential: Mapping[str, Any],
        now: datetime,
        signing_keys: Sequence[tuple[str, datetime | None]] | None,
    ) -> TrustDecision:
        try:
            issuer_id = values.identifier(credential.get("issuer"), "/issuer")
        except MalformedError as exc:
            return _unestablished(_NO_ISSUER, exc)
        try:
            types = values.names(credential.get("type"), "/type")
        except MalformedError as exc:
            return _unestablished(issuer_id, exc)
        refused = self._screen(issuer_id, types, now)
        if refused is not None:
            return refused
        entry = self._by_issuer[issuer_id]
        refused = _refuse_keys(entry, issuer_id, signing_keys, now)
        if refused is not None:
            return refused
        try:
            stated = _read_certification(credential, types)
        except MalformedError as exc:
            return _unestablished(issuer_id, exc, entry)
        decision = self._certified(entry, types, stated)
        if not decision.trusted or not signing_keys:
            return decision
        judged = tuple((thumbprint, _judged_at(at, now)) for thumbprint, at in signing_keys)
        return dataclasses.replace(decision, keys=judged)

    def refusal_at(self, now: datetime) -> str | None:
        """Why this list decides nothing at ``now`` — stating neither ``validUntil`` nor
        ``nextUpdate``, before its ``validFrom``, after its ``validUntil``, or past its next
        update and grace (fail closed: a list due to be replaced may hide a revoked issuer or
        key) — or None when it decides.

        A long-running verifier loads its list once: the list's own validity must still bound
        every decision made with it, and ``now`` may be a past moment (Verifier.at).
        """
        if self.valid_until is None and self.next_update is None:
            return (
                f"the MRA trust list of {self.authority} states neither validUntil nor "
                "nextUpdate: until when it holds is not established; it trusts no issuer"
            )
        if self.valid_from is not None and now < self.valid_from:
            return (
                f"the MRA trust list of {self.authority} is not valid before "
                f"{_stamp(self.valid_from)}; it trusts no issuer before then"
            )
        if self.valid_until is not None and now >= self.valid_until:
            return (
                f"the MRA trust list of {self.authority} expired at "
                f"{self.valid_until.isoformat()}; no issuer is trusted until it is renewed"
            )
        stale = self.stale_at()
        if stale is not None and now > stale:
            return (
                f"the MRA trust list {self.label} of {self.authority} was due to be replaced "
                f"at {_stamp(self.next_update or stale)} and no newer list has been loaded; "
                "no issuer is trusted until one is"
            )
        return None

    def _screen(self, issuer_id: str, types: frozenset[str], now: datetime) -> TrustDecision | None:
        """The rules on the list, the issuer, the types and the MRA's dates: the decision
        when one refuses, None when they all pass (the issuer is then on the list)."""
        refusal = self.refusal_at(now)
        if refusal is not None:
            return _untrusted(issuer_id, refusal)
        entry = self._by_issuer.get(issuer_id)
        if entry is None:
            return _untrusted(
                issuer_id,
                f"issuer {issuer_id} is not on the MRA trust list of "
                f"{self.authority} ({self.programme})",
            )
        mra = entry.mra
        specific = types - _BASE_TYPES
        if not specific & entry.accepted_types:
            return _untrusted(
                issuer_id,
                f"{issuer_id} ({entry.programme}) is recognised for "
                f"{', '.join(sorted(entry.accepted_types))}, not for "
                f"{', '.join(sorted(specific)) or 'an untyped credential'}",
                entry,
            )
        # the MRA's days are UTC days (as the recognition query reads them): the same instant
        # written with another offset must not move a day into or out of force
        today = now.astimezone(UTC).date()
        if today < mra.since:
            return _untrusted(
                issuer_id, f"{mra.name} takes effect on {mra.since.isoformat()}", entry
            )
        if mra.until is not None and today > mra.until:
            return _untrusted(issuer_id, f"{mra.name} ended on {mra.until.isoformat()}", entry)
        return None

    def _certified(
        self, entry: RecognisedIssuer, types: frozenset[str], stated: _Certification | None
    ) -> TrustDecision:
        """The certification rules (programme, tier, trade roles), then the trusted decision."""
        issuer_id, mra = entry.issuer, entry.mra
        tiers = mra.recognised_tiers
        if stated is None:
            if tiers is not None and AEO_CERTIFICATE_TYPE in types:
                return _unestablished(
                    issuer_id,
                    MalformedError(
                        f"{mra.name} recognises only some {entry.programme} tiers "
                        f"({', '.join(sorted(tiers))}) and this certificate states none",
                        pointer=_TIER,
                    ),
                    entry,
                )
        else:
            refused = _refuse_certification(entry, stated)
            if refused is not None:
                return refused
        return TrustDecision(
            trusted=True,
            issuer=issuer_id,
            reason=f"{entry.programme} issuer recognised under {mra.name} since "
            f"{mra.since.isoformat()}",
            programme=entry.programme,
            mra=mra,
            benefits=mra.benefits,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class _Certification:
    """What a credential states about its AEO certification (read through vcred.values).
    ``programme`` / ``roles`` None: not given (a caller of :meth:`TrustList.evaluate`)."""

    tier: str
    programme: str | None = None
    roles: frozenset[str] | None = None


def _read_certification(
    credential: Mapping[str, Any], types: frozenset[str]
) -> _Certification | None:
    """The certification the credential states, or None when it states none and is not an
    AEO certificate. Raises MalformedError (pointer to the value) for one that cannot be
    established: absent from an AEO certificate, unreadable, or several different values."""
    found = [
        certification
        for subject, where in values.nodes(credential.get("credentialSubject"), _S)
        for certification in values.nodes(subject.get("certification"), f"{where}/certification")
    ]
    if not found:
        if AEO_CERTIFICATE_TYPE in types:
            raise MalformedError("this AEO certificate states no certification", pointer=_CERT)
        return None
    roles: set[str] = set()
    programmes, tiers = [], []
    for node, where in found:
        programmes.append(_one_code(node, "programme", where))
        tiers.append(_one_code(node, "tier", where))
        stated = values.codes(node.get("tradeRoles"), f"{where}/tradeRoles")
        if not stated:
            raise MalformedError("no trade role is stated", pointer=f"{where}/tradeRoles")
        roles |= stated
    return _Certification(
        programme=_agreed(programmes, "programme"),
        tier=_agreed(tiers, "tier"),
        roles=frozenset(roles),
    )


def _agreed(found: list[tuple[str, str]], what: str) -> str:
    """The one value several certifications state; MalformedError where one differs."""
    first = found[0][0]
    for value, pointer in found[1:]:
        if value != first:
            raise MalformedError(
                f"several different values where one {what} is required: "
                f"{first[:40]!r}, {value[:40]!r}",
                pointer=pointer,
            )
    return first


def _one_code(node: Mapping[str, Any], name: str, where: str) -> tuple[str, str]:
    """(value, pointer) of a member that must state one code."""
    pointer = f"{where}/{name}"
    return values.one(values.codes(node.get(name), pointer), pointer, what=name), pointer


def _refuse_certification(entry: RecognisedIssuer, stated: _Certification) -> TrustDecision | None:
    """The decision when the stated certification is not one the MRA recognises, else None."""
    issuer_id, mra = entry.issuer, entry.mra
    if stated.programme is not None and stated.programme != entry.programme:
        return _untrusted(
            issuer_id,
            f"{issuer_id} is recognised as a {entry.programme} issuer; this credential "
            f"certifies {stated.programme}",
            entry,
        )
    programme = PROGRAMMES.get(entry.programme)
    if programme is None or stated.tier not in programme.tiers:
        return _untrusted(issuer_id, f"{stated.tier!r} is not a tier of {entry.programme}", entry)
    tiers = mra.recognised_tiers
    if tiers is not None and stated.tier not in tiers:
        return _untrusted(
            issuer_id,
            f"{entry.programme} tier {stated.tier} is not recognised under {mra.name} "
            f"(recognised: {', '.join(sorted(tiers))})",
            entry,
        )
    unknown = sorted((stated.roles or frozenset()) - TRADE_ROLES.keys())
    if unknown:
        return _untrusted(
            issuer_id,
            f"not a recognised trade role: {', '.join(repr(r[:40]) for r in unknown)} "
            f"(recognised: {', '.join(TRADE_ROLES)})",
            entry,
        )
    return None


def _refuse_keys(
    entry: RecognisedIssuer,
    issuer_id: str,
    signing_keys: Sequence[tuple[str, datetime | None]] | None,
    now: datetime,
) -> TrustDecision | None:
    """The decision when the issuer pins its keys and a signing key is not one of them, or
    signed outside its window; None when it pins none or every key is admitted."""
    if not entry.pinned_keys:
        return None
    if not signing_keys:
        return _untrusted(
            issuer_id,
            f"{issuer_id} signs only with pinned keys and the signing key was not given: "
            "it cannot be checked",
            entry,
        )
    for thumbprint, signed_at in signing_keys:
        at = _judged_at(signed_at, now)
        if not any(pinned.admits(thumbprint, at) for pinned in entry.pinned_keys):
            return _untrusted(
                issuer_id,
                f"the key {thumbprint} is not pinned for {issuer_id} on {_stamp(at)}",
                entry,
            )
    return None


def _judged_at(signed_at: datetime | None, now: datetime) -> datetime:
    """The moment a signing key is judged at against its pin's window: its signing time —
    but a signing time not yet come (a JWT ``iat`` nothing bounds), or none, is no moment the
    key signed at: it must not open a key's window early, so the key is judged at ``now``."""
    return signed_at if signed_at is not None and signed_at <= now else now


def _stamp(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _require_aware(now: datetime) -> None:
    if now.utcoffset() is None:
        raise UsageError("now must be a timezone-aware datetime")


def _untrusted(issuer: str, reason: str, entry: RecognisedIssuer | None = None) -> TrustDecision:
    return TrustDecision(
        trusted=False,
        issuer=issuer,
        reason=reason,
        programme=entry.programme if entry else None,
        mra=entry.mra if entry else None,
        code=UntrustedIssuerError.code,
    )


def _unestablished(
    issuer: str, error: MalformedError, entry: RecognisedIssuer | None = None
) -> TrustDecision:
    """Untrusted because a rule's input is not established: fail closed, say where."""
    return dataclasses.replace(
        _untrusted(issuer, f"trust cannot be established: {error.message}", entry),
        code=TrustInputError.code,
        pointer=error.pointer,
    )


def _issuer_id(issuer: Any) -> str:
    try:
        return values.identifier(issuer, "/issuer")
    except MalformedError:
        return ""


# -- building --------------------------------------------------------------------------------


def build_trust_list(
    recognised: Sequence[Mapping[str, Any]],
    *,
    issuer: str,
    programme: str,
    valid_from: datetime,
    valid_until: datetime,
    authority_name: str | None = None,
    authority_country: str | None = None,
    credential_id: str | None = None,
    allow_unverified: bool = False,
    sequence: int | None = None,
    next_update: datetime | None = None,
    replaces: tuple[int, str] | None = None,
) -> dict[str, Any]:
    """An unsigned ``MRATrustListCredential`` of the verifying agency ``issuer`` (its DID).

    ``programme`` is the verifying agency's own programme; ``authority_country`` is needed
    only when it spans several countries (EU AEO: the Member State of the agency). Each item
    of ``recognised``: ``issuer`` (DID), ``programme``, ``country``,
    ``acceptedCredentialTypes``, optional ``name`` and ``since`` / ``until`` (ISO dates that
    narrow the MRA's own dates, for an arrangement suspended or ending). The MRA is looked
    up in :data:`vcred.customs.programmes.MRAS`; one marked unverified needs
    ``allow_unverified=True``. An item may also give ``dids`` (further DIDs of the same
    issuer) and ``pinnedKeys`` (``jwkThumbprint``, ``notBefore``, optional ``notAfter``: the
    only keys trusted for it, each in its window).

    The lifecycle (docs/trust-fabric.md): ``sequence`` grows with each list published;
    ``next_update`` (between ``valid_from`` and ``valid_until``) is when the next list is
    due; ``replaces`` is (sequence number, digest) of the list this one replaces
    (:func:`vcred.trustfeed.list_digest`). Sign the result with :func:`vcred.issue`.

    Raises MalformedError (pointer into the trust list) for a bad entry, UsageError for an
    unknown programme.
    """
    own = PROGRAMMES.get(programme)
    if own is None:
        raise UsageError(f"unknown programme {programme!r}; known: {', '.join(PROGRAMMES)}")
    if authority_country is None:
        if len(own.countries) != 1:
            raise UsageError(f"{programme} spans several countries: pass authority_country")
        authority_country = next(iter(own.countries))
    elif authority_country not in own.countries:
        raise UsageError(f"{authority_country} does not run {programme}")
    authority = {
        "id": f.uri(issuer, "/issuer"),
        "name": authority_name or own.authority,
        "country": authority_country,
    }
    items = f.sequence(recognised, f"{_S}/recognisedIssuers")
    entries = [
        _entry(item, programme, f"{_S}/recognisedIssuers/{i}", allow_unverified)
        for i, item in enumerate(items)
    ]
    _one_entry_per_did(entries)
    subject: dict[str, Any] = {
        "type": "MRATrustList",
        "verifyingAuthority": authority,
        "programme": programme,
        "recognisedIssuers": entries,
    }
    subject.update(_lifecycle(sequence, next_update, replaces, valid_from, valid_until))
    return envelope(
        MRA_TRUST_LIST_TYPE,
        MRA_TRUST_LIST_SCHEMA,
        subject,
        issuer=issuer,
        valid_from=valid_from,
        valid_until=valid_until,
        credential_id=credential_id,
        credential_status=(),
    )


def _one_entry_per_did(entries: Sequence[Mapping[str, Any]]) -> None:
    """Every DID (an entry's ``id`` or one of its ``dids``) names one entry only: a DID two
    entries claim would be decided under whichever came first. Raises MalformedError."""
    seen: set[str] = set()
    for i, entry in enumerate(entries):
        where = f"{_S}/recognisedIssuers/{i}"
        named = [(entry["id"], f"{where}/id")]
        named += [(did, f"{where}/dids/{j}") for j, did in enumerate(entry.get("dids", ()))]
        for did, pointer in named:
            if did in seen:
                raise MalformedError(
                    "an issuer may appear only once on a trust list (by its id or its dids)",
                    pointer=pointer,
                )
            seen.add(did)


def _lifecycle(
    sequence: int | None,
    next_update: datetime | None,
    replaces: tuple[int, str] | None,
    valid_from: datetime,
    valid_until: datetime,
) -> dict[str, Any]:
    """The lifecycle members of a trust list. Raises MalformedError."""
    out: dict[str, Any] = {}
    if sequence is None:
        if next_update is not None or replaces is not None:
            raise MalformedError(
                "a list with a next update or a predecessor needs a sequence number",
                pointer=f"{_S}/sequenceNumber",
            )
        return out
    if isinstance(sequence, bool) or not isinstance(sequence, int) or sequence < 1:
        raise MalformedError(
            "the sequence number is a positive integer", pointer=f"{_S}/sequenceNumber"
        )
    out["sequenceNumber"] = sequence
    if next_update is not None:
        if not valid_from < next_update <= valid_until:
            raise MalformedError(
                "nextUpdate must fall after validFrom and no later than validUntil",
                pointer=f"{_S}/nextUpdate",
            )
        out["nextUpdate"] = f.date_time_stamp(next_update, f"{_S}/nextUpdate")
    if replaces is not None:
        previous, digest = replaces
        if not isinstance(previous, int) or not 1 <= previous < sequence:
            raise MalformedError(
                f"the replaced list's sequence number must be below {sequence}",
                pointer=f"{_S}/replaces/sequenceNumber",
            )
        if not isinstance(digest, str) or not _DIGEST.fullmatch(digest):
            raise MalformedError(
                "the replaced list's digest is sha256-<base64 of 32 bytes>",
                pointer=f"{_S}/replaces/digest",
            )
        out["replaces"] = {"sequenceNumber": previous, "digest": digest}
    return out


def _pinned_keys(value: Any, p: str) -> list[dict[str, str]]:
    keys = f.sequence(value, p, min_items=1)
    out: list[dict[str, str]] = []
    for i, item in enumerate(keys):
        where = f"{p}/{i}"
        d = f.mapping(item, where)
        f.no_extra(d, {"jwkThumbprint", "notBefore", "notAfter"}, where)
        thumbprint = f.required(d, "jwkThumbprint", where)
        if not isinstance(thumbprint, str) or not _THUMBPRINT.fullmatch(thumbprint):
            raise MalformedError(
                "a JWK thumbprint (RFC 7638) is 43 base64url characters",
                pointer=f"{where}/jwkThumbprint",
            )
        pinned = {"jwkThumbprint": thumbprint}
        if "notBefore" not in d:
            raise MalformedError("notBefore is required", pointer=f"{where}/notBefore")
        start = _parse_stamp(d["notBefore"], f"{where}/notBefore")
        pinned["notBefore"] = f.date_time_stamp(start, f"{where}/notBefore")
        if d.get("notAfter") is not None:
            end = _parse_stamp(d["notAfter"], f"{where}/notAfter")
            if end < start:
                raise MalformedError("notAfter is before notBefore", pointer=f"{where}/notAfter")
            pinned["notAfter"] = f.date_time_stamp(end, f"{where}/notAfter")
        out.append(pinned)
    return out


def _parse_stamp(value: Any, pointer: str) -> datetime:
    # the one dateTimeStamp reader: an offset beyond ±14:00 is none (Python reads up to 24 h)
    moment = value if isinstance(value, datetime) else model.parse_datetime(value, pointer=pointer)
    if moment.utcoffset() is None:
        raise MalformedError("a time needs its time zone", pointer=pointer)
    return moment


def _entry(item: Any, own: str, p: str, allow_unverified: bool) -> dict[str, Any]:
    d = f.mapping(item, p)
    f.no_extra(
        d,
        {
            "issuer",
            "name",
            "country",
            "programme",
            "acceptedCredentialTypes",
            "since",
            "until",
            "dids",
            "pinnedKeys",
        },
        p,
    )
    issuer = f.uri(f.required(d, "issuer", p), f"{p}/id")
    code = f.one_of(f.required(d, "programme", p), PROGRAMMES, f"{p}/programme", "AEO programme")
    country = f.country(f.required(d, "country", p), f"{p}/country")
    if country not in PROGRAMMES[code].countries:
        raise MalformedError(f"{code} is not run in {country}", pointer=f"{p}/country")
    mra = mra_between(own, code)
    if mra is None:
        raise MalformedError(
            f"there is no mutual recognition arrangement between {own} and {code}",
            pointer=f"{p}/programme",
        )
    if not mra.verified and not allow_unverified:
        raise MalformedError(
            f"{mra.name} is not confirmed by a source ({mra.note or 'unconfirmed'}); pass "
            "allow_unverified=True to list it anyway",
            pointer=f"{p}/programme",
        )
    types = f.sequence(
        f.required(d, "acceptedCredentialTypes", p), f"{p}/acceptedCredentialTypes", min_items=1
    )
    accepted = [f.text(t, f"{p}/acceptedCredentialTypes/{i}") for i, t in enumerate(types)]
    entry: dict[str, Any] = {"id": issuer, "type": "RecognisedIssuer"}
    if d.get("name") is not None:
        entry["name"] = f.text(d["name"], f"{p}/name")
    entry.update(
        {
            "country": country,
            "programme": code,
            "acceptedCredentialTypes": accepted,
            "mutualRecognition": _arrangement(mra, code, d, f"{p}/mutualRecognition"),
        }
    )
    if d.get("dids") is not None:
        dids = f.sequence(d["dids"], f"{p}/dids", min_items=1)
        entry["dids"] = [f.uri(did, f"{p}/dids/{i}") for i, did in enumerate(dids)]
    if d.get("pinnedKeys") is not None:
        entry["pinnedKeys"] = _pinned_keys(d["pinnedKeys"], f"{p}/pinnedKeys")
    return entry


def _arrangement(
    mra: MutualRecognition, foreign: str, d: Mapping[str, Any], p: str
) -> dict[str, Any]:
    since = mra.since
    until = mra.until
    if d.get("since") is not None:
        given = date.fromisoformat(f.iso_date(d["since"], f"{p}/since"))
        since = given if since is None else max(since, given)
    if since is None:
        raise MalformedError(
            f"no source gives the day {mra.name} took effect: state it as 'since'",
            pointer=f"{p}/since",
        )
    if d.get("until") is not None:
        narrowed = date.fromisoformat(f.iso_date(d["until"], f"{p}/until"))
        until = narrowed if until is None else min(until, narrowed)
    if until is not None and until < since:
        raise MalformedError("the arrangement would end before it begins", pointer=f"{p}/until")
    out: dict[str, Any] = {
        "id": mra.id,
        "type": "MutualRecognitionArrangement",
        "name": mra.name,
        "programmes": list(mra.programmes),
        "since": since.isoformat(),
    }
    if until is not None:
        out["until"] = until.isoformat()
    tiers = mra.recognised_tiers.get(foreign)
    if tiers is not None:
        out["recognisedTiers"] = sorted(tiers)
    out["benefits"] = list(mra.benefits)
    out["source"] = mra.source
    return out


# -- loading ---------------------------------------------------------------------------------


def load_trust_list(
    source: Mapping[str, Any] | str | Path,
    *,
    now: datetime,
    expected_issuer: str | None = None,
) -> TrustList:
    """A :class:`TrustList` from an already-verified trust list credential (a dict or a file).

    Checks its type, schema (:func:`vcred.schema.check_schema`), validity period at ``now``,
    that it states until when it holds (``validUntil`` or ``nextUpdate``: MalformedError
    without either) and, when given, that ``expected_issuer`` signed it. The proof is NOT
    checked here: use :func:`load_signed_trust_list` for a secured list.

    Raises MalformedError / SchemaMismatchError, ExpiredError / NotYetValidError,
    UntrustedIssuerError (issued by someone else).
    """
    credential = _read(source) if isinstance(source, str | Path) else source
    if not isinstance(credential, Mapping):
        raise MalformedError("a trust list is a JSON object (a credential)")
    types = credential.get("type")
    if not isinstance(types, list) or MRA_TRUST_LIST_TYPE not in types:
        raise MalformedError(f"not an {MRA_TRUST_LIST_TYPE}", pointer="/type")
    check_schema(credential)
    issuer = _issuer_id(credential.get("issuer"))
    if expected_issuer is not None and issuer != expected_issuer:
        raise UntrustedIssuerError(
            f"the trust list is issued by {issuer}, not by {expected_issuer}", pointer="/issuer"
        )
    valid_from = _timestamp(credential.get("validFrom"), "/validFrom")
    valid_until = _timestamp(credential.get("validUntil"), "/validUntil")
    if valid_from is not None and now < valid_from:
        raise NotYetValidError(
            f"the trust list is valid from {credential['validFrom']}", pointer="/validFrom"
        )
    if valid_until is not None and now >= valid_until:
        raise ExpiredError(
            f"the trust list expired at {credential['validUntil']}", pointer="/validUntil"
        )
    loaded = _parse(credential, issuer, valid_from, valid_until)
    if loaded.valid_until is None and loaded.next_update is None:
        # fail closed: a list that says until when it holds neither by an end nor by a next
        # update would decide forever (a replayed old list, an agency that stopped publishing)
        raise MalformedError(
            "a trust list states until when it holds: validUntil, or a nextUpdate",
            pointer="/validUntil",
        )
    return loaded


def load_signed_trust_list(
    secured: Any,
    *,
    now: datetime,
    anchor: TrustAnchor | str | None = None,
    expected_issuer: str | None = None,
    verifier: Verifier | None = None,
) -> TrustList:
    """Verify a secured trust list (any format :func:`vcred.verify` takes), then load it.

    ``anchor``: who may sign the list — a :class:`TrustAnchor`, or a DID (its trust-list
    key role); ``expected_issuer`` is the same as ``anchor=DID``. A list whose proof does not
    verify, that its agency revoked (the status a list states is checked through
    ``verifier``'s fetcher; without one it cannot be, and the list is refused), that another
    DID issued, or that the anchor's DID signed with a key other than
    its trust-list key (an ordinary issuing key) is refused. ``verifier``: a configured
    :class:`vcred.Verifier` (for did:web resolution); by default one with no network access.

    Raises the error verification found (CryptographicError, UnknownKeyError,
    ResolutionError, MalformedError …), UntrustedIssuerError (another issuer),
    TrustAnchorError (not the anchor's trust-list key), then as :func:`load_trust_list`;
    UsageError without an anchor.
    """
    pinned = _anchor(anchor, expected_issuer)
    chosen = (
        verifier if verifier is not None else Verifier(clock=lambda: now, checks=_TRUST_LIST_CHECKS)
    )
    result = chosen.verify(secured)
    if verifier is not None:
        # A caller's verifier keeps its own clock and checks; insist on the proof anyway.
        proof = result.check("proof")
        if proof is None or proof.passed is None:
            raise UsageError("the verifier given must run the proof check")
    if not result.verified or result.credential is None:
        if not result.errors:
            raise MalformedError("trust list refused: not verified")
        raise result.errors[0].as_error("trust list refused")
    status = result.check("status")
    if "credentialStatus" in result.credential and (status is None or status.passed is not True):
        # a list its agency may have revoked is not loaded on a verifier's word that did not
        # look: the status it states must have been checked
        raise StatusUnavailableError(
            "trust list refused: it states a credentialStatus the verifier did not check",
            pointer="/credentialStatus",
        )
    issuer = _issuer_id(result.credential.get("issuer"))
    if issuer != pinned.did:
        raise UntrustedIssuerError(
            f"the trust list is issued by {issuer}, not by {pinned.did}", pointer="/issuer"
        )
    if not pinned.admits(result.method):
        raise TrustAnchorError(
            f"the trust list is signed with {result.method or 'an unnamed key'}, not with "
            f"{pinned.describe()}: an issuing key does not sign trust lists",
            pointer="/proof",
        )
    loaded = load_trust_list(result.credential, now=now, expected_issuer=pinned.did)
    if isinstance(secured, str | bytes):
        loaded = dataclasses.replace(loaded, digest=list_digest(secured))
    return loaded


def list_digest(secured: str | bytes) -> str:
    """The digest that names a secured trust list in its successor's ``replaces``: SHA-256
    of its bytes as published (a compact JWS as ASCII), written as an SRI string."""
    data = secured.encode("utf-8") if isinstance(secured, str) else secured
    return "sha256-" + base64.b64encode(hashlib.sha256(data).digest()).decode("ascii")


def _anchor(anchor: TrustAnchor | str | None, expected_issuer: str | None) -> TrustAnchor:
    if anchor is not None and expected_issuer is not None:
        raise UsageError("give anchor or expected_issuer, not both")
    chosen = anchor if anchor is not None else expected_issuer
    if chosen is None:
        raise UsageError("a signed trust list is loaded only under a trust anchor: pass anchor")
    return chosen if isinstance(chosen, TrustAnchor) else TrustAnchor(did=chosen)


def _read(path: str | Path) -> Any:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:  # a FileNotFoundError came out before
        raise MalformedError(f"cannot read the trust list {path}: {exc}") from exc
    return loads_local(text, what=str(path))


def _timestamp(value: Any, pointer: str) -> datetime | None:
    """A schema-checked dateTimeStamp (None when absent). Raises MalformedError for one the
    schema lets through that is no moment (a leap second, 23:59:60)."""
    if not isinstance(value, str):
        return None
    return _parse_stamp(value, pointer)


def _parse(
    credential: Mapping[str, Any],
    issuer: str,
    valid_from: datetime | None,
    valid_until: datetime | None,
) -> TrustList:
    # The schema check has passed: the shapes below are known to hold.
    subject = credential["credentialSubject"]
    _one_entry_per_did(subject["recognisedIssuers"])
    authority = subject["verifyingAuthority"]
    entries = []
    for item in subject["recognisedIssuers"]:
        arrangement = item["mutualRecognition"]
        tiers = arrangement.get("recognisedTiers")
        entries.append(
            RecognisedIssuer(
                issuer=item["id"],
                name=item.get("name"),
                country=item["country"],
                programme=item["programme"],
                accepted_types=frozenset(item["acceptedCredentialTypes"]),
                dids=frozenset(item.get("dids", ())),
                pinned_keys=tuple(
                    PinnedKey(
                        thumbprint=key["jwkThumbprint"],
                        not_before=_parse_stamp(key["notBefore"], "/notBefore"),
                        not_after=_parse_stamp(key["notAfter"], "/notAfter")
                        if "notAfter" in key
                        else None,
                    )
                    for key in item.get("pinnedKeys", ())
                ),
                mra=TrustedArrangement(
                    id=arrangement["id"],
                    name=arrangement["name"],
                    programmes=(arrangement["programmes"][0], arrangement["programmes"][1]),
                    since=date.fromisoformat(arrangement["since"]),
                    until=date.fromisoformat(arrangement["until"])
                    if "until" in arrangement
                    else None,
                    recognised_tiers=frozenset(tiers) if tiers is not None else None,
                    benefits=tuple(arrangement["benefits"]),
                    source=arrangement.get("source", ""),
                ),
            )
        )
    replaces = subject.get("replaces")
    return TrustList(
        id=credential.get("id"),
        issuer=issuer,
        authority=authority["name"],
        country=authority["country"],
        programme=subject["programme"],
        entries=tuple(entries),
        valid_from=valid_from,
        valid_until=valid_until,
        sequence=subject.get("sequenceNumber"),
        next_update=_timestamp(subject.get("nextUpdate"), f"{_S}/nextUpdate"),
        replaces=(replaces["sequenceNumber"], replaces["digest"]) if replaces else None,
    )
