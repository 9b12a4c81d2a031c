"""The main job, step by step: each step does one thing over HTTP and checks its outcome.

A step returns ``(as_expected, detail)``; the runner shows both. Steps share a little state
(the credentials issued so far) through :class:`Story`.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from vcred import present, sdjwt
from vcred._demo import Step
from vcred.customs import samples
from vcred.did import did_key
from vcred.keys import KeyPair
from vcred_demo.cluster import STATUS_TTL, Cluster
from vcred_demo.http import Reply, post

Outcome = tuple[bool, str]  # what a step's run returns


@dataclass(slots=True)
class Story:
    """What the steps share: the cluster, the traders' keys, what was issued."""

    cluster: Cluster
    trader: KeyPair = field(default_factory=lambda: KeyPair.generate("p256"))
    exporter: KeyPair = field(default_factory=lambda: KeyPair.generate("p256"))
    issued: dict[str, dict[str, Any]] = field(default_factory=dict)

    # -- talking to the services ------------------------------------------------------------

    def issue(self, programme: str, credential: dict[str, Any], **options: Any) -> dict[str, Any]:
        issuer = self.cluster.issuers[programme]
        credential = {**credential, "id": f"urn:uuid:{uuid.uuid4()}"}
        reply = post(
            f"{issuer.url}/credentials/issue",
            {"credential": credential, "options": options},
            token=issuer.token,
        )
        if reply.status != 201:
            raise RuntimeError(f"{programme} refused to issue: {reply.body}")
        secured: dict[str, Any] = reply.body["verifiableCredential"]
        return {"id": credential["id"], "secured": secured}

    def verify(self, programme: str, secured: Any) -> Reply:
        verifier = self.cluster.verifiers[programme]
        return post(f"{verifier.url}/credentials/verify", {"verifiableCredential": secured})

    def set_status(self, programme: str, credential_id: str, status: str) -> Reply:
        issuer = self.cluster.issuers[programme]
        body = {
            "credentialId": credential_id,
            "credentialStatus": [{"type": "BitstringStatusListEntry", "status": status}],
        }
        reply = post(f"{issuer.url}/credentials/status", body, token=issuer.token)
        time.sleep(STATUS_TTL.total_seconds() + 0.2)  # the partner's cached list expires
        return reply

    def challenge(self, programme: str) -> tuple[str, str]:
        reply = post(f"{self.cluster.verifiers[programme].url}/challenges", {})
        if reply.status != 201:
            raise RuntimeError(f"no challenge from the {programme} verifier: {reply.body}")
        return reply.body["challenge"], reply.body["domain"]

    def verify_presentation(self, programme: str, vp: Any, challenge: str, domain: str) -> Reply:
        verifier = self.cluster.verifiers[programme]
        body = {
            "verifiablePresentation": vp,
            "options": {"challenge": challenge, "domain": domain},
        }
        return post(f"{verifier.url}/presentations/verify", body)


def token_of(enveloped: dict[str, Any]) -> str:
    """The compact credential inside an EnvelopedVerifiableCredential's data: URL."""
    return str(enveloped["id"]).split(",", 1)[1]


def codes(reply: Reply) -> list[str]:
    return [p.get("code", "") for p in reply.body.get("problemDetails", [])]


def _verdict(reply: Reply) -> str:
    if reply.status == 200:
        trust = reply.body.get("trust") or {}
        return f"verified · {trust.get('reason', 'trust not evaluated')}"
    return f"refused ({reply.status}): {', '.join(codes(reply)) or reply.body}"


