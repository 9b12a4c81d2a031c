"""The officer pages beyond issuing: four-eyes approvals, trust lists, administration.

Registered on :data:`issuer_app.ui.blueprint` (imported by :mod:`issuer_app.app`), each view
behind the permission it needs (:func:`issuer_app.ui.requires`). The administration page lists
officer accounts and their roles, live sessions (ended here server-side), API tokens and
signing keys.
"""

from __future__ import annotations

import json
from typing import Final

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext
from werkzeug.wrappers import Response as BaseResponse

from issuer_app.approvals import APPROVER_PERMISSION, Action
from issuer_app.hashing import NewToken, parse_scopes
from issuer_app.ui import blueprint, can, issuer, refused, requires
from vcred.errors import UsageError
from vcred_service.explanations import N_, officer_sentence
from vcred_service.problems import ProblemError
from vcred_service.requests import parse_json_body
from vcred_service.roles import ROLES, parse_role
from vcred_service.signin import current_officer

_TRUST_LIST_FORMATS: Final = ("vc+jwt", "eddsa-rdfc-2022", "eddsa-jcs-2022")
#: The only refusal of a decision without a code: another approver was first (409).
_DECIDED_ALREADY: Final = N_("This request was decided already.")


def _actor() -> str:
    return f"officer:{current_officer()}"


def _refusal(exc: ProblemError) -> str:
    """The officer's sentence for a refused request or decision (the API keeps its detail)."""
    code = exc.extra.get("code")
    return str(gettext(officer_sentence(str(code)) if code else _DECIDED_ALREADY))


# -- four-eyes approvals ---------------------------------------------------------------------


@blueprint.get("/officer/approvals")
@requires("approve")
def approvals() -> str:
    service = issuer()
    return render_template(
        "issuer/approvals.html",
        pending=service.approvals.listed(pending=True),
        decided=service.approvals.listed(pending=False, limit=20),
        permission_of=APPROVER_PERMISSION,
    )


@blueprint.post("/officer/approvals/<request_id>")
@requires("approve")
def decide(request_id: str) -> BaseResponse | tuple[str, int]:
    service = issuer()
    row = service.approvals.get(request_id)
    if row is None:
        raise ProblemError(404, "Not Found", "no such request")
    action: Action = row.action
    needed = APPROVER_PERMISSION[action]
    if not can(needed):
        return refused(needed)
    decision = request.form.get("decision", "")
    if decision not in ("approve", "reject"):
        raise ProblemError(400, "Bad request", "approve or reject", code="MALFORMED")
    try:
        ended = service.approvals.decide(
            request_id, officer=current_officer() or "", approve=decision == "approve"
        )
    except ProblemError as exc:
        if exc.extra.get("code") == "SELF_APPROVAL":
            service.record_refusal(current_officer() or "", "approve", request.path)
            return render_template("issuer/refused.html", reason=_refusal(exc)), 403
        if exc.status != 409:
            raise
        flash(_refusal(exc), "error")
        return redirect(url_for("officer.approvals"))
    if ended.state == "failed":
        flash(gettext("Approved, but it could not be done: %(why)s", why=ended.outcome), "error")
    else:
        rejected = ended.state == "rejected"
        flash(gettext("Request rejected.") if rejected else gettext("Request approved."), "ok")
    if ended.action == "trust-list" and ended.state == "approved":
        return redirect(url_for("officer.approval", request_id=request_id))
    return redirect(url_for("officer.approvals"))


@blueprint.get("/officer/approvals/<request_id>")
@requires("approve")
def approval(request_id: str) -> str:
    row = issuer().approvals.get(request_id)
    if row is None:
        raise ProblemError(404, "Not Found", "no such request")
    signed = None
    if row.action == "trust-list" and row.state == "approved" and row.outcome:
        signed = json.loads(row.outcome).get("verifiableCredential")
    return render_template(
        "issuer/approval.html",
        row=row,
        payload=json.loads(row.payload),
        signed=signed if isinstance(signed, str) else json.dumps(signed, indent=2),
    )


# -- trust lists -----------------------------------------------------------------------------


