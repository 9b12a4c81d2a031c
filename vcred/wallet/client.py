"""Redeeming a credential offer: the wallet's side of OpenID4VCI 1.0's pre-authorized code
flow (§4.1.3 offer by reference, §12.2.2 issuer metadata, RFC 8414 authorization server
metadata, §6 token, §7 nonce, §8 credential with a JWT proof).

https://openid.net/specs/openid-4-verifiable-credential-issuance-1_0.html
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final
from urllib.parse import urlencode, urlsplit

from vcred.errors import UsageError, VcredError
from vcred.jose import loads_strict
from vcred.keys import Signer
from vcred.oid4vci import (
    GRANT_PRE_AUTHORIZED,
    CredentialOffer,
    ProtocolError,
    parse_offer,
    parse_offer_url,
    proof_jwt,
)
from vcred.wallet.transport import Answer, Transport

_JSON: Final = "application/json"


@dataclass(frozen=True, slots=True, kw_only=True)
class Issued:
    """A credential as the issuer's credential endpoint answered it."""

    configuration_id: str
    format: str
    credential: str | dict[str, Any]
    credential_issuer: str


def well_known(identifier: str, name: str) -> str:
    """The metadata URL of an identifier: ``/.well-known/<name>`` inserted between its host
    and its path (OpenID4VCI §12.2.2, RFC 8414 §3.1). Raises ProtocolError for an identifier
    no URL parser reads (the issuer's word: ``https://[`` was a ValueError)."""
    try:
        parts = urlsplit(identifier)
    except ValueError as exc:
        raise ProtocolError(
            "invalid_request", f"{identifier[:100]!r} is not an issuer identifier URL"
        ) from exc
    path = parts.path.rstrip("/")
    return f"{parts.scheme}://{parts.netloc}/.well-known/{name}{path}"


def redeem(
    link: str,
    *,
    holder: Signer,
    tx_code: str | None,
    transport: Transport,
    now: Callable[[], datetime],
) -> list[Issued]:
    """Redeem the offer of ``link`` (an ``openid-credential-offer://`` URL) for credentials
    bound to ``holder``'s key.

    Raises UsageError (a transaction code needed and not given), ProtocolError (the issuer's
    error answer, or an answer that breaks the protocol) and the transport's errors.
    """
    uri, offer = parse_offer_url(link)
    if offer is None:
        answer = transport.request("GET", str(uri), headers=_ACCEPT)
        if answer.status != 200:
            raise ProtocolError(
                "invalid_request",
                f"the offer is no longer open: GET {uri} answered {answer.status} "
                "(an offer is collected once, before it expires)",
            )
        offer = parse_offer(_json(answer, uri))
    if offer.tx_code is not None and not tx_code:
        raise UsageError("this offer needs the transaction code the issuer gave you (--tx-code)")
    issuer = offer.credential_issuer
    metadata = _get_json(transport, well_known(issuer, "openid-credential-issuer"))
    if metadata.get("credential_issuer") != issuer:
        raise ProtocolError("invalid_request", "the issuer metadata names another issuer")
    supported = metadata.get("credential_configurations_supported")
    if not isinstance(supported, Mapping):
        raise ProtocolError("invalid_request", "the issuer metadata lists no configurations")
    token_endpoint = _token_endpoint(transport, metadata, issuer)
    access_token = _token(transport, token_endpoint, offer, tx_code)
    issued = []
    for configuration_id in offer.configuration_ids:
        configuration = supported.get(configuration_id)
        if not isinstance(configuration, Mapping):
            raise ProtocolError(
                "invalid_request", f"the offer names an unlisted configuration {configuration_id}"
            )
        credential = _credential(
            transport, metadata, access_token, configuration_id, holder=holder, now=now
        )
        issued.append(
            Issued(
                configuration_id=configuration_id,
                format=str(configuration.get("format")),
                credential=credential,
                credential_issuer=issuer,
            )
        )
    return issued


_ACCEPT: Final = {"Accept": _JSON}


def _json(answer: Answer, url: str | None) -> Any:
    try:
        # strict: json.loads raised RecursionError for an answer nested past its recursion
        return loads_strict(answer.body, what="the answer")
    except VcredError as exc:
        raise ProtocolError(
            "invalid_request", f"{url or 'the issuer'} answered {answer.status}, not JSON"
        ) from exc


