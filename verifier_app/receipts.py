"""Verification receipts: the verifier's decision as a credential it signs (vc+jwt).

On ``options.receipt: true`` the answer carries ``receipt``, a vc+jwt issued by the verifier
(``receipt_key``, as ``receipt_issuer`` — by default the key's did:key, which anyone resolves
offline) whose subject says what was verified (the SHA-256 of what was sent, as an SRI
string), each check with its outcome, the errors and warnings by code, the trust list and
status list versions the decision rests on, when, and the audit-chain entry that records it.
``vcred verify receipt.jwt`` checks it like any credential.

The digest of what was sent: of the string's UTF-8 bytes for a compact credential; of the
JSON object's RFC 8785 (JCS) form otherwise (https://www.rfc-editor.org/rfc/rfc8785). A JSON
value JCS cannot represent (an integer beyond 2^53), a string that is not Unicode text (a
lone surrogate, refused alone in a batch), or an item of a batch no parser read as a value
(a member name twice, refused alone), has no digest; the receipt then names the credential
by its id only.
"""

from __future__ import annotations

import binascii
import hashlib
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Final

import rfc8785

from vcred.did import did_key
from vcred.errors import MalformedError, UsageError
from vcred.issuing import issue, signer_for
from vcred.keys import LocalSigner, load_key
from vcred.model import V2_CONTEXT, is_unicode
from vcred.status.check import EntryStatus
from vcred.status.listcred import format_datetime, format_moment
from vcred.trust import TrustList
from vcred.verifier import CHECKS, Check, VerificationResult
from vcred_service.problems import STORAGE_RETRY_AFTER_S, ProblemError

RECEIPT_TYPE: Final = "VerificationReceipt"
DECISION_TYPE: Final = "VerificationDecision"


class ReceiptsNotConfiguredError(UsageError):
    """``options.receipt`` asked of a verifier that has no receipt key (answered 422)."""

    code = "RECEIPTS_NOT_CONFIGURED"
    title = "Receipts not configured"
    http_status = 422


#: The problem code of a receipt that could not be signed (a 503).
RECEIPT_NOT_SIGNED: Final = "RECEIPT_NOT_SIGNED"


def receipt_not_signed() -> ProblemError:
    """The 503 answering a verification whose receipt could not be signed (its key
    unavailable: an HSM token gone, a key file unreadable): nothing of it was recorded, and a
    retry may succeed (``Retry-After``, as for an unavailable database)."""
    return ProblemError(
        503,
        "Service Unavailable",
        "the receipt could not be signed (the receipt key is unavailable); the verification "
        "was not recorded: retry later",
        code=RECEIPT_NOT_SIGNED,
        retry_after=STORAGE_RETRY_AFTER_S,
    )


def digest_sri(data: bytes) -> str:
    """A W3C Subresource Integrity string of SHA-256 (``sha256-<base64>``).

    https://www.w3.org/TR/SRI/#the-integrity-attribute
    """
    digest = hashlib.sha256(data).digest()
    return "sha256-" + binascii.b2a_base64(digest, newline=False).decode("ascii")


def input_digest(secured: Any) -> str | None:
    """The digest of a secured credential as sent (see the module docstring)."""
    if isinstance(secured, str):
        if not is_unicode(secured):  # a lone surrogate: no UTF-8 bytes carry it
            return None
        return digest_sri(secured.encode("utf-8"))
    try:
        return digest_sri(rfc8785.dumps(secured))
    except (rfc8785.CanonicalizationError, TypeError, ValueError):
        return None


def receipt_requested(options: Mapping[str, Any]) -> bool:
    """``options.receipt`` (default false). Raises MalformedError for a non-boolean."""
    value = options.get("receipt", False)
    if not isinstance(value, bool):
        raise MalformedError("options.receipt must be true or false", pointer="/options/receipt")
    return value


def _outcome(check: Check) -> dict[str, Any]:
    # JSON-LD drops nulls: "not evaluated" is said in words, not as a null
    outcome = {True: "passed", False: "failed", None: "notEvaluated"}[check.passed]
    return {"check": check.name, "outcome": outcome, "detail": check.detail}


