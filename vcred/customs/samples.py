"""Sample issuers, traders and credentials for tests and the demo. All of them are fictional.

Company names are plainly invented (each contains the word "example" in some language:
Beispiel, Exemple, Ejemplo, Contoh, Yesi, Rei); identifiers have valid forms and check
digits but were made up; DIDs use the reserved ``.example`` top-level domain (RFC 2606).
"""

from __future__ import annotations

from copy import deepcopy
from datetime import UTC, datetime
from typing import Any, Final

from ..trust import build_trust_list
from .builders import build_aeo_certificate, build_export_billing_attestation

# One fixed moment for every sample, so the data are the same on every run.
ISSUED_AT: Final = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
AEO_VALID_UNTIL: Final = datetime(2028, 3, 2, 23, 59, 59, tzinfo=UTC)

# Demo issuing agencies, one per programme the demo runs (DESIGN §9).
ISSUERS: Final[dict[str, dict[str, str]]] = {
    "US-CTPAT": {"id": "did:web:us-customs.example", "name": "CTPAT (demo issuer)"},
    "EU-AEO": {"id": "did:web:de-customs.example", "name": "EU AEO, Germany (demo issuer)"},
    "JP-AEO": {"id": "did:web:jp-customs.example", "name": "Japan AEO (demo issuer)"},
    "UK-AEO": {"id": "did:web:uk-customs.example", "name": "UK AEO (demo issuer)"},
    "KR-AEO": {"id": "did:web:kr-customs.example", "name": "Korea AEO (demo issuer)"},
    "CA-PIP": {"id": "did:web:ca-customs.example", "name": "Canada PIP (demo issuer)"},
    "MX-OEA": {"id": "did:web:mx-customs.example", "name": "Mexico OEA (demo issuer)"},
    "SG-STP": {"id": "did:web:sg-customs.example", "name": "Singapore STP (demo issuer)"},
}

