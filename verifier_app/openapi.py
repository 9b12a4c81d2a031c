"""The OpenAPI 3.1 description of the verifier's VC API, served at ``/openapi.json``.

Written by hand to say exactly what the views answer: every status code an operation can
return has its schema, so a contract tester (schemathesis) can hold the service to it.
"""

from __future__ import annotations

from typing import Any, Final

from vcred.verifier import CHECKS
from vcred_service.oauth import OAuthConfig
from vcred_service.oauth_http import openapi_scheme
from vcred_service.openapi import PROBLEM_SCHEMA, problem_response
from vcred_service.problems import PROBLEM_JSON
from verifier_app.config import VerifierConfig
from verifier_app.recognitions import REASONS
from verifier_app.service import ALWAYS_CHECKED, CHECK_ALIASES, COMPACT_SECURED

_REF: Final = "#/components/schemas/"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": _REF + name}


def _problem(description: str, *, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    return problem_response(description, schema_ref=_REF + "HttpProblem", headers=headers)


_RETRY_AFTER: Final = {
    "Retry-After": {"description": "seconds to wait", "schema": {"type": "integer"}}
}
#: What every call that writes or reads the verifier's database may answer during an outage.
_UNAVAILABLE: Final = {
    "503": _problem(
        "the verifier's database is unavailable (nothing was recorded): send it again after "
        "Retry-After seconds",
        headers=_RETRY_AFTER,
    )
}

#: The credential routes: the same, and a receipt asked for that could not be signed.
_UNAVAILABLE_OR_UNSIGNED: Final = {
    "503": _problem(
        "the verifier's database is unavailable, or a receipt asked for could not be signed "
        "(code RECEIPT_NOT_SIGNED: the receipt key is unavailable); nothing was recorded: "
        "send it again after Retry-After seconds",
        headers=_RETRY_AFTER,
    )
}

_NULLABLE_STRING: Final = {"type": ["string", "null"]}

SCHEMAS: Final[dict[str, Any]] = {
    "Secured": {
        "description": "A secured credential or presentation: a JSON object (Data Integrity, "
        "or Enveloped…, e.g. data:application/vc+cose;base64,…) or a compact string (vc+jwt / "
        "vp+jwt, SD-JWT, SD-JWT+KB, or a vc+cose / vp+cose COSE_Sign1 as unpadded base64url); "
        "a string holding JSON is a PARSING_ERROR.",
        "anyOf": [
            {"type": "object"},
            {"type": "string", "pattern": f"^\\s*(?:{COMPACT_SECURED.pattern})\\s*$"},
        ],
    },
    "Check": {
        "type": "object",
        "required": ["check", "passed", "detail"],
        "properties": {
            "check": {"type": "string"},
            "passed": {
                "type": ["boolean", "null"],
                "description": "null: not evaluated (a warning says why)",
            },
            "detail": {"type": "string"},
        },
    },
    "ProblemDetail": {
        "description": "RFC 9457 problem detail as VCDM 2.0 §7.1 shapes it, with our stable "
        "code and the JSON Pointer of the faulty value.",
        "type": "object",
        "required": ["type", "title", "detail", "code"],
        "properties": {
            "type": {"type": "string", "format": "uri"},
            "title": {"type": "string"},
            "detail": {"type": "string"},
            "code": {"type": "string"},
            "pointer": {"type": "string"},
        },
    },
    "HttpProblem": PROBLEM_SCHEMA,
    "Benefit": {
        "type": "object",
        "required": ["code", "description"],
        "properties": {"code": {"type": "string"}, "description": {"type": "string"}},
    },
    "Arrangement": {
        "description": "The mutual recognition arrangement (MRA) behind the trust decision.",
        "type": "object",
        "required": ["id", "name", "programmes", "since", "benefits"],
        "properties": {
            "id": {"type": "string"},
            "name": {"type": "string"},
            "programmes": {"type": "array", "items": {"type": "string"}},
            "since": {"type": "string", "format": "date"},
            "until": {"type": "string", "format": "date"},
            "recognisedTiers": {"type": "array", "items": {"type": "string"}},
            "benefits": {"type": "array", "items": _ref("Benefit")},
        },
    },
    "Trust": {
        "description": "The MRA trust decision; evaluated=false when the verifier has no "
        "trust list or the check was not requested (then a warning says so).",
        "type": "object",
        "required": ["evaluated", "issuerAuthenticated", "trusted", "reason"],
        "properties": {
            "evaluated": {"type": "boolean"},
            "issuerAuthenticated": {
                "type": "boolean",
                "description": "the issuer named is the one that signed (proof and issuer "
                "checks passed); false for a forged credential naming a trusted issuer",
            },
            "trusted": {"type": ["boolean", "null"]},
            "reason": {"type": "string"},
            "issuer": {"type": "string"},
            "code": {"type": "string"},
            "pointer": {
                "type": "string",
                "description": "the value a trust rule could not establish "
                "(code TRUST_INPUT_UNESTABLISHED)",
            },
            "programme": {"type": "string"},
            "mra": _ref("Arrangement"),
            "benefits": {"type": "array", "items": _ref("Benefit")},
        },
    },
    "StatusEntry": {
        "description": "One credentialStatus entry checked, and how fresh the list behind it is.",
        "type": "object",
        "required": ["path", "purpose", "index", "statusListCredential", "valid", "stale"],
        "properties": {
            "path": {"type": "string"},
            "purpose": {"type": "string"},
            "index": {"type": "integer"},
            "statusListCredential": {"type": "string"},
            "statusSize": {"type": "integer"},
            "value": {"type": ["integer", "null"]},
            "message": {
                "type": ["string", "null"],
                "description": "What the value means: the statusMessage of the value "
                "(Bitstring Status List §2.1), else set / unset",
            },
            "statusReference": {
                "type": "array",
                "items": {"type": "string"},
                "description": "Where the issuer documents its status messages (when given)",
            },
            "valid": {"type": "boolean"},
            "fetchedAt": _NULLABLE_STRING,
            "ageSeconds": {"type": ["integer", "null"]},
            "stale": {"type": "boolean"},
            "error": {"type": ["object", "null"]},
        },
    },
    "CredentialSummary": {
        "description": "What the credential says (the trader, its programme and tier, or the "
        "export); for a credential that did not verify, what it claims.",
        "type": ["object", "null"],
        "properties": {
            "types": {"type": "array", "items": {"type": "string"}},
            "id": {"type": "string"},
            "validFrom": {"type": "string"},
            "validUntil": {"type": "string"},
            "subject": {"type": "object"},
            "programme": {"type": "object"},
            "declaration": {"type": "object"},
            "consignee": {"type": "object"},
            "invoice": {"type": "object"},
            "lineItems": {"type": "array", "items": {"type": "object"}},
        },
    },
    "CredentialVerification": {
        "type": "object",
        "required": ["verified", "format", "issuer", "checks", "warnings", "trust", "status"],
        "properties": {
            "verified": {"type": "boolean"},
            "format": _NULLABLE_STRING,
            "issuer": _NULLABLE_STRING,
            "checks": {"type": "array", "items": _ref("Check")},
            "warnings": {"type": "array", "items": _ref("ProblemDetail")},
            "problemDetails": {"type": "array", "minItems": 1, "items": _ref("ProblemDetail")},
            "trust": _ref("Trust"),
            "status": {"type": "array", "items": _ref("StatusEntry")},
            "credential": _ref("CredentialSummary"),
            "disclosed": {"type": "array", "items": {"type": "string"}},
            "receipt": {
                "type": "string",
                "description": "with options.receipt: the decision as a vc+jwt this verifier "
                "signed (a VerificationReceipt naming its audit-chain entry)",
            },
        },
    },
    "PresentationVerification": {
        "type": "object",
        "required": ["verified", "format", "holder", "checks", "warnings", "credentials"],
        "properties": {
            "verified": {"type": "boolean"},
            "format": _NULLABLE_STRING,
            "holder": _NULLABLE_STRING,
            "checks": {"type": "array", "items": _ref("Check")},
            "warnings": {"type": "array", "items": _ref("ProblemDetail")},
            "problemDetails": {"type": "array", "minItems": 1, "items": _ref("ProblemDetail")},
            "credentials": {"type": "array", "items": _ref("CredentialVerification")},
            "verifiablePresentation": {
                "description": "the presentation as sent, on options.returnPresentation"
            },
            "recognitions": {
                "description": "the recognitions its trusted AEO certificates made "
                "(GET /recognitions answers for them)",
                "type": "array",
                "items": {"type": "string"},
            },
        },
    },
    "RecognitionAnswer": {
        "description": "Whether a party is recognised here at a moment; when not, why: "
        + ", ".join(REASONS)
        + " (STATUS_UNKNOWN: no status check within the freshness bound).",
        "type": "object",
        "required": ["scheme", "id", "at", "recognised"],
        "properties": {
            "scheme": {"type": "string"},
            "id": {"type": "string"},
            "at": {"type": "string", "format": "date-time"},
            "recognised": {"type": "boolean"},
            "reason": {"enum": list(REASONS)},
            "trader": _NULLABLE_STRING,
            "programme": {"type": "string"},
            "level": _NULLABLE_STRING,
            "arrangement": {
                "type": "object",
                "properties": {
                    "id": {"type": "string"},
                    "name": {"type": "string"},
                    "since": {"type": "string", "format": "date"},
                    "until": {"type": "string", "format": "date"},
                },
            },
            "benefits": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["code", "description"],
                    "properties": {"code": {"type": "string"}, "description": {"type": "string"}},
                },
            },
            "validUntil": _NULLABLE_STRING,
            "evidence": {
                "type": "object",
                "required": ["recognition", "credentialDigest", "trustList", "lastStatusCheck"],
                "properties": {
                    "recognition": {"type": "string"},
                    "credentialDigest": {"type": "string"},
                    "issuer": {"type": "string"},
                    "trustList": {"type": "object"},
                    "statusEntries": {"type": "array", "items": {"type": "object"}},
                    "lastStatusCheck": {
                        "type": "object",
                        "required": ["at", "result"],
                        "properties": {
                            "at": _NULLABLE_STRING,
                            "result": {"enum": ["active", "suspended", "revoked", "unknown"]},
                            "detail": _NULLABLE_STRING,
                        },
                    },
                },
            },
        },
    },
    "RecognitionBatch": {
        "type": "object",
        "required": ["results"],
        "properties": {"results": {"type": "array", "items": _ref("RecognitionAnswer")}},
    },
    "Challenge": {
        "type": "object",
        "required": ["challenge", "domain", "expiresAt"],
        "properties": {
            "challenge": {"type": "string"},
            "domain": {"type": "string"},
            "expiresAt": {"type": "string", "format": "date-time"},
        },
    },
    "Oid4vpRequest": {
        "type": "object",
        "required": [
            "transaction",
            "client_id",
            "request_uri",
            "authorization_request",
            "expires_at",
        ],
        "properties": {
            "transaction": {"type": "string"},
            "client_id": {
                "type": "string",
                "description": "decentralized_identifier:did:key:… (the verifier's client key)",
            },
            "request_uri": {"type": "string", "format": "uri"},
            "authorization_request": {
                "type": "string",
                "description": "openid4vp://?client_id=…&request_uri=…: the link or QR code",
            },
            "expires_at": {"type": "string", "format": "date-time"},
        },
    },
    "Oid4vpOutcome": {
        "type": "object",
        "required": ["status", "result"],
        "properties": {
            "status": {"enum": ["pending", "verifying", "verified", "refused", "expired"]},
            "result": {
                "type": ["object", "null"],
                "description": "null until answered: whether verified, each presentation's "
                "result by credential query id with the claims asked for, or the wallet's "
                "error",
            },
        },
    },
    "Health": {
        "type": "object",
        "required": ["status", "storage", "domain", "offline", "dev", "trustList"],
        "properties": {
            "status": {"enum": ["ok", "unavailable"]},
            "storage": {"enum": ["ok", "unavailable"]},
            "domain": {"type": "string"},
            "offline": {"type": "boolean"},
            "dev": {"type": "boolean"},
            "trustList": {"type": ["object", "null"]},
        },
    },
}


