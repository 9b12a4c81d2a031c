"""The securing formats: one registry for issuing, presenting and verifying each of them.

A format (``vc+jwt``, ``vc+sd-jwt``, ``data-integrity``, a cryptosuite name, ``vc+cose`` …)
is one :class:`Format`: what :func:`vcred.issue` calls to secure a credential and the
options it takes, what :func:`vcred.present` calls, and the proof stages of
:meth:`vcred.Verifier.verify` and :meth:`~vcred.Verifier.verify_presentation`. Plugins add
theirs with :meth:`FormatRegistry.register` on :data:`registry`; a proof stage receives the
verifier and a :class:`vcred.verifier.ProofState` to fill in.

An option a format does not name in its ``issue_options`` / ``present_options`` is refused
(UsageError), so a misspelt or misplaced option is never silently ignored.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from vcred.errors import UsageError

if TYPE_CHECKING:  # types only: the pipeline imports this module
    from vcred.verifier import ProofState, Verifier

Secured = str | bytes | dict[str, Any]

#: How long a presentation is valid by default (vp+jwt ``exp``, vp+cose, Data Integrity
#: ``expires``): long enough to reach the verifier, too short to be replayed later.
PRESENTATION_LIFETIME: Final = timedelta(minutes=5)

CredentialIssuer = Callable[..., Secured]
"""``(credential, signer, *, <its issue_options>) -> secured``: the credential is already
checked, its issuer set."""

PresentationIssuer = Callable[..., Secured]
"""``(presentation, signer, *, challenge, domain, now, <its present_options>) -> secured``."""

ProofVerifier = Callable[["Verifier", Any, "ProofState"], None]
"""Verifies one credential's proofs, filling in ``state.claimed`` and ``state.methods``."""

PresentationProofVerifier = Callable[["Verifier", Any, "ProofState"], tuple[Any, Any]]
"""Verifies a presentation's proofs like :data:`ProofVerifier`; returns the signed
(challenge, domain)."""

#: Every option of :func:`vcred.issue` beyond ``format``; ``now`` and ``loader`` serve every
#: format (the signing time; the contexts a relatedResource digest is checked against).
ISSUE_OPTIONS: Final = (
    "now",
    "loader",
    "disclosable",
    "holder",
    "resolver",
    "created",
    "expires",
    "proof_id",
    "previous_proof",
    "cryptosuite",
    "mandatory_pointers",
)
COMMON_ISSUE_OPTIONS: Final = frozenset({"now", "loader"})
#: Every option of :func:`vcred.present` beyond ``format``; challenge, domain and now serve all.
PRESENT_OPTIONS: Final = ("challenge", "domain", "now", "lifetime")
COMMON_PRESENT_OPTIONS: Final = frozenset({"challenge", "domain", "now"})


@dataclass(frozen=True, slots=True, kw_only=True)
class Format:
    """One securing format and what vcred does with it (None: that operation is refused).

    ``issue_refusal``: the message :func:`vcred.issue` answers for a format vcred verifies but
    never makes (the proof types that predate Data Integrity). ``issue_checks_text``: its
    ``issue`` refuses a lone surrogate itself (MalformedError with the pointer, as the UTF-8
    encoding of :func:`vcred.jose.compact_json` does), so :func:`vcred.issue` does not walk the
    document for one first.
    """

    name: str
    issue: CredentialIssuer | None = None
    issue_options: frozenset[str] = field(default_factory=frozenset)
    issue_checks_text: bool = False
    issue_refusal: str | None = None
    present: PresentationIssuer | None = None
    present_options: frozenset[str] = field(default_factory=frozenset)
    verify: ProofVerifier | None = None
    verify_presentation: PresentationProofVerifier | None = None


