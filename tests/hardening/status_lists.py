"""Hostile status lists for the hardening tests: lists signed by the US agency of
tests/verifier (so that only what they say is hostile, not who says it), served by its local
server, and credentials of that agency pointing at them."""

from __future__ import annotations

import base64
import json
import secrets
from datetime import datetime, timedelta
from typing import Any

from flask.testing import FlaskClient

from tests.verifier.conftest import DOMAIN, LIST_BASE, NOW, US_DID, US_HOST, Agency
from vcred import Verifier, issue, present
from vcred.keys import KeyPair
from vcred.net import GuardedFetcher
from vcred.status import MutableBitstring, build_status_list_credential


def multibase_u(raw: bytes) -> str:
    """``u`` multibase: unpadded base64url."""
    return "u" + base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def signed_list(agency: Agency, url: str, fmt: str = "vc+jwt", **subject: Any) -> bytes:
    """A revocation list at ``url`` of 131,072 zeros (with ``subject`` members replaced),
    signed by the agency as ``fmt`` (vc+jwt, or a Data Integrity cryptosuite: a JSON list may
    be up to 4 MiB, a JWS 1 MiB), as served."""
    unsigned = build_status_list_credential(
        list_url=url,
        issuer=US_DID,
        purpose="revocation",
        bitstring=MutableBitstring(),
        valid_from=NOW - timedelta(days=1),
        ttl=timedelta(minutes=5),
    )
    unsigned["credentialSubject"].update(subject)
    if fmt == "vc+jwt":
        return str(issue(unsigned, agency.signer)).encode()
    return json.dumps(issue(unsigned, agency.signer, format=fmt, now=NOW)).encode()


def publish_list(agency: Agency, fmt: str = "vc+jwt", **subject: Any) -> str:
    """:func:`signed_list` served by the agency's server under a new path; returns its URL."""
    name = f"hostile-{secrets.token_hex(6)}"
    url = LIST_BASE + name
    agency.server.serve(f"/status/{name}", signed_list(agency, url, fmt, **subject))
    return url


def credential_on(agency: Agency, list_url: str, *, holder: str | None = None, **entry: Any) -> str:
    """A vc+jwt of the agency (about ``holder``) with one revocation entry (index 7) on
    ``list_url``; ``entry`` replaces members of the entry. Without ``credentialSchema``: only
    the status check judges the entry."""
    credential = agency.aeo_certificate(holder=holder, status=False)
    del credential["credentialSchema"]
    credential["credentialStatus"] = {
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": "7",
        "statusListCredential": list_url,
        **entry,
    }
    return str(issue(credential, agency.signer))


def library_verifier(agency: Agency, **options: Any) -> Verifier:
    """A library verifier that reaches the agency's server (no trust list)."""
    fetcher = GuardedFetcher(host_map={US_HOST: agency.server.origin})
    return Verifier(fetcher=fetcher, clock=lambda: NOW, **options)


def service_codes(client: FlaskClient, token: str) -> tuple[int, list[str]]:
    """Verify through the verifier service: the HTTP status and the problem codes."""
    response = client.post("/credentials/verify", json={"verifiableCredential": token})
    body = response.get_json()
    return response.status_code, [p["code"] for p in body.get("problemDetails", [])]


def presented(token: str, holder: KeyPair, *, now: datetime) -> tuple[str, str]:
    """``token`` in a vp+jwt of ``holder`` made at ``now``: (presentation, its challenge)."""
    challenge = secrets.token_urlsafe(16)
    vp = present([token], holder, challenge=challenge, domain=DOMAIN, now=now)
    assert isinstance(vp, str)
    return vp, challenge