def _get_json(transport: Transport, url: str) -> dict[str, Any]:
    answer = transport.request("GET", url, headers=_ACCEPT)
    value = _json(answer, url)
    if answer.status != 200 or not isinstance(value, dict):
        raise ProtocolError("invalid_request", f"GET {url} answered {answer.status}")
    return value


def _token_endpoint(transport: Transport, metadata: Mapping[str, Any], issuer: str) -> str:
    servers = metadata.get("authorization_servers")
    server = servers[0] if isinstance(servers, list) and servers else issuer
    found = _get_json(transport, well_known(str(server), "oauth-authorization-server"))
    if found.get("issuer") != server:
        raise ProtocolError("invalid_request", "the authorization server metadata names another")
    endpoint = found.get("token_endpoint")
    if not isinstance(endpoint, str):
        raise ProtocolError("invalid_request", "the authorization server has no token endpoint")
    return endpoint


def _token(transport: Transport, endpoint: str, offer: CredentialOffer, tx_code: str | None) -> str:
    form = {"grant_type": GRANT_PRE_AUTHORIZED, "pre-authorized_code": offer.pre_authorized_code}
    if offer.tx_code is not None and tx_code:
        form["tx_code"] = tx_code
    answer = transport.request(
        "POST",
        endpoint,
        body=urlencode(form).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded", **_ACCEPT},
    )
    value = _answer_or_error(answer, endpoint)
    token = value.get("access_token")
    if not isinstance(token, str) or str(value.get("token_type", "")).lower() != "bearer":
        raise ProtocolError("invalid_request", "the token endpoint gave no Bearer access token")
    return token


def _answer_or_error(answer: Answer, url: str) -> dict[str, Any]:
    value = _json(answer, url)
    if answer.status != 200 or not isinstance(value, dict):
        if isinstance(value, dict) and isinstance(value.get("error"), str):
            raise ProtocolError(
                value["error"],
                str(value.get("error_description") or value["error"]),
                status=answer.status,
            )
        raise ProtocolError("invalid_request", f"{url} answered {answer.status}")
    return value


def _nonce(transport: Transport, metadata: Mapping[str, Any]) -> str | None:
    endpoint = metadata.get("nonce_endpoint")
    if not isinstance(endpoint, str):
        return None
    answer = transport.request("POST", endpoint, headers=_ACCEPT)
    nonce = _answer_or_error(answer, endpoint).get("c_nonce")
    if not isinstance(nonce, str):
        raise ProtocolError("invalid_request", "the nonce endpoint gave no c_nonce")
    return nonce


def _credential(
    transport: Transport,
    metadata: Mapping[str, Any],
    access_token: str,
    configuration_id: str,
    *,
    holder: Signer,
    now: Callable[[], datetime],
) -> str | dict[str, Any]:
    endpoint = metadata.get("credential_endpoint")
    if not isinstance(endpoint, str):
        raise ProtocolError("invalid_request", "the issuer metadata has no credential_endpoint")
    issuer = str(metadata["credential_issuer"])
    for attempt in range(2):  # a nonce that went stale meanwhile: once more with a fresh one
        proof = proof_jwt(holder, audience=issuer, nonce=_nonce(transport, metadata), now=now())
        body = {"credential_configuration_id": configuration_id, "proofs": {"jwt": [proof]}}
        answer = transport.request(
            "POST",
            endpoint,
            body=json.dumps(body).encode(),
            headers={
                "Content-Type": _JSON,
                "Authorization": f"Bearer {access_token}",
                **_ACCEPT,
            },
        )
        try:
            value = _answer_or_error(answer, endpoint)
        except ProtocolError as exc:
            if exc.error == "invalid_nonce" and attempt == 0:
                continue
            raise
        listed = value.get("credentials")
        if not isinstance(listed, list) or len(listed) != 1 or not isinstance(listed[0], dict):
            raise ProtocolError("invalid_request", "the credential response has no credential")
        credential = listed[0].get("credential")
        if not isinstance(credential, str | dict):
            raise ProtocolError("invalid_request", "the credential response has no credential")
        return credential
    raise ProtocolError("invalid_nonce", "the issuer refused two fresh nonces")
