"""Bitstring Status List tests' shared data (the specification's examples) and doubles.

https://www.w3.org/TR/vc-bitstring-status-list/
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from vcred.errors import (
    CryptographicError,
    FetchRefusedError,
    ResolutionError,
)
from vcred.status import (
    MIN_ENTRIES,
    MutableBitstring,
    build_status_list_credential,
)

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
ISSUER = "did:example:12345"
LIST_URL = "https://example.com/credentials/status/3"
SUSPENSION_URL = "https://example.com/credentials/status/4"

# Bitstring Status List v1.0, Example 3 (§2.2): an empty 16 KB revocation list.
SPEC_EXAMPLE_ENCODED_LIST = "uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA"

# Bitstring Status List v1.0, Example 1 (§2.1): a credential with two status entries.
SPEC_EXAMPLE_CREDENTIAL: dict[str, Any] = {
    "@context": [
        "https://www.w3.org/ns/credentials/v2",
        "https://www.w3.org/ns/credentials/examples/v2",
    ],
    "id": "https://example.com/credentials/23894672394",
    "type": ["VerifiableCredential", "EmployeeIdCredential"],
    "issuer": ISSUER,
    "validFrom": "2024-04-05T14:27:42Z",
    "credentialStatus": [
        {
            "id": "https://example.com/credentials/status/3#94567",
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": "94567",
            "statusListCredential": LIST_URL,
        },
        {
            "id": "https://example.com/credentials/status/4#23452",
            "type": "BitstringStatusListEntry",
            "statusPurpose": "suspension",
            "statusListIndex": "23452",
            "statusListCredential": SUSPENSION_URL,
        },
    ],
    "credentialSubject": {"id": "did:example:6789", "type": "Person", "employeeId": "A-123456"},
}

# Example 2 (§2.1), with the four messages a statusSize of 2 needs.
MESSAGES = [
    {"status": "0x0", "message": "pending_review"},
    {"status": "0x1", "message": "accepted"},
    {"status": "0x2", "message": "rejected"},
    {"status": "0x3", "message": "undefined"},
]
MESSAGE_URL = "https://example.com/credentials/status/8"
MESSAGE_ENTRY: dict[str, Any] = {
    "id": "https://example.com/credentials/status/8#492847",
    "type": "BitstringStatusListEntry",
    "statusPurpose": "message",
    "statusListIndex": "492847",
    "statusSize": 2,
    "statusListCredential": MESSAGE_URL,
    "statusMessage": MESSAGES,
    "statusReference": "https://example.org/status-dictionary/",
}


# --- test doubles ---------------------------------------------------------------------------


class FakeSecurer:
    """Stands in for Data Integrity / vc+jwt: an HMAC per issuer over canonical JSON.

    ``secure`` gives the JSON form, ``secure_jwt`` a compact JWS-shaped string; ``verify`` is
    the ``verify_list`` callable and accepts both, as the pipeline's verifier will.
    """

    def __init__(self) -> None:
        self._keys: dict[str, bytes] = {}
        self.seen: list[object] = []

    def _mac(self, issuer: str, body: bytes) -> str:
        key = self._keys.setdefault(issuer, hashlib.sha256(issuer.encode()).digest())
        return hmac.new(key, body, hashlib.sha256).hexdigest()

    def secure(self, credential: Mapping[str, Any]) -> dict[str, Any]:
        body = json.dumps(credential, sort_keys=True).encode()
        proof = {"type": "TestProof", "mac": self._mac(str(credential["issuer"]), body)}
        return {**credential, "proof": proof}

    def secure_jwt(self, credential: Mapping[str, Any]) -> str:
        payload = base64.urlsafe_b64encode(json.dumps(credential).encode()).rstrip(b"=")
        mac = self._mac(str(credential["issuer"]), payload).encode()
        return "eyJhbGciOiJURVNUIn0." + payload.decode() + "." + mac.decode()

    def verify(self, document: object) -> Mapping[str, Any]:
        self.seen.append(document)
        if isinstance(document, str):
            _header, payload, mac = document.split(".")
            credential = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
            if not hmac.compare_digest(mac, self._mac(credential["issuer"], payload.encode())):
                raise CryptographicError("bad signature")
            return dict(credential)
        if not isinstance(document, dict) or "proof" not in document:
            raise CryptographicError("no proof")
        credential = {k: v for k, v in document.items() if k != "proof"}
        body = json.dumps(credential, sort_keys=True).encode()
        if not hmac.compare_digest(document["proof"]["mac"], self._mac(credential["issuer"], body)):
            raise CryptographicError("bad signature")
        return credential


class DictFetcher:
    """A Fetcher over a dict of URL → document; counts fetches, records the arguments."""

    def __init__(self, documents: dict[str, object] | None = None) -> None:
        self.documents: dict[str, object] = dict(documents or {})
        self.calls: list[tuple[str, str, int]] = []
        self.refuse: set[str] = set()

    def fetch(self, url: str, *, accept: str, max_bytes: int) -> bytes:
        self.calls.append((url, accept, max_bytes))
        if url in self.refuse:
            raise FetchRefusedError(f"refused {url}")
        if url not in self.documents:
            raise ResolutionError(f"404 {url}")
        document = self.documents[url]
        if isinstance(document, bytes):
            return document
        if isinstance(document, str):
            return document.encode()
        return json.dumps(document).encode()


def status_list_credential(
    *,
    url: str = LIST_URL,
    purpose: str = "revocation",
    set_bits: dict[int, int] | None = None,
    issuer: str = ISSUER,
    entries: int = MIN_ENTRIES,
    status_size: int = 1,
    ttl: timedelta | None = timedelta(minutes=10),
    valid_from: datetime = NOW - timedelta(days=1),
    valid_until: datetime | None = NOW + timedelta(days=30),
) -> dict[str, Any]:
    bits = MutableBitstring(entries, status_size=status_size)
    for index, value in (set_bits or {}).items():
        bits.set(index, value)
    return build_status_list_credential(
        list_url=url,
        issuer=issuer,
        purpose=purpose,
        bitstring=bits,
        valid_from=valid_from,
        valid_until=valid_until,
        ttl=ttl,
        status_size=status_size,
        min_entries=min(entries, MIN_ENTRIES),
    )


def credential_with(*entries: dict[str, Any], issuer: str = ISSUER) -> dict[str, Any]:
    status: Any = entries[0] if len(entries) == 1 else list(entries)
    return {**SPEC_EXAMPLE_CREDENTIAL, "issuer": issuer, "credentialStatus": status}


def revocation_entry(index: int = 94567, url: str = LIST_URL) -> dict[str, Any]:
    return {
        "id": f"{url}#{index}",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": str(index),
        "statusListCredential": url,
    }


def suspension_entry(index: int = 23452, url: str = SUSPENSION_URL) -> dict[str, Any]:
    return {**revocation_entry(index, url), "statusPurpose": "suspension"}


def publish(fetcher: DictFetcher, securer: FakeSecurer, **options: Any) -> None:
    credential = status_list_credential(**options)
    fetcher.documents[credential["id"]] = securer.secure(credential)
