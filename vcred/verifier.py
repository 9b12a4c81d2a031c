"""The verification pipeline: detect the format, run every check, report them all.

A :class:`Verifier` is immutable configuration (resolver, fetcher, trust list, clock, skew,
checks); :meth:`Verifier.verify` never raises for a bad credential — it returns a
:class:`VerificationResult` listing each check with its outcome, and every error and warning
with a stable code and a JSON Pointer. Only misuse of the API raises (:class:`UsageError`).

Checks, in order (DESIGN §4): ``proof`` (the securing mechanism verifies), ``issuer`` (the key
that signed is controlled by the credential's issuer), ``validity`` (validFrom / validUntil and
JWT nbf / exp, with clock skew), ``status`` (Bitstring Status List), ``schema``
(credentialSchema), ``trust`` (the MRA trust list). The data-model structure is always checked.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from vcred import jose, model
from vcred.did.document import VerificationMethod, is_did
from vcred.did.resolver import Resolver
from vcred.errors import (
    ChallengeError,
    CryptographicError,
    DomainError,
    ExpiredError,
    MalformedError,
    NotYetValidError,
    ParsingError,
    PresentationError,
    SchemaViolationsError,
    UnknownKeyError,
    UsageError,
    VcredError,
)
from vcred.jsonld import ContextLoader, default_loader, signed_view
from vcred.multibase import b64url_decode
from vcred.net import Fetcher
from vcred.schema import SchemaRegistry, check_schema
from vcred.status import EntryStatus, StatusChecker, StatusListCache
from vcred.trust import TrustDecision, TrustList

CHECKS: Final = ("proof", "issuer", "validity", "status", "schema", "trust")
_STATUS_LIST_CHECKS: Final = ("proof", "issuer", "validity")
PRESENTATION_CHECKS: Final = ("proof", "challenge", "domain", "holder", "credentials")
DEFAULT_CLOCK_SKEW: Final = timedelta(seconds=60)
DEFAULT_KEY_BINDING_MAX_AGE: Final = timedelta(minutes=5)
MAX_PRESENTED_CREDENTIALS: Final = 64
#: A presentation's members verified on their own (each credential has its own context stage).
_EMBEDDED: Final = frozenset({"verifiableCredential"})


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True, kw_only=True)
class Problem:
    """One error or warning: a stable code, a message, and where (a JSON Pointer)."""

    code: str
    message: str
    path: str | None = None
    type: str | None = None

    @classmethod
    def of(cls, error: VcredError) -> Problem:
        return cls(
            code=error.code, message=error.message, path=error.pointer, type=error.problem_type
        )

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "path": self.path}

    def __reduce__(self) -> tuple[Any, ...]:
        return (_problem, (self.code, self.message, self.path, self.type))


@dataclass(frozen=True, slots=True, kw_only=True)
class Check:
    """The outcome of one named check. ``passed is None``: not evaluated."""

    name: str
    passed: bool | None
    detail: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"check": self.name, "passed": self.passed, "detail": self.detail}

    def __reduce__(self) -> tuple[Any, ...]:
        # results cross process boundaries in verify_many: pickle as plain tuples
        return (_check, (self.name, self.passed, self.detail))


@dataclass(frozen=True, slots=True, kw_only=True)
class VerificationResult:
    """Everything a verification found, good and bad."""

    verified: bool
    format: str | None
    checks: tuple[Check, ...]
    errors: tuple[Problem, ...] = ()
    warnings: tuple[Problem, ...] = ()
    credential: Mapping[str, Any] | None = None
    issuer: str | None = None
    method: str | None = None
    trust: TrustDecision | None = None
    status: tuple[EntryStatus, ...] = ()
    disclosed: tuple[str, ...] = ()
    """JSON Pointers of the claims the holder chose to disclose (selective disclosure only)."""

    def check(self, name: str) -> Check | None:
        return next((c for c in self.checks if c.name == name), None)

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(p.code for p in self.errors)

    def __reduce__(self) -> tuple[Any, ...]:
        fields = (self.verified, self.format, self.checks, self.errors, self.warnings)
        more = (self.credential, self.issuer, self.method, self.trust, self.status)
        return (_verification_result, (*fields, *more, self.disclosed))

    def to_dict(self) -> dict[str, Any]:
        """The JSON form the CLI prints and the VC API returns."""
        result: dict[str, Any] = {
            "verified": self.verified,
            "format": self.format,
            "issuer": self.issuer,
            "verificationMethod": self.method,
            "checks": [c.as_dict() for c in self.checks],
            "errors": [p.as_dict() for p in self.errors],
            "warnings": [p.as_dict() for p in self.warnings],
        }
        if self.trust is not None:
            result["trust"] = self.trust.as_dict() if hasattr(self.trust, "as_dict") else self.trust
        if self.status:
            result["status"] = [s.as_dict() if hasattr(s, "as_dict") else s for s in self.status]
        if self.disclosed:
            result["disclosed"] = list(self.disclosed)
        if self.credential is not None:
            result["credential"] = self.credential
        return result


@dataclass(frozen=True, slots=True, kw_only=True)
class PresentationResult:
    """A presentation's own checks plus the result of each credential inside it."""

    verified: bool
    format: str | None
    checks: tuple[Check, ...]
    errors: tuple[Problem, ...] = ()
    warnings: tuple[Problem, ...] = ()
    presentation: Mapping[str, Any] | None = None
    holder: str | None = None
    credentials: tuple[VerificationResult, ...] = ()

    def check(self, name: str) -> Check | None:
        return next((c for c in self.checks if c.name == name), None)

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(p.code for p in self.errors)

    def to_dict(self) -> dict[str, Any]:
        return {
            "verified": self.verified,
            "format": self.format,
            "holder": self.holder,
            "checks": [c.as_dict() for c in self.checks],
            "errors": [p.as_dict() for p in self.errors],
            "warnings": [p.as_dict() for p in self.warnings],
            "credentials": [r.to_dict() for r in self.credentials],
        }


