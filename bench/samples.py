"""The credential the benchmarks use: an AEO certificate of about 1.5 KB."""

from __future__ import annotations

from typing import Any


def aeo_credential() -> dict[str, Any]:
    return {
        "@context": [
            "https://www.w3.org/ns/credentials/v2",
            "https://www.w3.org/ns/credentials/examples/v2",
        ],
        "id": "urn:uuid:6a1f7c9e-2b1d-4e0f-9c3a-5d8e7f6a4b21",
        "type": ["VerifiableCredential", "ExampleAEOCredential"],
        "name": "Authorised Economic Operator certificate",
        "description": "Certifies the holder as a trusted trader under an AEO programme.",
        "validFrom": "2026-01-01T00:00:00Z",
        "validUntil": "2029-01-01T00:00:00Z",
        "credentialSubject": {
            "id": "did:example:harbour-lights",
            "legalName": "Harbour Lights Trading Co. (fictional)",
            "country": "US",
            "address": {
                "streetAddress": "1200 Example Wharf Road",
                "addressLocality": "Long Beach",
                "addressRegion": "CA",
                "postalCode": "90802",
                "addressCountry": "US",
            },
            "identifiers": [
                {"scheme": "CTPAT", "value": "CTP-000123456"},
                {"scheme": "EIN", "value": "12-3456789"},
                {"scheme": "EORI", "value": "US123456789000"},
            ],
            "certification": {
                "programme": "US-CTPAT",
                "authority": "U.S. Customs and Border Protection",
                "tier": "Tier 3",
                "tradeRoles": ["importer", "exporter"],
                "certifiedSince": "2015-04-01",
                "lastValidated": "2025-03-15",
            },
        },
    }
