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
from collections.abc import Callable, Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta, timezone
from functools import lru_cache, partial
from typing import Any, Final, Protocol, cast, runtime_checkable

from vcred import jose, model
from vcred.did.document import VerificationMethod, is_did, is_https_url
from vcred.did.resolver import Resolver
from vcred.errors import (
    ChallengeError,
    CryptographicError,
    DomainError,
    ExpiredError,
    HolderMismatchError,
    MalformedError,
    NotYetValidError,
    ParsingError,
    PresentationError,
    SchemaViolationsError,
    StatusUnavailableError,
    StatusVerificationError,
    UnknownKeyError,
    UnsupportedError,
    UsageError,
    ValidityError,
    VcredError,
    error_class,
)
from vcred.formats import Format, PresentationProofVerifier, ProofVerifier, registry
from vcred.jsonld import ContextLoader, default_loader, signed_view
from vcred.keys import PublicKey
from vcred.multibase import b64url_decode
from vcred.net import Fetcher, time_budget
from vcred.related import check_related_resources
from vcred.schema import SchemaRegistry, check_schema
from vcred.status import (
    DEFAULT_STATUS_MAX_AGE,
    EntryStatus,
    StatusChecker,
    StatusList,
    StatusListCache,
    StatusReport,
    VerifiedList,
)
from vcred.status.entry import is_status_entry

CHECKS: Final = ("proof", "issuer", "validity", "status", "schema", "trust")
#: A status list's checks: "keys" holds it to the keys the trust policy pins for its issuer.
_STATUS_LIST_CHECKS: Final = ("proof", "issuer", "validity", "keys")
PRESENTATION_CHECKS: Final = ("proof", "challenge", "domain", "holder", "credentials")
DEFAULT_CLOCK_SKEW: Final = timedelta(seconds=60)
DEFAULT_KEY_BINDING_MAX_AGE: Final = timedelta(minutes=5)
MAX_PRESENTED_CREDENTIALS: Final = 64
#: A presentation's members verified on their own (each credential has its own context stage).
_EMBEDDED: Final = frozenset({"verifiableCredential"})
DEFAULT_TIME_BUDGET: Final = timedelta(seconds=10)
#: Bounds of the time tolerances a verifier may be given: past them, arithmetic on the dates a
#: credential carries (year 1 or 9999) overflows — and a tolerance of days is no check at all.
MAX_CLOCK_SKEW: Final = timedelta(days=1)
MAX_KEY_BINDING_AGE: Final = timedelta(days=1)
#: Credential types a verifier never accepts as bearer credentials (shown by anyone who holds
#: a copy), by their term: a domain names those acted on (:func:`register_never_bearer_type`;
#: customs: officers act on its credentials, so only the party they are bound to may present
#: them).
NEVER_BEARER_TYPES: Final[set[str]] = set()


def register_never_bearer_type(credential_type: str) -> None:
    """Refuse ``credential_type`` (a term, or an IRI ending in it) as a bearer credential."""
    NEVER_BEARER_TYPES.add(_type_name(credential_type))


class TrustDecisionLike(Protocol):
    """What the ``trust`` check reads of a policy's answer (:class:`vcred.trust.TrustDecision`)."""

    @property
    def reason(self) -> str: ...

    def error(self) -> VcredError | None:
        """The error to report (None: trusted)."""
        ...

    def as_dict(self) -> dict[str, Any]: ...


class TrustPolicy(Protocol):
    """Decides whether a verified credential's issuer is trusted (:class:`vcred.trust.TrustList`,
    the MRA trust list, is one; a domain plugs in its own)."""

    def evaluate_credential(
        self,
        credential: Mapping[str, Any],
        *,
        now: datetime,
        signing_keys: Sequence[tuple[str, datetime | None]] | None = None,
    ) -> TrustDecisionLike: ...


@runtime_checkable
class PinsKeys(Protocol):
    """A trust policy that pins its issuers' keys (:class:`vcred.trust.TrustList`): what an
    issuer signs beside its credentials — its status lists — is held to the same keys."""

    def key_refusal(
        self,
        issuer: str,
        signing_keys: Sequence[tuple[str, datetime | None]],
        *,
        now: datetime,
    ) -> str | None: ...


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

    def as_error(self, context: str) -> VcredError:
        """This problem as the typed error of its code (MalformedError for a code no class
        has), its message after ``context``: for callers that refuse what did not verify."""
        cls = error_class(self.code)
        return (MalformedError if cls is VcredError else cls)(
            f"{context}: {self.message}", pointer=self.path
        )

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
    trust: TrustDecisionLike | None = None
    status: tuple[EntryStatus, ...] = ()
    disclosed: tuple[str, ...] = ()
    """JSON Pointers of the claims the holder chose to disclose (selective disclosure only)."""
    confirmation: Mapping[str, Any] | None = None
    """The public JWK the issuer bound the credential to (an SD-JWT's ``cnf``, RFC 7800)."""
    validity: tuple[datetime | None, datetime | None] | None = None
    """(start, end) of the credential's validity as the ``validity`` check read it — its
    ``validFrom`` / ``validUntil`` narrowed by a JWT's or CWT's ``nbf`` / ``exp``, None where
    unbounded — or None when that check did not pass. Whatever outlives the verification (a
    recognition) ends there: ``credential`` alone does not carry a COSE ``exp``."""

    def check(self, name: str) -> Check | None:
        return next((c for c in self.checks if c.name == name), None)

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(p.code for p in self.errors)

    def __reduce__(self) -> tuple[Any, ...]:
        fields = (self.verified, self.format, self.checks, self.errors, self.warnings)
        more = (self.credential, self.issuer, self.method, self.trust, self.status)
        last = (self.disclosed, self.confirmation, self.validity)
        return (_verification_result, (*fields, *more, *last))

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


#: Passed checks whose detail says nothing about the credential but that it has no such
#: member: immutable, so one object serves every result (built after the check ran).
_NO_STATUS: Final = Check(name="status", passed=True, detail="no credentialStatus")
_NO_SCHEMA: Final = Check(name="schema", passed=True, detail="no credentialSchema")


@lru_cache(maxsize=64)
def _proof_verified(fmt: str) -> Check:
    """The passed proof check of format ``fmt``: one immutable object per format name, all it
    says (building a frozen dataclass costs thousands of instructions; every verify needs it)."""
    return Check(name="proof", passed=True, detail=f"{fmt} proof verified")


@lru_cache(maxsize=1024)
def _passed(name: str, detail: str) -> Check:
    """A passed check: immutable, so one object serves every result that says the same
    (a frozen dataclass costs about as much to build as the rest of a check's bookkeeping)."""
    return Check(name=name, passed=True, detail=detail)


