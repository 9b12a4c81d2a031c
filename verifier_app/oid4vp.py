"""OpenID4VP 1.0 on the verifier: signed requests by reference, direct_post responses.

``POST /oid4vp/requests`` opens a transaction for a DCQL query (an AEO certificate, or an
export billing attestation with chosen claims) and answers the Authorization Request to show
as a link or QR code: ``openid4vp://?client_id=…&request_uri=…``. The Wallet fetches the
signed Request Object at the ``request_uri`` and posts its response (``vp_token``, ``state``)
to the ``response_uri``; each Presentation is verified like ``/presentations/verify`` with the
request's nonce as challenge and the Client Identifier as domain, then checked against its
Credential Query. A transaction takes one response (a replay is refused) before it expires.
``GET /oid4vp/requests/{id}`` says how it ended.

The Client Identifier is ``decentralized_identifier:did:key:…`` of an Ed25519 key derived
from the verifier's own secret, so every worker sharing its database signs as the same
client. https://openid.net/specs/openid-4-verifiable-presentations-1_0.html
"""

from __future__ import annotations

import hmac
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, jsonify, request

from vcred import openid4vp
from vcred.did.key import did_key
from vcred.errors import MalformedError, PresentationError, VcredError
from vcred.issuing import signer_for
from vcred.keys import KeyPair
from vcred.verifier import PresentationResult, Problem
from vcred_service.oauth import derived_key
from vcred_service.problems import ProblemError
from vcred_service.requests import read_json, refuse_unknown
from verifier_app.oid4vp_store import Transaction, Transactions
from verifier_app.results import presentation_body, problem_detail
from verifier_app.service import VerifierService

EXTENSION: Final = "vcred_oid4vp"
#: How long a wallet has to fetch the request and answer it.
TRANSACTION_TTL: Final = timedelta(minutes=5)
REQUEST_MEDIA_TYPE: Final = "application/oauth-authz-req+jwt"
_KEY_PURPOSE: Final = b"vcred openid4vp request-object signing key v1"
_NO_STORE: Final = {"Cache-Control": "no-store"}
_QUERIES: Final = ("aeo-certificate", "billing-attestation")

oid4vp = Blueprint("oid4vp", __name__)


@dataclass(frozen=True, slots=True)
class Oid4vp:
    """The verifier's OpenID4VP state: its client key and DID, and the transactions."""

    key: KeyPair
    did: str
    transactions: Transactions

    @property
    def client_id(self) -> str:
        return openid4vp.DID_PREFIX + self.did


def install(app: Any, service: VerifierService) -> None:
    key = derived_key(service.storage.session_secret(), _KEY_PURPOSE)
    transactions = Transactions(service.storage.engine, prefix=service.storage.prefix)
    transactions.create()
    app.extensions[EXTENSION] = Oid4vp(key=key, did=did_key(key.public), transactions=transactions)
    app.register_blueprint(oid4vp)


def state() -> Oid4vp:
    found: Oid4vp = current_app.extensions[EXTENSION]
    return found


def _service() -> VerifierService:
    found: VerifierService = current_app.extensions["vcred_verifier"]
    return found


# -- opening a request ------------------------------------------------------------------------


#: The members of a POST /oid4vp/requests body.
BODY_MEMBERS: Final = (
    "query",
    "claims",
    "claim_values",
    "trusted_authorities",
    openid4vp.HOLDER_BINDING,
)


def query_of(body: dict[str, Any]) -> dict[str, Any]:
    """The DCQL query a request body names. Raises MalformedError, also for a member the
    query would not use (it would be silently dropped: refused instead), UnsupportedError
    for ``trusted_authorities`` (no type of them is evaluated: refused, never ignored) and
    for ``require_cryptographic_holder_binding`` false (every Presentation must be bound:
    :func:`vcred.openid4vp.refuse_unbound`); true, the default, is written into each
    Credential Query."""
    refuse_unknown(body, BODY_MEMBERS)
    if "trusted_authorities" in body:  # DCQL §6.1.1
        openid4vp.refuse_trusted_authorities(
            body["trusted_authorities"], pointer="/trusted_authorities"
        )
    binding = body.get(openid4vp.HOLDER_BINDING, True)
    if not isinstance(binding, bool):  # DCQL §6.1: a boolean
        raise MalformedError(
            f"{openid4vp.HOLDER_BINDING} is a boolean", pointer=f"/{openid4vp.HOLDER_BINDING}"
        )
    if not binding:
        openid4vp.refuse_unbound(pointer=f"/{openid4vp.HOLDER_BINDING}")
    query = _named_query(body)
    if openid4vp.HOLDER_BINDING in body:
        for entry in query["credentials"]:
            entry[openid4vp.HOLDER_BINDING] = True
    if "claim_values" in body:
        _restrict_values(query, body["claim_values"])
    openid4vp.check_dcql(query)
    return query