# credentialSubject inputs for build_aeo_certificate, keyed by a short name.
TRADERS: Final[dict[str, dict[str, Any]]] = {
    "us-prairie": {
        "id": "did:web:prairie-gadgets.example",
        "legalName": "Example Prairie Gadgets, Inc.",
        "country": "US",
        "address": {
            "streetAddress": "100 Sample Avenue",
            "addressLocality": "Omaha",
            "addressRegion": "NE",
            "postalCode": "68102",
            "addressCountry": "US",
        },
        "identifier": [
            {"scheme": "CTPAT", "value": "48120"},
            {"scheme": "SVI", "value": "US7Q4K2M9T"},
            {"scheme": "US-EIN", "value": "98-7654321"},
        ],
        "certification": {
            "programme": "US-CTPAT",
            "tier": "TIER3",
            "tradeRoles": ["importer", "exporter"],
            "certifiedSince": "2016-05-10",
            "lastValidated": "2024-06-18",
        },
    },
    "de-beispiel": {
        "id": "did:web:beispiel-maschinenbau.example",
        "legalName": "Beispiel Maschinenbau GmbH",
        "country": "DE",
        "address": {
            "streetAddress": "Musterstraße 12",
            "addressLocality": "Stuttgart",
            "postalCode": "70173",
            "addressCountry": "DE",
        },
        "identifier": [
            {"scheme": "EORI", "value": "DE4711000000815"},
            {"scheme": "EU-VAT", "value": "DE999999999"},
        ],
        "certification": {
            "programme": "EU-AEO",
            "tier": "AEOF",
            "tradeRoles": ["exporter", "manufacturer"],
            "certifiedSince": "2012-09-01",
            "lastValidated": "2023-11-20",
            "certificateNumber": "DEAEOF4711000815",
        },
    },
    "fr-exemple": {
        "legalName": "Exemple Cosmétiques SAS",
        "country": "FR",
        "identifier": [{"scheme": "EORI", "value": "FR99999999900017"}],
        "certification": {
            "programme": "EU-AEO",
            "tier": "AEOC",
            "tradeRoles": ["importer"],
            "certifiedSince": "2019-02-14",
        },
    },
    "jp-rei": {
        "id": "did:web:rei-seimitsu.example",
        "legalName": "Rei Seimitsu Kogyo K.K.",
        "name": "Rei Precision Industries",
        "country": "JP",
        "address": {
            "streetAddress": "1-2-3 Reidai",
            "addressLocality": "Yokohama",
            "addressRegion": "Kanagawa",
            "postalCode": "220-0012",
            "addressCountry": "JP",
        },
        "identifier": [
            {"scheme": "JP-CN", "value": "7310001234567"},
            {"scheme": "LEI", "value": "9845EXAMPLE00000JP94"},
        ],
        "certification": {
            "programme": "JP-AEO",
            "tier": "EXPORTER",
            "tradeRoles": ["exporter", "manufacturer"],
            "certifiedSince": "2014-04-01",
            "lastValidated": "2024-03-29",
        },
    },
    "gb-specimen": {
        "legalName": "Specimen Tea Traders Ltd",
        "country": "GB",
        "identifier": [
            {"scheme": "EORI", "value": "GB123456789000"},
            {"scheme": "GB-CRN", "value": "09999999"},
        ],
        "certification": {
            "programme": "UK-AEO",
            "tier": "AEOS",
            "tradeRoles": ["importer", "warehouse-operator"],
            "certifiedSince": "2021-01-01",
        },
    },
    "kr-yesi": {
        "legalName": "Yesi Trading Co., Ltd.",
        "country": "KR",
        "identifier": [{"scheme": "KR-BRN", "value": "999-88-77774"}],
        "certification": {
            "programme": "KR-AEO",
            "tier": "AA",
            "tradeRoles": ["exporter"],
            "certifiedSince": "2018-07-02",
        },
    },
    "ca-sample": {
        "legalName": "Sample Maple Freight Ltd.",
        "country": "CA",
        "identifier": [{"scheme": "CA-BN", "value": "999999998RM0001"}],
        "certification": {
            "programme": "CA-PIP",
            "tier": "PIP",
            "tradeRoles": ["carrier", "freight-forwarder"],
            "certifiedSince": "2017-10-16",
        },
    },
    "mx-ejemplo": {
        "legalName": "Ejemplo Autopartes, S.A. de C.V.",
        "country": "MX",
        "identifier": [{"scheme": "MX-RFC", "value": "EAU150101AB8"}],
        "certification": {
            "programme": "MX-OEA",
            "tier": "OEA",
            "tradeRoles": ["exporter", "manufacturer"],
            "certifiedSince": "2017-08-30",
        },
    },
    "sg-contoh": {
        "legalName": "Contoh Logistics Pte. Ltd.",
        "country": "SG",
        "identifier": [{"scheme": "SG-UEN", "value": "201999999K"}],
        "certification": {
            "programme": "SG-STP",
            "tier": "STP-PLUS",
            "tradeRoles": ["logistics-provider", "warehouse-operator"],
            "certifiedSince": "2015-03-09",
        },
    },
}