def _verified_only(schema: str) -> dict[str, Any]:
    return {"allOf": [_ref(schema), {"properties": {"verified": {"const": True}}}]}


def _not_verified(schema: str) -> dict[str, Any]:
    return {
        "allOf": [
            _ref(schema),
            {"required": ["problemDetails"], "properties": {"verified": {"const": False}}},
        ]
    }


def _verify_operation(
    *, summary: str, member: str, options: dict[str, Any], result: str, config: VerifierConfig
) -> dict[str, Any]:
    return {
        "summary": summary,
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": [member],
                        "additionalProperties": False,
                        "properties": {
                            member: _ref("Secured"),
                            "options": {
                                "type": "object",
                                "description": "any other option is refused (400)",
                                "additionalProperties": False,
                                "properties": options,
                            },
                        },
                    }
                }
            },
        },
        "responses": {
            "200": {
                "description": "verified: every check run passed",
                "content": {"application/json": {"schema": _verified_only(result)}},
            },
            "400": {
                "description": "not verified (application/json: every check, each problem); "
                "or a request that is not of this shape (problem+json)",
                "content": {
                    "application/json": {"schema": _not_verified(result)},
                    PROBLEM_JSON: {"schema": _ref("HttpProblem")},
                },
            },
            "413": _problem(f"the body is larger than {config.max_body_bytes} bytes"),
            "415": _problem("the body is not application/json"),
            "422": _problem("options ask for something this verifier cannot do"),
            "429": _problem("too many requests from this address", headers=_RETRY_AFTER),
            **_UNAVAILABLE_OR_UNSIGNED,
        },
    }