def _named_query(body: dict[str, Any]) -> dict[str, Any]:
    kind = body.get("query")
    if kind == "aeo-certificate":
        if "claims" in body:
            raise MalformedError(
                "claims choose what a billing attestation reveals; an AEO certificate query "
                "takes none",
                pointer="/claims",
            )
        return openid4vp.aeo_certificate_query()
    if kind == "billing-attestation":
        claims = body.get("claims", [["credentialSubject", "invoice", "totalAmount"]])
        if not isinstance(claims, list) or not claims:
            raise MalformedError("claims is a non-empty array of claims paths", pointer="/claims")
        for i, path in enumerate(claims):  # one that is no array was a TypeError: a 500
            if not isinstance(path, list) or not path:
                raise MalformedError(
                    "a claims path is a non-empty array (strings, null and indexes)",
                    pointer=f"/claims/{i}",
                )
        return openid4vp.billing_attestation_query(claims)
    raise MalformedError(f"query must be one of {', '.join(_QUERIES)}", pointer="/query")


def _restrict_values(query: dict[str, Any], restrictions: Any) -> None:
    """``claim_values``: ``[{"path": […], "values": […]}, …]``, each path one of the claims
    the query asks for, which its Credential Queries then ask with those ``values`` (DCQL
    §6.3: a credential whose claim has another value does not answer). A path the query does
    not ask for is refused: it would restrict nothing."""
    if not isinstance(restrictions, list) or not restrictions:
        raise MalformedError(
            "claim_values is a non-empty array of {path, values}", pointer="/claim_values"
        )
    for i, restriction in enumerate(restrictions):
        where = f"/claim_values/{i}"
        if not isinstance(restriction, dict):
            raise MalformedError("a claim's values are {path, values}", pointer=where)
        refuse_unknown(restriction, ("path", "values"), at=where)
        openid4vp.check_claim_values(restriction.get("values"), pointer=where + "/values")
        path = json.dumps(restriction.get("path"))  # as JSON: [1] is not [true]
        found = [
            claim
            for entry in query["credentials"]
            for claim in entry.get("claims", [])
            if json.dumps(claim["path"]) == path
        ]
        if not found:
            raise MalformedError("not a claim the query asks for", pointer=where + "/path")
        if any("values" in claim for claim in found):
            raise MalformedError("this claim's values are given twice", pointer=where + "/path")
        for claim in found:
            claim["values"] = restriction["values"]


def open_request(dcql_query: dict[str, Any]) -> dict[str, Any]:
    """A new transaction; what the page or API client shows the wallet."""
    current, config = state(), _service().config
    base = config.base_url
    nonce_request = openid4vp.AuthorizationRequest.new(
        did=current.did, response_uri="pending", dcql_query=dcql_query
    )
    now = config.clock()
    transaction_id = current.transactions.open(
        nonce=nonce_request.nonce,
        state=nonce_request.state,
        dcql_query=dcql_query,
        now=now,
        ttl=TRANSACTION_TTL,
    )
    request_uri = f"{base}/oid4vp/requests/{transaction_id}/object"
    link = "openid4vp://?" + urlencode({"client_id": current.client_id, "request_uri": request_uri})
    return {
        "transaction": transaction_id,
        "client_id": current.client_id,
        "request_uri": request_uri,
        "authorization_request": link,
        "expires_at": (now + TRANSACTION_TTL).isoformat().replace("+00:00", "Z"),
    }


@oid4vp.post("/oid4vp/requests")
def create() -> Response:
    body = read_json(max_depth=_service().config.max_json_depth)
    response = jsonify(open_request(query_of(body)))
    response.status_code = 201
    response.headers.update(_NO_STORE)
    return response


@oid4vp.get("/oid4vp/requests/<transaction_id>/object")
def request_object(transaction_id: str) -> Response:
    """The signed Request Object (RFC 9101 §5.2, OpenID4VP §5): what the wallet fetches."""
    current, config = state(), _service().config
    found = current.transactions.get(transaction_id)
    now = config.clock()
    if found is None or found.expires <= now or found.responded is not None:
        raise ProblemError(404, "Not Found", "no open OpenID4VP request here")
    signed = openid4vp.sign_request(
        openid4vp.AuthorizationRequest(
            client_id=current.client_id,
            response_uri=f"{config.base_url}/oid4vp/responses/{transaction_id}",
            nonce=found.nonce,
            state=found.state,
            dcql_query=found.dcql_query,
            client_metadata={"vp_formats_supported": openid4vp.vp_formats_supported()},
        ),
        signer_for(current.key, did=current.did),
        now=now,
        lifetime=found.expires - now,
    )
    return Response(signed, mimetype=REQUEST_MEDIA_TYPE, headers=_NO_STORE)


# -- the wallet's response ----------------------------------------------------------------------


def _refused(detail: str, code: str, status: int = 400) -> ProblemError:
    return ProblemError(status, "Bad Request" if status == 400 else "Not Found", detail, code=code)


