"""Shared fixtures: the ../shared folder, a fixed clock, keys of every type."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from vcred.keys import KEY_KINDS, KeyPair

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
VECTORS = SHARED / "vectors"
CONTEXTS = SHARED / "contexts"
NOW = datetime(2026, 6, 1, 12, 0, 0, tzinfo=UTC)


@pytest.fixture(params=KEY_KINDS)
def any_key(request: pytest.FixtureRequest) -> KeyPair:
    return KeyPair.generate(request.param)


@pytest.fixture(scope="session")
def ed_key() -> KeyPair:
    return KeyPair.generate("ed25519")


def credential(**extra: Any) -> dict[str, Any]:
    """A minimal valid VC 2.0 credential (no issuer: issue() fills it in)."""
    document: dict[str, Any] = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": "urn:uuid:0d2b8f4e-3f5a-4bd6-9a7c-7f1e4a2b9c10",
        "type": ["VerifiableCredential"],
        "validFrom": "2026-01-01T00:00:00Z",
        "validUntil": "2027-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:trader", "name": "Harbour Lights Trading"},
    }
    document.update(extra)
    return document