_UTC_OFFSET: Final = timedelta(0)


@lru_cache(maxsize=64)
def _valid_at(second: tuple[int, int, int, int, int, int, timedelta]) -> Check:
    """The passed validity check of a moment verified at: ``second`` is its year, month, day,
    hour, minute and second and its zone's UTC offset. One object per second: writing the
    detail's ISO time costs more than the rest of the check, and every verify needs it."""
    year, month, day, hour, minute, whole_second, offset = second
    moment = datetime(year, month, day, hour, minute, whole_second, tzinfo=timezone(offset))
    return Check(
        name="validity", passed=True, detail=f"valid at {moment.isoformat(timespec='seconds')}"
    )


def _check(name: str, passed: bool | None, detail: str) -> Check:
    return Check(name=name, passed=passed, detail=detail)


def _problem(code: str, message: str, path: str | None, type_: str | None) -> Problem:
    return Problem(code=code, message=message, path=path, type=type_)


class _ResultInTheMaking:
    """A VerificationResult being built: the very same slots, so that it becomes one by
    ``__class__`` assignment once each is set by a plain store. Calling each slot's
    ``__set__`` (or, in the frozen dataclass's __init__, ``object.__setattr__``) per field
    cost about 16k instructions a verification, more than the validity check."""

    __slots__ = VerificationResult.__slots__


