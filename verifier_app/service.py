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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from vcred import cose, jose
from vcred.did.document import split_did_url
from vcred.did.resolver import Resolver
from vcred.errors import (
    ChallengeError,
    DomainError,
    MalformedError,
    UnreachableError,
    UsageError,
    VcredError,
)
from vcred.net import DEFAULT_MAX_BYTES, Fetcher, GuardedFetcher
from vcred.status import StatusListCache
from vcred.trust import TrustList, load_signed_trust_list
from vcred.verifier import (
    CHECKS,
    Check,
    PresentationResult,
    Problem,
    VerificationResult,
    Verifier,
    detect,
)
from vcred_service.contexts import load_context_folder
from verifier_app.config import VerifierConfig
from verifier_app.results import credential_body, presentation_body
from verifier_app.storage import HistoryEntry, IssuedChallenge, Storage
from verifier_app.summary import subject_name, summarise

_log = logging.getLogger("verifier_app")

#: Checks the proof depends on: a caller may narrow the others, never skip these.
ALWAYS_CHECKED: Final = ("proof", "issuer")
#: VC API check names other implementations send, in our names.
CHECK_ALIASES: Final = {
    "credentialStatus": "status",
    "revocation": "status",
    "expiration": "validity",
    "credentialSchema": "schema",
}
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
    return tuple(c for c in CHECKS if c in names or c in ALWAYS_CHECKED)


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
        # lists past their TTL stay held: with the network down they still answer (as stale)
        self.status_cache = StatusListCache(default_ttl=config.status_cache_ttl)
        base = Verifier(
            fetcher=network,
            resolver=self.resolver,
            status_cache=self.status_cache,
            offline=config.offline,
            clock=config.clock,
            max_presented_credentials=config.max_presented_credentials,
            contexts=load_context_folder(config.contexts_dir) if config.contexts_dir else None,
            allow_inline_contexts=config.allow_inline_contexts,
        )
        self.trust = self._load_trust(base)
        self.verifier = dataclasses.replace(base, trust=self.trust)
        config.data_dir.mkdir(parents=True, exist_ok=True)
        self.storage = Storage(
            config.storage_url, prefix=config.table_prefix, history_size=config.history_size
        )
        self.storage.create()

    # -- set-up ----------------------------------------------------------------------------

    def _load_trust(self, verifier: Verifier) -> TrustList | None:
        """The signed trust list of the configuration, verified. Raises VcredError."""
        path = self.config.trust_list
        if path is None:
            return None
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise MalformedError(f"cannot read the trust list {path}: {exc}") from exc
        expected = self.config.trust_issuer or _claimed_issuer(text)
        if self.config.trust_issuer is None:
            _log.warning(
                "trust list signer not pinned (--trust-issuer): accepting %s, the issuer the "
                "list names",
                expected,
            )
        list_verifier = dataclasses.replace(verifier, checks=("proof", "issuer", "validity"))
        return load_signed_trust_list(
            text, now=self.config.clock(), expected_issuer=expected, verifier=list_verifier
        )

    @property
    def service_name(self) -> str:
        if self.config.service_name:
            return self.config.service_name
        if self.trust is not None:
            return f"{self.trust.authority} — credential verifier"
        return "vcred credential verifier"

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
            "recognisedIssuers": len(trust.entries),
        }

    def close(self) -> None:
        self.storage.close()

    # -- verifying -------------------------------------------------------------------------

    def verify_credential(
        self, credential: Any, *, checks: Sequence[str] = CHECKS, channel: str = "api"
    ) -> Outcome:
        """Verify one credential in any format; never raises for a bad credential."""
        if not isinstance(credential, dict | str):
            raise MalformedError(
                "verifiableCredential must be a JSON object or a compact JWS / SD-JWT string",
                pointer="/verifiableCredential",
            )
        result = self.verifier.verify(credential, checks=checks)
        body = credential_body(result, extra_warnings=self._freshness_warnings(result))
        self._record(
            "credential",
            channel,
            result.verified,
            result.format,
            result,
            result.codes,
            summary=body["credential"],
        )
        return Outcome(body=body, verified=result.verified)

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
        concurrent attempts with one challenge exactly one can succeed.
        """
        if not isinstance(presentation, dict | str):
            raise MalformedError(
                "verifiablePresentation must be a JSON object or a compact JWS / SD-JWT string",
                pointer="/verifiablePresentation",
            )
        own = self.config.domain
        result = self.verifier.verify_presentation(presentation, challenge=challenge, domain=own)
        failures: list[tuple[str, VcredError]] = []
        if domain is not None and domain != own:
            failures.append(
                ("domain", DomainError(f"this verifier's domain is {own}, not {domain}"))
            )
        if challenge is None:
            failures.append(
                (
                    "challenge",
                    ChallengeError("a presentation must be bound to a challenge from /challenges"),
                )
            )
        else:
            state = self.storage.consume_challenge(challenge, now=self.config.clock())
            if state != "ok":
                failures.append(("challenge", ChallengeError(_CHALLENGE_REASONS[state])))
        result = _with_failures(result, failures)
        warnings = {i: self._freshness_warnings(r) for i, r in enumerate(result.credentials)}
        body = presentation_body(result, extra_warnings=warnings)
        first = result.credentials[0] if result.credentials else None
        self._record("presentation", channel, result.verified, result.format, first, result.codes)
        return Outcome(body=body, verified=result.verified)

    def issue_challenge(self) -> IssuedChallenge:
        return self.storage.issue_challenge(now=self.config.clock(), ttl=self.config.challenge_ttl)

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
    ) -> None:
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
        )
        # no credential, no claims beyond the name: a verdict and where it came from
        _log.info(
            "%s %s via %s: %s %s",
            kind,
            "VERIFIED" if verified else "NOT VERIFIED",
            channel,
            fmt,
            ",".join(entry.codes) or "-",
        )
        self.storage.record(entry)


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
    return dataclasses.replace(result, verified=False, checks=tuple(checks), errors=tuple(errors))


def _claimed_issuer(text: str) -> str:
    """The issuer a secured trust list names — NOT verified: its signature is checked next."""
    _, document = detect(text)
    payload: Mapping[str, Any] = (
        cose.unverified_payload(document)
        if isinstance(document, bytes)  # a vc+cose list, as base64url text
        else jose.unverified_payload(document)
        if isinstance(document, str)
        else document
    )
    issuer = payload.get("issuer")
    if isinstance(issuer, dict):
        issuer = issuer.get("id")
    if not isinstance(issuer, str):
        raise MalformedError("the trust list names no issuer", pointer="/issuer")
    return issuer
