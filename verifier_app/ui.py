"""The officer's web UI: paste, upload or scan a credential; see the verdict; see the history.

Server-rendered pages over the shared ``base.html``; the only script (``verifier.js``) runs
the camera: it grabs a frame to a canvas and submits it as the QR image of the same form,
which the server decodes (:mod:`verifier_app.qr`).

Verifying is public. The history (``/recent``: which traders were checked, when, with what
verdict) is for signed-in officers only (``vcred verifier officer add``;
:mod:`vcred_service.signin`: server-side sessions, CSRF on the sign-in forms).
"""

from __future__ import annotations

from typing import Any, Final

import segno
from flask import Blueprint, Response, current_app, jsonify, render_template, request
from flask_babel import gettext
from markupsafe import Markup
from werkzeug.datastructures import FileStorage

from vcred._pointer import child
from vcred.cose import TAGGED_SIGN1_PREFIX
from vcred.errors import MalformedError, UsageError, VcredError
from vcred.integrity.ecdsa_sd import has_base_proof
from vcred.jose import loads_strict
from vcred.multibase import b64url_encode
from vcred_service.explanations import officer_sentence
from vcred_service.oidc import OidcClient
from vcred_service.problems import ProblemError
from vcred_service.ratelimit import make_limiter
from vcred_service.signin import (
    ACCOUNT_FAILURES,
    SignIn,
    add_sign_in_views,
    check_csrf,
    csrf_token,
    current_officer,
    login_required,
)
from verifier_app import oid4vp
from verifier_app.qr import read_qr
from verifier_app.service import VerifierService
from verifier_app.summary import verdict

_READ_CHUNK: Final = 128 * 1024

ui = Blueprint(
    "ui",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/_verifier",
)


def service() -> VerifierService:
    found: VerifierService = current_app.extensions["vcred_verifier"]
    return found


@ui.record_once
def _setup(state: Any) -> None:
    current: VerifierService = state.app.extensions["vcred_verifier"]
    config = current.config
    SignIn(
        accounts=current.officers,
        sessions=current.sessions,
        limiter=make_limiter(
            config.login_rate,
            config.login_burst,
            url=config.rate_limit_url,
            deployment=("verifier", config.domain, config.table_prefix),
            name="login",
        ),
        account_limiter=make_limiter(
            *ACCOUNT_FAILURES,
            url=config.rate_limit_url,
            deployment=("verifier", config.domain, config.table_prefix),
            name="login-account",
        ),
        login_endpoint="ui.login",
        home_endpoint="ui.recent",
        oidc=None
        if config.oidc is None or config.oidc_redirect_uri is None
        else OidcClient(config.oidc, redirect_uri=config.oidc_redirect_uri, clock=config.clock),
    ).install(state.app)


@ui.context_processor
def template_globals() -> dict[str, Any]:
    """What every officer page's template reads (the recognition pages too)."""
    current = service()
    return {
        "service_name": _service_name(current),
        "trust_list": current.trust_summary(),
        "config": current.config,
        "csrf_token": csrf_token,
        "officer": current_officer(),
        "officer_sentence": officer_sentence,
        "issuer_name": current.issuer_name,
    }


def _service_name(current: VerifierService) -> str:
    """The page header's name: the configured one as it is, else in the officer's language."""
    if current.config.service_name:
        return current.config.service_name
    if current.trust is not None:
        return str(
            gettext("%(authority)s — credential verifier", authority=current.trust.authority)
        )
    return str(gettext("vcred credential verifier"))


def _page(template: str, status: int = 200, **context: Any) -> tuple[str, int]:
    return render_template(template, **context), status


@ui.before_request
def _upload_limits() -> None:
    # photos of QR codes are larger than any credential; the API keeps the smaller limit
    if request.endpoint == "ui.verify":
        limits = service().config
        request.max_content_length = limits.max_image_bytes + limits.max_body_bytes
        # werkzeug applies this to each chunk it reads (64 KiB), file parts included; the
        # pasted text is held to max_body_bytes below
        request.max_form_memory_size = limits.max_body_bytes + _READ_CHUNK


@ui.get("/")
def index() -> tuple[str, int]:
    return _page("verifier/index.html")


def _read_upload(upload: FileStorage | None, limit: int) -> bytes | None:
    if upload is None or not upload.filename:
        return None
    data: bytes = upload.read(limit + 1)
    if len(data) > limit:
        raise MalformedError(gettext("The file is larger than %(limit)s bytes.", limit=limit))
    return data