# credentialSubject inputs for build_export_billing_attestation.
EXPORTS: Final[dict[str, dict[str, Any]]] = {
    "de-to-us": {
        "exportDeclaration": {"scheme": "MRN", "value": "25DE471100001234E9"},
        "exporter": {
            "legalName": "Beispiel Maschinenbau GmbH",
            "country": "DE",
            "identifier": [{"scheme": "EORI", "value": "DE4711000000815"}],
        },
        "consignee": {
            "legalName": "Example Prairie Gadgets, Inc.",
            "country": "US",
            "identifier": [{"scheme": "US-EIN", "value": "98-7654321"}],
        },
        "invoice": {
            "invoiceNumber": "BM-2025-00417",
            "invoiceDate": "2025-02-20",
            "currency": "EUR",
            "totalAmount": "184250.00",
            "incoterms": "FCA",
            "incotermsPlace": "Stuttgart",
        },
        "lineItems": [
            {
                "hsCode": "8459610000",
                "description": "CNC milling machines, numerically controlled",
                "quantity": "2",
                "unitCode": "C62",
                "unitPrice": "86500.00",
                "amount": "173000.00",
                "originCountry": "DE",
            },
            {
                "hsCode": "846693",
                "description": "Parts and accessories for milling machines",
                "quantity": "150",
                "unitCode": "KGM",
                "unitPrice": "75.00",
                "amount": "11250.00",
                "originCountry": "DE",
            },
        ],
        "transportDocument": {"scheme": "BL", "value": "HLCUHAM2502AB123"},
        "modeOfTransport": "1",
        "exitOffice": {"officeCode": "DE004700", "name": "Hamburg-Waltershof", "country": "DE"},
        "exitDate": "2025-02-27",
        "destinationCountry": "US",
    },
    "jp-to-us": {
        "exportDeclaration": {"scheme": "NATIONAL", "value": "20250226001"},
        "exporter": {
            "legalName": "Rei Seimitsu Kogyo K.K.",
            "country": "JP",
            "identifier": [{"scheme": "JP-CN", "value": "7310001234567"}],
        },
        "consignee": {"legalName": "Example Prairie Gadgets, Inc.", "country": "US"},
        "invoice": {
            "invoiceNumber": "RSK-25-0031",
            "invoiceDate": "2025-02-21",
            "currency": "JPY",
            "totalAmount": "3960000",
            "incoterms": "CIP",
            "incotermsPlace": "Chicago",
        },
        "lineItems": [
            {
                "hsCode": "903180",
                "description": "Optical measuring instruments",
                "quantity": "12",
                "unitCode": "C62",
                "unitPrice": "330000",
                "amount": "3960000",
                "originCountry": "JP",
            }
        ],
        "transportDocument": {"scheme": "AWB", "value": "131-12345675"},
        "modeOfTransport": "4",
        "exitOffice": {"officeCode": "4KW", "name": "Narita Airport", "country": "JP"},
        "exitDate": "2025-02-28",
        "destinationCountry": "US",
    },
    "us-to-jp": {
        "exportDeclaration": {"scheme": "ITN", "value": "X20250224123456"},
        "exporter": {"legalName": "Example Prairie Gadgets, Inc.", "country": "US"},
        "consignee": {"legalName": "Rei Seimitsu Kogyo K.K.", "country": "JP"},
        "invoice": {
            "invoiceNumber": "PG-7781",
            "invoiceDate": "2025-02-18",
            "currency": "USD",
            "totalAmount": "48600.00",
            "incoterms": "FOB",
            "incotermsPlace": "Los Angeles",
        },
        "lineItems": [
            {
                "hsCode": "8471500150",
                "description": "Processing units for automatic data-processing machines",
                "quantity": "60",
                "unitCode": "C62",
                "unitPrice": "810.00",
                "amount": "48600.00",
                "originCountry": "US",
            }
        ],
        "transportDocument": {"scheme": "BL", "value": "PGLAX250224"},
        "modeOfTransport": "1",
        "exitOffice": {"officeCode": "2704", "name": "Los Angeles", "country": "US"},
        "exitDate": "2025-02-25",
        "destinationCountry": "JP",
    },
    # Crude oil by pipeline, Canada to the US: no export declaration was lodged for it (the
    # edge case of ../shared/domain/sample-export-billing.json, record B4), delivered CFR with
    # freight and insurance invoiced on top of the goods.
    "ca-to-us": {
        "exportDeclarationNotRequired": {
            "reason": "pipeline crude reported under a periodic summary programme; no "
            "declaration per shipment (example)",
        },
        "exporter": {
            "legalName": "Sample Muskeg Petroleum Ltd.",
            "country": "CA",
            "identifier": [{"scheme": "CA-BN", "value": "999999998RM0001"}],
        },
        "consignee": {"legalName": "Example Gulf Refining Co.", "country": "US"},
        "invoice": {
            "invoiceNumber": "SMP-2025-02-CR-044",
            "invoiceDate": "2025-02-27",
            "currency": "USD",
            "freightAmount": "41250.00",
            "insuranceAmount": "3502.50",
            "totalAmount": "7049752.50",
            "incoterms": "CIF",
            "incotermsPlace": "Houston",
        },
        "lineItems": [
            {
                "hsCode": "270900",
                "description": "Crude petroleum oil, heavy sour blend (monthly pipeline batch)",
                "quantity": "100000",
                "unitCode": "BLL",
                "unitPrice": "70.05",
                "amount": "7005000.00",
                "originCountry": "CA",
            }
        ],
        "modeOfTransport": "7",
        "exitOffice": {"officeCode": "0701", "name": "Emerson meter station", "country": "CA"},
        "exitDate": "2025-02-28",
        "destinationCountry": "US",
    },
}


