"""The VC API (DESIGN §6) and the public documents: thin views over :class:`Issuer`.

https://w3c-ccg.github.io/vc-api/ — ``POST /credentials/issue``, ``POST /credentials/status``;
the status lists, the did:web document, the OpenAPI description and a health check.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Final

from flask import Blueprint, Response, current_app, g, jsonify, request
from werkzeug.exceptions import MethodNotAllowed
from werkzeug.http import http_date

from issuer_app.as_of import status_list_as_of
from issuer_app.config import IssuerConfig
from issuer_app.hashing import open_without_token
from issuer_app.openapi import openapi_document
from issuer_app.service import (
    MESSAGE_PURPOSE,
    Issuer,
    MessageStatus,
    Principal,
    RevokedTokenError,
    Status,
    problem,
)
from vcred.errors import VcredError
from vcred.integrity import derive
from vcred.integrity.suites import JCS_INT_MAX
from vcred.status.entry import parse_hex_status
from vcred_service import oauth, oauth_http
from vcred_service.problems import ProblemError
from vcred_service.ratelimit import Limiter, make_limiter, too_many_requests
from vcred_service.requests import read_json, request_options

blueprint = Blueprint("issuer_api", __name__)

REALM: Final = "vcred-issuer"
TRUST_LIST_SCOPE: Final = "trust-list"
#: A trust list's sequence number in ``/trust-lists/<n>``: decimal, no sign, no leading zero.
TRUST_LIST_NUMBER: Final = re.compile(r"[1-9][0-9]{0,15}", re.ASCII)
DERIVE_LIMITER: Final = "vcred_issuer_derive_limiter"
_STATUS_OF_PURPOSE: Final[dict[tuple[str, bool], Status]] = {
    ("revocation", True): "revoked",
    ("suspension", True): "suspended",
    ("suspension", False): "active",
}
_ENTRY_TYPES: Final = ("BitstringStatusListEntry", "BitstringStatusList")
API_LIMITER: Final = "vcred_issuer_api_limiter"
AUTH_LIMITER: Final = "vcred_issuer_auth_failure_limiter"


@blueprint.record_once
def _setup(state: Any) -> None:
    config = state.app.extensions["vcred_issuer"].config
    state.app.extensions[AUTH_LIMITER] = limiter(
        config, "auth-failures", config.auth_failure_rate, config.auth_failure_burst
    )
    if config.api_rate > 0:
        state.app.extensions[API_LIMITER] = limiter(
            config, "api", config.api_rate, config.api_burst
        )
    state.app.extensions[DERIVE_LIMITER] = limiter(
        config, "derive", config.derive_rate, config.derive_burst
    )


def limiter(config: IssuerConfig, name: str, rate: float, burst: int) -> Limiter:
    """The limiter ``name``: shared by every worker through Redis when one is configured."""
    return make_limiter(
        rate,
        burst,
        url=config.rate_limit_url,
        deployment=("issuer", config.public_url, config.table_prefix),
        name=name,
    )


@blueprint.before_request
def _rate_limit() -> None:
    api_limiter: Limiter | None = current_app.extensions.get(API_LIMITER)
    if api_limiter is not None and request.method == "POST":
        api_limiter.check(request.remote_addr or "unknown")


def issuer() -> Issuer:
    found: Issuer = current_app.extensions["vcred_issuer"]
    return found


def require(scope: str, *, revocation_checked_later: bool = False) -> Principal:
    """The caller's principal if its bearer token carries ``scope`` (or ``admin``).

    401 without a token or with an unknown or revoked one, 403 with a token lacking the
    scope; each with a ``WWW-Authenticate`` challenge (RFC 6750 §3).
    ``revocation_checked_later``: the view passes the principal's ``token_id`` to a service
    call that checks, in its transaction, that the token is not revoked (then raises
    RevokedTokenError: see :func:`refused_token`); an API token found valid before is not
    looked up again here.
    """
    service = issuer()
    if open_without_token(scope, insecure_no_auth=service.config.insecure_no_auth):
        return Principal(actor="anonymous (insecure-no-auth)", scopes=("admin",))
    # an address that keeps sending bad tokens gets 429s, before any token is looked up, until
    # it has waited (one failure is forgiven per second): its flood costs no database work
    failures: Limiter = current_app.extensions[AUTH_LIMITER]
    address = request.remote_addr or "unknown"
    wait = failures.peek(address)
    if wait > 0:
        raise too_many_requests(wait)
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        failures.allow(address)
        g.auth_challenge = f'Bearer realm="{REALM}"'
        raise ProblemError(401, "Unauthorized", "send an API token: Authorization: Bearer <token>")
    principal = _principal(service, token.strip(), revocation_checked_later)
    if principal is None:
        raise refused_token()
    if not principal.allows(scope):
        g.auth_challenge = f'Bearer realm="{REALM}", error="insufficient_scope", scope="{scope}"'
        raise ProblemError(403, "Forbidden", f"this API token does not have the scope {scope!r}")
    return principal


def refused_token() -> ProblemError:
    """The 401 for an unknown or revoked API token (counted against the caller's address)."""
    failures: Limiter = current_app.extensions[AUTH_LIMITER]
    failures.allow(request.remote_addr or "unknown")
    g.auth_challenge = f'Bearer realm="{REALM}", error="invalid_token"'
    return ProblemError(401, "Unauthorized", "the API token is unknown or revoked")


def _principal(service: Issuer, token: str, revocation_checked_later: bool) -> Principal | None:
    """The principal of an API token, or of an OAuth access token (a JWT: its scopes are
    the API token scopes); None for an unknown API token. Raises a 401 problem for a
    refused access token."""
    if not oauth.looks_like_jwt(token):
        return service.authenticate(token, revocation_checked_later=revocation_checked_later)
    try:
        access = oauth_http.access_token(token, realm=REALM)
    except ProblemError:
        failures: Limiter = current_app.extensions[AUTH_LIMITER]
        failures.allow(request.remote_addr or "unknown")
        raise
    return Principal(actor=access.actor, scopes=access.scopes)


@blueprint.after_request
def _challenge(response: Response) -> Response:
    challenge = g.pop("auth_challenge", None)
    if challenge is not None and response.status_code in (401, 403):
        response.headers["WWW-Authenticate"] = challenge
    return response


@blueprint.post("/credentials/issue")
def issue_credential() -> Response:
    principal = require("issue", revocation_checked_later=True)
    body = read_json()
    try:
        answer = issuer().issue_request(
            body,
            actor=principal.actor,
            idempotency_key=request.headers.get("Idempotency-Key"),
            token_id=principal.token_id,
        )
    except RevokedTokenError as exc:
        raise refused_token() from exc
    response = jsonify(answer.body)
    response.status_code = answer.status
    if answer.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


@blueprint.post("/trust-lists/issue")
def issue_trust_list() -> Response:
    """Sign the agency's MRA trust list with its trust-list key (scope ``trust-list`` only:
    neither ``issue`` nor ``admin`` includes it)."""
    principal = require(TRUST_LIST_SCOPE)
    _no_second_officer("signing a trust list")
    answer = issuer().issue_trust_list(read_json(), actor=principal.actor)
    response = jsonify(answer.body)
    response.status_code = answer.status
    return response


@blueprint.get("/trust-lists/current")
def current_trust_list() -> Response:
    """The agency's MRA trust list, as last signed: the stable URL verifiers refresh from
    (public: a trust list is published, its signature is what a verifier trusts)."""
    published = issuer().published_trust_list()
    if published is None:
        raise ProblemError(
            404, "Not found", "this agency has published no trust list yet", code="NOT_FOUND"
        )
    text, media = published
    response = Response(text, mimetype=media)
    response.headers["Cache-Control"] = "no-cache"
    return response


@blueprint.get("/trust-lists/<number>")
def numbered_trust_list(number: str) -> Response:
    """The trust list the agency published numbered ``number``, as it was served: the lists
    a verifier that missed some fetches to walk back to the one it holds (public, as
    ``/trust-lists/current``; docs/trust-fabric.md)."""
    if number == "issue":  # the route that signs one, which is POST only
        raise MethodNotAllowed(valid_methods=["POST"])
    if not TRUST_LIST_NUMBER.fullmatch(number):
        raise ProblemError(
            400,
            "Bad request",
            "a trust list is named by its sequence number: a positive decimal integer "
            f"(at most {JCS_INT_MAX}, no leading zero)",
            code="MALFORMED",
        )
    sequence = int(number)
    published = issuer().published_trust_list(sequence) if sequence <= JCS_INT_MAX else None
    if published is None:
        raise ProblemError(
            404,
            "Not found",
            f"this agency has published no trust list {sequence}",
            code="NOT_FOUND",
        )
    text, media = published
    response = Response(text, mimetype=media)
    # a published list never changes (a number is never published twice)
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


@blueprint.post("/credentials/derive")
def derive_credential() -> Response:
    """Holder derivation (VC API): reveal only ``options.selectivePointers`` of an
    ecdsa-sd-2023 base credential (W3C VC DI ECDSA §3.4, "derived proof").

    Public and rate limited: it uses no secret of the issuer, only what the holder sends.
    """
    derive_limiter: Limiter = current_app.extensions[DERIVE_LIMITER]
    derive_limiter.check(request.remote_addr or "unknown")
    body = read_json()
    credential = body.get("verifiableCredential")
    if not isinstance(credential, dict):
        raise _bad(
            "verifiableCredential must be a base credential (a JSON object)",
            "/verifiableCredential",
        )
    options = request_options(body, ("selectivePointers",), members=("verifiableCredential",))
    pointers = options.get("selectivePointers", [])
    if not isinstance(pointers, list) or not all(isinstance(p, str) for p in pointers):
        raise _bad(
            "selectivePointers must be an array of JSON Pointers", "/options/selectivePointers"
        )
    try:
        derived = derive(credential, pointers, loader=issuer().contexts)
    except VcredError as exc:
        raise problem(exc, base="/verifiableCredential") from exc
    response = jsonify({"verifiableCredential": derived})
    response.status_code = 201
    return response


@blueprint.post("/credentials/status")
def update_status() -> Response:
    principal = require("status")
    credential_id, status = parse_status_request(read_json())
    if status == "revoked":
        _no_second_officer("a revocation")
    return jsonify(issuer().change_status(credential_id, status, actor=principal.actor))


def _no_second_officer(what: str) -> None:
    """Under the four-eyes rule a token is one party: what needs two is refused here (403)
    and done on the officer pages, where a second officer approves it."""
    if issuer().config.four_eyes:
        raise ProblemError(
            403,
            "Forbidden",
            f"the four-eyes rule is on: {what} is requested and approved on the officer pages",
            code="FOUR_EYES",
        )


def parse_status_request(body: dict[str, Any]) -> tuple[str, Status | MessageStatus]:
    """The credential and its new status, from either shape clients send:

    - DESIGN §6: ``{"credentialId", "credentialStatus": [{"type": "BitstringStatusListEntry",
      "status": "revoked" | "suspended" | "active"}]}``;
    - VC API / the Bitstring Status List test suite: ``{"credentialId", "credentialStatus":
      {"type": "BitstringStatusListEntry", "statusPurpose": "revocation" | "suspension"},
      "status": true | false}`` (``status`` defaults to true: set the status);
    - a multi-state status, which the VC API's boolean cannot say: ``"statusPurpose":
      "message"`` with ``"status": "0x1"`` — the value, written as ``statusMessage`` writes it.
    """
    # the VC API defines no options here
    request_options(body, (), members=("credentialId", "credentialStatus", "status"))
    credential_id = body.get("credentialId")
    if not isinstance(credential_id, str) or not credential_id:
        raise _bad("credentialId must be a non-empty string", "/credentialId")
    entries = body.get("credentialStatus")
    if isinstance(entries, dict):
        entry, where = entries, "/credentialStatus"
    elif isinstance(entries, list) and len(entries) == 1 and isinstance(entries[0], dict):
        entry, where = entries[0], "/credentialStatus/0"
    else:
        raise _bad(
            "credentialStatus must be one status object (or an array holding one)",
            "/credentialStatus",
        )
    if entry.get("type") not in _ENTRY_TYPES:
        raise _bad("type must be BitstringStatusListEntry", f"{where}/type")
    status = entry.get("status")
    if isinstance(status, str):
        if status not in ("revoked", "suspended", "active"):
            raise _bad("status must be revoked, suspended or active", f"{where}/status")
        # one shape or the other: what the other shape says beside it would be dropped
        if "statusPurpose" in entry or "status" in body:
            raise _bad(
                "give the status in the entry (revoked, suspended, active) or statusPurpose "
                "with the body's status, not both",
                f"{where}/statusPurpose" if "statusPurpose" in entry else "/status",
            )
        return credential_id, status  # type: ignore[return-value]
    purpose = entry.get("statusPurpose")
    if purpose == MESSAGE_PURPOSE:
        try:
            value = parse_hex_status(body.get("status"), pointer="/status")
        except VcredError as exc:
            raise problem(exc) from exc
        return credential_id, MessageStatus(value)
    if purpose not in ("revocation", "suspension"):
        raise _bad(
            "give status (revoked, suspended, active) or statusPurpose "
            "(revocation, suspension, message)",
            f"{where}/statusPurpose",
        )
    flag = body.get("status", True if status is None else status)
    if not isinstance(flag, bool):
        raise _bad("status must be a boolean with statusPurpose", "/status")
    chosen = _STATUS_OF_PURPOSE.get((str(purpose), flag))
    if chosen is None:
        raise ProblemError(
            400,
            "Bad request",
            "a revocation cannot be undone",
            code="STATUS_CHANGE_REFUSED",
            pointer="/status",
        )
    return credential_id, chosen


def _bad(detail: str, pointer: str) -> ProblemError:
    return ProblemError(400, "Bad request", detail, code="MALFORMED", pointer=pointer)


@blueprint.get("/status/<signer>/<list_id>")
def status_list(signer: str, list_id: str) -> Response:
    if "timestamp" in request.args:
        return status_list_as_of(signer, list_id, request.args["timestamp"])
    published = issuer().status_list(signer, list_id)
    if published is None:
        raise ProblemError(404, "Not Found", "no such status list")
    media_type = published.media_type
    if media_type == "application/vc" and "application/vc" not in request.accept_mimetypes.values():
        # clients that ask only for (ld+)json get the same document under that name
        best = request.accept_mimetypes.best_match(["application/ld+json", "application/json"])
        media_type = best or media_type
    response = Response(published.body, mimetype=media_type)
    ttl = int(issuer().config.status_list_ttl.total_seconds())
    response.headers["Cache-Control"] = f"public, max-age={ttl}"
    response.set_etag(f"{signer}.{list_id}.{published.version}.{published.signed_at}")
    response.headers["Last-Modified"] = _http_date(published.signed_at)
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.make_conditional(request)
    return response


@blueprint.post("/status/<signer>/<list_id>/publish")
def publish_status_list(signer: str, list_id: str) -> Response:
    """Sign the list now if it changed (lists are also signed on demand when fetched)."""
    require("status")
    if issuer().status_list(signer, list_id) is None:
        raise ProblemError(404, "Not Found", "no such status list")
    return Response(status=204)


@blueprint.get("/.well-known/did.json")
def did_document() -> Response:
    document = issuer().did_document()
    if document is None:
        raise ProblemError(
            404, "Not Found", "this issuer has no domain: it issues as its keys' did:key"
        )
    response = jsonify(document)
    response.mimetype = "application/did+json"
    response.headers["Cache-Control"] = "public, max-age=300"
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.add_etag()
    response.make_conditional(request)
    return response


@blueprint.get("/openapi.json")
def openapi() -> Response:
    response = jsonify(openapi_document(issuer()))
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@blueprint.get("/health")
def health() -> Response:
    service = issuer()
    try:
        seq, _ = service.store.audit_head()
    except Exception:  # any database failure: unavailable, whatever the driver raised
        response = jsonify({"status": "unavailable", "database": "unreachable"})
        response.status_code = 503
        return response
    keys = service.keyring()
    return jsonify(
        {
            "status": "ok",
            "database": "ok",
            "issuers": list(keys.dids),
            "formats": list(service.offered),
            "auditEntries": seq,
        }
    )


def _http_date(stamp: str) -> str:
    return http_date(datetime.fromisoformat(stamp.replace("Z", "+00:00")))
