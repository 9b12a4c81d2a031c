"""One sentence per error and warning code, for the officer at the counter.

The problem details the API returns keep their stable ``code`` and their technical
``detail`` (what a developer or a log needs); the officer pages lead with these sentences,
translated (each is marked with :func:`N_` for extraction and translated where it is shown),
and keep the technical detail one click away. ``tests/service/test_explanations.py`` checks
that every code of :mod:`vcred.errors` has one, in every locale.
"""

from __future__ import annotations

from typing import Final


def N_(message: str) -> str:  # noqa: N802 - gettext's conventional marker name
    """Mark ``message`` for extraction; it is translated where it is shown."""
    return message


#: The codes of vcred.errors, then the warnings and the services' own refusals.
OFFICER_SENTENCES: Final[dict[str, str]] = {
    "ERROR": N_("The credential could not be checked."),
    "USAGE": N_("The verifier was used in a way it does not support; tell the administrator."),
    "MALFORMED": N_(
        "This is not a credential the verifier can read: a value is missing or malformed."
    ),
    "PARSING_ERROR": N_("The text or file could not be read as a credential."),
    "AUDIT_LINE": N_("A line of the audit export could not be read."),
    "INVALID_IMAGE": N_("The picture could not be read; take a sharper photo of the QR code."),
    "SCHEMA_MISMATCH": N_("The credential does not have the content its type requires."),
    "UNKNOWN_SCHEMA": N_(
        "The credential names a content rule (schema) this verifier does not know."
    ),
    "INVALID_CONTEXT": N_(
        "The credential uses vocabulary (a JSON-LD context) this verifier does not accept."
    ),
    "INVALID_SIGNATURE": N_(
        "The signature does not match: the credential was altered or not signed by its issuer."
    ),
    "INVALID_PROOF": N_(
        "The proof is not valid: the credential was altered, or it is not the copy for verifiers."
    ),
    "DIGEST_MISMATCH": N_("Part of the credential was changed after it was signed."),
    "UNKNOWN_KEY": N_("The key that signed the credential does not belong to the issuer it names."),
    "KEY_REVOKED": N_("The issuer had withdrawn the key that signed this credential."),
    "KEY_EXPIRED": N_("The key that signed this credential had expired when it signed."),
    "DID_RESOLUTION": N_("The issuer's published keys could not be obtained; try again later."),
    "FETCH_REFUSED": N_("The verifier refused to contact the address the credential points to."),
    "VALIDITY": N_("The credential is not valid at this date."),
    "EXPIRED": N_("The credential has expired."),
    "NOT_YET_VALID": N_("The credential is not valid yet."),
    "STATUS": N_("The issuer's status for this credential could not be confirmed."),
    "REVOKED": N_("The issuer has revoked this credential."),
    "SUSPENDED": N_("The issuer has suspended this credential."),
    "STATUS_UNAVAILABLE": N_(
        "The issuer's status list could not be obtained; the credential cannot be confirmed now."
    ),
    "STATUS_MESSAGE_UNDEFINED": N_(
        "The issuer's status list gives this credential a status without a meaning."
    ),
    "STATUS_VERIFICATION": N_(
        "The issuer's status list is not genuine or does not belong to this credential."
    ),
    "STATUS_LIST_LENGTH": N_("The issuer's status list is not acceptable (wrong length)."),
    "STATUS_RANGE": N_("The credential points outside the issuer's status list."),
    "UNTRUSTED_ISSUER": N_(
        "The issuer is not on this agency's trust list for this kind of credential."
    ),
    "TRUST_INPUT_UNESTABLISHED": N_(
        "The issuer, programme or tier the trust rules need could not be read."
    ),
    "TRUST_ANCHOR": N_("The trust list is not signed by the agency that should sign it."),
    # TrustListSequenceError (branch i17): a dict entry only, harmless before that code exists
    "TRUST_LIST_SEQUENCE": N_(
        "The trust list is older than, or contradicts, the one already held: it was refused."
    ),
    "INVALID_PRESENTATION": N_("The presentation is not valid."),
    "HOLDER_MISMATCH": N_("The credential was presented by someone other than its holder."),
    "INVALID_CHALLENGE": N_(
        "The presentation does not answer this verifier's challenge (replayed or old)."
    ),
    "INVALID_DOMAIN": N_("The presentation was made for another verifier."),
    "UNSUPPORTED": N_("The credential uses a format or algorithm this verifier does not support."),
    "OID4VCI": N_("The wallet's request to collect the credential was refused."),
    # the services' own errors, warnings and refusals
    "NO_QR_CODE": N_("No QR code could be read in the picture; take a sharper, closer photo."),
    "UNKNOWN_CHECK": N_("The request asked for a check this verifier does not know."),
    "UNKNOWN_SCHEME": N_("The query named an identifier scheme this verifier does not know."),
    "TRUST_NOT_EVALUATED": N_(
        "No trust list is configured: whether the issuer is recognised was not checked."
    ),
    "STATUS_STALE": N_(
        "The status is older than it should be: the issuer's list could not be refreshed."
    ),
    "DID_DOCUMENT_STALE": N_("The issuer's key information is older than it should be."),
    "CHALLENGE_NOT_TRACKED": N_("The challenge was not issued by this verifier."),
    "HOLDER_NOT_EVALUATED": N_("Whether the presenter is the holder was not checked."),
    "STATUS_CHANGE_REFUSED": N_(
        "This status change is not allowed for this credential: a revoked credential stays "
        "revoked, and a status message must be one the credential defines."
    ),
    "RECEIPTS_NOT_CONFIGURED": N_("This verifier is not set up to sign receipts."),
    "BATCH_TOO_LARGE": N_("Too many credentials at once: send them in smaller batches."),
    "PRESENTATION_REFUSED": N_("The wallet's presentation was refused: see the reasons below."),
    "FOUR_EYES": N_(
        "The four-eyes rule is on: this is requested and approved on the officer pages."
    ),
    "APPROVAL_PENDING": N_("This is already waiting for a second officer's approval."),
    "SELF_APPROVAL": N_("A request needs a second officer: you cannot decide your own."),
    "APPROVAL_REOPENED": N_(
        "This request was reopened while it was being carried out: nothing was done. "
        "Decide it again."
    ),
    # signing in through the agency's identity provider (vcred_service.oidc)
    "OIDC_PROVIDER": N_("The agency's identity provider cannot be reached or answered wrongly."),
    "OIDC_STATE": N_("This sign-in was not started here, or has expired: sign in again."),
    "OIDC_DENIED": N_("The identity provider refused the sign-in."),
    "OIDC_TOKEN": N_("The identity provider did not confirm the sign-in."),
    "OIDC_ID_TOKEN": N_("The identity provider's confirmation of the sign-in is not valid."),
    "OIDC_CLAIM": N_("The identity provider did not give what this service needs to sign you in."),
    "OIDC_UNKNOWN_OFFICER": N_(
        "The identity provider vouched for someone with no officer account here."
    ),
}

