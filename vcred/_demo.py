"""The library walkthrough: an agency issues, a trader presents, a partner verifies, a forger fails.

Each step states the outcome it expects; the walkthrough succeeds only if every step had it.
:func:`play` runs such steps and prints how each went: this walkthrough's and the services'
cross-border demo's (``vcred_demo``).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from rich.console import Console
from rich.markup import escape

from vcred.did import did_key
from vcred.issuing import issue
from vcred.keys import KeyPair
from vcred.presentation import present
from vcred.verifier import Verifier


@dataclass(frozen=True, slots=True)
class Step:
    """A step of a demo: ``run`` says whether it had its expected outcome, and what it saw."""

    title: str
    run: Callable[[], tuple[bool, str]]


@dataclass(frozen=True, slots=True)
class Outcome:
    """One step as it went."""

    number: int
    title: str
    expected: bool
    detail: str


def play(console: Console, steps: Sequence[Step], *, timed: bool = False) -> list[Outcome]:
    """Run ``steps`` in order, printing each outcome (with how long it took if ``timed``, and
    a spinner meanwhile), then whether all went as expected. A step that raises did not."""
    outcomes = []
    for number, step in enumerate(steps, start=1):
        with console.status(f"[{number}/{len(steps)}] {escape(step.title)}"):
            started_at = time.perf_counter()
            try:
                expected, detail = step.run()
            except Exception as exc:
                expected, detail = False, f"{type(exc).__name__}: {exc}"
            took = time.perf_counter() - started_at
        outcomes.append(Outcome(number, step.title, expected, detail))
        mark = "[green]✔[/]" if expected else "[red]✘[/]"
        timing = f" [dim]({took:.1f} s)[/]" if timed else ""
        console.print(f"{mark} {number:>2}. {escape(step.title)}{timing}")
        console.print(f"      [dim]{escape(detail)}[/]")
    if all(outcome.expected for outcome in outcomes):
        console.print("[bold green]all steps as expected[/]")
    else:
        console.print("[bold red]some steps did not go as expected[/]")
    return outcomes


def _tamper(token: str) -> str:
    """Change one character of the signature (keeping it valid base64url)."""
    last = token[-5]
    return token[:-5] + ("A" if last != "A" else "B") + token[-4:]


def walkthrough_steps() -> list[Step]:
    agency = KeyPair.generate("ed25519")
    trader = KeyPair.generate("p256")
    trader_did = did_key(trader.public)
    verifier = Verifier()
    credential: dict[str, Any] = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "validFrom": "2026-01-01T00:00:00Z",
        "validUntil": "2029-01-01T00:00:00Z",
        "credentialSubject": {"id": trader_did, "name": "Harbour Lights Trading Co. (fictional)"},
    }
    state: dict[str, Any] = {}
    challenge = secrets.token_urlsafe(16)

    def issue_step() -> tuple[bool, str]:
        state["vc"] = issue(credential, agency, format="vc+jwt")
        return (
            True,
            f"vc+jwt of {len(state['vc'])} characters, issuer {did_key(agency.public)[:32]}…",
        )

    def verify_step() -> tuple[bool, str]:
        result = verifier.verify(state["vc"])
        return result.verified, ", ".join(f"{c.name}={c.passed}" for c in result.checks)

    def present_step() -> tuple[bool, str]:
        state["vp"] = present([state["vc"]], trader, challenge=challenge, domain="customs.example")
        result = verifier.verify_presentation(
            state["vp"], challenge=challenge, domain="customs.example"
        )
        return result.verified, f"holder {trader_did[:32]}…, challenge {challenge[:8]}…"

    def replay_step() -> tuple[bool, str]:
        result = verifier.verify_presentation(state["vp"], challenge="another-challenge")
        return "INVALID_CHALLENGE" in result.codes, f"rejected: {', '.join(result.codes)}"

    def tamper_step() -> tuple[bool, str]:
        result = verifier.verify(_tamper(state["vc"]))
        return "INVALID_SIGNATURE" in result.codes, f"rejected: {', '.join(result.codes)}"

    return [
        Step("An agency issues a credential (vc+jwt, Ed25519, did:key)", issue_step),
        Step("A partner verifies it", verify_step),
        Step("The trader presents it to a verifier's challenge", present_step),
        Step("The same presentation replayed to another challenge is refused", replay_step),
        Step("A credential with a changed signature is refused", tamper_step),
    ]


def run_walkthrough(*, quiet: bool = False) -> bool:
    """Run every step; print each outcome unless ``quiet``; True if all went as expected."""
    console = Console(quiet=quiet, emoji=False, highlight=False)
    return all(outcome.expected for outcome in play(console, walkthrough_steps()))
