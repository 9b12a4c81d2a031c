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

from flask import Blueprint, Response, current_app, jsonify, render_template, request
from werkzeug.datastructures import FileStorage
from werkzeug.wrappers import Response as BaseResponse

from vcred.cose import TAGGED_SIGN1_PREFIX
from vcred.errors import MalformedError, UsageError, VcredError
from vcred.multibase import b64url_encode
from vcred_service.problems import ProblemError
from vcred_service.ratelimit import RateLimiter
from vcred_service.signin import (
    SignIn,
    check_csrf,
    csrf_token,
    current_officer,
    login_page,
    login_required,
)
from vcred_service.signin import logout as end_session
from verifier_app.qr import read_qr
from verifier_app.service import VerifierService

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
        limiter=RateLimiter(rate=config.login_rate, burst=config.login_burst),
        login_endpoint="ui.login",
        home_endpoint="ui.recent",
    ).install(state.app)


@ui.context_processor
def _template_globals() -> dict[str, Any]:
    current = service()
    return {
        "service_name": current.service_name,
        "trust_list": current.trust_summary(),
        "config": current.config,
        "csrf_token": csrf_token,
        "officer": current_officer(),
    }


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
        raise MalformedError(f"the file is larger than {limit} bytes")
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
                "the file is not UTF-8 text (a JSON or JWT file) nor a COSE_Sign1"
            ) from exc
    pasted = request.form.get("credential", "").strip()
    if len(pasted) > limits.max_body_bytes:
        raise MalformedError(f"the pasted text is longer than {limits.max_body_bytes} bytes")
    if pasted:
        return pasted, "pasted"
    raise MalformedError("paste a credential, choose a file, or scan a QR code")


@ui.post("/verify")
def verify() -> tuple[str, int]:
    try:
        text, source = _submitted_credential()
    except VcredError as error:
        return _page(
            "verifier/index.html",
            status=error.http_status,
            error=error.message,
            error_code=error.code,
        )
    outcome = service().verify_credential(text, channel="ui")
    return _page("verifier/result.html", result=outcome.body, source=source)


@ui.get("/recent")
@login_required
def recent() -> tuple[str, int]:
    return _page("verifier/recent.html", entries=service().storage.recent(100))


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


@ui.route("/login", methods=["GET", "POST"])
def login() -> str | BaseResponse:
    return login_page("verifier/login.html")


@ui.post("/logout")
def logout() -> BaseResponse:
    return end_session()