@blueprint.route("/officer/trust-lists", methods=["GET", "POST"])
@requires("trust-list")
def trust_lists() -> str | BaseResponse:
    """Sign the agency's MRA trust list (pasted JSON), or ask for it under four-eyes."""
    service = issuer()
    form = {"credential": "", "format": "vc+jwt"}
    error = None
    signed = None
    if request.method == "POST":
        form = {
            "credential": request.form.get("credential", ""),
            "format": request.form.get("format", "vc+jwt"),
        }
        try:
            # as the API reads it (/trust-lists/issue): strict, at most 64 levels deep
            credential = parse_json_body(form["credential"].encode("utf-8", "surrogatepass"))
        except ProblemError:
            credential = None
        if not isinstance(credential, dict):
            error = gettext("Paste the unsigned MRATrustListCredential as a JSON object.")
        elif form["format"] not in _TRUST_LIST_FORMATS:
            error = gettext("Choose one of the formats offered.")
        else:
            body = {"credential": credential, "options": {"format": form["format"]}}
            if service.config.four_eyes:
                service.approvals.request(
                    "trust-list",
                    officer=current_officer() or "",
                    target=None,
                    audit_target=str(credential.get("id") or "") or None,
                    payload={"body": body},
                    summary=f"sign trust list {credential.get('id') or '(no id)'}",
                )
                flash(
                    gettext(
                        "Trust list submitted: it is signed when a second administrator "
                        "approves it."
                    ),
                    "ok",
                )
                return redirect(url_for("officer.trust_lists"))
            try:
                answer = service.issue_trust_list(body, actor=_actor())
            except ProblemError as exc:
                error = exc.detail
            else:
                made = answer.body["verifiableCredential"]
                signed = made if isinstance(made, str) else json.dumps(made, indent=2)
    return render_template(
        "issuer/trust_lists.html",
        form=form,
        error=error,
        signed=signed,
        formats=_TRUST_LIST_FORMATS,
    )


# -- administration --------------------------------------------------------------------------


@blueprint.get("/officer/admin")
@requires("officers")
def admin() -> str:
    return _admin_page()


def _admin_page(new_token: NewToken | None = None) -> str:
    service = issuer()
    return render_template(
        "issuer/admin.html",
        officers=service.officers.rows(),
        roles=service.roles.roles(),
        role_names=ROLES,
        sessions=service.sessions.live(),
        tokens=service.store.tokens(),
        keys=service.keyring().keys,
        new_token=new_token,
    )


@blueprint.post("/officer/admin/officers/<name>/role")
@requires("officers")
def set_role(name: str) -> BaseResponse:
    try:
        role = parse_role(request.form.get("role", ""))
        issuer().set_officer_role(name, role, actor=_actor())
    except UsageError as exc:
        flash(exc.message, "error")
    else:
        flash(gettext("%(name)s is now %(role)s.", name=name, role=role), "ok")
    return redirect(url_for("officer.admin"))


@blueprint.post("/officer/admin/sessions/<handle>/end")
@requires("sessions")
def end_session(handle: str) -> BaseResponse:
    try:
        whose = issuer().end_session(handle, actor=_actor())
    except UsageError as exc:
        flash(exc.message, "error")
    else:
        flash(gettext("The session of %(name)s was ended.", name=whose), "ok")
    return redirect(url_for("officer.admin"))


@blueprint.post("/officer/admin/tokens")
@requires("tokens")
def create_token() -> str | BaseResponse:
    service = issuer()
    try:
        scopes = parse_scopes(request.form.get("scopes", "issue,status"))
        made = service.create_token(
            scopes, label=request.form.get("label", "")[:200], actor=_actor()
        )
    except ValueError as exc:
        flash(str(exc), "error")
        return redirect(url_for("officer.admin"))
    return _admin_page(new_token=made)  # the token is shown this once


@blueprint.post("/officer/admin/tokens/<token_id>/revoke")
@requires("tokens")
def revoke_token(token_id: str) -> BaseResponse:
    service = issuer()
    if service.store.token(token_id) is None:
        flash(gettext("No such token."), "error")
    else:
        service.revoke_token(token_id, actor=_actor())
        flash(gettext("Token %(id)s revoked.", id=token_id), "ok")
    return redirect(url_for("officer.admin"))