@dataclass(frozen=True, slots=True, kw_only=True)
class ReceiptIssuer:
    """Signs receipts as ``did`` with ``signer``."""

    signer: LocalSigner
    did: str

    @classmethod
    def load(cls, key_file: Path, *, did: str | None) -> ReceiptIssuer:
        """The receipt issuer of a private key file (JWK, Multikey or PEM) acting as ``did``
        (default: its did:key). Raises UsageError / ParsingError."""
        try:
            text = Path(key_file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"cannot read the receipt key {key_file}: {exc}") from exc
        key = load_key(text)
        chosen = did or did_key(key.public)
        return cls(signer=signer_for(key, did=chosen), did=chosen)

    def issue(
        self,
        result: VerificationResult,
        *,
        receipt_id: str,
        target: str | None,
        at: datetime,
        trust: TrustList | None,
        audit_entry: Mapping[str, Any],
        warnings: Sequence[str] = (),
        as_of: datetime | None = None,
        checks: Sequence[str] = CHECKS,
    ) -> str:
        """The signed receipt (compact vc+jwt) of ``result`` (``as_of``: the past moment it
        was verified as of; ``checks``: those run, with their prerequisites)."""
        stamp = format_datetime(at)
        credential: dict[str, Any] = {"format": result.format}
        if target is not None:
            credential["digestSRI"] = target
        if result.issuer is not None:
            credential["issuer"] = result.issuer
        if result.credential is not None and isinstance(result.credential.get("id"), str):
            credential["id"] = result.credential["id"]
        subject: dict[str, Any] = {
            "type": DECISION_TYPE,
            "verified": result.verified,
            "verifiedAt": stamp,
            "verifiedCredential": {k: v for k, v in credential.items() if v is not None},
            "checks": [_outcome(check) for check in result.checks],
            "errors": list(result.codes),
            "warnings": list(dict.fromkeys([*(w.code for w in result.warnings), *warnings])),
            "statusLists": [_status_version(entry) for entry in result.status],
            "auditEntry": {"seq": audit_entry["seq"], "hash": audit_entry["hash"]},
        }
        if as_of is not None:
            subject["verifiedAsOf"] = format_moment(as_of)
        # a verdict on fewer checks says so itself: a receipt is read without the chain
        left_out = [name for name in CHECKS if name not in checks]
        if left_out:
            subject["checksNotRequested"] = left_out
        # the list the trust check read, never one a decision without that check did not
        if trust is not None and any(
            c.name == "trust" and c.passed is not None for c in result.checks
        ):
            version: dict[str, Any] = {"authority": trust.authority}
            if trust.id is not None:
                version["id"] = trust.id
            if trust.valid_from is not None:
                version["validFrom"] = format_datetime(trust.valid_from)
            if trust.sequence is not None:
                version["sequenceNumber"] = trust.sequence
            if trust.digest is not None:  # of the list as published (a compact JWS)
                version["digestSRI"] = trust.digest
            subject["trustList"] = version
        unsigned = {
            "@context": [V2_CONTEXT],
            "id": receipt_id,
            "type": ["VerifiableCredential", RECEIPT_TYPE],
            "issuer": self.did,
            "validFrom": stamp,
            "credentialSubject": subject,
        }
        return str(issue(unsigned, self.signer, format="vc+jwt", now=at))


def new_receipt_id() -> str:
    return f"urn:uuid:{uuid.uuid4()}"


def _status_version(entry: EntryStatus) -> dict[str, Any]:
    """Which status list answered for one entry, and which version of it."""
    version: dict[str, Any] = {
        "statusListCredential": entry.list_url,
        "statusPurpose": entry.purpose,
        "statusListIndex": str(entry.index),
    }
    if entry.value is not None:
        version["value"] = entry.value
    if entry.list_valid_from is not None:
        version["validFrom"] = format_datetime(entry.list_valid_from)
    if entry.fetched_at is not None:
        version["fetchedAt"] = format_datetime(entry.fetched_at)
    if entry.error is not None:
        version["error"] = entry.error.code
    return version