def _check(name: str, passed: bool | None, detail: str) -> Check:
    return Check(name=name, passed=passed, detail=detail)


def _problem(code: str, message: str, path: str | None, type_: str | None) -> Problem:
    return Problem(code=code, message=message, path=path, type=type_)


_RESULT_FIELDS: Final = (
    "verified",
    "format",
    "checks",
    "errors",
    "warnings",
    "credential",
    "issuer",
    "method",
    "trust",
    "status",
    "disclosed",
)


def _verification_result(*values: Any) -> VerificationResult:
    return VerificationResult(**dict(zip(_RESULT_FIELDS, values, strict=True)))


@dataclass(frozen=True, slots=True)
class Verified:
    """The signed information of a credential or presentation: all that later checks read.

    Only :meth:`Verifier._establish` makes one, from the proof stage's output once every proof
    verified and every ``@context`` is known (:func:`vcred.jsonld.signed_view`): its JSON
    says, under known contexts only, exactly what was signed. Issuer binding, validity,
    status, schema, trust and ``VerificationResult.credential`` take this, never raw input.
    """

    document: dict[str, Any]


@dataclass(slots=True)
class _Secured:
    """A credential after the proof stage: what it claims, and what signed it (if anything).

    ``claimed`` is what the proof stage read — NOT verified, even when ``proof_passed``;
    ``verified`` is set by the context stage and is the only input of later checks.
    ``vcdm`` is False for credentials that are not VCDM documents (an IETF SD-JWT VC): the
    data-model structure rules do not apply and ``issuer`` names the issuer instead.
    ``disclosed`` lists the selectively disclosed claims; ``extra_checks`` are named checks a
    presentation format adds (the freshness of an SD-JWT key-binding JWT).
    """

    format: str
    claimed: dict[str, Any] | None = None
    verified: Verified | None = None
    methods: list[VerificationMethod] = field(default_factory=list)
    jwt_claims: Mapping[str, Any] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    proof_passed: bool = False
    vcdm: bool = True
    issuer: str | None = None
    disclosed: tuple[str, ...] = ()
    extra_checks: list[tuple[str, Callable[[], str | None]]] = field(default_factory=list)


@dataclass(slots=True)
class _Report:
    checks: list[Check] = field(default_factory=list)
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    def fail(self, name: str, error: VcredError) -> None:
        self.checks.append(Check(name=name, passed=False, detail=str(error)))
        self.errors.append(Problem.of(error))

    def ok(self, name: str, detail: str = "") -> None:
        self.checks.append(Check(name=name, passed=True, detail=detail))

    def skip(self, name: str, detail: str, *, code: str) -> None:
        self.checks.append(Check(name=name, passed=None, detail=detail))
        self.warnings.append(Problem(code=code, message=detail))

    def run(self, name: str, step: Callable[[], str | None]) -> bool:
        try:
            detail = step()
        except VcredError as error:
            self.fail(name, error)
            return False
        self.ok(name, detail or "")
        return True


