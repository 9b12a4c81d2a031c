"""What a credential says, in the few fields an officer looks at first (both services).

An AEO certificate: the trader (legal name, country, identifiers, roles) and its programme
and tier. An export billing attestation: the declaration, exporter, consignee and route.
Anything else: its types and subject name or id. Read from the credential the verifier
returns, which for a credential that failed verification is what it *claims* (the UI says so).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from vcred.customs.builders import AEO_CERTIFICATE_TYPE, EXPORT_BILLING_TYPE
from vcred.customs.programmes import PROGRAMMES, TRADE_ROLES

_BASE_TYPE: Final = "VerifiableCredential"


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _first_subject(credential: Mapping[str, Any]) -> Mapping[str, Any]:
    subject = credential.get("credentialSubject")
    if isinstance(subject, list):
        subject = subject[0] if subject else None
    return _mapping(subject)


def _identifiers(value: Any) -> list[dict[str, str]]:
    items = value if isinstance(value, list) else [value]
    out = []
    for item in items[:20]:
        item = _mapping(item)
        scheme, number = _text(item.get("scheme")), _text(item.get("value"))
        if scheme and number:
            out.append({"scheme": scheme, "value": number})
    return out


def _party(value: Any) -> dict[str, Any] | None:
    party = _mapping(value)
    name = _text(party.get("legalName")) or _text(party.get("name"))
    if name is None:
        return None
    out: dict[str, Any] = {"name": name}
    if _text(party.get("country")):
        out["country"] = party["country"]
    identifiers = _identifiers(party.get("identifier", []))
    if identifiers:
        out["identifiers"] = identifiers
    return out


def summarise(credential: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The officer's view of ``credential`` (None when there is nothing to show)."""
    if not credential:
        return None
    raw_types = credential.get("type", [])
    types = [t for t in (raw_types if isinstance(raw_types, list) else [raw_types]) if _text(t)]
    out: dict[str, Any] = {"types": [t for t in types if t != _BASE_TYPE] or types}
    for key in ("id", "validFrom", "validUntil"):
        if _text(credential.get(key)):
            out[key] = credential[key]
    subject = _first_subject(credential)
    if AEO_CERTIFICATE_TYPE in types:
        out.update(_aeo(subject))
    elif EXPORT_BILLING_TYPE in types:
        out.update(_export(subject))
    else:
        name = _text(subject.get("legalName")) or _text(subject.get("name"))
        if name or _text(subject.get("id")):
            out["subject"] = {"name": name or subject["id"]}
    return out


def _aeo(subject: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    trader = _party(subject)
    if trader is not None:
        if _text(subject.get("id")):
            trader["id"] = subject["id"]
        locality = _text(_mapping(subject.get("address")).get("addressLocality"))
        if locality:
            trader["locality"] = locality
        out["subject"] = trader
    certification = _mapping(subject.get("certification"))
    code = _text(certification.get("programme"))
    if code:
        programme = PROGRAMMES.get(code)
        tier = _text(certification.get("tier"))
        out["programme"] = {
            "code": code,
            "name": programme.name if programme else code,
            "tier": tier,
            "tierName": programme.tiers.get(tier, tier) if programme and tier else tier,
        }
        roles = certification.get("tradeRoles")
        if isinstance(roles, list):
            out["programme"]["tradeRoles"] = [
                TRADE_ROLES.get(r, r) for r in roles[:20] if isinstance(r, str)
            ]
        for key in ("certifiedSince", "lastValidated", "certificateNumber"):
            if _text(certification.get(key)):
                out["programme"][key] = certification[key]
    return out


def _export(subject: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    exporter = _party(subject.get("exporter"))
    if exporter is not None:
        out["subject"] = exporter
    consignee = _party(subject.get("consignee"))
    if consignee is not None:
        out["consignee"] = consignee
    declaration = _mapping(subject.get("exportDeclaration"))
    if _text(declaration.get("value")):
        out["declaration"] = {
            "scheme": _text(declaration.get("scheme")),
            "value": declaration["value"],
        }
    for key in ("exitDate", "destinationCountry"):
        if _text(subject.get(key)):
            out[key] = subject[key]
    invoice = _mapping(subject.get("invoice"))
    if invoice:
        # what the holder disclosed of the invoice: amounts may have been withheld (SD-JWT)
        shown = ("invoiceNumber", "currency", "totalAmount", "incoterms")
        out["invoice"] = {k: invoice[k] for k in shown if _text(invoice.get(k))}
    lines = subject.get("lineItems")
    if isinstance(lines, list):
        fields = ("lineNumber", "hsCode", "description", "quantity", "unitCode", "amount")
        out["lineItems"] = [
            {k: line[k] for k in fields if k in line} for line in lines if isinstance(line, dict)
        ]
    return out


def subject_name(summary: Mapping[str, Any] | None) -> str | None:
    """The name the history records for a verification."""
    if not summary:
        return None
    name = _mapping(summary.get("subject")).get("name")
    return name if isinstance(name, str) else None
