"""The recognition query for border systems, and the officers' pages of benefit requests.

``GET /recognitions?scheme=US-MID&id=…&at=2026-12-01`` answers whether the party is
recognised here at that moment, under which arrangement and level, with the evidence;
``POST /recognitions/query`` does the same for many parties at once. With OAuth configured
both need an access token with the ``recognitions`` scope (else they are open, like the VC
API). Officers (signed in) list the benefit requests and recognitions, read one with its
history and note a decision. docs/recognition.md tells the flow.
"""

from __future__ import annotations

from typing import Any, Final

from flask import Blueprint, Response, current_app, jsonify, redirect, render_template, request
from flask import url_for as flask_url_for
from werkzeug.wrappers import Response as BaseResponse

from vcred.errors import MalformedError
from vcred_service.problems import ProblemError
from vcred_service.requests import read_json
from vcred_service.signin import check_csrf, current_officer, login_required
from verifier_app.recognitions import DECISIONS, parse_moment, party
from verifier_app.service import VerifierService
from verifier_app.ui import template_globals

#: The OAuth scope of the recognition query.
RECOGNITIONS_SCOPE: Final = "recognitions"

recognitions = Blueprint("recognitions", __name__)
recognitions.context_processor(template_globals)


def _service() -> VerifierService:
    found: VerifierService = current_app.extensions["vcred_verifier"]
    return found


def _answer(scheme: Any, value: Any, at: Any, pointer: str) -> dict[str, Any]:
    current = _service()
    now = current.config.clock()
    asked = party(scheme, value, pointer=pointer)
    if at is not None and not isinstance(at, str):
        raise MalformedError("at is a string", pointer=f"{pointer}/at")
    moment = parse_moment(at, pointer=f"{pointer}/at", now=now)
    return current.storage.recognitions.answer(
        *asked, at=moment, now=now, max_age=current.config.status_max_age, trust=current.trust_held
    )


def _json(body: Any) -> Response:
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-store"
    return response


@recognitions.get("/recognitions")
def query() -> Response:
    args = request.args
    return _json(_answer(args.get("scheme"), args.get("id"), args.get("at"), ""))


@recognitions.post("/recognitions/query")
def query_batch() -> Response:
    """Many parties at once: ``{"at": …, "parties": [{"scheme", "id", "at"?}, …]}``."""
    body = read_json(max_depth=_service().config.max_json_depth)
    parties = body.get("parties")
    if not isinstance(parties, list) or not parties:
        raise MalformedError("parties is a non-empty array", pointer="/parties")
    limit = _service().config.max_batch_size
    if len(parties) > limit:
        raise MalformedError(f"at most {limit} parties per query", pointer="/parties")
    at = body.get("at")
    if at is not None and not isinstance(at, str):
        raise MalformedError("at is a string", pointer="/at")
    parse_moment(at, pointer="/at", now=_service().config.clock())  # its own pointer
    results = []
    for i, item in enumerate(parties):
        pointer = f"/parties/{i}"
        if not isinstance(item, dict):
            raise MalformedError("a party is a JSON object", pointer=pointer)
        # a party's at of null (or empty) is one not given, as a serializer writes an
        # absent member: the query's at, not now
        own = item.get("at")
        asked_at = at if own is None or own == "" else own
        results.append(_answer(item.get("scheme"), item.get("id"), asked_at, pointer))
    return _json({"results": results})


# -- the officers' pages ---------------------------------------------------------------------------


@recognitions.get("/benefit-requests")
@login_required
def listing() -> str:
    current = _service()
    found = current.storage.recognitions.latest()
    now = current.config.clock()
    max_age, trust = current.config.status_max_age, current.trust_held
    rows = [(r, r.reason_at(now, now=now, max_age=max_age, trust=trust)) for r in found]
    return render_template("verifier/recognitions.html", rows=rows)


@recognitions.get("/benefit-requests/<recognition_id>")
@login_required
def detail(recognition_id: str) -> tuple[str, int]:
    current = _service()
    found = current.storage.recognitions.get(recognition_id)
    if found is None:
        return render_template("verifier/recognition.html", recognition=None), 404
    now = current.config.clock()
    return render_template(
        "verifier/recognition.html",
        recognition=found,
        reason=found.reason_at(
            now, now=now, max_age=current.config.status_max_age, trust=current.trust_held
        ),
        events=current.storage.recognitions.history(recognition_id),
        decisions=DECISIONS,
    ), 200


@recognitions.post("/benefit-requests/<recognition_id>/decision")
@login_required
def decide(recognition_id: str) -> BaseResponse:
    check_csrf()
    current = _service()
    if current.storage.recognitions.get(recognition_id) is None:
        raise ProblemError(404, "Not Found", "no such recognition")
    current.storage.recognitions.decide(
        recognition_id,
        decision=request.form.get("decision", ""),
        officer=current_officer() or "",
        note=request.form.get("note", "")[:500],
        now=current.config.clock(),
    )
    return redirect(flask_url_for("recognitions.detail", recognition_id=recognition_id), 303)