ProofVerifier = Callable[["Verifier", Any, _Secured], None]
"""Verifies one securing format, filling in the credential and the methods that signed it."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Verifier:
    """Verification configuration. Change with ``dataclasses.replace(verifier, trust=...)``.

    ``fetcher``: network access for did:web and status lists (none: those fail closed).
    ``trust``: the MRA trust list (none: trust is reported as not evaluated).
    ``schemas``: where credentialSchema ids resolve (default: the bundled schemas).
    ``clock``: the current time (tests pass a fixed one). ``clock_skew``: tolerance on time
    windows. ``checks``: which optional checks run (all by default).
    ``require_key_binding``: an SD-JWT presented without a key-binding JWT is refused (RFC 9901
    §7.3). ``key_binding_max_age``: how old a key-binding JWT's ``iat`` may be.
    ``max_presented_credentials``: a presentation with more credentials is refused before any
    of them is verified (each may cost network fetches).
    ``contexts``: the JSON-LD contexts this verifier knows (default:
    :func:`vcred.jsonld.default_loader`, the bundled ones plus those registered with their
    SHA-256); any other context URL is INVALID_CONTEXT. ``allow_inline_contexts``: accept
    inline ``@context`` objects (VCDM 2.0 permits them) when dropping them leaves what was
    signed unchanged; refused by default.
    """

    fetcher: Fetcher | None = None
    resolver: Resolver | None = None
    trust: TrustList | None = None
    schemas: SchemaRegistry | None = None
    clock: Callable[[], datetime] = utc_now
    clock_skew: timedelta = DEFAULT_CLOCK_SKEW
    checks: Sequence[str] = CHECKS
    status_cache: StatusListCache | None = None
    offline: bool = False
    require_holder_binding: bool = True
    max_presented_credentials: int = MAX_PRESENTED_CREDENTIALS
    require_key_binding: bool = True
    key_binding_max_age: timedelta = DEFAULT_KEY_BINDING_MAX_AGE
    contexts: ContextLoader | None = None
    allow_inline_contexts: bool = False
    _resolver: Resolver = field(init=False, repr=False, compare=False)
    _status: StatusChecker = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        unknown = set(self.checks) - set(CHECKS)
        if unknown:
            raise UsageError(f"unknown checks {sorted(unknown)}; known: {', '.join(CHECKS)}")
        object.__setattr__(self, "_resolver", self.resolver or Resolver(fetcher=self.fetcher))
        # The status cache is kept in the field, so dataclasses.replace() shares it.
        cache = self.status_cache if self.status_cache is not None else StatusListCache()
        object.__setattr__(self, "status_cache", cache)
        checker = StatusChecker(
            fetcher=self.fetcher,
            verify_list=self._verify_status_list,
            cache=cache,
            offline=self.offline,
            clock_skew=self.clock_skew,
        )
        object.__setattr__(self, "_status", checker)

    # -- credentials ------------------------------------------------------------------------

    def verify(self, secured: Any, *, checks: Sequence[str] | None = None) -> VerificationResult:
        """Verify a secured credential in any supported format; never raises for bad input.

        ``secured`` is a compact vc+jwt or SD-JWT string, a JSON string or a dict (Data
        Integrity, or an EnvelopedVerifiableCredential). ``checks``: run these instead of the
        verifier's own (e.g. a VC API request's ``options.checks``).
        """
        if checks is None:
            return self._verify(secured, self.checks)
        unknown = set(checks) - set(CHECKS)
        if unknown:
            raise UsageError(f"unknown checks {sorted(unknown)}; known: {', '.join(CHECKS)}")
        return self._verify(secured, tuple(checks))

    def _verify(self, secured: Any, checks: Sequence[str]) -> VerificationResult:
        report = _Report()
        try:
            fmt, document = detect(secured)
        except UsageError:
            raise
        except VcredError as error:
            report.fail("proof", error)
            return VerificationResult(
                verified=False,
                format=None,
                checks=tuple(report.checks),
                errors=tuple(report.errors),
            )
        state = _Secured(format=fmt)
        self._prove(document, state)
        verified = self._establish(state)
        if verified is None:
            # Nothing was established as signed, so no later check has anything to read; the
            # proof failure is reported whichever checks were asked for (fail closed).
            report.checks.append(
                Check(name="proof", passed=False, detail=state.problems[0].message)
            )
            report.errors.extend(state.problems)
            return self._result(report, state)
        credential = verified.document
        if state.vcdm:
            try:
                model.validate_credential(credential)
            except VcredError as error:
                report.fail("structure", error)
        if "proof" in checks:
            report.ok("proof", f"{fmt} proof verified")
        issuer = state.issuer or _issuer_or_none(credential)
        if "issuer" in checks:
            report.run("issuer", lambda: _check_issuer_binding(issuer, state.methods))
        if "validity" in checks:
            report.run("validity", lambda: self._check_validity(verified, state.jwt_claims))
        status: tuple[EntryStatus, ...] = ()
        if "status" in checks and not state.vcdm and "status" in credential:
            report.skip(
                "status",
                "the SD-JWT VC status claim (Token Status List) is not checked",
                code="STATUS_NOT_CHECKED",
            )
        elif "status" in checks:
            status = self._check_status(verified, report)
        if "schema" in checks:
            self._check_schema(verified, report)
        trust = None
        if "trust" in checks:
            trust = self._check_trust(verified, issuer, report)
        return self._result(report, state, trust=trust, status=status)

    def _establish(
        self, state: _Secured, *, opaque: frozenset[str] = frozenset()
    ) -> Verified | None:
        """The context stage: what the proof stage read, as signed information, or None.

        Applies to every format alike (``vcred.jsonld.signed_view``): each ``@context`` entry
        must be known, inline ones are refused unless allowed. A failure is a proof problem.
        """
        if not state.proof_passed:
            return None
        if state.claimed is None:
            state.proof_passed = False
            state.problems.append(
                Problem(code="MALFORMED", message="the proof stage produced no document")
            )
            return None
        try:
            document = signed_view(
                state.claimed,
                loader=self.context_loader,
                allow_inline=self.allow_inline_contexts,
                opaque=opaque,
            )
        except VcredError as error:
            state.proof_passed = False
            state.problems.append(Problem.of(error))
            return None
        state.verified = Verified(document)
        return state.verified

    def _result(
        self,
        report: _Report,
        state: _Secured,
        *,
        trust: TrustDecision | None = None,
        status: tuple[EntryStatus, ...] = (),
    ) -> VerificationResult:
        verified = not report.errors and all(c.passed is not False for c in report.checks)
        credential = state.verified.document if state.verified is not None else None
        return VerificationResult(
            verified=verified,
            format=state.format,
            checks=tuple(report.checks),
            errors=tuple(report.errors),
            warnings=tuple(report.warnings),
            credential=credential,
            issuer=(state.issuer or _issuer_or_none(credential)) if credential else None,
            method=state.methods[0].id if state.methods else None,
            trust=trust,
            status=status,
            disclosed=state.disclosed,
        )

    def _prove(self, document: Any, state: _Secured) -> None:
        verifier = _PROOF_VERIFIERS.get(state.format)
        if verifier is None:
            state.problems.append(
                Problem(code="UNSUPPORTED", message=f"format {state.format} is not supported")
            )
            return
        try:
            verifier(self, document, state)
            state.proof_passed = True
        except VcredError as error:
            state.problems.append(Problem.of(error))

    def method_lookup(self, method_id: str, relationship: str) -> VerificationMethod:
        """Resolve a verification method through this verifier's resolver."""
        return self._resolver.resolve_method(method_id, relationship=relationship)

    @property
    def resolver_in_use(self) -> Resolver:
        return self._resolver

    @property
    def context_loader(self) -> ContextLoader:
        """The JSON-LD contexts this verifier knows (``contexts``, or the default loader)."""
        return self.contexts if self.contexts is not None else default_loader()

    def _check_validity(self, verified: Verified, claims: Mapping[str, Any]) -> str:
        credential = verified.document
        now = self.clock()
        start, end = _validity_window(credential, claims)
        if start is not None and now + self.clock_skew < start:
            raise NotYetValidError(
                f"not valid before {start.isoformat()}", pointer=_start_pointer(credential)
            )
        if end is not None and now - self.clock_skew > end:
            raise ExpiredError(f"expired at {end.isoformat()}", pointer=_end_pointer(credential))
        return f"valid at {now.isoformat(timespec='seconds')}"

    def _check_status(self, verified: Verified, report: _Report) -> tuple[EntryStatus, ...]:
        credential = verified.document
        if "credentialStatus" not in credential:
            report.ok("status", "no credentialStatus")
            return ()
        try:
            outcome = self._status.check(credential, now=self.clock())
        except VcredError as error:
            report.fail("status", error)
            return ()
        for note in outcome.notes:
            report.warnings.append(Problem(code="STATUS_ENTRY_IGNORED", message=note))
        for entry in outcome.entries:
            if entry.stale and entry.age is not None:
                report.warnings.append(
                    Problem(
                        code="STATUS_STALE",
                        message=f"status from a list fetched {int(entry.age.total_seconds())} s "
                        f"ago (the list could not be refreshed)",
                        path=entry.pointer,
                    )
                )
        if not outcome.entries:
            report.ok("status", "no status entry of a known type")
        elif outcome.ok:
            purposes = ", ".join(f"{e.purpose} {e.index}: {e.value}" for e in outcome.entries)
            report.ok("status", f"not revoked or suspended ({purposes})")
        else:
            report.checks.append(Check(name="status", passed=False, detail=str(outcome.errors[0])))
            report.errors.extend(Problem.of(error) for error in outcome.errors)
        return outcome.entries

    def _verify_status_list(self, secured: object) -> Mapping[str, Any]:
        """Verify a fetched status list credential: its proof, issuer binding and validity."""
        result = self._verify(secured, _STATUS_LIST_CHECKS)
        if not result.verified or result.credential is None:
            problem = result.errors[0] if result.errors else None
            raise CryptographicError(
                problem.message if problem else "the status list does not verify"
            )
        return result.credential

    def _check_schema(self, verified: Verified, report: _Report) -> None:
        credential = verified.document
        if "credentialSchema" not in credential:
            report.ok("schema", "no credentialSchema")
            return
        try:
            checked = check_schema(credential, registry=self.schemas)
        except SchemaViolationsError as error:
            report.checks.append(Check(name="schema", passed=False, detail=str(error)))
            report.errors.extend(Problem.of(v) for v in error.violations or (error,))
            return
        except VcredError as error:
            report.fail("schema", error)
            return
        report.ok("schema", f"valid against {', '.join(checked)}")

    def _check_trust(
        self, verified: Verified, issuer: str | None, report: _Report
    ) -> TrustDecision | None:
        if self.trust is None:
            report.skip(
                "trust",
                "no trust list configured: issuer trust not evaluated",
                code="TRUST_NOT_EVALUATED",
            )
            return None
        decision = self.trust.evaluate_credential(verified.document, now=self.clock())
        error = decision.error()
        if error is None:
            report.ok("trust", decision.reason)
        else:
            report.fail("trust", error)
        return decision

    # -- presentations ----------------------------------------------------------------------

    def verify_presentation(
        self,
        presentation: Any,
        *,
        challenge: str | None = None,
        domain: str | None = None,
    ) -> PresentationResult:
        """Verify a presentation and every credential in it; never raises for bad input.

        When ``challenge`` (or ``domain``) is given, the presentation must be signed over
        exactly that value: a missing or different one fails with INVALID_CHALLENGE
        (INVALID_DOMAIN).
        """
        report = _Report()
        try:
            fmt, document = detect_presentation(presentation)
        except UsageError:
            raise
        except VcredError as error:
            report.fail("proof", error)
            return PresentationResult(
                verified=False,
                format=None,
                checks=tuple(report.checks),
                errors=tuple(report.errors),
            )
        state = _Secured(format=fmt)
        signed_challenge: Any = None
        signed_domain: Any = None
        try:
            if fmt == "vp+jwt":
                verified = jose.verify_vp_jwt(document, lookup=self.method_lookup)
                vp = dict(verified.payload)
                signed_challenge, signed_domain = vp.pop("nonce", None), vp.pop("aud", None)
                state.jwt_claims = {k: vp.pop(k) for k in ("iat", "exp", "nbf") if k in vp}
                state.methods = [verified.method]
                state.claimed = vp
            else:
                # a compact format (an SD-JWT with key binding) describes its presentation itself
                state.claimed = document if isinstance(document, dict) else None
                signed_challenge, signed_domain = _verify_presentation_proof(self, document, state)
            state.proof_passed = True
        except VcredError as error:
            report.fail("proof", error)
            if state.claimed is None and fmt == "vp+jwt":
                state.claimed = _unverified_json(document)
        else:
            # the credentials inside are verified on their own, each with its context stage
            if self._establish(state, opaque=_EMBEDDED) is None:
                report.checks.append(
                    Check(name="proof", passed=False, detail=state.problems[0].message)
                )
                report.errors.extend(state.problems)
            else:
                report.ok("proof", f"{fmt} proof verified")
        vp = state.verified.document if state.verified is not None else (state.claimed or {})
        try:
            model.validate_presentation(vp)
        except VcredError as error:
            report.fail("structure", error)
        holder = _holder_or_none(vp)
        report.run("challenge", lambda: _expect("challenge", challenge, signed_challenge))
        report.run("domain", lambda: _expect("domain", domain, signed_domain))
        if state.jwt_claims:
            # a presentation's validity is its signed JWT claims alone
            report.run("validity", lambda: self._check_validity(Verified({}), state.jwt_claims))
        for name, step in state.extra_checks:
            report.run(name, step)
        results = self._verify_embedded(vp, report)
        if self.require_holder_binding and holder is not None:
            report.run("holder", lambda: _check_holder_binding(holder, results))
        verified_all = not report.errors and all(r.verified for r in results)
        return PresentationResult(
            verified=verified_all and all(c.passed is not False for c in report.checks),
            format=fmt,
            checks=tuple(report.checks),
            errors=tuple(report.errors),
            warnings=tuple(report.warnings),
            presentation=vp,
            holder=holder,
            credentials=tuple(results),
        )

    def _verify_embedded(self, vp: Mapping[str, Any], report: _Report) -> list[VerificationResult]:
        items = model.as_list(vp.get("verifiableCredential", []))
        if len(items) > self.max_presented_credentials:
            report.fail(
                "credentials",
                MalformedError(
                    f"at most {self.max_presented_credentials} credentials per presentation",
                    pointer="/verifiableCredential",
                ),
            )
            return []
        results = [self.verify(item) for item in items]
        failed = [i for i, r in enumerate(results) if not r.verified]
        if failed:
            report.checks.append(
                Check(
                    name="credentials", passed=False, detail=f"credentials {failed} did not verify"
                )
            )
            for i in failed:
                for problem in results[i].errors:
                    report.errors.append(
                        Problem(
                            code=problem.code,
                            message=problem.message,
                            path=f"/verifiableCredential/{i}{problem.path or ''}",
                            type=problem.type,
                        )
                    )
        else:
            report.ok("credentials", f"{len(results)} credential(s) verified")
        return results