def _verification_result(*values: Any) -> VerificationResult:
    """A VerificationResult of every field's value, in field order (all of them: a ValueError
    otherwise). tests/test_verifier.py checks the order below against the dataclass's."""
    result: Any = _ResultInTheMaking()  # its slots are VerificationResult's
    (
        result.verified,
        result.format,
        result.checks,
        result.errors,
        result.warnings,
        result.credential,
        result.issuer,
        result.method,
        result.trust,
        result.status,
        result.disclosed,
        result.confirmation,
        result.validity,
    ) = values
    result.__class__ = VerificationResult
    return cast(VerificationResult, result)


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
class ProofState:
    """A credential after the proof stage: what it claims, and what signed it (if anything).

    ``claimed`` is what the proof stage read — NOT verified, even when ``proof_passed``;
    ``verified`` is set by the context stage and is the only input of later checks.
    ``vcdm`` is False for credentials that are not VCDM documents (an IETF SD-JWT VC): the
    data-model structure rules do not apply and ``issuer`` names the issuer instead.
    ``disclosed`` lists the selectively disclosed claims; ``extra_checks`` are named checks a
    presentation format adds (the freshness of an SD-JWT key-binding JWT). ``confirmation``:
    the public JWK the credential is bound to (``cnf``).
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
    #: method id → (when that method's proof says it signed, where it says so): Data Integrity
    #: ``created``; otherwise the signing time is the JWT ``iat``, else ``validFrom``.
    signed_at: dict[str, tuple[datetime, str]] = field(default_factory=dict)
    confirmation: Mapping[str, Any] | None = None
    #: At most one object of ``claimed`` has an ``@context`` member, as the proof stage knows
    #: from the JSON text it parsed (:func:`vcred._json.names_at_most_once`), or the walk that
    #: checked a JSON object (:func:`vcred.model.check_json`): the context stage then reads
    #: the top level's alone, when it has one.
    one_context: bool = False
    #: ``claimed``, as it is, passes ``vcred.jsonld.check_read_by_terms``: the proof stage's
    #: expansion of it told so (an RDFC proof), and the context stage need not walk it again
    read_by_terms: bool = False

    @property
    def signed(self) -> dict[str, Any] | None:
        """The document as the context stage established it, else None: all a result may
        report (what failed its proof was signed by nobody)."""
        return self.verified.document if self.verified is not None else None


_Secured = ProofState  # its former name, kept for plugins written against it


@dataclass(slots=True)
class _Report:
    checks: list[Check] = field(default_factory=list)
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    def fail(self, name: str, error: VcredError) -> None:
        self.checks.append(Check(name=name, passed=False, detail=str(error)))
        self.errors.append(Problem.of(error))

    def ok(self, name: str, detail: str = "") -> None:
        self.checks.append(_passed(name, detail))

    def skip(self, name: str, detail: str, *, code: str) -> None:
        self.checks.append(Check(name=name, passed=None, detail=detail))
        self.warnings.append(Problem(code=code, message=detail))

    def run(self, name: str, step: Callable[..., str | None], *args: Any) -> bool:
        """Record ``step(*args)``: passed with the detail it returns, or failed with its error."""
        try:
            detail = step(*args)
        except VcredError as error:
            self.fail(name, error)
            return False
        self.ok(name, detail or "")
        return True

    def verified(self) -> bool:
        """No error, and no check failed."""
        return not self.errors and all(check.passed is not False for check in self.checks)


#: How far inside the calendar's ends a moment must be for every window to be judged at it:
#: it plus or minus any tolerance a verifier allows is still a datetime.
_MOMENT_MARGIN: Final = MAX_CLOCK_SKEW + MAX_KEY_BINDING_AGE
_EARLIEST: Final = datetime.min.replace(tzinfo=UTC) + _MOMENT_MARGIN
_LATEST: Final = datetime.max.replace(tzinfo=UTC) - _MOMENT_MARGIN
_MOMENT_RULE: Final = f"more than {_MOMENT_MARGIN.days} days inside the years 1 to 9999"


def _judgeable(at: object) -> bool:
    """``at`` is a timezone-aware datetime far enough from the calendar's ends that window
    arithmetic on it cannot overflow (aware datetimes compare without an overflow)."""
    # a UTC clock's reading (the default clock's) is aware: no need to ask its zone
    if not isinstance(at, datetime) or (at.tzinfo is not UTC and at.utcoffset() is None):
        return False
    return _EARLIEST <= at <= _LATEST


def _check_moment(at: datetime) -> None:
    """Raises UsageError for an ``at`` no window can be judged at: no datetime (a string),
    naive, or so near the calendar's ends that it minus (or plus) a tolerance is no datetime
    (an OverflowError)."""
    if not isinstance(at, datetime):
        raise UsageError(f"at must be a datetime, not a {type(at).__name__}")
    if at.tzinfo is None:
        raise UsageError("at must be timezone-aware")
    if not _judgeable(at):
        raise UsageError(f"at must be {_MOMENT_RULE}")


@dataclass(frozen=True, slots=True, kw_only=True)
class Verifier:
    """Verification configuration. Change with ``dataclasses.replace(verifier, trust=...)``.

    ``fetcher``: network access for did:web and status lists (none: those fail closed).
    ``trust``: the MRA trust list (none: trust is reported as not evaluated).
    ``schemas``: where credentialSchema ids resolve (default: the bundled schemas).
    ``clock``: the current time (tests pass a fixed one). ``clock_skew``: tolerance on time
    windows (at most :data:`MAX_CLOCK_SKEW`). ``checks``: which optional checks run (all by
    default).
    ``require_key_binding``: an SD-JWT presented without a key-binding JWT is refused (RFC 9901
    §7.3). ``key_binding_max_age``: how old a key-binding JWT's ``iat`` may be (at most a day).
    ``status_max_age``: no status answer rests on a list fetched longer ago; past it a list
    that cannot be fetched again (offline, host down) is STATUS_UNAVAILABLE, not STATUS_STALE.
    ``max_presented_credentials``: a presentation with more credentials is refused before any
    of them is verified (each may cost network fetches). ``bearer_types``: credential types
    anyone may present (no holder binding); the customs types (:data:`NEVER_BEARER_TYPES`)
    are refused here. Every other presented credential must be bound to the presenter.
    ``contexts``: the JSON-LD contexts this verifier knows (default:
    :func:`vcred.jsonld.default_loader`, the bundled ones plus those registered with their
    SHA-256); any other context URL is INVALID_CONTEXT. ``allow_inline_contexts``: accept
    inline ``@context`` objects (VCDM 2.0 permits them) when dropping them leaves what was
    signed unchanged; refused by default.
    ``time_budget``: what every fetch of one ``verify()`` / ``verify_presentation()`` shares
    (DID documents, status lists); once spent, the rest fail fast (DID_RESOLUTION,
    STATUS_UNAVAILABLE) instead of each taking the fetcher's own deadline.
    ``at``: verify as of that moment, not now — validity windows (without ``clock_skew``: a
    moment asked about is no clock reading), key windows and trust at ``at``, and each
    status list as the version its issuer says was in force then (fetched from
    :func:`vcred.status.as_of_url`; one that was not yet valid then is refused; as of a
    moment after the clock's time no version is known: STATUS_UNAVAILABLE). What a
    did:web document said then is not known: its current keys are used.
    ``fetch_related_resources``: also retrieve (through ``fetcher``) and check every https
    ``relatedResource``, failing when one cannot be retrieved; by default only those that are
    JSON-LD contexts are checked, against the contexts as published (:mod:`vcred.related`).
    """

    fetcher: Fetcher | None = None
    resolver: Resolver | None = None
    trust: TrustPolicy | None = None
    schemas: SchemaRegistry | None = None
    clock: Callable[[], datetime] = utc_now
    clock_skew: timedelta = DEFAULT_CLOCK_SKEW
    checks: Sequence[str] = CHECKS
    status_cache: StatusListCache | None = None
    offline: bool = False
    status_max_age: timedelta = DEFAULT_STATUS_MAX_AGE
    max_presented_credentials: int = MAX_PRESENTED_CREDENTIALS
    require_key_binding: bool = True
    key_binding_max_age: timedelta = DEFAULT_KEY_BINDING_MAX_AGE
    contexts: ContextLoader | None = None
    allow_inline_contexts: bool = False
    time_budget: timedelta = DEFAULT_TIME_BUDGET
    bearer_types: frozenset[str] = frozenset()
    fetch_related_resources: bool = False
    at: datetime | None = None
    formats: AbstractSet[str] | None = None
    _resolver: Resolver = field(init=False, repr=False, compare=False)
    _status: StatusChecker = field(init=False, repr=False, compare=False)
    #: ``checks`` with their prerequisites, and the budget in seconds: read by every verify()
    _checks_run: tuple[str, ...] = field(init=False, repr=False, compare=False)
    _budget_seconds: float = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_checks_run", _checks_to_run(self.checks))
        if self.time_budget <= timedelta(0):
            raise UsageError("time_budget must be positive")
        object.__setattr__(self, "_budget_seconds", self.time_budget.total_seconds())
        if not timedelta(0) <= self.clock_skew <= MAX_CLOCK_SKEW:
            raise UsageError(f"clock_skew must be between 0 and {MAX_CLOCK_SKEW}")
        if not timedelta(0) < self.key_binding_max_age <= MAX_KEY_BINDING_AGE:
            raise UsageError(
                f"key_binding_max_age must be more than 0, at most {MAX_KEY_BINDING_AGE}"
            )
        object.__setattr__(self, "bearer_types", check_bearer_types(self.bearer_types))
        object.__setattr__(self, "formats", accepted_formats(self.formats))
        if self.fetch_related_resources and self.fetcher is None:
            raise UsageError("fetch_related_resources needs a fetcher")
        object.__setattr__(self, "_resolver", self.resolver or Resolver(fetcher=self.fetcher))
        # The status cache is kept in the field, so dataclasses.replace() shares it.
        cache = self.status_cache if self.status_cache is not None else StatusListCache()
        object.__setattr__(self, "status_cache", cache)
        if self.at is not None:
            _check_moment(self.at)
        checker = StatusChecker(
            as_of=self.at,
            clock=self.clock_time,
            fetcher=self.fetcher,
            verify_list=self._verify_status_list,
            cache=cache,
            offline=self.offline,
            clock_skew=self.clock_skew,
            max_age=self.status_max_age,
            # a list held in the shared cache is judged by this verifier's pins on each read
            admit=self._admit_status_list if isinstance(self.trust, PinsKeys) else None,
        )
        object.__setattr__(self, "_status", checker)

    def now(self) -> datetime:
        """The moment verified against: ``at``, else the clock's time (:meth:`clock_time`)."""
        return self.at if self.at is not None else self.clock_time()

    def clock_time(self) -> datetime:
        """The clock's time; ValidityError — a failed check, never an exception out of
        verify() — when it is no moment a window can be judged at (naive, or near the
        calendar's ends, where adding the clock skew overflows)."""
        moment = self.clock()
        if not _judgeable(moment):
            raise ValidityError(f"the verifier's clock reads {moment!r}: it must be {_MOMENT_RULE}")
        return moment

    def check_status(self, credential: Mapping[str, Any]) -> StatusReport:
        """The ``credentialStatus`` entries of an already verified ``credential``, checked now
        (a recognition kept after its verification is re-checked this way). Raises
        StatusError when the entries cannot be read, ValidityError when the clock reads no
        moment they can be checked at (:meth:`clock_time`).

        https://www.w3.org/TR/vc-bitstring-status-list/#validate-algorithm
        """
        return self._status.check(credential, now=self.now())

    # -- credentials ------------------------------------------------------------------------

    def verify(
        self, secured: Any, *, checks: Sequence[str] | None = None, at: datetime | None = None
    ) -> VerificationResult:
        """Verify a secured credential in any supported format; never raises for bad input.

        ``secured`` is a compact vc+jwt or SD-JWT string, a JSON string or a dict (Data
        Integrity, or an EnvelopedVerifiableCredential). ``checks``: run these instead of the
        verifier's own (e.g. a VC API request's ``options.checks``); only those run, and
        those they rest on (``trust`` runs ``issuer``: a trust decision is about the issuer
        that signed). The proof is always verified and the structure rules always apply.
        ``at``: this call as of that moment (:attr:`at`; its caches shared), UsageError as
        for :attr:`at`.
        """
        if at is not None and at != self.at:
            return replace(self, at=at).verify(secured, checks=checks)
        # the verifier's own: checked and completed once, in __post_init__
        run = self._checks_run if checks is None else _checks_to_run(tuple(checks))
        with time_budget(self._budget_seconds):
            return self._verify(secured, run)

    def _verify(
        self,
        secured: Any,
        checks: Sequence[str],
        *,
        signed_by: list[tuple[str, datetime | None]] | None = None,
    ) -> VerificationResult:
        """``signed_by``, when given with the "keys" check, receives the signing keys."""
        report = _Report()
        try:
            fmt, document, one_context = _detect(secured)
        except UsageError:
            raise
        except VcredError as error:
            return unreadable(error)
        state = _Secured(format=fmt, one_context=one_context)
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
            report.checks.append(_proof_verified(fmt))
        if state.vcdm and "relatedResource" in credential:  # VCDM 2.0 §5.3: always run
            report.run("relatedResource", lambda: self._check_related(verified))
        stated = _issuer_or_none(credential)
        issuer = state.issuer or stated
        if "issuer" in checks:
            report.run("issuer", _check_issuer_binding, issuer, state.methods, stated)
        if "keys" in checks:
            keys = _signing_keys(state)
            if signed_by is not None:
                signed_by.extend(keys)
            report.run("keys", self._check_pinned_keys, issuer, keys)
        window = None
        if "validity" in checks:
            window = self._validity(report, credential, state.jwt_claims)
        status: tuple[EntryStatus, ...] = ()
        if "status" in checks:
            status = self._check_status(verified, report)
        if "schema" in checks:
            self._check_schema(verified, report)
        trust = None
        if "trust" in checks:
            trust = self._check_trust(verified, report, _signing_keys(state))
        return self._result(
            report, state, trust=trust, status=status, issuer=issuer, validity=window
        )

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
                one_context=state.one_context,
                rdf_signed=state.format == "data-integrity",
                read_by_terms=state.read_by_terms,
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
        trust: TrustDecisionLike | None = None,
        status: tuple[EntryStatus, ...] = (),
        issuer: str | None = None,
        validity: tuple[datetime | None, datetime | None] | None = None,
    ) -> VerificationResult:
        """The result; ``issuer``: the credential's, when already read (else read here)."""
        credential = state.signed
        if credential and issuer is None:
            issuer = state.issuer or _issuer_or_none(credential)
        return _verification_result(
            report.verified(),  # verified, format, checks, errors, warnings
            state.format,
            tuple(report.checks),
            tuple(report.errors),
            tuple(report.warnings),
            credential,  # credential, issuer, method, trust, status
            issuer if credential else None,
            state.methods[0].id if state.methods else None,
            trust,
            status,
            state.disclosed,  # disclosed, confirmation, validity
            state.confirmation,
            validity,
        )

    def _prove(self, document: Any, state: _Secured) -> None:
        entry = registry.get(state.format)
        verifier = entry.verify if entry is not None else None
        if verifier is None:
            state.problems.append(
                Problem(code="UNSUPPORTED", message=f"format {state.format} is not supported")
            )
            return
        if state.format not in (self.formats or ()):
            state.problems.append(Problem.of(_not_accepted(state.format)))
            return
        try:
            verifier(self, document, state)
            _check_key_windows(state, now=self.now)
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

    def _check_related(self, verified: Verified) -> str:
        fetch = self.fetch_related_resources and not self.offline
        return check_related_resources(
            verified.document,
            contexts=self.context_loader,
            fetcher=self.fetcher if fetch else None,
        ).describe()

    def _validity(
        self, report: _Report, credential: Mapping[str, Any], claims: Mapping[str, Any]
    ) -> tuple[datetime | None, datetime | None] | None:
        """Run the validity check: the window it read when it passed, else None."""
        try:
            window = _validity_window(credential, claims)
            now = self._check_validity(window, credential)
        except VcredError as error:
            report.fail("validity", error)
            return None
        # the moment to the second, with its zone's offset (a UTC reading's is known; reading
        # the fields costs a quarter of datetime.replace's keywords)
        offset = _UTC_OFFSET if now.tzinfo is UTC else now.utcoffset()
        second = (now.year, now.month, now.day, now.hour, now.minute, now.second, offset)
        report.checks.append(_valid_at(second))
        return window

    def _check_validity(
        self, window: tuple[datetime | None, datetime | None], credential: Mapping[str, Any]
    ) -> datetime:
        """Raises NotYetValidError / ExpiredError unless ``window`` holds the moment verified
        at, which it returns."""
        start, end = window
        now = self.now()
        # the skew allows for this verifier's clock against the issuer's: a moment asked about
        # (``at``) is no clock reading, and the window is judged exactly there (as the status
        # check reads lists as of a moment)
        skew = self.clock_skew if self.at is None else timedelta(0)
        if start is not None and now + skew < start:
            raise NotYetValidError(
                f"not valid before {start.isoformat()}", pointer=_start_pointer(credential)
            )
        # the end is not in the window: a credential "ceases to be valid" at its validUntil
        # (VCDM 2.0 §4.9), a JWT is accepted only before its exp (RFC 7519 §4.1.4)
        if end is not None and now - skew >= end:
            raise ExpiredError(f"expired at {end.isoformat()}", pointer=_end_pointer(credential))
        return now

    def _check_pinned_keys(
        self, issuer: str | None, signing_keys: tuple[tuple[str, datetime | None], ...]
    ) -> str:
        """The keys that signed (a status list) are those the trust policy pins for its
        issuer; raises UnknownKeyError when one is not, or signed outside its window. A
        partner's key withdrawn from the trust list (compromised) must not sign the lists
        that say whether its certificates still hold."""
        if not isinstance(self.trust, PinsKeys) or issuer is None:
            return "no keys pinned"
        refusal = self.trust.key_refusal(issuer, signing_keys, now=self.now())
        if refusal is not None:
            raise UnknownKeyError(refusal, pointer="/issuer")
        return "signed with keys the trust list admits"

    def _check_status(self, verified: Verified, report: _Report) -> tuple[EntryStatus, ...]:
        """Every status the credential carries is checked, or the check fails: a status this
        verifier cannot read (another entry type, a Token Status List claim) is
        STATUS_UNAVAILABLE, never passed over."""
        credential = verified.document
        errors: list[VcredError] = list(_unreadable_status(credential))
        if "credentialStatus" not in credential and not errors:
            report.checks.append(_NO_STATUS)
            return ()
        entries: tuple[EntryStatus, ...] = ()
        if "credentialStatus" in credential:
            try:
                outcome = self._status.check(credential, now=self.now())
            except VcredError as error:
                errors.insert(0, error)
            else:
                entries = outcome.entries
                errors.extend(outcome.errors)
        for entry in entries:
            if entry.stale and entry.age is not None:
                report.warnings.append(
                    Problem(
                        code="STATUS_STALE",
                        message=f"status from a list fetched {int(entry.age.total_seconds())} s "
                        f"ago (the list could not be refreshed)",
                        path=entry.pointer,
                    )
                )
        if errors:
            report.checks.append(Check(name="status", passed=False, detail=str(errors[0])))
            report.errors.extend(Problem.of(error) for error in errors)
        elif not entries:
            report.ok("status", "no status entry")
        else:
            purposes = ", ".join(f"{e.purpose} {e.index}: {e.value} ({e.message})" for e in entries)
            report.ok("status", f"not revoked or suspended ({purposes})")
        return entries

    def _admit_status_list(self, status_list: StatusList) -> None:
        """A list, fetched or held, is signed with keys the trust policy pins for its issuer
        now (:meth:`_check_pinned_keys`): whoever fetched it into the shared cache, under
        whichever trust list (one that has since withdrawn the key, or none)."""
        self._check_pinned_keys(status_list.issuer, status_list.signing_keys)

    def _verify_status_list(self, secured: object) -> VerifiedList:
        """Verify a fetched status list credential: its proof, issuer binding, validity and
        keys; returned with the keys that signed it (:meth:`_admit_status_list`)."""
        keys: list[tuple[str, datetime | None]] = []
        result = self._verify(secured, _STATUS_LIST_CHECKS, signed_by=keys)
        if not result.verified or result.credential is None:
            problem = result.errors[0] if result.errors else None
            if problem is None:
                raise CryptographicError("the status list does not verify")
            # where in the list (e.g. a number out of range found while parsing its payload)
            where = f" (at {problem.path})" if problem.path else ""
            raise CryptographicError(f"{problem.message}{where}")
        fmt, token = detect(secured)  # as _verify read it (an envelope opened)
        if fmt == "vc+sd-jwt" and isinstance(token, str) and _conceals_claims(token):
            # a list has no holder, and anyone serving it can drop a disclosure: a withheld
            # ttl, purpose or statusSize would change what the status check reads, on an
            # absence nobody signed (a withheld digest and a decoy look alike)
            raise StatusVerificationError(
                "the status list is an SD-JWT with claims that may be withheld "
                "(selectively disclosable members or decoy digests): refused"
            )
        return VerifiedList(credential=result.credential, signing_keys=tuple(keys))

    def _check_schema(self, verified: Verified, report: _Report) -> None:
        credential = verified.document
        if "credentialSchema" not in credential:
            report.checks.append(_NO_SCHEMA)
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
        self,
        verified: Verified,
        report: _Report,
        signing_keys: tuple[tuple[str, datetime | None], ...],
    ) -> TrustDecisionLike | None:
        if self.trust is None:
            report.skip(
                "trust",
                "no trust list configured: issuer trust not evaluated",
                code="TRUST_NOT_EVALUATED",
            )
            return None
        # the keys whose proofs verified: a trust list may pin an issuer's keys
        decision = self.trust.evaluate_credential(
            verified.document, now=self.now(), signing_keys=signing_keys
        )
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
        with time_budget(self._budget_seconds):
            return self._verify_presentation(presentation, challenge=challenge, domain=domain)

    def _verify_presentation(
        self, presentation: Any, *, challenge: str | None, domain: str | None
    ) -> PresentationResult:
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
            if fmt != "vp+jwt":
                # a compact format (an SD-JWT with key binding) describes its presentation itself
                state.claimed = document if isinstance(document, dict) else None
            signed_challenge, signed_domain = _verify_presentation_proof(self, document, state)
            _check_key_windows(state, now=self.now)
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
                report.checks.append(_proof_verified(fmt))
        vp = state.verified.document if state.verified is not None else (state.claimed or {})
        try:
            model.validate_presentation(vp)
        except VcredError as error:
            report.fail("structure", error)
        holder = _holder_or_none(vp)
        for name, expected, signed in (
            ("challenge", challenge, signed_challenge),
            ("domain", domain, signed_domain),
        ):
            if expected is None:  # the caller's choice: not evaluated, never passed
                detail = f"not evaluated: no {name} was expected"
                report.skip(name, detail, code=f"{name.upper()}_NOT_CHECKED")
            else:
                report.run(name, partial(_expect, name, expected, signed))
        if state.jwt_claims:
            # a presentation's validity is its signed JWT claims alone
            self._validity(report, {}, state.jwt_claims)
        for name, step in state.extra_checks:
            report.run(name, step)
        results = self._verify_embedded(vp, report)
        self._check_holder(report, holder, state, results)
        verified_all = not report.errors and all(r.verified for r in results)
        return PresentationResult(
            verified=verified_all and report.verified(),
            format=fmt,
            checks=tuple(report.checks),
            errors=tuple(report.errors),
            warnings=tuple(report.warnings),
            presentation=state.signed,
            holder=holder if state.signed is not None else None,
            credentials=tuple(results),
        )

    def _check_holder(
        self,
        report: _Report,
        holder: str | None,
        state: _Secured,
        results: Sequence[VerificationResult],
    ) -> None:
        """Every presented credential must be the presenter's (or of a bearer type)."""
        if not state.proof_passed:
            report.skip(
                "holder",
                "not evaluated: the presentation's proof did not verify, so nobody presented it",
                code="HOLDER_NOT_EVALUATED",
            )
            return
        try:
            presenter = _presenter(holder, state.methods)
        except VcredError as error:
            report.fail("holder", error)
            return
        found = [_binding_error(i, r, presenter, self.bearer_types) for i, r in enumerate(results)]
        mismatches = [mismatch for mismatch in found if mismatch is not None]
        if mismatches:
            report.checks.append(Check(name="holder", passed=False, detail=str(mismatches[0])))
            report.errors.extend(Problem.of(mismatch) for mismatch in mismatches)
        else:
            report.ok("holder", f"every credential is bound to {presenter.did or 'nobody'}")

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
        results = [not_a_credential(item) or self.verify(item) for item in items]
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


