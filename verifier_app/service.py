"""The verifier service behind the views: one per app, living as long as it does.

It owns what must outlive a request — the guarded fetcher, the DID resolver and the status
list cache (so did:web documents and status lists are fetched once per TTL, not per
request), the MRA trust list, the challenge and history storage — and turns requests into
library calls: :meth:`VerifierService.verify_credential`,
:meth:`VerifierService.verify_presentation`, :meth:`VerifierService.issue_challenge`.
Views only read the request and write the answer.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import re
import secrets
import socket
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Final

from sqlalchemy.exc import SQLAlchemyError

from vcred.customs.registry_schema import schema_registry
from vcred.did.document import split_did_url
from vcred.did.resolver import Resolver
from vcred.errors import (
    ChallengeError,
    DomainError,
    MalformedError,
    ParsingError,
    UnreachableError,
    UntrustedIssuerError,
    UsageError,
    VcredError,
)
from vcred.model import as_list
from vcred.net import DEFAULT_MAX_BYTES, Fetcher, GuardedFetcher
from vcred.status import StatusListCache
from vcred.status.listcred import format_datetime
from vcred.trust import TrustList, load_signed_trust_list
from vcred.trustfeed import RefreshReport, TrustListFeed
from vcred.verifier import (
    CHECKS,
    Check,
    PresentationResult,
    Problem,
    TrustPolicy,
    VerificationResult,
    Verifier,
    with_prerequisites,
)
from vcred_service.claims import subject_name, summarise
from vcred_service.contexts import load_context_folder
from vcred_service.officers import OfficerAccounts, OfficerSessions
from verifier_app.as_of import NoTrustListInForce
from verifier_app.config import VerifierConfig
from verifier_app.receipts import (
    ReceiptIssuer,
    ReceiptsNotConfiguredError,
    input_digest,
    new_receipt_id,
    receipt_not_signed,
)
from verifier_app.recognitions import Recognition, certificate_digest
from verifier_app.recognitions import RefreshReport as RecognitionRefresh
from verifier_app.results import credential_body, presentation_body
from verifier_app.storage import (
    CLOSE_WAIT_SECONDS,
    HISTORY_SPOOL,
    HistoryEntry,
    IssuedChallenge,
    Storage,
)
from verifier_app.trust_history import KeptTrustList

_log = logging.getLogger("verifier_app")
#: Where the app keeps its per-address rate limiter (``app.extensions``), if it has one.
LIMITER: Final = "vcred_verifier_limiter"

#: How long a recognition refresher's lease lasts unless renewed (a round renews it as it
#: goes): a process that dies holding it keeps the others from refreshing at most this long.
REFRESH_LEASE: Final = timedelta(seconds=30)

#: Always run: nothing is read from a credential whose proof did not verify. The others run
#: only when asked for (and what they rest on: ``trust`` runs ``issuer``).
ALWAYS_CHECKED: Final = ("proof",)
#: VC API check names other implementations send, in our names.
CHECK_ALIASES: Final = {
    "credentialStatus": "status",
    "revocation": "status",
    "expiration": "validity",
    "credentialSchema": "schema",
}
_B64URL: Final = r"[A-Za-z0-9_-]"
_JWS: Final = rf"{_B64URL}+\.{_B64URL}*\.{_B64URL}*"
#: The strings a VC API request may carry where a secured document goes: a compact JWS
#: (vc+jwt, vp+jwt; RFC 7515 §7.1, an empty payload or signature is still that shape, for the
#: proof stage to refuse), an SD-JWT (RFC 9901 §4: JWS~disclosures~, or ~KB-JWT at the end),
#: or one unpadded base64url token (a vc+cose / vp+cose COSE_Sign1 read as text).
COMPACT_SECURED: Final = re.compile(rf"{_JWS}(?:(?:~{_B64URL}+)*~(?:{_JWS})?)?|{_B64URL}+")
#: ``bytes.translate`` deletes these: what is left of a plain compact JWS is its two dots.
_B64URL_BYTES: Final = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
#: Marks the challenges this verifier issues: one of ours is never taken for a caller's own,
#: even once the store has pruned it (expired challenges are forgotten after a while).
OWN_CHALLENGE_PREFIX: Final = "vcred."
_CALLER_CHALLENGE_WARNING: Final = Problem(
    code="CHALLENGE_NOT_TRACKED",
    message="the challenge was supplied by the caller, not issued here: this verifier does "
    "not stop its reuse (the caller's challenge store must)",
    path="/options/challenge",
)
_CHALLENGE_REASONS: Final = {
    "unknown": "the challenge was not issued by this verifier (POST /challenges)",
    "used": "the challenge has already been used",
    "expired": "the challenge has expired",
}


class UnknownCheckError(UsageError):
    """``options.checks`` names a check this verifier cannot run (answered 422)."""

    code = "UNKNOWN_CHECK"
    title = "Unknown check requested"
    http_status = 422


@dataclass(frozen=True, slots=True, kw_only=True)
class Outcome:
    """A verification answered: the JSON body and what the history records."""

    body: dict[str, Any]
    verified: bool

    @property
    def http_status(self) -> int:
        return 200 if self.verified else 400


class _OfflineFetcher:
    """Offline mode: every fetch fails as if the network were down (caches answer instead)."""

    def fetch(self, url: str, *, accept: str, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
        raise UnreachableError(f"offline mode: {url} is not fetched")


def _succeeds(kept: KeptTrustList, held: TrustList) -> bool:
    """Whether the kept list is newer than the one held: a higher sequence number or, where
    neither states one, a later ``validFrom`` (the feed's succession rules decide the rest)."""
    if kept.sequence is not None:
        return held.sequence is None or kept.sequence > held.sequence
    if held.sequence is not None or kept.valid_from is None:
        return False
    return held.valid_from is None or kept.valid_from > held.valid_from


def secured_input(value: Any, pointer: str) -> Any:
    """``value`` where the VC API takes a secured document: a JSON object (a secured document,
    or an Enveloped* object for JOSE / SD-JWT), or — our extension — a bare compact JWS or
    SD-JWT. Raises MalformedError for anything else.

    A string holding JSON is not a credential but a client's encoding mistake: PARSING_ERROR.
    """
    if isinstance(value, str):
        if not is_compact_secured(value.strip()):
            member = pointer.rsplit("/", 1)[-1]
            raise ParsingError(
                f"{member} must be a JSON object (or a compact JWS / SD-JWT), not a string "
                "holding other text",
                pointer=pointer,
            )
    elif not isinstance(value, dict):
        member = pointer.rsplit("/", 1)[-1]
        raise MalformedError(
            f"{member} must be a JSON object or a compact JWS / SD-JWT string", pointer=pointer
        )
    return value


def is_compact_secured(text: str) -> bool:
    """Whether ``text`` has the form :data:`COMPACT_SECURED` matches in full.

    The common case, a compact JWS (vc+jwt), is told without the expression: base64url and
    exactly two dots, the first part not empty: one C pass deleting the alphabet, where the
    expression matched a 1.8 kB token one character at a time (39k instructions, about 2.7 µs).
    Anything else is matched.
    """
    if text.isascii() and text[:1] != "." and text.encode().translate(None, _B64URL_BYTES) == b"..":
        return True
    return COMPACT_SECURED.fullmatch(text) is not None


def challenge_is_ours(challenge: str | None) -> bool:
    """Whether ``challenge`` has the form of the ones this verifier issues."""
    return challenge is not None and challenge.startswith(OWN_CHALLENGE_PREFIX)


def requested_checks(raw: Any) -> tuple[str, ...]:
    """The checks to run for ``options.checks`` (None: all). Raises UnknownCheckError."""
    if raw is None:
        return CHECKS
    if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
        raise MalformedError(
            "options.checks must be an array of strings", pointer="/options/checks"
        )
    names = {CHECK_ALIASES.get(item) or item for item in raw if isinstance(item, str)}
    unknown = sorted(names - set(CHECKS))
    if unknown:
        raise UnknownCheckError(
            f"unknown checks {', '.join(unknown)}; this verifier runs {', '.join(CHECKS)}",
            pointer="/options/checks",
        )
    return with_prerequisites([*names, *ALWAYS_CHECKED])


class VerifierService:
    """Everything one verifier app shares across requests and threads."""

    def __init__(self, config: VerifierConfig, *, fetcher: Fetcher | None = None) -> None:
        self.config = config
        self.fetcher: Fetcher = fetcher or GuardedFetcher(
            host_map=dict(config.host_map), allow_private=config.dev
        )
        network: Fetcher = _OfflineFetcher() if config.offline else self.fetcher
        self.resolver = Resolver(
            fetcher=network,
            web_ttl=config.did_cache_ttl.total_seconds(),
            max_stale=config.max_stale.total_seconds(),
            # the configured clock, so that cache ages agree with the rest of the result
            clock=lambda: config.clock().timestamp(),
        )
        config.data_dir.mkdir(parents=True, exist_ok=True)
        # first: every trust list accepted below is kept (verifier_app.trust_history), and the
        # status cache's floor against rollback is shared by every worker
        self.storage = Storage(
            config.storage_url,
            prefix=config.table_prefix,
            history_size=config.history_size,
            spool=config.data_dir / HISTORY_SPOOL,
        )
        try:
            self.storage.create()
            self._set_up(config, network)
        except BaseException:
            # a service that does not start (no acceptable trust list: fail closed) leaves
            # nothing open: its database connections, its history spool
            self.storage.close()
            raise

    def _set_up(self, config: VerifierConfig, network: Fetcher) -> None:
        """Everything the service holds beside its storage."""
        # lists past their TTL stay held: with the network down they still answer (as stale)
        self.status_cache = StatusListCache(
            default_ttl=config.status_cache_ttl, versions=self.storage.status_versions
        )
        base = Verifier(
            fetcher=network,
            resolver=self.resolver,
            status_cache=self.status_cache,
            offline=config.offline,
            status_max_age=config.status_max_age,
            clock=config.clock,
            max_presented_credentials=config.max_presented_credentials,
            contexts=load_context_folder(config.contexts_dir) if config.contexts_dir else None,
            allow_inline_contexts=config.allow_inline_contexts,
            time_budget=config.time_budget,
            bearer_types=config.bearer_types,
            # the AEO certificate schema completed with the programmes of the registry in use
            schemas=schema_registry(),
        )
        self.feed = self._trust_feed(base)
        self.trust = self._load_trust(base) if self.feed is None else self._first_list()
        self.receipts = (
            ReceiptIssuer.load(config.receipt_key, did=config.receipt_issuer)
            if config.receipt_key is not None
            else None
        )
        self._verifier = dataclasses.replace(base, trust=self.trust)
        # the refresher's name in the lease table: this process
        self._holder = f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(4)}"
        self._stopping = threading.Event()
        self._refresher: threading.Thread | None = None
        self.officers = OfficerAccounts(self.storage.engine, self.storage.officers)
        self.sessions = OfficerSessions(
            self.storage.engine,
            self.storage.sessions,
            idle=config.session_idle_timeout,
            lifetime=config.session_lifetime,
            clock=config.clock,
        )

    # -- set-up ----------------------------------------------------------------------------

    def _load_trust(self, verifier: Verifier) -> TrustList | None:
        """The signed trust list of the configuration, verified. Raises VcredError."""
        path, anchor = self.config.trust_list, self.config.trust_anchor()
        if path is None or anchor is None:  # the configuration has both or neither
            return None
        try:
            # as the feed reads a fetched list (and `trust-list build --previous` its file):
            # without the final newline, which would change its digest (``replaces``)
            text = Path(path).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise MalformedError(f"cannot read the trust list {path}: {exc}") from exc
        loaded = load_signed_trust_list(
            text, now=self.config.clock(), anchor=anchor, verifier=_list_verifier(verifier)
        )
        # a file is not refreshed: past its nextUpdate and the grace it decides nothing
        loaded = dataclasses.replace(loaded, grace=self.config.trust_grace)
        self._keep_trust_list(loaded, text)
        return loaded

    def _keep_trust_list(self, trust_list: TrustList, secured: str) -> None:
        """Keep an accepted list for verifying as of a later past moment."""
        self.storage.trust_lists.keep(trust_list, secured, accepted_at=self.config.clock())

    def _trust_feed(self, verifier: Verifier) -> TrustListFeed | None:
        """The feed of the trust list's URLs (None without them)."""
        anchor = self.config.trust_anchor()
        if not self.config.trust_list_urls or anchor is None:
            return None
        return TrustListFeed(
            anchor=anchor,
            urls=self.config.trust_list_urls,
            # the SSRF-guarded fetcher, never the offline one: a list is fetched to be current
            fetcher=self.fetcher,
            verifier=_list_verifier(verifier),
            grace=self.config.trust_grace,
            refresh_before=self.config.trust_refresh_before,
            clock=self.config.clock,
            on_accept=self._keep_trust_list,
        )

    def _first_list(self) -> TrustList:
        """The list fetched at start, never one older than the newest kept (accepted by an
        earlier run or another process: held again first, it stays when the URLs answer
        nothing newer). Without any the service does not start (fail closed). Raises
        UntrustedIssuerError naming what each URL answered."""
        feed = self.feed
        if feed is None:
            raise UsageError("no trust list URL configured")
        # the newest list an earlier run (or another process) accepted: nothing older follows
        kept = self.storage.trust_lists.newest()
        if kept is not None:
            try:
                feed.resume(kept.secured, accepted_at=kept.accepted_at)
            except VcredError as error:  # another anchor configured since, a key removed
                _log.warning("the trust list kept (%s) is not resumed: %s", kept.digest, error)
                if kept.sequence is not None:  # what it had replaced stays replaced
                    feed.hold_floor(kept.sequence, kept.digest)
        report = feed.refresh(force=True)
        if feed.current is None:
            raise UntrustedIssuerError(
                "no acceptable trust list at " + "; ".join(report.errors or feed.urls)
            )
        return feed.current

    @property
    def verifier(self) -> Verifier:
        """The verifier of this moment: with the trust list the feed holds, refreshed first
        when it is due (a rotated key or a new partner is picked up without a restart)."""
        if self.feed is not None:
            if self.feed.due():
                self._catch_up(self.feed)
                report = self.feed.refresh()
                for error in report.errors:
                    _log.warning("trust list refresh: %s", error)
            current = self.feed.current
            if current is not None and current is not self._verifier.trust:
                self._verifier = dataclasses.replace(self._verifier, trust=current)
                self.trust = current
        return self._verifier

    @property
    def trust_held(self) -> TrustList | None:
        """The trust list held now, refreshed first when due (as :attr:`verifier`)."""
        self.verifier  # noqa: B018 - swaps a refreshed list in
        return self.trust

    def refresh_trust(self) -> RefreshReport:
        """Fetch the trust list now (the admin endpoint). Raises UsageError without URLs."""
        if self.feed is None:
            raise UsageError("this verifier has no trust list URL to refresh from")
        self._catch_up(self.feed)
        report = self.feed.refresh(force=True)
        self.verifier  # noqa: B018 - swaps the list in
        return report

    def _catch_up(self, feed: TrustListFeed) -> None:
        """Hold the newest list another worker (or machine) accepted, kept in the database,
        when it succeeds the one held: a worker whose URLs answer an older list (a stale
        mirror, an attacker in its path) does not go on deciding under a list another has
        seen replaced. A kept list that no longer verifies, or a database that cannot be
        read, leaves the list held (the URLs are asked next)."""
        held = feed.current
        try:
            kept = self.storage.trust_lists.newest()
        except SQLAlchemyError as error:
            _log.warning("the trust lists kept cannot be read: %s", type(error).__name__)
            return
        if held is None or kept is None or not _succeeds(kept, held):
            return
        try:
            feed.accept(kept.secured, source="the trust lists kept")
        except VcredError as error:
            _log.warning("the trust list kept (%s) is not held: %s", kept.digest, error)

    @property
    def service_name(self) -> str:
        if self.config.service_name:
            return self.config.service_name
        if self.trust is not None:
            return f"{self.trust.authority} — credential verifier"
        return "vcred credential verifier"

    def issuer_name(self, issuer: str) -> str | None:
        """The agency name the trust list records for ``issuer`` (None when not listed)."""
        entry = self.trust.recognised(issuer) if self.trust is not None else None
        return entry.name if entry is not None else None

    def trust_summary(self) -> dict[str, Any] | None:
        trust = self.trust
        if trust is None:
            return None
        return {
            "id": trust.id,
            "authority": trust.authority,
            "country": trust.country,
            "programme": trust.programme,
            "issuer": trust.issuer,
            "validUntil": trust.valid_until.isoformat() if trust.valid_until else None,
            "sequenceNumber": trust.sequence,
            "nextUpdate": trust.next_update.isoformat() if trust.next_update else None,
            "recognisedIssuers": len(trust.entries),
        }

    def add_officer(self, name: str, password: str) -> None:
        """Create an officer account (``vcred verifier officer add``). Raises UsageError."""
        self.officers.add(
            name=name, password=password, created=format_datetime(self.config.clock())
        )

    def close(self) -> None:
        """Stop the refresher — a round under way ended first (up to CLOSE_WAIT_SECONDS):
        closed under it, its pooled connection would be left to the garbage collector — and
        close the storage."""
        self._stopping.set()
        refresher = self._refresher
        if refresher is not None and refresher is not threading.current_thread():
            refresher.join(CLOSE_WAIT_SECONDS)
        self.storage.close()

    # -- verifying -------------------------------------------------------------------------

    def verify_credential(
        self,
        credential: Any,
        *,
        checks: Sequence[str] = CHECKS,
        channel: str = "api",
        receipt: bool = False,
        at: datetime | None = None,
    ) -> Outcome:
        """Verify one credential in any format; never raises for a bad credential.

        ``receipt``: also answer with a signed receipt of the decision (raises
        ReceiptsNotConfiguredError without a receipt key, before verifying). ``at``: verify
        as of that past moment (:mod:`verifier_app.as_of`).
        """
        if not isinstance(credential, dict | str):
            raise MalformedError(
                "verifiableCredential must be a JSON object or a compact JWS / SD-JWT string",
                pointer="/verifiableCredential",
            )
        if receipt:
            self.require_receipts()
        verifier = self.verifier_at(at)
        result = verifier.verify(credential, checks=checks)
        return self.answer_credential(
            result,
            channel=channel,
            secured=credential,
            receipt=receipt,
            at=at,
            trust=verifier.trust,
            checks=checks,
        )

    def verifier_at(self, at: datetime | None) -> Verifier:
        """The verifier, or one judging as of ``at`` under the trust list in force then
        (sharing the caches: an as-of status list is held under its own URL)."""
        current = self.verifier
        if at is None:
            return current
        trust = current.trust if self.trust is None else self.trust_at(at)
        return dataclasses.replace(current, at=at, trust=trust)

    def trust_at(self, at: datetime) -> TrustList | NoTrustListInForce:
        """The trust list in force at ``at`` (:mod:`verifier_app.trust_history`), re-loaded
        from its kept text and verified as of ``at``; a policy trusting no one when none was
        or it no longer verifies (fail closed)."""
        grace = self.config.trust_grace
        kept = self.storage.trust_lists.in_force(at, grace=grace)
        anchor = self.config.trust_anchor()
        if kept is None or anchor is None:
            return NoTrustListInForce(at)
        as_of = dataclasses.replace(_list_verifier(self._verifier), at=at, trust=None)
        try:
            loaded = load_signed_trust_list(kept.secured, now=at, anchor=anchor, verifier=as_of)
        except VcredError as error:
            _log.warning("the trust list in force at %s does not load: %s", at, error)
            return NoTrustListInForce(at)
        return dataclasses.replace(loaded, grace=grace)

    def require_receipts(self) -> ReceiptIssuer:
        """The receipt issuer; raises ReceiptsNotConfiguredError when there is none."""
        if self.receipts is None:
            raise ReceiptsNotConfiguredError(
                "this verifier gives no receipts (it has no receipt key)",
                pointer="/options/receipt",
            )
        return self.receipts

    def answer_credential(
        self,
        result: VerificationResult,
        *,
        channel: str = "api",
        secured: Any = None,
        receipt: bool = False,
        at: datetime | None = None,
        trust: TrustPolicy | None = None,
        checks: Sequence[str] = CHECKS,
    ) -> Outcome:
        """A credential's verification as answered and recorded (:meth:`answer_credentials`
        of one)."""
        return self.answer_credentials(
            [(result, secured)], channel=channel, receipt=receipt, at=at, trust=trust, checks=checks
        )[0]

    def answer_credentials(
        self,
        verified: Sequence[tuple[VerificationResult, Any]],
        *,
        channel: str = "api",
        receipt: bool = False,
        at: datetime | None = None,
        trust: TrustPolicy | None = None,
        checks: Sequence[str] = CHECKS,
    ) -> list[Outcome]:
        """Credentials' verifications (each a result and what was verified, as sent: the
        audit chain keeps its digest) as answered and recorded, in order.

        ``receipt``: recorded at once, each answered with a signed receipt naming its record;
        the records and the receipts are one transaction, so a receipt that cannot be signed
        (its key unavailable) leaves none of them recorded and raises the 503 problem
        ``RECEIPT_NOT_SIGNED``. ``at``: the past moment they were verified as of; ``trust``:
        the trust policy they were verified under (a receipt names it when it is a trust list;
        default: the current — which the feed may have replaced since the verification: pass
        it). ``checks``: those asked for; the audit chain names them when they are not all (a
        verdict on fewer).
        """
        decided_under = trust if trust is not None or at is not None else self.trust
        trust_list = decided_under if isinstance(decided_under, TrustList) else None
        narrowed = None if set(checks) >= set(CHECKS) else with_prerequisites(checks)
        extras, bodies, entries = [], [], []
        for result, secured in verified:
            extra = self._freshness_warnings(result)
            body = credential_body(result, extra_warnings=extra)
            extras.append(extra)
            bodies.append(body)
            entries.append(
                self._entry(
                    "credential",
                    channel,
                    result.verified,
                    result.format,
                    result,
                    result.codes,
                    summary=body["credential"],
                    target=input_digest(secured) if secured is not None else None,
                    as_of=at,
                    checks=narrowed,
                )
            )
        outcomes = [
            Outcome(body=body, verified=result.verified)
            for body, (result, _) in zip(bodies, verified, strict=True)
        ]
        if not receipt:
            self.storage.record_all(entries)
            return outcomes
        issuer = self.require_receipts()
        entries = [dataclasses.replace(entry, receipt=new_receipt_id()) for entry in entries]

        def sign(sealed: Sequence[Mapping[str, Any]]) -> list[str]:
            # inside the transaction that records them: signed, or none of them recorded
            try:
                return [
                    issuer.issue(
                        result,
                        receipt_id=str(entry.receipt),
                        target=entry.target,
                        at=entry.at,
                        trust=trust_list,
                        audit_entry=audit,
                        warnings=[warning.code for warning in extra],
                        as_of=at,
                        checks=entry.checks or CHECKS,
                    )
                    for (result, _), entry, audit, extra in zip(
                        verified, entries, sealed, extras, strict=True
                    )
                ]
            except Exception as error:
                _log.error("a receipt could not be signed, answered 503: %r", error)
                raise receipt_not_signed() from error

        for body, token in zip(bodies, self.storage.record_sealed(entries, sign), strict=True):
            body["receipt"] = token
        return outcomes

    def verify_presentation(
        self,
        presentation: Any,
        *,
        challenge: str | None,
        domain: str | None,
        channel: str = "api",
    ) -> Outcome:
        """Verify a presentation bound to one of our challenges and to our domain.

        The challenge is used up whatever the outcome (one attempt per challenge); of two
        concurrent attempts with one challenge exactly one can succeed. With
        ``allow_caller_challenges``, a challenge we never issued is the caller's own (its
        store makes it single-use, not ours): the presentation must be bound to it, and to
        ``domain`` if given (else to ours); the result says so in a warning.
        """
        if not isinstance(presentation, dict | str):
            raise MalformedError(
                "verifiablePresentation must be a JSON object or a compact JWS / SD-JWT string",
                pointer="/verifiablePresentation",
            )
        own = self.config.domain
        state = None
        if challenge is not None:
            state = self.storage.consume_challenge(
                challenge.removeprefix(OWN_CHALLENGE_PREFIX), now=self.config.clock()
            )
        callers = (
            self.config.allow_caller_challenges
            and state == "unknown"
            and not challenge_is_ours(challenge)
        )
        expected_domain = (domain or own) if callers else own
        result = self.verifier.verify_presentation(
            presentation, challenge=challenge, domain=expected_domain
        )
        failures: list[tuple[str, VcredError]] = []
        if not callers and domain is not None and domain != own:
            failures.append(
                ("domain", DomainError(f"this verifier's domain is {own}, not {domain}"))
            )
        if state is None:
            failures.append(
                (
                    "challenge",
                    ChallengeError("a presentation must be bound to a challenge from /challenges"),
                )
            )
        elif state != "ok" and not callers:
            failures.append(("challenge", ChallengeError(_CHALLENGE_REASONS[state])))
        result = _with_failures(result, failures)
        if callers:
            result = dataclasses.replace(
                result, warnings=(*result.warnings, _CALLER_CHALLENGE_WARNING)
            )
        warnings = {i: self._freshness_warnings(r) for i, r in enumerate(result.credentials)}
        body = presentation_body(result, extra_warnings=warnings)
        first = result.credentials[0] if result.credentials else None
        codes = (*result.codes, _CALLER_CHALLENGE_WARNING.code) if callers else result.codes
        self._record(
            "presentation",
            channel,
            result.verified,
            result.format,
            first,
            codes,
            target=input_digest(presentation),
        )
        # a benefit request is a presentation made to this agency: bound to a challenge it
        # issued (single-use here), not a caller's (replayable, made for someone else)
        recognised = [] if callers else self.recognise(result, channel=channel)
        if recognised:
            body["recognitions"] = [r.id for r in recognised]
        return Outcome(body=body, verified=result.verified)

    def recognise(self, result: PresentationResult, *, channel: str) -> list[Recognition]:
        """The recognitions a verified presentation's trusted AEO certificates make
        (:mod:`verifier_app.recognitions`); none for anything else — but a certificate that
        made one before has what its status check found now noted on it (a suspension seen
        ends the recognition at once, not at the refresher's next round)."""
        made = []
        recognitions = self.storage.recognitions
        # each credential as presented: what the holder may vary is not what names it
        presented = as_list((result.presentation or {}).get("verifiableCredential", []))
        loader = self.verifier.context_loader
        for i, credential in enumerate(result.credentials):
            secured = presented[i] if i < len(presented) else None
            digest = certificate_digest(secured, credential, loader=loader)
            if digest is None:
                continue
            now = self.config.clock()
            if not result.verified:
                recognitions.observe(credential, digest=digest, channel=channel, now=now)
                continue
            found = recognitions.recognise(credential, digest=digest, channel=channel, now=now)
            if found is not None:
                made.append(found)
        return made

    def refresh_recognitions(self, *, holder: str | None = None) -> RecognitionRefresh:
        """Re-check the status of every live recognition now (the refresher's one round);
        with another process holding the lease, nothing is done here."""
        return self.storage.recognitions.refresh(
            self.verifier,
            holder=holder or self._holder,
            now=self.config.clock(),
            lease=REFRESH_LEASE,
        )

    def start_refresher(self) -> None:
        """The background refresher: a round every ``recognition_refresh`` (0: none)."""
        interval = self.config.recognition_refresh.total_seconds()
        if interval <= 0 or self._refresher is not None:
            return
        self._refresher = threading.Thread(
            target=self._refresh_periodically,
            args=(interval,),
            name="vcred-recognitions",
            daemon=True,
        )
        self._refresher.start()

    def _refresh_periodically(self, interval: float) -> None:
        while not self._stopping.wait(interval):
            try:
                report = self.refresh_recognitions()
            except Exception:  # whatever it was, the thread lives on: a dead one ends nothing
                _log.exception("the recognitions could not be refreshed")
                continue
            for error in report.errors:
                _log.warning("recognition status: %s", error)

    def record_presentation(self, result: PresentationResult, *, channel: str) -> None:
        """Put a presentation verified elsewhere (OpenID4VP) in the history."""
        first = result.credentials[0] if result.credentials else None
        self._record("presentation", channel, result.verified, result.format, first, result.codes)

    def issue_challenge(self) -> IssuedChallenge:
        issued = self.storage.issue_challenge(
            now=self.config.clock(), ttl=self.config.challenge_ttl
        )
        return dataclasses.replace(issued, challenge=OWN_CHALLENGE_PREFIX + issued.challenge)

    def _freshness_warnings(self, result: VerificationResult) -> list[Problem]:
        """A warning when the issuer's did:web document came from an outdated cache."""
        if result.method is None or not result.method.startswith("did:web:"):
            return []
        did, _ = split_did_url(result.method)
        freshness = self.resolver.freshness(did)
        if freshness is None or not freshness.stale:
            return []
        return [
            Problem(
                code="DID_DOCUMENT_STALE",
                message=f"the issuer's DID document was fetched {int(freshness.age)} s ago and "
                "could not be refreshed (network unavailable): a key revoked since is not seen",
                path="/issuer",
            )
        ]

    def _record(
        self,
        kind: str,
        channel: str,
        verified: bool,
        fmt: str | None,
        result: VerificationResult | None,
        codes: Sequence[str],
        *,
        summary: Mapping[str, Any] | None = None,
        target: str | None = None,
    ) -> None:
        entry = self._entry(
            kind, channel, verified, fmt, result, codes, summary=summary, target=target
        )
        self.storage.record(entry)

    def _entry(
        self,
        kind: str,
        channel: str,
        verified: bool,
        fmt: str | None,
        result: VerificationResult | None,
        codes: Sequence[str],
        *,
        summary: Mapping[str, Any] | None = None,
        target: str | None = None,
        as_of: datetime | None = None,
        checks: tuple[str, ...] | None = None,
    ) -> HistoryEntry:
        """The history entry of one verification (logged as it is made; ``as_of``: the past
        moment it was verified as of; ``checks``: those run, when not all)."""
        if summary is None and result is not None:
            summary = summarise(result.credential)
        entry = HistoryEntry(
            at=self.config.clock(),
            kind=kind,
            channel=channel,
            verified=verified,
            format=fmt,
            issuer=result.issuer if result is not None else None,
            subject=subject_name(summary),
            codes=tuple(dict.fromkeys(codes)),
            target=target,
            as_of=as_of,
            checks=checks,
        )
        # no credential, no claims beyond the name: a verdict and where it came from (its
        # arguments built only when the line is written)
        if _log.isEnabledFor(logging.INFO):
            _log.info(
                "%s %s via %s: %s %s",
                kind,
                "VERIFIED" if verified else "NOT VERIFIED",
                channel,
                fmt,
                ",".join(entry.codes) or "-",
            )
        return entry


def _with_failures(
    result: PresentationResult, failures: Sequence[tuple[str, VcredError]]
) -> PresentationResult:
    """``result`` with the service's own failed checks (challenge store, domain) added."""
    if not failures:
        return result
    failed = {name for name, _ in failures}
    checks = [c for c in result.checks if c.name not in failed or c.passed is False]
    for name, error in failures:
        if not any(c.name == name and c.passed is False for c in checks):
            checks.append(Check(name=name, passed=False, detail=str(error)))
    errors = [*result.errors, *(Problem.of(error) for _, error in failures)]
    # a check the library was not asked to run (no challenge given) is failed here instead
    unasked = {f"{name.upper()}_NOT_CHECKED" for name in failed}
    warnings = tuple(w for w in result.warnings if w.code not in unasked)
    return dataclasses.replace(
        result, verified=False, checks=tuple(checks), errors=tuple(errors), warnings=warnings
    )


def _list_verifier(verifier: Verifier) -> Verifier:
    """What verifies a trust list: its proof, its issuer's key, its validity period and the
    status it states (an agency may revoke a list it signed)."""
    return dataclasses.replace(verifier, checks=("proof", "issuer", "validity", "status"))
