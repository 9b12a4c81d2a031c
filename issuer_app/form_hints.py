"""What each issuing-form field accepts, told to the officer when the builder refuses it.

The customs builders (:mod:`vcred.customs.builders`) and the issuer's own checks say what is
wrong in the credential's terms ("certifiedSince is after validFrom"), in English, for the
API. Beside a form field the officer reads this sentence in their language first, with that
detail after it in brackets.
"""

from __future__ import annotations

from typing import Final

from vcred_service.explanations import N_

FIELD_HINTS: Final[dict[str, str]] = {
    "legalName": N_("The trader's legal name as registered."),
    "traderId": N_("A DID of the trader, such as did:web:trader.example, or nothing."),
    "country": N_("A two-letter ISO country code where the programme certifies operators."),
    "streetAddress": N_("The trader's street address."),
    "identifiers": N_("Each identifier once, as SCHEME VALUE in that scheme's format."),
    "programme": N_("A programme that certifies operators in the trader's country."),
    "tier": N_("A tier of the chosen programme."),
    "tradeRoles": N_("Each trade role once."),
    "certifiedSince": N_("A date, no later than the start of validity."),
    "lastValidated": N_("A date, no earlier than the certification."),
    "certificateNumber": N_("1 to 35 letters, digits, '/', '.' or '-'."),
    "validFrom": N_("The first day of validity."),
    "validUntil": N_("A day after the start of validity."),
    "format": N_("A format this issuer offers, for a key it holds."),
    "declarationValue": N_("A declaration number in the format of the chosen scheme."),
    "exporterName": N_("The exporter's legal name."),
    "exporterCountry": N_("A two-letter ISO country code."),
    "exporterIdentifier": N_("An identifier as SCHEME VALUE, or nothing."),
    "consigneeName": N_("The consignee's legal name."),
    "consigneeCountry": N_("A two-letter ISO country code."),
    "invoiceNumber": N_("1 to 35 letters, digits, '/', '.', '_' or '-'."),
    "invoiceDate": N_("The invoice's date."),
    "currency": N_("A three-letter ISO 4217 currency code."),
    "totalAmount": N_("An amount such as 48250.00, the sum of the line amounts."),
    "incoterms": N_("An Incoterms 2020 rule, such as FCA."),
    "lineItems": N_("One line per item, with seven fields separated by |."),
    "modeOfTransport": N_("A UN/ECE Recommendation 19 code, 1 to 9."),
    "exitOffice": N_("A customs office code: 2 to 12 capital letters or digits."),
    "exitCountry": N_("A two-letter ISO country code."),
    "exitDate": N_("A date, no later than the start of validity."),
    "destinationCountry": N_("A country outside the customs territory the goods leave."),
    "_form": N_("The credential could not be issued from this form."),
}


def field_hint(field: str) -> str:
    """The untranslated sentence for ``field`` (the form's own for an unknown one)."""
    return FIELD_HINTS.get(field, FIELD_HINTS["_form"])