class FormatRegistry:
    """The formats by name. Registering a name again merges: the parts given replace theirs."""

    def __init__(self) -> None:
        self._formats: dict[str, Format] = {}

    def register(self, fmt: Format) -> None:
        """Add ``fmt``, or complete the entry of the same name with the parts it sets.

        Raises UsageError for an option no :func:`vcred.issue` / :func:`vcred.present` has.
        """
        for options, known in (
            (fmt.issue_options, ISSUE_OPTIONS),
            (fmt.present_options, PRESENT_OPTIONS),
        ):
            unknown = set(options) - set(known)
            if unknown:
                raise UsageError(f"format {fmt.name}: unknown options {sorted(unknown)}")
        current = self._formats.get(fmt.name)
        if current is None:
            self._formats[fmt.name] = fmt
            return
        parts = {
            name: getattr(fmt, name)
            for name in ("issue", "issue_refusal", "present", "verify", "verify_presentation")
            if getattr(fmt, name) is not None
        }
        if fmt.issue is not None:  # what is said of an issuer is replaced with it
            parts["issue_options"] = fmt.issue_options
            parts["issue_checks_text"] = fmt.issue_checks_text
        if fmt.present is not None:
            parts["present_options"] = fmt.present_options
        self._formats[fmt.name] = replace(current, **parts)

    def get(self, name: str) -> Format | None:
        return self._formats.get(name)

    def __getitem__(self, name: str) -> Format:
        return self._formats[name]

    def __contains__(self, name: object) -> bool:
        return name in self._formats

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._formats))

    def names(self, operation: str) -> tuple[str, ...]:
        """The formats that can ``operation`` (a :class:`Format` part: "issue", "verify" …)."""
        return tuple(name for name in self if getattr(self._formats[name], operation) is not None)

    def issuers(self) -> Mapping[str, CredentialIssuer]:
        """Name → issue function of every format :func:`vcred.issue` makes."""
        return {name: f.issue for name, f in sorted(self._formats.items()) if f.issue}

    def issue_refusals(self) -> Mapping[str, str]:
        """Name → refusal of the formats vcred verifies but never issues."""
        return {n: f.issue_refusal for n, f in sorted(self._formats.items()) if f.issue_refusal}


#: The one registry: filled when vcred is imported (jose, SD-JWT, COSE, Data Integrity).
registry: Final = FormatRegistry()


def timed_presenter(secure: Callable[..., Secured]) -> PresentationIssuer:
    """The present function of a format whose ``secure(presentation, signer, *, challenge,
    domain, issued_at, expires_at)`` takes its validity as NumericDates (vp+jwt, vp+cose):
    valid from ``now`` for ``lifetime`` (default :data:`PRESENTATION_LIFETIME`)."""

    def present_timed(
        presentation: Mapping[str, Any],
        signer: Any,
        *,
        challenge: str | None = None,
        domain: str | None = None,
        now: datetime,
        lifetime: timedelta | None = None,
    ) -> Secured:
        issued = int(now.timestamp())
        valid_for = PRESENTATION_LIFETIME if lifetime is None else lifetime
        return secure(
            presentation,
            signer,
            challenge=challenge,
            domain=domain,
            issued_at=issued,
            expires_at=issued + int(valid_for.total_seconds()),
        )

    return present_timed


def refuse_unused(fmt: str, given: Mapping[str, Any], used: frozenset[str], what: str) -> None:
    """Raise UsageError naming the first option in ``given`` that ``fmt`` does not use."""
    refused = sorted(set(given) - used)
    if refused:
        uses = ", ".join(sorted(used)) or "none"
        raise UsageError(
            f"format {fmt!r} does not use the {what} option {refused[0]!r} (it uses: {uses})"
        )


def given_options(**options: Any) -> dict[str, Any]:
    """The options a caller gave (None is "not given", as every default is None)."""
    return {name: value for name, value in options.items() if value is not None}


def keyword_options(function: Callable[..., Any]) -> frozenset[str]:
    """The keyword-only parameters of ``function``: the options a legacy registration uses."""
    parameters = inspect.signature(function).parameters.values()
    return frozenset(p.name for p in parameters if p.kind is inspect.Parameter.KEYWORD_ONLY)
