"""Shared fixtures: the ../shared folder, a fixed clock, keys of every type."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from vcred.keys import KEY_KINDS, KeyPair

# a test that leaves a thread of the project (or any non-daemon one) running fails
pytest_plugins = ["tests.threadguard"]

# Property tests check behaviour, never speed: Hypothesis's per-example deadline would be a
# timing assert, and fails on a busy machine (two xdist workers, browsers, node peers).
settings.register_profile("vcred", deadline=None)
settings.load_profile("vcred")

ROOT = Path(__file__).resolve().parents[1]
#: The workplace's shared folder (W3C vectors, published contexts) beside the checkout, or
#: where VCRED_SHARED says (a git worktree, CI). It is not part of the repository: the tests
#: that read it skip with a message when it is absent (``require_shared``).
SHARED = Path(os.environ.get("VCRED_SHARED") or ROOT.parent / "shared").resolve()
VECTORS = SHARED / "vectors"
CONTEXTS = SHARED / "contexts"
NOW = datetime(2026, 6, 1, 12, 0, 0, tzinfo=UTC)


def require_shared(path: Path = SHARED) -> Path:
    """``path``, a folder of the shared area (VECTORS, CONTEXTS); skips the calling test — or
    module, when called at import — if it is absent, instead of failing to collect."""
    if not path.exists():
        pytest.skip(
            f"{path} is absent: these tests read the shared folder beside the checkout "
            "(set VCRED_SHARED to where it is)",
            allow_module_level=True,
        )
    return path


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


def billing_attestation(**extra: Any) -> dict[str, Any]:
    """An ExportBillingAttestation (no issuer: issue() fills it in), shaped like the customs
    schema: two line items, amounts as decimal strings."""
    document: dict[str, Any] = {
        "@context": ["https://www.w3.org/ns/credentials/v2", "https://vcred.dev/ns/customs/v1"],
        "id": "urn:uuid:5b0a6c1e-8d2f-4e7a-b3c9-2f6d1e8a4b70",
        "type": ["VerifiableCredential", "ExportBillingAttestation"],
        "validFrom": "2026-05-24T00:00:00Z",
        "validUntil": "2031-05-24T00:00:00Z",
        "credentialSubject": {
            "type": "Export",
            "exportDeclaration": {"scheme": "MRN", "value": "26DE5B7C3A1F9E2D06"},
            "exporter": {
                "type": "Organization",
                "legalName": "Elbe Maschinenbau GmbH",
                "country": "DE",
            },
            "consignee": {
                "type": "Organization",
                "legalName": "Kobe Precision K.K.",
                "country": "JP",
            },
            "invoice": {
                "type": "Invoice",
                "invoiceNumber": "INV-2026-0042",
                "invoiceDate": "2026-05-20",
                "currency": "EUR",
                "totalAmount": "48250.00",
                "incoterms": "FCA",
            },
            "lineItems": [
                {
                    "type": "ExportLineItem",
                    "hsCode": "847130",
                    "description": "Portable computers",
                    "quantity": "150",
                    "unitCode": "C62",
                    "unitPrice": "250.00",
                    "amount": "37500.00",
                    "originCountry": "DE",
                },
                {
                    "type": "ExportLineItem",
                    "hsCode": "852852",
                    "description": "Monitors",
                    "quantity": "50",
                    "unitCode": "C62",
                    "unitPrice": "215.00",
                    "amount": "10750.00",
                    "originCountry": "DE",
                },
            ],
            "modeOfTransport": "1",
            "exitOffice": {"type": "Place", "officeCode": "DE004851", "country": "DE"},
            "exitDate": "2026-05-24",
            "destinationCountry": "JP",
        },
    }
    document.update(extra)
    return document


@pytest.fixture(scope="session")
def softhsm(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """SoftHSM2 tokens for this test process (tests/softhsm.py)."""
    from tests.softhsm import make_softhsm

    return make_softhsm(tmp_path_factory.mktemp("softhsm"))
