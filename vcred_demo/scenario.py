"""The main job, step by step: each step does one thing over HTTP and checks its outcome.

A step returns ``(as_expected, detail)``; the runner shows both. Steps share a little state
(the credentials issued so far) through :class:`Story`.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from vcred._demo import Step
from vcred.customs import samples
from vcred.customs.identifiers import construct_mid
from vcred.wallet import Wallet
from vcred.wallet.transport import HttpTransport
from vcred_demo.cluster import DID_CACHE_TTL, RECOGNITION_REFRESH, STATUS_TTL, Cluster
from vcred_demo.http import Reply, get, post
from vcred_demo.topology import agency

Outcome = tuple[bool, str]  # what a step's run returns
WALLET_PASSPHRASE = "demo wallet passphrase"  # noqa: S105 - the demo's own, not a secret
#: The US trader's manufacturer ID (19 CFR 102.23 construction from the sample's name and address).
MID = construct_mid(
    country="US", name="Example Prairie Gadgets, Inc.", street="100 Sample Avenue", city="Omaha"
)


@dataclass(slots=True)
class Story:
    """What the steps share: the cluster, the traders' wallets, what was issued."""

    cluster: Cluster
    #: the US trader's wallet (`vcred wallet`): it receives its certificate over OpenID4VCI
    trader: Wallet = field(init=False)
    #: the US exporter's wallet: it receives the export billing attestation
    exporter: Wallet = field(init=False)
    issued: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        folder = self.cluster.data_dir / f"wallets-{uuid.uuid4().hex[:8]}"
        self.trader = Wallet.create(folder / "trader.db", WALLET_PASSPHRASE)
        self.exporter = Wallet.create(folder / "exporter.db", WALLET_PASSPHRASE)

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

    def deliver(
        self, programme: str, credential: dict[str, Any], configuration: str, wallet: Wallet
    ) -> dict[str, Any]:
        """Offer a credential (OpenID4VCI) and let ``wallet`` collect it with the transaction
        code, as a trader does from the officer's QR code."""
        issuer = self.cluster.issuers[programme]
        credential = {**credential, "id": f"urn:uuid:{uuid.uuid4()}"}
        body = {"credential": credential, "credential_configuration_id": configuration}
        reply = post(f"{issuer.url}/oid4vci/offers", body, token=issuer.token)
        if reply.status != 201:
            raise RuntimeError(f"{programme} refused to make an offer: {reply.body}")
        transport = HttpTransport(host_map=dict(self.cluster.host_map))
        [held] = wallet.receive(
            reply.body["offerUrl"], tx_code=reply.body["tx_code"], transport=transport
        )
        media = "application/vc+sd-jwt" if held.format == "vc+sd-jwt" else "application/vc+jwt"
        enveloped = {
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "id": f"data:{media},{held.credential}",
            "type": "EnvelopedVerifiableCredential",
        }
        return {"id": credential["id"], "secured": enveloped, "held": held.id}

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