# -- format detection --------------------------------------------------------------------------

# EnvelopedVerifiableCredential media types (VCDM 2.0 §4.13.1) → pipeline format; an IETF
# SD-JWT VC (application/dc+sd-jwt) goes through the same SD-JWT proof stage.
_ENVELOPED_FORMATS: Final = {
    "application/vc+jwt": "vc+jwt",
    "application/vc+sd-jwt": "vc+sd-jwt",
    "application/dc+sd-jwt": "vc+sd-jwt",
    "application/vc+cose": "vc+cose",
}
# ... and EnvelopedVerifiablePresentation media types (VCDM 2.0 §4.13.2).
_ENVELOPED_PRESENTATION_FORMATS: Final = {
    "application/vp+jwt": "vp+jwt",
    "application/vp+cose": "vp+cose",
    "application/vc+sd-jwt": "vc+sd-jwt",
    "application/dc+sd-jwt": "vc+sd-jwt",
}


def _cose_bytes(text: str) -> bytes | None:
    """The COSE_Sign1 a base64url string carries (the CLI's text form of vc+cose), or None."""
    try:
        data = b64url_decode(text)
    except VcredError:
        return None
    return data if data.startswith(model.COSE_SIGN1_PREFIX) else None


def detect(secured: Any) -> tuple[str, Any]:
    """Tell a secured credential's format and return the object to verify.

    ``vc+jwt`` (compact JWS), ``vc+sd-jwt`` (SD-JWT), ``vc+cose`` (COSE_Sign1 bytes, or their
    base64url text), ``data-integrity`` (a JSON object with a proof); an
    EnvelopedVerifiableCredential is opened. Raises ParsingError / MalformedError (also for a
    JSON document nested deeper than ``model.MAX_DEPTH``).
    """
    if isinstance(secured, bytes) and secured.startswith(model.COSE_SIGN1_PREFIX):
        return "vc+cose", secured
    if isinstance(secured, bytes):
        try:
            secured = secured.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ParsingError("input is not UTF-8") from exc
    if isinstance(secured, str):
        text = secured.strip()
        if text.startswith("{"):
            return detect(jose.loads_strict(text, what="credential"))
        if "~" in text:
            return "vc+sd-jwt", text
        if text.count(".") == 2:
            return "vc+jwt", text
        cose = _cose_bytes(text)
        if cose is not None:
            return "vc+cose", cose
        raise ParsingError(
            "not a credential: expected JSON, a compact JWS, an SD-JWT or a COSE_Sign1"
        )
    if isinstance(secured, dict):
        model.check_depth(secured)  # before anything recursive (copying, JSON-LD, JCS) sees it
        if model.is_enveloped(secured):
            media_type, data = model.enveloped_payload(secured)
            return _ENVELOPED_FORMATS.get(media_type, "vc"), data
        if "proof" in secured:
            return "data-integrity", secured
        raise MalformedError("the credential is not secured: it has no proof", pointer="/proof")
    raise UsageError(f"cannot verify a {type(secured).__name__}; pass a str, bytes or dict")


