"""The OpenID4VCI endpoints: thin views over :class:`issuer_app.oid4vci.Offers`.

Errors are answered in the protocol's own JSON (``{"error", "error_description"}``, RFC 6749
§5.2, OpenID4VCI §6.3 and §8.3.1.2), not as problem details: that is what wallets parse.
"""

from __future__ import annotations

from typing import Any, Final

from flask import Blueprint, Response, current_app, jsonify, request

from issuer_app.api import require
from issuer_app.oid4vci import (
    AUTHORIZATION_SERVER_PATH,
    CREDENTIAL_PATH,
    NONCE_PATH,
    OFFER_PATH,
    TOKEN_PATH,
    Offers,
)
from vcred.errors import VcredError
from vcred.jose import loads_strict
from vcred.model import check_depth
from vcred.oid4vci import ProtocolError
from vcred_service.problems import ProblemError
from vcred_service.requests import DEFAULT_MAX_DEPTH, read_body, read_json, refuse_unknown

blueprint = Blueprint("oid4vci", __name__)

EXTENSION: Final = "vcred_oid4vci"
_FORM: Final = "application/x-www-form-urlencoded"


@blueprint.record_once
def _setup(state: Any) -> None:
    state.app.extensions[EXTENSION] = Offers(state.app.extensions["vcred_issuer"])


def offers() -> Offers:
    found: Offers = current_app.extensions[EXTENSION]
    return found


@blueprint.errorhandler(ProtocolError)
def _protocol_error(error: ProtocolError) -> Response:
    response = jsonify(error.as_oauth())
    response.status_code = error.status
    response.headers["Cache-Control"] = "no-store"
    if error.status == 401:
        response.headers["WWW-Authenticate"] = f'Bearer error="{error.error}"'
    return response


def _no_store(value: dict[str, Any], status: int = 200) -> Response:
    response = jsonify(value)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


@blueprint.post("/oid4vci/offers")
def make_offer() -> Response:
    """An offer for the agency's own systems (scope ``issue``): the officer form's, as JSON.

    Body: ``credential`` (unsigned, without ``credentialSubject.id``: the wallet's key
    becomes it) and ``credential_configuration_id``. 201 with the offer link (for a QR
    code), its transaction code (to send the trader another way) and its expiry.
    """
    principal = require("issue")
    body = read_json()
    refuse_unknown(body, ("credential", "credential_configuration_id"))
    credential, configuration = body.get("credential"), body.get("credential_configuration_id")
    if not isinstance(credential, dict) or not isinstance(configuration, str):
        raise ProblemError(
            400,
            "Bad request",
            "send a credential (an object) and a credential_configuration_id",
            code="MALFORMED",
        )
    service = offers()
    if configuration not in service.configurations():
        raise ProblemError(
            400,
            "Bad request",
            f"unknown credential_configuration_id; offered: {', '.join(service.configurations())}",
            code="MALFORMED",
            pointer="/credential_configuration_id",
        )
    view = service.create(credential, configuration, actor=principal.actor)
    response = jsonify(
        {
            "offerId": view.offer_id,
            "credential_offer_uri": view.offer_uri,
            "offerUrl": view.url,
            "tx_code": view.tx_code,
            "expires": view.expires,
            "credential_configuration_id": view.configuration,
        }
    )
    response.status_code = 201
    response.headers["Cache-Control"] = "no-store"
    return response


@blueprint.get("/.well-known/openid-credential-issuer")
def issuer_metadata() -> Response:
    return jsonify(offers().metadata())


@blueprint.get("/.well-known/oauth-authorization-server" + AUTHORIZATION_SERVER_PATH)
def authorization_server_metadata() -> Response:
    return jsonify(offers().authorization_server_metadata())


@blueprint.get(OFFER_PATH + "<offer_id>")
def credential_offer(offer_id: str) -> Response:
    return _no_store(offers().offer_document(offer_id))


@blueprint.post(TOKEN_PATH)
def token() -> Response:
    if request.mimetype != _FORM:
        raise ProtocolError("invalid_request", f"the token request is {_FORM}")
    form = {name: request.form.get(name, "") for name in request.form}
    for name in request.form:
        if len(request.form.getlist(name)) > 1:  # RFC 6749 §3.2: no repeated parameter
            raise ProtocolError("invalid_request", f"the parameter {name} is repeated")
    return _no_store(offers().token(form))


@blueprint.post(NONCE_PATH)
def nonce() -> Response:
    return _no_store({"c_nonce": offers().nonce()})


@blueprint.post(CREDENTIAL_PATH)
def credential() -> Response:
    service = offers()
    authorization = request.headers.get("Authorization", "")
    service.authorised(authorization)  # 401 before the body is even read
    if request.mimetype != "application/json":
        raise ProtocolError("invalid_credential_request", "the credential request is JSON")
    try:
        body = loads_strict(read_body(), what="the credential request")
        check_depth(body, limit=DEFAULT_MAX_DEPTH)
    except VcredError as exc:
        raise ProtocolError("invalid_credential_request", exc.message) from exc
    return _no_store(service.credential(authorization, body))