def _batch_operation(config: VerifierConfig, options: dict[str, Any]) -> dict[str, Any]:
    """POST /credentials/verify-batch (our extension; verifier_app.batch)."""
    item = {
        "allOf": [
            {
                "type": "object",
                "required": ["index"],
                "properties": {"index": {"type": "integer", "minimum": 0}},
            },
            _ref("CredentialVerification"),
        ]
    }
    return {
        "summary": "Verify many credentials: one result per item, in order",
        "description": "Each item is verified as POST /credentials/verify would (same checks, "
        "caches, history) and answered with that body plus its index. An item that is not a "
        "secured credential (or nested deeper than that route takes it, or holding a member "
        "name twice) fails alone (MALFORMED / PARSING_ERROR), as that route answers it. Accept: "
        "application/x-ndjson streams one JSON line per item. The rate limit counts items: a "
        f"batch of N costs N requests. At most {config.max_batch_size} items and "
        f"{config.max_batch_body_bytes} bytes.",
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["verifiableCredentials"],
                        "additionalProperties": False,
                        "properties": {
                            "verifiableCredentials": {
                                "type": "array",
                                "maxItems": config.max_batch_size,
                                "items": {},
                            },
                            "options": {
                                "type": "object",
                                "description": "any other option is refused (400)",
                                "additionalProperties": False,
                                "properties": options,
                            },
                        },
                    }
                }
            },
        },
        "responses": {
            "200": {
                "description": "every item verified or not (each result says which)",
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "required": ["summary", "results"],
                            "properties": {
                                "summary": {
                                    "type": "object",
                                    "required": ["total", "verified", "notVerified"],
                                    "properties": {
                                        "total": {"type": "integer"},
                                        "verified": {"type": "integer"},
                                        "notVerified": {"type": "integer"},
                                    },
                                },
                                "results": {"type": "array", "items": item},
                            },
                        }
                    },
                    "application/x-ndjson": {
                        "schema": {
                            "type": "string",
                            "description": "one result per line, each as an item of results; "
                            "a chunk refused after the answer began ends it with a last line "
                            '{"problem": <problem details>, "unanswered": [from, to)}',
                        }
                    },
                },
            },
            "400": _problem("the body is not of this shape"),
            "413": _problem(
                f"more than {config.max_batch_size} items (code BATCH_TOO_LARGE, maxItems) or "
                f"more than {config.max_batch_body_bytes} bytes (declared or chunked)"
            ),
            "415": _problem("the body is not application/json"),
            "422": _problem("options ask for something this verifier cannot do"),
            "429": _problem("the batch's items exceed this address's rate", headers=_RETRY_AFTER),
            **_UNAVAILABLE_OR_UNSIGNED,
        },
    }


