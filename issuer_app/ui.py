"""The officer web UI: server-rendered pages over :class:`Issuer`, behind a login.

Officers (created with ``vcred issuer officer add``) sign in with a password (scrypt) and get
a server-side session (:mod:`vcred_service.signin`: HttpOnly, SameSite=Lax, Secure behind
https; it ends on sign-out, after the idle timeout and at its absolute lifetime); every form
carries a CSRF token, and a POST without the right one is refused (400).

Each view names the permission it needs (:func:`requires`, :mod:`vcred_service.roles`); the
officer's role is read from the database at every request, an action the role does not allow
is a 403 page and an ``officer-refused`` entry in the audit chain, and the pages offer only
what the role allows. The administration pages are in :mod:`issuer_app.ui_admin`.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from functools import wraps
from typing import Any, Final

import segno
from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext
from markupsafe import Markup
from sqlalchemy import Row
from werkzeug.wrappers import Response as BaseResponse

from issuer_app import formats
from issuer_app.api import limiter
from issuer_app.examples import form_examples
from issuer_app.form_hints import field_hint
from issuer_app.oid4vci_ui import OFFER, offer_from_form
from issuer_app.reading import unverified_issued
from issuer_app.service import Issuer, MessageStatus, Status
from issuer_app.store.records import RecordQuery, load_json_list
from vcred.customs.builders import (
    AEO_CERTIFICATE_TYPE,
    EXPORT_BILLING_TYPE,
    build_aeo_certificate,
    build_export_billing_attestation,
)
from vcred.customs.programmes import PROGRAMMES, TRADE_ROLES
from vcred.errors import MalformedError
from vcred_service.claims import summarise
from vcred_service.explanations import N_, officer_sentence
from vcred_service.oidc import OidcClient
from vcred_service.problems import ProblemError
from vcred_service.roles import Permission, Role, allows
from vcred_service.signin import (
    ACCOUNT_FAILURES,
    SignIn,
    add_sign_in_views,
    check_csrf,
    csrf_token,
    current_officer,
    login_required,
)

blueprint = Blueprint(
    "officer",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/_issuer",
)

PAGE_SIZE: Final = 50
AEO_VALIDITY: Final = timedelta(days=3 * 365)
STATUSES: Final = ("active", "suspended", "revoked")
_ACTIONS: Final[dict[str, tuple[Status, str]]] = {
    "suspend": ("suspended", N_("The credential was suspended.")),
    "reinstate": ("active", N_("The credential was reinstated.")),
    "revoke": ("revoked", N_("The credential was revoked.")),
}


def issuer() -> Issuer:
    found: Issuer = current_app.extensions["vcred_issuer"]
    return found


@blueprint.record_once
def _setup(state: Any) -> None:
    service: Issuer = state.app.extensions["vcred_issuer"]
    config = service.config
    settings = config.oidc()
    SignIn(
        accounts=service.officers,
        sessions=service.sessions,
        limiter=limiter(config, "login", config.login_rate, config.login_burst),
        account_limiter=limiter(config, "login-account", *ACCOUNT_FAILURES),
        login_endpoint="officer.login",
        home_endpoint="officer.credentials",
        oidc=None
        if settings is None
        else OidcClient(
            settings, redirect_uri=f"{config.public_url}/login/oidc/callback", clock=config.clock
        ),
        assign_role=lambda name, role: _role_from_groups(service, name, role),
    ).install(state.app)


def _role_from_groups(service: Issuer, name: str, role: Role) -> None:
    """The provider's groups decide the role: stored (and audited) when it changes."""
    if service.roles.role(name) != role:
        service.set_officer_role(name, role, actor="oidc")


# -- session, CSRF, login (vcred_service.signin) -------------------------------------------------


@blueprint.app_context_processor
def _template_globals() -> dict[str, Any]:
    service = issuer()
    return {
        "csrf_token": csrf_token,
        "service_name": gettext("%(authority)s — issuer", authority=service.config.authority),
        "officer": current_officer(),
        "officer_role": officer_role(),
        "can": can,
        "four_eyes": service.config.four_eyes,
        "type_names": {
            AEO_CERTIFICATE_TYPE: gettext("AEO certificate"),
            EXPORT_BILLING_TYPE: gettext("Export billing attestation"),
        },
        "format_names": {f: gettext(name) for f, (name, _) in formats.FORMAT_GUIDE.items()},
    }


