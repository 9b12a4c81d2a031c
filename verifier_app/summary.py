"""The verdict page's one computed summary: every section of the page renders from it.

The VC API body (:mod:`verifier_app.results`) lists checks, problems, a trust decision and
the claims side by side; read section by section they can seem to contradict the verdict (a
suspended credential whose issuer is on the trust list). :func:`verdict` decides once:

- ``verified``: the verdict itself;
- ``authentic``: the proof and the issuer binding passed, so the claims are what the issuer
  signed (shown, and labelled "not valid" when the verdict is no);
- ``trust``: ``benefits`` only for a verified credential of an authenticated, recognised
  issuer; ``listed`` for a recognised issuer whose credential is not valid (no benefits);
  ``impersonated``, ``untrusted`` or ``unevaluated`` otherwise;
- ``reasons``: one officer sentence per problem (:mod:`vcred_service.explanations`), with
  the technical detail kept beside it;
- ``checks``: every check in order, those not run because an earlier one failed included;
- the issuer's agency name from the trust list rather than a bare DID.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

from vcred.verifier import CHECKS
from vcred_service.explanations import BASE_PROOF_SENTENCE, officer_sentence

#: Checks whose failure leaves nothing signed to read (the later ones are not run).
_FOUNDATION: Final = ("proof", "issuer")


def _passed(checks: list[Mapping[str, Any]], name: str) -> bool:
    return any(c.get("check") == name and c.get("passed") is True for c in checks)


def verdict(
    body: Mapping[str, Any],
    *,
    issuer_name: Callable[[str], str | None] = lambda _: None,
    base_proof: bool = False,
) -> dict[str, Any]:
    """The officer's reading of one credential's verification ``body`` (VC API form).

    ``issuer_name`` gives the agency name the trust list records for a DID; ``base_proof``
    says the submitted document still has its ecdsa-sd-2023 base proof (the issuer's copy
    for the holder), so its proof failure is explained as such.
    """
    verified = bool(body.get("verified"))
    checks = list(body.get("checks") or [])
    authentic = _passed(checks, "proof") and _passed(checks, "issuer")
    trust = dict(body.get("trust") or {})
    issuer = body.get("issuer") or trust.get("issuer")
    name = issuer_name(issuer) if isinstance(issuer, str) else None
    return {
        "verified": verified,
        "authentic": authentic,
        "issuer": {"id": issuer, "name": name} if issuer else None,
        "trust": _trust_state(verified, authentic, trust),
        "trustReason": trust.get("reason"),
        "mra": trust.get("mra") if verified and authentic and trust.get("trusted") else None,
        "benefits": (
            trust.get("benefits") or [] if verified and authentic and trust.get("trusted") else []
        ),
        "claims": body.get("credential") if authentic else None,
        "reasons": _reasons(body, base_proof=base_proof),
        "checks": _all_checks(checks, verified=verified),
    }


def _trust_state(verified: bool, authentic: bool, trust: Mapping[str, Any]) -> str:
    if not trust.get("evaluated"):
        return "unevaluated"
    if trust.get("trusted") and not authentic:
        return "impersonated"
    if trust.get("trusted"):
        return "benefits" if verified else "listed"
    return "untrusted"


def _reasons(body: Mapping[str, Any], *, base_proof: bool) -> list[dict[str, Any]]:
    reasons = []
    for problem in body.get("problemDetails") or []:
        code = str(problem.get("code", "ERROR"))
        sentence = (
            BASE_PROOF_SENTENCE
            if base_proof and code == "INVALID_PROOF"
            else officer_sentence(code)
        )
        reasons.append(
            {
                "code": code,
                "sentence": sentence,
                "title": problem.get("title"),
                "detail": problem.get("detail"),
                "pointer": problem.get("pointer"),
            }
        )
    return reasons


def _all_checks(checks: list[Mapping[str, Any]], *, verified: bool) -> list[dict[str, Any]]:
    """Every check of the verifier in its order: a check that was not run (the proof
    failed, so nothing signed was there to read) is listed as not evaluated; a trust check
    that passed for a credential that is not valid is listed as not applied (the issuer is
    recognised, but nothing follows from it for this credential)."""
    by_name = {str(c.get("check")): c for c in checks}
    foundation_failed = any(by_name.get(n, {}).get("passed") is False for n in _FOUNDATION)
    out: list[dict[str, Any]] = []
    for name in (*CHECKS, *(n for n in by_name if n not in CHECKS)):
        found = by_name.get(name)
        if found is not None:
            row = {"check": name, "passed": found.get("passed"), "detail": found.get("detail")}
            if name == "trust" and row["passed"] is True and not verified:
                row.update(passed=None, notApplied=True)
            out.append(row)
        elif foundation_failed:
            out.append({"check": name, "passed": None, "detail": None, "notRun": True})
    return out