_AT: Final = {
    "type": "string",
    "description": "as of: a date (that day from 00:00 UTC) or a dateTime with its offset; "
    "default: now",
}


def _recognition_query() -> dict[str, Any]:
    return {
        "summary": "Is this party a recognised AEO here, as of a moment? (border systems)",
        "parameters": [
            {
                "name": "scheme",
                "in": "query",
                "required": True,
                "description": "an identifier scheme (EORI, US-MID, CTPAT, JP-CN, …; X-… private)",
                "schema": {"type": "string"},
            },
            {
                "name": "id",
                "in": "query",
                "required": True,
                "description": "the party's identifier in that scheme",
                "schema": {"type": "string"},
            },
            {"name": "at", "in": "query", "required": False, "schema": _AT},
        ],
        "responses": {
            "200": {
                "description": "recognised, or not and why",
                "content": {"application/json": {"schema": _ref("RecognitionAnswer")}},
            },
            "400": _problem("an unknown scheme (UNKNOWN_SCHEME), a malformed id or at"),
        },
    }


def _recognition_batch(config: VerifierConfig) -> dict[str, Any]:
    party = {
        "type": "object",
        "required": ["scheme", "id"],
        "properties": {"scheme": {"type": "string"}, "id": {"type": "string"}, "at": _AT},
    }
    return {
        "summary": "The recognition query for many parties at once",
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["parties"],
                        "properties": {
                            "at": _AT,
                            "parties": {
                                "type": "array",
                                "minItems": 1,
                                "maxItems": config.max_batch_size,
                                "items": party,
                            },
                        },
                    }
                }
            },
        },
        "responses": {
            "200": {
                "description": "one answer per party, in order",
                "content": {"application/json": {"schema": _ref("RecognitionBatch")}},
            },
            "400": _problem("a malformed body, an unknown scheme, a malformed id or at"),
            "413": _problem("the body is larger than this verifier accepts"),
            "415": _problem("the body is not JSON"),
        },
    }