@oid4vp.post("/oid4vp/responses/<transaction_id>")
def response_endpoint(transaction_id: str) -> Response:
    """The Response URI (§8.2): one response per transaction, its state the request's."""
    if request.mimetype != "application/x-www-form-urlencoded":
        raise _refused("send the response as application/x-www-form-urlencoded", "MALFORMED")
    current, service = state(), _service()
    found = current.transactions.get(transaction_id)
    if found is None:
        raise _refused("no OpenID4VP request here", "UNKNOWN_REQUEST", 404)
    sent_state = request.form.get("state", "")
    if not hmac.compare_digest(sent_state.encode(), found.state.encode()):
        raise _refused("state is not this request's", "INVALID_STATE")
    claimed = current.transactions.claim(transaction_id, now=service.config.clock())
    if claimed == "used":
        raise _refused("this request was answered already: a response is taken once", "REPLAYED")
    if claimed == "expired":
        raise _refused("this request has expired", "EXPIRED")
    if "error" in request.form:  # §8.5: the wallet declined or failed
        outcome = {
            "verified": False,
            "error": request.form.get("error", "")[:100],
            "error_description": request.form.get("error_description", "")[:500],
        }
        current.transactions.record(transaction_id, verified=False, result=outcome)
        return _ok()
    verified, body = _verify(service, found.dcql_query, found.nonce, current.client_id)
    current.transactions.record(transaction_id, verified=verified, result=body)
    if not verified:
        raise ProblemError(
            400,
            "Bad Request",
            "the presentation is refused: see the errors",
            code="PRESENTATION_REFUSED",
            problemDetails=body.get("problemDetails", []),
        )
    return _ok()


def _ok() -> Response:
    # §8.2: 200 and a JSON object (no redirect_uri: the cross-device flow)
    response = jsonify({})
    response.headers.update(_NO_STORE)
    return response


def _verify(
    service: VerifierService, query: Any, nonce: str, client_id: str
) -> tuple[bool, dict[str, Any]]:
    """Every Presentation verified, bound to nonce and client id, and matching its query."""
    try:
        vp_token = openid4vp.read_vp_token(request.form.get("vp_token"), query)
    except VcredError as error:
        return False, {"verified": False, "problemDetails": [problem_detail(Problem.of(error))]}
    queries = {entry["id"]: entry for entry in query["credentials"]}
    answers: dict[str, list[dict[str, Any]]] = {}
    problems: list[dict[str, Any]] = []
    for cid, presentations in vp_token.items():
        answers[cid] = []
        for presentation in presentations:
            try:
                result = service.verifier.verify_presentation(
                    presentation, challenge=nonce, domain=client_id
                )
            except VcredError as error:  # misuse-level input (UsageError): refused all the same
                problem = problem_detail(Problem.of(error))
                answers[cid].append({"verified": False, "problemDetails": [problem]})
                problems.append(problem)
                continue
            service.record_presentation(result, channel="oid4vp")
            body = presentation_body(result)
            if result.verified:
                try:
                    openid4vp.check_presented(result, queries[cid])
                except PresentationError as error:
                    body["verified"] = False
                    body.setdefault("problemDetails", []).append(problem_detail(Problem.of(error)))
                else:
                    recognised = [r.id for r in service.recognise(result, channel="oid4vp")]
                    if recognised:
                        body["recognitions"] = recognised
                _add_claims(body, result, queries[cid].get("claims", []))
            else:  # makes none, but a suspension it found ends a recognition made before
                service.recognise(result, channel="oid4vp")
            problems.extend(body.get("problemDetails", []))
            answers[cid].append(body)
    verified = not problems and all(b["verified"] for bs in answers.values() for b in bs)
    outcome: dict[str, Any] = {"verified": verified, "presentations": answers}
    if not verified:
        outcome["problemDetails"] = problems
    return verified, outcome


def _add_claims(body: dict[str, Any], result: PresentationResult, claims: list[Any]) -> None:
    """What the query asked for, as presented and verified: each credential's values under
    its entry in ``credentials``, and all of them, in that order, under ``claims``."""
    selected = [
        [openid4vp.selected_claims(credential.credential or {}, claim["path"]) for claim in claims]
        for credential in result.credentials
    ]
    for entry, values in zip(body["credentials"], selected, strict=True):
        entry["claims"] = [
            {"path": claim["path"], "values": found}
            for claim, found in zip(claims, values, strict=True)
        ]
    body["claims"] = [
        {"path": claim["path"], "values": [v for values in selected for v in values[i]]}
        for i, claim in enumerate(claims)
    ]


# -- the outcome --------------------------------------------------------------------------------


def status_of(found: Transaction, *, now: datetime) -> str:
    """pending, verifying, verified, refused or expired."""
    if found.result is not None:
        return "verified" if found.verified else "refused"
    if found.responded is not None:
        return "verifying"
    return "expired" if found.expires <= now else "pending"


@oid4vp.get("/oid4vp/requests/<transaction_id>")
def outcome(transaction_id: str) -> Response:
    found = state().transactions.get(transaction_id)
    if found is None:
        raise ProblemError(404, "Not Found", "no OpenID4VP request here")
    status = status_of(found, now=_service().config.clock())
    response = jsonify({"status": status, "result": found.result})
    response.headers.update(_NO_STORE)
    return response
