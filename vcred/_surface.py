"""The one-call verification functions of the small surface (``vcred.verify``,
``vcred.verify_presentation``): a :class:`~vcred.verifier.Verifier` made from keywords, or
the one given."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from vcred.errors import UsageError
from vcred.net import Fetcher
from vcred.verifier import PresentationResult, TrustPolicy, VerificationResult, Verifier


def _verifier(
    verifier: Verifier | None,
    *,
    fetcher: Fetcher | None,
    trust: TrustPolicy | None,
    now: datetime | None,
    checks: Sequence[str] | None,
) -> Verifier:
    """The verifier given, or one made from the keywords; UsageError for keywords beside a
    verifier (it carries its own fetcher, trust and clock: they would be ignored)."""
    if verifier is not None:
        given = [
            name
            for name, value in (("fetcher", fetcher), ("trust", trust), ("now", now))
            if value is not None
        ]
        if given:
            raise UsageError(
                f"{', '.join(given)} cannot be given with a verifier: configure the verifier "
                "(dataclasses.replace(verifier, …))"
            )
        return verifier
    options: dict[str, Any] = {"fetcher": fetcher, "trust": trust}
    if now is not None:
        options["clock"] = lambda: now
    if checks is not None:
        options["checks"] = tuple(checks)
    return Verifier(**options)


def verify(
    secured: Any,
    *,
    verifier: Verifier | None = None,
    fetcher: Fetcher | None = None,
    trust: TrustPolicy | None = None,
    now: datetime | None = None,
    checks: Sequence[str] | None = None,
    at: datetime | None = None,
) -> VerificationResult:
    """Verify a secured credential (any supported format). Never raises for a bad credential.

    Pass a configured :class:`Verifier` to reuse its caches across calls (``checks`` then
    chooses among its checks; ``fetcher``, ``trust`` and ``now`` are its own: UsageError).
    ``at``: verify as of that moment instead (validity then, each status list as the version
    in force then; see :attr:`Verifier.at`), with ``verifier`` too.
    """
    chosen = _verifier(verifier, fetcher=fetcher, trust=trust, now=now, checks=checks)
    if at is not None:
        chosen = dataclasses.replace(chosen, at=at)
    return chosen.verify(secured, checks=checks if verifier is not None else None)


def verify_presentation(
    presentation: Any,
    *,
    challenge: str | None = None,
    domain: str | None = None,
    verifier: Verifier | None = None,
    fetcher: Fetcher | None = None,
    trust: TrustPolicy | None = None,
    now: datetime | None = None,
) -> PresentationResult:
    """Verify a presentation bound to ``challenge`` / ``domain`` and every credential in it."""
    chosen = _verifier(verifier, fetcher=fetcher, trust=trust, now=now, checks=None)
    return chosen.verify_presentation(presentation, challenge=challenge, domain=domain)