_TRANSACTION: Final = {
    "name": "transaction",
    "in": "path",
    "required": True,
    "description": "the transaction id POST /oid4vp/requests answered",
    "schema": {"type": "string"},
}


def _not_stored(description: str, media_type: str, schema: dict[str, Any]) -> dict[str, Any]:
    """An OpenID4VP answer: never cached (``Cache-Control: no-store``)."""
    return {
        "description": description,
        "headers": {"Cache-Control": {"schema": {"const": "no-store"}}},
        "content": {media_type: {"schema": schema}},
    }


def _oid4vp_paths() -> dict[str, Any]:
    """OpenID4VP 1.0 (verifier_app/oid4vp.py): the API client's two calls (open a request,
    read its outcome) and the wallet's two (fetch the signed Request Object, post the
    direct_post response)."""
    claims_path = {
        "type": "array",
        "minItems": 1,
        "description": "a DCQL claims path: member names, null (every element) and indexes",
        "items": {"type": ["string", "integer", "null"]},
    }
    return {
        "/oid4vp/requests": {
            "post": {
                "summary": "Open an OpenID4VP request (a DCQL query) for a wallet to answer",
                "description": "Answers the Authorization Request to show as a link or QR "
                "code; the wallet fetches the signed Request Object at request_uri and posts "
                "its response to the Response URI. Any member but these is refused (400).",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["query"],
                                "additionalProperties": False,
                                "properties": {
                                    "query": {"enum": ["aeo-certificate", "billing-attestation"]},
                                    "claims": {
                                        "type": "array",
                                        "minItems": 1,
                                        "items": claims_path,
                                        "description": "billing-attestation only: the claims "
                                        "to reveal (default: the invoice's totalAmount)",
                                    },
                                    "claim_values": {
                                        "type": "array",
                                        "minItems": 1,
                                        "items": {
                                            "type": "object",
                                            "required": ["path", "values"],
                                            "additionalProperties": False,
                                            "properties": {
                                                "path": claims_path,
                                                "values": {"type": "array", "minItems": 1},
                                            },
                                        },
                                        "description": "DCQL values: a claim the query asks "
                                        "for, answered only by a credential holding one of them",
                                    },
                                    "trusted_authorities": {
                                        "description": "refused (400 UNSUPPORTED): no type of "
                                        "trusted authority can be evaluated here"
                                    },
                                    "require_cryptographic_holder_binding": {
                                        "type": "boolean",
                                        "description": "true (the default); false is refused "
                                        "(400 UNSUPPORTED): every presentation is bound",
                                    },
                                },
                            }
                        }
                    },
                },
                "responses": {
                    "201": _not_stored(
                        "the transaction and its Authorization Request",
                        "application/json",
                        _ref("Oid4vpRequest"),
                    ),
                    "400": _problem("a malformed body or query (MALFORMED, UNSUPPORTED)"),
                    "413": _problem("the body is larger than this verifier accepts"),
                    "415": _problem("the body is not application/json"),
                    "429": _problem("too many requests from this address", headers=_RETRY_AFTER),
                    **_UNAVAILABLE,
                },
            }
        },
        "/oid4vp/requests/{transaction}": {
            "get": {
                "summary": "How an OpenID4VP request ended (pending until the wallet answers)",
                "parameters": [_TRANSACTION],
                "responses": {
                    "200": _not_stored(
                        "its status, and the outcome once answered",
                        "application/json",
                        _ref("Oid4vpOutcome"),
                    ),
                    "404": _problem("no OpenID4VP request here"),
                    **_UNAVAILABLE,
                },
            }
        },
        "/oid4vp/requests/{transaction}/object": {
            "get": {
                "summary": "The signed Request Object (the wallet's request_uri, RFC 9101)",
                "parameters": [_TRANSACTION],
                "responses": {
                    "200": _not_stored(
                        "a JWT signed by the verifier's client key",
                        "application/oauth-authz-req+jwt",
                        {"type": "string"},
                    ),
                    "404": _problem("no open request here (unknown, expired or answered)"),
                    **_UNAVAILABLE,
                },
            }
        },
        "/oid4vp/responses/{transaction}": {
            "post": {
                "summary": "The Response URI: the wallet's direct_post answer, taken once",
                "parameters": [_TRANSACTION],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/x-www-form-urlencoded": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "vp_token": {"type": "string"},
                                    "state": {"type": "string"},
                                    "error": {"type": "string"},
                                    "error_description": {"type": "string"},
                                },
                            }
                        }
                    },
                },
                "responses": {
                    "200": _not_stored(
                        "taken (an empty object: no redirect, OpenID4VP §8.2)",
                        "application/json",
                        {"type": "object"},
                    ),
                    "400": _problem(
                        "not a form, another state (INVALID_STATE), answered before "
                        "(REPLAYED), expired (EXPIRED), or a presentation refused "
                        "(PRESENTATION_REFUSED)"
                    ),
                    "404": _problem("no OpenID4VP request here (UNKNOWN_REQUEST)"),
                    "413": _problem("the body is larger than this verifier accepts"),
                    "429": _problem("too many requests from this address", headers=_RETRY_AFTER),
                    **_UNAVAILABLE,
                },
            }
        },
    }