def unreadable(error: VcredError) -> VerificationResult:
    """The result of an input no format reads (``error`` says why): its proof fails."""
    return VerificationResult(
        verified=False,
        format=None,
        checks=(Check(name="proof", passed=False, detail=str(error)),),
        errors=(Problem.of(error),),
    )


def not_a_credential(item: Any) -> VerificationResult | None:
    """The failed result of an item no format could read (a number, null, an array), or None.

    :meth:`Verifier.verify` refuses such an argument as misuse (UsageError); as an item of
    data — a presentation's ``verifiableCredential``, a batch — it is the sender's fault.
    """
    if isinstance(item, str | bytes | dict):
        return None
    return unreadable(
        MalformedError("not a secured credential: expected a JSON object or a compact string")
    )


# -- format detection --------------------------------------------------------------------------

# EnvelopedVerifiableCredential media types (VCDM 2.0 §4.13.1) → pipeline format; an IETF
# SD-JWT VC (application/dc+sd-jwt) goes through the same SD-JWT proof stage.
_ENVELOPED_FORMATS: Final = {
    "application/vc+jwt": "vc+jwt",
    "application/jwt": "vc+jwt",
    "application/vc+sd-jwt": "vc+sd-jwt",
    "application/dc+sd-jwt": "vc+sd-jwt",
    "application/vc+cose": "vc+cose",
}

