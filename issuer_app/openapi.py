"""The OpenAPI 3.1 description of the issuer's HTTP interface (``GET /openapi.json``).

Written by hand to say exactly what the views answer: every status code a view can produce
is listed with its schema, and problem details (RFC 9457, ``application/problem+json``) cover
the rest through ``default``. The tests check the app's real answers against it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from issuer_app import hashing
from vcred.integrity.suites import SUITES
from vcred_service.oauth_http import openapi_scheme
from vcred_service.openapi import PROBLEM_SCHEMA, problem_response

if TYPE_CHECKING:
    from issuer_app.service import Issuer

_REF_PROBLEM: Final = {"$ref": "#/components/responses/Problem"}


def _problem(description: str) -> dict[str, Any]:
    return problem_response(description, schema_ref="#/components/schemas/Problem")


def _limited(description: str) -> dict[str, Any]:
    response = _problem(description)
    response["headers"] = {
        "Retry-After": {"description": "seconds to wait", "schema": {"type": "string"}}
    }
    return response


_TOO_MANY: Final = _limited(
    "too many requests with bad API tokens from this address, or (when configured) too many "
    "requests"
)


def _auth_problem(description: str) -> dict[str, Any]:
    response = _problem(description)
    response["headers"] = {
        "WWW-Authenticate": {
            "description": "the Bearer challenge (RFC 6750 §3)",
            "schema": {"type": "string"},
        }
    }
    return response


#: The answer of the routes serving a signed trust list (vc+jwt, or Data Integrity JSON).
_SIGNED_TRUST_LIST: Final[dict[str, Any]] = {
    "description": "the signed trust list",
    "content": {
        "application/vc+jwt": {"schema": {"type": "string"}},
        "application/json": {"schema": {"type": "object"}},
    },
}

SCHEMAS: Final[dict[str, Any]] = {
    "Problem": PROBLEM_SCHEMA,
    "IssueCredentialRequest": {
        "type": "object",
        "required": ["credential"],
        "additionalProperties": False,
        "properties": {
            "credential": {"$ref": "#/components/schemas/Credential"},
            "options": {
                "anyOf": [
                    {"$ref": "#/components/schemas/IssueCredentialOptions"},
                    {"type": "null", "description": "the same as no options"},
                ]
            },
        },
    },
    "CredentialOfferRequest": {
        "type": "object",
        "required": ["credential", "credential_configuration_id"],
        "properties": {
            "credential": {"$ref": "#/components/schemas/Credential"},
            "credential_configuration_id": {
                "type": "string",
                "description": "one of the issuer metadata's credential_configurations_supported",
            },
        },
    },
    "CredentialOffer": {
        "type": "object",
        "required": [
            "offerId",
            "credential_offer_uri",
            "offerUrl",
            "tx_code",
            "expires",
            "credential_configuration_id",
        ],
        "properties": {
            "offerId": {"type": "string"},
            "credential_offer_uri": {"type": "string", "format": "uri"},
            "offerUrl": {
                "type": "string",
                "description": "openid-credential-offer://?credential_offer_uri=…",
            },
            "tx_code": {"type": "string", "pattern": "^[0-9]{6}$"},
            "expires": {"type": "string", "format": "date-time"},
            "credential_configuration_id": {"type": "string"},
        },
    },
    "IssueCredentialResponse": {
        "type": "object",
        "required": ["verifiableCredential"],
        "properties": {
            "verifiableCredential": {
                "description": "A Data Integrity secured credential, or an "
                "EnvelopedVerifiableCredential whose id is data:application/vc+jwt,<token> "
                "(or vc+sd-jwt), or data:application/vc+cose;base64,<COSE_Sign1> for vc+cose",
                "type": "object",
                "required": ["@context", "type"],
            }
        },
    },
    "UpdateCredentialStatusResponse": {
        "type": "object",
        "required": ["credentialId", "status", "credentialStatus"],
        "properties": {
            "credentialId": {"type": "string"},
            "status": {"type": "string", "enum": ["active", "suspended", "revoked"]},
            "credentialStatus": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": [
                        "type",
                        "statusPurpose",
                        "statusListIndex",
                        "statusListCredential",
                    ],
                    "properties": {
                        "type": {"type": "string"},
                        "statusPurpose": {"type": "string"},
                        "statusListIndex": {"type": "string"},
                        "statusListCredential": {"type": "string"},
                        "statusSize": {"type": "integer"},
                    },
                },
            },
            "statusMessage": {
                "description": "The value of the credential's message status and its meaning "
                "(when it has one)",
                "type": "object",
                "required": ["status", "message"],
                "properties": {
                    "status": {"type": "string"},
                    "message": {"type": ["string", "null"]},
                },
            },
        },
    },
    "StatusListCredential": {
        "type": "object",
        "description": "A BitstringStatusListCredential secured with Data Integrity",
        "required": ["@context", "type", "issuer", "credentialSubject"],
    },
    "DidDocument": {
        "type": "object",
        "required": ["@context", "id", "verificationMethod", "assertionMethod"],
        "properties": {
            "id": {"type": "string"},
            "verificationMethod": {"type": "array", "items": {"type": "object"}},
            "assertionMethod": {"type": "array", "items": {"type": "string"}},
        },
    },
    "Health": {
        "type": "object",
        "required": ["status", "database"],
        "properties": {
            "status": {"type": "string", "enum": ["ok", "unavailable"]},
            "database": {"type": "string"},
            "issuers": {"type": "array", "items": {"type": "string"}},
            "formats": {"type": "array", "items": {"type": "string"}},
            "auditEntries": {"type": "integer"},
        },
    },
}


_URL: Final = r"^[A-Za-z][A-Za-z0-9+.\-]*:\S+$"
_DATE_TIME: Final = {
    "type": "string",
    "format": "date-time",
    "pattern": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?"
    r"(Z|[+-][0-9]{2}:[0-9]{2})$",
}
_V2: Final = "https://www.w3.org/ns/credentials/v2"
_V1: Final = "https://www.w3.org/2018/credentials/v1"


def request_schemas(issuer: Issuer) -> dict[str, Any]:
    """The request bodies, as precisely as JSON Schema can say what this issuer accepts: its
    own DIDs as issuer, its formats, the VCDM rules a schema can express. (Some rules cannot
    be said here — a JSON Schema of our credential types, a revocation being final — and are
    answered with 400/422 problem details.)"""
    dids = list(issuer.keyring().dids)
    suites = [f for f in issuer.offered if f in SUITES]
    subject = {
        "type": "object",
        "minProperties": 1,
        "properties": {"id": {"type": "string", "pattern": _URL}},
    }
    caller_status = {
        "type": "object",
        "required": ["type", "statusPurpose", "statusListIndex", "statusListCredential"],
        "properties": {
            "type": {"const": "BitstringStatusListEntry"},
            "statusPurpose": {"type": "string", "minLength": 1},
            "statusListIndex": {"type": "string", "pattern": "^(0|[1-9][0-9]*)$"},
            "statusListCredential": {"type": "string", "pattern": _URL},
        },
    }
    credential = {
        "type": "object",
        "description": "An unsecured credential (VCDM 2.0, or 1.1). Without issuer it is "
        + (
            "refused (400)"
            if not issuer.config.fill_issuer
            else "filled in with the service's default DID"
        )
        + "; credentialStatus is added by the service, unless the caller gives its own "
        "(BitstringStatusListEntry objects on lists elsewhere, without "
        "options.credentialStatus): then the service manages no status for it.",
        "required": ["@context", "type", "credentialSubject"]
        + ([] if issuer.config.fill_issuer else ["issuer"]),
        "properties": {
            "@context": {
                "type": "array",
                "minItems": 1,
                "prefixItems": [{"enum": [_V2, _V1]}],
                "items": {
                    "oneOf": [{"type": "string", "pattern": _URL}, {"type": "object"}],
                },
            },
            "id": {"type": "string", "pattern": _URL},
            "type": {
                "type": "array",
                "minItems": 1,
                "items": {"type": "string", "minLength": 1},
                "contains": {"const": "VerifiableCredential"},
            },
            "issuer": {
                "oneOf": [
                    {"enum": dids},
                    {
                        "type": "object",
                        "required": ["id"],
                        "properties": {"id": {"enum": dids}},
                    },
                ]
            },
            "credentialSubject": {
                "oneOf": [subject, {"type": "array", "minItems": 1, "items": subject}]
            },
            "validFrom": _DATE_TIME,
            "validUntil": _DATE_TIME,
            "issuanceDate": _DATE_TIME,
            "expirationDate": _DATE_TIME,
            "credentialStatus": {
                "oneOf": [
                    caller_status,
                    {"type": "array", "minItems": 1, "items": caller_status},
                ]
            },
        },
        "not": {"required": ["proof"]},
        "if": {"properties": {"@context": {"prefixItems": [{"const": _V1}]}}},
        "then": {"required": ["issuanceDate"]},
    }
    options = {
        "type": "object",
        "description": "How to secure the credential: a format, or DataIntegrityProof with a "
        "cryptosuite (both must agree); any other member is refused (400), as is an option "
        "the chosen format does not use.",
        "additionalProperties": False,
        "properties": {
            "format": {"enum": list(issuer.offered)},
            "type": {"const": "DataIntegrityProof"},
            "cryptosuite": {"enum": suites},
            "mandatoryPointers": {
                "description": "ecdsa-sd-2023 only: what every holder must reveal",
                "type": "array",
                "items": {"type": "string"},
            },
            "credentialId": {
                "description": "the id (a URL) of a credential without one (with one: the "
                "same value)",
                "type": "string",
                "format": "uri",
                "minLength": 1,
            },
            "credentialStatus": {
                "description": "the status the service adds (its default); not with a "
                "credentialStatus of the caller",
                "type": "object",
                "required": ["type"],
                "properties": {"type": {"const": "BitstringStatusListEntry"}},
            },
            "holder": {
                "description": "SD-JWT formats: the holder's did:key or did:jwk, bound as cnf",
                "type": "string",
                "pattern": "^did:(key|jwk):",
            },
        },
        "oneOf": [
            {"not": {"anyOf": [{"required": ["type"]}, {"required": ["cryptosuite"]}]}},
            {
                "required": ["type"],
                "not": {"required": ["cryptosuite"]},
                "properties": {"format": {"enum": ["data-integrity"]}},
            },
            *(
                {
                    "required": ["cryptosuite"],
                    "properties": {
                        "cryptosuite": {"const": suite},
                        "format": {"enum": [suite, "data-integrity"]},
                    },
                }
                for suite in suites
            ),
        ],
    }
    by_status = {
        "type": "object",
        "required": ["type", "status"],
        "properties": {
            "type": {"enum": ["BitstringStatusListEntry", "BitstringStatusList"]},
            "status": {"enum": ["revoked", "suspended", "active"]},
        },
    }
    by_purpose = {
        "type": "object",
        "required": ["type", "statusPurpose"],
        "properties": {
            "type": {"enum": ["BitstringStatusListEntry", "BitstringStatusList"]},
            "statusPurpose": {"enum": ["revocation", "suspension"]},
            "status": {"type": "boolean"},
        },
    }
    by_message = {
        "type": "object",
        "required": ["type", "statusPurpose"],
        "properties": {
            "type": {"enum": ["BitstringStatusListEntry", "BitstringStatusList"]},
            "statusPurpose": {"const": "message"},
        },
    }
    revocation = {"properties": {"statusPurpose": {"const": "revocation"}}}
    purpose_is_revocation = {
        "anyOf": [
            {"type": "object", **revocation},
            {"type": "array", "items": {"type": "object", **revocation}},
        ]
    }
    cleared = {
        "type": "object",
        "required": ["status"],
        "properties": {"statusPurpose": {"const": "revocation"}, "status": {"const": False}},
    }
    revocation_cleared = {"anyOf": [cleared, {"type": "array", "contains": cleared}]}
    status_request = {
        "type": "object",
        "description": "DESIGN §6 ({status: revoked|suspended|active} in a one-element array), "
        "or the VC API ({statusPurpose} and a boolean status: set, the default, or clear), "
        "or a message status (statusPurpose message and the value as a 0x hex string). "
        "A revocation cannot be cleared (400).",
        "required": ["credentialId", "credentialStatus"],
        "propertyNames": {"enum": ["credentialId", "credentialStatus", "status", "options"]},
        "properties": {
            "credentialId": {"type": "string", "minLength": 1},
            "options": {
                "description": "none are defined here: any member is refused (400)",
                "type": ["object", "null"],
                "maxProperties": 0,
            },
        },
        "oneOf": [
            {
                "properties": {
                    "credentialStatus": {
                        "type": "array",
                        "minItems": 1,
                        "maxItems": 1,
                        "items": by_status,
                    }
                },
                "not": {"required": ["status"]},
            },
            {
                "properties": {
                    "credentialStatus": {
                        "oneOf": [
                            by_purpose,
                            {"type": "array", "minItems": 1, "maxItems": 1, "items": by_purpose},
                        ]
                    },
                    "status": {"type": "boolean"},
                },
                # a revocation is final: it cannot be cleared (statusPurpose + status false)
                "not": {
                    "anyOf": [
                        {
                            "required": ["status"],
                            "properties": {
                                "status": {"const": False},
                                "credentialStatus": purpose_is_revocation,
                            },
                        },
                        {"properties": {"credentialStatus": revocation_cleared}},
                    ]
                },
            },
            {
                "required": ["status"],
                "properties": {
                    "credentialStatus": {
                        "oneOf": [
                            by_message,
                            {"type": "array", "minItems": 1, "maxItems": 1, "items": by_message},
                        ]
                    },
                    "status": {"type": "string", "pattern": "^0x[0-9a-fA-F]{1,16}$"},
                },
            },
        ],
    }
    return {
        "Credential": credential,
        "IssueCredentialOptions": options,
        "UpdateCredentialStatusRequest": status_request,
    }


def openapi_document(issuer: Issuer) -> dict[str, Any]:
    """The OpenAPI 3.1 document for this issuer (its URL, formats and auth mode)."""
    config = issuer.config
    names = ["bearer"]
    schemes: dict[str, Any] = {
        "bearer": {
            "type": "http",
            "scheme": "bearer",
            "description": "an API token from `vcred issuer token create --scope …`",
        }
    }
    if config.oauth is not None and config.oauth.enabled:
        names.append("oauth")
        schemes["oauth"] = openapi_scheme(config.oauth, hashing.SCOPES)

    def security(scope: str) -> list[dict[str, list[str]]]:
        """Either kind of token with ``scope`` (none: open, as api.require decides)."""
        if hashing.open_without_token(scope, insecure_no_auth=config.insecure_no_auth):
            return []
        return [{name: [scope]} for name in names]

    formats = ", ".join(issuer.offered)
    list_params = [
        {
            "name": "signer",
            "in": "path",
            "required": True,
            "description": "web (the agency's did:web) or a key id (that key's did:key)",
            "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,32}$"},
        },
        {
            "name": "listId",
            "in": "path",
            "required": True,
            "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"},
        },
    ]
    return {
        "openapi": "3.1.0",
        "info": {
            "title": f"vcred issuer — {config.authority}",
            "version": "1.0.0",
            "description": "W3C VC API issuer (https://w3c-ccg.github.io/vc-api/) of an AEO "
            f"programme: issues in {formats}; publishes Bitstring Status Lists and its "
            "did:web document.",
        },
        "servers": [{"url": config.public_url}],
        "paths": {
            "/credentials/issue": {
                "post": {
                    "operationId": "issueCredential",
                    "summary": "Issue a credential (201); Idempotency-Key makes retries safe",
                    "security": security("issue"),
                    "parameters": [
                        {
                            "name": "Idempotency-Key",
                            "in": "header",
                            "required": False,
                            "description": "a retried request with the same key and body gets "
                            "the first answer; with another body, 422",
                            "schema": {"type": "string", "pattern": "^[ -~]{1,255}$"},
                        }
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/IssueCredentialRequest"}
                            }
                        },
                    },
                    "responses": {
                        "201": {
                            "description": "issued",
                            "headers": {
                                "Idempotent-Replayed": {
                                    "description": "true when this is a stored answer",
                                    "schema": {"type": "string"},
                                }
                            },
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "$ref": "#/components/schemas/IssueCredentialResponse"
                                    }
                                }
                            },
                        },
                        "400": _problem("malformed request or credential (with a pointer)"),
                        "401": _auth_problem("no API token, or an unknown one"),
                        "403": _auth_problem(
                            "the token lacks the issue scope, or the credential is an MRA "
                            "trust list (TRUST_LIST_REFUSED: those are signed at "
                            "/trust-lists/issue) or a status list (STATUS_LIST_REFUSED: the "
                            "issuer signs its own)"
                        ),
                        "409": _problem(
                            "a credential with this id was already issued, or the issuer's "
                            "keys changed while signing (KEYS_CHANGING: send it again)"
                        ),
                        "413": _problem("body too large"),
                        "415": _problem("not application/json"),
                        "429": _TOO_MANY,
                        "422": _problem(
                            "the credential breaks its JSON Schema (every violation listed), or "
                            "the Idempotency-Key was used with another body"
                        ),
                        "default": _REF_PROBLEM,
                    },
                }
            },
            "/trust-lists/issue": {
                "post": {
                    "operationId": "issueTrustList",
                    "summary": "Sign the agency's MRA trust list with its trust-list key (201)",
                    "description": "Scope trust-list (admin does not include it). The list is "
                    "signed as the did:web's #trust-list-… method, the key a verifier's trust "
                    "anchor names; ordinary issuance never uses that key.",
                    "security": security("trust-list"),
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/IssueCredentialRequest"}
                            }
                        },
                    },
                    "responses": {
                        "201": {
                            "description": "signed",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "$ref": "#/components/schemas/IssueCredentialResponse"
                                    }
                                }
                            },
                        },
                        "400": _problem("malformed request, or not an MRATrustListCredential"),
                        "401": _auth_problem("no API token, or an unknown one"),
                        "403": _auth_problem("the token lacks the trust-list scope"),
                        "413": _problem("body too large"),
                        "415": _problem("not application/json"),
                        "409": _problem(
                            "its sequenceNumber does not exceed the published list's, its "
                            "replaces names another list (left out, the issuer names the "
                            "published one), or another list was published meanwhile"
                        ),
                        "422": _problem("the trust list breaks its JSON Schema"),
                        "429": _TOO_MANY,
                        "default": _REF_PROBLEM,
                    },
                }
            },
            "/trust-lists/current": {
                "get": {
                    "operationId": "getCurrentTrustList",
                    "summary": "The agency's published MRA trust list (the last one signed)",
                    "description": "The stable URL verifiers refresh the list from; public.",
                    "responses": {
                        "200": _SIGNED_TRUST_LIST,
                        "404": _problem("no trust list published yet"),
                        "default": _REF_PROBLEM,
                    },
                }
            },
            "/trust-lists/{sequenceNumber}": {
                "get": {
                    "operationId": "getTrustListByNumber",
                    "summary": "The MRA trust list the agency published with this sequence number",
                    "description": "Public. Every list published with a sequence number, as "
                    "it was served at /trust-lists/current (the bytes its successor's "
                    "replaces digests): a verifier that missed lists fetches those between the "
                    "one it holds and the one it fetched, and checks each link. A list "
                    "published before lists were kept by number is served while it is the "
                    "current one only.",
                    "parameters": [
                        {
                            "name": "sequenceNumber",
                            "in": "path",
                            "required": True,
                            "schema": {
                                "type": "string",
                                "pattern": "^[1-9][0-9]{0,15}$",
                            },
                            "description": "the list's sequenceNumber, in decimal "
                            "(at most 2^53 - 1)",
                        }
                    ],
                    "responses": {
                        "200": _SIGNED_TRUST_LIST,
                        "400": _problem("not a sequence number (MALFORMED)"),
                        "404": _problem("no trust list published with this number"),
                        "default": _REF_PROBLEM,
                    },
                }
            },
            "/credentials/status": {
                "post": {
                    "operationId": "updateCredentialStatus",
                    "summary": "Suspend, reinstate or revoke an issued credential",
                    "security": security("status"),
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "$ref": "#/components/schemas/UpdateCredentialStatusRequest"
                                }
                            }
                        },
                    },
                    "responses": {
                        "200": {
                            "description": "the credential's status now",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "$ref": "#/components/schemas/"
                                        "UpdateCredentialStatusResponse"
                                    }
                                }
                            },
                        },
                        "400": _problem("malformed request, or a change not allowed"),
                        "401": _auth_problem("no API token, or an unknown one"),
                        "403": _auth_problem("the token lacks the status scope"),
                        "404": _problem("no credential with this id was issued here"),
                        "413": _problem("body too large"),
                        "415": _problem("not application/json"),
                        "429": _TOO_MANY,
                        "default": _REF_PROBLEM,
                    },
                }
            },
            "/oid4vci/offers": {
                "post": {
                    "operationId": "makeCredentialOffer",
                    "summary": "Offer a credential to a trader's wallet over OpenID4VCI (201)",
                    "description": "Scope issue. The credential is checked now and signed when "
                    "the wallet collects it, bound to the key its proof names (docs/wallet.md). "
                    "Show the trader offerUrl (a QR code); send the tx_code another way.",
                    "security": security("issue"),
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/CredentialOfferRequest"}
                            }
                        },
                    },
                    "responses": {
                        "201": {
                            "description": "the offer",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/CredentialOffer"}
                                }
                            },
                        },
                        "400": _problem(
                            "malformed request or credential, an unknown configuration, or a "
                            "credential naming its subject (the wallet's key becomes it)"
                        ),
                        "401": _auth_problem("no API token, or an unknown one"),
                        "403": _auth_problem(
                            "the token lacks the issue scope, or the credential is an MRA "
                            "trust list or a status list"
                        ),
                        "409": _problem("a credential with this id was already issued"),
                        "413": _problem("body too large"),
                        "415": _problem("not application/json"),
                        "422": _problem("the credential breaks its JSON Schema"),
                        "429": _TOO_MANY,
                        "default": _REF_PROBLEM,
                    },
                }
            },
            "/credentials/derive": {
                "post": {
                    "operationId": "deriveCredential",
                    "summary": "Derive a selectively disclosed credential (ecdsa-sd-2023, holders)",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["verifiableCredential"],
                                    "additionalProperties": False,
                                    "properties": {
                                        "verifiableCredential": {"type": "object"},
                                        "options": {
                                            "type": ["object", "null"],
                                            "additionalProperties": False,
                                            "properties": {
                                                "selectivePointers": {
                                                    "type": "array",
                                                    "items": {"type": "string"},
                                                }
                                            },
                                        },
                                    },
                                }
                            }
                        },
                    },
                    "responses": {
                        "201": {
                            "description": "the derived credential",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "required": ["verifiableCredential"],
                                        "properties": {"verifiableCredential": {"type": "object"}},
                                    }
                                }
                            },
                        },
                        "400": _problem("not an ecdsa-sd-2023 base credential, or bad pointers"),
                        "413": _problem("body too large"),
                        "415": _problem("not application/json"),
                        "429": _problem("too many requests from this address"),
                        "default": _REF_PROBLEM,
                    },
                }
            },
            "/status/{signer}/{listId}": {
                "get": {
                    "operationId": "getStatusList",
                    "summary": "A signed BitstringStatusListCredential (its id is this URL)",
                    "parameters": [
                        *list_params,
                        {
                            "name": "timestamp",
                            "in": "query",
                            "required": False,
                            "description": "the version in force at this moment (an XML "
                            "Schema dateTimeStamp, e.g. 2026-06-01T12:00:00Z), kept for "
                            f"{config.status_history_retention.days} days after it was "
                            "replaced; its validFrom is when it came into force",
                            "schema": {"type": "string"},
                        },
                    ],
                    "responses": {
                        "200": {
                            "description": "the list, as vc+jwt or Data Integrity JSON",
                            "headers": {
                                "Cache-Control": {"schema": {"type": "string"}},
                                "ETag": {"schema": {"type": "string"}},
                                "Status-List-Valid-Until": {
                                    "description": "with timestamp: when the version served "
                                    "was replaced (absent: still in force)",
                                    "schema": {"type": "string"},
                                },
                            },
                            "content": {
                                "application/vc+jwt": {"schema": {"type": "string"}},
                                "application/vc": {
                                    "schema": {"$ref": "#/components/schemas/StatusListCredential"}
                                },
                                "application/ld+json": {
                                    "schema": {"$ref": "#/components/schemas/StatusListCredential"}
                                },
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/StatusListCredential"}
                                },
                            },
                        },
                        "304": {"description": "not modified (If-None-Match)"},
                        "400": _problem("a timestamp that is no dateTimeStamp, or in the future"),
                        "404": _problem(
                            "no such list; or no version of it kept for the timestamp "
                            "(code STATUS_VERSION_UNAVAILABLE)"
                        ),
                        "default": _REF_PROBLEM,
                    },
                }
            },
            "/status/{signer}/{listId}/publish": {
                "post": {
                    "operationId": "publishStatusList",
                    "summary": "Sign the list now if it changed (it is also signed on demand)",
                    "security": security("status"),
                    "parameters": list_params,
                    "responses": {
                        "204": {"description": "published"},
                        "401": _auth_problem("no API token, or an unknown one"),
                        "403": _auth_problem("the token lacks the status scope"),
                        "404": _problem("no such list"),
                        "429": _TOO_MANY,
                        "default": _REF_PROBLEM,
                    },
                }
            },
            "/.well-known/did.json": {
                "get": {
                    "operationId": "getDidDocument",
                    "summary": "The did:web document: current keys, and retired ones (still "
                    "valid for what they signed) under assertionMethod",
                    "responses": {
                        "200": {
                            "description": "the DID document",
                            "content": {
                                "application/did+json": {
                                    "schema": {"$ref": "#/components/schemas/DidDocument"}
                                }
                            },
                        },
                        "304": {"description": "not modified (If-None-Match)"},
                        "404": _problem("this issuer has no domain (it issues as did:key)"),
                        "default": _REF_PROBLEM,
                    },
                }
            },
            "/openapi.json": {
                "get": {
                    "operationId": "getOpenApi",
                    "summary": "This document",
                    "responses": {
                        "200": {
                            "description": "OpenAPI 3.1",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        },
                        "default": _REF_PROBLEM,
                    },
                }
            },
            "/health": {
                "get": {
                    "operationId": "getHealth",
                    "summary": "Liveness and database reachability",
                    "responses": {
                        "200": {
                            "description": "up",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/Health"}
                                }
                            },
                        },
                        "503": {
                            "description": "the database cannot be reached",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/Health"}
                                }
                            },
                        },
                        "default": _REF_PROBLEM,
                    },
                }
            },
        },
        "components": {
            "schemas": {**SCHEMAS, **request_schemas(issuer)},
            "responses": {"Problem": _problem("an error (problem details)")},
            "securitySchemes": schemes,
        },
    }