def aeo_certificate(name: str) -> dict[str, Any]:
    """The sample AEOCertificateCredential (unsigned) of the trader ``name`` in TRADERS."""
    subject = deepcopy(TRADERS[name])
    programme = subject["certification"]["programme"]
    return build_aeo_certificate(
        subject,
        issuer=ISSUERS[programme]["id"],
        valid_from=ISSUED_AT,
        valid_until=AEO_VALID_UNTIL,
        credential_id=f"urn:vcred:sample:aeo:{name}",
    )


def export_billing_attestation(name: str) -> dict[str, Any]:
    """The sample ExportBillingAttestation (unsigned) of the export ``name`` in EXPORTS."""
    subject = deepcopy(EXPORTS[name])
    issuer = {"DE": "EU-AEO", "JP": "JP-AEO", "US": "US-CTPAT", "CA": "CA-PIP"}[
        subject["exitOffice"]["country"]
    ]
    return build_export_billing_attestation(
        subject,
        issuer=ISSUERS[issuer]["id"],
        valid_from=ISSUED_AT,
        credential_id=f"urn:vcred:sample:export:{name}",
    )


def all_samples() -> dict[str, dict[str, Any]]:
    """Every sample credential, keyed ``aeo:<trader>`` / ``export:<export>``."""
    samples = {f"aeo:{name}": aeo_certificate(name) for name in TRADERS}
    samples.update({f"export:{name}": export_billing_attestation(name) for name in EXPORTS})
    return samples


# The demo's trust lists: each verifying agency recognises the other demo issuers it has an
# MRA with (US, EU, Japan: all three pairs have one).
_TRUST_LIST_PARTNERS: Final[dict[str, tuple[tuple[str, str], ...]]] = {
    "US-CTPAT": (("EU-AEO", "DE"), ("JP-AEO", "JP"), ("KR-AEO", "KR")),
    "EU-AEO": (("US-CTPAT", "US"), ("JP-AEO", "JP"), ("UK-AEO", "GB")),
    "JP-AEO": (("US-CTPAT", "US"), ("EU-AEO", "DE"), ("CA-PIP", "CA")),
}
TRUST_LIST_VALID_UNTIL: Final = datetime(2026, 3, 2, 23, 59, 59, tzinfo=UTC)


def sample_trust_list(programme: str) -> dict[str, Any]:
    """The (unsigned) MRA trust list of the demo agency running ``programme``."""
    recognised = [
        {
            "issuer": ISSUERS[partner]["id"],
            "name": ISSUERS[partner]["name"],
            "programme": partner,
            "country": country,
            "acceptedCredentialTypes": ["AEOCertificateCredential", "ExportBillingAttestation"],
        }
        for partner, country in _TRUST_LIST_PARTNERS[programme]
    ]
    return build_trust_list(
        recognised,
        issuer=ISSUERS[programme]["id"],
        programme=programme,
        authority_country="DE" if programme == "EU-AEO" else None,
        valid_from=ISSUED_AT,
        valid_until=TRUST_LIST_VALID_UNTIL,
        credential_id=f"urn:vcred:sample:trust-list:{programme.lower()}",
    )
