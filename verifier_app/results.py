"""Verification results as the VC API answers them (DESIGN §6).

``{"verified": true, "checks": [...], "warnings": [...], "trust": {...}}`` for a credential
that verified; the same with ``"verified": false`` and ``"problemDetails"`` for one that did
not. Every error and warning is an RFC 9457 problem detail whose ``type`` is the VCDM /
Data Integrity / Bitstring Status List URL of its error class (``vcred.errors``), with our
stable ``code`` and the JSON Pointer where it broke.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final

from vcred.errors import VcredError, error_class
from vcred.verifier import PresentationResult, Problem, VerificationResult
from vcred_service.claims import summarise

# Warnings are not errors: they have no class in vcred.errors, so they get a type of ours.
WARNING_TYPE: Final = "https://vcred.dev/problems#"
WARNING_TITLES: Final = {
    "TRUST_NOT_EVALUATED": "Issuer trust not evaluated",
    "STATUS_STALE": "Status information is not current",
    "DID_DOCUMENT_STALE": "Issuer key information is not current",
    "CHALLENGE_NOT_TRACKED": "Challenge not issued by this verifier",
}


def problem_detail(problem: Problem, *, warning: bool = False) -> dict[str, Any]:
    """One error or warning as a problem detail: type, title, detail, code (and pointer)."""
    cls = error_class(problem.code)
    known = cls is not VcredError
    if warning and not known:
        type_ = WARNING_TYPE + problem.code
        title = WARNING_TITLES.get(problem.code, problem.code.replace("_", " ").capitalize())
    else:
        type_ = problem.type or cls.problem_type
        title = cls.title
    detail: dict[str, Any] = {
        "type": type_,
        "title": title,
        "detail": problem.message,
        "code": problem.code,
    }
    if problem.path:
        detail["pointer"] = problem.path
    return detail


def trust_body(result: VerificationResult) -> dict[str, Any]:
    """The trust decision: the MRA, programme and benefits; or why it was not evaluated.

    ``issuerAuthenticated`` says whether the issuer the decision is about is the one that
    signed (proof and issuer checks passed): a forged credential names a trusted issuer too.
    """
    proof, binding = result.check("proof"), result.check("issuer")
    authenticated = bool(proof and proof.passed and binding and binding.passed)
    if result.trust is not None:
        return {"evaluated": True, "issuerAuthenticated": authenticated, **result.trust.as_dict()}
    check = result.check("trust")
    if check is not None:
        reason = check.detail
    elif proof is not None and proof.passed is False:
        # nothing was verified, so no issuer or type to look up: the claims are not read
        reason = "the credential did not verify: no MRA benefits apply"
    else:
        reason = "the trust check was not run"
    return {
        "evaluated": False,
        "issuerAuthenticated": authenticated,
        "trusted": None,
        "reason": reason,
    }


def credential_body(
    result: VerificationResult, *, extra_warnings: Iterable[Problem] = ()
) -> dict[str, Any]:
    """A credential's verification as the VC API returns it."""
    warnings = [*result.warnings, *extra_warnings]
    body: dict[str, Any] = {
        "verified": result.verified,
        "format": result.format,
        "issuer": result.issuer,
        "checks": [check.as_dict() for check in result.checks],
        "warnings": [problem_detail(p, warning=True) for p in warnings],
    }
    if not result.verified:
        body["problemDetails"] = [problem_detail(p) for p in result.errors] or [
            _unverified_problem()
        ]
    body["trust"] = trust_body(result)
    body["status"] = [entry.as_dict() for entry in result.status]
    body["credential"] = summarise(result.credential)
    if result.disclosed:
        body["disclosed"] = list(result.disclosed)
    return body


def presentation_body(
    result: PresentationResult,
    *,
    extra_warnings: Mapping[int, Iterable[Problem]] | None = None,
) -> dict[str, Any]:
    """A presentation's verification: its own checks, then each credential's
    (``extra_warnings``: more warnings for the credential at each index)."""
    verified = result.verified
    per_credential = extra_warnings or {}
    body: dict[str, Any] = {
        "verified": verified,
        "format": result.format,
        "holder": result.holder,
        "checks": [check.as_dict() for check in result.checks],
        "warnings": [problem_detail(p, warning=True) for p in result.warnings],
    }
    if not verified:
        body["problemDetails"] = [problem_detail(p) for p in result.errors] or [
            _unverified_problem()
        ]
    body["credentials"] = [
        credential_body(item, extra_warnings=per_credential.get(i, ()))
        for i, item in enumerate(result.credentials)
    ]
    return body


def _unverified_problem() -> dict[str, Any]:
    # a result that failed without naming an error (a check not passed): still say so
    return problem_detail(Problem(code="MALFORMED", message="verification did not succeed"))
