"""Builders for the customs credentials: check the input, fill in the VCDM 2.0 envelope.

Each builder takes the ``credentialSubject`` as JSON (the shape it will have in the
credential, without the ``type`` members, which the builder adds) and returns an unsigned
VCDM 2.0 credential with ``@context`` (VC v2 + ours), ``type``, ``credentialSchema``,
``validFrom`` / ``validUntil``. https://www.w3.org/TR/vc-data-model-2.0/

Bad input raises :class:`~vcred.errors.MalformedError` whose pointer is where the value sits
in the finished credential (``/credentialSubject/lineItems/2/hsCode``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Final

from ..errors import MalformedError
from ..integrity.selective import pointers_except
from . import _fields as f
from ._codes import COUNTRIES, EU_MEMBER_STATES, minor_unit
from .identifiers import check_identifier, mrn_check, mrn_check_character
from .programmes import PROGRAMMES, TRADE_ROLES

__all__ = [
    "AEO_CERTIFICATE_SCHEMA",
    "AEO_CERTIFICATE_TYPE",
    "CUSTOMS_CONTEXT",
    "DECLARATION_SCHEMES",
    "DISCLOSABLE_BILLING_PATHS",
    "EXPORT_BILLING_SCHEMA",
    "EXPORT_BILLING_TYPE",
    "MRA_TRUST_LIST_SCHEMA",
    "MRA_TRUST_LIST_TYPE",
    "TRANSPORT_DOCUMENTS",
    "VC_V2_CONTEXT",
    "build_aeo_certificate",
    "build_export_billing_attestation",
    "disclosable_billing_claims",
    "envelope",
    "mandatory_billing_pointers",
]

VC_V2_CONTEXT: Final = "https://www.w3.org/ns/credentials/v2"
# The customs vocabulary (schemas/customs-v1.jsonld, shipped as vcred.schemas).
CUSTOMS_CONTEXT: Final = "https://vcred.dev/ns/customs/v1"
AEO_CERTIFICATE_TYPE: Final = "AEOCertificateCredential"
EXPORT_BILLING_TYPE: Final = "ExportBillingAttestation"
MRA_TRUST_LIST_TYPE: Final = "MRATrustListCredential"
AEO_CERTIFICATE_SCHEMA: Final = "https://vcred.dev/schemas/aeo-certificate/v1.json"
EXPORT_BILLING_SCHEMA: Final = "https://vcred.dev/schemas/export-billing-attestation/v1.json"
MRA_TRUST_LIST_SCHEMA: Final = "https://vcred.dev/schemas/mra-trust-list/v1.json"

# The claims of an ExportBillingAttestation a holder may withhold (SD-JWT, RFC 9901): the
# commercially sensitive amounts, who the buyer is and what exactly was sold. Everything else
# is always disclosed. JSONPath (RFC 9535).
DISCLOSABLE_BILLING_PATHS: Final[tuple[str, ...]] = (
    "$.credentialSubject.consignee",
    "$.credentialSubject.invoice.totalAmount",
    "$.credentialSubject.invoice.freightAmount",
    "$.credentialSubject.invoice.insuranceAmount",
    "$.credentialSubject.lineItems[*].description",
    "$.credentialSubject.lineItems[*].unitPrice",
    "$.credentialSubject.lineItems[*].amount",
)

# Export declaration numbers: the US AES Internal Transaction Number ("X" + 14 digits) and
# the Movement Reference Number of the EU, UK and other NCTS/AES users (18 characters: year,
# country, 14 letters/digits; EU Customs Data Model, data element 12 03 002 000).
DECLARATION_SCHEMES: Final[dict[str, tuple[re.Pattern[str], str]]] = {
    "ITN": (re.compile(r"X[0-9]{14}"), "US AES Internal Transaction Number, e.g. X20250114000123"),
    "MRN": (
        re.compile(r"[0-9]{2}[A-Z]{2}[A-Z0-9]{13}[0-9]"),
        "Movement Reference Number, e.g. 25DE3105EX00417363",
    ),
    "NATIONAL": (
        re.compile(r"[A-Z0-9][A-Z0-9/-]{0,34}"),
        "another national export declaration number (1-35 letters, digits, '/' or '-')",
    ),
}

# Transport document kinds (UN/CEFACT UNTDID 1001 names).
TRANSPORT_DOCUMENTS: Final[dict[str, str]] = {
    "BL": "Bill of lading",
    "SWB": "Sea waybill",
    "AWB": "Air waybill",
    "HAWB": "House air waybill",
    "CMR": "Road consignment note (CMR)",
    "CIM": "Rail consignment note (CIM)",
    "POSTAL": "Postal receipt",
}
_DOCUMENT_NUMBER: Final = re.compile(r"[A-Z0-9][A-Z0-9/-]{0,34}")
_CERTIFICATE_NUMBER: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9/.-]{0,34}")
_INVOICE_NUMBER: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9/._-]{0,34}")
_OFFICE_CODE: Final = re.compile(r"[A-Z0-9]{2,12}")

_S: Final = "/credentialSubject"


def envelope(
    credential_type: str,
    schema_id: str,
    subject: dict[str, Any],
    *,
    issuer: str | Mapping[str, Any],
    valid_from: datetime,
    valid_until: datetime | None,
    credential_id: str | None,
    credential_status: Sequence[Mapping[str, Any]],
) -> dict[str, Any]:
    """The VCDM 2.0 credential around ``subject`` (§4). Raises MalformedError."""
    credential: dict[str, Any] = {"@context": [VC_V2_CONTEXT, CUSTOMS_CONTEXT]}
    if credential_id is not None:
        credential["id"] = f.uri(credential_id, "/id")
    credential["type"] = ["VerifiableCredential", credential_type]
    credential["issuer"] = _issuer(issuer)
    credential["validFrom"] = f.date_time_stamp(valid_from, "/validFrom")
    if valid_until is not None:
        credential["validUntil"] = f.date_time_stamp(valid_until, "/validUntil")
        if valid_until <= valid_from:
            raise MalformedError("validUntil must be later than validFrom", pointer="/validUntil")
    credential["credentialSubject"] = subject
    credential["credentialSchema"] = {"id": schema_id, "type": "JsonSchema"}
    if credential_status:
        credential["credentialStatus"] = [
            dict(f.mapping(entry, f"/credentialStatus/{i}"))
            for i, entry in enumerate(f.sequence(credential_status, "/credentialStatus"))
        ]
    return credential


def build_aeo_certificate(
    subject: Mapping[str, Any],
    *,
    issuer: str | Mapping[str, Any],
    valid_from: datetime,
    valid_until: datetime,
    credential_id: str | None = None,
    credential_status: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """An unsigned ``AEOCertificateCredential`` for a certified trader (DESIGN §7).

    ``subject``: ``legalName``, ``country``, ``identifier`` (list of ``{scheme, value}``),
    ``certification`` (``programme``, ``tier``, ``tradeRoles``, ``certifiedSince``, optional
    ``lastValidated``, ``certificateNumber``, ``administeringAuthority`` — filled in from the
    programmes table when absent), optional ``id`` (the trader's DID), ``name``, ``address``.

    Raises MalformedError with the pointer of the faulty value.
    """
    s = f.mapping(subject, _S)
    f.no_extra(
        s,
        {"id", "type", "legalName", "name", "country", "address", "identifier", "certification"},
        _S,
    )
    _expect_type(s, "Organization", _S)
    trader: dict[str, Any] = {}
    if s.get("id") is not None:
        trader["id"] = f.uri(s["id"], f"{_S}/id")
    trader["type"] = "Organization"
    trader["legalName"] = f.text(f.required(s, "legalName", _S), f"{_S}/legalName")
    if s.get("name") is not None:
        trader["name"] = f.text(s["name"], f"{_S}/name")
    trader["country"] = f.country(f.required(s, "country", _S), f"{_S}/country")
    if s.get("address") is not None:
        trader["address"] = _address(s["address"], f"{_S}/address")
    trader["identifier"] = _identifiers(f.required(s, "identifier", _S), f"{_S}/identifier")
    trader["certification"] = _certification(
        f.required(s, "certification", _S), trader["country"], valid_from
    )
    return envelope(
        AEO_CERTIFICATE_TYPE,
        AEO_CERTIFICATE_SCHEMA,
        trader,
        issuer=issuer,
        valid_from=valid_from,
        valid_until=valid_until,
        credential_id=credential_id,
        credential_status=credential_status,
    )


def _certification(value: Any, country: str, valid_from: datetime) -> dict[str, Any]:
    p = f"{_S}/certification"
    c = f.mapping(value, p)
    f.no_extra(
        c,
        {
            "type",
            "programme",
            "administeringAuthority",
            "tier",
            "tradeRoles",
            "certifiedSince",
            "lastValidated",
            "certificateNumber",
        },
        p,
    )
    _expect_type(c, "AEOCertification", p)
    code = f.one_of(f.required(c, "programme", p), PROGRAMMES, f"{p}/programme", "AEO programme")
    programme = PROGRAMMES[code]
    if country not in programme.countries:
        raise MalformedError(
            f"{programme.name} certifies operators established in "
            f"{', '.join(sorted(programme.countries))}, not {country}",
            pointer=f"{p}/programme",
        )
    out: dict[str, Any] = {"type": "AEOCertification", "programme": code}
    out["administeringAuthority"] = _authority(c.get("administeringAuthority"), code, country, p)
    out["tier"] = f.one_of(
        f.required(c, "tier", p), programme.tiers, f"{p}/tier", f"tier of {code}"
    )
    roles = f.sequence(f.required(c, "tradeRoles", p), f"{p}/tradeRoles", min_items=1)
    out["tradeRoles"] = [
        f.one_of(role, TRADE_ROLES, f"{p}/tradeRoles/{i}", "trade role")
        for i, role in enumerate(roles)
    ]
    if len(set(out["tradeRoles"])) != len(out["tradeRoles"]):
        raise MalformedError("a trade role is listed twice", pointer=f"{p}/tradeRoles")
    since = f.iso_date(f.required(c, "certifiedSince", p), f"{p}/certifiedSince")
    out["certifiedSince"] = since
    if date.fromisoformat(since) > valid_from.date():
        raise MalformedError(
            "certifiedSince is after validFrom: a credential cannot precede the certification",
            pointer=f"{p}/certifiedSince",
        )
    if c.get("lastValidated") is not None:
        last = f.iso_date(c["lastValidated"], f"{p}/lastValidated")
        if last < since:
            raise MalformedError(
                "lastValidated is before certifiedSince", pointer=f"{p}/lastValidated"
            )
        out["lastValidated"] = last
    if c.get("certificateNumber") is not None:
        number = c["certificateNumber"]
        if not isinstance(number, str) or not _CERTIFICATE_NUMBER.fullmatch(number):
            raise MalformedError(
                "a certificate number is 1–35 letters, digits, '/', '.' or '-'",
                pointer=f"{p}/certificateNumber",
            )
        out["certificateNumber"] = number
    return out


def _authority(value: Any, programme: str, country: str, p: str) -> dict[str, Any]:
    pointer = f"{p}/administeringAuthority"
    if value is None:
        # The EU programme is run by each Member State's customs: the authority is the one
        # of the trader's country. Every other programme has a single administration.
        countries = PROGRAMMES[programme].countries
        where = country if countries == EU_MEMBER_STATES else next(iter(sorted(countries)))
        return {"name": PROGRAMMES[programme].authority, "country": where}
    a = f.mapping(value, pointer)
    f.no_extra(a, {"id", "name", "country"}, pointer)
    out: dict[str, Any] = {}
    if a.get("id") is not None:
        out["id"] = f.uri(a["id"], f"{pointer}/id")
    out["name"] = f.text(f.required(a, "name", pointer), f"{pointer}/name")
    out["country"] = f.country(f.required(a, "country", pointer), f"{pointer}/country")
    if out["country"] not in PROGRAMMES[programme].countries:
        raise MalformedError(
            f"the authority of {programme} is not in {out['country']}",
            pointer=f"{pointer}/country",
        )
    return out


def build_export_billing_attestation(
    subject: Mapping[str, Any],
    *,
    issuer: str | Mapping[str, Any],
    valid_from: datetime,
    valid_until: datetime | None = None,
    credential_id: str | None = None,
    credential_status: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """An unsigned ``ExportBillingAttestation``: these goods, on this invoice, left on this date.

    ``subject``: ``exportDeclaration`` (``{scheme: ITN|MRN|NATIONAL, value}``, optional
    ``officeOfExport`` (a Place) and ``acceptanceDate``) or, when none was required,
    ``exportDeclarationNotRequired`` (``reason``, optional ``legalBasis``); ``exporter`` and
    ``consignee`` (``legalName``, ``country``, optional ``identifier``, ``address``, ``id``),
    ``invoice`` (``invoiceNumber``, ``invoiceDate``, ``currency``, ``totalAmount``,
    ``incoterms``, optional ``incotermsPlace``, ``freightAmount``, ``insuranceAmount``),
    ``lineItems`` (``hsCode``, ``description``, ``quantity``, ``unitCode``, ``unitPrice``,
    ``amount``, ``originCountry``), optional ``transportDocument`` (``{scheme: BL|AWB|…,
    value}``), ``modeOfTransport`` (UN/ECE Rec. 19), ``exitOffice`` (``officeCode``,
    ``country``, optional ``name``), ``exitDate``, ``destinationCountry``.

    Amounts are decimal strings and add up: each line's ``amount`` is ``quantity`` ×
    ``unitPrice`` rounded half-up to the currency's minor unit (ISO 4217); the invoice total
    is the sum of the lines plus freight and insurance; no amount has more decimals than the
    currency's minor unit. See DISCLOSABLE_BILLING_PATHS.

    Raises MalformedError with the pointer of the faulty value.
    """
    s = f.mapping(subject, _S)
    f.no_extra(
        s,
        {
            "id",
            "type",
            "exportDeclaration",
            "exportDeclarationNotRequired",
            "exporter",
            "consignee",
            "invoice",
            "lineItems",
            "transportDocument",
            "modeOfTransport",
            "exitOffice",
            "exitDate",
            "destinationCountry",
        },
        _S,
    )
    _expect_type(s, "Export", _S)
    out: dict[str, Any] = {}
    if s.get("id") is not None:
        out["id"] = f.uri(s["id"], f"{_S}/id")
    out["type"] = "Export"
    declared, exempt = s.get("exportDeclaration"), s.get("exportDeclarationNotRequired")
    if (declared is None) == (exempt is None):
        raise MalformedError(
            "give exportDeclaration, or exportDeclarationNotRequired (with its reason) when no "
            "export declaration was required: one of the two",
            pointer=f"{_S}/exportDeclaration",
        )
    if declared is not None:
        out["exportDeclaration"] = _declaration(declared)
    else:
        out["exportDeclarationNotRequired"] = _no_declaration(exempt)
    out["exporter"] = _party(f.required(s, "exporter", _S), f"{_S}/exporter")
    out["consignee"] = _party(f.required(s, "consignee", _S), f"{_S}/consignee")
    out["invoice"] = _invoice(f.required(s, "invoice", _S))
    items = f.sequence(f.required(s, "lineItems", _S), f"{_S}/lineItems", min_items=1)
    out["lineItems"] = [
        _line_item(item, f"{_S}/lineItems/{i}", i + 1) for i, item in enumerate(items)
    ]
    numbers = [item["lineNumber"] for item in out["lineItems"]]
    for i, number in enumerate(numbers):
        if number in numbers[:i]:
            raise MalformedError(
                f"line number {number} is used twice", pointer=f"{_S}/lineItems/{i}/lineNumber"
            )
    _check_amounts(out["invoice"], out["lineItems"])
    if s.get("transportDocument") is not None:
        out["transportDocument"] = _transport_document(s["transportDocument"])
    out["modeOfTransport"] = f.transport_mode(
        f.required(s, "modeOfTransport", _S), f"{_S}/modeOfTransport"
    )
    out["exitOffice"] = _office(f.required(s, "exitOffice", _S), f"{_S}/exitOffice")
    exit_date = f.iso_date(f.required(s, "exitDate", _S), f"{_S}/exitDate")
    if date.fromisoformat(exit_date) > valid_from.date():
        raise MalformedError(
            "exitDate is after validFrom: the attestation cannot precede the exit",
            pointer=f"{_S}/exitDate",
        )
    out["exitDate"] = exit_date
    accepted = out.get("exportDeclaration", {}).get("acceptanceDate")
    if accepted is not None and accepted > exit_date:
        raise MalformedError(
            "the export declaration was accepted after the goods exited",
            pointer=f"{_S}/exportDeclaration/acceptanceDate",
        )
    destination = f.country(f.required(s, "destinationCountry", _S), f"{_S}/destinationCountry")
    _check_leaves_territory(out["exitOffice"]["country"], destination)
    out["destinationCountry"] = destination
    return envelope(
        EXPORT_BILLING_TYPE,
        EXPORT_BILLING_SCHEMA,
        out,
        issuer=issuer,
        valid_from=valid_from,
        valid_until=valid_until,
        credential_id=credential_id,
        credential_status=credential_status,
    )


def _check_leaves_territory(exit_country: str, destination: str) -> None:
    same_union = exit_country in EU_MEMBER_STATES and destination in EU_MEMBER_STATES
    if exit_country == destination or same_union:
        raise MalformedError(
            f"goods leaving through {exit_country} for {destination} do not leave the customs "
            "territory: that is not an export",
            pointer=f"{_S}/destinationCountry",
        )


def _check_amounts(invoice: dict[str, Any], lines: list[dict[str, Any]]) -> None:
    """Line amounts are quantity × unit price, the total is the lines plus freight and
    insurance, and no amount has more decimals than the currency's minor unit (ISO 4217)."""
    currency = invoice["currency"]
    places = minor_unit(currency)
    amounts = [
        (invoice[name], f"{_S}/invoice/{name}")
        for name in ("totalAmount", "freightAmount", "insuranceAmount")
        if name in invoice
    ]
    amounts += [(line["amount"], f"{_S}/lineItems/{i}/amount") for i, line in enumerate(lines)]
    if places is not None:
        for amount, pointer in amounts:
            if _decimals(amount) > places:
                raise MalformedError(
                    f"{currency} amounts have at most {places} decimals (ISO 4217 minor unit), "
                    f"not {amount!r}",
                    pointer=pointer,
                )
    step = Decimal(1).scaleb(-(places if places is not None else 6))
    for i, line in enumerate(lines):
        expected = (Decimal(line["quantity"]) * Decimal(line["unitPrice"])).quantize(
            step, rounding=ROUND_HALF_UP
        )
        if Decimal(line["amount"]) != expected:
            raise MalformedError(
                f"line {line['lineNumber']}: quantity {line['quantity']} × unit price "
                f"{line['unitPrice']} is {expected} {currency}, not {line['amount']}",
                pointer=f"{_S}/lineItems/{i}/amount",
            )
    extra = sum(
        (
            Decimal(invoice[name])
            for name in ("freightAmount", "insuranceAmount")
            if name in invoice
        ),
        Decimal(0),
    )
    expected_total = sum((Decimal(line["amount"]) for line in lines), Decimal(0)) + extra
    if Decimal(invoice["totalAmount"]) != expected_total:
        raise MalformedError(
            f"the invoice total is the sum of the lines plus freight and insurance: "
            f"{expected_total} {currency}, not {invoice['totalAmount']}",
            pointer=f"{_S}/invoice/totalAmount",
        )


def _decimals(amount: str) -> int:
    """The decimals an amount is written with ("12.50": 2)."""
    return len(amount.partition(".")[2])


def _no_declaration(value: Any) -> dict[str, str]:
    p = f"{_S}/exportDeclarationNotRequired"
    d = f.mapping(value, p)
    f.no_extra(d, {"reason", "legalBasis"}, p)
    out = {"reason": f.text(f.required(d, "reason", p), f"{p}/reason")}
    if d.get("legalBasis") is not None:
        out["legalBasis"] = f.text(d["legalBasis"], f"{p}/legalBasis")
    return out


def _declaration(value: Any) -> dict[str, Any]:
    p = f"{_S}/exportDeclaration"
    d = f.mapping(value, p)
    f.no_extra(d, {"scheme", "value", "officeOfExport", "acceptanceDate"}, p)
    scheme = f.one_of(
        f.required(d, "scheme", p),
        {k: v[1] for k, v in DECLARATION_SCHEMES.items()},
        f"{p}/scheme",
        "export declaration scheme",
    )
    number = f.required(d, "value", p)
    pattern, what = DECLARATION_SCHEMES[scheme]
    if not isinstance(number, str) or not pattern.fullmatch(number):
        raise MalformedError(f"{number!r} is not a {what}", pointer=f"{p}/value")
    if scheme == "MRN" and number[2:4] not in COUNTRIES and number[2:4] != "XI":
        raise MalformedError(
            f"an MRN carries the country of the declaring office; {number[2:4]!r} is not one",
            pointer=f"{p}/value",
        )
    if scheme == "MRN" and not mrn_check(number):
        raise MalformedError(
            f"the MRN's check character is {number[17]!r}; its first 17 characters give "
            f"{mrn_check_character(number)!r} (ISO 6346-based, UCC data element 12 03 002 000)",
            pointer=f"{p}/value",
        )
    out: dict[str, Any] = {"scheme": scheme, "value": number}
    if d.get("officeOfExport") is not None:
        out["officeOfExport"] = _office(d["officeOfExport"], f"{p}/officeOfExport")
    if d.get("acceptanceDate") is not None:
        out["acceptanceDate"] = f.iso_date(d["acceptanceDate"], f"{p}/acceptanceDate")
    return out


def _party(value: Any, p: str) -> dict[str, Any]:
    d = f.mapping(value, p)
    f.no_extra(d, {"id", "type", "legalName", "name", "country", "identifier", "address"}, p)
    _expect_type(d, "Organization", p)
    out: dict[str, Any] = {}
    if d.get("id") is not None:
        out["id"] = f.uri(d["id"], f"{p}/id")
    out["type"] = "Organization"
    out["legalName"] = f.text(f.required(d, "legalName", p), f"{p}/legalName")
    if d.get("name") is not None:
        out["name"] = f.text(d["name"], f"{p}/name")
    out["country"] = f.country(f.required(d, "country", p), f"{p}/country")
    if d.get("identifier") is not None:
        out["identifier"] = _identifiers(d["identifier"], f"{p}/identifier")
    if d.get("address") is not None:
        out["address"] = _address(d["address"], f"{p}/address")
    return out


def _invoice(value: Any) -> dict[str, Any]:
    p = f"{_S}/invoice"
    d = f.mapping(value, p)
    f.no_extra(
        d,
        {
            "type",
            "invoiceNumber",
            "invoiceDate",
            "currency",
            "totalAmount",
            "freightAmount",
            "insuranceAmount",
            "incoterms",
            "incotermsPlace",
        },
        p,
    )
    _expect_type(d, "Invoice", p)
    number = f.required(d, "invoiceNumber", p)
    if not isinstance(number, str) or not _INVOICE_NUMBER.fullmatch(number):
        raise MalformedError(
            "an invoice number is 1–35 letters, digits, '/', '.', '_' or '-'",
            pointer=f"{p}/invoiceNumber",
        )
    out: dict[str, Any] = {"type": "Invoice", "invoiceNumber": number}
    out["invoiceDate"] = f.iso_date(f.required(d, "invoiceDate", p), f"{p}/invoiceDate")
    out["currency"] = f.currency(f.required(d, "currency", p), f"{p}/currency")
    out["totalAmount"] = f.decimal(f.required(d, "totalAmount", p), f"{p}/totalAmount")
    for name in ("freightAmount", "insuranceAmount"):
        if d.get(name) is not None:
            out[name] = f.decimal(d[name], f"{p}/{name}")
    out["incoterms"] = f.incoterms(f.required(d, "incoterms", p), f"{p}/incoterms")
    if d.get("incotermsPlace") is not None:
        out["incotermsPlace"] = f.text(d["incotermsPlace"], f"{p}/incotermsPlace")
    return out


def _line_item(value: Any, p: str, position: int) -> dict[str, Any]:
    """One invoice line. ``lineNumber`` (default: its position, from 1) keeps the order: line
    items are a JSON-LD set, not an RDF list, whose blank-node chain RDFC-1.0 cannot
    canonicalize within its work limits once an invoice has a few lines."""
    d = f.mapping(value, p)
    f.no_extra(
        d,
        {
            "type",
            "lineNumber",
            "hsCode",
            "description",
            "quantity",
            "unitCode",
            "unitPrice",
            "amount",
            "originCountry",
        },
        p,
    )
    _expect_type(d, "ExportLineItem", p)
    number = d.get("lineNumber", position)
    if not isinstance(number, int) or isinstance(number, bool) or number < 1:
        raise MalformedError("lineNumber must be a positive integer", pointer=f"{p}/lineNumber")
    return {
        "type": "ExportLineItem",
        "lineNumber": number,
        "hsCode": f.hs_code(f.required(d, "hsCode", p), f"{p}/hsCode"),
        "description": f.text(f.required(d, "description", p), f"{p}/description"),
        "quantity": f.decimal(f.required(d, "quantity", p), f"{p}/quantity", positive=True),
        "unitCode": f.unit_code(f.required(d, "unitCode", p), f"{p}/unitCode"),
        "unitPrice": f.decimal(f.required(d, "unitPrice", p), f"{p}/unitPrice"),
        "amount": f.decimal(f.required(d, "amount", p), f"{p}/amount"),
        "originCountry": f.country(f.required(d, "originCountry", p), f"{p}/originCountry"),
    }


def _transport_document(value: Any) -> dict[str, str]:
    p = f"{_S}/transportDocument"
    d = f.mapping(value, p)
    f.no_extra(d, {"scheme", "value"}, p)
    scheme = f.one_of(
        f.required(d, "scheme", p), TRANSPORT_DOCUMENTS, f"{p}/scheme", "transport document"
    )
    number = f.required(d, "value", p)
    if not isinstance(number, str) or not _DOCUMENT_NUMBER.fullmatch(number):
        raise MalformedError(
            "a transport document number is 1–35 capital letters, digits, '/' or '-'",
            pointer=f"{p}/value",
        )
    return {"scheme": scheme, "value": number}


def _office(value: Any, p: str) -> dict[str, Any]:
    d = f.mapping(value, p)
    f.no_extra(d, {"type", "officeCode", "name", "country"}, p)
    _expect_type(d, "Place", p)
    code = f.required(d, "officeCode", p)
    if not isinstance(code, str) or not _OFFICE_CODE.fullmatch(code):
        raise MalformedError(
            "a customs office code is 2–12 capital letters or digits (EU: 'DE004700', "
            "US port code: '2704')",
            pointer=f"{p}/officeCode",
        )
    out: dict[str, Any] = {"type": "Place", "officeCode": code}
    if d.get("name") is not None:
        out["name"] = f.text(d["name"], f"{p}/name")
    out["country"] = f.country(f.required(d, "country", p), f"{p}/country")
    return out


def _address(value: Any, p: str) -> dict[str, Any]:
    d = f.mapping(value, p)
    fields = ("streetAddress", "addressLocality", "addressRegion", "postalCode")
    f.no_extra(d, {"type", "addressCountry", *fields}, p)
    _expect_type(d, "PostalAddress", p)
    out: dict[str, Any] = {"type": "PostalAddress"}
    for name in fields:
        if d.get(name) is not None:
            out[name] = f.text(d[name], f"{p}/{name}")
    out["addressCountry"] = f.country(f.required(d, "addressCountry", p), f"{p}/addressCountry")
    return out


def _identifiers(value: Any, p: str) -> list[dict[str, str]]:
    items = f.sequence(value, p, min_items=1)
    out = [check_identifier(item, f"{p}/{i}") for i, item in enumerate(items)]
    seen: set[tuple[str, str]] = set()
    for i, item in enumerate(out):
        key = (item["scheme"], item["value"])
        if key in seen:
            raise MalformedError("this identifier is listed twice", pointer=f"{p}/{i}")
        seen.add(key)
    return out


def _issuer(value: str | Mapping[str, Any]) -> str | dict[str, Any]:
    if isinstance(value, str):
        return f.uri(value, "/issuer")
    d = f.mapping(value, "/issuer")
    f.no_extra(d, {"id", "name", "description"}, "/issuer")
    out: dict[str, Any] = {"id": f.uri(f.required(d, "id", "/issuer"), "/issuer/id")}
    for name in ("name", "description"):
        if d.get(name) is not None:
            out[name] = f.text(d[name], f"/issuer/{name}")
    return out


def _expect_type(value: Mapping[str, Any], expected: str, pointer: str) -> None:
    given = value.get("type")
    if given is not None and given != expected:
        raise MalformedError(
            f"type must be {expected!r} (or left out; the builder adds it)",
            pointer=f"{pointer}/type",
        )


def disclosable_billing_claims(credential: Mapping[str, Any]) -> tuple[str, ...]:
    """JSON Pointers of the selectively disclosable claims present in this attestation.

    The concrete form of DISCLOSABLE_BILLING_PATHS, for an SD-JWT issuer: the consignee, the
    invoice total, freight and insurance, and each line's description, unit price and amount.
    """
    subject = credential.get("credentialSubject")
    if not isinstance(subject, Mapping):
        return ()
    found: list[str] = []
    if "consignee" in subject:
        found.append(f"{_S}/consignee")
    invoice = subject.get("invoice")
    if isinstance(invoice, Mapping):
        found.extend(
            f"{_S}/invoice/{k}"
            for k in ("totalAmount", "freightAmount", "insuranceAmount")
            if k in invoice
        )
    items = subject.get("lineItems")
    if isinstance(items, list):
        for i, item in enumerate(items):
            if isinstance(item, Mapping):
                found.extend(
                    f"{_S}/lineItems/{i}/{k}"
                    for k in ("description", "unitPrice", "amount")
                    if k in item
                )
    return tuple(found)


def mandatory_billing_pointers(credential: Mapping[str, Any]) -> tuple[str, ...]:
    """ecdsa-sd-2023 mandatory pointers of an attestation: everything but the amounts.

    The complement of :func:`disclosable_billing_claims` (DISCLOSABLE_BILLING_PATHS): each
    member of the credential is mandatory whole, except the invoice and line items, whose
    members are mandatory one by one but for the total, unit prices and amounts.
    """
    return pointers_except(credential, disclosable_billing_claims(credential))