# EnvelopedVerifiablePresentation media types (VCDM 2.0 §4.13.2) → presentation format.
_ENVELOPED_PRESENTATION_FORMATS: Final = {
    "application/vp+jwt": "vp+jwt",
    "application/jwt": "vp+jwt",
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
    fmt, document, _ = _detect(secured)
    return fmt, document


def _detect(secured: Any, *, parsed: bool = False) -> tuple[str, Any, bool]:
    """:func:`detect`, and whether at most the top level of the JSON object to verify has an
    ``@context`` member (:attr:`_Secured.one_context`), told by the walk that checks it.

    A JSON object is copied by that walk unless ``parsed`` here from the input's text."""
    if isinstance(secured, bytes) and secured.startswith(model.COSE_SIGN1_PREFIX):
        return "vc+cose", secured, False
    if isinstance(secured, bytes):
        try:
            secured = secured.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ParsingError("input is not UTF-8") from exc
    if isinstance(secured, str):
        text = secured.strip()
        if text.startswith("{"):
            return _detect(jose.loads_strict(text, what="credential"), parsed=True)
        if "~" in text:
            return "vc+sd-jwt", text, False
        if jose.two_dots(text) is not None:
            return "vc+jwt", text, False
        cose = _cose_bytes(text)
        if cose is not None:
            return "vc+cose", cose, False
        raise ParsingError(
            "not a credential: expected JSON, a compact JWS, an SD-JWT or a COSE_Sign1"
        )
    if isinstance(secured, dict):
        # before anything recursive (JSON-LD, JCS) sees it, turns a number into a float or a
        # date, or hashes a string as UTF-8; the copy is what every stage reads, so that what
        # the proof stage verified is what the result reports, whoever holds the input
        secured, context_holders = model.checked_copy(secured, copy=not parsed)
        if model.is_enveloped(secured):
            media_type, data = model.enveloped_payload(secured)
            return _ENVELOPED_FORMATS.get(media_type, "vc"), data, False
        if "proof" in secured:
            # a proof's own @context (eddsa-jcs-2022 copies the document's) is not in what
            # the context stage reads: the document without its proofs
            in_proofs = sum(
                isinstance(proof, dict) and "@context" in proof
                for proof in model.as_list(secured["proof"])
            )
            return "data-integrity", secured, context_holders - in_proofs == 1
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
        try:
            secured = secured.decode("utf-8")
        except UnicodeDecodeError as exc:  # as detect(): replaced, the text is not what was sent
            raise ParsingError("input is not UTF-8") from exc
    if isinstance(secured, str):
        text = secured.strip()
        if text.startswith("{"):
            return detect_presentation(jose.loads_strict(text, what="presentation"))
        if "~" in text:
            return "vc+sd-jwt", text
        if jose.two_dots(text) is not None:
            return "vp+jwt", text
        cose = _cose_bytes(text)
        if cose is not None:
            return "vp+cose", cose
        raise ParsingError(
            "not a presentation: expected JSON, a compact JWS, an SD-JWT or a COSE_Sign1"
        )
    if isinstance(secured, dict):
        model.check_json(secured)
        if model.is_enveloped(secured, "EnvelopedVerifiablePresentation"):
            media_type, data = model.enveloped_payload(
                secured, media_types=model.ENVELOPED_PRESENTATION_MEDIA_TYPES
            )
            fmt = _ENVELOPED_PRESENTATION_FORMATS.get(media_type)
            if fmt is None:
                raise UnsupportedError(
                    f"presentations enveloped as {media_type} are not supported", pointer="/id"
                )
            return fmt, data
        if "proof" in secured:
            return "data-integrity", secured
        raise MalformedError("the presentation is not secured: it has no proof", pointer="/proof")
    raise UsageError(f"cannot verify a {type(secured).__name__}; pass a str, bytes or dict")


# -- the proof stage per format ----------------------------------------------------------------


def _unverified_json(token: str) -> dict[str, Any] | None:
    try:
        return jose.unverified_payload(token)
    except VcredError:
        return None


def register_format(name: str, verifier: ProofVerifier) -> None:
    """Plug a credential proof stage in (prefer ``vcred.formats.registry.register``)."""
    registry.register(Format(name=name, verify=verifier))


def _verify_presentation_proof(
    verifier: Verifier, document: Any, state: ProofState
) -> tuple[Any, Any]:
    entry = registry.get(state.format)
    prover = entry.verify_presentation if entry is not None else None
    if prover is None:
        raise PresentationError(f"presentations secured as {state.format} are not supported")
    if state.format not in (verifier.formats or ()):
        raise _not_accepted(state.format)
    return prover(verifier, document, state)


def register_presentation_format(name: str, verifier: PresentationProofVerifier) -> None:
    """Plug a presentation proof stage in; it returns the signed (challenge, domain)
    (prefer ``vcred.formats.registry.register``)."""
    registry.register(Format(name=name, verify_presentation=verifier))


def accepted_formats(formats: Iterable[str] | None) -> frozenset[str]:
    """The formats a verifier accepts: ``formats``, or every one that can be verified.

    Raises UsageError for a name no registered format verifies.
    """
    verifiable = {*registry.names("verify"), *registry.names("verify_presentation")}
    if formats is None:
        return frozenset(verifiable)
    if isinstance(formats, str):
        raise UsageError("formats is a set of format names, not one string")
    chosen = frozenset(formats)
    unknown = chosen - verifiable
    if unknown:
        raise UsageError(
            f"unknown formats {sorted(unknown)}; known: {', '.join(sorted(verifiable))}"
        )
    return chosen


def _not_accepted(fmt: str) -> UnsupportedError:
    return UnsupportedError(f"this verifier does not accept the format {fmt}")


# -- individual checks -------------------------------------------------------------------------


def _checks_to_run(names: Sequence[str]) -> tuple[str, ...]:
    """``names`` with their prerequisites (:func:`with_prerequisites`). Raises UsageError
    for a name that is not a check."""
    unknown = set(names) - set(CHECKS)
    if unknown:
        raise UsageError(f"unknown checks {sorted(unknown)}; known: {', '.join(CHECKS)}")
    return with_prerequisites(names)


def with_prerequisites(checks: Sequence[str]) -> tuple[str, ...]:
    """``checks`` and the checks they rest on, in pipeline order: ``trust`` needs ``issuer``
    (trusting the named issuer of a credential someone else signed would be steerable)."""
    wanted = set(checks) | ({"issuer"} if "trust" in checks else set())
    return tuple(name for name in CHECKS if name in wanted)


def _signing_keys(state: _Secured) -> tuple[tuple[str, datetime | None], ...]:
    """(JWK thumbprint, signing time) of each key whose proof verified; a signing time that
    cannot be read (the validity check reports it) is None: the trust rule then uses now."""
    found = []
    for method in state.methods:
        try:
            signed_at = _signing_time(method, state)[0]
        except MalformedError:
            signed_at = None
        found.append((method.public_key.thumbprint(), signed_at))
    return tuple(found)


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


def _conceals_claims(sd_jwt: str) -> bool:
    """Whether the issuer-signed JWT of ``sd_jwt`` (whose signature has verified) carries a
    digest — an ``_sd`` member or a ``...`` array element — anywhere (RFC 9901 §4.2.4)."""
    pending: list[Any] = [jose.unverified_payload(sd_jwt.split("~", 1)[0])]
    while pending:  # iterative: the depth was bounded by the proof stage, not trusted here
        value = pending.pop()
        if isinstance(value, Mapping):
            if "_sd" in value or "..." in value:
                return True
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
    return False


def _unreadable_status(credential: Mapping[str, Any]) -> list[StatusUnavailableError]:
    """Status information the credential carries that no status check here can read.

    The ``status`` claim (IETF Token Status List, SD-JWT VC and JWT) and ``credentialStatus``
    entries of a type the status check does not read (not BitstringStatusListEntry,
    StatusList2021Entry or RevocationList2020Status): the issuer said where to look, the
    verifier cannot, so the status is unknown.
    """
    unreadable: list[StatusUnavailableError] = []
    if "credentialStatus" not in credential and "status" not in credential:
        return unreadable
    if "status" in credential:
        unreadable.append(
            StatusUnavailableError(
                "the status claim (Token Status List) cannot be checked by this verifier",
                pointer="/status",
            )
        )
    entries = credential.get("credentialStatus")
    listed = isinstance(entries, list)
    for i, entry in enumerate(model.as_list(entries)):
        if isinstance(entry, Mapping) and not is_status_entry(entry):
            kind = json.dumps(entry.get("type"))[:80]
            unreadable.append(
                StatusUnavailableError(
                    f"credentialStatus of type {kind} cannot be checked by this verifier",
                    pointer="/credentialStatus" + (f"/{i}" if listed else ""),
                )
            )
    return unreadable


def _check_issuer_binding(
    issuer: str | None, methods: Sequence[VerificationMethod], stated: str | None = None
) -> str:
    """Each key that signed must be controlled by the issuer (VC Data Integrity §4.5 step 6).

    ``issuer`` is the one the format's proof bound (an SD-JWT VC's ``iss``), else the
    credential's; a credential ``stated`` to be another's is refused, whatever the format:
    the checks after this one (trust above all) read the credential's.
    """
    if issuer is None:
        raise MalformedError("the credential has no issuer", pointer="/issuer")
    if stated is not None and stated != issuer:
        raise MalformedError(
            f"the credential names the issuer {stated[:200]}, its proof binds {issuer[:200]}",
            pointer="/issuer",
        )
    for vm in methods:
        if vm.controller != issuer:
            raise UnknownKeyError(
                f"the proof key {vm.id} is controlled by {vm.controller}, "
                f"not by the issuer {issuer}",
                pointer="/issuer",
            )
    return f"signed by {issuer}" if is_did(issuer) else f"signed for {issuer}"


def _check_key_windows(state: _Secured, *, now: Callable[[], datetime]) -> None:
    """No method signed at or after its ``revoked`` / ``expires`` time (CID 1.0 §2.2).

    The one place every format, presentation, status list and trust list passes: the proof
    stage has resolved the methods; this asks each whether it could sign when the proof says
    it did. Raises KeyRevokedError / KeyExpiredError.
    """
    for vm in state.methods:
        if vm.revoked is None and vm.expires is None:
            continue
        signed_at, pointer = _signing_time(vm, state)
        vm.check_signed_at(signed_at, now=now(), pointer=pointer)


def _signing_time(vm: VerificationMethod, state: _Secured) -> tuple[datetime | None, str]:
    """When ``vm`` signed: its own proof's time (Data Integrity ``created``), else the JWT
    ``iat``, else the credential's ``validFrom`` (``issuanceDate``); None if nothing says."""
    if vm.id in state.signed_at:
        return state.signed_at[vm.id]
    if "iat" in state.jwt_claims:
        return jose.numeric_date(state.jwt_claims["iat"], pointer="/iat"), "/iat"
    credential = state.claimed or {}
    pointer = _start_pointer(credential)
    if pointer[1:] in credential:
        try:
            return model.parse_datetime(credential[pointer[1:]], pointer=pointer), pointer
        except MalformedError:
            pass  # the structure check reports it; here it is a time nobody can rely on
    return None, "/proof" if state.format == "data-integrity" else "/iat"


@dataclass(frozen=True, slots=True)
class _Presenter:
    """Who presented: the DID controlling the keys that signed the presentation, and the keys.

    ``did`` is None when no key signed (an SD-JWT presented without key binding).
    """

    did: str | None
    keys: tuple[PublicKey, ...]


def _presenter(holder: str | None, methods: Sequence[VerificationMethod]) -> _Presenter:
    """The presenter is the holder (VCDM 2.0 §4.13): the party whose keys signed.

    A named ``holder`` must control every key that signed; without one, the keys' single
    controller is the holder. Raises HolderMismatchError.
    """
    controllers = sorted({vm.controller for vm in methods})
    if holder is not None and controllers != [holder]:
        signers = ", ".join(controllers) or "no key"
        raise HolderMismatchError(
            f"the presentation names the holder {holder} but was signed by {signers}",
            pointer="/holder",
        )
    if len(controllers) > 1:
        raise HolderMismatchError(
            f"the presentation names no holder and was signed by {len(controllers)} parties",
            pointer="/proof",
        )
    return _Presenter(
        did=controllers[0] if controllers else None,
        keys=tuple(vm.public_key for vm in methods),
    )


def _binding_error(
    index: int, result: VerificationResult, presenter: _Presenter, bearer_types: frozenset[str]
) -> HolderMismatchError | None:
    """Why credential ``index`` is not the presenter's, or None when it is (or is bearer).

    A credential is bound by its subjects' DIDs (every one must be the presenter) and by its
    ``cnf`` key (it must have signed the presentation); a subject identified otherwise (an
    export declaration's URN) is a thing, not a party, and binds nobody. A credential bound
    to nobody cannot be shown to be the presenter's: it passes only as a configured bearer
    type.
    """
    credential = result.credential or {}
    where = f"/verifiableCredential/{index}"
    if _is_bearer(credential, bearer_types):
        return None
    presenter_name = presenter.did or "nobody (no key signed the presentation)"
    bound = False
    for pointer, subject_id in _subject_dids(credential, presenter=presenter.did):
        if subject_id != presenter.did:
            return HolderMismatchError(
                f"credential {index} is about {subject_id}, not about the presenter "
                f"{presenter_name}",
                pointer=where + pointer,
            )
        bound = True
    try:
        key = _bound_key(result)
    except VcredError as error:
        return HolderMismatchError(error.message, pointer=where + (error.pointer or ""))
    if key is not None:
        if key not in presenter.keys:
            return HolderMismatchError(
                f"credential {index} is bound (cnf) to a key that did not sign the presentation",
                pointer=where + "/cnf",
            )
        bound = True
    if bound:
        return None
    return HolderMismatchError(
        f"credential {index} names no subject DID and no cnf key: nothing shows it is the "
        f"presenter's, and its type is not accepted as a bearer credential",
        pointer=where,
    )


def _subject_dids(
    credential: Mapping[str, Any], *, presenter: str | None = None
) -> list[tuple[str, str]]:
    """(pointer, DID) of every credential subject identified by a DID, and of every subject
    whose id is the ``presenter``'s https URL (a holder known by URL, whose key the verifier
    was given: ``KeyResolver``); other URLs name things, not parties."""
    subjects = credential.get("credentialSubject")
    listed = isinstance(subjects, list)
    found = []
    for i, subject in enumerate(model.as_list(subjects)):
        subject_id = subject.get("id") if isinstance(subject, dict) else None
        if isinstance(subject_id, str) and (
            is_did(subject_id) or (subject_id == presenter and is_https_url(subject_id))
        ):
            found.append((f"/credentialSubject{f'/{i}' if listed else ''}/id", subject_id))
    return found


def _bound_key(result: VerificationResult) -> PublicKey | None:
    """The key a credential is bound to: its ``cnf`` (RFC 7800 §3.2, ``jwk``), if any.

    SD-JWT proof stages report it as ``confirmation``; a vc+jwt keeps ``cnf`` in its claims.
    Raises MalformedError for a ``cnf`` that holds no usable key.
    """
    jwk: Any = result.confirmation
    if jwk is None:
        cnf = (result.credential or {}).get("cnf")
        if cnf is None:
            return None
        jwk = cnf.get("jwk") if isinstance(cnf, dict) else None
    if not isinstance(jwk, dict):
        raise MalformedError("cnf must hold the holder's public key as jwk", pointer="/cnf")
    try:
        return PublicKey.from_signing_jwk(jwk)
    except VcredError as exc:
        raise MalformedError(f"the cnf key is unusable: {exc.message}", pointer="/cnf") from exc


def _is_bearer(credential: Mapping[str, Any], bearer_types: frozenset[str]) -> bool:
    """Whether a credential is of a configured bearer type and of no never-bearer type."""
    types = [t for t in model.as_list(credential.get("type")) if isinstance(t, str)]
    if isinstance(credential.get("vct"), str):  # an SD-JWT VC names its type in vct
        types.append(credential["vct"])
    if any(_type_name(t) in NEVER_BEARER_TYPES for t in types):
        return False
    return any(t in bearer_types for t in types)


def _type_name(credential_type: str) -> str:
    """A type's term: the last segment of an IRI (``…/ns/customs#AEOCertificateCredential``)."""
    return credential_type.rsplit("#", 1)[-1].rsplit("/", 1)[-1]


def check_bearer_types(types: Any) -> frozenset[str]:
    """Bearer credential types as a frozenset; UsageError for a customs type or a non-string.

    https://www.w3.org/TR/vc-data-model-2.0/#holder: a bearer credential needs no holder
    binding, so a customs credential — which an officer acts on — never is one.
    """
    names = tuple(types) if isinstance(types, Iterable) and not isinstance(types, str) else None
    if names is None or not all(isinstance(t, str) and t for t in names):
        raise UsageError("bearer_types must be a set of credential type names")
    refused = sorted(t for t in names if _type_name(t) in NEVER_BEARER_TYPES)
    if refused:
        raise UsageError(
            f"{', '.join(refused)} can never be a bearer credential: it is accepted only from "
            "the party it is bound to"
        )
    return frozenset(names)


def _expect(name: str, expected: str, signed: Any) -> str:
    error = ChallengeError if name == "challenge" else DomainError
    # a domain may be several (VC Data Integrity's domain, a JWT's aud); a challenge is one:
    # a nonce array would bind one presentation to every transaction it lists
    values = signed if isinstance(signed, list) and name == "domain" else [signed]
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

    A JWT time claim that contradicts the credential's date is an error, not a silent choice;
    one that is no NumericDate (``iat`` too, which bounds nothing here but dates the
    signature for a key's revocation) is malformed.
    """
    if "iat" in claims:
        jose.check_numeric_date(claims["iat"], pointer="/iat")
    # VCDM 2.0's names, else VC 1.1's (issuanceDate, expirationDate)
    start = end = None
    if "validFrom" in credential:
        start = model.parse_datetime(credential["validFrom"], pointer="/validFrom")
    elif "issuanceDate" in credential:
        start = model.parse_datetime(credential["issuanceDate"], pointer="/issuanceDate")
    if "validUntil" in credential:
        end = model.parse_datetime(credential["validUntil"], pointer="/validUntil")
    elif "expirationDate" in credential:
        end = model.parse_datetime(credential["expirationDate"], pointer="/expirationDate")
    if "nbf" not in claims and "exp" not in claims:
        return start, end
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