def detect_presentation(secured: Any) -> tuple[str, Any]:
    """Tell a presentation's format: ``vp+jwt``, ``vc+sd-jwt`` or ``data-integrity``.

    An EnvelopedVerifiablePresentation (VCDM 2.0 §4.13.2) is opened.

    ``vc+sd-jwt`` is an SD-JWT presented on its own, bound to the holder by its key-binding
    JWT (RFC 9901 §4.3; both application/vc+sd-jwt and SD-JWT VC). ``vp+cose``: COSE_Sign1
    bytes or their base64url text. Raises like :func:`detect`.
    """
    if isinstance(secured, bytes) and secured.startswith(model.COSE_SIGN1_PREFIX):
        return "vp+cose", secured
    if isinstance(secured, bytes):
        secured = secured.decode("utf-8", errors="replace")
    if isinstance(secured, str):
        text = secured.strip()
        if text.startswith("{"):
            return detect_presentation(jose.loads_strict(text, what="presentation"))
        if "~" in text:
            return "vc+sd-jwt", text
        if text.count(".") == 2:
            return "vp+jwt", text
        cose = _cose_bytes(text)
        if cose is not None:
            return "vp+cose", cose
        raise ParsingError(
            "not a presentation: expected JSON, a compact JWS, an SD-JWT or a COSE_Sign1"
        )
    if isinstance(secured, dict):
        model.check_depth(secured)
        if model.is_enveloped(secured, "EnvelopedVerifiablePresentation"):
            media_type, data = model.enveloped_payload(
                secured, media_types=model.ENVELOPED_PRESENTATION_MEDIA_TYPES
            )
            return _ENVELOPED_PRESENTATION_FORMATS[media_type], data
        if "proof" in secured:
            return "data-integrity", secured
        raise MalformedError("the presentation is not secured: it has no proof", pointer="/proof")
    raise UsageError(f"cannot verify a {type(secured).__name__}; pass a str, bytes or dict")