def openapi_document(config: VerifierConfig) -> dict[str, Any]:
    """The OpenAPI 3.1 document of a verifier configured with ``config``."""
    check_names = sorted({*CHECKS, *CHECK_ALIASES})
    receipt_option = {
        "type": "boolean",
        "description": "also answer with a signed receipt of the decision (422 "
        "RECEIPTS_NOT_CONFIGURED when this verifier has no receipt key)",
    }
    as_of_option = {
        "type": "string",
        "description": "verify as of this past moment (an XML Schema dateTimeStamp): validity, "
        "trust and each status list as the version in force then (trust under the trust list "
        "this verifier had accepted and was in force then, named in trust.trustList; with none, "
        "TRUST_INPUT_UNESTABLISHED)",
    }
    checks_option = {
        "type": "array",
        "items": {"enum": check_names},
        "description": "the checks to run (default: all); "
        f"{' and '.join(ALWAYS_CHECKED)} always runs, trust also runs "
        "issuer; the data model's structure rules always apply",
    }
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": "vcred verifier — VC API",
            "version": "1.0.0",
            "description": "Verifies W3C Verifiable Credentials and Presentations (vc+jwt / "
            "vp+jwt, vc+cose / vp+cose, SD-JWT and SD-JWT+KB, Enveloped…, Data Integrity "
            "eddsa/ecdsa × rdfc/jcs) "
            "against the agency's MRA trust list. Limits: body "
            f"{config.max_body_bytes} bytes, JSON depth {config.max_json_depth}, "
            f"{config.max_presented_credentials} credentials per presentation; "
            f"{config.rate_per_second}/s per client address (bursts of {config.rate_burst}).",
        },
        "paths": {
            "/credentials/verify": {
                "post": _verify_operation(
                    summary="Verify a credential",
                    member="verifiableCredential",
                    options={
                        "checks": checks_option,
                        "receipt": receipt_option,
                        "asOf": as_of_option,
                    },
                    result="CredentialVerification",
                    config=config,
                )
            },
            "/credentials/verify-batch": {
                "post": _batch_operation(
                    config,
                    {"checks": checks_option, "receipt": receipt_option, "asOf": as_of_option},
                )
            },
            "/presentations/verify": {
                "post": _verify_operation(
                    summary="Verify a presentation and every credential in it",
                    member="verifiablePresentation",
                    options={
                        "challenge": {
                            "type": "string",
                            "description": "a challenge from POST /challenges (single use)"
                            + (
                                "; or the caller's own (checked, NOT single-use here: "
                                "warning CHALLENGE_NOT_TRACKED)"
                                if config.allow_caller_challenges
                                else ""
                            ),
                        },
                        "domain": {
                            "type": "string",
                            "description": f"must be this verifier's domain ({config.domain})"
                            + (
                                ", except with the caller's own challenge"
                                if config.allow_caller_challenges
                                else ""
                            ),
                        },
                        "returnPresentation": {
                            "type": "boolean",
                            "description": "true: the answer holds verifiablePresentation, "
                            "the presentation as sent (VC API)",
                        },
                    },
                    result="PresentationVerification",
                    config=config,
                )
            },
            "/challenges": {
                "post": {
                    "summary": "A fresh single-use challenge for a presentation",
                    "responses": {
                        "201": {
                            "description": "the challenge, the domain to bind, and its expiry",
                            "content": {"application/json": {"schema": _ref("Challenge")}},
                        },
                        "429": _problem("too many requests from this address"),
                        **_UNAVAILABLE,
                    },
                }
            },
            **_oid4vp_paths(),
            "/recognitions": {"get": _recognition_query()},
            "/recognitions/query": {"post": _recognition_batch(config)},
            "/health": {
                "get": {
                    "summary": "Liveness and readiness",
                    "responses": {
                        "200": {
                            "description": "ready",
                            "content": {"application/json": {"schema": _ref("Health")}},
                        },
                        "503": {
                            "description": "the storage cannot be reached",
                            "content": {"application/json": {"schema": _ref("Health")}},
                        },
                    },
                }
            },
            "/openapi.json": {
                "get": {
                    "summary": "This document",
                    "responses": {
                        "200": {
                            "description": "OpenAPI 3.1",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        }
                    },
                }
            },
        },
        "components": {"schemas": SCHEMAS},
    }
    if config.oauth is not None and config.oauth.enabled:
        _require_token(document, config.oauth)
    return document


def _require_token(document: dict[str, Any], oauth: OAuthConfig) -> None:
    """With OAuth configured the verification calls need an access token with verify."""
    document["components"]["securitySchemes"] = {
        "oauth": openapi_scheme(oauth, ("verify", "recognitions"))
    }
    for path, method, scope in (
        ("/credentials/verify", "post", "verify"),
        ("/credentials/verify-batch", "post", "verify"),
        ("/presentations/verify", "post", "verify"),
        ("/challenges", "post", "verify"),
        ("/oid4vp/requests", "post", "verify"),  # the wallet's two calls need none
        ("/oid4vp/requests/{transaction}", "get", "verify"),
        ("/recognitions", "get", "recognitions"),
        ("/recognitions/query", "post", "recognitions"),
    ):
        operation = document["paths"][path][method]
        operation["security"] = [{"oauth": [scope]}]
        operation["responses"]["401"] = _problem("no access token, or a refused one")
        operation["responses"]["403"] = _problem(f"the access token lacks the {scope} scope")