def _submitted_credential() -> tuple[str, str]:
    """The credential the officer gave (pasted, a file, or a QR image) and how."""
    limits = service().config
    image = _read_upload(request.files.get("image"), limits.max_image_bytes)
    if image is not None:
        return read_qr(image), "QR code"
    document = _read_upload(request.files.get("file"), limits.max_body_bytes)
    if document is not None:
        if document.startswith(TAGGED_SIGN1_PREFIX):  # a binary vc+cose file: its text form
            return b64url_encode(document), "uploaded file"
        try:
            return document.decode("utf-8-sig").strip(), "uploaded file"
        except UnicodeDecodeError as exc:
            raise MalformedError(
                gettext("The file is neither text (a JSON or JWT file) nor a COSE credential.")
            ) from exc
    pasted = request.form.get("credential", "").strip()
    if len(pasted) > limits.max_body_bytes:
        raise MalformedError(
            gettext("The pasted text is longer than %(limit)s bytes.", limit=limits.max_body_bytes)
        )
    if pasted:
        return pasted, "pasted"
    raise MalformedError(gettext("Paste a credential, choose a file, or scan a QR code."))


@ui.post("/verify")
def verify() -> tuple[str, int]:
    try:
        text, source = _submitted_credential()
    except VcredError as error:
        # this page's own messages are translated where raised; the QR reader's errors are
        # told in their officer sentence
        own = error.code == MalformedError.code
        return _page(
            "verifier/index.html",
            status=error.http_status,
            error=error.message if own else gettext(officer_sentence(error.code)),
            error_code=error.code,
        )
    current = service()
    outcome = current.verify_credential(text, channel="ui")
    summary = verdict(
        outcome.body, issuer_name=current.issuer_name, base_proof=_has_base_proof(text)
    )
    return _page("verifier/result.html", result=outcome.body, verdict=summary, source=source)


def _has_base_proof(text: str) -> bool:
    """Whether the pasted JSON is an ecdsa-sd-2023 credential still with its base proof."""
    if not text.startswith("{"):
        return False
    try:
        # strict: json.loads raised RecursionError (a 500) for text nested too deep
        return has_base_proof(loads_strict(text, what="the pasted credential"))
    except VcredError:  # not JSON at all: verification said why
        return False


@ui.get("/recent")
@login_required
def recent() -> tuple[str, int]:
    return _page("verifier/recent.html", entries=service().storage.recent(100))


@ui.route("/present", methods=["GET", "POST"])
@login_required
def present() -> tuple[str, int]:
    """An OpenID4VP request for the trader's wallet, shown as a QR code and a link.

    The page opens the queries it offers as they are. What ``POST /oid4vp/requests``
    composes (``claims``, ``claim_values``, ``trusted_authorities``,
    ``require_cryptographic_holder_binding``) is not read from its form: a form carries text,
    where DCQL ``values`` match type and value exactly (§6.3: ``3`` is not ``"3"``), so it is
    asked there in JSON. A form member the page does not take is refused by name (400
    MALFORMED), never dropped: a request asked for AEOF only, opened for any tier, would
    accept any tier.
    """
    if request.method == "GET":
        return _page("verifier/present.html", opened=None)
    check_csrf()
    for name in request.form:
        if name in ("query", "csrf_token"):
            continue
        where = " (ask it with POST /oid4vp/requests)" if name in oid4vp.BODY_MEMBERS else ""
        raise MalformedError(
            f"unknown member {name[:40]!r}: this page takes query{where}", pointer=child("", name)
        )
    opened = oid4vp.open_request(oid4vp.query_of({"query": request.form.get("query", "")}))
    code = segno.make(opened["authorization_request"], error="m")
    qr = Markup(code.svg_inline(scale=4, omitsize=False))  # noqa: S704 - segno's own SVG
    return _page("verifier/present.html", opened=opened, qr=qr)


@ui.get("/present/<transaction_id>")
@login_required
def presentation(transaction_id: str) -> tuple[str, int]:
    found = oid4vp.state().transactions.get(transaction_id)
    if found is None:
        return _page("verifier/presentation.html", status=404, result=None, outcome="unknown")
    return _page(
        "verifier/presentation.html",
        result=found.result,
        outcome=oid4vp.status_of(found, now=service().config.clock()),
    )


@ui.post("/trust-lists/refresh")
@login_required
def refresh_trust_list() -> Response:
    """Fetch the trust list now (an officer, after a partner announced a new key)."""
    check_csrf()
    try:
        report = service().refresh_trust()
    except UsageError as error:
        raise ProblemError(409, "Conflict", error.message, code="NO_TRUST_LIST_URL") from error
    return jsonify(report.as_dict())


add_sign_in_views(ui, "verifier/login.html")