# -- the proof stage per format ----------------------------------------------------------------


def _prove_vc_jwt(verifier: Verifier, token: Any, state: _Secured) -> None:
    verified = jose.verify_vc_jwt(token, lookup=verifier.method_lookup)
    payload = dict(verified.payload)
    state.jwt_claims = {k: payload[k] for k in ("nbf", "exp", "iat") if k in payload}
    state.claimed = payload
    state.methods = [verified.method]


def _unverified_json(token: str) -> dict[str, Any] | None:
    try:
        return jose.unverified_payload(token)
    except VcredError:
        return None


_PROOF_VERIFIERS: dict[str, ProofVerifier] = {"vc+jwt": _prove_vc_jwt}


def register_format(name: str, verifier: ProofVerifier) -> None:
    """Plug a securing format into the pipeline (used by vcred.integrity and vcred.sdjwt)."""
    _PROOF_VERIFIERS[name] = verifier


def _verify_presentation_proof(
    verifier: Verifier, document: dict[str, Any], state: _Secured
) -> tuple[Any, Any]:
    prover = _PRESENTATION_PROOFS.get(state.format)
    if prover is None:
        raise PresentationError(f"presentations secured as {state.format} are not supported")
    return prover(verifier, document, state)


PresentationProofVerifier = Callable[[Verifier, Any, _Secured], tuple[Any, Any]]
_PRESENTATION_PROOFS: dict[str, PresentationProofVerifier] = {}


