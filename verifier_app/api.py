"""The VC API (DESIGN §6): thin views over :class:`verifier_app.service.VerifierService`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from flask import Blueprint, Response, current_app, jsonify

from vcred.errors import MalformedError
from vcred_service import read_json
from vcred_service.requests import dumps, request_options
from verifier_app.as_of import requested_moment
from verifier_app.openapi import openapi_document
from verifier_app.receipts import receipt_requested
from verifier_app.service import VerifierService, requested_checks, secured_input

api = Blueprint("api", __name__)

REALM: Final = "vcred-verifier"
#: The OAuth scope of the VC API's verification calls (when the service accepts tokens).
VERIFY_SCOPE: Final = "verify"


def service() -> VerifierService:
    found: VerifierService = current_app.extensions["vcred_verifier"]
    return found


@dataclass(frozen=True, slots=True, kw_only=True)
class CredentialRequest:
    """A ``POST /credentials/verify`` body as read: what to verify, and how."""

    credential: Any
    checks: tuple[str, ...]
    receipt: bool
    at: datetime | None


#: The options of POST /credentials/verify and /credentials/verify-batch; any other is refused.
CREDENTIAL_OPTIONS: Final = ("checks", "receipt", "asOf")
#: The options of POST /presentations/verify (the VC API's VerifyPresentationOptions).
PRESENTATION_OPTIONS: Final = ("challenge", "domain", "returnPresentation")


def credential_request(body: Mapping[str, Any], current: VerifierService) -> CredentialRequest:
    """The verify call ``body`` asks for (the view's, and :mod:`verifier_app.fast_path`'s).
    Raises MalformedError / UnknownCheckError for a body of the wrong shape."""
    credential, options = _parts(body, "verifiableCredential", CREDENTIAL_OPTIONS)
    checks = requested_checks(options.get("checks"))
    receipt = receipt_requested(options)
    at = requested_moment(options, clock=current.config.clock)
    return CredentialRequest(credential=credential, checks=checks, receipt=receipt, at=at)


def _parts(
    body: Mapping[str, Any], member: str, known: tuple[str, ...]
) -> tuple[Any, dict[str, Any]]:
    """The secured document and the options of a VC API verify request."""
    if member not in body:
        raise MalformedError(f"the request body needs {member}", pointer=f"/{member}")
    options = request_options(body, known, members=(member,))
    return secured_input(body[member], f"/{member}"), options


def _optional_string(options: dict[str, Any], name: str) -> str | None:
    value = options.get(name)
    if value is not None and not isinstance(value, str):
        raise MalformedError(f"options.{name} must be a string", pointer=f"/options/{name}")
    return value


def _answer(body: dict[str, Any], status: int) -> Response:
    # the hot path of every verification: one compact dumps, no provider indirection
    return Response(dumps(body), status=status, mimetype="application/json")


@api.post("/credentials/verify")
def verify_credential() -> Response:
    current = service()
    asked = credential_request(read_json(max_depth=current.config.max_json_depth), current)
    outcome = current.verify_credential(
        asked.credential, checks=asked.checks, receipt=asked.receipt, at=asked.at
    )
    return _answer(outcome.body, outcome.http_status)


@api.post("/presentations/verify")
def verify_presentation() -> Response:
    body = read_json(max_depth=service().config.max_json_depth)
    presentation, options = _parts(body, "verifiablePresentation", PRESENTATION_OPTIONS)
    returned = options.get("returnPresentation", False)
    if not isinstance(returned, bool):
        raise MalformedError(
            "options.returnPresentation must be true or false",
            pointer="/options/returnPresentation",
        )
    outcome = service().verify_presentation(
        presentation,
        challenge=_optional_string(options, "challenge"),
        domain=_optional_string(options, "domain"),
    )
    answer = outcome.body
    if returned:  # VC API: true MUST return the presentation verified, as it was sent
        answer = {**answer, "verifiablePresentation": body["verifiablePresentation"]}
    return _answer(answer, outcome.http_status)


@api.post("/challenges")
def challenges() -> Response:
    issued = service().issue_challenge()
    return _answer(
        {
            "challenge": issued.challenge,
            "domain": service().config.domain,
            "expiresAt": issued.expires_at.isoformat().replace("+00:00", "Z"),
        },
        201,
    )


@api.get("/health")
def health() -> Response:
    current = service()
    storage_ok = current.storage.ping()
    body = {
        "status": "ok" if storage_ok else "unavailable",
        "storage": "ok" if storage_ok else "unavailable",
        "domain": current.config.domain,
        "offline": current.config.offline,
        "dev": current.config.dev,
        "trustList": current.trust_summary(),
    }
    return _answer(body, 200 if storage_ok else 503)


@api.get("/openapi.json")
def openapi() -> Response:
    return jsonify(openapi_document(service().config))
