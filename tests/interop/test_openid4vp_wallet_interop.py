"""vcred's wallet answers an independent OpenID4VP 1.0 verifier: @openid4vc/openid4vp makes the
signed request object (JAR by reference, decentralized_identifier did:key client, DCQL,
direct_post); ``Wallet.respond`` fetches, verifies and answers it; the same library validates
the response against its request, and @sd-jwt/core verifies the SD-JWT with its key binding
to the verifier's nonce."""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest

from tests.interop.node import run_peer
from vcred import KeyPair, did_key, issue, openid4vp
from vcred.customs.builders import build_aeo_certificate
from vcred.customs.samples import TRADERS
from vcred.errors import CryptographicError, DomainError
from vcred.wallet import Wallet
from vcred.wallet.transport import Answer

pytestmark = pytest.mark.interop

VERIFIER = "https://verifier.partner.example"


@dataclass
class PartnerVerifier:
    """What the independent verifier's web server would do: serve the request object, take
    the direct_post answer."""

    request_object: str
    posted: list[dict[str, str]] = field(default_factory=list)

    def request(
        self, method: str, url: str, *, body: bytes | None = None, headers: Mapping[str, str]
    ) -> Answer:
        if method == "GET" and url == f"{VERIFIER}/request.jwt":
            return Answer(200, "application/oauth-authz-req+jwt", self.request_object.encode())
        if method == "POST" and url == f"{VERIFIER}/response" and body is not None:
            assert headers["Content-Type"] == "application/x-www-form-urlencoded"
            self.posted.append(dict(parse_qsl(body.decode())))
            return Answer(200, "application/json", b"{}")
        return Answer(404, "text/plain", b"")


def partner_request(
    partner: KeyPair,
    *,
    dcql: dict[str, Any] | None = None,
    aud: str | None = openid4vp.STATIC_AUDIENCE,
) -> dict[str, Any]:
    """The independent verifier's request (its link, request object and payload), signed
    with ``partner``'s did:key. ``aud``: the request object's; None leaves the library's own
    choice (the request URI)."""
    made = run_peer(
        "openid4vp_verifier_peer.mjs",
        {
            "mode": "request",
            "privateJwk": partner.private_jwk(),
            "did": did_key(partner.public),
            "requestUri": f"{VERIFIER}/request.jwt",
            "responseUri": f"{VERIFIER}/response",
            "dcql": dcql or openid4vp.aeo_certificate_query(),
            "nonce": secrets.token_urlsafe(32),
            "state": secrets.token_urlsafe(16),
            **({"aud": aud} if aud is not None else {}),
        },
    )
    assert "error" not in made, made.get("error")
    return made


def test_vcreds_wallet_answers_an_independent_verifiers_request(tmp_path: Path) -> None:
    agency, partner = KeyPair.generate("ed25519"), KeyPair.generate("ed25519")
    wallet = Wallet.create(tmp_path / "trader.db", "a trader's passphrase")
    subject = {**TRADERS["us-prairie"], "id": wallet.did}
    certificate = build_aeo_certificate(
        subject,
        issuer=did_key(agency.public),
        valid_from=datetime(2026, 1, 1, tzinfo=UTC),
        valid_until=datetime(2029, 1, 1, tzinfo=UTC),
    )
    held = issue(certificate, agency, format="vc+sd-jwt", holder=wallet.public_key)
    wallet.keep(str(held), format="vc+sd-jwt", credential_issuer=did_key(agency.public))
    query = openid4vp.aeo_certificate_query()
    made = partner_request(partner, dcql=query)
    server = PartnerVerifier(made["requestObject"])
    done = wallet.respond(made["link"], transport=server)
    assert done.client_id == f"decentralized_identifier:{did_key(partner.public)}"
    (form,) = server.posted
    checked = run_peer(
        "openid4vp_verifier_peer.mjs",
        {
            "mode": "response",
            "request": made["request"],
            "form": form,
            "issuerJwk": agency.public.jwk(),
        },
    )
    assert "error" not in checked, checked.get("error")
    assert checked["presented"] == "aeo_sd_jwt"
    assert checked["kb"]["nonce"] == made["request"]["nonce"]
    assert checked["kb"]["aud"] == done.client_id


def test_a_request_object_for_another_audience_is_refused(tmp_path: Path) -> None:
    """OpenID4VP 1.0 §5.8: a request object's aud is https://self-issued.me/v2 (or the
    wallet's issuer identifier). @openid4vc/openid4vp, left to itself, writes its request URI
    there: such a request is refused, and nothing is posted."""
    wallet = Wallet.create(tmp_path / "trader.db", "a trader's passphrase")
    made = partner_request(KeyPair.generate("ed25519"), aud=None)
    server = PartnerVerifier(made["requestObject"])
    with pytest.raises(DomainError, match="another audience"):
        wallet.respond(made["link"], transport=server)
    assert not server.posted


def test_a_request_object_tampered_on_the_way_is_refused(tmp_path: Path) -> None:
    partner = KeyPair.generate("ed25519")
    wallet = Wallet.create(tmp_path / "trader.db", "a trader's passphrase")
    made = partner_request(partner)
    header, payload, signature = made["requestObject"].split(".")
    changed = json.loads(base64.urlsafe_b64decode(payload + "=="))
    changed["response_uri"] = "https://attacker.example/response"
    forged = base64.urlsafe_b64encode(json.dumps(changed).encode()).rstrip(b"=").decode()
    server = PartnerVerifier(f"{header}.{forged}.{signature}")
    with pytest.raises(CryptographicError):
        wallet.respond(made["link"], transport=server)
    assert not server.posted  # nothing was sent anywhere


def test_the_peer_refuses_a_presentation_under_another_issuer_key(tmp_path: Path) -> None:
    """The independent check is a check: the same answer under a key that did not sign it."""
    agency, partner = KeyPair.generate("ed25519"), KeyPair.generate("ed25519")
    wallet = Wallet.create(tmp_path / "trader.db", "a trader's passphrase")
    certificate = build_aeo_certificate(
        {**TRADERS["us-prairie"], "id": wallet.did},
        issuer=did_key(agency.public),
        valid_from=datetime(2026, 1, 1, tzinfo=UTC),
        valid_until=datetime(2029, 1, 1, tzinfo=UTC),
    )
    held = issue(certificate, agency, format="vc+sd-jwt", holder=wallet.public_key)
    wallet.keep(str(held), format="vc+sd-jwt", credential_issuer=did_key(agency.public))
    made = partner_request(partner)
    server = PartnerVerifier(made["requestObject"])
    wallet.respond(made["link"], transport=server)
    checked = run_peer(
        "openid4vp_verifier_peer.mjs",
        {
            "mode": "response",
            "request": made["request"],
            "form": server.posted[0],
            "issuerJwk": KeyPair.generate("ed25519").public.jwk(),
        },
    )
    assert "error" in checked