def _recognition(answer: dict[str, Any]) -> str:
    """``recognised``, or the reason it is not."""
    return "recognised" if answer.get("recognised") else str(answer.get("reason"))


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
        # the trader's wallet collects its certificate from an offer: the key it proves
        # becomes the subject's id (the sample's own DID is left out)
        us = samples.aeo_certificate("us-prairie")
        us["credentialSubject"].pop("id", None)
        # the manufacturer ID the partners' border systems see on its entries
        identifiers = us["credentialSubject"]["identifier"]
        us["credentialSubject"]["identifier"] = [*identifiers, {"scheme": "US-MID", "value": MID}]
        story.issued["us"] = story.deliver(
            "US-CTPAT",
            us,
            "AEOCertificateCredential_jwt_vc_json",
            story.trader,
        )
        story.issued["de"] = story.issue(
            "EU-AEO", samples.aeo_certificate("de-beispiel"), format="vc+jwt"
        )
        story.issued["jp"] = story.issue(
            "JP-AEO", samples.aeo_certificate("jp-rei"), format="eddsa-rdfc-2022"
        )
        story.issued["mx"] = story.issue(
            "MX-OEA", samples.aeo_certificate("mx-ejemplo"), format="vc+jwt"
        )
        story.issued["ca"] = story.issue(
            "CA-PIP", samples.aeo_certificate("ca-sample"), format="vc+jwt"
        )
        return True, (
            "5 AEO certificates: US CTPAT (collected by the trader's wallet over OpenID4VCI), "
            "EU AEO (Germany), Japan AEO, Mexico OEA, Canada PIP"
        )

    def trusted_at(programme: str, key: str) -> Callable[[], Outcome]:
        def step() -> Outcome:
            reply = story.verify(programme, story.issued[key]["secured"])
            trust = reply.body.get("trust") or {}
            return reply.status == 200 and trust.get("trusted") is True, _verdict(reply)

        return step

    def presentation() -> Outcome:
        challenge, domain = story.challenge("JP-AEO")
        vp = story.trader.present(story.issued["us"]["held"], audience=domain, nonce=challenge)
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
        issued = story.deliver(
            "US-CTPAT",
            samples.export_billing_attestation("us-to-jp"),
            "ExportBillingAttestation_vc+sd-jwt",
            story.exporter,
        )
        challenge, domain = story.challenge("JP-AEO")
        # the exporter's wallet discloses nothing optional: amounts and prices stay withheld
        presented = story.exporter.present(issued["held"], audience=domain, nonce=challenge)
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

    def benefits() -> Outcome:
        said = []
        for programme in ("EU-AEO", "JP-AEO"):
            verifier = story.cluster.verifiers[programme]
            opened = post(f"{verifier.url}/oid4vp/requests", {"query": "aeo-certificate"})
            if opened.status != 201:
                return False, f"{programme}: no request ({opened.status})"
            transport = HttpTransport(host_map=dict(story.cluster.host_map))
            story.trader.respond(opened.body["authorization_request"], transport=transport)
            outcome = get(f"{verifier.url}/oid4vp/requests/{opened.body['transaction']}")
            presented = outcome.body.get("result", {}).get("presentations", {})
            made = [
                r
                for bodies in presented.values()
                for b in bodies
                for r in b.get("recognitions", [])
            ]
            if not made:
                return False, f"{programme}: no recognition ({outcome.body.get('status')})"
            said.append(f"{programme} {made[0]}")
        return True, "recognised once, from the wallet: " + ", ".join(said)

    def border(expected: str) -> Callable[[], Outcome]:
        def step() -> Outcome:
            url = f"{story.cluster.verifiers['EU-AEO'].url}/recognitions?scheme=US-MID&id={MID}"
            answer = get(url).body
            deadline = time.monotonic() + RECOGNITION_REFRESH.total_seconds() * 10
            while _recognition(answer) != expected and time.monotonic() < deadline:
                time.sleep(RECOGNITION_REFRESH.total_seconds() / 2)  # the refresher's next round
                answer = get(url).body
            arrangement = (answer.get("arrangement") or {}).get("id", "?")
            return _recognition(answer) == expected, (
                f"US-MID {MID}: {_recognition(answer)} · {answer.get('programme')} "
                f"{answer.get('level')} under {arrangement}"
            )

        return step

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

    def refused_because(programme: str, key: str, reason: str) -> Callable[[], Outcome]:
        def step() -> Outcome:
            reply = story.verify(programme, story.issued[key]["secured"])
            said = (reply.body.get("trust") or {}).get("reason", "")
            return "UNTRUSTED_ISSUER" in codes(reply) and reason in said, (
                f"{_verdict(reply)}: {said}"
            )

        return step

    def under_list(programme: str, key: str, sequence: int) -> Callable[[], Outcome]:
        def step() -> Outcome:
            reply = story.verify(programme, story.issued[key]["secured"])
            trust = reply.body.get("trust") or {}
            named = (trust.get("trustList") or {}).get("sequenceNumber")
            return reply.status == 200 and named == sequence, (
                f"{_verdict(reply)} · trust list #{named}"
            )

        return step

    def rotation() -> Outcome:
        old, new = story.cluster.rotate_key("CA-PIP")
        time.sleep(DID_CACHE_TTL.total_seconds() + 0.2)  # the partner's DID document is re-read
        fresh = samples.aeo_certificate("ca-sample")
        story.issued["ca-new"] = story.issue("CA-PIP", fresh, format="vc+jwt")
        reply = story.verify("US-CTPAT", story.issued["ca-new"]["secured"])
        said = (reply.body.get("trust") or {}).get("reason", "")
        return "UNTRUSTED_ISSUER" in codes(reply) and "not pinned" in said, (
            f"key {old} retired, {new} signs: {_verdict(reply)}: {said}"
        )

    def refresh() -> Outcome:
        us = agency("US-CTPAT")
        story.cluster.publish_trust_list(us, datetime.now(UTC))
        report = story.cluster.refresh_trust("US-CTPAT")
        if report.sequence != 2 or report.errors:
            return False, f"refresh: {report.as_dict()}"
        new = story.verify("US-CTPAT", story.issued["ca-new"]["secured"])
        old = story.verify("US-CTPAT", story.issued["ca"]["secured"])
        named = ((new.body.get("trust") or {}).get("trustList") or {}).get("sequenceNumber")
        return new.status == 200 and old.status == 200 and named == 2, (
            f"list #{report.sequence} fetched from {report.source}; new key: {_verdict(new)}; "
            f"the retired key's earlier credential: {_verdict(old)}"
        )

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
        Step(
            "The US trader requests benefits in the EU and Japan from its wallet (OpenID4VP)",
            benefits,
        ),
        Step("The EU border asks about the trader's MID: recognised", border("recognised")),
        Step("US Customs suspends the trader: the EU sees it", status("suspended", "SUSPENDED")),
        Step(
            "Within the freshness bound the EU border hears: not recognised, suspended at home",
            border("SUSPENDED_BY_HOME_AGENCY"),
        ),
        Step("Reinstated: the EU verifies it again", status("active", "VERIFIED")),
        Step("Revoked: the EU sees it", status("revoked", "REVOKED")),
        Step("A credential with one changed character is refused", tampered),
        Step(
            "A Mexican OEA credential is untrusted in the EU: the EU–Mexico arrangement "
            "(demo data) is signed, not yet in force",
            refused_because("EU-AEO", "mx", "takes effect on"),
        ),
        Step(
            "… and in Japan: the Japan–Mexico arrangement (demo data) has ended",
            refused_because("JP-AEO", "mx", "ended on"),
        ),
        Step(
            "A Canadian PIP credential is trusted in the US (US–Canada MRA), under list #1",
            under_list("US-CTPAT", "ca", 1),
        ),
        Step(
            "Canada rotates its signing key: the new key is not pinned in the US list #1",
            rotation,
        ),
        Step(
            "The US publishes list #2 pinning it; its verifier refreshes without a restart",
            refresh,
        ),
    ]
