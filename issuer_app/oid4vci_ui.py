"""The officer's side of OpenID4VCI: a credential built from the form is offered to the
trader's wallet instead of being signed at once; the offer page shows a small QR code (the
offer by reference, §4.1.3), the link, the transaction code to give the trader out of band,
and whether the credential was collected (the credential page offers the signed file).
"""

from __future__ import annotations

from typing import Any, Final

import segno
from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext
from markupsafe import Markup
from werkzeug.wrappers import Response as BaseResponse

from issuer_app.oid4vci import Offers
from issuer_app.oid4vci_api import EXTENSION
from issuer_app.service import Issuer
from vcred.errors import UsageError
from vcred_service.problems import ProblemError
from vcred_service.signin import current_officer, login_required

blueprint = Blueprint("oid4vci_officer", __name__, template_folder="templates")

#: The form's ``delivery`` value that makes an offer (anything else signs at once).
OFFER: Final = "offer"


def _offers() -> Offers:
    found: Offers = current_app.extensions[EXTENSION]
    return found


def _issuer() -> Issuer:
    found: Issuer = current_app.extensions["vcred_issuer"]
    return found


def offer_from_form(
    credential: dict[str, Any], fmt: str, errors: dict[str, str]
) -> BaseResponse | None:
    """Offer a credential built from an officer form (None: ``errors`` says why not).

    Raises ProblemError for a credential that cannot be issued, or that names its subject
    (the form shows it: the key the wallet proves becomes the subject's id).
    """
    kind = [t for t in credential.get("type", []) if t != "VerifiableCredential"]
    try:
        made = _offers().configuration_for(kind[-1] if kind else "", fmt)
    except UsageError:
        errors["format"] = gettext(
            "%(format)s cannot be offered to a wallet; choose another format.", format=fmt
        )
        return None
    view = _offers().create(credential, made.id, actor=f"officer:{current_officer()}")
    flash(
        gettext("Offer made: show the trader the QR code, and give them the transaction code."),
        "ok",
    )
    return redirect(url_for("oid4vci_officer.offer", offer_id=view.offer_id))


@blueprint.get("/officer/offers")
@login_required
def offers() -> str:
    """The latest offers: collected or not, to find an open one (and its code) again."""
    listed = _offers().recent()
    return render_template("issuer/offers.html", offers=listed)


@blueprint.get("/officer/offers/<offer_id>")
@login_required
def offer(offer_id: str) -> str:
    view = _offers().view(offer_id) if len(offer_id) <= 64 else None
    if view is None:
        raise ProblemError(404, "Not Found", "no such credential offer")
    # by reference the QR code stays small (version 5-7 at level M), whatever the credential
    code = segno.make(view.url, error="m", boost_error=False)
    qr = Markup(code.svg_inline(scale=4, dark="#12314f", omitsize=False))  # noqa: S704 - segno's SVG
    state = "expired" if view.expired else view.state
    return render_template("issuer/offer.html", view=view, qr=qr, state=state)
