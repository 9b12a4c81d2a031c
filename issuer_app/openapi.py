"""The OpenAPI 3.1 description of the issuer's HTTP interface (``GET /openapi.json``).

Written by hand to say exactly what the views answer: every status code a view can produce
is listed with its schema, and problem details (RFC 9457, ``application/problem+json``) cover
the rest through ``default``. The tests check the app's real answers against it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from issuer_app.service import Issuer

PROBLEM: Final = "application/problem+json"
_REF_PROBLEM: Final = {"$ref": "#/components/responses/Problem"}


def _problem(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


def _auth_problem(description: str) -> dict[str, Any]:
    response = _problem(description)
    response["headers"] = {
        "WWW-Authenticate": {
            "description": "the Bearer challenge (RFC 6750 §3)",
            "schema": {"type": "string"},
        }
    }
    return response


SCHEMAS: Final[dict[str, Any]] = {
    "Problem": {
        "type": "object",
        "description": "Problem details (RFC 9457); pointers are JSON Pointers into the request",
        "required": ["type", "title", "status", "detail"],
        "properties": {
            "type": {"type": "string"},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string"},
            "code": {"type": "string", "description": "a stable vcred error code"},
            "pointer": {"type": "string"},
            "errors": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["detail", "pointer"],
                    "properties": {"detail": {"type": "string"}, "pointer": {"type": "string"}},
                },
            },
            "retry_after": {"type": "integer"},
        },
    },
    "Credential": {
        "type": "object",
        "description": "An unsecured credential (VCDM 2.0, or 1.1). Without issuer, the "
        "service's default DID is filled in; credentialStatus is added by the service.",
        "required": ["@context", "type", "credentialSubject"],
        "properties": {
            "@context": {
                "oneOf": [
                    {"type": "string"},
                    {
                        "type": "array",
                        "minItems": 1,
                        "items": {"oneOf": [{"type": "string"}, {"type": "object"}]},
                    },
                ]
            },
            "id": {"type": "string"},
            "type": {
                "oneOf": [
                    {"type": "string"},
                    {"type": "array", "minItems": 1, "items": {"type": "string"}},
                ]
            },
            "issuer": {
                "oneOf": [
                    {"type": "string"},
                    {
                        "type": "object",
                        "required": ["id"],
                        "properties": {"id": {"type": "string"}},
                    },
                ]
            },
            "credentialSubject": {
                "oneOf": [
                    {"type": "object"},
                    {"type": "array", "minItems": 1, "items": {"type": "object"}},
                ]
            },
            "validFrom": {"type": "string"},
            "validUntil": {"type": "string"},
            "issuanceDate": {"type": "string"},
            "expirationDate": {"type": "string"},
        },
    },
    "IssueCredentialOptions": {
        "type": "object",
        "description": "How to secure the credential; unknown members are ignored.",
        "properties": {
            "format": {"type": "string", "description": "vc+jwt, sd-jwt, a cryptosuite name…"},
            "type": {"type": "string", "const": "DataIntegrityProof"},
            "cryptosuite": {"type": "string"},
            "mandatoryPointers": {"type": "array", "items": {"type": "string"}},
            "credentialId": {"type": "string"},
        },
    },
    "IssueCredentialRequest": {
        "type": "object",
        "required": ["credential"],
        "properties": {
            "credential": {"$ref": "#/components/schemas/Credential"},
            "options": {"$ref": "#/components/schemas/IssueCredentialOptions"},
        },
    },
    "IssueCredentialResponse": {
        "type": "object",
        "required": ["verifiableCredential"],
        "properties": {
            "verifiableCredential": {
                "description": "A Data Integrity secured credential, or an "
                "EnvelopedVerifiableCredential whose id is data:application/vc+jwt,<token> "
                "(or vc+sd-jwt)",
                "type": "object",
                "required": ["@context", "type"],
            }
        },
    },
    "StatusEntryChange": {
        "type": "object",
        "required": ["type"],
        "properties": {
            "type": {"type": "string", "enum": ["BitstringStatusListEntry", "BitstringStatusList"]},
            "status": {
                "description": "revoked | suspended | active — or, with statusPurpose, a boolean",
                "oneOf": [
                    {"type": "string", "enum": ["revoked", "suspended", "active"]},
                    {"type": "boolean"},
                ],
            },
            "statusPurpose": {"type": "string", "enum": ["revocation", "suspension"]},
        },
    },
    "UpdateCredentialStatusRequest": {
        "type": "object",
        "required": ["credentialId", "credentialStatus"],
        "properties": {
            "credentialId": {"type": "string", "minLength": 1},
            "credentialStatus": {
                "oneOf": [
                    {"$ref": "#/components/schemas/StatusEntryChange"},
                    {
                        "type": "array",
                        "minItems": 1,
                        "maxItems": 1,
                        "items": {"$ref": "#/components/schemas/StatusEntryChange"},
                    },
                ]
            },
            "status": {"type": "boolean", "description": "with statusPurpose: set or clear"},
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
                    },
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


def openapi_document(issuer: Issuer) -> dict[str, Any]:
    """The OpenAPI 3.1 document for this issuer (its URL, formats and auth mode)."""
    config = issuer.config
    secured: list[dict[str, list[str]]] = [] if config.insecure_no_auth else [{"bearer": []}]
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
                    "security": secured,
                    "parameters": [
                        {
                            "name": "Idempotency-Key",
                            "in": "header",
                            "required": False,
                            "description": "a retried request with the same key and body gets "
                            "the first answer; with another body, 422",
                            "schema": {"type": "string", "minLength": 1, "maxLength": 255},
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
                        "403": _auth_problem("the token lacks the issue scope"),
                        "409": _problem("a credential with this id was already issued"),
                        "413": _problem("body too large"),
                        "415": _problem("not application/json"),
                        "422": _problem(
                            "the credential breaks its JSON Schema (every violation listed), or "
                            "the Idempotency-Key was used with another body"
                        ),
                        "default": _REF_PROBLEM,
                    },
                }
            },
            "/credentials/status": {
                "post": {
                    "operationId": "updateCredentialStatus",
                    "summary": "Suspend, reinstate or revoke an issued credential",
                    "security": secured,
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
                        "default": _REF_PROBLEM,
                    },
                }
            },
            "/status/{signer}/{listId}": {
                "get": {
                    "operationId": "getStatusList",
                    "summary": "A signed BitstringStatusListCredential (its id is this URL)",
                    "parameters": list_params,
                    "responses": {
                        "200": {
                            "description": "the list, as vc+jwt or Data Integrity JSON",
                            "headers": {
                                "Cache-Control": {"schema": {"type": "string"}},
                                "ETag": {"schema": {"type": "string"}},
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
                        "404": _problem("no such list"),
                        "default": _REF_PROBLEM,
                    },
                }
            },
            "/status/{signer}/{listId}/publish": {
                "post": {
                    "operationId": "publishStatusList",
                    "summary": "Sign the list now if it changed (it is also signed on demand)",
                    "security": secured,
                    "parameters": list_params,
                    "responses": {
                        "204": {"description": "published"},
                        "401": _auth_problem("no API token, or an unknown one"),
                        "403": _auth_problem("the token lacks the status scope"),
                        "404": _problem("no such list"),
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
            "schemas": SCHEMAS,
            "responses": {"Problem": _problem("an error (problem details)")},
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "an API token from `vcred issuer token create --scope …`",
                }
            },
        },
    }
