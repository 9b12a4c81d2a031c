"""Helpers shared by the OpenID4VCI tests: a wallet transport over a Flask test client, and
offers made on an issuer app the way the officer page makes them."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from flask import Flask

from issuer_app import issuer_of
from issuer_app.oid4vci import OfferView
from issuer_app.oid4vci_api import EXTENSION
from vcred.customs.builders import build_aeo_certificate, build_export_billing_attestation
from vcred.errors import FetchRefusedError
from vcred.wallet.transport import Answer


class AppTransport:
    """A wallet :class:`~vcred.wallet.transport.Transport` answered by an issuer app."""

    def __init__(self, app: Flask, base: str) -> None:
        self.client = app.test_client()
        self.base = base
        self.calls: list[tuple[str, str]] = []

    def request(
        self, method: str, url: str, *, body: bytes | None = None, headers: Mapping[str, str]
    ) -> Answer:
        parts = urlsplit(url)
        if f"{parts.scheme}://{parts.netloc}" != self.base:
            raise FetchRefusedError(f"not this issuer: {url}")
        self.calls.append((method, parts.path))
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        response = self.client.open(path, method=method, data=body, headers=dict(headers))
        return Answer(
            status=response.status_code,
            content_type=response.content_type or "",
            body=response.get_data(),
        )


def offer(app: Flask, kind: str, fmt: str, *, actor: str = "officer:test") -> OfferView:
    """An offer of an AEO certificate (``aeo``) or a billing attestation (``billing``) in the
    OpenID4VCI format ``fmt``, made by ``actor`` (an officer account is made for it when
    there is none: an offer is withdrawn when its officer may no longer issue)."""
    service = app.extensions[EXTENSION]
    issuer = issuer_of(app)
    officer = actor.removeprefix("officer:")
    if officer != actor and issuer.officers.row(officer) is None:
        issuer.add_officer(officer, None, actor="test")
    vcred_format = {"vc+sd-jwt": "vc+sd-jwt", "jwt_vc_json": "vc+jwt", "ldp_vc": "data-integrity"}
    document = (
        aeo_certificate(issuer.config.did_web) if kind == "aeo" else billing(issuer.config.did_web)
    )
    made = service.configuration_for(document["type"][-1], vcred_format[fmt])
    view: OfferView = service.create(document, made.id, actor=actor)
    return view


def aeo_certificate(issuer: str) -> dict[str, Any]:
    return build_aeo_certificate(
        {
            "legalName": "Prairie Grain Exports LLC",
            "country": "US",
            "identifier": [{"scheme": "EORI", "value": "US123456789000"}],
            "certification": {
                "programme": "US-CTPAT",
                "tier": "TIER3",
                "tradeRoles": ["exporter"],
                "certifiedSince": "2019-04-01",
            },
        },
        issuer=issuer,
        valid_from=datetime(2026, 1, 1, tzinfo=UTC),
        valid_until=datetime(2029, 1, 1, tzinfo=UTC),
        credential_id=f"urn:uuid:{uuid.uuid4()}",
    )


def billing(issuer: str) -> dict[str, Any]:
    return build_export_billing_attestation(
        {
            "exportDeclaration": {"scheme": "MRN", "value": "26DE5B7C3A1F9E2D06"},
            "exporter": {"legalName": "Prairie Grain Exports LLC", "country": "US"},
            "consignee": {"legalName": "Kobe Precision K.K.", "country": "JP"},
            "invoice": {
                "invoiceNumber": "INV-2026-0042",
                "invoiceDate": "2026-05-20",
                "currency": "USD",
                "totalAmount": "37500.00",
                "incoterms": "FCA",
            },
            "lineItems": [
                {
                    "hsCode": "100199",
                    "description": "Wheat",
                    "quantity": "150",
                    "unitCode": "TNE",
                    "unitPrice": "250.00",
                    "amount": "37500.00",
                    "originCountry": "US",
                }
            ],
            "modeOfTransport": "1",
            "exitOffice": {"officeCode": "US5301", "country": "US"},
            "exitDate": "2026-05-22",
            "destinationCountry": "JP",
        },
        issuer=issuer,
        valid_from=datetime(2026, 5, 24, tzinfo=UTC),
        credential_id=f"urn:uuid:{uuid.uuid4()}",
    )