def register_presentation_format(name: str, verifier: PresentationProofVerifier) -> None:
    """Plug a presentation securing format in; it returns the signed (challenge, domain)."""
    _PRESENTATION_PROOFS[name] = verifier


# -- individual checks -------------------------------------------------------------------------


def _issuer_or_none(credential: Mapping[str, Any] | None) -> str | None:
    try:
        return model.issuer_id(credential) if credential is not None else None
    except VcredError:
        return None


def _holder_or_none(presentation: Mapping[str, Any]) -> str | None:
    holder = presentation.get("holder")
    if isinstance(holder, dict):
        holder = holder.get("id")
    return holder if isinstance(holder, str) else None


def _check_issuer_binding(issuer: str | None, methods: Sequence[VerificationMethod]) -> str:
    """Each key that signed must be controlled by the issuer (VC Data Integrity §4.5 step 6)."""
    if issuer is None:
        raise MalformedError("the credential has no issuer", pointer="/issuer")
    for vm in methods:
        if vm.controller != issuer:
            raise UnknownKeyError(
                f"the proof key {vm.id} is controlled by {vm.controller}, "
                f"not by the issuer {issuer}",
                pointer="/issuer",
            )
    return f"signed by {issuer}" if is_did(issuer) else f"signed for {issuer}"


