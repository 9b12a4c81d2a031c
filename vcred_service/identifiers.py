"""``GET /identifiers/{did}``: DID resolution over HTTP(S) for the DIDs this service may answer for.

did:key and did:jwk are resolved from the DID alone; did:web only for the service's own DID
(its document as served at /.well-known/did.json). Any other DID is refused — a service that
fetched arbitrary did:web documents on request would be an open proxy — with the DID
Resolution error: in the resolution metadata when the client asked for a resolution result
(``Accept: application/did-resolution``, or no preference), else as problem details.

https://www.w3.org/TR/did-resolution/#bindings-https ·
https://www.w3.org/TR/did-resolution/#errors
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import unquote

from flask import Blueprint, Response, current_app, jsonify, request

from vcred.did import resolve_did_jwk, resolve_did_key
from vcred.did.document import is_did
from vcred.errors import VcredError
from vcred_service.problems import problem_response

EXTENSION: Final = "vcred_identifiers"
RESOLUTION_RESULT: Final = "application/did-resolution"
#: the JSON-LD form of a resolution result that resolvers before DID Resolution 1.0 asked for
_LEGACY_RESULT: Final = 'application/ld+json;profile="https://w3id.org/did-resolution"'
DID_JSON: Final = "application/did+json"
_DOCUMENT_TYPES: Final = (
    "application/did",
    DID_JSON,
    "application/did+ld+json",
    "application/json",
)
_ERRORS: Final = "https://www.w3.org/ns/did#"

#: the service's own DIDs and their documents (now: they change as keys rotate)
OwnDocuments = Callable[[], Mapping[str, Mapping[str, Any]]]

blueprint = Blueprint("vcred_identifiers", __name__)


@dataclass(frozen=True, slots=True)
class _Refusal:
    status: int
    error: str  # the fragment of the error type, e.g. METHOD_NOT_SUPPORTED
    title: str
    detail: str


def install(app: Any, own_documents: OwnDocuments) -> None:
    """Answer ``GET /identifiers/{did}`` on ``app``; ``own_documents`` names its own DIDs."""
    app.extensions[EXTENSION] = own_documents
    app.register_blueprint(blueprint)


@blueprint.get("/identifiers/<path:did>")
def resolve(did: str) -> Response:
    did = _requested_did(did)
    wants_result = _wants_result()
    if wants_result is None:
        return _refused(
            _Refusal(
                406,
                "REPRESENTATION_NOT_SUPPORTED",
                "Representation not supported",
                f"ask for {RESOLUTION_RESULT} or one of {', '.join(_DOCUMENT_TYPES)}",
            ),
            as_result=False,
        )
    found = _document(did)
    if isinstance(found, _Refusal):
        return _refused(found, as_result=wants_result)
    if wants_result:
        response = jsonify(
            {
                "didDocument": found,
                "didResolutionMetadata": {"contentType": DID_JSON},
                "didDocumentMetadata": {},
            }
        )
        response.mimetype = RESOLUTION_RESULT
    else:
        response = jsonify(found)
        response.mimetype = DID_JSON
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Vary"] = "Accept"
    return response


def _requested_did(decoded: str) -> str:
    """The DID as the client sent it: appended as is (``did:web:host%3A8443``), or URL-encoded
    as a whole (``did%3Aweb%3Ahost%253A8443``, RFC 3986 §2.1) — the binding allows both.

    The router has percent-decoded the path once, which turns the first form's ``%3A`` into a
    colon: another DID. So the undecoded path is read where the server keeps it.
    """
    raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI")
    if not isinstance(raw, str):
        return decoded
    _, found, tail = raw.split("?", 1)[0].partition("/identifiers/")
    if not found:
        return decoded
    return tail if tail.startswith("did:") else unquote(tail)


def _wants_result() -> bool | None:
    """True: a resolution result; False: the document alone; None: nothing we can give."""
    accept = request.accept_mimetypes
    if not accept or list(accept.values()) == ["*/*"]:
        return True
    if _LEGACY_RESULT in request.headers.get("Accept", "").replace(" ", ""):
        return True
    best = accept.best_match([RESOLUTION_RESULT, *_DOCUMENT_TYPES])
    if best is None:
        return None
    return best == RESOLUTION_RESULT


def _document(did: str) -> Mapping[str, Any] | _Refusal:
    if not is_did(did):
        return _Refusal(400, "INVALID_DID", "Invalid DID", f"{did[:200]!r} is not a DID")
    own: Mapping[str, Mapping[str, Any]] = current_app.extensions[EXTENSION]()
    if did in own:
        return own[did]
    method = did.split(":", 2)[1]
    resolvers = {"key": resolve_did_key, "jwk": resolve_did_jwk}
    if method in resolvers:
        try:
            return resolvers[method](did).document
        except VcredError as error:
            return _Refusal(400, "INVALID_DID", "Invalid DID", error.message)
    if method == "web":
        return _Refusal(
            404,
            "NOT_FOUND",
            "DID not found",
            "this service answers for its own did:web only; resolve others at their host",
        )
    return _Refusal(
        501,
        "METHOD_NOT_SUPPORTED",
        "DID method not supported",
        f"did:{method[:40]} is not resolved here (did:key, did:jwk and this service's did:web are)",
    )


def _refused(refusal: _Refusal, *, as_result: bool) -> Response:
    error = {"type": _ERRORS + refusal.error, "title": refusal.title, "detail": refusal.detail}
    if as_result:
        response = jsonify(
            {
                "didDocument": None,
                "didResolutionMetadata": {"error": error},
                "didDocumentMetadata": {},
            }
        )
        response.status_code = refusal.status
        response.mimetype = RESOLUTION_RESULT
        return response
    return problem_response(
        refusal.status, refusal.title, refusal.detail, type_=error["type"], code=refusal.error
    )