@blueprint.before_app_request
def _check_csrf() -> None:
    """Every form POST of the UI must carry the session's CSRF token."""
    if request.method == "POST" and request.blueprint == blueprint.name:
        check_csrf()


@blueprint.get("/")
def home() -> BaseResponse:
    return redirect(url_for("officer.credentials"))


add_sign_in_views(blueprint, "issuer/login.html")


def _officer_actor() -> str:
    return f"officer:{current_officer()}"


# -- roles -----------------------------------------------------------------------------------


def officer_role() -> Role | None:
    """The signed-in officer's role, read once per request (a changed role applies at the
    next request); None without a session."""
    if "vcred_role" not in g:
        name = current_officer()
        g.vcred_role = None if name is None else issuer().roles.role(name)
    role: Role | None = g.vcred_role
    return role


def can(permission: Permission) -> bool:
    role = officer_role()
    return role is not None and allows(role, permission)


def refused(permission: Permission) -> tuple[str, int]:
    """The 403 page for an action the officer's role does not allow, recorded in the audit
    chain (who, which permission, which page)."""
    name = current_officer() or ""
    issuer().record_refusal(name, permission, request.path)
    page = render_template("issuer/refused.html", permission=permission, role=officer_role())
    return page, 403


def requires(permission: Permission) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Only for a signed-in officer whose role allows ``permission`` (else the 403 page)."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def checked(*args: Any, **kwargs: Any) -> Any:
            if not can(permission):
                return refused(permission)
            return view(*args, **kwargs)

        return login_required(checked)

    return decorate


# -- issued credentials ----------------------------------------------------------------------------


@blueprint.get("/officer/credentials")
@login_required
def credentials() -> str:
    text = request.args.get("q", "").strip()[:200] or None
    kind = request.args.get("type", "").strip()[:128] or None
    status = request.args.get("status", "").strip() or None
    if status not in (None, *STATUSES):
        status = None
    # a page number of ASCII digits, nine at most (an offset a database column holds: a
    # larger one made SQLite and PostgreSQL raise, a 500); anything else is the first page
    raw = request.args.get("page", "0")
    page = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 9 else 0
    rows, total = issuer().search(
        RecordQuery(text=text, type=kind, status=status, limit=PAGE_SIZE, offset=page * PAGE_SIZE)
    )
    return render_template(
        "issuer/credentials.html",
        rows=rows,
        total=total,
        page=page,
        pages=(total + PAGE_SIZE - 1) // PAGE_SIZE,
        q=text or "",
        type=kind or "",
        status=status or "",
        types=issuer().store.record_types(),
        statuses=STATUSES,
    )


def _record(record_id: str) -> Row[Any]:
    row = issuer().record(record_id)
    if row is None:
        raise ProblemError(404, "Not Found", "no such credential record")
    return row


@blueprint.get("/officer/credentials/<record_id>")
@login_required
def credential(record_id: str) -> str:
    """What was certified, for whom, until when, its status, and what to hand the trader."""
    row = _record(record_id)
    service = issuer()
    entries = load_json_list(row.status_entries)  # each with the list URL it was issued with
    qr, qr_note = _qr(row.secured)
    # the history of this credential, oldest first and numbered from 1 (not the audit
    # chain's sequence numbers, which count every action of the issuer)
    history = list(reversed(service.store.recent_audit(row.credential_id or row.record_id)))
    return render_template(
        "issuer/credential.html",
        row=row,
        claims=summarise(unverified_issued(row.secured, row.format)),
        types=load_json_list(row.types),
        entries=entries,
        qr=qr,
        qr_note=qr_note,
        history=history,
        actions=[a for a in _available_actions(row.status) if can(_PERMISSION_OF[a])],
        message=service.message_state(row.record_id) if can("message") else None,
        awaiting=service.approvals.pending_for(row.record_id),
    )