def steps(story: Story) -> list[Step]:
    """The scenario of DESIGN §9, in order."""

    def seed() -> Outcome:
        us = samples.aeo_certificate("us-prairie")
        us["credentialSubject"]["id"] = did_key(story.trader.public)  # the trader presents it
        story.issued["us"] = story.issue("US-CTPAT", us, format="vc+jwt")
        story.issued["de"] = story.issue(
            "EU-AEO", samples.aeo_certificate("de-beispiel"), format="vc+jwt"
        )
        story.issued["jp"] = story.issue(
            "JP-AEO", samples.aeo_certificate("jp-rei"), format="eddsa-rdfc-2022"
        )
        story.issued["mx"] = story.issue(
            "MX-OEA", samples.aeo_certificate("mx-ejemplo"), format="vc+jwt"
        )
        return True, "4 AEO certificates: US CTPAT, EU AEO (Germany), Japan AEO, Mexico OEA"

    def trusted_at(programme: str, key: str) -> Callable[[], Outcome]:
        def step() -> Outcome:
            reply = story.verify(programme, story.issued[key]["secured"])
            trust = reply.body.get("trust") or {}
            return reply.status == 200 and trust.get("trusted") is True, _verdict(reply)

        return step

    def presentation() -> Outcome:
        challenge, domain = story.challenge("JP-AEO")
        vp = present(
            [token_of(story.issued["us"]["secured"])],
            story.trader,
            challenge=challenge,
            domain=domain,
        )
        reply = story.verify_presentation("JP-AEO", vp, challenge, domain)
        story.issued["vp"] = {"vp": vp, "challenge": challenge, "domain": domain}
        return reply.status == 200, f"challenge {challenge[:10]}… for {domain}: " + (
            "verified" if reply.status == 200 else ", ".join(codes(reply))
        )

    def replay() -> Outcome:
        sent = story.issued["vp"]
        reply = story.verify_presentation("JP-AEO", sent["vp"], sent["challenge"], sent["domain"])
        return "INVALID_CHALLENGE" in codes(reply), _verdict(reply)

    def billing() -> Outcome:
        attestation = samples.export_billing_attestation("us-to-jp")
        issued = story.issue(
            "US-CTPAT", attestation, format="sd-jwt", holder=did_key(story.exporter.public)
        )
        challenge, domain = story.challenge("JP-AEO")
        presented = sdjwt.present(
            token_of(issued["secured"]), story.exporter, nonce=challenge, aud=domain
        )
        reply = story.verify_presentation("JP-AEO", presented, challenge, domain)
        if reply.status != 200:
            return False, _verdict(reply)
        seen = reply.body["credentials"][0]
        summary = seen["credential"]
        withheld = not any(
            p.endswith(("/totalAmount", "/unitPrice", "/amount")) for p in seen.get("disclosed", [])
        ) and "totalAmount" not in summary.get("invoice", {})
        hs = ", ".join(str(line.get("hsCode")) for line in summary.get("lineItems", []))
        declaration = summary.get("declaration", {}).get("value")
        return withheld and bool(hs), (
            f"declaration {declaration}, HS {hs}; invoice total and prices withheld"
        )

    def status(change: str, expected: str) -> Callable[[], Outcome]:
        def step() -> Outcome:
            changed = story.set_status("US-CTPAT", story.issued["us"]["id"], change)
            if changed.status != 200:
                return False, f"the issuer refused the change: {changed.body}"
            reply = story.verify("EU-AEO", story.issued["us"]["secured"])
            if expected == "VERIFIED":
                return reply.status == 200, _verdict(reply)
            return expected in codes(reply), _verdict(reply)

        return step

    def tampered() -> Outcome:
        token = token_of(story.issued["de"]["secured"])
        changed = "A" if token[-6] != "A" else "B"  # one character of the signature
        forged = token[:-6] + changed + token[-5:]
        reply = story.verify("JP-AEO", forged)
        return "INVALID_SIGNATURE" in codes(reply), _verdict(reply)

    def outside_mras() -> Outcome:
        reply = story.verify("EU-AEO", story.issued["mx"]["secured"])
        return "UNTRUSTED_ISSUER" in codes(reply), _verdict(reply)

    return [
        Step("Agencies certify traders (AEO credentials over the VC API)", seed),
        Step("A US CTPAT credential is trusted in the EU (US–EU MRA)", trusted_at("EU-AEO", "us")),
        Step("… and in Japan (US–Japan MRA)", trusted_at("JP-AEO", "us")),
        Step(
            "A German AEO credential is trusted in Japan (EU–Japan MRA)", trusted_at("JP-AEO", "de")
        ),
        Step("The US trader answers a Japanese verifier's challenge", presentation),
        Step("The same presentation replayed is refused", replay),
        Step("An export billing attestation, amounts withheld, verified in Japan", billing),
        Step("US Customs suspends the trader: the EU sees it", status("suspended", "SUSPENDED")),
        Step("Reinstated: the EU verifies it again", status("active", "VERIFIED")),
        Step("Revoked: the EU sees it", status("revoked", "REVOKED")),
        Step("A credential with one changed character is refused", tampered),
        Step("A Mexican OEA credential is untrusted in the EU (no EU–Mexico MRA)", outside_mras),
    ]