#: The customs terms the pages show (vcred.customs.programmes: trade roles, MRA benefits),
#: marked here for the catalogs; tests/service/test_i18n.py checks they follow that data.
#: Programme and tier names are official names and stay as the programmes write them.
CUSTOMS_TERMS: Final = (
    N_("Importer"),
    N_("Exporter"),
    N_("Manufacturer"),
    N_("Carrier"),
    N_("Customs broker / agent"),
    N_("Freight forwarder"),
    N_("Consolidator"),
    N_("Warehouse keeper"),
    N_("Port or terminal operator"),
    N_("Third-party logistics provider"),
    N_(
        "Fewer physical and documentary security controls: the partner's customs takes the "
        "operator's status into account in its risk assessment"
    ),
    N_("Priority (front-of-the-line) treatment of consignments selected for control"),
    N_(
        "Priority when trade resumes after a disruption such as a port closure or a security "
        "incident (joint business continuity mechanism)"
    ),
    N_(
        "Recognised as a secure business partner when operators assess the security of their "
        "suppliers and customers"
    ),
)

#: The INVALID_PROOF of a credential that still has its ecdsa-sd-2023 base proof.
BASE_PROOF_SENTENCE: Final = N_(
    "This is the issuer's copy for the trader, not the copy to show a verifier: ask the trader "
    "for the copy their wallet makes from it (a derived credential)."
)


def officer_sentence(code: str) -> str:
    """The untranslated sentence for ``code`` (the generic one for a code without its own)."""
    return OFFICER_SENTENCES.get(code, OFFICER_SENTENCES["ERROR"])