def _check_holder_binding(holder: str, results: Sequence[VerificationResult]) -> str:
    """Each presented credential whose subject is identified by a DID must be about the holder.

    Subjects without an id, or identified otherwise (an export declaration's URN), are about
    things, not parties, and carry no holder binding.
    """
    for i, result in enumerate(results):
        credential = result.credential or {}
        for subject in model.as_list(credential.get("credentialSubject", [])):
            subject_id = subject.get("id") if isinstance(subject, dict) else None
            if is_did(subject_id) and subject_id != holder:
                raise PresentationError(
                    f"credential {i} is about {subject_id}, not about the holder {holder}",
                    pointer=f"/verifiableCredential/{i}/credentialSubject",
                )
    return f"every credential is about {holder}"


def _expect(name: str, expected: str | None, signed: Any) -> str:
    error = ChallengeError if name == "challenge" else DomainError
    if expected is None:
        return f"no {name} expected"
    values = signed if isinstance(signed, list) else [signed]
    if expected not in values:
        shown = "none" if signed is None else json.dumps(signed)[:100]
        raise error(f"the presentation was signed for {name} {shown}, expected {expected!r}")
    return f"{name} matches"


def _start_pointer(credential: Mapping[str, Any]) -> str:
    return (
        "/validFrom"
        if "validFrom" in credential or "issuanceDate" not in credential
        else "/issuanceDate"
    )


def _end_pointer(credential: Mapping[str, Any]) -> str:
    return (
        "/validUntil"
        if "validUntil" in credential or "expirationDate" not in credential
        else "/expirationDate"
    )


def _validity_window(
    credential: Mapping[str, Any], claims: Mapping[str, Any]
) -> tuple[datetime | None, datetime | None]:
    """The effective window: the credential's own dates, narrowed by JWT nbf / exp.

    A JWT time claim that contradicts the credential's date is an error, not a silent choice.
    """
    start = end = None
    for name in ("validFrom", "issuanceDate"):
        if name in credential and (name == "validFrom" or "validFrom" not in credential):
            start = model.parse_datetime(credential[name], pointer=f"/{name}")
            break
    for name in ("validUntil", "expirationDate"):
        if name in credential:
            end = model.parse_datetime(credential[name], pointer=f"/{name}")
            break
    for claim, bound in (("nbf", start), ("exp", end)):
        if claim not in claims:
            continue
        moment = jose.numeric_date(claims[claim], pointer=f"/{claim}")
        if bound is not None and abs((moment - bound).total_seconds()) >= 1:
            raise MalformedError(
                f"the JWT {claim} claim disagrees with the credential's "
                f"{'validFrom' if claim == 'nbf' else 'validUntil'}",
                pointer=f"/{claim}",
            )
        if claim == "nbf":
            start = moment if start is None else max(start, moment)
        else:
            end = moment if end is None else min(end, moment)
    return start, end