@blueprint.get("/officer/credentials/<record_id>/file")
@login_required
def credential_file(record_id: str) -> BaseResponse:
    """The signed credential as a file to hand to the trader (e-mail, portal, USB stick)."""
    row = _record(record_id)
    if row.secured is None:
        raise ProblemError(404, "Not Found", "this issuer keeps only the credential's digest")
    if row.format in formats.BINARY_FORMATS:  # kept as base64: the file is the COSE bytes
        body: str | bytes = base64.b64decode(row.secured)
    else:
        body = row.secured
    name = f"credential-{row.record_id}{_FILE_SUFFIX.get(row.format, '.json')}"
    return Response(
        body,
        mimetype=formats.media_type(row.format),
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


#: File name endings by format: what the verifier's upload form and wallets expect.
_FILE_SUFFIX: Final = {
    "vc+jwt": ".jwt",
    "vc+sd-jwt": ".sd-jwt",
    "sd-jwt": ".sd-jwt",
    "vc+cose": ".cose",
}


def _available_actions(status: str) -> list[str]:
    if status == "active":
        return ["suspend", "revoke"]
    if status == "suspended":
        return ["reinstate", "revoke"]
    return []


_PERMISSION_OF: Final[dict[str, Permission]] = {
    "suspend": "suspend",
    "reinstate": "reinstate",
    "revoke": "revoke",
    "message": "message",
}


def _qr(secured: str | None) -> tuple[Markup | None, str | None]:
    if secured is None:
        return None, gettext("The signed credential is not kept by this issuer (only its digest).")
    try:
        code = segno.make(secured, error="l", boost_error=False)
    except ValueError:
        return None, gettext("The credential is too large for one QR code; hand it over as a file.")
    svg = code.svg_inline(scale=2, dark="#12314f", omitsize=False)
    return Markup(svg), None  # noqa: S704 - segno's own SVG markup, nothing from a user


@blueprint.post("/officer/credentials/<record_id>/status")
@login_required
def change_status(record_id: str) -> BaseResponse | tuple[str, int]:
    action = request.form.get("action", "")
    status: Status | MessageStatus
    if action == "message":  # the message status: the value chosen among the configured ones
        value = request.form.get("value", "")
        if not (value.isascii() and value.isdigit()) or len(value) > 3:  # "²" is a digit
            raise ProblemError(400, "Bad request", "choose a status message", code="MALFORMED")
        status = MessageStatus(int(value))
        done = N_("The credential was given its new status message.")
    elif action in _ACTIONS:
        status, done = _ACTIONS[action]
    else:
        raise ProblemError(400, "Bad request", "unknown action", code="MALFORMED")
    if not can(_PERMISSION_OF[action]):
        return refused(_PERMISSION_OF[action])
    if action == "revoke" and issuer().config.four_eyes:
        return _request_revocation(record_id)
    try:
        issuer().change_status(record_id, status, actor=_officer_actor(), by_record=True)
    except ProblemError as exc:
        if exc.status != 400:
            raise
        flash(gettext(officer_sentence(str(exc.extra.get("code", "ERROR")))), "error")
    else:
        flash(gettext(done), "ok")
    return redirect(url_for("officer.credential", record_id=record_id))


def _request_revocation(record_id: str) -> BaseResponse:
    """Four-eyes: the revocation waits for a second officer's approval."""
    service = issuer()
    row = service.record(record_id)
    if row is None:
        raise ProblemError(404, "Not Found", "no such credential record")
    if row.status == "revoked":
        flash(gettext("The credential is revoked already."), "error")
        return redirect(url_for("officer.credential", record_id=record_id))
    try:
        service.approvals.request(
            "revoke",
            officer=current_officer() or "",
            target=row.record_id,
            audit_target=row.credential_id or row.record_id,
            payload={},
            summary=f"revoke {row.main_type} of {row.subject_name or row.subject_id or '—'}",
        )
    except ProblemError as exc:
        if exc.status != 409:
            raise
        flash(gettext(officer_sentence(str(exc.extra.get("code", "ERROR")))), "error")
    else:
        flash(
            gettext("Revocation requested: it takes effect when a second officer approves it."),
            "ok",
        )
    return redirect(url_for("officer.credential", record_id=record_id))


# -- issuing from forms ------------------------------------------------------------------------


@blueprint.route("/officer/issue/aeo", methods=["GET", "POST"])
@requires("issue")
def issue_aeo() -> str | BaseResponse:
    service = issuer()
    today = service.now().date()
    form: dict[str, Any] = {
        "country": service.config.country or "",
        "programme": service.config.programme or "",
        "validFrom": today.isoformat(),
        "validUntil": (today + AEO_VALIDITY).isoformat(),
        "format": service.config.default_format,
        "tradeRoles": [],
    }
    errors: dict[str, str] = {}
    if request.method == "POST":
        form.update({k: v.strip() for k, v in request.form.items() if k != "csrf_token"})
        form["tradeRoles"] = request.form.getlist("tradeRoles")
        if service.config.programme:
            form["programme"] = service.config.programme
        answer = _issue_from_form(form, errors, _aeo_credential, AEO_FIELDS)
        if answer is not None:
            return answer
    programme = PROGRAMMES.get(form.get("programme") or "")
    return render_template(
        "issuer/issue_aeo.html",
        form=form,
        errors=errors,
        programmes=PROGRAMMES,
        fixed_programme=service.config.programme,
        tiers=programme.tiers if programme else {},
        roles=TRADE_ROLES,
        offered=service.offered,
        format_guide=formats.FORMAT_GUIDE,
        examples=form_examples(service.config.country),
    )


@blueprint.route("/officer/issue/billing", methods=["GET", "POST"])
@requires("issue")
def issue_billing() -> str | BaseResponse:
    service = issuer()
    today = service.now().date()
    examples = form_examples(service.config.country)
    form: dict[str, Any] = {
        "validFrom": today.isoformat(),
        "exitDate": today.isoformat(),
        "exitCountry": service.config.country or "",
        "exporterCountry": service.config.country or "",
        "currency": examples.currency,
        "declarationScheme": examples.declaration_scheme,
        "format": "vc+sd-jwt" if "vc+sd-jwt" in service.offered else service.config.default_format,
    }
    errors: dict[str, str] = {}
    if request.method == "POST":
        form.update({k: v.strip() for k, v in request.form.items() if k != "csrf_token"})
        answer = _issue_from_form(form, errors, _billing_credential, BILLING_FIELDS)
        if answer is not None:
            return answer
    return render_template(
        "issuer/issue_billing.html",
        form=form,
        errors=errors,
        offered=service.offered,
        format_guide=formats.FORMAT_GUIDE,
        examples=examples,
    )


def _issue_from_form(
    form: dict[str, Any],
    errors: dict[str, str],
    build: Callable[[dict[str, Any], str, dict[str, str]], dict[str, Any] | None],
    fields: tuple[tuple[str, str], ...],
) -> BaseResponse | None:
    """Build with the customs builder, then issue; errors land next to their fields."""
    service = issuer()
    fmt = form.get("format") or service.config.default_format
    if fmt not in service.offered:
        errors["format"] = gettext("This issuer does not offer that format.")
        return None
    try:
        credential = build(form, fmt, errors)
        if credential is None or errors:
            return None
        if form.get("delivery") == OFFER:
            return offer_from_form(credential, fmt, errors)
        answer = service.issue_credential(credential, actor=_officer_actor(), fmt=fmt)
    except MalformedError as exc:
        field = _field_of(exc.pointer, fields)
        errors[field] = _refusal(field, exc.message)
        return None
    except ProblemError as exc:
        pointer = exc.extra.get("pointer")
        listed = exc.extra.get("errors") or [{"detail": exc.detail, "pointer": pointer}]
        for item in listed:
            where = str(item.get("pointer") or "").removeprefix("/credential")
            field = _field_of(where, fields)
            errors.setdefault(field, _refusal(field, str(item.get("detail"))))
        return None
    flash(gettext("Credential issued."), "ok")
    return redirect(url_for("officer.credential", record_id=answer.record_id))


def _refusal(field: str, detail: str) -> str:
    """What the officer reads beside a refused field: what it accepts, in their language,
    then the builder's own words (English, as the API gives them)."""
    return f"{gettext(field_hint(field))} ({detail})"


def _field_of(pointer: str | None, fields: tuple[tuple[str, str], ...]) -> str:
    if pointer:
        for prefix, name in fields:
            if pointer == prefix or pointer.startswith(prefix + "/"):
                return name
    return "_form"


_S = "/credentialSubject"
_C = f"{_S}/certification"
AEO_FIELDS: Final = (
    (f"{_S}/legalName", "legalName"),
    (f"{_S}/id", "traderId"),
    (f"{_S}/country", "country"),
    (f"{_S}/address", "streetAddress"),
    (f"{_S}/identifier", "identifiers"),
    (f"{_C}/programme", "programme"),
    (f"{_C}/administeringAuthority", "programme"),
    (f"{_C}/tier", "tier"),
    (f"{_C}/tradeRoles", "tradeRoles"),
    (f"{_C}/certifiedSince", "certifiedSince"),
    (f"{_C}/lastValidated", "lastValidated"),
    (f"{_C}/certificateNumber", "certificateNumber"),
    ("/validFrom", "validFrom"),
    ("/validUntil", "validUntil"),
    ("/issuer", "format"),
)
BILLING_FIELDS: Final = (
    (f"{_S}/exportDeclaration", "declarationValue"),
    (f"{_S}/exporter/legalName", "exporterName"),
    (f"{_S}/exporter/country", "exporterCountry"),
    (f"{_S}/exporter/identifier", "exporterIdentifier"),
    (f"{_S}/exporter", "exporterName"),
    (f"{_S}/consignee/legalName", "consigneeName"),
    (f"{_S}/consignee/country", "consigneeCountry"),
    (f"{_S}/consignee", "consigneeName"),
    (f"{_S}/invoice/invoiceNumber", "invoiceNumber"),
    (f"{_S}/invoice/invoiceDate", "invoiceDate"),
    (f"{_S}/invoice/currency", "currency"),
    (f"{_S}/invoice/totalAmount", "totalAmount"),
    (f"{_S}/invoice/incoterms", "incoterms"),
    (f"{_S}/lineItems", "lineItems"),
    (f"{_S}/modeOfTransport", "modeOfTransport"),
    (f"{_S}/exitOffice/officeCode", "exitOffice"),
    (f"{_S}/exitOffice", "exitCountry"),
    (f"{_S}/exitDate", "exitDate"),
    (f"{_S}/destinationCountry", "destinationCountry"),
    ("/validFrom", "validFrom"),
    ("/issuer", "format"),
)


def _required(form: Mapping[str, Any], errors: dict[str, str], *names: str) -> None:
    for name in names:
        if not form.get(name):
            errors.setdefault(name, gettext("Required."))


def _day(
    form: Mapping[str, Any], name: str, errors: dict[str, str], *, end: bool = False
) -> datetime | None:
    """A form date as a UTC moment: its first second (or, with ``end``, its last)."""
    value = form.get(name) or ""
    moment = time(23, 59, 59) if end else time(0, 0)
    try:
        return datetime.combine(date.fromisoformat(value), moment, tzinfo=UTC)
    except ValueError:
        errors.setdefault(name, gettext("A date, YYYY-MM-DD."))
        return None


def _issuer_value(fmt: str) -> dict[str, str]:
    service = issuer()
    keyring = service.keyring()
    did = keyring.did_web or keyring.first_current(formats.key_kinds(fmt)).did_key
    return {"id": did, "name": service.config.authority}


def _identifiers(text: str, errors: dict[str, str], field: str) -> list[dict[str, str]]:
    found = []
    for line in text.splitlines():
        if not line.strip():
            continue
        scheme, sep, value = line.strip().partition(" ")
        if not sep:
            scheme, sep, value = line.strip().partition(":")
        if not sep or not value.strip():
            errors.setdefault(
                field, gettext("Write each identifier as SCHEME VALUE, not %(line)s.", line=line)
            )
            continue
        found.append({"scheme": scheme.strip().upper(), "value": value.strip()})
    return found


def _aeo_credential(
    form: dict[str, Any], fmt: str, errors: dict[str, str]
) -> dict[str, Any] | None:
    _required(
        form,
        errors,
        "legalName",
        "country",
        "identifiers",
        "programme",
        "tier",
        "certifiedSince",
        "validFrom",
        "validUntil",
    )
    if not form.get("tradeRoles"):
        errors.setdefault("tradeRoles", gettext("Pick at least one trade role."))
    identifiers = _identifiers(form.get("identifiers", ""), errors, "identifiers")
    valid_from = _day(form, "validFrom", errors)
    valid_until = _day(form, "validUntil", errors, end=True)
    if errors or valid_from is None or valid_until is None:
        return None
    certification: dict[str, Any] = {
        "programme": form["programme"],
        "tier": form["tier"],
        "tradeRoles": form["tradeRoles"],
        "certifiedSince": form["certifiedSince"],
    }
    for name in ("lastValidated", "certificateNumber"):
        if form.get(name):
            certification[name] = form[name]
    subject: dict[str, Any] = {
        "legalName": form["legalName"],
        "country": form["country"].upper(),
        "identifier": identifiers,
        "certification": certification,
    }
    if form.get("traderId"):
        subject["id"] = form["traderId"]
    address = {
        k: form[k] for k in ("streetAddress", "addressLocality", "postalCode") if form.get(k)
    }
    if address:
        subject["address"] = {**address, "addressCountry": form["country"].upper()}
    return build_aeo_certificate(
        subject,
        issuer=_issuer_value(fmt),
        valid_from=valid_from,
        valid_until=valid_until,
        credential_id=f"urn:uuid:{uuid.uuid4()}",
    )


def _billing_credential(
    form: dict[str, Any], fmt: str, errors: dict[str, str]
) -> dict[str, Any] | None:
    _required(
        form,
        errors,
        "declarationScheme",
        "declarationValue",
        "exporterName",
        "exporterCountry",
        "consigneeName",
        "consigneeCountry",
        "invoiceNumber",
        "invoiceDate",
        "currency",
        "totalAmount",
        "incoterms",
        "lineItems",
        "modeOfTransport",
        "exitOffice",
        "exitCountry",
        "exitDate",
        "destinationCountry",
        "validFrom",
    )
    items = []
    for number, line in enumerate(form.get("lineItems", "").splitlines(), start=1):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split("|")]
        if len(parts) != 7:
            errors.setdefault(
                "lineItems",
                gettext(
                    "Line %(number)s: HS code | description | quantity | unit | unit price | "
                    "amount | origin — seven fields separated by |.",
                    number=number,
                ),
            )
            continue
        hs, description, quantity, unit, price, amount, origin = parts
        items.append(
            {
                "hsCode": hs,
                "description": description,
                "quantity": quantity,
                "unitCode": unit,
                "unitPrice": price,
                "amount": amount,
                "originCountry": origin.upper(),
            }
        )
    valid_from = _day(form, "validFrom", errors)
    if errors or valid_from is None:
        return None
    exporter: dict[str, Any] = {
        "legalName": form["exporterName"],
        "country": form["exporterCountry"].upper(),
    }
    if form.get("exporterIdentifier"):
        exporter["identifier"] = _identifiers(
            form["exporterIdentifier"], errors, "exporterIdentifier"
        )
    subject = {
        "exportDeclaration": {
            "scheme": form["declarationScheme"],
            "value": form["declarationValue"],
        },
        "exporter": exporter,
        "consignee": {
            "legalName": form["consigneeName"],
            "country": form["consigneeCountry"].upper(),
        },
        "invoice": {
            "invoiceNumber": form["invoiceNumber"],
            "invoiceDate": form["invoiceDate"],
            "currency": form["currency"].upper(),
            "totalAmount": form["totalAmount"],
            "incoterms": form["incoterms"].upper(),
        },
        "lineItems": items,
        "modeOfTransport": form["modeOfTransport"],
        "exitOffice": {"officeCode": form["exitOffice"], "country": form["exitCountry"].upper()},
        "exitDate": form["exitDate"],
        "destinationCountry": form["destinationCountry"].upper(),
    }
    return build_export_billing_attestation(
        subject,
        issuer=_issuer_value(fmt),
        valid_from=valid_from,
        credential_id=f"urn:uuid:{uuid.uuid4()}",
    )


@blueprint.app_template_filter("pretty_json")
def _pretty_json(value: str) -> str:
    try:
        return json.dumps(json.loads(value), indent=2, ensure_ascii=False)
    except ValueError:
        return value
